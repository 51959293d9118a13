// Protobuf wire helpers for the two-pass otlp_proto encoder: varint sizes and
// writes straight into a Buffer, and KvList, a reusable list of OTLP KeyValue
// entries whose sizes are measured in one pass and written in the next.
// Nothing here allocates per call except the rare odd attribute value
// (bigint, object) and the cold encodeKvs().

import type { AttrValue } from '../../core/record.ts';

/** Bytes of a varint for 0 <= v < 2^32. */
export function varintLen(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Writes a varint for 0 <= v < 2^32; returns the new position. */
export function writeVarint(buf: Uint8Array, pos: number, v: number): number {
  while (v > 127) {
    buf[pos++] = (v & 127) | 128;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

/** Bytes of a 64-bit varint given as unsigned 32-bit halves. */
export function varint64Len(lo: number, hi: number): number {
  let n = 1;
  while (hi !== 0) { lo = ((lo >>> 7) | (hi << 25)) >>> 0; hi >>>= 7; n++; }
  while (lo > 127) { lo >>>= 7; n++; }
  return n;
}

export function writeVarint64(buf: Uint8Array, pos: number, lo: number, hi: number): number {
  while (hi !== 0) {
    buf[pos++] = (lo & 127) | 128;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  while (lo > 127) {
    buf[pos++] = (lo & 127) | 128;
    lo >>>= 7;
  }
  buf[pos++] = lo;
  return pos;
}

export function writeFixed64(buf: Uint8Array, pos: number, lo: number, hi: number): number {
  buf[pos] = lo; buf[pos + 1] = lo >>> 8; buf[pos + 2] = lo >>> 16; buf[pos + 3] = lo >>> 24;
  buf[pos + 4] = hi; buf[pos + 5] = hi >>> 8; buf[pos + 6] = hi >>> 16; buf[pos + 7] = hi >>> 24;
  return pos + 8;
}

/** 64-bit two's complement halves of a safe integer (int64 wire value). */
export const bits = { lo: 0, hi: 0 };
export function int64Bits(v: number): void {
  const neg = v < 0;
  if (neg) v = -v;
  let lo = v >>> 0;
  let hi = ((v - lo) / 4294967296) >>> 0;
  if (neg) {
    hi = ~hi >>> 0;
    lo = ~lo >>> 0;
    if (++lo > 0xffffffff) { lo = 0; if (++hi > 0xffffffff) hi = 0; }
  }
  bits.lo = lo; bits.hi = hi;
}

const dv = new DataView(new ArrayBuffer(8));
/** 64-bit halves of a bigint, wrapped modulo 2^64 (no intermediate bigints). */
export function bigintBits(v: bigint): void {
  dv.setBigUint64(0, v, true);
  bits.lo = dv.getUint32(0, true); bits.hi = dv.getUint32(4, true);
}

/** UTF-8 length; lone surrogates count 3 (Buffer.write replaces them with U+FFFD). */
export function utf8Len(s: string): number {
  const n = s.length;
  if (n > 32) return Buffer.byteLength(s, 'utf8');
  // Short strings (attribute keys and values): a JS loop beats the native call.
  let len = n;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) len += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { len += 2; i++; } // pair: 4 bytes for 2 units
    else len += 2; // 3 bytes, lone surrogates too (written as U+FFFD)
  }
  return len;
}

/** Writes `s` whose UTF-8 length is `n`; returns the new position. */
export function writeString(buf: Buffer, pos: number, s: string, n: number): number {
  if (n === s.length) {
    // ASCII (any other character takes more than one byte): short keys are
    // cheaper byte by byte than through a native call.
    if (n < 32) { for (let i = 0; i < n; i++) buf[pos + i] = s.charCodeAt(i); } else buf.write(s, pos, n, 'latin1');
  } else buf.write(s, pos, n, 'utf8');
  return pos + n;
}

// AnyValue members (common/v1/common.proto) and KeyValue fields.
const TAG_KEY = (1 << 3) | 2; // KeyValue.key
const TAG_VALUE = (2 << 3) | 2; // KeyValue.value
const TAG_STRING_VALUE = (1 << 3) | 2;
const TAG_BOOL_VALUE = (2 << 3) | 0;
const TAG_INT_VALUE = (3 << 3) | 0;
const TAG_DOUBLE_VALUE = (4 << 3) | 1;

const K_STRING = 0;
const K_BOOL = 1;
const K_INT = 2; // safe integer number
const K_DOUBLE = 3;
const K_BIGINT = 4; // bigint within int64

function safeJson(x: unknown): string {
  try { return JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(x); } catch { return String(x); }
}

/**
 * KeyValue entries of one batch: push() classifies a value and measures it
 * (pass 1), write() writes entry i with the stored sizes (pass 2). Arrays
 * grow once and are reused across batches.
 */
export class KvList {
  n = 0;
  private keys: string[] = [];
  private vals: unknown[] = [];
  private kind = new Uint8Array(64);
  private keyLen = new Int32Array(64);
  private valLen = new Int32Array(64);
  private anyLen = new Int32Array(64);
  private kvLen = new Int32Array(64);

  clear(): void { this.n = 0; }

  private grow(): void {
    const cap = this.kind.length * 2;
    const k = new Uint8Array(cap); k.set(this.kind); this.kind = k;
    const a = new Int32Array(cap); a.set(this.keyLen); this.keyLen = a;
    const b = new Int32Array(cap); b.set(this.valLen); this.valLen = b;
    const c = new Int32Array(cap); c.set(this.anyLen); this.anyLen = c;
    const d = new Int32Array(cap); d.set(this.kvLen); this.kvLen = d;
  }

  /** Adds key = v; returns the bytes of the entry as a repeated field (tag + length + KeyValue). */
  push(key: string, v: AttrValue): number {
    const i = this.n++;
    if (i === this.kind.length) this.grow();
    let kind: number;
    let val: unknown = v;
    let valLen = 0;
    let anyLen: number;
    if (typeof v === 'string') {
      kind = K_STRING; valLen = utf8Len(v); anyLen = 1 + varintLen(valLen) + valLen;
    } else if (typeof v === 'boolean') {
      kind = K_BOOL; anyLen = 2;
    } else if (typeof v === 'number') {
      if (Number.isSafeInteger(v)) {
        kind = K_INT;
        if (v >= 0 && v < 0x80000000) valLen = varintLen(v);
        else { int64Bits(v); valLen = varint64Len(bits.lo, bits.hi); }
        anyLen = 1 + valLen;
      } else { kind = K_DOUBLE; anyLen = 9; }
    } else {
      // Outside the declared types (a decoder bug or a plugin): never fail the batch for it.
      const x = v as unknown;
      if (typeof x === 'bigint' && x >= -(2n ** 63n) && x < 2n ** 63n) {
        kind = K_BIGINT; bigintBits(x); valLen = varint64Len(bits.lo, bits.hi); anyLen = 1 + valLen;
      } else {
        const s = typeof x === 'object' ? safeJson(x) : String(x);
        val = s; kind = K_STRING; valLen = utf8Len(s); anyLen = 1 + varintLen(valLen) + valLen;
      }
    }
    const keyLen = utf8Len(key);
    const kvLen = (keyLen > 0 ? 1 + varintLen(keyLen) + keyLen : 0) + 1 + varintLen(anyLen) + anyLen;
    this.keys[i] = key; this.vals[i] = val;
    this.kind[i] = kind; this.keyLen[i] = keyLen; this.valLen[i] = valLen; this.anyLen[i] = anyLen; this.kvLen[i] = kvLen;
    return 1 + varintLen(kvLen) + kvLen;
  }

  /** Writes entry i as field `tag` (a repeated KeyValue field). */
  write(buf: Buffer, pos: number, i: number, tag: number): number {
    buf[pos++] = tag;
    pos = writeVarint(buf, pos, this.kvLen[i]!);
    const keyLen = this.keyLen[i]!;
    if (keyLen > 0) { // protobuf omits an empty string field
      buf[pos++] = TAG_KEY;
      pos = writeVarint(buf, pos, keyLen);
      pos = writeString(buf, pos, this.keys[i]!, keyLen);
    }
    buf[pos++] = TAG_VALUE;
    pos = writeVarint(buf, pos, this.anyLen[i]!);
    const v = this.vals[i];
    switch (this.kind[i]) {
      case K_STRING: {
        const n = this.valLen[i]!;
        buf[pos++] = TAG_STRING_VALUE;
        pos = writeVarint(buf, pos, n);
        return writeString(buf, pos, v as string, n);
      }
      case K_BOOL:
        buf[pos++] = TAG_BOOL_VALUE; buf[pos++] = v ? 1 : 0;
        return pos;
      case K_INT: {
        buf[pos++] = TAG_INT_VALUE;
        const x = v as number;
        if (x >= 0 && x < 0x80000000) return writeVarint(buf, pos, x);
        int64Bits(x);
        return writeVarint64(buf, pos, bits.lo, bits.hi);
      }
      case K_DOUBLE:
        buf[pos++] = TAG_DOUBLE_VALUE;
        buf.writeDoubleLE(v as number, pos);
        return pos + 8;
      default: // K_BIGINT
        buf[pos++] = TAG_INT_VALUE;
        bigintBits(v as bigint);
        return writeVarint64(buf, pos, bits.lo, bits.hi);
    }
  }
}

/** Cold path: the KeyValue entries as repeated field `tag`, e.g. a Resource (attributes = 1) or LogRecord attributes (6). */
export function encodeKvs(tag: number, entries: ReadonlyArray<readonly [string, AttrValue]>): Buffer {
  const l = new KvList();
  let size = 0;
  for (const [k, v] of entries) size += l.push(k, v);
  const b = Buffer.allocUnsafe(size);
  let pos = 0;
  for (let i = 0; i < l.n; i++) pos = l.write(b, pos, i, tag);
  return b;
}
