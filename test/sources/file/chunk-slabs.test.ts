// Chunk copies in reused slabs: a user relies on a line's bytes never
// changing before the line is acknowledged, and on memory being reused (not
// grown) while the input keeps flowing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChunkSlabs } from '../../../agent/sources/file/chunk-slabs.ts';
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
  assert.ok(e.every((v) => v === 0x7a), 'the unreleased chunk is untouched');
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
