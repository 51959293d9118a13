// The tailer's own bookkeeping, driven step by step (tailer-harness.ts): the
// wake latch (an inotify wake-up that arrives while the tailer is busy is not
// lost, and is used once), stop (no chunk read after it), what a file let go
// does with acknowledgements that arrive late (metric series stay gone, no
// checkpoint write for nothing), the lag gauge while a file is read, and stop
// with a file that is still empty.

import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { tempDir, testConfig, waitFor } from './helpers.ts';
import { Recorder, TestHost, openTailer, readToEof, recordingLogger, steps, withDeadline } from './tailer-harness.ts';
import { ATTR_PATH_RESOLVED } from '../../../agent/sources/file/tailer.ts';
import { ReadAheadBudget } from '../../../agent/sources/file/read-ahead-budget.ts';
import type { StartFrom, Tailer } from '../../../agent/sources/file/tailer.ts';
import type { LogRecord } from '../../../agent/core/record.ts';

const HOUR = 3_600_000;

async function setup(t: TestContext, content: string, raw: Record<string, unknown> = {}, mode: 'immediate' | 'hold' = 'immediate', from?: StartFrom) {
  const dir = await tempDir(t);
  const log = join(dir, 'app.log');
  writeFileSync(log, content);
  const c = new Recorder(mode);
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
  // Nobody wakes it: the wait ends by itself when its time is up.
  await withDeadline(s.waitWake(1), 'a 1 ms wait to end');
});

/** Counts the tailer's looks at the path (atEof) while its own read loop runs. */
function countLooks(tailer: Tailer): { n: number } {
  const s = steps(tailer);
  const look = s.atEof.bind(tailer);
  const count = { n: 0 };
  s.atEof = async () => { count.n++; return look(); };
  return count;
}

/** Forty file-system round trips of our own: a loop that never sleeps would look at the path again meanwhile. */
async function someFsWork(path: string): Promise<void> {
  for (let i = 0; i < 40; i++) await stat(path);
}

test('the read loop on a file still empty looks at the path and then sleeps until woken', async (t) => {
  const { tailer, log } = await setup(t, '');
  const looks = countLooks(tailer);
  tailer.start();
  await waitFor(() => looks.n === 1, 'the first look');
  await someFsWork(log);
  assert.equal(looks.n, 1, 'asleep (glob_interval is an hour)');
  writeFileSync(log, 'now\n');
  tailer.wake();
  await waitFor(() => looks.n === 2, 'the look after the wake-up');
});

