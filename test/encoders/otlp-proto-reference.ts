// The protobufjs Writer (fork/ldelim) otlp_proto encoder as it was before the
// two-pass rewrite of agent/encoders/otlp/otlp-proto.ts, kept only as a
// reference: otlp-bytes.test.ts checks the new encoder writes the same bytes,
// and bench/stages/otlp-encode.ts measures it as the baseline. Not shipped.

import { isUtf8 } from 'node:buffer';
import protobuf from 'protobufjs/minimal.js';
import type { ComponentContext, EncodedMessage, Encoder } from '../../agent/core/component.ts';
import type { AttrValue, LogRecord } from '../../agent/core/record.ts';
import { KeyCache, type KeyMode } from '../../agent/encoders/key.ts';
import { isRelayedResourceKey, resourceRuns } from '../../agent/core/relayed-resource.ts';
import { otlp, type KeyValueProps } from './otlp-proto-types.ts';

export interface OtlpProtoConfig {
  key: KeyMode;
  /** Extra resource attributes (override the defaults of the same name). */
  resourceAttributes: Record<string, string>;
  /** InstrumentationScope name. */
  scopeName: string;
}

export const otlpProtoDefaults: OtlpProtoConfig = {
  key: 'stream', // per-source order on one partition (brief: in order per source)
  resourceAttributes: {},
  scopeName: 'edgelog', // the scope is the agent itself, as Collector receivers name theirs
};

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

// Wire tags: (field << 3) | wire type.
const TAG_RESOURCE_LOGS = (1 << 3) | 2; // LogsData.resource_logs
const TAG_RESOURCE = (1 << 3) | 2; // ResourceLogs.resource
const TAG_SCOPE_LOGS = (2 << 3) | 2; // ResourceLogs.scope_logs
const TAG_SCOPE = (1 << 3) | 2; // ScopeLogs.scope
const TAG_LOG_RECORDS = (2 << 3) | 2; // ScopeLogs.log_records
const TAG_BODY = (5 << 3) | 2; // LogRecord.body
const TAG_STRING_VALUE = (1 << 3) | 2; // AnyValue.string_value
const TAG_BYTES_VALUE = (7 << 3) | 2; // AnyValue.bytes_value

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

function bigintBits(ns: bigint, out: Bits): Bits {
  out.low = Number(ns & 0xffffffffn);
  out.high = Number((ns >> 32n) & 0xffffffffn);
  return out;
}

function stringKv(key: string, value: string): KeyValueProps {
  return { key, value: { stringValue: value } };
}

/** A pooled KeyValue whose AnyValue holds exactly one non-null member. */
interface SlotValue { stringValue: string | null; boolValue: boolean | null; intValue: number | Bits | null; doubleValue: number | null }
interface Slot { key: string; value: SlotValue }

function setAttr(slot: Slot, key: string, v: AttrValue): void {
  const val = slot.value;
  slot.key = key;
  val.stringValue = null; val.boolValue = null; val.intValue = null; val.doubleValue = null;
  if (typeof v === 'string') val.stringValue = v;
  else if (typeof v === 'boolean') val.boolValue = v;
  else if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) val.intValue = v;
    else val.doubleValue = v;
  } else {
    // Outside the declared types (a decoder bug or a plugin): never fail the batch for it.
    const x = v as unknown;
    if (typeof x === 'bigint' && x >= -(2n ** 63n) && x < 2n ** 63n) val.intValue = bigintBits(BigInt.asUintN(64, x), { low: 0, high: 0 });
    else val.stringValue = typeof x === 'object' ? safeJson(x) : String(x);
  }
}

function safeJson(x: unknown): string {
  try { return JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(x); } catch { return String(x); }
}

