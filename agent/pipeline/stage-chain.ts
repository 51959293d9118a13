// The processors of one pipeline in order, and the encoder step that fits
// messages under the destination's limit. Used in one place or the other:
// by the Pipeline on the main thread, or by a processing worker
// (workers/shard-worker.ts), never both for one pipeline.

import { recordCount, type EncodedMessage, type Encoder, type Processor } from '../core/component.ts';
import type { LogRecord } from '../core/record.ts';
import { sliceRecords, splitSlices, type RunSlice } from '../core/record-run.ts';

export class StageChain {
  private readonly procs: Processor[];
  /** Where records leave the last stage (the batcher). */
  private readonly emit: (recs: LogRecord[]) => void;

  constructor(procs: Processor[], emit: (recs: LogRecord[]) => void) {
    this.procs = procs;
    this.emit = emit;
  }

  /** A batch from a source through every stage. */
  push(batch: LogRecord[]): void {
    const out = this.run(0, batch);
    if (out.length) this.emit(out);
  }

  /** Stages from `from` on, each working on the whole batch. */
  run(from: number, batch: LogRecord[]): LogRecord[] {
    let recs = batch;
    for (let i = from; i < this.procs.length; i++) {
      const out: LogRecord[] = [];
      this.procs[i]!.process(recs, out);
      recs = out;
    }
    return recs;
  }

  /** Time-based stages (multiline timeout, throttle release) emit what is due. */
  tick(nowMs: number): void {
    for (let i = 0; i < this.procs.length; i++) {
      const t = this.procs[i]!.tick;
      if (!t) continue;
      const out: LogRecord[] = [];
      t.call(this.procs[i], nowMs, out);
      if (out.length) this.emitFrom(i + 1, out);
    }
  }

  /** A stream ended: stages release what they hold for it. */
  endStream(streamId: string): void {
    for (let i = 0; i < this.procs.length; i++) {
      const f = this.procs[i]!.flushStream;
      if (!f) continue;
      const out: LogRecord[] = [];
      f.call(this.procs[i], streamId, out);
      if (out.length) this.emitFrom(i + 1, out);
    }
  }

  /** Shutdown: every stage releases everything it holds. */
  flush(): void {
    for (let i = 0; i < this.procs.length; i++) {
      const out: LogRecord[] = [];
      this.procs[i]!.flush?.(out);
      if (out.length) this.emitFrom(i + 1, out);
    }
  }

  private emitFrom(from: number, recs: LogRecord[]): void {
    const out = this.run(from, recs);
    if (out.length) this.emit(out);
  }
}

/** Encode a batch, halving it until every message fits `maxBytes`; a single record that cannot fit goes to `rejects`. */
export function encodeFitting(encoder: Encoder, maxBytes: number, batch: LogRecord[], out: EncodedMessage[], rejects: LogRecord[]): void {
  const msgs = encoder.encode(batch);
  for (const m of msgs) {
    if (m.value.length + (m.key?.length ?? 0) <= maxBytes) { out.push(m); continue; }
    discard(encoder, m);
    if (m.records.length > 1) {
      const half = m.records.length >> 1;
      encodeFitting(encoder, maxBytes, m.records.slice(0, half), out, rejects);
      encodeFitting(encoder, maxBytes, m.records.slice(half), out, rejects);
    } else {
      rejects.push(m.records[0]!);
    }
  }
}

/** encodeFitting for records in columns (Encoder.encodeRuns): halves by record count; a single record that cannot fit goes to `rejects` as a LogRecord. */
export function encodeRunsFitting(encoder: Encoder, maxBytes: number, slices: readonly RunSlice[], out: EncodedMessage[], rejects: LogRecord[]): void {
  const msgs = encoder.encodeRuns!(slices);
  for (const m of msgs) {
    if (m.value.length + (m.key?.length ?? 0) <= maxBytes) { out.push(m); continue; }
    discard(encoder, m);
    const n = recordCount(m);
    if (n > 1) {
      const [head, tail] = splitSlices(m.runs!, n >> 1);
      encodeRunsFitting(encoder, maxBytes, head, out, rejects);
      encodeRunsFitting(encoder, maxBytes, tail, out, rejects);
    } else {
      for (const r of sliceRecords(m.runs!)) rejects.push(r);
    }
  }
}

/**
 * A message over the limit is encoded again in halves and never sent: its
 * value goes back to the encoder's pool (otlp_proto's value-pool.ts), which
 * otherwise counts it as handed out for good. Sixteen such values used to
 * exhaust the pool for the rest of the process, and every later message was
 * a fresh ~1 MB allocation (json-200b, 3M lines: 2 GB of them).
 */
function discard(encoder: Encoder, m: EncodedMessage): void {
  (encoder as Partial<{ recycle(ms: readonly EncodedMessage[]): void }>).recycle?.([m]);
}