test('a read that keeps failing is counted and retried once per glob interval, not in a tight loop', async (t) => {
  const dir = await tempDir(t);
  writeFileSync(join(dir, 'x.log'), 'x\n');
  const host = new TestHost(testConfig({ include: [join(dir, '*')], glob_interval: HOUR }), dir, new Recorder());
  // A directory opens but cannot be read (EISDIR).
  const tailer = await openTailer(host, dir);
  t.after(() => tailer.release('test end'));
  tailer.start();
  await waitFor(() => host.telemetry.counts.errors === 1, 'the read error counted');
  await someFsWork(dir);
  assert.equal(host.telemetry.counts.errors, 1, 'no retry before the glob interval');
  tailer.wake();
  await waitFor(() => host.telemetry.counts.errors === 2, 'retried when woken');
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

test('stop mid-backlog: a line cut by the last chunk read is not shipped as a record; the next run delivers it whole', async (t) => {
  // 58-byte lines, 512-byte chunks: the first chunk ends inside line 8.
  let text = '';
  for (let i = 0; i < 100; i++) text += `${`line ${i} `.padEnd(57, 'x')}\n`;
  const { host, tailer, c, log } = await setup(t, text, { read_chunk_bytes: 512 });
  const push = c.push.bind(c);
  c.push = async (batch: LogRecord[]) => { host.stopping = true; await push(batch); };
  tailer.start();
  await waitFor(async () => !(await pending(tailer.finished())), 'the read loop to end');
  await tailer.flushAtStop();
  const whole = /^line \d+ x+$/;
  assert.ok(c.records.length > 0 && c.records.every((r) => r.body.length === 57 && whole.test(r.body.toString())), `only whole lines: ${c.records.map((r) => r.body.toString()).join(' | ')}`);
  c.ackAll();
  assert.equal(tailer.gen!.committed, c.records.length * 58, 'the checkpoint stops before the cut line');
  // The next run, from that checkpoint, reads the rest: every line exactly once, none cut.
  const first = c.records.map((r) => r.body.toString());
  const host2 = new TestHost(testConfig({ include: [log], glob_interval: HOUR, idle_flush: HOUR, rotate_wait: 0 }), join(log, '..'), new Recorder('immediate'));
  const next = await openTailer(host2, log, { kind: 'checkpoint', entry: { ...tailer.gen!.entry, offset: tailer.gen!.committed } });
  t.after(() => next.release('test end'));
  await readToEof(next);
  const all = [...first, ...host2.out.records.map((r) => r.body.toString())];
  assert.deepEqual(all, text.slice(0, -1).split('\n'));
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
  assert.equal(steps(tailer).fh.fd, -1, 'its handle closed');
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
  // It grew: the next look counts the new bytes, and so does the next ack.
  writeFileSync(log, 'x'.repeat(63) + '\n', { flag: 'a' });
  assert.equal(await steps(tailer).atEof(), HOUR);
  assert.equal(await lag(), 1344 - 640);
  assert.ok(host.openGroups > 0);
  c.ackAll();
  assert.equal(await lag(), 1344 - 1280);
  await readToEof(tailer);
  c.ackAll();
  assert.equal(await lag(), 0);
  assert.equal(host.openGroups, 0, 'every group the tailer opened was reported done');
  // What edgelog_source_records_total / _bytes_total count, over several chunks.
  assert.equal(host.telemetry.counts.records, c.records.length);
  assert.equal(host.telemetry.counts.bytes, c.records.reduce((n, r) => n + r.body.length, 0));
});

test('stop ships the unterminated last line and ends the stream; a stage whose end fails is counted, not fatal', async (t) => {
  const { tailer, c } = await setup(t, 'a\npartial');
  await readToEof(tailer);
  assert.deepEqual(c.bodies(), ['a']);
  await tailer.flushAtStop();
  assert.deepEqual(c.bodies(), ['a', 'partial']);
  assert.deepEqual(c.ended, [tailer.gen!.streamId]);
  assert.equal(tailer.gen!.committed, 'a\npartial'.length);

  const other = await setup(t, 'b\n');
  await readToEof(other.tailer);
  other.c.endStream = () => { throw new Error('stage failed'); };
  await other.tailer.flushAtStop();
  assert.equal(other.host.telemetry.counts.errors, 1);
});

test('copytruncate: the held partial line of the old content ships, its stream ends and its checkpoint goes', async (t) => {
  const { host, tailer, log, c } = await setup(t, 'old 1\nheld');
  await readToEof(tailer);
  const oldId = tailer.gen!.streamId;
  assert.equal(host.store.size, 1);
  writeFileSync(log, 'n\n');
  assert.equal(await steps(tailer).atEof(), 0);
  assert.deepEqual(c.bodies(), ['old 1', 'held']);
  assert.deepEqual(c.ended, [oldId]);
  assert.equal(host.store.size, 0, 'the old content cannot come back');
  await readToEof(tailer);
  assert.deepEqual(c.bodies(), ['old 1', 'held', 'n']);
  assert.equal(host.store.size, 1);
});

test('the same file found under another name (discovery): records, metrics and checkpoint follow the new name', async (t) => {
  const { host, tailer, log, c } = await setup(t, 'a\n');
  const dir = join(log, '..');
  await readToEof(tailer);
  assert.equal(await host.metric('edgelog_file_read_bytes_total', log), 2);
  await host.store.flush();
  renameSync(log, join(dir, 'app-2.log'));
  assert.equal(await steps(tailer).atEof(), 0, 'the old name is gone');
  // Discovery matches it again through a symlinked directory.
  symlinkSync(dir, join(dir, 'link'));
  const renamed = join(dir, 'link', 'app-2.log');
  tailer.renameTo(renamed);
  assert.equal(await host.metric('edgelog_file_read_bytes_total', log), undefined, 'the old name\'s series are gone');
  assert.equal(await host.store.flush(), true, 'the new name is written');
  assert.equal((JSON.parse(readFileSync(host.store.file, 'utf8')) as { checkpoints: Array<{ path: string }> }).checkpoints[0]!.path, renamed);
  assert.equal(await steps(tailer).atEof(), HOUR, 'no longer a rotated file waiting for rotate_wait (0 here)');
  assert.deepEqual(host.releases, []);
  writeFileSync(renamed, 'b\n', { flag: 'a' });
  await readToEof(tailer);
  const b = c.records[1]!;
  assert.equal(b.stream, renamed);
  assert.deepEqual(b.attributes, { [ATTR_PATH_RESOLVED]: join(dir, 'app-2.log') });
});

test('resuming from a checkpoint taken under another name: the checkpoint gets the current name at once', async (t) => {
  const { host, tailer, log } = await setup(t, 'a\n');
  await readToEof(tailer);
  const e = { ...host.store.get(tailer.gen!.streamId)!, path: join(log, '..', 'before-rename.log') };
  await tailer.release('test');
  host.store.set(e);
  await host.store.flush();
  const again = await openTailer(host, log, { kind: 'checkpoint', entry: e });
  t.after(() => again.release('test end'));
  await readToEof(again);
  assert.equal(again.gen!.committed, 2, 'resumed at the checkpoint');
  assert.equal(await host.store.flush(), true);
  assert.equal((JSON.parse(readFileSync(host.store.file, 'utf8')) as { checkpoints: Array<{ path: string }> }).checkpoints[0]!.path, log);
});

test('a file that was shorter than fingerprint_bytes: the widened fingerprint is written even before the new lines are acknowledged', async (t) => {
  const { host, tailer, log } = await setup(t, 'short\n', {}, 'hold');
  await readToEof(tailer);
  await host.store.flush();
  const fpLen = () => (JSON.parse(readFileSync(host.store.file, 'utf8')) as { checkpoints: Array<{ fp_len: number }> }).checkpoints[0]!.fp_len;
  assert.equal(fpLen(), 6);
  writeFileSync(log, `${'l'.repeat(300)}\n`, { flag: 'a' });
  await readToEof(tailer);
  assert.equal(await host.store.flush(), true);
  assert.equal(fpLen(), 256);
});

test('an oversize line right where reading resumed is reported at its own offset', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'app.log');
  writeFileSync(log, `old\n${'y'.repeat(300)}\n`);
  const logged: Array<{ msg: string; fields: Record<string, unknown> }> = [];
  const c = new Recorder();
  const host = new TestHost(testConfig({ include: [log], glob_interval: HOUR, max_line_bytes: 100, oversize: 'split' }), dir, c, recordingLogger(logged));
  // start_at end when the file held the first line only
  const tailer = await openTailer(host, log, { kind: 'end', size: 4 });
  t.after(() => tailer.release('test end'));
  await readToEof(tailer);
  assert.deepEqual(c.records.map((r) => [r.offset, r.body.length]), [[4, 100], [104, 100], [204, 100]]);
  assert.deepEqual(logged.filter((l) => l.msg.startsWith('line longer')).map((l) => l.fields), [{ path: log, offset: 4, action: 'split' }]);
});

