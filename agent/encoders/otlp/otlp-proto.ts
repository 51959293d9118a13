// `otlp_proto`: one Kafka message = one OTLP LogsData holding many records,
// the payload the OpenTelemetry Collector's Kafka receiver reads with
// `encoding: otlp_proto`.
//
// Two passes per message, no protobufjs Writer on the hot path. Pass 1
// measures every record (its LogRecord length, the KeyValue and AnyValue
// lengths of its attributes, UTF-8 string lengths, body validity) into typed
// arrays reused across batches, and sums the nested lengths up to the
// LogsData. Pass 2 takes ONE Buffer of the exact size (from value-pool.ts:
// the pipeline hands acknowledged values back when the sink holds no
// reference to them after a send) and writes tags, lengths and fields into
// it: strings byte by byte (short ASCII) or with buf.write after measuring
// their UTF-8 length, bodies and cached parts with TypedArray#set.
// No other per-record allocation: the previous fork()/ldelim() Writer built a
// chain of ops per field and copied every nested message once per level.
// The Resource, the InstrumentationScope and the per-stream attributes
// (path, stream id, source) are encoded once and copied in.
//
// The body is an AnyValue with the raw bytes under string_value when they are
// valid UTF-8 (same wire bytes as encoding the decoded string, minus a decode
// and a re-encode per line) and under bytes_value otherwise. Field order
// inside a message is free in protobuf; it is kept as the old encoder wrote
// it (test/encoders/otlp-bytes.test.ts checks the bytes are identical, save
// for lone UTF-16 surrogates, now written as U+FFFD instead of invalid UTF-8).
//
// Measured with bench/stages/otlp-encode.ts (10k-record batches of 200-byte
// JSON bodies, key=stream, Node 24.21, 2-vCPU EPYC VM shared with other work,
// load ~6; records per CPU-second, JS heap + Buffer bytes allocated per record
// with the output being 421-582 bytes/record):
//   attrs  old Writer                  two-pass
//   0      785k rec/CPU-s, 2602 B/rec  3.15M rec/CPU-s, 430 B/rec
//   2      444k rec/CPU-s, 2750 B/rec  1.97M rec/CPU-s, 464 B/rec
//   8      387k rec/CPU-s, 3073 B/rec  895k rec/CPU-s,  592 B/rec
// GCs per million records 67-114 -> 12-16. What is allocated now is the
// message itself plus ~9 B/record of resourceRuns()'s per-message array.

import { isUtf8 } from 'node:buffer';
import { ValuePool } from './value-pool.ts';
import { EdgelogError } from '../../core/errors.ts';
import { NO_RECORDS, type ComponentContext, type ComponentSpec, type EncodedMessage, type Encoder } from '../../core/component.ts';
import type { AttrValue, LogRecord } from '../../core/record.ts';
import { sliceCount, type RecordRun, type RunSlice } from '../../core/record-run.ts';
import { KeyCache, keyField, type KeyMode } from '../key.ts';
import { type Infer, section, stringMap, text, declaredComponent } from '../../config/declare.ts';
import { isRelayedResourceKey, resourceRuns } from '../../core/relayed-resource.ts';
import { bigintBits, bits, encodeKvs, KvList, utf8Len, varintLen, writeFixed64, writeString, writeVarint, writeVarint64 } from './wire.ts';

/** The encoder's keys, declared once (agent/config/declare.ts): type, reader, defaults and its COMPONENTS.md rows. */
export const otlpProtoSection = section({
  key: keyField('message key: the source stream (one source stays on one partition, in order) or none'),
  /** Extra resource attributes (override the defaults of the same name). */
  resourceAttributes: stringMap('resource_attributes', 'added to the Resource of every message'),
  // The scope is the agent itself, as Collector receivers name theirs.
  scopeName: text('scope_name', 'edgelog', 'InstrumentationScope name'),
});
export type OtlpProtoConfig = Infer<typeof otlpProtoSection>;
export const otlpProtoDefaults: OtlpProtoConfig = otlpProtoSection.defaults;

/** Attribute keys every record carries: the source path and the dedupe key (stream id + offset). */
export const ATTR_FILE_PATH = 'log.file.path'; // OpenTelemetry semantic convention for file logs
export const ATTR_STREAM_ID = 'edgelog.stream_id';
export const ATTR_OFFSET = 'edgelog.offset';
export const ATTR_SOURCE = 'edgelog.source';

