// Field references used by filter, sample, throttle, validate: a name from
// config resolved once into a kind, so reading it per record is a switch, not
// a string comparison chain or a closure.
//   body | message          the body as text
//   severity_text | level   severityText
//   severity_number         severityNumber
//   trace_id, span_id, source, stream
//   attributes.<key> | <key> an attribute (dotted keys are attribute names as decoded, e.g. http.status)

import type { AttrValue, LogRecord } from '../core/record.ts';

const BODY = 1, SEV_TEXT = 2, SEV_NUM = 3, TRACE = 4, SPAN = 5, SOURCE = 6, STREAM = 7, ATTR = 8;

export class FieldRef {
  readonly name: string;
  private readonly kind: number;
  private readonly key: string;
  constructor(name: string) {
    this.name = name;
    let kind = ATTR;
    let key = name;
    switch (name) {
      case 'body': case 'message': kind = BODY; break;
      case 'severity_text': case 'level': kind = SEV_TEXT; break;
      case 'severity_number': case 'severity': kind = SEV_NUM; break;
      case 'trace_id': kind = TRACE; break;
      case 'span_id': kind = SPAN; break;
      case 'source': kind = SOURCE; break;
      case 'stream': kind = STREAM; break;
      default: if (name.startsWith('attributes.')) key = name.slice(11);
    }
    this.kind = kind;
    this.key = key;
  }
  get isBody(): boolean { return this.kind === BODY; }
  get isAttribute(): boolean { return this.kind === ATTR; }
  get attributeKey(): string { return this.key; }

  /** The value, or undefined when absent ('' trace ids and unset severity count as absent). */
  get(rec: LogRecord): AttrValue | undefined {
    switch (this.kind) {
      case BODY: return rec.body.toString('utf8');
      case SEV_TEXT: return rec.severityText === '' ? undefined : rec.severityText;
      case SEV_NUM: return rec.severityNumber === 0 ? undefined : rec.severityNumber;
      case TRACE: return rec.traceId === '' ? undefined : rec.traceId;
      case SPAN: return rec.spanId === '' ? undefined : rec.spanId;
      case SOURCE: return rec.source;
      case STREAM: return rec.stream;
      default: return rec.attributes === null ? undefined : rec.attributes[this.key];
    }
  }

  /** Bytes/text to hash or key by without building a string for the body. */
  keyOf(rec: LogRecord): string | Buffer | undefined {
    if (this.kind === BODY) return rec.body;
    const v = this.get(rec);
    return v === undefined ? undefined : typeof v === 'string' ? v : String(v);
  }
}

/** FNV-1a 32-bit over a string's UTF-16 units or a Buffer's bytes: stable across restarts and hosts. */
export function fnv1a(v: string | Buffer): number {
  let h = 0x811c9dc5;
  if (typeof v === 'string') {
    for (let i = 0; i < v.length; i++) { h ^= v.charCodeAt(i); h = Math.imul(h, 0x01000193); }
  } else {
    for (let i = 0; i < v.length; i++) { h ^= v[i]!; h = Math.imul(h, 0x01000193); }
  }
  return h >>> 0;
}
