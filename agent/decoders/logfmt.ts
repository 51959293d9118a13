// logfmt decoder (`level=info msg="user logged in" user=42`): one scan per
// line, values stay strings (logfmt has no types), known keys (level, msg,
// time/ts, service, trace ids) go to the OTLP fields like in the JSON decoder.
// A line with no key=value pair passes on unchanged, counted as malformed.

import type { ComponentContext, ComponentSpec, Processor } from '../core/component.ts';
import type { AttrValue, LogRecord } from '../core/record.ts';
import { section, declaredComponent } from '../config/declare.ts';
import { LineDecoder } from './line-decoder.ts';
import { applyField, knownFields, roleMap, ROLE_NONE } from './fields.ts';
import type { KnownFieldsConfig } from './fields.ts';

/** The decoder's keys (the known fields only), declared once (agent/config/declare.ts). */
export const logfmtDecoderSection = section(knownFields('json'));
export type LogfmtDecoderConfig = KnownFieldsConfig;
export const logfmtDecoderDefaults: LogfmtDecoderConfig = logfmtDecoderSection.defaults;

/**
 * Parse into reused arrays; returns the number of fields. Bare keys get value
 * 'true' (the go-logfmt convention); `counts[0]` receives how many fields had
 * an '=' (a line without any is not logfmt).
 */
export function scanLogfmt(s: string, keys: string[], vals: string[], counts: number[]): number {
  let n = 0;
  let pairs = 0;
  let i = 0;
  const len = s.length;
  while (i < len) {
    let c = s.charCodeAt(i);
    while (i < len && (c === 32 || c === 9)) c = s.charCodeAt(++i);
    if (i >= len) break;
    const ks = i;
    while (i < len && (c = s.charCodeAt(i)) > 32 && c !== 61 && c !== 34) i++;
    if (i === ks) { i++; continue; } // stray '=' or '"': skip it
    const key = s.slice(ks, i);
    if (c !== 61) { keys[n] = key; vals[n++] = 'true'; continue; }
    i++; // '='
    pairs++;
    if (i < len && s.charCodeAt(i) === 34) {
      const vs = ++i;
      let esc = false;
      while (i < len && (c = s.charCodeAt(i)) !== 34) { if (c === 92) { esc = true; i++; } i++; }
      let v = s.slice(vs, i);
      if (esc) v = v.replace(/\\(.)/g, unescape);
      keys[n] = key; vals[n++] = v;
      i++; // closing quote (or end of an unterminated value)
    } else {
      const vs = i;
      while (i < len && (c = s.charCodeAt(i)) !== 32 && c !== 9) i++;
      keys[n] = key; vals[n++] = s.slice(vs, i);
    }
  }
  counts[0] = pairs;
  return n;
}

function unescape(_m: string, ch: string): string {
  return ch === 'n' ? '\n' : ch === 't' ? '\t' : ch === 'r' ? '\r' : ch;
}

export class LogfmtDecoder extends LineDecoder {
  private readonly roles: Map<string, number>;
  private readonly bodyFromMessage: boolean;
  private readonly keys: string[] = [];
  private readonly vals: string[] = [];
  private readonly counts: number[] = [0];

  constructor(cfg: LogfmtDecoderConfig, ctx: ComponentContext) {
    super(ctx);
    this.roles = roleMap(cfg);
    this.bodyFromMessage = cfg.body === 'message';
  }

  decodeOne(rec: LogRecord): void {
    // No '=' anywhere: not logfmt, and no string was made for it.
    if (rec.body.indexOf(61) < 0) { this.stats.malformed('no_pairs'); return; }
    const n = scanLogfmt(rec.body.toString('utf8'), this.keys, this.vals, this.counts);
    if (this.counts[0] === 0) { this.stats.malformed('no_pairs'); return; }
    const attrs: Record<string, AttrValue> = rec.attributes ?? {};
    let taken = false;
    for (let i = 0; i < n; i++) {
      const key = this.keys[i]!;
      if (applyField(rec, attrs, this.roles.get(key) ?? ROLE_NONE, key, this.vals[i]!, this.bodyFromMessage && !taken)) taken = true;
    }
    rec.attributes = attrs;
  }
}

export const logfmtDecoder: ComponentSpec<LogfmtDecoderConfig, Processor> = declaredComponent(logfmtDecoderSection, {
  kind: 'processor',
  type: 'logfmt',
  summary: 'Decode logfmt lines (key=value key="quoted value"); known keys go to OTLP fields, the rest to attributes.',
  create(cfg, ctx) { return new LogfmtDecoder(cfg, ctx); },
});
