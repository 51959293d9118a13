// The spool's defences against damaged bytes: the segment header CRC (any
// flipped byte of the first 28, not only the magic, sets a segment aside),
// frame scanning, and the replay-time skip of a segment damaged after it was
// written, which must acknowledge the skipped records so the ack position
// (and with it segment deletion) does not stall behind them forever.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readdir, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskSpool } from '../../agent/pipeline/spool/disk-spool.ts';
import {
  HEADER_BYTES, FRAME_HEADER_BYTES, SEGMENT_VERSION, decodeHeader, encodeFrames, encodeHeader, framedBytes, parseSegmentName, scanFrames, segmentName,
} from '../../agent/pipeline/spool/format.ts';

const rec = (i: number) => Buffer.from(`r${i}:` + 'p'.repeat(40));
const idOf = (b: Buffer) => Number(/^r(\d+):/.exec(b.toString('latin1'))![1]);

async function spoolDir(t: { after: (fn: () => Promise<void>) => void }, opened: DiskSpool[]): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'edgelog-spool-damage-'));
  t.after(async () => {
    for (const s of opened.splice(0)) await s.close().catch(() => {});
    await rm(d, { recursive: true, force: true });
  });
  return d;
}

test('header: exact bytes, round-trips the base; every single-byte change in the covered 28 bytes or the CRC is rejected', async () => {
  const h = encodeHeader(123456789, 1_700_000_000_000);
  assert.equal(h.length, HEADER_BYTES);
  assert.equal(decodeHeader(h), 123456789);
  assert.equal(SEGMENT_VERSION, 1, 'on-disk version 1: a reader of older spools depends on it');
  // The exact on-disk bytes: magic, version 1, flags 0, base, created ms, CRC.
  assert.equal(h.toString('hex'), '4544474c53504c31' + '0001' + '0000' + '00000000075bcd15' + Buffer.from(new Float64Array([1_700_000_000_000]).buffer).reverse().toString('hex') + h.subarray(28).toString('hex'));
  assert.equal(h.readUInt32BE(28), (await import('node:zlib')).crc32(h.subarray(0, 28)));
  for (let i = 0; i < HEADER_BYTES; i++) {
    const bad = Buffer.from(h);
    bad[i] = bad[i]! ^ 0x01;
    assert.equal(decodeHeader(bad), null, `byte ${i} flipped`);
  }
  assert.equal(decodeHeader(h.subarray(0, HEADER_BYTES - 1)), null, 'short');
  assert.equal(decodeHeader(encodeHeader(Number.MAX_SAFE_INTEGER)), Number.MAX_SAFE_INTEGER);
  assert.equal(decodeHeader(encodeHeader(0)), 0);
});

test('header: a base beyond 2^53 is refused even with a valid CRC; a wrong version is refused', async () => {
  const { crc32 } = await import('node:zlib');
  const h = encodeHeader(1);
  h.writeBigUInt64BE(BigInt(Number.MAX_SAFE_INTEGER) + 1n, 12);
  h.writeUInt32BE(crc32(h.subarray(0, 28)), 28);
  assert.equal(decodeHeader(h), null);
  const v = encodeHeader(1);
  v.writeUInt16BE(SEGMENT_VERSION + 1, 8);
  v.writeUInt32BE(crc32(v.subarray(0, 28)), 28);
  assert.equal(decodeHeader(v), null);
});

test('segment names sort in write order and parse back; foreign names are ignored', () => {
  assert.equal(segmentName(42), '00000000000000000042.seg');
  assert.equal(parseSegmentName(segmentName(42)), 42);
  assert.equal(parseSegmentName('00000000000000000042.seg.corrupt'), null);
  assert.equal(parseSegmentName('42.seg'), null);
  assert.equal(parseSegmentName('99999999999999999999.seg'), null, 'beyond 2^53');
});

