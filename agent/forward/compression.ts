// Payload compression for BATCH frames. gzip and zstd come from node:zlib
// (run on libuv's thread pool, off the event loop); lz4 is the LZ4 block
// format with a 4-byte little-endian uncompressed-size prefix (lz4-napi's
// compress/uncompressSync; the same layout as python-lz4's block.compress with
// store_size=True). Decompression is bounded by the declared raw length so a
// small frame cannot expand into gigabytes.

import { zlib } from '../core/zlib-lazy.ts';
import { createRequire } from 'node:module';
import { Compression, compressionNames, type CompressionName } from './constants.ts';


// lz4-napi (a native addon, +7 MB RSS when loaded) is required on the first lz4
// frame, not at import: the registry imports this module in every agent, and
// one that neither forwards nor relays with lz4 never needs it.
type Lz4 = typeof import('lz4-napi');
let lz4Lib: Lz4 | undefined;
const lz4 = (): Lz4 => (lz4Lib ??= createRequire(import.meta.url)('lz4-napi') as Lz4);

// node:zlib likewise, on the first gzip or zstd frame (core/zlib-lazy.ts).

/** Compression ids this build can produce and read, in order of preference. */
export const supportedCompressions: number[] = [Compression.ZSTD, Compression.LZ4, Compression.GZIP, Compression.NONE];

export interface CompressOptions {
  /** gzip 1-9, zstd 1-22; undefined = the library default (gzip 6, zstd 3). */
  level?: number;
}

export async function compress(id: number, raw: Buffer, opts: CompressOptions = {}): Promise<Buffer> {
  switch (id) {
    case Compression.NONE: return raw;
    // Level 6 is zlib's default; level 1 costs ~1/3 of the CPU for a few % of ratio on log text.
    case Compression.GZIP: return zlib().gzip(raw, { level: opts.level ?? 6 });
    case Compression.ZSTD: return zlib().zstdCompress(raw, opts.level === undefined ? {} : { params: { [zlib().constants.ZSTD_c_compressionLevel]: opts.level } });
    case Compression.LZ4: return lz4().compress(raw);
  }
  throw new Error(`unknown compression id ${id}`);
}

export class DecompressError extends Error {
  readonly tooLarge: boolean;
  constructor(message: string, tooLarge = false) { super(message); this.tooLarge = tooLarge; }
}

/**
 * Decompresses a payload that declared `rawLength` bytes. Rejects (DecompressError)
 * when the data is corrupt, when it expands beyond `rawLength`, or when the
 * result is not exactly `rawLength` bytes.
 */
export async function decompress(id: number, payload: Buffer, rawLength: number): Promise<Buffer> {
  let out: Buffer;
  try {
    switch (id) {
      case Compression.NONE: out = payload; break;
      case Compression.GZIP: out = await zlib().gunzip(payload, { maxOutputLength: Math.max(1, rawLength) }); break;
      case Compression.ZSTD: out = await zlib().zstdDecompress(payload, { maxOutputLength: Math.max(1, rawLength) }); break;
      case Compression.LZ4: {
        if (payload.length < 4) throw new DecompressError('lz4 payload shorter than its size prefix');
        const declared = payload.readUInt32LE(0);
        if (declared !== rawLength) throw new DecompressError(`lz4 size prefix ${declared} differs from the frame's raw length ${rawLength}`);
        // uncompressSync, not uncompress: lz4-napi 2.10's async uncompress (and decompressFrame)
        // never frees its output (+30 MiB RSS per 30 MiB batch, even after gc(); the bomb test
        // in test/relay/relay-bomb.test.ts drove a relay to ~1 GiB with it). The sync call's
        // Buffer is owned and counted by V8; lz4 decodes ~3 GB/s, so a 32 MiB batch holds the
        // event loop ~10 ms, once per admitted batch.
        out = lz4().uncompressSync(payload);
        break;
      }
      default: throw new DecompressError(`unknown compression id ${id}`);
    }
  } catch (err) {
    if (err instanceof DecompressError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE' || /maxOutputLength|buffer.*(large|big)/i.test(e.message)) {
      throw new DecompressError(`${compressionNames[id]} payload expands beyond its declared ${rawLength} bytes`);
    }
    throw new DecompressError(`${compressionNames[id] ?? id} payload does not decompress: ${e.message}`);
  }
  if (out.length !== rawLength) throw new DecompressError(`payload is ${out.length} bytes after decompression, frame declared ${rawLength}`);
  return out;
}

export function compressionId(name: CompressionName): number {
  return { none: Compression.NONE, gzip: Compression.GZIP, zstd: Compression.ZSTD, lz4: Compression.LZ4 }[name];
}
