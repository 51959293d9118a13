// Checkpoint advancement at the tailer's edges, where a read yields bytes but
// no line: the tail of a truncated oversize line (skipped bytes must still
// move the checkpoint, or a restart would deliver the tail as a line of its
// own), and a partial line still being written (nothing to acknowledge, and
// no bookkeeping error either).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Collector, makeCtx, makeSource, tempDir, testConfig, waitFor } from './helpers.ts';
import { afterCheckpointFlushes } from './progress.ts';

function checkpointOffset(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, 'utf8')) as { checkpoints: Array<{ offset: number }> }).checkpoints[0]?.offset;
}

test('the skipped tail of a truncated oversize line moves the checkpoint to its end; a restart delivers nothing of it', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'long.log');
  // The line is 20 chunks long, so its tail arrives in reads that frame no line at all.
  writeFileSync(log, `${'x'.repeat(10_240)}\n`);
  const size = statSync(log).size;
  const cfg = testConfig({ include: [log], read_chunk_bytes: 512, max_line_bytes: 1024, oversize: 'truncate' });
  const dataDir = join(dir, 'data');
  const a = makeSource(cfg, makeCtx(dataDir), t);
  const ca = new Collector('immediate');
  await a.start(ca);
  await waitFor(() => checkpointOffset(a.checkpointFile) === size, 'checkpoint at the end of the long line');
  assert.equal(ca.records.length, 1, 'the truncated head, once');
  assert.equal(ca.records[0]!.body.length, 1024);
  assert.equal(a.telemetry.counts.errors, 0);
  await a.stop();
  await a.drain(0);

  // Restart from that checkpoint: nothing of the long line comes again.
  const b = makeSource(cfg, makeCtx(dataDir), t);
  const cb = new Collector('immediate');
  await b.start(cb);
  writeFileSync(log, 'next\n', { flag: 'a' });
  await waitFor(() => cb.records.length >= 1, 'the next line');
  assert.deepEqual(cb.bodies(), ['next']);
});

test('a truncated line whose head went out on the idle flush: the rest of it, newline included, still moves the checkpoint', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'slow-writer.log');
  // A writer stalls mid-line past max_line_bytes: idle_flush emits the head, the rest is skipped when it comes.
  writeFileSync(log, 'y'.repeat(5000));
  const cfg = testConfig({ include: [log], read_chunk_bytes: 512, max_line_bytes: 1024, oversize: 'truncate' });
  const dataDir = join(dir, 'data');
  const a = makeSource(cfg, makeCtx(dataDir), t);
  const ca = new Collector('immediate');
  const pushed: number[] = [];
  const push = ca.push.bind(ca);
  ca.push = (batch) => { pushed.push(batch.length); return push(batch); };
  await a.start(ca);
  await waitFor(() => ca.records.length === 1, 'the head, flushed while idle');
  assert.equal(ca.records[0]!.body.length, 1024);
  // The rest of the line arrives in reads that frame no line (the head was already emitted).
  writeFileSync(log, `${'y'.repeat(3000)}\n`, { flag: 'a' });
  const size = statSync(log).size;
  await waitFor(() => checkpointOffset(a.checkpointFile) === size, 'checkpoint past the newline of the long line');
  assert.equal(ca.records.length, 1);
  assert.deepEqual(pushed, [1], 'a read that frames no line pushes nothing downstream');
  await a.stop();
  await a.drain(0);

  const b = makeSource(cfg, makeCtx(dataDir), t);
  const cb = new Collector('immediate');
  await b.start(cb);
  writeFileSync(log, 'next\n', { flag: 'a' });
  await waitFor(() => cb.records.length >= 1, 'the next line');
  assert.deepEqual(cb.bodies(), ['next'], 'no fragment of the long line after the restart');
});

test('a partial line still being written acknowledges nothing and raises no bookkeeping error', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'partial.log');
  writeFileSync(log, 'complete\npart');
  // idle_flush an hour: the partial line stays held.
  const ctx = makeCtx(join(dir, 'data'));
  const src = makeSource(testConfig({ include: [log], read_chunk_bytes: 512, idle_flush: '1h' }), ctx, t);
  const readBytes = async (): Promise<number> => (await ctx.metrics.getSingleMetric('edgelog_file_read_bytes_total')?.get())?.values.reduce((a, v) => a + v.value, 0) ?? 0;
  const c = new Collector('immediate');
  await src.start(c);
  await waitFor(() => checkpointOffset(src.checkpointFile) === 'complete\n'.length, 'checkpoint after the complete line');
  // More bytes of the same partial line: reads with no line in them.
  for (const piece of ['ial', ' li', 'ne']) {
    writeFileSync(log, piece, { flag: 'a' });
    const want = statSync(log).size;
    await waitFor(async () => (await readBytes()) >= want, `read up to ${want}`);
  }
  await afterCheckpointFlushes(src);
  assert.equal(checkpointOffset(src.checkpointFile), 'complete\n'.length);
  assert.deepEqual(c.bodies(), ['complete']);
  assert.equal(src.telemetry.counts.errors, 0, 'no ack-token error for a read without a line');
  writeFileSync(log, '\n', { flag: 'a' });
  await waitFor(() => c.records.length === 2, 'the finished line');
  assert.deepEqual(c.bodies(), ['complete', 'partial line']);
  await waitFor(() => checkpointOffset(src.checkpointFile) === statSync(log).size, 'checkpoint at EOF');
});