export class ReferenceOtlpProtoEncoder implements Encoder {
  readonly name = 'otlp_proto';
  private readonly keyMode: KeyMode;
  private readonly keys = new KeyCache();
  private readonly resourceBytes: Uint8Array;
  private readonly scopeBytes: Uint8Array;
  private readonly headers: Record<string, string> = Object.freeze({ 'edgelog.encoding': 'otlp_proto' }) as Record<string, string>;
  // Scratch state reused for every record (encode is synchronous).
  private readonly time: Bits = { low: 0, high: 0 };
  private readonly observed: Bits = { low: 0, high: 0 };
  private lastObservedMs = -1;
  /** The current message carries relayed resources: their attributes are lifted, not repeated per record. */
  private relayed = false;
  private readonly resourceCache = new Map<string, Uint8Array>();
  private readonly slots: Slot[] = [];
  private readonly attrs: Slot[] = [];
  private readonly scratch: {
    timeUnixNano: Bits | null; observedTimeUnixNano: Bits; severityNumber: number; severityText: string;
    attributes: Slot[]; traceId: Buffer | null; spanId: Buffer | null;
  };

  constructor(cfg: OtlpProtoConfig, ctx: Pick<ComponentContext, 'host' | 'service' | 'site' | 'agentId'>) {
    this.keyMode = cfg.key;
    const res: Record<string, string> = {
      [RES_HOST]: ctx.host, [RES_SERVICE]: ctx.service, [RES_SITE]: ctx.site, [RES_AGENT]: ctx.agentId,
      ...cfg.resourceAttributes,
    };
    this.resourceBytes = otlp.Resource.encode({ attributes: Object.entries(res).map(([k, v]) => stringKv(k, v)) }).finish();
    this.scopeBytes = otlp.InstrumentationScope.encode({ name: cfg.scopeName }).finish();
    this.scratch = {
      timeUnixNano: null, observedTimeUnixNano: this.observed, severityNumber: 0, severityText: '',
      attributes: this.attrs, traceId: null, spanId: null,
    };
  }

  encode(records: LogRecord[]): EncodedMessage[] {
    if (records.length === 0) return [];
    if (this.keyMode === 'none') return [this.message(records, null)];
    // key=stream: one message per stream so a stream never spans two keys
    // (and partitions). Fast path: the whole batch is one stream.
    const first = records[0]!.stream;
    let mixed = false;
    for (let i = 1; i < records.length; i++) if (records[i]!.stream !== first) { mixed = true; break; }
    if (!mixed) return [this.message(records, this.keys.key(first))];
    const groups = new Map<string, LogRecord[]>();
    for (const r of records) {
      const g = groups.get(r.stream);
      if (g) g.push(r); else groups.set(r.stream, [r]);
    }
    const out: EncodedMessage[] = [];
    for (const [stream, recs] of groups) out.push(this.message(recs, this.keys.key(stream)));
    return out;
  }

  /**
   * Encodes one LogsData for these records: one ResourceLogs with this
   * agent's resource, or, in the relay role, one per run of records that
   * carry the sending agent's resource (`edgelog.resource.*` attributes put
   * there by the forward source), so the original host/service/site survive the hop.
   */
  private message(records: LogRecord[], key: Buffer | null): EncodedMessage {
    const w = protobuf.Writer.create();
    const runs = resourceRuns(records);
    this.relayed = runs !== null;
    if (runs === null) {
      this.resourceLogs(w, this.resourceBytes, records, 0, records.length);
    } else {
      for (const run of runs) {
        const res = run.attributes.length === 0 ? this.resourceBytes : this.relayedResource(run.key, run.attributes);
        this.resourceLogs(w, res, records, run.start, run.end);
      }
    }
    return { key, value: w.finish() as Buffer, headers: this.headers, records };
  }

  private resourceLogs(w: protobuf.Writer, resource: Uint8Array, records: LogRecord[], start: number, end: number): void {
    w.uint32(TAG_RESOURCE_LOGS).fork();
    w.uint32(TAG_RESOURCE).bytes(resource);
    w.uint32(TAG_SCOPE_LOGS).fork();
    w.uint32(TAG_SCOPE).bytes(this.scopeBytes);
    for (let i = start; i < end; i++) this.record(records[i]!, w);
    w.ldelim(); // scope_logs
    w.ldelim(); // resource_logs
  }

