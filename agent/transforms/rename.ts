// rename: rename and normalize attribute keys. Steps, in order: drop_fields,
// fields (explicit old -> new renames), lower_case_keys, dots_to (replace '.'
// in keys, for consumers that read dotted keys as paths). Normalized keys are
// memoized (bounded), so a key seen on every record is lower-cased once, not
// per record.

import type { ComponentSpec, Processor } from '../core/component.ts';
import type { AttrValue, LogRecord } from '../core/record.ts';
import { flag, type Infer, section, stringList, stringMap, text, declaredComponent } from '../config/declare.ts';

/** The config, declared once (agent/config/declare.ts): type, reader, defaults and the COMPONENTS.md rows. */
export const renameSection = section({
  // All off: a rename stage does only what it is told.
  fields: stringMap('fields', 'attribute keys renamed', 'map old -> new'),
  lower_case_keys: flag('lower_case_keys', false, 'lower-case every attribute key'),
  dots_to: text('dots_to', '', "replace `.` in keys with this (`''`: keep)"),
  // Removed before the renames.
  drop_fields: stringList('drop_fields', 'attribute keys removed'),
});

export type RenameConfig = Infer<typeof renameSection>;
export const renameDefaults: RenameConfig = renameSection.defaults;

const MEMO_MAX = 10_000;

export class Rename implements Processor {
  private readonly fields: Map<string, string>;
  private readonly drop: Set<string>;
  private readonly lower: boolean;
  private readonly dots: string;
  private readonly normalizes: boolean;
  private readonly memo = new Map<string, string>();

  constructor(cfg: RenameConfig) {
    this.fields = new Map(Object.entries(cfg.fields));
    this.drop = new Set(cfg.drop_fields);
    this.lower = cfg.lower_case_keys;
    this.dots = cfg.dots_to;
    this.normalizes = this.lower || this.dots !== '';
  }

  key(k: string): string {
    const r = this.fields.get(k);
    if (r !== undefined) k = r;
    if (!this.normalizes) return k;
    let n = this.memo.get(k);
    if (n !== undefined) return n;
    n = k;
    if (this.lower) n = n.toLowerCase();
    if (this.dots !== '') n = n.split('.').join(this.dots);
    if (this.memo.size >= MEMO_MAX) this.memo.clear();
    this.memo.set(k, n);
    return n;
  }

  process(batch: LogRecord[], out: LogRecord[]): void {
    for (let r = 0; r < batch.length; r++) {
      const rec = batch[r]!;
      const a = rec.attributes;
      if (a !== null) {
        let changed = false;
        for (const k in a) if (this.drop.has(k) || this.key(k) !== k) { changed = true; break; }
        if (changed) {
          // Rebuild only records whose keys change; insertion order is kept.
          const n: Record<string, AttrValue> = {};
          for (const k in a) if (!this.drop.has(k)) n[this.key(k)] = a[k]!;
          rec.attributes = n;
        }
      }
      out.push(rec);
    }
  }
}

export const rename: ComponentSpec<RenameConfig, Processor> = declaredComponent(renameSection, {
  kind: 'processor',
  type: 'rename',
  summary: 'Rename attribute keys, lower-case them, replace dots, drop fields.',
  create(cfg) { return new Rename(cfg); },
});
