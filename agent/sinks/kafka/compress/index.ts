// Record-batch compression for the builtin Kafka engine (engines/builtin/):
// the bytes of a batch's records section in, the compressed bytes Kafka's
// record batch v2 carries out (gzip: a gzip member; snappy: raw snappy;
// lz4: one LZ4 frame; zstd: one zstd frame).
//
// One contract, so the implementation behind it can move (inline, on a worker
// thread) without the engine changing. It compresses inline: gzip and zstd
// with Node's zlib on the libuv thread pool; lz4 with the system's liblz4
// (lz4-frame.ts, 1.7-1.85x the WebAssembly speed) and, where that cannot load,
// like snappy, with @platformatic/wasm-utils (WebAssembly); each loaded on
// first use, on the calling thread.

import { createRequire } from 'node:module';
import { zlib } from '../../../core/zlib-lazy.ts';
import type { Compression } from '../codecs.ts';
import { openLz4Frame, type Lz4Frame } from './lz4-frame.ts';
import { ValuePool } from '../../../encoders/otlp/value-pool.ts';


const require = createRequire(import.meta.url);

export interface BatchCompressor {
  /**
   * `input` compressed for codec `c` in the format Kafka's record batch v2
   * carries. The caller does not touch `input` until the promise settles.
   * Codec `none` resolves to `input` itself.
   */
  compress(c: Compression, input: Buffer): Promise<Buffer>;
  /**
   * Nothing reads `out` (a compress() result) any more: the request that
   * carried it was answered or its connection destroyed. Its memory may hold
   * the next batch. Buffers this compressor did not hand out are ignored.
   */
  release(out: Buffer): void;
  /** Forgets the free frames and native scratch (the agent went quiet); frames out come back as usual. */
  trim(): void;
  /** Releases what the compressor holds (threads, memory); compress() after close() rejects. */
  close(): Promise<void>;
}

interface WasmCodecs { lz4Compress(b: Buffer): Buffer; snappyCompress(b: Buffer): Buffer }
let wasm: WasmCodecs | undefined;
const wasmCodecs = (): WasmCodecs => (wasm ??= require('@platformatic/wasm-utils') as WasmCodecs);

// node:zlib on first use (core/zlib-lazy.ts).
const gzip = (b: Buffer): Promise<Buffer> => zlib().gzip(b);
const zstd = (b: Buffer): Promise<Buffer> => zlib().zstdCompress(b);

export function createBatchCompressor(): BatchCompressor {
  let closed = false;
  // undefined: not tried yet; null: not available here (WebAssembly instead).
  let native: Lz4Frame | null | undefined;
  // Frames live from compression to the broker's answer, a few round trips:
  // long enough to be promoted, and as fresh ArrayBuffers (~180 KB per
  // json-200b message) they were the largest external garbage left, each
  // 20-30 MB of it bringing on a mark-compact (--trace-gc: 36 in 3M lines).
  // 1 MiB slabs: the bound of a section up to the default max_message_bytes
  // (1,000,000) fits, so liblz4 writes the frame in place. With the
  // launchers' 64 KiB mmap threshold each slab is its own mapping, and only
  // the pages frames fill (~190 KB of json-200b) become resident.
  const frames = new ValuePool({ slabBytes: 1024 * 1024, minBytes: 16 * 1024, maxOut: 16, maxFree: 16 });
  const lz4 = (input: Buffer): Buffer => {
    if (native === undefined) native = openLz4Frame().lz4 ?? null;
    if (native !== null) {
      try {
        return native.compress(input, frames);
      } catch {
        // Never a lost batch over the faster path: WebAssembly from now on.
        native.close();
        native = null;
      }
    }
    return wasmCodecs().lz4Compress(input);
  };
  return {
    async compress(c, input) {
      if (closed) throw new Error('batch compressor closed');
      switch (c) {
        case 'none': return input;
        case 'gzip': return gzip(input);
        case 'zstd': return zstd(input);
        case 'lz4': return lz4(input);
        case 'snappy': return wasmCodecs().snappyCompress(input);
      }
    },
    release(out) { frames.give(out); },
    trim() {
      frames.trim();
      native?.trim();
    },
    async close() {
      closed = true;
      native?.close();
      native = null;
    },
  };
}
