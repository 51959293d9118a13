// What every decoder shares: decode each record of a batch in place, pass it
// on (a line that does not parse stays as a plain body, counted, never
// dropped), and commit the stage counters once per batch.

import type { ComponentContext, Processor } from '../core/component.ts';
import type { LogRecord } from '../core/record.ts';
import { StageStats } from '../transforms/metrics.ts';

export abstract class LineDecoder implements Processor {
  protected readonly stats: StageStats;

  constructor(ctx: ComponentContext) {
    this.stats = new StageStats(ctx);
  }

  process(batch: LogRecord[], out: LogRecord[]): void {
    const now = Date.now(); // one clock read per batch (syslog 3164's missing year)
    for (let r = 0; r < batch.length; r++) {
      const rec = batch[r]!;
      this.decodeOne(rec, now);
      out.push(rec);
    }
    this.stats.commit();
  }

  /** Decode one record (used by network sources; counters committed at once, process() commits once per batch). */
  decode(rec: LogRecord, nowMs = Date.now()): void { this.decodeOne(rec, nowMs); this.stats.commit(); }

  abstract decodeOne(rec: LogRecord, nowMs: number): void;
}
