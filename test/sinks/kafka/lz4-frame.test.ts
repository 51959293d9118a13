// lz4 batches through the system's liblz4: a consumer must get back exactly
// the records section, in the frame format Kafka reads (LZ4 frame, 64 KiB
// independent blocks), for empty, one-block and many-block sections and after
// the native scratch grew; a host without liblz4 must still compress (in
// WebAssembly), never fail a batch. The broker's acceptance is covered by the
// engine tests against a real Kafka (lz4 is the bench and e2e default).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { openLz4Frame } from '../../../agent/sinks/kafka/compress/lz4-frame.ts';
import { createBatchCompressor } from '../../../agent/sinks/kafka/compress/index.ts';
import { ValuePool } from '../../../agent/encoders/otlp/value-pool.ts';

const wasm = createRequire(import.meta.url)('@platformatic/wasm-utils') as { lz4Decompress(b: Buffer): Uint8Array };

/** Text-like bytes that compress, with a seeded pattern so a failure reproduces. */
function section(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = (x >>> 24) % 8 === 0 ? 0x20 + ((x >>> 8) % 90) : 0x61 + (i % 23);
  }
  return b;
}

const { lz4, error } = openLz4Frame();

test('liblz4 frames decode to the input: empty, one block, many blocks, after the scratch grew and shrank back', { skip: lz4 ? false : `liblz4 not usable here: ${error}` }, () => {
  try {
    for (const [n, seed] of [[0, 1], [1, 2], [1000, 3], [65_536, 4], [65_537, 5], [1_300_000, 6], [200, 7], [4_200_000, 8]] as const) {
      const input = section(n, seed);
      const frame = lz4!.compress(input);
      assert.ok(Buffer.from(wasm.lz4Decompress(frame)).equals(input), `${n} bytes round trip`);
      // Frame header: magic, FLG (version 01, independent blocks, no checksums), BD (64 KiB blocks).
      assert.equal(frame.readUInt32LE(0), 0x184d2204, 'LZ4 frame magic');
      assert.equal(frame[4]! & 0xc0, 0x40, 'frame version 01');
      assert.equal(frame[4]! & 0x20, 0x20, 'independent blocks (what Kafka reads)');
      assert.equal(frame[4]! & 0x14, 0, 'no block or content checksum');
      assert.equal(frame[5], 0x40, '64 KiB maximum block size');
      if (n >= 100_000) assert.ok(frame.length < n * 0.8, `${n} bytes compressed to ${frame.length}`);
    }
  } finally {
    lz4!.close();
  }
  assert.throws(() => lz4!.compress(Buffer.from('after close')), /closed/);
});

test('an unloadable liblz4 is a reason, not a crash', () => {
  const r = openLz4Frame('/nonexistent/liblz4.so.1');
  assert.equal(r.lz4, undefined);
  assert.match(r.error!, /not loadable|ffi-rs/);
});

test('the batch compressor: lz4 output decodes whichever backend this host has, and without liblz4 too', async () => {
  const input = section(300_000, 9);
  const c = createBatchCompressor();
  assert.ok(Buffer.from(wasm.lz4Decompress(await c.compress('lz4', input))).equals(input));
  await c.close();
  const saved = process.env.EDGELOG_LZ4_LIB;
  process.env.EDGELOG_LZ4_LIB = '/nonexistent/liblz4.so.1';
  try {
    const fallback = createBatchCompressor();
    assert.ok(Buffer.from(wasm.lz4Decompress(await fallback.compress('lz4', input))).equals(input), 'WebAssembly fallback');
    await fallback.close();
  } finally {
    if (saved === undefined) delete process.env.EDGELOG_LZ4_LIB; else process.env.EDGELOG_LZ4_LIB = saved;
  }
});