/** Resource attribute names (semantic conventions where one exists). */
export const RES_HOST = 'host.name';
export const RES_SERVICE = 'service.name';
export const RES_SITE = 'edgelog.site';
export const RES_AGENT = 'edgelog.agent.id';

// Wire tags: (field << 3) | wire type (2 = length-delimited, 1 = 64-bit, 0 = varint).
const TAG_RESOURCE_LOGS = (1 << 3) | 2; // LogsData.resource_logs
const TAG_RESOURCE = (1 << 3) | 2; // ResourceLogs.resource
const TAG_SCOPE_LOGS = (2 << 3) | 2; // ResourceLogs.scope_logs
const TAG_SCOPE = (1 << 3) | 2; // ScopeLogs.scope
const TAG_LOG_RECORDS = (2 << 3) | 2; // ScopeLogs.log_records
const TAG_RESOURCE_ATTRIBUTES = (1 << 3) | 2; // Resource.attributes
const TAG_SCOPE_NAME = (1 << 3) | 2; // InstrumentationScope.name
const TAG_TIME = (1 << 3) | 1; // LogRecord.time_unix_nano (fixed64)
const TAG_SEVERITY = (2 << 3) | 0; // LogRecord.severity_number
const TAG_SEVERITY_TEXT = (3 << 3) | 2; // LogRecord.severity_text
const TAG_BODY = (5 << 3) | 2; // LogRecord.body
const TAG_ATTRIBUTES = (6 << 3) | 2; // LogRecord.attributes
const TAG_TRACE_ID = (9 << 3) | 2; // LogRecord.trace_id
const TAG_SPAN_ID = (10 << 3) | 2; // LogRecord.span_id
const TAG_OBSERVED = (11 << 3) | 1; // LogRecord.observed_time_unix_nano (fixed64)
const TAG_STRING_VALUE = (1 << 3) | 2; // AnyValue.string_value
const TAG_BYTES_VALUE = (7 << 3) | 2; // AnyValue.bytes_value

// Per-record flags found in pass 1.
const F_TIME = 1;
const F_OBSERVED = 2;
const F_TRACE = 4;
const F_SPAN = 8;
const F_UTF8 = 16;
const F_SEVERITY_TEXT = 32;
// edgelog.offset written straight from the record (not through the KvList): set when the offset is a uint32.
const F_OFFSET_DIRECT = 64;

// The edgelog.offset KeyValue's key field, encoded once: every record carries
// this attribute, and writing it through the generic KvList (type dispatch,
// two array stores, a second lookup on write) cost ~7 % of the saturation
// profile (KvList push + write, json-200b, /work/s5 profile of b1705f6).
const OFFSET_KEY_FIELD = Buffer.from([(1 << 3) | 2, ATTR_OFFSET.length, ...Buffer.from(ATTR_OFFSET, 'latin1')]);
const TAG_KV_VALUE = (2 << 3) | 2; // KeyValue.value
const TAG_ANY_INT = (3 << 3) | 0; // AnyValue.int_value

/** Bytes of the KeyValue {edgelog.offset: int off} for 0 <= off < 2^32 (without its own tag and length). */
function offsetKvLen(off: number): number {
  const anyLen = 1 + varintLen(off);
  return OFFSET_KEY_FIELD.length + 1 + 1 + anyLen; // anyLen <= 6: one length byte
}

/** The LogRecord.attributes field {edgelog.offset: int off} for 0 <= off < 2^32; returns the end. */
function writeOffsetKv(buf: Buffer, pos: number, off: number): number {
  buf[pos++] = TAG_ATTRIBUTES;
  buf[pos++] = offsetKvLen(off);
  buf.set(OFFSET_KEY_FIELD, pos);
  pos += OFFSET_KEY_FIELD.length;
  buf[pos++] = TAG_KV_VALUE;
  buf[pos++] = 1 + varintLen(off);
  buf[pos++] = TAG_ANY_INT;
  return writeVarint(buf, pos, off);
}

const HEX = /^[0-9a-fA-F]+$/;

interface Bits { low: number; high: number }