test('stop with a file that is still empty: nothing to flush, no error', async (t) => {
  const { host, tailer } = await setup(t, '');
  await readToEof(tailer);
  assert.equal(tailer.gen, null);
  await tailer.flushAtStop();
  assert.equal(host.telemetry.counts.errors, 0);
});

test('read ahead: while a full chunk is shipped the next one is already being read; every line still arrives once, in order, and a release with a read out closes cleanly', async (t) => {
  // 64-byte lines, 512-byte chunks: 16 full chunks.
  let text = '';
  for (let i = 0; i < 128; i++) text += `${`line ${i} `.padEnd(63, '.')}\n`;
  const { tailer, c } = await setup(t, text, { read_chunk_bytes: 512 });
  const s = steps(tailer) as unknown as { ahead: { at: number; bytes: Promise<number> } | null; buf: Buffer };
  const aheadAt: number[] = [];
  const buffers = new Set<ArrayBufferLike>();
  const push = c.push.bind(c);
  c.push = async (batch: LogRecord[]) => { aheadAt.push(s.ahead?.at ?? -1); buffers.add(s.buf.buffer); await push(batch); };
  await readToEof(tailer);
  assert.equal(buffers.size, 2, 'two read buffers take turns, none made per chunk');
  // Chunk k (k < 15) is shipped while the read of chunk k+1 is out; the last one is followed by a read that finds nothing.
  assert.deepEqual(aheadAt, Array.from({ length: 16 }, (_, k) => (k + 1) * 512));
  assert.deepEqual(c.records.map((r) => r.body.toString()), text.trimEnd().split('\n'));
  assert.equal(tailer.gen!.committed, text.length);
  assert.equal(s.ahead, null, 'no read left out at the end of the file');
  // A file whose end is a part chunk: once caught up, the second buffer is let go (a file appended to slowly does not keep it).
  const part = await setup(t, `${text}tail\n`, { read_chunk_bytes: 512 });
  await readToEof(part.tailer);
  assert.equal(part.c.records.length, 129);
  assert.equal((steps(part.tailer) as unknown as { spare: Buffer | null }).spare, null, 'no spare buffer kept at the end of the file');

  // A file read at speed, let go with a read ahead out: the read finishes before the handle closes, nothing is left pending.
  const more = await setup(t, text, { read_chunk_bytes: 512 });
  const m = steps(more.tailer) as unknown as { ahead: { at: number; bytes: Promise<number> } | null; establish(): Promise<void>; readChunk(): Promise<number> };
  await m.establish();
  assert.equal(await m.readChunk(), 512);
  const out = m.ahead;
  assert.ok(out !== null && out.at === 512, 'the second chunk is being read');
  await withDeadline(more.tailer.release('test'), 'release with a read ahead out');
  assert.equal(await out.bytes, 512, 'the read ahead completed on the open handle');
  assert.equal(m.ahead, null);
});

