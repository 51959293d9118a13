// Serializer for LogRecord so the spool can hold records and give them back:
// every field except `ack` (acks belong to the process that reads the spool).
// A compact binary layout, not JSON: the body stays raw bytes, bigint time
// stays exact, and one record costs one Buffer allocation.
//
//   u8 version (1) | u8 reserved | u16 severityNumber | u64 timeUnixNano | f64 observedMs | f64 offset
//   str severityText | str traceId | str spanId | str source | str stream | str streamId
//   u32 attribute count (0xffffffff = null) then per attribute: str key | u8 type | value
//       type 0 string (str), 1 number (f64), 2 true, 3 false
//   bytes body (u32 length + bytes)
// str = u32 byte length + UTF-8 bytes.

import type { AckGroup } from '../../core/ack.ts';
import type { AttrValue, LogRecord } from '../../core/record.ts';
import { ProtocolError } from '../../core/errors.ts';

const VERSION = 1;
const FIXED = 1 + 1 + 2 + 8 + 8 + 8;
const NO_ATTRS = 0xffffffff;

export function serializeRecord(r: LogRecord): Buffer {
  const strs = [r.severityText, r.traceId, r.spanId, r.source, r.stream, r.streamId];
  let size = FIXED + 4 + 4 + r.body.length;
  for (const s of strs) size += 4 + Buffer.byteLength(s);
  const attrs = r.attributes;
  if (attrs) {
    for (const k in attrs) {
      const v = attrs[k]!;
      size += 4 + Buffer.byteLength(k) + 1 + (typeof v === 'string' ? 4 + Buffer.byteLength(v) : typeof v === 'number' ? 8 : 0);
    }
  }
  const b = Buffer.allocUnsafe(size);
  b[0] = VERSION;
  b[1] = 0;
  b.writeUInt16BE(r.severityNumber & 0xffff, 2);
  b.writeBigUInt64BE(BigInt.asUintN(64, r.timeUnixNano), 4);
  b.writeDoubleBE(r.observedMs, 12);
  b.writeDoubleBE(r.offset, 20);
  let o = FIXED;
  for (const s of strs) o = putStr(b, o, s);
  if (!attrs) {
    b.writeUInt32BE(NO_ATTRS, o); o += 4;
  } else {
    const at = o; o += 4;
    let n = 0;
    for (const k in attrs) {
      const v = attrs[k]!;
      o = putStr(b, o, k);
      if (typeof v === 'string') { b[o++] = 0; o = putStr(b, o, v); }
      else if (typeof v === 'number') { b[o++] = 1; b.writeDoubleBE(v, o); o += 8; }
      else b[o++] = v ? 2 : 3;
      n++;
    }
    b.writeUInt32BE(n, at);
  }
  b.writeUInt32BE(r.body.length, o); o += 4;
  r.body.copy(b, o);
  return b;
}

function putStr(b: Buffer, o: number, s: string): number {
  const n = b.write(s, o + 4, 'utf8');
  b.writeUInt32BE(n, o);
  return o + 4 + n;
}

/** Rebuilds a record (its body is a view into `b`) and attaches `ack`. Throws ProtocolError on a malformed buffer. */
export function deserializeRecord(b: Buffer, ack: AckGroup): LogRecord {
  if (b.length < FIXED || b[0] !== VERSION) throw new ProtocolError(`spooled record: unknown version ${b[0]} or short (${b.length} bytes)`);
  let o = FIXED;
  const str = (): string => {
    if (o + 4 > b.length) throw new ProtocolError('spooled record truncated');
    const n = b.readUInt32BE(o);
    if (o + 4 + n > b.length) throw new ProtocolError('spooled record truncated');
    const s = b.toString('utf8', o + 4, o + 4 + n);
    o += 4 + n;
    return s;
  };
  const severityText = str(), traceId = str(), spanId = str(), source = str(), stream = str(), streamId = str();
  if (o + 4 > b.length) throw new ProtocolError('spooled record truncated');
  const n = b.readUInt32BE(o); o += 4;
  let attributes: Record<string, AttrValue> | null = null;
  if (n !== NO_ATTRS) {
    attributes = {};
    for (let i = 0; i < n; i++) {
      const k = str();
      const t = b[o++];
      if (t === 0) attributes[k] = str();
      else if (t === 1) { if (o + 8 > b.length) throw new ProtocolError('spooled record truncated'); attributes[k] = b.readDoubleBE(o); o += 8; }
      else if (t === 2 || t === 3) attributes[k] = t === 2;
      else throw new ProtocolError(`spooled record: bad attribute type ${t}`);
    }
  }
  if (o + 4 > b.length) throw new ProtocolError('spooled record truncated');
  const blen = b.readUInt32BE(o); o += 4;
  if (o + blen !== b.length) throw new ProtocolError('spooled record: body length mismatch');
  return {
    body: b.subarray(o, o + blen),
    timeUnixNano: b.readBigUInt64BE(4),
    observedMs: b.readDoubleBE(12),
    severityNumber: b.readUInt16BE(2),
    severityText, attributes, traceId, spanId, source, stream, streamId,
    offset: b.readDoubleBE(20),
    ack,
  };
}