/** Exact ms -> ns as 64-bit halves without BigInt (every intermediate stays below 2^53). */
export function msToNanoBits(ms: number, out: Bits): Bits {
  const m = Math.max(0, Math.floor(ms));
  const a = Math.floor(m / 65536); // m = a * 2^16 + b
  const b = m - a * 65536;
  const A = a * 1e6; // < 2^45
  const aHi = Math.floor(A / 65536);
  const aLo = A - aHi * 65536;
  const rest = aLo * 65536 + b * 1e6; // < 2^37
  const carry = Math.floor(rest / 4294967296);
  out.low = (rest - carry * 4294967296) >>> 0;
  out.high = (aHi + carry) >>> 0;
  return out;
}

/** Length-delimited field bytes: tag + length varint + payload. */
function fieldLen(n: number): number {
  return 1 + varintLen(n) + n;
}

/** Pass 1 and pass 2 disagreed: an encoder bug. Better a failed batch than a corrupt message on Kafka. */
function sizeMismatch(wrote: number, size: number): EdgelogError {
  return new EdgelogError('OTLP_ENCODE_SIZE', `otlp_proto: wrote ${wrote} of ${size} bytes`);
}

interface StreamEntry { streamId: string; source: string; bytes: Buffer }

export class OtlpProtoEncoder implements Encoder {
  readonly name = 'otlp_proto';
  private readonly keyMode: KeyMode;
  private readonly keys = new KeyCache();
  private readonly resourceBytes: Buffer;
  private readonly scopeBytes: Buffer;
  private readonly headers: Record<string, string> = Object.freeze({ 'edgelog.encoding': 'otlp_proto' }) as Record<string, string>;
  /** The current message carries relayed resources: their attributes are lifted, not repeated per record. */
  private relayed = false;
  private readonly resourceCache = new Map<string, Buffer>();

  // Pass 1 results, indexed by record position in the message; grown, never shrunk.
  private cap = 0;
  private recLen = new Int32Array(0);
  private flags = new Uint8Array(0);
  private sevTextLen = new Int32Array(0);
  private timeBits = new Uint32Array(0); // lo, hi per record
  private obsBits = new Uint32Array(0);
  private attrEnd = new Int32Array(0); // end index of the record's entries in `attrs`
  private streamBytes: Buffer[] = [];
  private readonly attrs = new KvList();
  private readonly observed: Bits = { low: 0, high: 0 };
  private lastObservedMs = -1;
  // Per-stream attribute bytes: the last one, then a bounded map by path.
  private cStream = '';
  private cStreamId = '';
  private cSource = '';
  private cBytes: Buffer | null = null;
  private readonly streamCache = new Map<string, StreamEntry>();
  private readonly values = new ValuePool();
  /** runMessage's per-slice middle bytes (reused array). */
  private readonly runMids: Buffer[] = [];

  constructor(cfg: OtlpProtoConfig, ctx: Pick<ComponentContext, 'host' | 'service' | 'site' | 'agentId'>) {
    this.keyMode = cfg.key;
    const res: Record<string, string> = {
      [RES_HOST]: ctx.host, [RES_SERVICE]: ctx.service, [RES_SITE]: ctx.site, [RES_AGENT]: ctx.agentId,
      ...cfg.resourceAttributes,
    };
    this.resourceBytes = encodeKvs(TAG_RESOURCE_ATTRIBUTES, Object.entries(res));
    const nameLen = Buffer.byteLength(cfg.scopeName);
    if (nameLen === 0) this.scopeBytes = Buffer.alloc(0); // protobuf omits an empty string
    else {
      this.scopeBytes = Buffer.allocUnsafe(fieldLen(nameLen));
      this.scopeBytes[0] = TAG_SCOPE_NAME;
      writeString(this.scopeBytes, writeVarint(this.scopeBytes, 1, nameLen), cfg.scopeName, nameLen);
    }
  }

  /** Slabs of the value pool handed out and not back yet, and kept free (tests; a leak shows as `out` stuck at its cap). */
  get valuePoolStats(): { out: number; free: number } { return this.values.stats; }

  /** The agent went quiet: free value slabs are left to the GC. */
  trim(): void { this.values.trim(); }

  /** Values of acknowledged messages that nobody references any more: their memory is written again (value-pool.ts). */
  recycle(messages: readonly EncodedMessage[]): void {
    for (let i = 0; i < messages.length; i++) this.values.give(messages[i]!.value);
  }

  encode(records: LogRecord[]): EncodedMessage[] {
    return this.perKey(records, this.recordStream, this.recordMessage);
  }

