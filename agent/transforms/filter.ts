// filter: keep records at or above a level and matching field predicates.
// A record is kept when (1) its severity >= min_level (records without a
// severity pass unless keep_unknown_level is false), (2) every `include`
// predicate holds, (3) no `exclude` predicate holds. Dropped records are
// settled 'dropped' and counted by reason: below_min_level, not_included, excluded.

import type { ComponentContext, ComponentSpec, Processor } from '../core/component.ts';
import type { LogRecord } from '../core/record.ts';
import { ConfigError } from '../core/errors.ts';
import { join, readString, type Raw } from '../config/schema.ts';
import { field, flag, type Infer, section, declaredComponent } from '../config/declare.ts';
import { levelNumber } from '../decoders/severity.ts';
import { StageStats } from './metrics.ts';
import { Predicate, predicateList } from './predicate.ts';

/** A level name, or '' for every level. */
export function readLevel(m: Record<string, unknown>, key: string, path: string, def: string): string {
  const v = readString(m, key, path, def);
  if (v !== '' && levelNumber(v) === undefined) throw new ConfigError(join(path, key), 'a level: trace, debug, info, notice, warn, error, crit, alert, fatal, emerg', v);
  return v;
}

/** A level key: `''` (every level) or a level name. */
export function levelField(key: string, def: string, meaning: string) {
  return field(key, "level or `''`", def, def === '' ? "`''`" : `\`${def}\``, meaning, (m: Raw, path: string) => readLevel(m, key, path, def));
}

/** The filter's keys, declared once (agent/config/declare.ts). Keep-everything defaults: a filter with no options is a no-op, as in Fluent Bit's grep filter without rules. */
export const filterSection = section({
  /** Lowest level kept (trace, debug, info, notice, warn, error, fatal, ...); '' keeps all levels. */
  min_level: levelField('min_level', '', "lowest level kept (`trace` .. `emerg`; `''`: all)"),
  /** Records whose severity is unknown (0) pass min_level. */
  keep_unknown_level: flag('keep_unknown_level', true, 'records without severity pass `min_level`'),
  /** All must hold for a record to be kept. */
  include: predicateList('include', 'all must hold'),
  /** Any holding drops the record. */
  exclude: predicateList('exclude', 'any holding drops the record', 'include'),
});
export type FilterConfig = Infer<typeof filterSection>;
export const filterDefaults: FilterConfig = filterSection.defaults;

export class Filter implements Processor {
  private readonly min: number;
  private readonly keepUnknown: boolean;
  private readonly include: Predicate[];
  private readonly exclude: Predicate[];
  private readonly stats: StageStats;
  constructor(cfg: FilterConfig, ctx: ComponentContext) {
    this.min = cfg.min_level === '' ? 0 : levelNumber(cfg.min_level)!;
    this.keepUnknown = cfg.keep_unknown_level;
    this.include = cfg.include.map((p) => new Predicate(p));
    this.exclude = cfg.exclude.map((p) => new Predicate(p));
    this.stats = new StageStats(ctx);
  }

  process(batch: LogRecord[], out: LogRecord[]): void {
    const min = this.min;
    let low = 0, notIn = 0, ex = 0;
    next: for (let r = 0; r < batch.length; r++) {
      const rec = batch[r]!;
      if (min > 0 && rec.severityNumber < min && !(rec.severityNumber === 0 && this.keepUnknown)) {
        rec.ack.settle(1, 'dropped'); low++; continue;
      }
      for (let i = 0; i < this.include.length; i++) {
        if (!this.include[i]!.test(rec)) { rec.ack.settle(1, 'dropped'); notIn++; continue next; }
      }
      for (let i = 0; i < this.exclude.length; i++) {
        if (this.exclude[i]!.test(rec)) { rec.ack.settle(1, 'dropped'); ex++; continue next; }
      }
      out.push(rec);
    }
    // Counted once per batch, not per record.
    if (low) this.stats.droppedN('below_min_level', low);
    if (notIn) this.stats.droppedN('not_included', notIn);
    if (ex) this.stats.droppedN('excluded', ex);
  }
}

export const filter: ComponentSpec<FilterConfig, Processor> = declaredComponent(filterSection, {
  kind: 'processor',
  type: 'filter',
  summary: 'Keep records at or above a level and matching field predicates (equals, matches, exists, in); drop the rest, counted by reason.',
  create(cfg, ctx) { return new Filter(cfg, ctx); },
});
