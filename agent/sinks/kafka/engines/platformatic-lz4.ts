// Engine platformatic's lz4 through lz4-napi (native, already a dependency
// for engine kafkajs and the forward protocol) instead of the library's
// WebAssembly build (@platformatic/wasm-utils).
//
// Why (bench/results/memory/README.md has the figures):
//   - the WebAssembly lz4 was the largest single entry of the saturation CPU
//     profile (~21 % of samples with its input copy, 200 B JSON lines);
//   - every call first copies the whole uncompressed record batch into the
//     WebAssembly memory, which grows to the largest batch seen and never
//     shrinks: ~20-26 MB of `external` memory at peak RSS that no GC returns.
// lz4-napi writes the LZ4 frame format Kafka's record batch v2 uses
// (independent blocks; the Java client, kafkajs and the broker read it: the
// kafkajs engine has always sent lz4-napi frames). Decompression (only used
// when this process reads batches back, e.g. tests) stays the library's.
//
// The library takes its codecs from one exported table, synchronously, inside
// its record batch builder; the table entry's compressSync is replaced once
// per process. lz4-napi itself is required on the first compression, so an
// idle agent does not load it.

import { createRequire } from 'node:module';

interface Lz4Napi { compressFrameSync(data: Buffer): Buffer }
interface CodecEntry { compressSync(data: Buffer | { buffer: Buffer }): Buffer; available?: boolean }
/** The part of @platformatic/kafka this module touches. */
export interface CodecTable { compressionsAlgorithms: unknown }

const require = createRequire(import.meta.url);
let lz4: Lz4Napi | null | undefined;
const patched = new WeakSet<object>();

/** lz4-napi, or null when its prebuilt binding does not load on this host (the library's own lz4 stays then). */
function nativeLz4(): Lz4Napi | null {
  if (lz4 === undefined) {
    try { lz4 = require('lz4-napi') as Lz4Napi; } catch { lz4 = null; }
  }
  return lz4;
}

/** Whether lz4-napi can be used here (checked by resolving, without loading the binding). */
export function nativeLz4Installed(): boolean {
  try { require.resolve('lz4-napi'); return true; } catch { return false; }
}

/**
 * Points the library's lz4 entry at lz4-napi (idempotent). Returns whether
 * the native codec is in place; false leaves the library's own codec.
 */
export function useNativeLz4(lib: CodecTable): boolean {
  const table = lib.compressionsAlgorithms as Record<string, CodecEntry | undefined>;
  const entry = table.lz4;
  if (!entry) return false;
  if (patched.has(entry)) return true;
  if (!nativeLz4Installed()) return false;
  const wasm = entry.compressSync.bind(entry);
  entry.compressSync = (data) => {
    // The library passes a DynamicBuffer (its record list) or a Buffer; `.buffer` of the former is one contiguous Buffer.
    const bytes = Buffer.isBuffer(data) ? data : (data as { buffer: Buffer }).buffer;
    const l = nativeLz4();
    return l ? l.compressFrameSync(bytes) : wasm(data);
  };
  patched.add(entry);
  return true;
}