test('read ahead over a rewrite: the file replaced under a short fingerprint is read again from 0 with fresh reads, never the read made ahead for the old content', async (t) => {
  const { tailer, c, log } = await setup(t, 'old first line\n', { read_chunk_bytes: 512, fingerprint_bytes: 1024 });
  const s = steps(tailer) as unknown as { ahead: { at: number } | null };
  await readToEof(tailer);
  assert.deepEqual(c.records.map((r) => r.body.toString()), ['old first line']);
  // Rewritten in place (same inode) with other content: the next full chunk is read with a read ahead out, then the wider fingerprint shows the rewrite.
  let text = '';
  for (let i = 0; i < 40; i++) text += `${`new ${i} `.padEnd(63, '-')}\n`;
  writeFileSync(log, text);
  const seen: Array<number | null> = [];
  const push = c.push.bind(c);
  c.push = async (batch: LogRecord[]) => { seen.push(s.ahead?.at ?? null); await push(batch); };
  await readToEof(tailer);
  const bodies = c.records.slice(1).map((r) => r.body.toString());
  // The new content whole and in order, as its own stream from offset 0 (the old stream's read of it is not shipped).
  assert.deepEqual(bodies.slice(-40), text.trimEnd().split('\n'));
  assert.ok(bodies.length === 40, `nothing else shipped: ${bodies.length} records`);
  assert.equal(tailer.gen!.committed, text.length);
  assert.equal(s.ahead, null);
});

test('read ahead made for an offset no longer wanted: its buffer is never read into again while that read may still be writing it', async (t) => {
  let text = '';
  for (let i = 0; i < 64; i++) text += `${`line ${i} `.padEnd(63, '.')}\n`;
  const { tailer } = await setup(t, text, { read_chunk_bytes: 512 });
  const s = steps(tailer) as unknown as { ahead: { at: number; buf: Buffer } | null; establish(): Promise<void>; readChunk(): Promise<number>; seek(offset: number): void };
  await s.establish();
  // Two chunks: the second comes from the read ahead, and the buffers have taken turns once.
  assert.equal(await s.readChunk(), 512);
  assert.equal(await s.readChunk(), 512);
  const stale = s.ahead!;
  assert.equal(stale.at, 1024);
  // The offset moves (as after a truncation): the read out is for no offset now.
  s.seek(0);
  assert.equal(stale.at, -1);
  assert.equal(await s.readChunk(), 512);
  const next = s.ahead!;
  assert.equal(next.at, 512);
  assert.notEqual(next.buf.buffer, stale.buf.buffer, 'the new read ahead has a buffer of its own');
  await withDeadline(tailer.release('test'), 'release');
});