  /**
   * key=stream: one message per stream so a stream never spans two keys (and
   * partitions); key=none: one message. Fast path: the whole batch is one
   * stream. Shared by both lanes (items are records or run slices).
   */
  private perKey<T>(items: readonly T[], streamOf: (x: T) => string, one: (xs: readonly T[], key: Buffer | null) => EncodedMessage): EncodedMessage[] {
    if (items.length === 0) return [];
    if (this.keyMode === 'none') return [one(items, null)];
    const first = streamOf(items[0]!);
    let mixed = false;
    for (let i = 1; i < items.length; i++) if (streamOf(items[i]!) !== first) { mixed = true; break; }
    if (!mixed) return [one(items, this.keys.key(first))];
    const groups = new Map<string, T[]>();
    for (const x of items) {
      const st = streamOf(x);
      const g = groups.get(st);
      if (g) g.push(x); else groups.set(st, [x]);
    }
    const out: EncodedMessage[] = [];
    for (const [stream, xs] of groups) out.push(one(xs, this.keys.key(stream)));
    return out;
  }

  private readonly recordStream = (r: LogRecord): string => r.stream;
  private readonly recordMessage = (xs: readonly LogRecord[], key: Buffer | null): EncodedMessage => this.message(xs as LogRecord[], key);
  private readonly sliceStream = (sl: RunSlice): string => sl.run.stream;
  private readonly sliceMessage = (xs: readonly RunSlice[], key: Buffer | null): EncodedMessage => this.runMessage(xs, key);

  /**
   * Records in columns (file lines nobody decoded): the same bytes encode()
   * writes for their LogRecords, without building them. The stream
   * attributes, the read time and the run's attributes are the same for
   * every record of a run, so pass 1 measures them once per run; per record
   * only the offset and the body are measured and written.
   */
  encodeRuns(slices: readonly RunSlice[]): EncodedMessage[] {
    return this.perKey(slices, this.sliceStream, this.sliceMessage);
  }

  private runMessage(slices: readonly RunSlice[], key: Buffer | null): EncodedMessage {
    const n = sliceCount(slices);
    if (n > this.cap) this.grow(n);
    this.attrs.clear();
    const mids = this.runMids;
    mids.length = 0;
    // Pass 1: per record only its offset field and its body are measured.
    let sum = 0;
    let k = 0;
    for (let j = 0; j < slices.length; j++) {
      const { run, from, to } = slices[j]!;
      const mid = this.runMiddle(run);
      mids.push(mid);
      const utf8 = run.allUtf8(isUtf8);
      const a = run.attributes;
      const { starts, ends, offsets, bodies } = run;
      for (let i = from; i < to; i++, k++) {
        let f = 0;
        let len = mid.length;
        const off = offsets[i]!;
        if (off >= 0 && off <= 0xffffffff && off === Math.floor(off)) {
          f |= F_OFFSET_DIRECT;
          len += 1 + 1 + offsetKvLen(off);
        } else len += this.attrs.push(ATTR_OFFSET, off);
        if (a !== null) {
          // A run's attributes come from the tailer: never null (AttrValue), unlike a decoded record's.
          for (const name in a) len += this.attrs.push(name, a[name]!);
        }
        this.attrEnd[k] = this.attrs.n;
        const s = starts[i]!;
        const e = ends[i]!;
        if (utf8 || isUtf8(bodies.subarray(s, e))) f |= F_UTF8;
        len += fieldLen(fieldLen(e - s));
        this.flags[k] = f;
        this.recLen[k] = len;
        sum += fieldLen(len);
      }
    }
    const sl = fieldLen(this.scopeBytes.length) + sum;
    const rl = fieldLen(this.resourceBytes.length) + fieldLen(sl);
    const value = this.values.take(fieldLen(rl));
    // Pass 2.
    let pos = this.resourceLogsHead(value, 0, rl, this.resourceBytes, sl);
    const attrs = this.attrs;
    let ai = 0;
    k = 0;
    for (let j = 0; j < slices.length; j++) {
      const { run, from, to } = slices[j]!;
      const mid = mids[j]!;
      const { starts, ends, offsets, bodies } = run;
      for (let i = from; i < to; i++, k++) {
        value[pos++] = TAG_LOG_RECORDS;
        pos = writeVarint(value, pos, this.recLen[k]!);
        const f = this.flags[k]!;
        if ((f & F_OFFSET_DIRECT) !== 0) pos = writeOffsetKv(value, pos, offsets[i]!);
        const ae = this.attrEnd[k]!;
        for (; ai < ae; ai++) pos = attrs.write(value, pos, ai, TAG_ATTRIBUTES);
        value.set(mid, pos);
        pos += mid.length;
        const s = starts[i]!;
        const e = ends[i]!;
        const bl = e - s;
        value[pos++] = TAG_BODY;
        pos = writeVarint(value, pos, fieldLen(bl));
        value[pos++] = (f & F_UTF8) !== 0 ? TAG_STRING_VALUE : TAG_BYTES_VALUE;
        pos = writeVarint(value, pos, bl);
        pos += bodies.copy(value, pos, s, e); // ~38 ns for 200 B, the same as TypedArray#set of a view (node micro-benchmark)
      }
    }
    if (pos !== value.length) throw sizeMismatch(pos, value.length);
    return { key, value, headers: this.headers, records: NO_RECORDS, count: n, runs: slices };
  }

