// The builtin engine's batch compressor: the same bytes whether a section is
// compressed inline or on the worker thread, frames that decompress back to
// the input (LZ4 frames read by kafkajs's lz4 codec, lz4-napi), the CRC
// continued from the header's seed, large inputs handed to the worker without
// a copy, the worker started only for large sections and stopped when idle,
// and compress() refused after close().

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';
import { createBatchCompressor } from '../../../agent/sinks/kafka/compress/index.ts';
import { crc32c } from '../../../agent/sinks/kafka/engines/builtin/crc32c.ts';

const require = createRequire(import.meta.url);
const lz4 = require('lz4-napi') as typeof import('lz4-napi');
const wasm = require('@platformatic/wasm-utils') as { snappyDecompress(b: Buffer): Buffer };

/** `n` bytes of log-like lines (compressible, not trivially). */
function section(n: number, salt: number): Buffer {
  const parts: string[] = [];
  let len = 0;
  for (let i = 0; len < n; i++) {
    const s = `{"ts":"2026-12-05T09:00:${String(i % 60).padStart(2, '0')}Z","level":"info","seq":${i * 7919 + salt},"path":"/api/v1/items/${(i * 31) % 997}"}\n`;
    parts.push(s);
    len += s.length;
  }
  return Buffer.from(parts.join('')).subarray(0, n);
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) { if (cond()) return true; await new Promise((r) => setTimeout(r, 20)); }
  return cond();
}

test('lz4 and snappy: inline (small) and worker (large) give the same frames, which decompress to the input, with the CRC continued from the seed', async (t) => {
  const inline = createBatchCompressor({ workerMinBytes: Number.MAX_SAFE_INTEGER });
  const threaded = createBatchCompressor({ workerMinBytes: 1 });
  t.after(async () => { await inline.close(); await threaded.close(); });
  for (const n of [1, 300, 70_000, 1_500_000]) {
    const input = section(n, n);
    const seed = crc32c(Buffer.from(`seed ${n}`));
    for (const codec of ['lz4', 'snappy'] as const) {
      const a = await inline.compress(codec, Buffer.from(input), seed);
      const b = await threaded.compress(codec, Buffer.from(input), seed);
      assert.ok(a.body.equals(b.body), `${codec} ${n}: inline and worker frames differ`);
      assert.equal(b.crc, crc32c(b.body, 0, b.body.length, seed), `${codec} ${n}: CRC`);
      assert.equal(a.crc, b.crc);
      const back = codec === 'lz4' ? lz4.decompressFrameSync(b.body) : wasm.snappyDecompress(b.body);
      assert.ok(back.equals(input), `${codec} ${n}: round trip`);
    }
    assert.ok(threaded.workerRunning, 'the large sections ran on the worker');
    assert.ok(!inline.workerRunning, 'nothing below the threshold starts the worker');
  }
});

test('gzip, zstd and none run off the worker; the CRC covers the body', async (t) => {
  const c = createBatchCompressor({ workerMinBytes: 1 });
  t.after(() => c.close());
  const input = section(200_000, 3);
  const g = await c.compress('gzip', Buffer.from(input), 7);
  assert.ok(gunzipSync(g.body).equals(input));
  assert.equal(g.crc, crc32c(g.body, 0, g.body.length, 7));
  const none = await c.compress('none', Buffer.from(input), 7);
  assert.ok(none.body.equals(input));
  assert.equal(none.crc, crc32c(input, 0, input.length, 7));
  assert.ok(!c.workerRunning);
});

test('a large section is handed to the worker without a copy; the worker stops when idle and starts again on demand', async (t) => {
  const c = createBatchCompressor({ workerMinBytes: 64 * 1024, workerIdleMs: 200 });
  t.after(() => c.close());
  const input = Buffer.allocUnsafe(256 * 1024);
  section(input.length, 1).copy(input);
  const want = section(input.length, 1);
  const out = await c.compress('lz4', input, 0);
  assert.equal(input.buffer.byteLength, 0, 'the caller\'s ArrayBuffer was transferred (detached), not copied');
  assert.ok(lz4.decompressFrameSync(out.body).equals(want));
  assert.ok(c.workerRunning);
  assert.ok(await waitFor(() => !c.workerRunning, 10_000), 'the worker stopped after its idle time');
  // A view into a larger buffer is copied (the rest of that memory is not the compressor's to take).
  const big = Buffer.concat([want, want]);
  const view = big.subarray(want.length);
  const again = await c.compress('lz4', view, 0);
  assert.equal(big.buffer.byteLength, big.length, 'a view\'s memory stays with its owner');
  assert.ok(lz4.decompressFrameSync(again.body).equals(want));
  assert.ok(c.workerRunning, 'started again on demand');
});

test('compress() after close() rejects; close() stops the worker', async () => {
  const c = createBatchCompressor({ workerMinBytes: 1 });
  await c.compress('lz4', section(1000, 2), 0);
  assert.ok(c.workerRunning);
  await c.close();
  assert.ok(!c.workerRunning);
  await assert.rejects(c.compress('lz4', section(1000, 2), 0), /closed/);
});
