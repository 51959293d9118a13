// Record-batch compression for the builtin Kafka engine (engines/builtin/):
// the bytes of a batch's records section in, the compressed bytes Kafka's
// record batch v2 carries out (gzip: a gzip member; snappy: raw snappy;
// lz4: one LZ4 frame; zstd: one zstd frame).
//
// One contract, so the implementation behind it can move (inline, on a worker
// thread) without the engine changing. This first version compresses inline:
// gzip and zstd with Node's zlib on the libuv thread pool, lz4 and snappy with
// @platformatic/wasm-utils (WebAssembly, on the calling thread), loaded on first use.

import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import type { Compression } from '../codecs.ts';

const require = createRequire(import.meta.url);

export interface BatchCompressor {
  /**
   * `input` compressed for codec `c` in the format Kafka's record batch v2
   * carries. The caller does not touch `input` until the promise settles.
   * Codec `none` resolves to `input` itself.
   */
  compress(c: Compression, input: Buffer): Promise<Buffer>;
  /** Releases what the compressor holds (threads, memory); compress() after close() rejects. */
  close(): Promise<void>;
}

interface WasmCodecs { lz4Compress(b: Buffer): Buffer; snappyCompress(b: Buffer): Buffer }
let wasm: WasmCodecs | undefined;
const wasmCodecs = (): WasmCodecs => (wasm ??= require('@platformatic/wasm-utils') as WasmCodecs);

const gzip = promisify(zlib.gzip);
const zstd = promisify((zlib as unknown as { zstdCompress: typeof zlib.gzip }).zstdCompress);

export function createBatchCompressor(): BatchCompressor {
  let closed = false;
  return {
    async compress(c, input) {
      if (closed) throw new Error('batch compressor closed');
      switch (c) {
        case 'none': return input;
        case 'gzip': return gzip(input);
        case 'zstd': return zstd(input);
        case 'lz4': return wasmCodecs().lz4Compress(input);
        case 'snappy': return wasmCodecs().snappyCompress(input);
      }
    },
    async close() { closed = true; },
  };
}