  /** Encoded Resource of a relayed sender, cached by its attribute text (a relay sees a bounded set of agents). */
  private relayedResource(key: string, attrs: ReadonlyArray<[string, AttrValue]>): Uint8Array {
    let b = this.resourceCache.get(key);
    if (!b) {
      const kvs = attrs.map(([k, v]) => {
        const slot: Slot = { key: '', value: { stringValue: null, boolValue: null, intValue: null, doubleValue: null } };
        setAttr(slot, k, v);
        return slot;
      });
      b = otlp.Resource.encode({ attributes: kvs as unknown as KeyValueProps[] }).finish();
      if (this.resourceCache.size >= 1024) this.resourceCache.clear(); // bound memory if senders churn
      this.resourceCache.set(key, b);
    }
    return b;
  }

  private record(r: LogRecord, w: protobuf.Writer): void {
    const s = this.scratch;
    s.timeUnixNano = r.timeUnixNano > 0n ? bigintBits(r.timeUnixNano, this.time) : null;
    if (r.observedMs !== this.lastObservedMs) {
      msToNanoBits(r.observedMs, this.observed);
      this.lastObservedMs = r.observedMs;
    }
    s.severityNumber = r.severityNumber;
    s.severityText = r.severityText;
    s.traceId = r.traceId.length === 32 && HEX.test(r.traceId) ? Buffer.from(r.traceId, 'hex') : null;
    s.spanId = r.spanId.length === 16 && HEX.test(r.spanId) ? Buffer.from(r.spanId, 'hex') : null;

    const attrs = this.attrs;
    attrs.length = 0;
    this.push(ATTR_OFFSET, r.offset);
    const a = r.attributes;
    if (a !== null) {
      for (const k in a) {
        const v = a[k];
        if (v === undefined || v === null || (this.relayed && isRelayedResourceKey(k))) continue;
        this.push(k, v);
      }
    }

    w.uint32(TAG_LOG_RECORDS).fork();
    otlp.LogRecord.encode(s as unknown as Record<string, unknown>, w);
    // path, stream id and source are the same for long runs of records: their
    // encoded KeyValues are cached and copied (repeated fields may interleave).
    w.raw(this.streamAttrs(r));
    // body: AnyValue { string_value | bytes_value } written straight from the Buffer
    w.uint32(TAG_BODY).fork().uint32(isUtf8(r.body) ? TAG_STRING_VALUE : TAG_BYTES_VALUE).bytes(r.body).ldelim();
    w.ldelim();
  }

  private cStream = '';
  private cStreamId = '';
  private cSource = '';
  private cBytes: Uint8Array | null = null;

  private streamAttrs(r: LogRecord): Uint8Array {
    if (this.cBytes === null || r.stream !== this.cStream || r.streamId !== this.cStreamId || r.source !== this.cSource) {
      const kvs = [stringKv(ATTR_FILE_PATH, r.stream), stringKv(ATTR_STREAM_ID, r.streamId)];
      if (r.source) kvs.push(stringKv(ATTR_SOURCE, r.source));
      // Encode as a LogRecord holding only these attributes: its bytes are exactly the repeated field 6 entries.
      this.cBytes = otlp.LogRecord.encode({ attributes: kvs }).finish();
      this.cStream = r.stream; this.cStreamId = r.streamId; this.cSource = r.source;
    }
    return this.cBytes;
  }

  private push(key: string, v: AttrValue): void {
    const i = this.attrs.length;
    let slot = this.slots[i];
    if (!slot) {
      slot = { key: '', value: { stringValue: null, boolValue: null, intValue: null, doubleValue: null } };
      this.slots.push(slot);
    }
    setAttr(slot, key, v);
    this.attrs.push(slot);
  }
}