  /** What every record of a run carries between its attributes and its body: the read time and the stream attributes. */
  private runMiddle(run: RecordRun): Buffer {
    const sb = this.streamAttrs(run);
    msToNanoBits(run.observedMs, this.observed);
    this.lastObservedMs = run.observedMs;
    const obs = this.observed;
    if ((obs.low | obs.high) === 0) return sb;
    const mid = Buffer.allocUnsafe(9 + sb.length);
    mid[0] = TAG_OBSERVED;
    writeFixed64(mid, 1, obs.low, obs.high);
    mid.set(sb, 9);
    return mid;
  }

  /**
   * Encodes one LogsData for these records: one ResourceLogs with this
   * agent's resource, or, in the relay role, one per run of records that
   * carry the sending agent's resource (`edgelog.resource.*` attributes put
   * there by the forward source), so the original host/service/site survive the hop.
   */
  private message(records: LogRecord[], key: Buffer | null): EncodedMessage {
    const n = records.length;
    if (n > this.cap) this.grow(n);
    const runs = resourceRuns(records);
    this.relayed = runs !== null;
    this.attrs.clear();
    const scopeField = fieldLen(this.scopeBytes.length);
    let value: Buffer;
    if (runs === null) {
      const sl = scopeField + this.measure(records, 0, n);
      const rl = fieldLen(this.resourceBytes.length) + fieldLen(sl);
      value = this.values.take(fieldLen(rl));
      const end = this.resourceLogs(value, 0, rl, this.resourceBytes, sl, records, 0, n, 0);
      if (end !== value.length) throw sizeMismatch(end, value.length);
    } else {
      // Pass 1 over every run first (entries of `attrs` are in record order), then one Buffer.
      const res: Buffer[] = [];
      const sls: number[] = [];
      const rls: number[] = [];
      let total = 0;
      for (const run of runs) {
        const r = run.attributes.length === 0 ? this.resourceBytes : this.relayedResource(run.key, run.attributes);
        const sl = scopeField + this.measure(records, run.start, run.end);
        const rl = fieldLen(r.length) + fieldLen(sl);
        res.push(r); sls.push(sl); rls.push(rl);
        total += fieldLen(rl);
      }
      value = this.values.take(total);
      let pos = 0;
      let ai = 0;
      for (let k = 0; k < runs.length; k++) {
        const run = runs[k]!;
        pos = this.resourceLogs(value, pos, rls[k]!, res[k]!, sls[k]!, records, run.start, run.end, ai);
        ai = run.end > run.start ? this.attrEnd[run.end - 1]! : ai;
      }
      if (pos !== total) throw sizeMismatch(pos, total);
    }
    return { key, value, headers: this.headers, records };
  }

  private grow(n: number): void {
    const cap = Math.max(n, this.cap * 2, 256);
    this.cap = cap;
    this.recLen = new Int32Array(cap);
    this.flags = new Uint8Array(cap);
    this.sevTextLen = new Int32Array(cap);
    this.timeBits = new Uint32Array(cap * 2);
    this.obsBits = new Uint32Array(cap * 2);
    this.attrEnd = new Int32Array(cap);
  }

  /** Pass 1 over records[start..end): fills the per-record arrays; returns the bytes of their log_records fields. */
  private measure(records: LogRecord[], start: number, end: number): number {
    let sum = 0;
    for (let i = start; i < end; i++) {
      const len = this.measureRecord(records[i]!, i);
      this.recLen[i] = len;
      sum += fieldLen(len);
    }
    return sum;
  }

