// Chunk copies in reused slabs: a user relies on a line's bytes never
// changing before the line is acknowledged, and on memory being reused (not
// grown) while the input keeps flowing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ChunkSlab, ChunkSlabs } from '../../../agent/sources/file/chunk-slabs.ts';
import { Collector, makeCtx, makeSource, tempDir, testConfig, waitFor } from './helpers.ts';

test('a slab region is written again only after its lease is released', () => {
  const slabs = new ChunkSlabs(4096);
  // Four 1000-byte chunks fill the first slab (8-aligned regions), the fifth opens a second one.
  const first = [0, 1, 2, 3].map((k) => { const b = slabs.take(1000); b.fill(0x61 + k); return { b, lease: slabs.lease()! }; });
  assert.ok(first.every((x) => x.lease === first[0]!.lease), 'four chunks in the first slab');
  const e = slabs.take(1000); e.fill(0x7a);
  const le = slabs.lease()!;
  assert.notEqual(le, first[0]!.lease, 'the fifth chunk in a new slab');
  assert.ok(first.every((x, k) => x.b.every((v) => v === 0x61 + k)), 'earlier chunks keep their bytes');
  for (const x of first.slice(0, 3)) slabs.release(x.lease);
  assert.equal(slabs.stats.free, 0, 'one region still out: not reusable');
  slabs.release(first[3]!.lease);
  assert.equal(slabs.stats.free, 1, 'every region released: kept for reuse');
  // Filling the second slab moves on to the released one, whose memory is written again.
  for (let k = 0; k < 3; k++) { slabs.take(1000); slabs.lease(); }
  const f = slabs.take(1000);
  slabs.lease();
  assert.equal(f.buffer, first[0]!.b.buffer, 'the released slab is reused');
  assert.equal(f.length, 1000);
  assert.equal(first[0]!.b.byteOffset, 0, 'a new slab is filled from its start');
  assert.equal(f.byteOffset, 0, 'a reused slab is filled from its start');
  assert.ok(e.every((v) => v === 0x7a), 'the unreleased chunk is untouched');
});

test('a slab left with one region still out is not reused until that region is released', () => {
  const slabs = new ChunkSlabs(4096);
  const a = [0, 1, 2, 3].map(() => { const b = slabs.take(1000); return { b, lease: slabs.lease()! }; });
  for (const x of a.slice(0, 3)) slabs.release(x.lease);
  a[3]!.b.fill(0x44); // the last chunk of slab A, still in flight
  // Fill slab B and move past it: a new slab, not A, whose one region is still out.
  for (let k = 0; k < 5; k++) {
    const b = slabs.take(1000);
    slabs.lease();
    assert.notEqual(b.buffer, a[0]!.b.buffer, `take ${k}: slab A is not handed out while a region of it is out`);
    b.fill(0x55);
  }
  assert.ok(a[3]!.b.every((v) => v === 0x44), 'the in-flight chunk keeps its bytes');
  slabs.release(a[3]!.lease);
  assert.equal(slabs.stats.free, 1, 'A is free once its last region is back');
});

test('a lease belongs to one chunk: a second lease without a take is null', () => {
  const slabs = new ChunkSlabs(4096);
  slabs.take(100);
  assert.notEqual(slabs.lease(), null);
  assert.equal(slabs.lease(), null, 'leasing twice would release the region twice and free the slab early');
});

test('at most 16 free slabs are kept (every slab of an 8 MiB buffer in flight); the rest are left to the GC', () => {
  const slabs = new ChunkSlabs(4096);
  const leases = [];
  for (let k = 0; k < 4 * 21; k++) { slabs.take(1000); leases.push(slabs.lease()!); }
  assert.equal(new Set(leases).size, 21);
  for (const l of leases) slabs.release(l);
  assert.equal(slabs.stats.free, 16, 'twenty slabs done (the twenty-first is being filled), sixteen kept');
});

test('copies over a quarter slab bypass the slabs and lease nothing', () => {
  const slabs = new ChunkSlabs(4096);
  const big = slabs.take(2000);
  assert.equal(big.length, 2000);
  assert.equal(slabs.lease(), null);
});

test('file source: held (unacknowledged) lines keep their bytes while 5 MiB more is read; acknowledged memory is reused', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'big.log');
  const lines = Array.from({ length: 60_000 }, (_, i) => `line ${String(i).padStart(7, '0')} ${'x'.repeat(80)}`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  const src = makeSource(testConfig({ include: [path] }), makeCtx(dir), t);
  const c = new Collector('hold');
  await src.start(c);
  await waitFor(() => c.held.length >= lines.length, `${lines.length} records held`);
  // The originals (not the collector's copies): nothing was acknowledged, so no slab was reused.
  for (let i = 0; i < lines.length; i++) {
    if (c.held[i]!.body.toString() !== lines[i]) assert.fail(`held line ${i} changed before its acknowledgement`);
  }
  assert.equal(src.slabs.stats.free, 0);
  c.ackWhere(() => true);
  await waitFor(() => src.slabs.stats.free > 0, 'acknowledged slabs back for reuse');
});

test('trim(): the free slabs and an unused current slab are forgotten; a slab with a region out is kept until released', () => {
  const slabs = new ChunkSlabs(4096);
  slabs.take(1000);
  const first = slabs.lease()!;
  for (let k = 0; k < 4; k++) slabs.take(1000); // fills the first slab and starts a second
  const second = slabs.lease()!;
  assert.notEqual(first, second);
  slabs.release(first);
  assert.equal(slabs.stats.free, 0, 'the first slab has regions out');
  slabs.trim();
  const next = slabs.take(1000);
  assert.equal(next.buffer, second.buf.buffer, 'the current slab has a region out: kept and filled on');
  slabs.release(second);
  slabs.release(slabs.lease()!);
  slabs.trim();
  slabs.take(1000);
  const fresh = slabs.lease()!;
  assert.notEqual(fresh, second, 'an unused current slab is dropped by trim()');
  assert.equal(fresh.pos, 1000 + 7 & ~7);

  // Free slabs: kept for reuse until a trim, then left to the GC.
  const pool = new ChunkSlabs(4096);
  const done: ChunkSlab[] = [];
  for (let k = 0; k < 3 * 4; k++) { pool.take(1000); done.push(pool.lease()!); }
  for (const l of done) pool.release(l);
  assert.equal(pool.stats.free, 2, 'two finished slabs kept (the third is being filled)');
  pool.trim();
  assert.equal(pool.stats.free, 0, 'trim() forgets them');
  for (let k = 0; k < 8; k++) { pool.take(1000); assert.ok(!done.includes(pool.lease()!), 'no trimmed slab is handed out again'); }
});
