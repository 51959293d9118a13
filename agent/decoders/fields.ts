// The fields structured decoders (json, logfmt, regex) lift out of a line into
// the OTLP record: message -> body, level -> severity, time -> timeUnixNano,
// service -> service.name, trace/span ids. The key names are configurable;
// a key -> role Map is built once at config time so the hot path does one
// Map lookup per field.

import type { AttrValue, LogRecord } from '../core/record.ts';
import { severityFromNumber, severityFromText } from './severity.ts';
import { epochTextToNs, parseAnyTime } from './time.ts';
import { choice, type Infer, section, stringList } from '../config/declare.ts';

export const ROLE_NONE = 0, ROLE_MESSAGE = 1, ROLE_LEVEL = 2, ROLE_TIME = 3, ROLE_SERVICE = 4, ROLE_TRACE = 5, ROLE_SPAN = 6;

/**
 * The keys naming where the known fields are (json, logfmt), declared once
 * (agent/config/declare.ts) and spread into each decoder's section; `asFor`:
 * the meanings say "as for `json`".
 */
export function knownFields(asFor?: string) {
  const as = (own: string): string => (asFor ? `as for \`${asFor}\`` : own);
  return {
    // pino/bunyan write msg, winston/logrus/zap message/msg; Vector's and the OTel
    // collector's json parsers leave the choice to config, so these are the common spellings.
    /** Keys holding the message; the first found becomes the body when body is 'message'. */
    message_keys: stringList('message_keys', as('the first one found becomes the body (see `body`)'), ['message', 'msg']),
    level_keys: stringList('level_keys', as('severity text and number'), ['level', 'severity', 'lvl', 'loglevel', 'log.level']),
    // zap: ts, pino: time, logstash/ECS: @timestamp, many: timestamp
    time_keys: stringList('time_keys', as('event time (RFC 3339 text, epoch number or text)'), ['time', 'ts', '@timestamp', 'timestamp']),
    service_keys: stringList('service_keys', as('attribute `service.name`'), ['service', 'service.name']),
    trace_id_keys: stringList('trace_id_keys', as('trace id when 32 hex digits'), ['trace_id', 'traceId', 'trace.id']),
    span_id_keys: stringList('span_id_keys', as('span id when 16 hex digits'), ['span_id', 'spanId', 'span.id']),
    /** 'message': body becomes the extracted message (the line is not kept twice); 'original': body stays the raw line. */
    body: bodyField(as('`message`: body becomes the message; `original`: the raw line stays the body')),
  };
}

/** `body`: the message becomes the body, or the raw line stays it. */
export function bodyField(meaning: string) {
  return choice<'message' | 'original'>('body', ['message', 'original'], 'message', meaning);
}

const knownFieldsSection = section(knownFields());
export type KnownFieldsConfig = Infer<typeof knownFieldsSection>;
export const knownFieldsDefaults: KnownFieldsConfig = knownFieldsSection.defaults;

export function roleMap(c: KnownFieldsConfig): Map<string, number> {
  const m = new Map<string, number>();
  const put = (keys: string[], role: number) => { for (const k of keys) if (!m.has(k)) m.set(k, role); };
  put(c.message_keys, ROLE_MESSAGE); put(c.level_keys, ROLE_LEVEL); put(c.time_keys, ROLE_TIME);
  put(c.service_keys, ROLE_SERVICE); put(c.trace_id_keys, ROLE_TRACE); put(c.span_id_keys, ROLE_SPAN);
  return m;
}

function isHex(s: string, len: number): boolean {
  if (s.length !== len) return false;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i) | 0x20;
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/**
 * Apply one decoded field. `text` is the value's source text for numbers (keeps
 * ns precision of epoch timestamps), else undefined. Returns true when the
 * message was taken as body.
 */
export function applyField(rec: LogRecord, attrs: Record<string, AttrValue>, role: number, key: string, value: AttrValue, bodyFromMessage: boolean, text?: string): boolean {
  switch (role) {
    case ROLE_MESSAGE:
      if (bodyFromMessage && typeof value === 'string') { rec.body = Buffer.from(value, 'utf8'); return true; }
      break;
    case ROLE_LEVEL:
      if (typeof value === 'string') { rec.severityText = value; rec.severityNumber = severityFromText(value); return false; }
      if (typeof value === 'number') { rec.severityText = String(value); rec.severityNumber = severityFromNumber(value); return false; }
      break;
    case ROLE_TIME: {
      const ns = typeof value === 'number' && text !== undefined ? epochTextToNs(text) : parseAnyTime(value);
      if (ns !== 0n) { rec.timeUnixNano = ns; return false; }
      break;
    }
    case ROLE_SERVICE:
      attrs['service.name'] = value;
      return false;
    case ROLE_TRACE:
      if (typeof value === 'string' && isHex(value, 32)) { rec.traceId = value.toLowerCase(); return false; }
      break;
    case ROLE_SPAN:
      if (typeof value === 'string' && isHex(value, 16)) { rec.spanId = value.toLowerCase(); return false; }
      break;
  }
  attrs[key] = value;
  return false;
}
