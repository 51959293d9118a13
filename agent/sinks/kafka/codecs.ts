// Compression codecs for kafkajs, which ships only gzip. Each codec is
// plugged into kafkajs's CompressionCodecs table; a codec whose native
// package does not load on this host is reported (config validation names
// the key and the reason) instead of failing at the first send.
//   snappy: `snappy` (napi-rs, prebuilt) in the xerial framing the Java
//           producer writes (every Kafka client reads it);
//   lz4:    `lz4-napi` (prebuilt), LZ4 frame format as Kafka's record batch v2 uses;
//   zstd:   Node's own zlib zstd (Node >= 22.15 / 23.8): no package, nothing to download.
// kafkajs and the codec packages are required on first use, not at import:
// config validation imports this module, and an agent on engine platformatic
// (its codecs are built in) never loads kafkajs, snappy or lz4-napi.

import { createRequire } from 'node:module';
import { zlib } from '../../core/zlib-lazy.ts';


export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
export const compressions: readonly Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** kafkajs's codec shape: compress receives its Encoder (bytes in `.buffer`). */
interface KafkajsCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

const require = createRequire(import.meta.url);

interface SnappyLib { compressSync(b: Buffer): Buffer; uncompressSync(b: Buffer, o?: { asBuffer: true }): Buffer | string; compress(b: Buffer): Promise<Buffer>; uncompress(b: Buffer, o?: { asBuffer: true }): Promise<Buffer | string> }
interface Lz4Lib { compressFrame(b: Buffer): Promise<Buffer>; decompressFrame(b: Buffer): Promise<Buffer> }

function tryLoad<T>(name: string): T | string {
  try {
    return require(name) as T;
  } catch (e) {
    return `package ${name} failed to load: ${(e as Error).message.split('\n')[0]}`;
  }
}

type KafkajsModule = typeof import('kafkajs');
let kafkajsLib: KafkajsModule | undefined;
const kafkajs = (): KafkajsModule => (kafkajsLib ??= require('kafkajs') as KafkajsModule);
let snappyCached: SnappyLib | string | undefined;
let lz4Cached: Lz4Lib | string | undefined;
const snappyLib = (): SnappyLib | string => (snappyCached ??= tryLoad<SnappyLib>('snappy'));
const lz4Lib = (): Lz4Lib | string => (lz4Cached ??= tryLoad<Lz4Lib>('lz4-napi'));

/** Whether a codec package is installed, without loading it (its native binding loads on first use). */
export function codecInstalled(name: 'snappy' | 'lz4-napi'): boolean {
  try { require.resolve(name); return true; } catch { return false; }
}
// zlib's zstd arrived in Node 22.15 / 23.8; the running version says whether it is there without loading zlib.
const zstdOk = ((): boolean => { const [ma, mi] = process.versions.node.split('.').map(Number) as [number, number]; return ma > 23 || (ma === 23 && mi >= 8) || (ma === 22 && mi >= 15); })();

/** true, or why the codec cannot be used here. */
export function codecAvailable(c: Compression): true | string {
  switch (c) {
    case 'none': case 'gzip': return true;
    case 'snappy': { const l = snappyLib(); return typeof l === 'string' ? l : true; }
    case 'lz4': { const l = lz4Lib(); return typeof l === 'string' ? l : true; }
    case 'zstd': return zstdOk ? true : `Node ${process.version} has no zlib zstd (needs >= 22.15)`;
  }
}

// --- snappy, xerial framing ---------------------------------------------------------
// Header: 0x82 "SNAPPY" 0x00, int32 version 1, int32 min-compatible version 1;
// then blocks of int32 big-endian length + raw snappy data. 32 KiB blocks, as
// the Java client's SnappyOutputStream uses.
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER = Buffer.concat([XERIAL_MAGIC, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])]);
const XERIAL_BLOCK = 32 * 1024;

function snappyCodec(lib: SnappyLib): KafkajsCodec {
  return {
    async compress({ buffer }) {
      const parts: Buffer[] = [XERIAL_HEADER];
      for (let off = 0; off < buffer.length; off += XERIAL_BLOCK) {
        const block = await lib.compress(buffer.subarray(off, Math.min(buffer.length, off + XERIAL_BLOCK)));
        const len = Buffer.allocUnsafe(4);
        len.writeUInt32BE(block.length, 0);
        parts.push(len, block);
      }
      return Buffer.concat(parts);
    },
    async decompress(buffer) {
      if (buffer.length < 16 || !buffer.subarray(0, 8).equals(XERIAL_MAGIC)) {
        return (await lib.uncompress(buffer, { asBuffer: true })) as Buffer; // raw snappy (some non-Java producers)
      }
      const parts: Buffer[] = [];
      for (let off = 16; off + 4 <= buffer.length;) {
        const len = buffer.readUInt32BE(off);
        off += 4;
        parts.push((await lib.uncompress(buffer.subarray(off, off + len), { asBuffer: true })) as Buffer);
        off += len;
      }
      return Buffer.concat(parts);
    },
  };
}

function lz4Codec(lib: Lz4Lib): KafkajsCodec {
  return {
    compress: ({ buffer }) => lib.compressFrame(buffer),
    decompress: (buffer) => lib.decompressFrame(buffer),
  };
}

function zstdCodec(): KafkajsCodec {
  const z = zlib(); // node:zlib on first use (core/zlib-lazy.ts)
  return { compress: ({ buffer }) => z.zstdCompress(buffer), decompress: (b) => z.zstdDecompress(b) };
}

let registered = false;
/** Plugs every available codec into kafkajs (process-wide table; idempotent). */
export function registerCodecs(): void {
  if (registered) return;
  registered = true;
  const { CompressionCodecs, CompressionTypes } = kafkajs();
  const table = CompressionCodecs as unknown as Record<number, () => KafkajsCodec>;
  const snappy = snappyLib(), lz4 = lz4Lib();
  if (typeof snappy !== 'string') { const c = snappyCodec(snappy); table[CompressionTypes.Snappy] = () => c; }
  if (typeof lz4 !== 'string') { const c = lz4Codec(lz4); table[CompressionTypes.LZ4] = () => c; }
  if (zstdOk) { const c = zstdCodec(); table[CompressionTypes.ZSTD] = () => c; }
}

/** kafkajs CompressionTypes value for a config name. */
export function compressionType(c: Compression): number {
  const t = kafkajs().CompressionTypes;
  switch (c) {
    case 'none': return t.None;
    case 'gzip': return t.GZIP;
    case 'snappy': return t.Snappy;
    case 'lz4': return t.LZ4;
    case 'zstd': return t.ZSTD;
  }
}