test('acknowledged bytes and checkpoint lag (what lag alerts read) follow the acknowledged prefix exactly', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'metered.log');
  let text = '';
  for (let i = 0; i < 200; i++) text += `line ${i} ${'m'.repeat(i % 40)}\n`;
  writeFileSync(log, text);
  const size = statSync(log).size;
  const ctx = makeCtx(join(dir, 'data'));
  const src = makeSource(testConfig({ include: [log], read_chunk_bytes: 512 }), ctx, t);
  const c = new Collector('hold');
  await src.start(c);
  await waitFor(() => c.records.length === 200, 'every line read');
  const value = async (name: string): Promise<number | undefined> => (await ctx.metrics.getSingleMetric(name)?.get())?.values.find((v) => v.labels.path === log)?.value;
  // Acknowledge the first half (whole chunks): both metrics reflect exactly that prefix.
  const firstGroup = c.records[0]!.ack;
  const groups = [...new Set(c.records.map((r) => r.ack))];
  const half = groups.slice(0, Math.ceil(groups.length / 2));
  for (const g of half) c.ackWhere((r) => r.ack === g);
  const prefix = half.at(-1)!.token;
  assert.ok(prefix > firstGroup.token && prefix < size);
  await waitFor(async () => (await value('edgelog_file_acked_bytes_total')) === prefix, `acked bytes = ${prefix}`);
  assert.equal(await value('edgelog_file_checkpoint_lag_bytes'), size - prefix);
  c.ackAll();
  await waitFor(async () => (await value('edgelog_file_acked_bytes_total')) === size, `acked bytes = ${size}`);
  assert.equal(await value('edgelog_file_checkpoint_lag_bytes'), 0);
});

test("a deleted file's late acknowledgements do not bring its metric series back", async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'gone.log');
  writeFileSync(log, 'one\ntwo\nthree\n');
  const ctx = makeCtx(join(dir, 'data'));
  const src = makeSource(testConfig({ include: [log] }), ctx, t);
  const c = new Collector('hold');
  await src.start(c);
  await waitFor(() => c.records.length === 3, 'every line read');
  const series = async (): Promise<number> => {
    let n = 0;
    for (const name of ['edgelog_file_read_bytes_total', 'edgelog_file_acked_bytes_total', 'edgelog_file_checkpoint_lag_bytes']) {
      n += ((await ctx.metrics.getSingleMetric(name)?.get())?.values ?? []).filter((v) => v.labels.path === log).length;
    }
    return n;
  };
  assert.ok((await series()) > 0);
  unlinkSync(log);
  await waitFor(async () => (await series()) === 0, 'the file released after rotate_wait, its series removed');
  assert.equal(c.ackAll(), 3);
  assert.equal(await series(), 0, 'acks after release leave the series gone');
});

test('copytruncate with content that starts the same: the new generation gets its own stream id (a consumer deduping on stream id + offset keeps both)', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'app.log');
  // The first 256 bytes (the fingerprint) are the same before and after the truncation.
  const header = `${'h'.repeat(299)}\n`;
  writeFileSync(log, `${header}old 1\nold 2\n`);
  const st = statSync(log, { bigint: true });
  const src = makeSource(testConfig({ include: [log] }), makeCtx(join(dir, 'data')), t);
  const c = new Collector('immediate');
  await src.start(c);
  await waitFor(() => c.records.length === 3, 'the first generation');
  const first = c.records[0]!.streamId;
  // The first generation's id is the file's identity and fingerprint, unsalted.
  assert.match(first, new RegExp(`^${st.dev}:${st.ino}:[0-9a-f]+$`));
  writeFileSync(log, `${header}n\n`); // truncated in place (same inode), shorter than what was read
  await waitFor(() => c.records.length === 5, 'the second generation');
  assert.deepEqual(c.bodies().slice(3), [header.slice(0, -1), 'n']);
  const second = c.records[3]!.streamId;
  assert.notEqual(second, first);
  assert.equal(second, `${first}~1`);
  // Same offsets, different ids: nothing of the new content collapses into the old.
  assert.equal(c.records[3]!.offset, c.records[0]!.offset);
  assert.ok(src.telemetry.counts.truncations >= 1);
});