  private measureRecord(r: LogRecord, i: number): number {
    let f = 0;
    let len = 0;
    const ns = r.timeUnixNano;
    if (typeof ns === 'bigint' && ns > 0n) {
      bigintBits(ns); // wraps like the 64-bit field does
      if ((bits.lo | bits.hi) !== 0) {
        f |= F_TIME; len += 9;
        this.timeBits[2 * i] = bits.lo; this.timeBits[2 * i + 1] = bits.hi;
      }
    }
    const sev = r.severityNumber;
    if (sev !== 0) len += 1 + (sev < 0 ? 10 : varintLen(sev >>> 0));
    const st = r.severityText;
    if (typeof st === 'string' && st !== '') { // a plugin's non-string is dropped, never a failed batch
      f |= F_SEVERITY_TEXT;
      const n = utf8Len(st);
      this.sevTextLen[i] = n;
      len += fieldLen(n);
    }

    const attrs = this.attrs;
    const off = r.offset;
    if (off >= 0 && off <= 0xffffffff && off === Math.floor(off)) {
      f |= F_OFFSET_DIRECT;
      len += 1 + 1 + offsetKvLen(off); // the KeyValue is < 128 bytes: one length byte
    } else len += attrs.push(ATTR_OFFSET, off);
    const a = r.attributes;
    if (a !== null) {
      const relayed = this.relayed;
      for (const k in a) {
        const v = a[k];
        if (v === undefined || v === null || (relayed && isRelayedResourceKey(k))) continue;
        len += attrs.push(k, v);
      }
    }
    this.attrEnd[i] = attrs.n;

    if (r.traceId.length === 32 && HEX.test(r.traceId)) { f |= F_TRACE; len += 18; }
    if (r.spanId.length === 16 && HEX.test(r.spanId)) { f |= F_SPAN; len += 10; }
    if (r.observedMs !== this.lastObservedMs) {
      msToNanoBits(r.observedMs, this.observed);
      this.lastObservedMs = r.observedMs;
    }
    const obs = this.observed;
    if ((obs.low | obs.high) !== 0) {
      f |= F_OBSERVED; len += 9;
      this.obsBits[2 * i] = obs.low; this.obsBits[2 * i + 1] = obs.high;
    }
    const sb = this.streamAttrs(r);
    this.streamBytes[i] = sb;
    len += sb.length;
    const body = r.body;
    if (isUtf8(body)) f |= F_UTF8;
    len += fieldLen(fieldLen(body.length));
    this.flags[i] = f;
    return len;
  }

  /** Pass 2: one ResourceLogs field with records[start..end); `ai` is the first attribute entry of records[start]. */
  private resourceLogs(buf: Buffer, pos: number, rl: number, resource: Buffer, sl: number, records: LogRecord[], start: number, end: number, ai: number): number {
    pos = this.resourceLogsHead(buf, pos, rl, resource, sl);
    for (let i = start; i < end; i++) {
      pos = this.writeRecord(buf, pos, records[i]!, i, ai);
      ai = this.attrEnd[i]!;
    }
    return pos;
  }

  /** A ResourceLogs field up to its scope: what comes before the log_records. */
  private resourceLogsHead(buf: Buffer, pos: number, rl: number, resource: Buffer, sl: number): number {
    buf[pos++] = TAG_RESOURCE_LOGS;
    pos = writeVarint(buf, pos, rl);
    buf[pos++] = TAG_RESOURCE;
    pos = writeVarint(buf, pos, resource.length);
    pos += resource.copy(buf, pos);
    buf[pos++] = TAG_SCOPE_LOGS;
    pos = writeVarint(buf, pos, sl);
    buf[pos++] = TAG_SCOPE;
    pos = writeVarint(buf, pos, this.scopeBytes.length);
    return pos + this.scopeBytes.copy(buf, pos);
  }

