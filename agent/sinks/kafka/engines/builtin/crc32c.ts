// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of
// Kafka's record batch v2. Slicing-by-8: eight 256-entry tables, so the loop
// consumes 8 bytes per step instead of one (a batch of ~1 MB is checksummed
// once per send, on the main thread).
//
// From 16 KiB on, the native helper's edgelog_crc32c (the SSE4.2 crc32
// instruction) when the library loads: this loop ran at ~0.8 GB/s and was
// 8.8 % of the json-200b saturation profile. A call through ffi-rs costs
// ~5 us, so below ~7 KB the loop is faster (2 KB: 1.7 vs 5.1 us; 16 KB:
// 13.8 vs 6.6 us; 64 KB: 54.9 vs 11.6 us, this machine). The library is
// loaded on the first batch that large, so an agent that only ever sends
// small batches never maps it (3.5 MB RSS with its libbpf, libelf, liburing).

import { tryLoadNative } from '../../../../native/lib.ts';

const NATIVE_MIN = 16 * 1024;
/** undefined: not tried yet; null: no native library here. */
let native: ((crc: number, buf: Uint8Array, len: number) => number) | null | undefined;

function nativeCrc(): typeof native {
  if (native === undefined) {
    const { lib } = tryLoadNative();
    native = lib ? (crc, buf, len) => (lib.fn.edgelog_crc32c([crc, buf, len]) as number) >>> 0 : null;
  }
  return native;
}

const POLY = 0x82f63b78;
const T = new Int32Array(8 * 256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  T[n] = c;
}
for (let n = 0; n < 256; n++) {
  let c = T[n]!;
  for (let s = 1; s < 8; s++) {
    c = T[c & 0xff]! ^ (c >>> 8);
    T[s * 256 + n] = c;
  }
}

/** CRC32C of `buf[start, end)`, continuing from `crc` (0 to start), as an unsigned 32-bit number. */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length, crc = 0): number {
  if (end - start >= NATIVE_MIN) {
    const n = nativeCrc();
    if (n) return n(crc >>> 0, start === 0 && end === buf.length ? buf : buf.subarray(start, end), end - start);
  }
  return crc32cJs(buf, start, end, crc);
}

/** The table loop (small inputs, hosts without the native library). */
export function crc32cJs(buf: Uint8Array, start = 0, end = buf.length, crc = 0): number {
  let c = ~crc;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const a = c ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    c = T[1792 + (a & 0xff)]! ^ T[1536 + ((a >>> 8) & 0xff)]! ^ T[1280 + ((a >>> 16) & 0xff)]! ^ T[1024 + (a >>> 24)]!
      ^ T[768 + buf[i + 4]!]! ^ T[512 + buf[i + 5]!]! ^ T[256 + buf[i + 6]!]! ^ T[buf[i + 7]!]!;
  }
  for (; i < end; i++) c = T[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