test('a read ahead that fails is not an unhandled rejection: the next chunk gets the error and is then read again', async (t) => {
  let text = '';
  for (let i = 0; i < 64; i++) text += `${`line ${i} `.padEnd(63, '.')}\n`;
  const { tailer } = await setup(t, text, { read_chunk_bytes: 512 });
  const s = steps(tailer) as unknown as { fh: { read: (...a: unknown[]) => Promise<unknown> }; establish(): Promise<void>; readChunk(): Promise<number> };
  await s.establish();
  const real = s.fh.read.bind(s.fh);
  let reads = 0;
  // The second read is the read ahead of the first chunk: it fails.
  s.fh.read = (...a: unknown[]) => (++reads === 2 ? Promise.reject(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' })) : real(...a));
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown): void => { unhandled.push(e); };
  process.on('unhandledRejection', onUnhandled);
  t.after(() => { process.off('unhandledRejection', onUnhandled); });
  assert.equal(await s.readChunk(), 512);
  // Let the rejection surface (it would be reported after the microtasks of this turn).
  await nextTurn();
  await nextTurn();
  assert.deepEqual(unhandled, []);
  await assert.rejects(s.readChunk(), /EIO/);
  assert.equal(await s.readChunk(), 512, 'the same chunk, read again');
  assert.equal(reads, 4);
});

test('read-ahead slots: with one for the source, a second file read at speed reads without; the slot passes on when the first catches up or is let go', async (t) => {
  const dir = await tempDir(t);
  let text = '';
  for (let i = 0; i < 32; i++) text += `${`line ${i} `.padEnd(63, '.')}\n`;
  const [a, b, c] = ['a.log', 'b.log', 'c.log'].map((n) => join(dir, n));
  for (const p of [a!, b!, c!]) writeFileSync(p, text);
  const host = new TestHost(testConfig({ include: [join(dir, '*.log')], glob_interval: HOUR, idle_flush: HOUR, rotate_wait: 0, read_chunk_bytes: 512 }), dir, new Recorder('immediate'));
  host.readAhead = new ReadAheadBudget(1);
  type Inner = { ahead: unknown; establish(): Promise<void>; readChunk(): Promise<number> };
  const [ta, tb, tc] = await Promise.all([a!, b!, c!].map((p) => openTailer(host, p)));
  for (const x of [ta!, tb!, tc!]) t.after(() => x.release('test end'));
  const [sa, sb, sc] = [ta!, tb!, tc!].map((x) => steps(x) as unknown as Inner);
  for (const s of [sa!, sb!, sc!]) await s.establish();
  assert.equal(await sa!.readChunk(), 512);
  assert.ok(sa!.ahead !== null, 'the first file read at speed takes the slot');
  assert.equal(await sb!.readChunk(), 512);
  assert.equal(sb!.ahead, null, 'no slot left: the second reads without');
  assert.equal(host.readAhead.available, 0);
  // The first reads to its end (the last read finds nothing): it lets the slot go.
  while (await sa!.readChunk() > 0) { /* to the end */ }
  assert.equal(host.readAhead.available, 1);
  assert.equal(await sa!.readChunk(), 0);
  assert.equal(host.readAhead.available, 1, 'given back once, not at every read at the end');
  assert.equal(await sb!.readChunk(), 512);
  assert.ok(sb!.ahead !== null, 'the second file takes it at its next full chunk');
  // Let go with the slot held: it comes back.
  await withDeadline(tb!.release('test'), 'release');
  assert.equal(host.readAhead.available, 1);
  assert.equal(await sc!.readChunk(), 512);
  assert.ok(sc!.ahead !== null);
  // Every line of every file once, in order, slot or not.
  while (await sc!.readChunk() > 0) { /* to the end */ }
  const bodies = (host.out as Recorder).records.filter((r) => r.stream === c).map((r) => r.body.toString());
  assert.deepEqual(bodies, text.trimEnd().split('\n'));
});
