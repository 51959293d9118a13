// Rotation under a continuous writer: rename+create (rotated name outside and
// inside the glob) and copytruncate; no sequence number lost, none duplicated.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, readFileSync, renameSync, truncateSync, unlinkSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Collector, makeCtx, makeSource, tempDir, testConfig, waitFor } from './helpers.ts';
import type { LogRecord } from '../../../agent/core/record.ts';

/** Appends `seq N <padding>` lines on a timer; `between` runs synchronously between two writes. */
class Writer {
  seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly path: string;
  between: (() => void) | null = null;
  constructor(path: string) { this.path = path; }
  start(): void {
    this.timer = setInterval(() => {
      if (this.between) { const b = this.between; this.between = null; b(); }
      let chunk = '';
      for (let i = 0; i < 5; i++) chunk += `seq ${this.seq++} ${'p'.repeat(40 + (this.seq % 50))}\r\n`;
      appendFileSync(this.path, chunk);
    }, 2);
  }
  stop(): void { if (this.timer) clearInterval(this.timer); this.timer = null; }
}

function seqs(records: LogRecord[]): number[] {
  return records.map((r) => {
    const m = /^seq (\d+) p+$/.exec(r.body.toString('latin1'));
    if (!m) throw new Error(`mangled line ${JSON.stringify(r.body.toString('latin1'))} at ${r.stream}:${r.offset}`);
    return Number(m[1]);
  });
}

function assertComplete(c: Collector, total: number): void {
  const got = seqs(c.records);
  const seen = new Set(got);
  for (let i = 0; i < total; i++) if (!seen.has(i)) assert.fail(`seq ${i} lost`);
  assert.equal(got.length, total, `duplicates: ${got.length - total}`);
  // per stream (one file identity), order is file order
  const byStream = new Map<string, number[]>();
  for (const r of c.records) {
    const list = byStream.get(r.streamId) ?? [];
    list.push(r.offset);
    byStream.set(r.streamId, list);
  }
  for (const [id, offs] of byStream) for (let i = 1; i < offs.length; i++) assert.ok(offs[i]! > offs[i - 1]!, `order in ${id}`);
}

for (const variant of ['outside', 'inside'] as const) {
  test(`rename+create rotation under continuous writes, rotated name ${variant} the glob`, async (t) => {
    const dir = await tempDir(t);
    const log = join(dir, 'app.log');
    writeFileSync(log, '');
    const include = variant === 'outside' ? [log] : [join(dir, 'app.log*')];
    const src = makeSource(testConfig({ include, rotate_wait: '200ms' }), makeCtx(join(dir, 'data')), t);
    const c = new Collector();
    const w = new Writer(log);
    t.after(() => w.stop());
    await src.start(c);
    w.start();
    for (let r = 1; r <= 4; r++) {
      await waitFor(() => w.seq >= r * 300, 'writer progress');
      // rename the live file away; the writer's next append creates a new one
      await new Promise<void>((resolve) => { w.between = () => { renameSync(log, `${log}.${r}`); resolve(); }; });
    }
    await waitFor(() => w.seq >= 1500, 'writer progress');
    w.stop();
    const total = w.seq;
    await waitFor(() => c.records.length >= total, `${total} records (got ${c.records.length})`);
    if (variant === 'outside') await waitFor(() => src.openFiles === 1, 'rotated files released after draining');
    else await waitFor(() => src.openFiles === 5, 'rotated files followed under their new names');
    assertComplete(c, total);
    assert.equal(src.telemetry.counts.rotations >= 4, true, `rotations counted: ${src.telemetry.counts.rotations}`);
  });
}

test('copytruncate rotation under continuous writes', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'app.log');
  writeFileSync(log, '');
  const src = makeSource(testConfig({ include: [log] }), makeCtx(join(dir, 'data')), t);
  const c = new Collector();
  const w = new Writer(log);
  t.after(() => w.stop());
  await src.start(c);
  w.start();
  for (let r = 1; r <= 4; r++) {
    await waitFor(() => w.seq >= r * 300, 'writer progress');
    // copytruncate (logrotate's copytruncate) loses whatever the reader had not
    // read when the truncate happens -- inherent to the method. We rotate at a
    // moment the reader has caught up, between two writes, as logrotate does
    // between two writer syscalls.
    await new Promise<void>((resolve) => {
      const tryRotate = () => {
        if (c.records.length === w.seq) { copyFileSync(log, `${log}.${r}`); truncateSync(log, 0); resolve(); }
        else w.between = tryRotate;
      };
      w.between = tryRotate;
    });
  }
  await waitFor(() => w.seq >= 1500, 'writer progress');
  w.stop();
  const total = w.seq;
  await waitFor(() => c.records.length >= total, `${total} records (got ${c.records.length})`);
  assertComplete(c, total);
  assert.ok(src.telemetry.counts.truncations >= 4, `truncations counted: ${src.telemetry.counts.truncations}`);
  // each truncation starts a new stream generation with its own id
  assert.ok(new Set(c.records.map((r) => r.streamId)).size >= 5);
});