test('frames: exact layout; scan returns every payload; a flipped byte anywhere stops the scan at that frame with the reason', async () => {
  const payloads = [Buffer.from('a'), Buffer.alloc(0), Buffer.from('hello world'), Buffer.alloc(300, 7)];
  const buf = encodeFrames(payloads);
  // The exact frame layout: crc32(length ++ payload) u32 | length u32 | payload, big-endian.
  const one = encodeFrames([Buffer.from('hello')]);
  assert.equal(FRAME_HEADER_BYTES, 8);
  assert.equal(one.toString('hex'), (((await import('node:zlib')).crc32(Buffer.from('0000000568656c6c6f', 'hex'))) >>> 0).toString(16).padStart(8, '0') + '00000005' + Buffer.from('hello').toString('hex'));
  assert.equal(buf.length, framedBytes(payloads));
  assert.equal(framedBytes(payloads, 1, 3), 2 * FRAME_HEADER_BYTES + 11);
  const seen: string[] = [];
  const ok = scanFrames(buf, 0, 1024, Infinity, (p) => seen.push(p.toString('hex')));
  assert.deepEqual(ok, { end: buf.length, count: 4, damage: null });
  assert.deepEqual(seen, payloads.map((p) => p.toString('hex')));
  assert.deepEqual(scanFrames(buf, 0, 1024, 2), { end: 2 * FRAME_HEADER_BYTES + 1, count: 2, damage: null }, 'limit');
  assert.deepEqual(encodeFrames(payloads, 2, 3), encodeFrames([payloads[2]!]));
  // Frame 2 starts after frames 0 and 1.
  const f2 = 2 * FRAME_HEADER_BYTES + 1;
  for (const at of [f2, f2 + 3, f2 + 4, f2 + 7, f2 + 8, f2 + 18]) {
    const bad = Buffer.from(buf);
    bad[at] = bad[at]! ^ 0x10;
    const r = scanFrames(bad, 0, 1024);
    assert.equal(r.count, 2, `byte ${at}`);
    assert.equal(r.end, f2);
    assert.ok(r.damage === 'crc' || r.damage === 'length' || r.damage === 'short', `byte ${at}: ${r.damage}`);
  }
  assert.equal(scanFrames(buf, 0, 299).damage, 'length', 'a payload over the limit');
  assert.deepEqual(scanFrames(buf, 0, 300), { end: buf.length, count: 4, damage: null }, 'a payload of exactly the limit is fine');
  // A zero-length payload as the very last frame: exactly 8 bytes left is a whole frame, not a short one.
  const tail = encodeFrames([Buffer.from('x'), Buffer.alloc(0)]);
  assert.deepEqual(scanFrames(tail, 0, 10), { end: tail.length, count: 2, damage: null });
  assert.deepEqual(scanFrames(tail, FRAME_HEADER_BYTES + 1, 10), { end: tail.length, count: 1, damage: null }, 'scan from an offset');
  assert.deepEqual(scanFrames(buf.subarray(0, buf.length - 1), 0, 1024), { end: buf.length - 300 - FRAME_HEADER_BYTES, count: 3, damage: 'short' });
  assert.deepEqual(scanFrames(buf.subarray(0, f2 + 5), 0, 1024), { end: f2, count: 2, damage: 'short' }, 'cut inside a frame header');
});

