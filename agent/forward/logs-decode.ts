// Decodes a BATCH payload (one OTLP LogsData) into pipeline LogRecords for
// the relay, so the relay's encoder writes them out again faithfully:
//   - body bytes kept exactly (string_value and bytes_value are sliced, never
//     decoded and re-encoded; other AnyValue kinds become their JSON text),
//   - the attributes the edge encoder writes first (log.file.path,
//     edgelog.stream_id, edgelog.offset, edgelog.source) go back into the
//     record's stream/streamId/offset/source, which the encoder writes again
//     under the same keys and in the same order; every other attribute is kept
//     in order,
//   - time, observed time (ms precision, which is what edgelog produces),
//     severity, trace and span ids,
//   - the ResourceLogs' resource attributes, which the relay's encoder would
//     otherwise replace with the relay's own host/service/site, ride along as
//     record attributes under the reserved prefix `edgelog.resource.` (see
//     PROTOCOL.md "Relaying resources"). An encoder that knows the prefix lifts
//     them back into the Resource; one that does not keeps them visible as
//     attributes, so nothing is lost either way.
// Written against the wire format with protobufjs's Reader (field numbers
// from opentelemetry/proto/logs/v1/logs.proto and common/v1/common.proto).

import { createRequire } from 'node:module';
import type protobuf from 'protobufjs/minimal.js';
import type { AckGroup } from '../core/ack.ts';
import type { AttrValue, LogRecord } from '../core/record.ts';
import { RESOURCE_ATTR_PREFIX } from '../core/relayed-resource.ts';

// protobufjs's Reader (+5.5 MB RSS with its modules) is loaded on the first
// decode, not at import: the registry imports this module in every agent, and
// only a forward source or a relay decodes.
type ReaderClass = typeof protobuf.Reader;
let readerClass: ReaderClass | undefined;
const reader = (): ReaderClass => (readerClass ??= (createRequire(import.meta.url)('protobufjs/minimal.js') as typeof protobuf).Reader);

// The prefix lives in core so the edge encoder reads it without loading this decoder.
export { RESOURCE_ATTR_PREFIX };
// Attribute keys the edge encoder derives from record fields (agent/encoders/otlp/otlp-proto.ts).
const A_FILE_PATH = 'log.file.path';
const A_STREAM_ID = 'edgelog.stream_id';
const A_OFFSET = 'edgelog.offset';
const A_SOURCE = 'edgelog.source';

type Rd = protobuf.Reader;

export class PayloadError extends Error {}

function fixed64(r: Rd): bigint {
  const lo = BigInt(r.fixed32() >>> 0);
  const hi = BigInt(r.fixed32() >>> 0);
  return (hi << 32n) | lo;
}

/** Reads a length prefix and returns where the field ends (the length must be read before r.pos). */
function lenEnd(r: Rd): number {
  const len = r.uint32();
  const end = r.pos + len;
  if (end > r.len) throw new PayloadError('field length overruns the payload');
  return end;
}

function toNum(v: number | { toNumber(): number }): number {
  return typeof v === 'number' ? v : v.toNumber();
}

function slice(r: Rd): Buffer {
  const b = r.bytes();
  return Buffer.from(b.buffer, b.byteOffset, b.length);
}

/** JSON-ish text of an AnyValue we do not map 1:1 (arrays, kvlists). */
function anyValueText(bytes: Buffer): string {
  const r = reader().create(bytes);
  const v = readAny(r, bytes.length);
  if (v === null) return '';
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return typeof v === 'string' ? v : JSON.stringify(v);
}

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

function readAny(r: Rd, end: number): Json | Buffer {
  let v: Json | Buffer = null;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1: v = slice(r); break;
      case 2: v = r.bool(); break;
      case 3: v = toNum(r.int64() as unknown as number); break;
      case 4: v = r.double(); break;
      case 5: { // ArrayValue { repeated AnyValue values = 1 }
        const aEnd = lenEnd(r);
        const arr: Json[] = [];
        while (r.pos < aEnd) {
          const t = r.uint32();
          if (t >>> 3 === 1) { const e = lenEnd(r); const x = readAny(r, e); arr.push(Buffer.isBuffer(x) ? x.toString('utf8') : x); } else r.skipType(t & 7);
        }
        v = arr;
        break;
      }
      case 6: { // KeyValueList { repeated KeyValue values = 1 }
        const kEnd = lenEnd(r);
        const obj: Record<string, Json> = {};
        while (r.pos < kEnd) {
          const t = r.uint32();
          if (t >>> 3 === 1) { const e = lenEnd(r); const [k, x] = readKv(r, e); obj[k] = Buffer.isBuffer(x) ? x.toString('utf8') : x as Json; } else r.skipType(t & 7);
        }
        v = obj;
        break;
      }
      case 7: v = slice(r).toString('base64'); break;
      default: r.skipType(tag & 7);
    }
  }
  return v;
}

function readKv(r: Rd, end: number): [string, Json | Buffer] {
  let key = '';
  let val: Json | Buffer = '';
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) key = r.string();
    else if (tag >>> 3 === 2) { const e = lenEnd(r); val = readAny(r, e); }
    else r.skipType(tag & 7);
  }
  return [key, val];
}

