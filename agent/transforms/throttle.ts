// throttle: a token bucket per key (e.g. per device, per service). mode
// 'drop' drops what exceeds the rate (settled and counted: rate_limited);
// mode 'block' holds it back and releases it on tick() as tokens refill, in
// order per key, with a bounded hold buffer: past max_held records the
// excess is dropped (hold_overflow), so a flood cannot grow memory.
// flush() (shutdown, rotation) releases everything held.

import type { ComponentContext, ComponentSpec, Processor } from '../core/component.ts';
import type { LogRecord } from '../core/record.ts';
import { choice, type Infer, int, num, section, text, declaredComponent } from '../config/declare.ts';
import { FieldRef } from './field-ref.ts';
import { StageStats } from './metrics.ts';

/** The config, declared once (agent/config/declare.ts): type, reader, defaults and the COMPONENTS.md rows. */
export const throttleSection = section({
  // 1000/s per key with a burst of 2 s worth: generous for one device on an
  // edge node, tight enough that one runaway device cannot fill the uplink.
  rate: num('rate', 1000, 'records per second per key', 0.001),
  burst: num('burst', 2000, 'bucket size; when `rate` is set and `burst` is not: 2 x rate', 1),
  key_field: text('key_field', '', "bucket key field (`''`: one bucket)"),
  // drop: like Vector's throttle transform (which only drops).
  mode: choice('mode', ['drop', 'block'], 'drop', 'drop over the rate, or hold and release in order as tokens refill'),
  // 10000 held records of ~200 B: ~2 MB worst case, in line with the bounded queues between stages.
  max_held: int('max_held', 10_000, '`block`: records held over all keys; beyond it dropped', 0),
  max_keys: int('max_keys', 10_000, 'buckets kept; the oldest idle one is forgotten beyond it', 1),
}, (t, m) => {
  // A rate written without a burst gets 2 s worth of it, not the default's.
  if (m.rate !== undefined && (m.burst === undefined || m.burst === null)) t.burst = Math.max(1, t.rate * 2);
});

export type ThrottleConfig = Infer<typeof throttleSection>;
export const throttleDefaults: ThrottleConfig = throttleSection.defaults;

interface Bucket { tokens: number; lastMs: number; q: LogRecord[]; head: number }

export class Throttle implements Processor {
  private readonly cfg: ThrottleConfig;
  private readonly key: FieldRef | null;
  private readonly buckets = new Map<string, Bucket>();
  private readonly stats: StageStats;
  private readonly clock: () => number;
  private readonly perMs: number;
  private held = 0;

  constructor(cfg: ThrottleConfig, ctx: ComponentContext, clock: () => number = Date.now) {
    this.cfg = cfg;
    this.key = cfg.key_field === '' ? null : new FieldRef(cfg.key_field);
    this.stats = new StageStats(ctx);
    this.clock = clock;
    this.perMs = cfg.rate / 1000;
  }

  get heldRecords(): number { return this.held; }

  private bucket(rec: LogRecord, now: number): Bucket {
    let k = '';
    if (this.key !== null) {
      const v = this.key.keyOf(rec);
      k = v === undefined ? '' : typeof v === 'string' ? v : v.toString('latin1');
    }
    let b = this.buckets.get(k);
    if (b === undefined) {
      if (this.buckets.size >= this.cfg.max_keys) this.evictOne();
      b = { tokens: this.cfg.burst, lastMs: now, q: [], head: 0 };
      this.buckets.set(k, b);
    }
    return b;
  }

  private evictOne(): void {
    // Forget the oldest bucket without held records (Map keeps insertion order).
    for (const [k, b] of this.buckets) if (b.q.length === b.head) { this.buckets.delete(k); return; }
  }

  private refill(b: Bucket, now: number): void {
    if (now > b.lastMs) {
      b.tokens = Math.min(this.cfg.burst, b.tokens + (now - b.lastMs) * this.perMs);
      b.lastMs = now;
    }
  }

  process(batch: LogRecord[], out: LogRecord[]): void {
    const now = this.clock();
    const block = this.cfg.mode === 'block';
    let limited = 0, overflow = 0;
    for (let r = 0; r < batch.length; r++) {
      const rec = batch[r]!;
      const b = this.bucket(rec, now);
      this.refill(b, now);
      const queued = b.q.length > b.head;
      if (!queued && b.tokens >= 1) { b.tokens--; out.push(rec); continue; }
      if (!block) { rec.ack.settle(1, 'dropped'); limited++; continue; }
      if (this.held >= this.cfg.max_held) { rec.ack.settle(1, 'dropped'); overflow++; continue; }
      b.q.push(rec); this.held++;
    }
    if (limited) this.stats.droppedN('rate_limited', limited);
    if (overflow) this.stats.droppedN('hold_overflow', overflow);
  }

  tick(nowMs: number, out: LogRecord[]): void {
    if (this.held === 0) return;
    for (const b of this.buckets.values()) {
      if (b.q.length === b.head) continue;
      this.refill(b, nowMs);
      while (b.head < b.q.length && b.tokens >= 1) {
        b.tokens--;
        out.push(b.q[b.head]!);
        b.q[b.head++] = undefined as unknown as LogRecord;
        this.held--;
      }
      if (b.head === b.q.length) { b.q.length = 0; b.head = 0; }
      // A key that never drains keeps appending: drop the released prefix now and then.
      else if (b.head > 1024 && b.head * 2 > b.q.length) { b.q.splice(0, b.head); b.head = 0; }
    }
  }

  flush(out: LogRecord[]): void {
    for (const b of this.buckets.values()) {
      for (let i = b.head; i < b.q.length; i++) out.push(b.q[i]!);
      b.q.length = 0; b.head = 0;
    }
    this.held = 0;
  }
}

export const throttle: ComponentSpec<ThrottleConfig, Processor> = declaredComponent(throttleSection, {
  kind: 'processor',
  type: 'throttle',
  summary: 'Token bucket per key: drop records over the rate, or hold them (bounded) and release as tokens refill.',
  create(cfg, ctx) { return new Throttle(cfg, ctx); },
});