test('a sealed segment whose header is valid except for its CRC-covered timestamp is set aside on open', async (t) => {
  const opened: DiskSpool[] = [];
  const dir = await spoolDir(t, opened);
  let s = await DiskSpool.open(dir, { maxBytes: 1 << 20, segmentBytes: 4096 });
  opened.push(s);
  for (let i = 0; i < 300; i += 10) await s.append(Array.from({ length: 10 }, (_, k) => rec(i + k)));
  await s.close();
  opened.length = 0;
  const segs = (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort();
  assert.ok(segs.length >= 4, `${segs.length} segments`);
  const victimBase = Number(segs[1]!.slice(0, 20));
  const nextBase = Number(segs[2]!.slice(0, 20));
  // Flip one byte of the creation time: magic, version and base stay right, only the CRC notices.
  const fh = await open(join(dir, segs[1]!), 'r+');
  const b = Buffer.alloc(1);
  await fh.read(b, 0, 1, 25);
  b[0] = b[0]! ^ 0xff;
  await fh.write(b, 0, 1, 25);
  await fh.close();
  s = await DiskSpool.open(dir, { maxBytes: 1 << 20, segmentBytes: 4096 });
  opened.push(s);
  assert.equal(s.stats.errors.bad_header, 1);
  const ids: number[] = [];
  for (;;) { const batch = await s.read(100); if (!batch) break; ids.push(...batch.payloads.map(idOf)); s.ack(batch.id); }
  assert.deepEqual(ids, Array.from({ length: 300 }, (_, i) => i).filter((i) => i < victimBase || i >= nextBase));
  assert.equal(s.unacked, 0);
  assert.ok((await readdir(dir)).includes(segs[1] + '.corrupt'));
});

test('a segment damaged after open is skipped during replay, counted, and its records acknowledged as skipped', async (t) => {
  const opened: DiskSpool[] = [];
  const dir = await spoolDir(t, opened);
  const s = await DiskSpool.open(dir, { maxBytes: 1 << 20, segmentBytes: 4096 });
  opened.push(s);
  for (let i = 0; i < 300; i += 10) await s.append(Array.from({ length: 10 }, (_, k) => rec(i + k)));
  const segs = (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort();
  assert.ok(segs.length >= 4, `${segs.length} segments`);
  const victimBase = Number(segs[1]!.slice(0, 20));
  const nextBase = Number(segs[2]!.slice(0, 20));
  // Scribble over a frame in the middle of a sealed segment (bit rot after the write).
  const fh = await open(join(dir, segs[1]!), 'r+');
  const damageAt = HEADER_BYTES + 3 * (FRAME_HEADER_BYTES + rec(0).length + 2);
  await fh.write(Buffer.from('XXXXXXXXXXXX'), 0, 12, damageAt);
  await fh.close();

  const ids: number[] = [];
  const batches: number[] = [];
  for (;;) { const batch = await s.read(7); if (!batch) break; ids.push(...batch.payloads.map(idOf)); batches.push(batch.id); }
  assert.equal(s.stats.errors.crc, 1, 'one damaged segment counted');
  // Everything before the damage in the victim is replayed, nothing after it in that segment, all later segments are.
  const before = ids.filter((i) => i >= victimBase && i < nextBase);
  assert.ok(before.length >= 2 && before.length <= 4, `records of the victim before the damage: ${before.length}`);
  assert.deepEqual(before, Array.from({ length: before.length }, (_, k) => victimBase + k));
  assert.deepEqual(ids.filter((i) => i < victimBase || i >= nextBase), Array.from({ length: 300 }, (_, i) => i).filter((i) => i < victimBase || i >= nextBase));
  // The skipped records were never handed out; acking every batch handed out must still clear the spool.
  assert.ok(s.unacked > 0);
  for (const id of batches) s.ack(id);
  assert.equal(s.unacked, 0, 'the skipped records do not hold the ack position back');
  assert.equal(s.ackedSeq, 300);
});

test('damage in the last segment, with nothing read after it: acking what was handed out still clears the spool', async (t) => {
  const opened: DiskSpool[] = [];
  const dir = await spoolDir(t, opened);
  const s = await DiskSpool.open(dir, { maxBytes: 1 << 20, segmentBytes: 1 << 16 });
  opened.push(s);
  for (let i = 0; i < 50; i += 10) await s.append(Array.from({ length: 10 }, (_, k) => rec(i + k)));
  const segs = (await readdir(dir)).filter((n) => n.endsWith('.seg'));
  assert.equal(segs.length, 1, 'one (active) segment');
  const fh = await open(join(dir, segs[0]!), 'r+');
  const frame = FRAME_HEADER_BYTES + rec(0).length;
  await fh.write(Buffer.from('XXXX'), 0, 4, HEADER_BYTES + 20 * frame + 10); // inside record 20
  await fh.close();
  const ids: number[] = [];
  const batches: number[] = [];
  for (;;) { const batch = await s.read(8); if (!batch) break; ids.push(...batch.payloads.map(idOf)); batches.push(batch.id); }
  assert.deepEqual(ids, Array.from({ length: 20 }, (_, i) => i));
  assert.equal(s.stats.errors.crc, 1);
  for (const id of batches) s.ack(id);
  assert.equal(s.unacked, 0, 'records 20..49 were skipped and count as acknowledged');
  assert.equal(s.ackedSeq, 50);
  // New records after the skip are read and acked normally.
  await s.append([rec(50), rec(51)]);
  const next = (await s.read(10))!;
  assert.deepEqual(next.payloads.map(idOf), [50, 51]);
  s.ack(next.id);
  assert.equal(s.unacked, 0);
});