function attrValue(v: Json | Buffer): AttrValue {
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (v === null) return '';
  return JSON.stringify(v);
}

function readResourceAttrs(r: Rd, end: number): Array<[string, AttrValue]> {
  const out: Array<[string, AttrValue]> = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) { const e = lenEnd(r); const [k, v] = readKv(r, e); out.push([RESOURCE_ATTR_PREFIX + k, attrValue(v)]); } else r.skipType(tag & 7);
  }
  return out;
}

function readLogRecord(r: Rd, end: number, group: AckGroup, nowMs: number): LogRecord {
  const rec: LogRecord = {
    body: EMPTY, timeUnixNano: 0n, observedMs: nowMs, severityNumber: 0, severityText: '', attributes: null,
    traceId: '', spanId: '', source: '', stream: '', streamId: '', offset: 0, ack: group,
  };
  let attrs: Record<string, AttrValue> | null = null;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1: rec.timeUnixNano = fixed64(r); break;
      case 2: rec.severityNumber = r.int32(); break;
      case 3: rec.severityText = r.string(); break;
      case 5: { // body: AnyValue
        const len = r.uint32();
        const bEnd = r.pos + len;
        const start = r.pos;
        // fast path: exactly one string_value or bytes_value member
        const t = len > 0 ? r.uint32() : 0;
        if ((t === ((1 << 3) | 2) || t === ((7 << 3) | 2))) {
          const b = slice(r);
          if (r.pos === bEnd) { rec.body = b; break; }
        }
        r.pos = start;
        const whole = r.buf.subarray(start, bEnd);
        r.pos = bEnd;
        rec.body = Buffer.from(anyValueText(Buffer.from(whole.buffer, whole.byteOffset, whole.length)), 'utf8');
        break;
      }
      case 6: {
        const e = lenEnd(r);
        const [k, v] = readKv(r, e);
        if (k === A_FILE_PATH && typeof v !== 'number') rec.stream = attrValue(v) as string;
        else if (k === A_STREAM_ID) rec.streamId = String(attrValue(v));
        else if (k === A_OFFSET && typeof v === 'number') rec.offset = v;
        else if (k === A_SOURCE) rec.source = String(attrValue(v));
        else (attrs ??= {})[k] = attrValue(v);
        break;
      }
      case 9: { const b = slice(r); if (b.length === 16) rec.traceId = b.toString('hex'); break; }
      case 10: { const b = slice(r); if (b.length === 8) rec.spanId = b.toString('hex'); break; }
      case 11: { const ns = fixed64(r); if (ns > 0n) rec.observedMs = Number(ns / 1_000_000n); break; }
      default: r.skipType(tag & 7);
    }
  }
  if (r.pos !== end) throw new PayloadError('log record overruns its length');
  rec.attributes = attrs;
  return rec;
}

const EMPTY = Buffer.alloc(0);

/**
 * Decode one LogsData into records (appended to `out`, in order), each counted
 * into `group`. Throws PayloadError when the bytes are not a LogsData.
 */
export function decodeLogsData(buf: Buffer, group: AckGroup, out: LogRecord[], opts: { keepResource?: boolean } = {}): number {
  const before = out.length;
  const now = Date.now();
  const keepResource = opts.keepResource ?? true;
  try {
    const r = reader().create(buf);
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (tag >>> 3 !== 1 || (tag & 7) !== 2) { r.skipType(tag & 7); continue; }
      const rlEnd = lenEnd(r);
      if (rlEnd > r.len) throw new PayloadError('resource_logs overruns the payload');
      let resource: Array<[string, AttrValue]> = [];
      const first = out.length;
      while (r.pos < rlEnd) {
        const t2 = r.uint32();
        if (t2 >>> 3 === 1 && (t2 & 7) === 2) {
          const e = lenEnd(r);
          const attrs = readResourceAttrs(r, e);
          if (keepResource) resource = attrs;
        } else if (t2 >>> 3 === 2 && (t2 & 7) === 2) {
          const slEnd = lenEnd(r);
          if (slEnd > rlEnd) throw new PayloadError('scope_logs overruns resource_logs');
          while (r.pos < slEnd) {
            const t3 = r.uint32();
            if (t3 >>> 3 === 2 && (t3 & 7) === 2) {
              const e = lenEnd(r);
              if (e > slEnd) throw new PayloadError('log record overruns scope_logs');
              out.push(readLogRecord(r, e, group, now));
            } else r.skipType(t3 & 7);
          }
          if (r.pos !== slEnd) throw new PayloadError('scope_logs length mismatch');
        } else r.skipType(t2 & 7);
      }
      if (r.pos !== rlEnd) throw new PayloadError('resource_logs length mismatch');
      // applied after the whole ResourceLogs: protobuf lets `resource` follow `scope_logs`
      if (resource.length > 0) {
        for (let i = first; i < out.length; i++) {
          const rec = out[i]!;
          const attrs = (rec.attributes ??= {});
          for (const [k, v] of resource) if (!(k in attrs)) attrs[k] = v;
        }
      }
    }
  } catch (err) {
    out.length = before;
    if (err instanceof PayloadError) throw err;
    throw new PayloadError(`not an OTLP LogsData: ${(err as Error).message}`);
  }
  const n = out.length - before;
  group.add(n);
  return n;
}
