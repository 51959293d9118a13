// The spool replayer's contract beyond the happy path: default push sizes
// (512 records, 1 MiB), an undecodable payload reported and acknowledged (it
// must not hold the spool's ack position back), no empty pushes, a downstream
// that throws ends the loop with a logged error, a closed spool ends the
// loop, and drain() answers true/false by the deadline.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckGroup } from '../../agent/core/ack.ts';
import { newRecord, type LogRecord } from '../../agent/core/record.ts';
import type { Logger } from '../../agent/observe/log.ts';
import { DiskSpool } from '../../agent/pipeline/spool/disk-spool.ts';
import { serializeRecord } from '../../agent/pipeline/spool/record-codec.ts';
import { SpoolReplayer } from '../../agent/pipeline/spool/replay.ts';

const noAck = new AckGroup(0, () => {});
const payload = (i: number, pad = 0) => serializeRecord(newRecord(Buffer.from(`line ${i} ${'p'.repeat(pad)}`), 's', 'peer', 'sid', i, noAck));

async function openSpool(t: { after: (fn: () => Promise<void>) => void }, segmentBytes = 16 << 20): Promise<DiskSpool> {
  const dir = await mkdtemp(join(tmpdir(), `edgelog-replay-contract-${process.pid}-`));
  const spool = await DiskSpool.open(dir, { maxBytes: 256 << 20, segmentBytes });
  t.after(async () => { await spool.close(); await rm(dir, { recursive: true, force: true }); });
  return spool;
}

async function until(what: string, cond: () => boolean): Promise<void> {
  const end = Date.now() + 20_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('defaults: pushes of at most 512 records and 1 MiB, full-sized when the spool holds more', async (t) => {
  const spool = await openSpool(t);
  for (let i = 0; i < 1200; i += 100) await spool.append(Array.from({ length: 100 }, (_, k) => payload(i + k)));
  const sizes: number[] = [];
  const rp = new SpoolReplayer(spool, { async push(b) { sizes.push(b.length); for (const r of b) r.ack.settle(); } });
  rp.start();
  await until('small records replayed', () => sizes.reduce((a, n) => a + n, 0) === 1200);
  await rp.stop();
  assert.ok(sizes.every((n) => n <= 512), `push sizes ${sizes.join(',')}`);
  assert.ok(sizes.includes(512), `at least one full push of 512 (${sizes.join(',')})`);

  // Big records: the byte bound (1 MiB) limits a push before the record count does.
  const big = await openSpool(t);
  for (let i = 0; i < 600; i += 50) await big.append(Array.from({ length: 50 }, (_, k) => payload(i + k, 8000)));
  const bytes: number[] = [];
  const rp2 = new SpoolReplayer(big, { async push(b) { bytes.push(b.reduce((a, r) => a + r.body.length, 0)); for (const r of b) r.ack.settle(); } });
  rp2.start();
  await until('big records replayed', () => big.unacked === 0 && bytes.length > 0);
  await rp2.stop();
  assert.ok(bytes.every((n) => n <= 1 << 20), `push bytes ${bytes.join(',')}`);
  assert.ok(bytes.some((n) => n > 512 << 10), `pushes up to the 1 MiB bound, not single records (${bytes.join(',')})`);
});

test('an undecodable payload is reported, not pushed, and acknowledged with its batch; a batch of only garbage pushes nothing', async (t) => {
  const spool = await openSpool(t);
  await spool.append([payload(0), Buffer.from('garbage'), payload(2)]);
  const pushed: LogRecord[][] = [];
  const bad: unknown[] = [];
  const rp = new SpoolReplayer(spool, { async push(b) { pushed.push(b); for (const r of b) r.ack.settle(); } }, { onUndecodable: (e) => bad.push(e) });
  rp.start();
  await until('the first batch acked', () => spool.unacked === 0);
  assert.equal(bad.length, 1);
  assert.match(String(bad[0]), /spooled record/);
  assert.deepEqual(pushed.flat().map((r) => r.offset), [0, 2]);
  await spool.append([Buffer.from('junk 1'), Buffer.from('junk 2')]);
  await until('the garbage batch acked', () => spool.unacked === 0);
  assert.equal(bad.length, 3);
  assert.ok(pushed.every((b) => b.length > 0), 'no empty push');
  await spool.append([payload(7)]);
  await until('a batch of one record pushed and acked', () => spool.unacked === 0 && pushed.flat().some((r) => r.offset === 7));
  await rp.stop();
});

test('a downstream that throws ends replay with a logged error; the records stay unacked in the spool', async (t) => {
  const spool = await openSpool(t);
  await spool.append([payload(0), payload(1)]);
  const errors: string[] = [];
  const log: Logger = { debug() {}, info() {}, warn() {}, error(msg) { errors.push(msg); }, child() { return log; } };
  const rp = new SpoolReplayer(spool, { async push() { throw new Error('downstream broke'); } }, { log });
  rp.start();
  await until('the error logged', () => errors.length > 0);
  assert.deepEqual(errors, ['spool replay stopped on error']);
  assert.equal(spool.unacked, 2);
  await rp.stop();
});

test('closing the spool ends the replay loop', async (t) => {
  const spool = await openSpool(t);
  const rp = new SpoolReplayer(spool, { async push(b) { for (const r of b) r.ack.settle(); } });
  rp.start();
  await spool.close();
  let stopped = false;
  const s = rp.stop().then(() => { stopped = true; });
  await until('stop after close', () => stopped);
  await s;
});

test('drain: true once acks arrive before the deadline, false when they do not', async (t) => {
  const spool = await openSpool(t);
  await spool.append([payload(0)]); // one record: drain must wait for the last one, not stop one short
  const held: LogRecord[] = [];
  const rp = new SpoolReplayer(spool, { async push(b) { held.push(...b); } });
  rp.start();
  await until('records pushed', () => held.length === 1);
  assert.equal(await rp.drain(30), false, 'nothing acked: false at the deadline');
  setTimeout(() => { for (const r of held) r.ack.settle(); }, 30);
  assert.equal(await rp.drain(20_000), true, 'acked later, within the deadline');
  assert.equal(spool.unacked, 0);
  await rp.stop();
});