  private writeRecord(buf: Buffer, pos: number, r: LogRecord, i: number, ai: number): number {
    buf[pos++] = TAG_LOG_RECORDS;
    pos = writeVarint(buf, pos, this.recLen[i]!);
    const f = this.flags[i]!;
    if ((f & F_TIME) !== 0) {
      buf[pos++] = TAG_TIME;
      pos = writeFixed64(buf, pos, this.timeBits[2 * i]!, this.timeBits[2 * i + 1]!);
    }
    const sev = r.severityNumber;
    if (sev !== 0) {
      buf[pos++] = TAG_SEVERITY;
      pos = sev < 0 ? writeVarint64(buf, pos, sev >>> 0, 0xffffffff) : writeVarint(buf, pos, sev >>> 0);
    }
    if ((f & F_SEVERITY_TEXT) !== 0) {
      const n = this.sevTextLen[i]!;
      buf[pos++] = TAG_SEVERITY_TEXT;
      pos = writeVarint(buf, pos, n);
      pos = writeString(buf, pos, r.severityText, n);
    }
    if ((f & F_OFFSET_DIRECT) !== 0) pos = writeOffsetKv(buf, pos, r.offset);
    const attrs = this.attrs;
    const ae = this.attrEnd[i]!;
    for (let k = ai; k < ae; k++) pos = attrs.write(buf, pos, k, TAG_ATTRIBUTES);
    if ((f & F_TRACE) !== 0) {
      buf[pos++] = TAG_TRACE_ID; buf[pos++] = 16;
      pos += buf.write(r.traceId, pos, 16, 'hex');
    }
    if ((f & F_SPAN) !== 0) {
      buf[pos++] = TAG_SPAN_ID; buf[pos++] = 8;
      pos += buf.write(r.spanId, pos, 8, 'hex');
    }
    if ((f & F_OBSERVED) !== 0) {
      buf[pos++] = TAG_OBSERVED;
      pos = writeFixed64(buf, pos, this.obsBits[2 * i]!, this.obsBits[2 * i + 1]!);
    }
    // path, stream id and source: cached KeyValues (repeated fields may interleave)
    const sb = this.streamBytes[i]!;
    buf.set(sb, pos);
    pos += sb.length;
    // body: AnyValue { string_value | bytes_value } straight from the Buffer
    const body = r.body;
    buf[pos++] = TAG_BODY;
    pos = writeVarint(buf, pos, fieldLen(body.length));
    buf[pos++] = (f & F_UTF8) !== 0 ? TAG_STRING_VALUE : TAG_BYTES_VALUE;
    pos = writeVarint(buf, pos, body.length);
    buf.set(body, pos); // TypedArray set: cheaper than Buffer#copy's argument handling for short lines
    return pos + body.length;
  }

  /** Encoded Resource of a relayed sender, cached by its attribute text (a relay sees a bounded set of agents). */
  private relayedResource(key: string, attrs: ReadonlyArray<[string, AttrValue]>): Buffer {
    let b = this.resourceCache.get(key);
    if (!b) {
      b = encodeKvs(TAG_RESOURCE_ATTRIBUTES, attrs);
      if (this.resourceCache.size >= 1024) this.resourceCache.clear(); // bound memory if senders churn
      this.resourceCache.set(key, b);
    }
    return b;
  }

  /** log.file.path, edgelog.stream_id and edgelog.source as encoded LogRecord.attributes entries. */
  private streamAttrs(r: Pick<LogRecord, 'stream' | 'streamId' | 'source'>): Buffer {
    if (this.cBytes !== null && r.stream === this.cStream && r.streamId === this.cStreamId && r.source === this.cSource) return this.cBytes;
    let e = this.streamCache.get(r.stream);
    if (e === undefined || e.streamId !== r.streamId || e.source !== r.source) {
      const kvs: Array<[string, string]> = [[ATTR_FILE_PATH, r.stream], [ATTR_STREAM_ID, r.streamId]];
      if (r.source) kvs.push([ATTR_SOURCE, r.source]);
      e = { streamId: r.streamId, source: r.source, bytes: encodeKvs(TAG_ATTRIBUTES, kvs) };
      if (this.streamCache.size >= 1024) this.streamCache.clear(); // bound memory if paths churn
      this.streamCache.set(r.stream, e);
    }
    this.cStream = r.stream; this.cStreamId = r.streamId; this.cSource = r.source; this.cBytes = e.bytes;
    return e.bytes;
  }
}

export const otlpProtoEncoder: ComponentSpec<OtlpProtoConfig, Encoder> = declaredComponent(otlpProtoSection, {
  kind: 'encoder',
  type: 'otlp_proto',
  summary: 'OTLP LogsData protobuf, many records per Kafka message (what the OpenTelemetry Collector Kafka receiver reads)',
  create(cfg: OtlpProtoConfig, ctx: ComponentContext): Encoder {
    return new OtlpProtoEncoder(cfg, ctx);
  },
});
