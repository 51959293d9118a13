// validate: required fields and field types. An invalid record is written to
// a dead-letter file (JSON lines under <dataDir>/dead-letter/<component>.jsonl,
// the same format the pipeline uses for records Kafka can never take), then
// settled 'rejected' (the checkpoint moves on: the line is kept on disk, not
// lost) and counted by reason: missing_field, wrong_type.
// The file write is async and batched (one append per batch and reason); the
// settle happens after it, so a crash before the write re-reads the line.

import type { ComponentContext, ComponentSpec, Processor } from '../core/component.ts';
import type { LogRecord } from '../core/record.ts';
import { ConfigError } from '../core/errors.ts';
import { join, readMap, type Raw } from '../config/schema.ts';
import { derivedType, field, type Infer, section, stringList, declaredComponent } from '../config/declare.ts';
import { deadLetterFor, type DeadLetterFile } from '../pipeline/dead-letter.ts';
import { FieldRef } from './field-ref.ts';
import { StageStats } from './metrics.ts';

export type FieldType = 'string' | 'number' | 'integer' | 'boolean';
const TYPES: readonly FieldType[] = ['string', 'number', 'integer', 'boolean'];

/** The stage's keys, declared once (agent/config/declare.ts). Nothing required by default: a validate stage with no rules passes everything. */
export const validateSection = section({
  /** Fields that must be present (field references: message, level, trace_id, attribute keys ...). */
  required: derivedType(stringList('required', 'fields that must be present'), 'list of fields'),
  /** Field -> expected type; checked when the field is present. */
  types: field<Record<string, FieldType>>('types', `map field -> ${TYPES.map((t) => `\`${t}\``).join(', ')}`, {}, '`{}`', 'type checked when the field is present', (m: Raw, path: string) => {
    const tp = join(path, 'types');
    const types: Record<string, FieldType> = {};
    for (const [k, v] of Object.entries(readMap(m.types, tp))) {
      if (typeof v !== 'string' || !(TYPES as readonly string[]).includes(v)) throw new ConfigError(join(tp, k), `one of ${TYPES.join(', ')}`, v);
      types[k] = v as FieldType;
    }
    return types;
  }),
});
export type ValidateConfig = Infer<typeof validateSection>;
export const validateDefaults: ValidateConfig = validateSection.defaults;

function typeOk(v: unknown, t: FieldType): boolean {
  switch (t) {
    case 'string': return typeof v === 'string';
    case 'number': return typeof v === 'number';
    case 'integer': return typeof v === 'number' && Number.isInteger(v);
    case 'boolean': return typeof v === 'boolean';
  }
}

export class Validate implements Processor {
  private readonly required: FieldRef[];
  private readonly typed: FieldRef[];
  private readonly types: FieldType[];
  private readonly dlq: DeadLetterFile;
  private readonly stats: StageStats;
  private readonly ctx: ComponentContext;
  private writes: Promise<void> = Promise.resolve();

  constructor(cfg: ValidateConfig, ctx: ComponentContext) {
    this.required = cfg.required.map((f) => new FieldRef(f));
    this.typed = Object.keys(cfg.types).map((f) => new FieldRef(f));
    this.types = Object.values(cfg.types);
    this.dlq = deadLetterFor(ctx, ctx.id);
    this.stats = new StageStats(ctx);
    this.ctx = ctx;
  }

  get deadLetterPath(): string { return this.dlq.path; }

  /** Resolves when every dead-letter write so far finished and its records were settled. */
  idle(): Promise<void> { return this.writes; }

  /** Why the record is invalid, or '' when it is valid. */
  check(rec: LogRecord): string {
    for (let i = 0; i < this.required.length; i++) {
      if (this.required[i]!.get(rec) === undefined) return 'missing_field:' + this.required[i]!.name;
    }
    for (let i = 0; i < this.typed.length; i++) {
      const v = this.typed[i]!.get(rec);
      if (v !== undefined && !typeOk(v, this.types[i]!)) return 'wrong_type:' + this.typed[i]!.name;
    }
    return '';
  }

  process(batch: LogRecord[], out: LogRecord[]): void {
    let bad: Map<string, LogRecord[]> | null = null;
    for (let r = 0; r < batch.length; r++) {
      const rec = batch[r]!;
      const why = this.check(rec);
      if (why === '') { out.push(rec); continue; }
      bad ??= new Map();
      let list = bad.get(why);
      if (list === undefined) { list = []; bad.set(why, list); }
      list.push(rec);
    }
    if (bad !== null) for (const [why, recs] of bad) this.deadLetter(why, recs);
  }

  private deadLetter(why: string, recs: LogRecord[]): void {
    const reason = why.slice(0, why.indexOf(':'));
    this.writes = this.writes.then(async () => {
      try {
        await this.dlq.write(recs, why);
      } catch (e) {
        // Same choice as the pipeline's own dead letters: the record is
        // settled anyway (retrying forever would stall the stream); the
        // failure is logged and counted.
        this.ctx.log.error('dead-letter write failed', { component: this.ctx.id, path: this.dlq.path, error: (e as Error).message });
        this.stats.droppedN('dead_letter_failed', recs.length);
      }
      for (const rec of recs) rec.ack.settle(1, 'rejected');
      this.stats.droppedN(reason, recs.length);
    });
  }
}

export const validate: ComponentSpec<ValidateConfig, Processor> = declaredComponent(validateSection, {
  kind: 'processor',
  type: 'validate',
  summary: 'Check required fields and field types; invalid records go to a dead-letter file, settled as rejected and counted by reason.',
  create(cfg, ctx) { return new Validate(cfg, ctx); },
});
