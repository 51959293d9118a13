// One full garbage collection when the agent goes quiet, so an idle edge node
// holds what its idle agent needs, not what the last burst grew the heap to.
//
// V8 keeps the young generation at the size a burst grew it to (16 MiB
// committed with the launchers' --max-semi-space-size=8, 2-3 MiB in use) and
// its memory reducer had still not shrunk it 12 s after the last record. A
// full collection with the heap otherwise idle shrinks the young generation
// and compacts the old one: idle RSS 116.5 -> 101.5 MB, new space 16.8 -> 4.2
// MB committed (agent tailing one quiet file, engine platformatic, measured
// with a probe at 12 s; bench/results for the bench's figure). It costs one
// pause of ~10-30 ms, taken only when fewer than QUIET_RECORDS records arrived
// over a whole window, and once per quiet period.

import type V8 from 'node:v8';
import type Vm from 'node:vm';

export type GcFunction = (opts?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async' }) => void;

/**
 * V8's gc() without --expose-gc on the command line: the flag set at run time
 * exposes gc() to contexts created afterwards. null where the runtime refuses.
 */
export function gcFunction(): GcFunction | null {
  const own = (globalThis as { gc?: unknown }).gc;
  if (typeof own === 'function') return own as GcFunction;
  try {
    // Loaded here: node:vm is needed for this one call. (--expose-gc on the
    // command line would make the context unnecessary, but measured it cost
    // 6 MB more idle RSS than the context: 80.7 vs 74.0 MB, bench/idle-rss.ts.
    // v8.queryObjects(), which runs a memory-reducing full GC first, left the
    // idle agent 3.5 MB larger too: 77.8 vs 74.3 MB.)
    (process.getBuiltinModule('node:v8') as typeof V8).setFlagsFromString('--expose-gc');
    const f = (process.getBuiltinModule('node:vm') as typeof Vm).runInNewContext('typeof gc === "function" ? gc : null') as unknown;
    return typeof f === 'function' ? (f as GcFunction) : null;
  } catch {
    return null;
  }
}

/** Fewer records than this over a whole window counts as quiet (a trickle of lines, a heartbeat). */
export const QUIET_RECORDS = 1000;

export class IdleHeapTrim {
  private readonly activity: () => number;
  private readonly windowMs: number;
  private readonly collect: () => void;
  private windowStart: number;
  private countAtStart: number;
  /** Collected during the current quiet period: wait for activity before the next. */
  private trimmed = false;
  /** Collections done (for /metrics and tests). */
  trims = 0;

  /**
   * `activity`: a count that grows with every record received (all pipelines);
   * `windowMs`: how long the agent must stay quiet; `collect`: the full GC.
   */
  constructor(activity: () => number, windowMs: number, collect: () => void, nowMs: number) {
    this.activity = activity;
    this.windowMs = windowMs;
    this.collect = collect;
    this.windowStart = nowMs;
    this.countAtStart = activity();
  }

  /** Call periodically (more often than windowMs); returns true when it collected. */
  tick(nowMs: number): boolean {
    if (nowMs - this.windowStart < this.windowMs) return false;
    const n = this.activity();
    const quiet = n - this.countAtStart < QUIET_RECORDS;
    this.windowStart = nowMs;
    this.countAtStart = n;
    if (!quiet) { this.trimmed = false; return false; }
    if (this.trimmed) return false;
    this.trimmed = true;
    this.trims++;
    this.collect();
    return true;
  }
}
