// On-disk format of a spool segment. One segment file is
//
//   header (32 bytes): magic "EDGLSPL1" | version u16 | flags u16 | base seq u64
//                      | created ms f64 | crc32 of the previous 28 bytes u32
//   frame*:            crc32(length bytes ++ payload) u32 | length u32 | payload
//
// All integers big-endian. The CRC covers the length too, so a torn or
// scribbled length is caught as surely as a torn payload (and length and
// payload are contiguous, so one crc32 call covers both). The base sequence
// number is the id of the first record in the segment; the file is named after
// it (20 zero-padded digits) so a directory listing sorts in write order and
// the record count of every sealed segment is the next segment's base minus
// its own: only the last segment ever needs a full scan on open.

import { zlib } from '../../core/zlib-lazy.ts';

// node:zlib (its crc32) is loaded when a spool first writes or reads a frame (core/zlib-lazy.ts).
const crc32 = (b: Uint8Array): number => zlib().crc32(b);

export const SEGMENT_MAGIC = Buffer.from('EDGLSPL1', 'latin1');
export const SEGMENT_VERSION = 1;
export const HEADER_BYTES = 32;
export const FRAME_HEADER_BYTES = 8;
export const SEGMENT_SUFFIX = '.seg';

export function segmentName(base: number): string {
  return base.toString().padStart(20, '0') + SEGMENT_SUFFIX;
}

export function parseSegmentName(name: string): number | null {
  if (!/^\d{20}\.seg$/.test(name)) return null;
  const n = Number(name.slice(0, 20));
  return Number.isSafeInteger(n) ? n : null;
}

export function encodeHeader(base: number, createdMs = Date.now()): Buffer {
  const b = Buffer.alloc(HEADER_BYTES);
  SEGMENT_MAGIC.copy(b, 0);
  b.writeUInt16BE(SEGMENT_VERSION, 8);
  b.writeUInt16BE(0, 10);
  b.writeBigUInt64BE(BigInt(base), 12);
  b.writeDoubleBE(createdMs, 20);
  b.writeUInt32BE(crc32(b.subarray(0, 28)), 28);
  return b;
}

/** The base sequence of a valid header, or null when the header is short, foreign or damaged. */
export function decodeHeader(b: Buffer): number | null {
  if (b.length < HEADER_BYTES) return null;
  if (!b.subarray(0, 8).equals(SEGMENT_MAGIC)) return null;
  if (b.readUInt16BE(8) !== SEGMENT_VERSION) return null;
  if (b.readUInt32BE(28) !== crc32(b.subarray(0, 28))) return null;
  const base = b.readBigUInt64BE(12);
  return base <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(base) : null;
}

export function framedBytes(payloads: readonly Buffer[], from = 0, to = payloads.length): number {
  let n = 0;
  for (let i = from; i < to; i++) n += FRAME_HEADER_BYTES + payloads[i]!.length;
  return n;
}

/** Frames payloads[from..to) into one buffer so a batch costs one write(2). */
export function encodeFrames(payloads: readonly Buffer[], from = 0, to = payloads.length): Buffer {
  const out = Buffer.allocUnsafe(framedBytes(payloads, from, to));
  let o = 0;
  for (let i = from; i < to; i++) {
    const p = payloads[i]!;
    out.writeUInt32BE(p.length, o + 4);
    p.copy(out, o + FRAME_HEADER_BYTES);
    out.writeUInt32BE(crc32(out.subarray(o + 4, o + FRAME_HEADER_BYTES + p.length)), o);
    o += FRAME_HEADER_BYTES + p.length;
  }
  return out;
}

export type FrameDamage = 'short' | 'length' | 'crc';

export interface ScanResult {
  /** Offset (within `buf`) just past the last good frame. */
  end: number;
  count: number;
  /** Why scanning stopped before the end of `buf`, or null when every byte was a good frame. */
  damage: FrameDamage | null;
}

/**
 * Walks frames in buf[start..]. Stops at the first frame that is cut short,
 * has an impossible length or a CRC mismatch. `onFrame` receives a view
 * (not a copy) of each good payload.
 */
export function scanFrames(buf: Buffer, start: number, maxPayload: number, limit = Infinity, onFrame?: (payload: Buffer) => void): ScanResult {
  let o = start;
  let count = 0;
  while (o < buf.length && count < limit) {
    if (buf.length - o < FRAME_HEADER_BYTES) return { end: o, count, damage: 'short' };
    const len = buf.readUInt32BE(o + 4);
    if (len > maxPayload) return { end: o, count, damage: 'length' };
    if (buf.length - o - FRAME_HEADER_BYTES < len) return { end: o, count, damage: 'short' };
    if (crc32(buf.subarray(o + 4, o + FRAME_HEADER_BYTES + len)) !== buf.readUInt32BE(o)) return { end: o, count, damage: 'crc' };
    onFrame?.(buf.subarray(o + FRAME_HEADER_BYTES, o + FRAME_HEADER_BYTES + len));
    o += FRAME_HEADER_BYTES + len;
    count++;
  }
  return { end: o, count, damage: null };
}