test('delete then recreate (inode may be reused): the new file is read from offset 0', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'a.log');
  writeFileSync(log, 'old 1\nold 2\n');
  const src = makeSource(testConfig({ include: [log], rotate_wait: '100ms' }), makeCtx(join(dir, 'data')), t);
  const c = new Collector();
  await src.start(c);
  await waitFor(() => c.records.length === 2, 'old lines');
  const oldIno = statSync(log).ino;
  unlinkSync(log);
  await waitFor(() => src.openFiles === 0, 'deleted file released');
  writeFileSync(log, 'new 1 which is longer\nnew 2\n');
  await waitFor(() => c.records.length === 4, 'new lines');
  assert.deepEqual(c.bodies(), ['old 1', 'old 2', 'new 1 which is longer', 'new 2']);
  assert.equal(c.records[2]!.offset, 0);
  assert.notEqual(c.records[2]!.streamId, c.records[0]!.streamId);
  t.diagnostic(`inode reused: ${statSync(log).ino === oldIno}`);
});

test('appends to the old file after rename are still read before it is let go', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'a.log');
  writeFileSync(log, 'one\n');
  const src = makeSource(testConfig({ include: [log], rotate_wait: '400ms' }), makeCtx(join(dir, 'data')), t);
  const c = new Collector();
  await src.start(c);
  await waitFor(() => c.records.length === 1, 'first line');
  renameSync(log, `${log}.1`);
  writeFileSync(log, 'new\n');
  await waitFor(() => c.records.length === 2, 'new file line');
  appendFileSync(`${log}.1`, 'late\n'); // a writer that has not reopened yet
  await waitFor(() => c.records.length === 3, 'late line from the rotated file');
  assert.deepEqual(c.bodies().sort(), ['late', 'new', 'one']);
  const late = c.records.find((r) => r.body.toString() === 'late')!;
  assert.equal(late.streamId, c.records[0]!.streamId);
});

for (const oldLines of [10, 40]) {
  // 10 lines (100 bytes): shorter than fingerprint_bytes, caught when the fingerprint is widened;
  // 40 lines (400 bytes): full fingerprint, caught by the fingerprint check at EOF.
  test(`content replaced past our offset before we looked is caught by the fingerprint (${oldLines * 10}-byte file)`, async (t) => {
    const dir = await tempDir(t);
    const log = join(dir, 'a.log');
    const line = (tag: string, i: number) => `${tag} ${String(i).padStart(4, '0')}\n`; // 10 bytes
    let old = '';
    for (let i = 0; i < oldLines; i++) old += line('old', i);
    writeFileSync(log, old);
    const src = makeSource(testConfig({ include: [log] }), makeCtx(join(dir, 'data')), t);
    const c = new Collector();
    await src.start(c);
    await waitFor(() => c.records.length === oldLines, 'old lines');
    // truncate and refill to 3x the old size in one go: the tailer never sees a size below its offset
    let fresh = '';
    for (let i = 0; i < oldLines * 3; i++) fresh += line('new', i);
    truncateSync(log, 0);
    appendFileSync(log, fresh);
    const want = fresh.split('\n').slice(0, -1);
    await waitFor(() => want.every((l) => c.bodies().includes(l)), 'every new line');
    assert.equal(src.telemetry.counts.truncations, 1);
    // the new generation starts at 0 under its own stream id
    const gen2 = c.records.filter((r) => r.streamId !== c.records[0]!.streamId && r.offset === 0);
    assert.equal(gen2.length, 1);
    assert.equal(gen2[0]!.body.toString(), 'new 0000');
    // checkpoint: one entry (the old generation is gone), at the end of the file
    await waitFor(() => {
      let ck: { checkpoints: { offset: number; stream_id: string }[] };
      try { ck = JSON.parse(readFileSync(src.checkpointFile, 'utf8')); } catch { return false; }
      return ck.checkpoints.length === 1 && ck.checkpoints[0]!.offset === fresh.length && ck.checkpoints[0]!.stream_id === gen2[0]!.streamId;
    }, 'checkpoint of the new generation');
  });
}
