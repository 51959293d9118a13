// Node's zlib, loaded on first use and promisified once, for every module that
// compresses or checksums (Kafka batches, kafkajs codecs, forward frames, the
// spool's crc32). The modules importing this one load in every agent; an
// agent that never gzips, zstds or spools does not pay for node:zlib (~1.9 MB
// RSS in isolation). promisify comes through process.getBuiltinModule, not
// `import { promisify } from 'node:util'`: an ESM import of a builtin reads
// every export, and util's lazy ones load worker_threads, parseArgs and more.

import type * as Util from 'node:util';
import type * as Zlib from 'node:zlib';

type Async<O> = (b: Buffer, o?: O) => Promise<Buffer>;

export interface ZlibAsync {
  gzip: Async<Zlib.ZlibOptions>;
  gunzip: Async<Zlib.ZlibOptions>;
  zstdCompress: Async<Zlib.ZstdOptions>;
  zstdDecompress: Async<Zlib.ZstdOptions>;
  crc32: typeof Zlib.crc32;
  constants: typeof Zlib.constants;
}

let loaded: ZlibAsync | undefined;

/** node:zlib's functions used here, promisified (loads node:zlib on the first call). */
export function zlib(): ZlibAsync {
  if (loaded) return loaded;
  const z = process.getBuiltinModule('node:zlib') as typeof Zlib;
  const { promisify } = process.getBuiltinModule('node:util') as typeof Util;
  loaded = {
    gzip: promisify(z.gzip) as Async<Zlib.ZlibOptions>,
    gunzip: promisify(z.gunzip) as Async<Zlib.ZlibOptions>,
    zstdCompress: promisify(z.zstdCompress) as Async<Zlib.ZstdOptions>,
    zstdDecompress: promisify(z.zstdDecompress) as Async<Zlib.ZstdOptions>,
    crc32: z.crc32,
    constants: z.constants,
  };
  return loaded;
}
