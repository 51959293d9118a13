// Kafka's primitive types (big-endian fixed ints, int16-length strings,
// int32-length bytes and arrays, zigzag varints) as a growable writer and a
// bounds-checked reader. Only for the small parts of requests (headers,
// metadata); record bodies are sized exactly in record-batch.ts.

export class Writer {
  buf: Buffer;
  pos = 0;
  constructor(size = 256) { this.buf = Buffer.allocUnsafe(size); }
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const b = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(b, 0, 0, this.pos);
    this.buf = b;
  }
  i8(v: number): this { this.room(1); this.buf.writeInt8(v, this.pos); this.pos += 1; return this; }
  i16(v: number): this { this.room(2); this.buf.writeInt16BE(v, this.pos); this.pos += 2; return this; }
  i32(v: number): this { this.room(4); this.buf.writeInt32BE(v, this.pos); this.pos += 4; return this; }
  i64(v: bigint): this { this.room(8); this.buf.writeBigInt64BE(v, this.pos); this.pos += 8; return this; }
  bool(v: boolean): this { return this.i8(v ? 1 : 0); }
  /** STRING / NULLABLE_STRING: int16 length (-1 null) then UTF-8. */
  str(s: string | null): this {
    if (s === null) return this.i16(-1);
    const n = Buffer.byteLength(s);
    this.i16(n);
    this.room(n);
    this.buf.write(s, this.pos);
    this.pos += n;
    return this;
  }
  /** BYTES: int32 length then the bytes. */
  bytes(b: Uint8Array): this { this.i32(b.length); this.room(b.length); this.buf.set(b, this.pos); this.pos += b.length; return this; }
  done(): Buffer { return this.buf.subarray(0, this.pos); }
}

export class WireError extends Error {
  readonly type = 'CORRUPT_RESPONSE';
}

export class Reader {
  readonly buf: Buffer;
  pos: number;
  constructor(buf: Buffer, pos = 0) { this.buf = buf; this.pos = pos; }
  private need(n: number): void { if (this.pos + n > this.buf.length) throw new WireError(`response truncated at byte ${this.pos} (needs ${n} more of ${this.buf.length})`); }
  i8(): number { this.need(1); return this.buf.readInt8(this.pos++); }
  i16(): number { this.need(2); const v = this.buf.readInt16BE(this.pos); this.pos += 2; return v; }
  i32(): number { this.need(4); const v = this.buf.readInt32BE(this.pos); this.pos += 4; return v; }
  i64(): bigint { this.need(8); const v = this.buf.readBigInt64BE(this.pos); this.pos += 8; return v; }
  bool(): boolean { return this.i8() !== 0; }
  str(): string | null {
    const n = this.i16();
    if (n < 0) return null;
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  bytes(): Buffer | null {
    const n = this.i32();
    if (n < 0) return null;
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  /** ARRAY: int32 count (-1 null, read as empty) then `count` items. */
  array<T>(item: (r: Reader) => T): T[] {
    const n = this.i32();
    if (n > this.buf.length - this.pos) throw new WireError(`array of ${n} items cannot fit in ${this.buf.length - this.pos} bytes`);
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(item(this));
    return out;
  }
}

/** Bytes a zigzag varint (32-bit) of `v` takes. */
export function varintSize(v: number): number {
  let u = ((v << 1) ^ (v >> 31)) >>> 0;
  let n = 1;
  while (u >= 0x80) { u >>>= 7; n++; }
  return n;
}

/** Writes zigzag varint `v` (32-bit) at `pos`; returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, v: number): number {
  let u = ((v << 1) ^ (v >> 31)) >>> 0;
  while (u >= 0x80) { buf[pos++] = (u & 0x7f) | 0x80; u >>>= 7; }
  buf[pos++] = u;
  return pos;
}

/** Reads a zigzag varint (32-bit) at `pos`: [value, next position]. */
export function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let u = 0;
  let shift = 0;
  for (;;) {
    if (pos >= buf.length) throw new WireError('varint truncated');
    const b = buf[pos++]!;
    u |= (b & 0x7f) << shift;
    if (b < 0x80) break;
    shift += 7;
    if (shift > 28) throw new WireError('varint longer than 5 bytes');
  }
  return [(u >>> 1) ^ -(u & 1), pos];
}
