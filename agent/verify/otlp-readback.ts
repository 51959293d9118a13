// Reads OTLP LogsData messages back into (stream, offset, body) for the
// demo's end check, drills and tests. Written against the wire format (field
// numbers from opentelemetry/proto/logs/v1/logs.proto and common/v1/common.proto)
// with protobufjs's Reader, independently of the encoder, so a bug in one is
// not mirrored by the other.

import protobuf from 'protobufjs/minimal.js';

const { Reader } = protobuf;

export interface ReadbackRecord {
  body: Buffer;
  bodyIsBytes: boolean;
  timeUnixNano: bigint;
  observedTimeUnixNano: bigint;
  severityNumber: number;
  severityText: string;
  attributes: Record<string, string | number | boolean>;
  resource: Record<string, string | number | boolean>;
}

type Attrs = Record<string, string | number | boolean>;

function fixed64(r: protobuf.Reader): bigint {
  const lo = BigInt(r.fixed32() >>> 0);
  const hi = BigInt(r.fixed32() >>> 0);
  return (hi << 32n) | lo;
}

function readAnyValue(r: protobuf.Reader, end: number): { v: string | number | boolean | Buffer | null; bytes: boolean } {
  let v: string | number | boolean | Buffer | null = null;
  let bytes = false;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1: { const b = r.bytes(); v = Buffer.from(b.buffer, b.byteOffset, b.length); break; } // string_value: keep raw bytes
      case 2: v = r.bool(); break;
      case 3: v = Number(r.int64()); break;
      case 4: v = r.double(); break;
      case 7: { const b = r.bytes(); v = Buffer.from(b.buffer, b.byteOffset, b.length); bytes = true; break; }
      default: r.skipType(tag & 7);
    }
  }
  return { v, bytes };
}

function readKeyValue(r: protobuf.Reader, end: number, into: Attrs): void {
  let key = '';
  let val: string | number | boolean = '';
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) key = r.string();
    else if (tag >>> 3 === 2) {
      const len = r.uint32();
      const { v } = readAnyValue(r, r.pos + len);
      val = Buffer.isBuffer(v) ? v.toString('utf8') : (v ?? '');
    } else r.skipType(tag & 7);
  }
  into[key] = val;
}

function readResource(r: protobuf.Reader, end: number, into: Attrs): void {
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) { const len = r.uint32(); readKeyValue(r, r.pos + len, into); } else r.skipType(tag & 7);
  }
}

function readLogRecord(r: protobuf.Reader, end: number, resource: Attrs): ReadbackRecord {
  const rec: ReadbackRecord = { body: Buffer.alloc(0), bodyIsBytes: false, timeUnixNano: 0n, observedTimeUnixNano: 0n, severityNumber: 0, severityText: '', attributes: {}, resource };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1: rec.timeUnixNano = fixed64(r); break;
      case 2: rec.severityNumber = r.int32(); break;
      case 3: rec.severityText = r.string(); break;
      case 5: {
        const len = r.uint32();
        const { v, bytes } = readAnyValue(r, r.pos + len);
        rec.body = Buffer.isBuffer(v) ? v : Buffer.from(String(v ?? ''));
        rec.bodyIsBytes = bytes;
        break;
      }
      case 6: { const len = r.uint32(); readKeyValue(r, r.pos + len, rec.attributes); break; }
      case 11: rec.observedTimeUnixNano = fixed64(r); break;
      default: r.skipType(tag & 7);
    }
  }
  return rec;
}

/** Decode one LogsData message into its records (in order). */
export function readLogsData(buf: Uint8Array): ReadbackRecord[] {
  const out: ReadbackRecord[] = [];
  const r = Reader.create(buf);
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 !== 1) { r.skipType(tag & 7); continue; }
    const rlEnd = r.pos + r.uint32();
    const resource: Attrs = {};
    while (r.pos < rlEnd) {
      const t2 = r.uint32();
      if (t2 >>> 3 === 1) { const len = r.uint32(); readResource(r, r.pos + len, resource); }
      else if (t2 >>> 3 === 2) {
        const slEnd = r.pos + r.uint32();
        while (r.pos < slEnd) {
          const t3 = r.uint32();
          if (t3 >>> 3 === 2) { const len = r.uint32(); out.push(readLogRecord(r, r.pos + len, resource)); } else r.skipType(t3 & 7);
        }
      } else r.skipType(t2 & 7);
    }
  }
  return out;
}

export interface StreamCheck {
  stream: string;
  expected: number;
  unique: number;
  missing: number;
  mismatched: number;
  outOfOrder: number;
  duplicates: number;
}

/**
 * Compares delivered records with the files on disk: every line present, body
 * byte-exact (terminator stripped), per-file order by offset, duplicates
 * counted. `records` must be in consumption order (partition order).
 */
export function checkAgainstFiles(records: ReadbackRecord[], files: Map<string, Buffer>): StreamCheck[] {
  const byStream = new Map<string, ReadbackRecord[]>();
  for (const r of records) {
    const s = String(r.attributes['log.file.path'] ?? '');
    let l = byStream.get(s);
    if (!l) byStream.set(s, (l = []));
    l.push(r);
  }
  const out: StreamCheck[] = [];
  for (const [path, content] of files) {
    const lines = splitLines(content);
    const got = byStream.get(path) ?? [];
    const seen = new Map<number, Buffer>();
    let dups = 0, outOfOrder = 0, last = -1;
    for (const r of got) {
      const off = Number(r.attributes['edgelog.offset']);
      if (seen.has(off)) { dups++; continue; }
      if (off < last) outOfOrder++;
      last = off;
      seen.set(off, r.body);
    }
    let missing = 0, mismatched = 0;
    for (const [off, body] of lines) {
      const b = seen.get(off);
      if (!b) missing++;
      else if (!b.equals(body)) mismatched++;
    }
    out.push({ stream: path, expected: lines.length, unique: seen.size, missing, mismatched, outOfOrder, duplicates: dups });
  }
  return out;
}

/** Lines of a file as (start offset, body without LF/CRLF); a last line without terminator counts. */
export function splitLines(content: Buffer): Array<[number, Buffer]> {
  const out: Array<[number, Buffer]> = [];
  let start = 0;
  for (;;) {
    const nl = content.indexOf(10, start);
    if (nl === -1) break;
    const end = nl > start && content[nl - 1] === 13 ? nl - 1 : nl;
    out.push([start, content.subarray(start, end)]);
    start = nl + 1;
  }
  if (start < content.length) out.push([start, content.subarray(start)]);
  return out;
}
