// The fields structured decoders (json, logfmt, regex) lift out of a line into
// the OTLP record: message -> body, level -> severity, time -> timeUnixNano,
// service -> service.name, trace/span ids. The key names are configurable;
// a key -> role Map is built once at config time so the hot path does one
// Map lookup per field.

import type { AttrValue, LogRecord } from '../core/record.ts';
import { severityFromNumber, severityFromText } from './severity.ts';
import { epochTextToNs, parseAnyTime } from './time.ts';
import { readEnum, readStringList } from '../config/schema.ts';
import type { Raw } from '../config/schema.ts';

export const ROLE_NONE = 0, ROLE_MESSAGE = 1, ROLE_LEVEL = 2, ROLE_TIME = 3, ROLE_SERVICE = 4, ROLE_TRACE = 5, ROLE_SPAN = 6;

export interface KnownFieldsConfig {
  /** Keys holding the message; the first found becomes the body when body is 'message'. */
  message_keys: string[];
  level_keys: string[];
  time_keys: string[];
  service_keys: string[];
  trace_id_keys: string[];
  span_id_keys: string[];
  /** 'message': body becomes the extracted message (the line is not kept twice); 'original': body stays the raw line. */
  body: 'message' | 'original';
}

export const knownFieldsDefaults: KnownFieldsConfig = {
  // pino/bunyan write msg, winston/logrus/zap message/msg; Vector's and the OTel
  // collector's json parsers leave the choice to config, so these are the common spellings.
  message_keys: ['message', 'msg'],
  level_keys: ['level', 'severity', 'lvl', 'loglevel', 'log.level'],
  // zap: ts, pino: time, logstash/ECS: @timestamp, many: timestamp
  time_keys: ['time', 'ts', '@timestamp', 'timestamp'],
  service_keys: ['service', 'service.name'],
  trace_id_keys: ['trace_id', 'traceId', 'trace.id'],
  span_id_keys: ['span_id', 'spanId', 'span.id'],
  body: 'message',
};

export const knownFieldsKeys = ['message_keys', 'level_keys', 'time_keys', 'service_keys', 'trace_id_keys', 'span_id_keys', 'body'] as const;

export function readKnownFields(m: Raw, path: string): KnownFieldsConfig {
  const d = knownFieldsDefaults;
  return {
    message_keys: readStringList(m, 'message_keys', path, d.message_keys),
    level_keys: readStringList(m, 'level_keys', path, d.level_keys),
    time_keys: readStringList(m, 'time_keys', path, d.time_keys),
    service_keys: readStringList(m, 'service_keys', path, d.service_keys),
    trace_id_keys: readStringList(m, 'trace_id_keys', path, d.trace_id_keys),
    span_id_keys: readStringList(m, 'span_id_keys', path, d.span_id_keys),
    body: readEnum(m, 'body', path, ['message', 'original'] as const, d.body),
  };
}

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
