// Kafka record batch v2 (magic 2), as the produce request carries it:
//
//   baseOffset i64 | batchLength i32 | partitionLeaderEpoch i32 | magic i8 |
//   crc u32 (CRC32C of attributes..end) | attributes i16 | lastOffsetDelta i32 |
//   baseTimestamp i64 | maxTimestamp i64 | producerId i64 | producerEpoch i16 |
//   baseSequence i32 | recordCount i32 | records (compressed as a whole)
//
// each record: length varint | attributes i8 | timestampDelta varlong |
// offsetDelta varint | key (varint length, -1 null) | value | header count
// varint | headers (key, value with varint lengths).
//
// The records section is built in two passes (sizes, then bytes) into one
// Buffer of exactly the right size; the 61-byte header is separate so the
// compressed section is written to the socket as it comes from the compressor.

import type { Compression } from '../../codecs.ts';
import type { ProducerMessage } from '../../producer.ts';
import { crc32c } from './crc32c.ts';
import { varintSize, writeVarint } from './wire.ts';

export const batchHeaderSize = 61;
/** Where the CRC'd part starts (attributes). */
export const crcStart = 21;

/** Codec -> the attributes' low three bits. */
export const codecBits: Readonly<Record<Compression, number>> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

/** Headers of one record in wire form (count varint, then entries); one per distinct headers object. */
export function encodeHeaders(h: Record<string, string> | undefined): Buffer {
  if (h === undefined) return Buffer.from([0]);
  const entries: [Buffer, Buffer][] = [];
  for (const k in h) entries.push([Buffer.from(k), Buffer.from(h[k]!)]);
  let n = varintSize(entries.length);
  for (const [k, v] of entries) n += varintSize(k.length) + k.length + varintSize(v.length) + v.length;
  const out = Buffer.allocUnsafe(n);
  let p = writeVarint(out, 0, entries.length);
  for (const [k, v] of entries) {
    p = writeVarint(out, p, k.length); out.set(k, p); p += k.length;
    p = writeVarint(out, p, v.length); out.set(v, p); p += v.length;
  }
  return out;
}

/** Encodes headers objects once each (the sink shares one object across a send). */
export class HeaderCache {
  private src: Record<string, string> | undefined | null = null;
  private enc: Buffer = Buffer.from([0]);
  get(h: Record<string, string> | undefined): Buffer {
    if (h !== this.src) { this.enc = encodeHeaders(h); this.src = h; }
    return this.enc;
  }
}

/**
 * One reused buffer for uncompressed records sections that a codec consumes
 * during the compress call (lz4, snappy: WebAssembly, synchronous), so the
 * section is garbage the moment compress() returns.
 *
 * Why: a fresh section per produce request was the agent's largest
 * ArrayBuffer allocation (json-200b: 361 MB per million lines, 1.8x the
 * input), and every ArrayBuffer counts toward the external memory that makes
 * V8 run a full mark-compact. Sections over SCRATCH_MAX_BYTES get their own
 * buffer; the scratch is dropped after SCRATCH_IDLE_MS unused, so an idle
 * agent does not keep it resident.
 */
const SCRATCH_MAX_BYTES = 4 << 20;
const SCRATCH_IDLE_MS = 30_000;

export class SectionScratch {
  private buf: Buffer | null = null;
  private used = false;
  private readonly timer: NodeJS.Timeout;
  constructor() {
    this.timer = setInterval(() => { if (!this.used) this.buf = null; this.used = false; }, SCRATCH_IDLE_MS);
    this.timer.unref();
  }
  /** `n` bytes valid until the next take(), or null when `n` is over the limit. */
  take(n: number): Buffer | null {
    if (n > SCRATCH_MAX_BYTES) return null;
    this.used = true;
    // Grown to the next power of two: sized exactly, every section a little
    // larger than the last made a new buffer (json-200b: 7 of them, 17 MB,
    // each old one promoted garbage that counts toward the next mark-compact).
    if (this.buf === null || this.buf.length < n) this.buf = Buffer.allocUnsafeSlow(Math.min(SCRATCH_MAX_BYTES, Math.max(2 ** Math.ceil(Math.log2(n)), 256 << 10)));
    return this.buf.subarray(0, n);
  }
  /** Lets go of the buffer now (the agent went quiet); the next take() allocates. */
  trim(): void { this.buf = null; }
  close(): void {
    clearInterval(this.timer);
    this.buf = null;
  }
}

/**
 * The records section (uncompressed) of `messages[idx[0..]]`, offsets 0..n-1,
 * every timestamp delta 0 (one timestamp per batch). The values are copied:
 * the returned Buffer holds no reference to the caller's buffers. With
 * `scratch`, the section is written there and is valid only until the next
 * section (see SectionScratch).
 */
export function buildRecords(messages: readonly ProducerMessage[], idx: readonly number[], headers: HeaderCache, scratch?: SectionScratch): Buffer {
  const n = idx.length;
  const sizes = new Int32Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const m = messages[idx[i]!]!;
    const klen = m.key === null ? -1 : m.key.length;
    const body = 1 + 1 + varintSize(i) + varintSize(klen) + (klen > 0 ? klen : 0) + varintSize(m.value.length) + m.value.length + headers.get(m.headers).length;
    sizes[i] = body;
    total += varintSize(body) + body;
  }
  const out = scratch?.take(total) ?? Buffer.allocUnsafe(total);
  let p = 0;
  for (let i = 0; i < n; i++) {
    const m = messages[idx[i]!]!;
    p = writeVarint(out, p, sizes[i]!);
    out[p++] = 0; // attributes (unused)
    out[p++] = 0; // timestampDelta 0 (varlong zigzag)
    p = writeVarint(out, p, i);
    if (m.key === null) p = writeVarint(out, p, -1);
    else { p = writeVarint(out, p, m.key.length); out.set(m.key, p); p += m.key.length; }
    p = writeVarint(out, p, m.value.length);
    out.set(m.value, p); p += m.value.length;
    const h = headers.get(m.headers);
    out.set(h, p); p += h.length;
  }
  return out;
}

export interface BatchFields {
  codec: Compression;
  count: number;
  timestamp: number;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
}

/** The 61-byte batch header for a records section `records` (already compressed), CRC included. */
export function batchHeader(f: BatchFields, records: Buffer): Buffer {
  const h = Buffer.allocUnsafe(batchHeaderSize);
  h.writeBigInt64BE(0n, 0); // baseOffset: the broker assigns
  h.writeInt32BE(batchHeaderSize - 12 + records.length, 8);
  h.writeInt32BE(-1, 12); // partitionLeaderEpoch
  h.writeInt8(2, 16); // magic
  h.writeInt16BE(codecBits[f.codec], 21);
  h.writeInt32BE(f.count - 1, 23); // lastOffsetDelta
  h.writeBigInt64BE(BigInt(f.timestamp), 27);
  h.writeBigInt64BE(BigInt(f.timestamp), 35);
  h.writeBigInt64BE(f.producerId, 43);
  h.writeInt16BE(f.producerEpoch, 51);
  h.writeInt32BE(f.baseSequence, 53);
  h.writeInt32BE(f.count, 57);
  h.writeUInt32BE(crc32c(records, 0, records.length, crc32c(h, crcStart, batchHeaderSize)), 17);
  return h;
}
