// lz4 for Kafka record batches through the system's liblz4 (liblz4.so.1, a
// dependency of systemd on every Debian and Ubuntu host), called with ffi-rs:
// one LZ4 frame per records section, 64 KiB independent blocks, no
// checksums, the frame Kafka's own producer writes.
//
// Why: lz4 in WebAssembly was the largest single cost of the file -> Kafka
// path (37.5 % of the json-200b saturation profile). liblz4 compresses an
// otlp_proto message at 1.74x (json-200b, 1766 vs 1017 MB per CPU second)
// and 1.85x (loghub) the WebAssembly build's speed, copies in and out
// included (bench/stages/lz4-frame.ts, bench/results/lz4-frame.md), for
// frames 2-4 % larger; on the calling thread like before: the
// machine is CPU-bound, so a second thread only moved the cost (session 6:
// lz4-napi on the libuv pool, throughput within the spread, +130 MB RSS).
//
// The section goes to liblz4 as it is (ffi-rs passes a Buffer's own memory:
// a 900 KB section costs what a 16-byte one does). The frame is written
// straight into a pool buffer when the frame's bound fits the pool's slab,
// else into native scratch memory (grown to the largest such section, kept
// until close()) and copied out. On a json-200b message: 2280 MB per CPU
// second in place, 1940 with the frame copied out (bench/stages/lz4-frame.ts,
// bench/results/lz4-frame.md); with the section copied in as well (as
// until session 9) the same bench gave 1766. Not loadable (no ffi-rs
// binary, no liblz4): the caller keeps using WebAssembly and says why once.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
type Ffi = typeof import('ffi-rs');
type External = import('ffi-rs').JsExternal;

const LIBC = 'edgelog_lz4_libc';

// LZ4F_preferences_t (lz4frame.h, stable since 1.8): frameInfo { blockSizeID,
// blockMode, contentChecksumFlag, frameType (4 x int), contentSize (u64),
// dictID (u32), blockChecksumFlag (int) } = 32 bytes, then compressionLevel,
// autoFlush, favorDecSpeed, reserved[3] (6 x int) = 56 bytes.
const PREFS_BYTES = 56;
const BLOCK_64KB = 4;
const BLOCK_INDEPENDENT = 1;

/** Where frames go: ValuePool (agent/encoders/otlp/value-pool.ts) is one. */
export interface FramePool {
  /** Frames whose bound is at most this are compressed in place. */
  readonly slabBytes: number;
  /** A Buffer of exactly `size` bytes. */
  take(size: number): Buffer;
}

export interface Lz4Frame {
  /** `input` as one LZ4 frame, in a Buffer from `pool` (default: a new one). */
  compress(input: Buffer, pool?: FramePool): Buffer;
  /** Frees the native scratch (the next large frame allocates it again). */
  trim(): void;
  /** Frees the native memory; compress() after close() throws. */
  close(): void;
}

interface Scratch { ptr: External; buf: Buffer; size: number }

type Fns = Record<'LZ4F_compressFrameBound' | 'LZ4F_compressFrame' | 'LZ4_versionNumber' | 'malloc' | 'free', (args: unknown[]) => any>;
interface Loaded { ffi: Ffi; fn: Fns }
/** Each library path, loaded once per process (ffi-rs names opened libraries process-wide), or why not. */
const loaded = new Map<string, Loaded | string>();

function load(libPath: string): Loaded | string {
  let l = loaded.get(libPath);
  if (l === undefined) { l = open(libPath); loaded.set(libPath, l); }
  return l;
}

function open(libPath: string): Loaded | string {
  const LIB = `edgelog_lz4:${libPath}`;
  let ffi: Ffi;
  try {
    ffi = require('ffi-rs') as Ffi;
  } catch (err) {
    return `ffi-rs not loadable: ${(err as Error).message}`;
  }
  const D = ffi.DataType;
  try {
    ffi.open({ library: LIB, path: libPath });
    ffi.open({ library: LIBC, path: 'libc.so.6' });
  } catch (err) {
    return `${libPath} not loadable: ${(err as Error).message}`;
  }
  const fn = ffi.define({
    LZ4F_compressFrameBound: { library: LIB, retType: D.U64, paramsType: [D.U64, D.External] },
    // dst, src: U8Array is the Buffer's own memory (no copy; dst written in place).
    LZ4F_compressFrame: { library: LIB, retType: D.U64, paramsType: [D.U8Array, D.U64, D.U8Array, D.U64, D.External] },
    LZ4_versionNumber: { library: LIB, retType: D.I32, paramsType: [] },
    malloc: { library: LIBC, retType: D.External, paramsType: [D.U64] },
    free: { library: LIBC, retType: D.Void, paramsType: [D.External] },
  } as never) as unknown as Fns;
  // 1.8.0 is the first release with this preferences layout.
  const version = fn.LZ4_versionNumber([]) as number;
  if (version < 10800) return `${libPath} is lz4 ${version}, 1.8.0 or later needed`;
  return { ffi, fn };
}

/** A compressor over liblz4 (its own native scratch memory), or the reason it cannot be used here. */
export function openLz4Frame(libPath = process.env.EDGELOG_LZ4_LIB || 'liblz4.so.1'): { lz4?: Lz4Frame; error?: string } {
  const l = load(libPath);
  if (typeof l === 'string') return { error: l };
  const { ffi, fn } = l;
  const alloc = (size: number): Scratch => {
    const ptr = fn.malloc([size]) as External;
    if (ffi.isNullPointer(ptr)) throw new Error(`lz4: cannot allocate ${size} bytes`);
    return { ptr, buf: ffi.createExternalBuffer(ptr, size), size };
  };
  const release = (s: Scratch | null): void => { if (s) fn.free([s.ptr]); };

  const prefs = alloc(PREFS_BYTES);
  prefs.buf.fill(0);
  prefs.buf.writeInt32LE(BLOCK_64KB, 0);
  prefs.buf.writeInt32LE(BLOCK_INDEPENDENT, 4);
  let dst: Scratch | null = null;
  let closed = false;
  const unpooled: FramePool = { slabBytes: 0, take: Buffer.allocUnsafe };

  /** `input` compressed into `out` (at least the bound); the frame's size. */
  const frame = (out: Buffer, input: Buffer): number => {
    // size_t: a frame size, or an error code near 2^64 (beyond any bound).
    const r = Number(fn.LZ4F_compressFrame([out, out.length, input, input.length, prefs.ptr]));
    if (!(r > 0 && r <= out.length)) throw new Error(`lz4: LZ4F_compressFrame failed (${r})`);
    return r;
  };

  const lz4: Lz4Frame = {
    compress(input, pool = unpooled) {
      if (closed) throw new Error('lz4: closed');
      const bound = Number(fn.LZ4F_compressFrameBound([input.length, prefs.ptr]));
      if (bound <= pool.slabBytes) {
        const out = pool.take(bound);
        return out.subarray(0, frame(out, input));
      }
      if (dst === null || dst.size < bound) { release(dst); dst = null; dst = alloc(bound); }
      const r = frame(dst.buf, input);
      const out = pool.take(r);
      dst.buf.copy(out, 0, 0, r);
      return out;
    },
    trim() {
      release(dst);
      dst = null;
    },
    close() {
      if (closed) return;
      closed = true;
      release(dst);
      release(prefs);
      dst = null;
    },
  };
  return { lz4 };
}
