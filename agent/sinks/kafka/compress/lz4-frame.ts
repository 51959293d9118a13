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
// The section is copied into native scratch memory, compressed into a
// second one and the frame copied out; both scratches grow to the largest
// section seen (a batch is at most the destination's message limit) and
// live until close(). Not loadable (no ffi-rs binary, no liblz4): the
// caller keeps using WebAssembly and says why once.

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

export interface Lz4Frame {
  /** `input` as one LZ4 frame, in a Buffer from `alloc` (default: a new one). */
  compress(input: Buffer, alloc?: (size: number) => Buffer): Buffer;
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
    LZ4F_compressFrame: { library: LIB, retType: D.U64, paramsType: [D.External, D.U64, D.External, D.U64, D.External] },
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
  let src: Scratch | null = null;
  let dst: Scratch | null = null;
  let closed = false;

  const lz4: Lz4Frame = {
    compress(input, take = Buffer.allocUnsafe) {
      if (closed) throw new Error('lz4: closed');
      const n = input.length;
      if (src === null || src.size < n) { release(src); src = null; src = alloc(Math.max(n, 64 * 1024)); }
      const bound = Number(fn.LZ4F_compressFrameBound([n, prefs.ptr]));
      if (dst === null || dst.size < bound) { release(dst); dst = null; dst = alloc(bound); }
      src.buf.set(input);
      // size_t: a frame size, or an error code near 2^64 (beyond any bound).
      const r = Number(fn.LZ4F_compressFrame([dst.ptr, dst.size, src.ptr, n, prefs.ptr]));
      if (!(r > 0 && r <= dst.size)) throw new Error(`lz4: LZ4F_compressFrame failed (${r})`);
      const out = take(r);
      dst.buf.copy(out, 0, 0, r);
      return out;
    },
    close() {
      if (closed) return;
      closed = true;
      release(src);
      release(dst);
      release(prefs);
      src = dst = null;
    },
  };
  return { lz4 };
}
