// sample: keep 1 in `rate` records, chosen by a hash of a key field so the
// choice is deterministic (the same request id is kept or dropped on every
// node and after restarts; all lines of one trace stay together when keyed by
// trace_id). Records at or above `always_keep_level` (default warn) are never
// sampled away: errors always reach Kafka.

import type { ComponentContext, ComponentSpec, Processor } from '../core/component.ts';
import type { LogRecord } from '../core/record.ts';
import { type Infer, int, section, text, declaredComponent } from '../config/declare.ts';
import { levelNumber } from '../decoders/severity.ts';
import { FieldRef, fnv1a } from './field-ref.ts';
import { levelField } from './filter.ts';
import { StageStats } from './metrics.ts';

/** The config, declared once (agent/config/declare.ts): type, reader, defaults and the COMPONENTS.md rows. */
export const sampleSection = section({
  // Vector's sample transform documents rate 10 in its examples (keep 1 in 10).
  rate: int('rate', 10, 'keep 1 in N (1: keep all)', 1, 1_000_000),
  key_field: text('key_field', 'message', 'hashed field; records without it hash their body'),
  // The issue: errors always kept; warnings too, as Datadog's and Vector's
  // guidance for log sampling keeps warnings and errors.
  always_keep_level: levelField('always_keep_level', 'warn', "records at or above it are always kept (`''`: sample all)"),
});

/** rate: keep 1 in N; key_field: hashed to choose (see field references); always_keep_level: '' samples every level. */
export type SampleConfig = Infer<typeof sampleSection>;
export const sampleDefaults: SampleConfig = sampleSection.defaults;

export class Sample implements Processor {
  private readonly rate: number;
  private readonly key: FieldRef;
  private readonly keepAt: number;
  private readonly stats: StageStats;
  constructor(cfg: SampleConfig, ctx: ComponentContext) {
    this.rate = cfg.rate;
    this.key = new FieldRef(cfg.key_field);
    this.keepAt = cfg.always_keep_level === '' ? Infinity : levelNumber(cfg.always_keep_level)!;
    this.stats = new StageStats(ctx);
  }

  process(batch: LogRecord[], out: LogRecord[]): void {
    if (this.rate === 1) { for (let r = 0; r < batch.length; r++) out.push(batch[r]!); return; }
    let dropped = 0;
    for (let r = 0; r < batch.length; r++) {
      const rec = batch[r]!;
      if (rec.severityNumber >= this.keepAt) { out.push(rec); continue; }
      const k = this.key.keyOf(rec) ?? rec.body;
      if (fnv1a(k) % this.rate === 0) out.push(rec);
      else { rec.ack.settle(1, 'dropped'); dropped++; }
    }
    if (dropped) this.stats.droppedN('sampled', dropped);
  }
}

export const sample: ComponentSpec<SampleConfig, Processor> = declaredComponent(sampleSection, {
  kind: 'processor',
  type: 'sample',
  summary: 'Keep 1 in N records, chosen deterministically by a hash of a key field; records at or above a level (default warn) are always kept.',
  create(cfg, ctx) { return new Sample(cfg, ctx); },
});