test('compressed frames are reused only after release: an unreleased frame keeps its bytes', { skip: lz4 ? false : `liblz4 not usable here: ${error}` }, async () => {
  const c = createBatchCompressor();
  try {
    const a = section(200_000, 10);
    const b = section(200_000, 11);
    const fa = await c.compress('lz4', a);
    const copyA = Buffer.from(fa);
    const fb = await c.compress('lz4', b);
    assert.notEqual(fb.buffer, fa.buffer, 'a frame still out is not handed out again');
    assert.ok(fa.equals(copyA), 'the unreleased frame is unchanged');
    c.release(fa);
    c.release(fa); // twice: ignored, never handed out to two batches
    const fc = await c.compress('lz4', section(200_000, 12));
    const fd = await c.compress('lz4', section(200_000, 13));
    assert.equal(fc.buffer, fa.buffer, 'the released frame memory holds the next batch');
    assert.notEqual(fd.buffer, fa.buffer, 'released once, reused once');
    assert.ok(Buffer.from(wasm.lz4Decompress(fb)).equals(b));
    c.release(Buffer.from('not ours')); // ignored
  } finally {
    await c.close();
  }
});

test('with a pool: frames whose bound fits a slab are written in place, larger ones go through the scratch; sections at an offset read right', { skip: lz4 ? false : `liblz4 not usable here: ${error}` }, () => {
  const { lz4: z } = openLz4Frame();
  const pool = new ValuePool({ slabBytes: 256 * 1024, minBytes: 1024, maxOut: 64, maxFree: 0 });
  const whole = section(1_000_000, 14);
  try {
    // [size, compressed in a slab]. 0 and 500 bytes are written in place too, into small buffers (under minBytes). 262,000 bytes: bound 262,000 + 19 header + 4 end mark + 4 per block (4 blocks) = 262,039 <= 262,144: in place.
    for (const [n, inSlab] of [[0, false], [500, false], [100_000, true], [262_000, true], [262_200, false], [700_000, false]] as const) {
      const input = whole.subarray(13, 13 + n);
      const before = pool.stats.out;
      const frame = z!.compress(input, pool);
      assert.ok(Buffer.from(wasm.lz4Decompress(frame)).equals(input), `${n} bytes at offset 13 round trip`);
      assert.ok(frame.length < pool.slabBytes || !inSlab);
      if (inSlab) {
        assert.equal(pool.stats.out, before + 1, `${n} bytes: one slab taken`);
        assert.equal(frame.byteOffset, 0, 'at the start of its slab (so the pool takes it back)');
        assert.equal(frame.buffer.byteLength, pool.slabBytes, `${n} bytes: compressed in a slab`);
      } else if (n >= pool.minBytes && n < pool.slabBytes) {
        assert.equal(pool.stats.out, before + 1, `${n} bytes: the bound passed the slab, the frame itself fits one`);
      }
      pool.give(frame);
    }
    assert.equal(pool.stats.out, 0, 'every slab given back');
  } finally {
    z!.close();
  }
});

test('the batch compressor after trim(): released frames are not reused, frames still out stay intact, larger sections still compress', { skip: lz4 ? false : `liblz4 not usable here: ${error}` }, async () => {
  const c = createBatchCompressor();
  try {
    const fa = await c.compress('lz4', section(200_000, 15));
    const b = section(200_000, 16);
    const fb = await c.compress('lz4', b);
    const copyB = Buffer.from(fb);
    c.release(fa);
    c.trim();
    const fc = await c.compress('lz4', section(200_000, 17));
    assert.notEqual(fc.buffer, fa.buffer, 'the free frame was dropped, not reused');
    assert.ok(fb.equals(copyB), 'a frame out during the trim is untouched');
    c.release(fb);
    const fd = await c.compress('lz4', section(200_000, 18));
    assert.equal(fd.buffer, fb.buffer, 'a frame released after the trim is reused as before');
    const big = section(1_300_000, 19); // its bound passes the 1 MiB slab: through the native scratch, freed by the trim
    assert.ok(Buffer.from(wasm.lz4Decompress(await c.compress('lz4', big))).equals(big));
    c.trim();
    assert.ok(Buffer.from(wasm.lz4Decompress(await c.compress('lz4', big))).equals(big), 'the scratch comes back after a trim');
  } finally {
    await c.close();
  }
});
