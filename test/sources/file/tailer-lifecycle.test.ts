// The tailer's own bookkeeping, driven step by step (tailer-harness.ts): the
// wake latch (an inotify wake-up that arrives while the tailer is busy is not
// lost, and is used once), stop (no chunk read after it), what a file let go
// does with acknowledgements that arrive late (metric series stay gone, no
// checkpoint write for nothing), the lag gauge while a file is read, and stop
// with a file that is still empty.

import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Collector, tempDir, testConfig, waitFor } from './helpers.ts';
import { TestHost, openTailer, readToEof, steps } from './tailer-harness.ts';
import type { StartFrom } from '../../../agent/sources/file/tailer.ts';
import type { LogRecord } from '../../../agent/core/record.ts';

const HOUR = 3_600_000;

async function setup(t: TestContext, content: string, raw: Record<string, unknown> = {}, mode: 'immediate' | 'hold' = 'immediate', from?: StartFrom) {
  const dir = await tempDir(t);
  const log = join(dir, 'app.log');
  writeFileSync(log, content);
  const c = new Collector(mode);
  const host = new TestHost(testConfig({ include: [log], glob_interval: HOUR, idle_flush: HOUR, rotate_wait: 0, ...raw }), dir, c);
  const tailer = await openTailer(host, log, from);
  t.after(() => tailer.release('test end'));
  return { host, tailer, log, c };
}

/** Whether `p` is still pending after everything already queued ran (a resolved promise settles first). */
async function pending(p: Promise<void>): Promise<boolean> {
  let settled = false;
  void p.then(() => { settled = true; });
  await nextTurn();
  return !settled;
}

test('wake-ups: one that arrives while the tailer is busy is kept for its next wait and used once; a new tailer sleeps until woken', async (t) => {
  const { tailer } = await setup(t, 'a\n');
  const s = steps(tailer);
  const first = s.waitWake(HOUR);
  assert.ok(await pending(first), 'nothing happened yet: it sleeps');
  tailer.wake();
  assert.equal(await pending(first), false, 'woken');
  // Woken while not waiting (busy reading): the next wait returns at once, so the new bytes are read now, not a glob interval later.
  tailer.wake();
  assert.equal(await pending(s.waitWake(HOUR)), false, 'the wake-up that came while busy');
  // Used up: the wait after that sleeps again.
  const third = s.waitWake(HOUR);
  assert.ok(await pending(third), 'one wake-up wakes once');
  tailer.wake();
  await third;
});

test('stop: the tailer reads no further chunk once the source stops; what it did not read is left for the next run', async (t) => {
  // 64-byte lines, 512-byte chunks: every chunk ends on a line boundary.
  let text = '';
  for (let i = 0; i < 64; i++) text += `${`line ${i} `.padEnd(63, '.')}\n`;
  const { host, tailer, c } = await setup(t, text, { read_chunk_bytes: 512 });
  const push = c.push.bind(c);
  c.push = async (batch: LogRecord[]) => { host.stopping = true; await push(batch); };
  tailer.start();
  await waitFor(async () => !(await pending(tailer.finished())), 'the read loop to end');
  assert.equal(c.records.length, 8, 'the chunk being shipped at stop, and nothing after it');
  assert.equal(tailer.gen!.committed, 512);
});

test('a file let go after rotation: acknowledgements that arrive later still move its checkpoint but do not bring its metric series back', async (t) => {
  const { host, tailer, log, c } = await setup(t, 'one\ntwo\n', {}, 'hold');
  await readToEof(tailer);
  assert.equal(await host.metric('edgelog_file_read_bytes_total', log), 8);
  renameSync(log, `${log}.1`); // rotated away, still has a name
  assert.equal(await steps(tailer).atEof(), 0);
  assert.equal(await steps(tailer).atEof(), 0, 'rotate_wait 0: drained and let go');
  assert.ok(tailer.isReleased);
  assert.deepEqual(host.releases, ['rotated']);
  assert.equal(c.ackAll(), 2);
  assert.equal(tailer.gen!.entry.offset, 8, 'the checkpoint moved');
  for (const name of ['edgelog_file_read_bytes_total', 'edgelog_file_acked_bytes_total', 'edgelog_file_checkpoint_lag_bytes']) {
    assert.equal(await host.metric(name, log), undefined, `${name} stays gone`);
  }
});

test('a deleted file let go: its late acknowledgements write no checkpoint (its entry is gone)', async (t) => {
  const { host, tailer, log, c } = await setup(t, 'one\ntwo\n', {}, 'hold');
  await readToEof(tailer);
  unlinkSync(log);
  assert.equal(await steps(tailer).atEof(), 0);
  assert.equal(await steps(tailer).atEof(), 0);
  assert.ok(tailer.isReleased);
  assert.equal(host.store.size, 0);
  assert.equal(await host.store.flush(), true, 'the deletion is written');
  assert.equal(c.ackAll(), 2);
  assert.equal(await host.store.flush(), false, 'nothing changed: nothing written');
});

test('copytruncate: late acknowledgements of the old content count neither as acknowledged bytes nor as a checkpoint change', async (t) => {
  const { host, tailer, log, c } = await setup(t, 'old 1\nold 2\n', {}, 'hold');
  await readToEof(tailer);
  const old = c.held.slice();
  writeFileSync(log, 'n\n'); // truncated in place, shorter than what was read
  assert.equal(await steps(tailer).atEof(), 0);
  assert.equal(host.telemetry.counts.truncations, 1);
  await readToEof(tailer);
  assert.deepEqual(c.bodies(), ['old 1', 'old 2', 'n']);
  c.ackWhere((r) => !old.includes(r));
  assert.equal(await host.metric('edgelog_file_acked_bytes_total', log), 2);
  await host.store.flush();
  assert.equal(c.ackAll(), 2);
  assert.equal(await host.metric('edgelog_file_acked_bytes_total', log), 2, 'the old content is not acknowledged bytes of this file any more');
  assert.equal(await host.store.flush(), false, 'no checkpoint write for the retired stream');
  assert.equal(host.store.get(tailer.gen!.streamId)!.offset, 2);
});

test('checkpoint lag while a file is read: the backlog from the start offset at open, then the file size minus the acknowledged offset', async (t) => {
  // Twenty 64-byte lines; reading starts at 128 (start_at end when the file had 128 bytes).
  let text = '';
  for (let i = 0; i < 20; i++) text += `${`line ${i} `.padEnd(63, '.')}\n`;
  const { host, tailer, log, c } = await setup(t, text, { read_chunk_bytes: 512 }, 'hold', { kind: 'end', size: 128 });
  const lag = () => host.metric('edgelog_file_checkpoint_lag_bytes', log);
  await steps(tailer).establish();
  assert.equal(await lag(), 1280 - 128, 'right at open');
  assert.equal(await steps(tailer).readChunk(), 512);
  c.ackAll();
  assert.equal(tailer.gen!.committed, 640);
  assert.equal(await lag(), 1280 - 640, 'after an ack mid-file: counted from the size, not from where reading got to');
  await readToEof(tailer);
  assert.equal(await steps(tailer).atEof(), HOUR);
  assert.equal(await lag(), 1280 - 640, 'at EOF, the unacknowledged rest');
  c.ackAll();
  assert.equal(await lag(), 0);
});

test('stop with a file that is still empty: nothing to flush, no error', async (t) => {
  const { host, tailer } = await setup(t, '');
  await readToEof(tailer);
  assert.equal(tailer.gen, null);
  await tailer.flushAtStop();
  assert.equal(host.telemetry.counts.errors, 0);
});
