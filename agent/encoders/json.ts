// `json`: one record per Kafka message, a flat JSON object for consumers that
// do not speak OTLP. Body is a string when it is valid UTF-8, otherwise
// base64 with `body_encoding: "base64"` (JSON cannot carry raw bytes).
// Times are nanoseconds since the epoch as decimal strings (a JSON number
// loses precision past 2^53) plus an RFC 3339 copy for people.

import { isUtf8 } from 'node:buffer';
import type { ComponentContext, ComponentSpec, EncodedMessage, Encoder } from '../core/component.ts';
import type { LogRecord } from '../core/record.ts';
import { KeyCache, keyOnlySection, type KeyMode, type KeyOnlyConfig } from './key.ts';
import { declaredComponent } from '../config/declare.ts';

/** Only `key`, declared once (encoders/key.ts). */
export type JsonConfig = KeyOnlyConfig;
export const jsonDefaults: JsonConfig = keyOnlySection.defaults;

const severityNames = ['', 'TRACE', 'TRACE2', 'TRACE3', 'TRACE4', 'DEBUG', 'DEBUG2', 'DEBUG3', 'DEBUG4', 'INFO', 'INFO2', 'INFO3', 'INFO4',
  'WARN', 'WARN2', 'WARN3', 'WARN4', 'ERROR', 'ERROR2', 'ERROR3', 'ERROR4', 'FATAL', 'FATAL2', 'FATAL3', 'FATAL4'];

/** The object each message holds (exported for consumers and tests). */
export interface JsonLogLine {
  body: string;
  body_encoding?: 'base64';
  time_unix_nano?: string;
  time?: string;
  observed_time_unix_nano: string;
  severity_number?: number;
  severity?: string;
  attributes?: Record<string, string | number | boolean>;
  trace_id?: string;
  span_id?: string;
  source: string;
  stream: string;
  stream_id: string;
  offset: number;
  host: string;
  service: string;
  site: string;
  agent_id: string;
}

function isoFromNanos(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return new Date(Number(ms)).toISOString().slice(0, 19) + '.' + frac + 'Z';
}

/** JSON.stringify, falling back to a replacer only when an attribute is a BigInt (never fail the batch). */
function stringify(o: JsonLogLine): string {
  try {
    return JSON.stringify(o);
  } catch {
    return JSON.stringify(o, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  }
}

export class JsonEncoder implements Encoder {
  readonly name = 'json';
  private readonly keyMode: KeyMode;
  private readonly keys = new KeyCache();
  private readonly headers = Object.freeze({ 'edgelog.encoding': 'json' }) as Record<string, string>;
  private readonly ctx: Pick<ComponentContext, 'host' | 'service' | 'site' | 'agentId'>;

  constructor(cfg: JsonConfig, ctx: Pick<ComponentContext, 'host' | 'service' | 'site' | 'agentId'>) {
    this.keyMode = cfg.key;
    this.ctx = ctx;
  }

  encode(records: LogRecord[]): EncodedMessage[] {
    const out: EncodedMessage[] = new Array(records.length);
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      out[i] = { key: this.keyMode === 'stream' ? this.keys.key(r.stream) : null, value: Buffer.from(stringify(this.line(r)), 'utf8'), headers: this.headers, records: [r] };
    }
    return out;
  }

  line(r: LogRecord): JsonLogLine {
    const utf8 = isUtf8(r.body);
    const observed = BigInt(Math.floor(r.observedMs)) * 1_000_000n;
    const o: JsonLogLine = {
      body: utf8 ? r.body.toString('utf8') : r.body.toString('base64'),
      observed_time_unix_nano: observed.toString(),
      source: r.source, stream: r.stream, stream_id: r.streamId, offset: r.offset,
      host: this.ctx.host, service: this.ctx.service, site: this.ctx.site, agent_id: this.ctx.agentId,
    };
    if (!utf8) o.body_encoding = 'base64';
    if (r.timeUnixNano > 0n) { o.time_unix_nano = r.timeUnixNano.toString(); o.time = isoFromNanos(r.timeUnixNano); }
    if (r.severityNumber > 0) o.severity_number = r.severityNumber;
    if (r.severityText) o.severity = r.severityText;
    else if (r.severityNumber > 0 && r.severityNumber < severityNames.length) o.severity = severityNames[r.severityNumber];
    if (r.attributes !== null) o.attributes = r.attributes;
    if (r.traceId) o.trace_id = r.traceId;
    if (r.spanId) o.span_id = r.spanId;
    return o;
  }
}

export const jsonEncoder: ComponentSpec<JsonConfig, Encoder> = declaredComponent(keyOnlySection, {
  kind: 'encoder',
  type: 'json',
  summary: 'one JSON object per Kafka message (body, times, severity, attributes, stream, offset)',
  create(cfg: JsonConfig, ctx: ComponentContext): Encoder {
    return new JsonEncoder(cfg, ctx);
  },
});
