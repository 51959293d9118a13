// JSON decoder: one JSON object per line -> OTLP fields + attributes.
// Fast path (scan.ts) for flat objects, JSON.parse for everything else;
// lines that are not a JSON object pass on unchanged as plain body, counted
// in edgelog_decoder_malformed_records_total{reason}.

import type { ComponentContext, ComponentSpec, Processor } from '../../core/component.ts';
import type { AttrValue, LogRecord } from '../../core/record.ts';
import { flag, type Infer, int, section, declaredComponent } from '../../config/declare.ts';
import { LineDecoder } from '../line-decoder.ts';
import { applyField, knownFields, roleMap, ROLE_MESSAGE, ROLE_NONE } from '../fields.ts';
import { FlatScan } from './scan.ts';

/** The decoder's keys, declared once (agent/config/declare.ts): type, reader, defaults and its COMPONENTS.md rows. */
export const jsonDecoderSection = section({
  ...knownFields(),
  // On. Each benchmark case in its own process (bench/stages, records per
  // CPU second, three runs on this shared 2-core box): on 1 KB lines the
  // scanner is ahead every time (345-516K vs 264-348K records/s); on 200-byte
  // lines the two paths trade places within about 15% (436-574K vs
  // 445-511K). In one process the order of the cases swung the comparison
  // both ways, so earlier figures are not trusted. Off is a valid choice:
  // both paths give the same records.
  fast_path: flag('fast_path', true, 'try the single-pass scanner before JSON.parse'),
  /** Nested objects become dotted attribute keys (`http.status`); false: their JSON text. */
  flatten: flag('flatten', true, 'nested objects become dotted attribute keys; `false`: JSON text'),
  // Fluent Bit's and Vector's flatteners have no limit; 8 keeps a hostile
  // deeply nested line from producing thousands of keys.
  max_depth: int('max_depth', 8, 'deeper objects are kept as JSON text', 1, 64),
});
export type JsonDecoderConfig = Infer<typeof jsonDecoderSection>;
export const jsonDecoderDefaults: JsonDecoderConfig = jsonDecoderSection.defaults;

export class JsonDecoder extends LineDecoder {
  private readonly cfg: JsonDecoderConfig;
  private readonly roles: Map<string, number>;
  private readonly scanner: FlatScan;
  private readonly bodyFromMessage: boolean;
  /** Counters for the bench and tests: how many lines took which path. */
  fast = 0;
  slow = 0;

  constructor(cfg: JsonDecoderConfig, ctx: ComponentContext) {
    super(ctx);
    this.cfg = cfg;
    this.roles = roleMap(cfg);
    this.scanner = new FlatScan(this.roles);
    this.bodyFromMessage = cfg.body === 'message';
  }

  decodeOne(rec: LogRecord): void {
    const body = rec.body;
    // A line that does not start with '{' (after blanks) is not JSON: skip the
    // string conversion entirely.
    let p = 0;
    while (p < body.length && (body[p] === 32 || body[p] === 9)) p++;
    if (body[p] !== 123) { this.stats.malformed('not_json'); return; }
    const s = body.toString('utf8');
    if (this.cfg.fast_path && this.scanner.scan(s)) { this.fast++; this.applyFlat(rec, s); return; }
    let v: unknown;
    try { v = JSON.parse(s); } catch { this.stats.malformed('syntax'); return; }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) { this.stats.malformed('not_object'); return; }
    this.slow++;
    const attrs: Record<string, AttrValue> = rec.attributes ?? {};
    const state = { taken: false };
    this.walk(rec, attrs, v as Record<string, unknown>, '', 1, state);
    rec.attributes = attrs;
  }

  private applyFlat(rec: LogRecord, s: string): void {
    const sc = this.scanner;
    const attrs: Record<string, AttrValue> = rec.attributes ?? {};
    // ASCII lines: UTF-16 offsets equal byte offsets, so the message can be a
    // zero-copy subarray of the line instead of a new Buffer.
    const ascii = s.length === rec.body.length;
    let taken = false;
    for (let i = 0; i < sc.n; i++) {
      const v = sc.vals[i]!;
      if (v === null) continue;
      const key = sc.keys[i]!;
      const role = sc.roles[i]!;
      if (role === ROLE_MESSAGE && ascii && !taken && this.bodyFromMessage && sc.starts[i]! >= 0) {
        rec.body = rec.body.subarray(sc.starts[i], sc.ends[i]);
        taken = true;
        continue;
      }
      if (applyField(rec, attrs, role, key, v, this.bodyFromMessage && !taken, sc.texts[i] || undefined)) taken = true;
    }
    rec.attributes = attrs;
  }

  private walk(rec: LogRecord, attrs: Record<string, AttrValue>, obj: Record<string, unknown>, prefix: string, depth: number, state: { taken: boolean }): void {
    for (const k in obj) {
      const v = obj[k];
      const key = prefix === '' ? k : prefix + '.' + k;
      if (v === null || v === undefined) continue;
      if (typeof v === 'object') {
        if (!Array.isArray(v) && this.cfg.flatten && depth < this.cfg.max_depth) this.walk(rec, attrs, v as Record<string, unknown>, key, depth + 1, state);
        else attrs[key] = JSON.stringify(v);
        continue;
      }
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') continue;
      const role = this.roles.get(key) ?? ROLE_NONE;
      if (applyField(rec, attrs, role, key, v, this.bodyFromMessage && !state.taken)) state.taken = true;
    }
  }
}

export const jsonDecoder: ComponentSpec<JsonDecoderConfig, Processor> = declaredComponent(jsonDecoderSection, {
  kind: 'processor',
  type: 'json',
  summary: 'Decode one JSON object per line: level, time, message, service and trace ids into OTLP fields, the rest into attributes.',
  create(cfg, ctx) { return new JsonDecoder(cfg, ctx); },
});
