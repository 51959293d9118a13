// Gray-failure budget for one destination cluster: the share of health probes
// slower than `slowMs` (or failed) in the last `windowMs`. The breaker's own
// rules only see *consecutive* trouble (five failures, five probes over 2 s);
// a region that stalls for 1.5 s, answers for 0.7 s and stalls again resets
// those counters on every good answer and is never detected. This budget
// counts the bad probes over a sliding window instead, so repeated short
// stalls add up while a single slow answer does not.
//
// Why probes and not requests: a probe is a metadata round trip to whichever
// broker of the cluster answers, issued at a fixed rate, so the samples are
// spread evenly in time and measure the region as a whole. Produce requests
// are bursty (thousands of fast ones between two stalls would dilute the
// share) and they are what a leader election inside a healthy region slows
// down: the election must not count against the region, the other brokers
// still answer metadata at once. A request that fails is the breaker's
// consecutive-failure rule's business.
//
// The sink records a probe as bad the moment it has been outstanding for
// `slowMs` (it does not wait for the answer), so a stalled region is counted
// while it is stalled.

export interface GrayBudgetConfig {
  /** Length of the sliding window, ms. */
  readonly windowMs: number;
  /** A probe slower than this (or failed) is a bad sample, ms. */
  readonly slowMs: number;
  /** Share of bad samples in the window (0..1) at which the budget is exhausted. */
  readonly maxBadShare: number;
  /** And at least this many bad samples: a near-empty window decides nothing. */
  readonly minBad: number;
}

export const grayBudgetDefaults: GrayBudgetConfig = {
  // 5 s: the detection target. With probes every 500 ms the window holds ten
  // samples; a flapping region (1.5 s down / 0.7 s up) fills it with four bad
  // ones about 3 s after the flapping starts.
  windowMs: 5000,
  // 300 ms: a metadata round trip inside a region takes milliseconds; 300 ms is
  // two orders above that and still above a loaded machine's scheduling and GC
  // hiccups (one such hiccup is one bad sample, far from the budget below).
  slowMs: 300,
  // 40 % of the window stalled (two seconds out of five): far above what one
  // GC pause or one slow probe costs (one sample), below what a region that
  // keeps stalling costs (a 1.5 s / 0.7 s flap is ~55 % bad).
  maxBadShare: 0.4,
  // Four bad probes: a single stall shorter than ~2 s (a leader election, a
  // long GC pause) produces at most three, and longer single hangs are what the
  // breaker's slow-probe rule (five probes over 2 s) already covers.
  minBad: 4,
};

export interface GrayVerdict {
  readonly exhausted: boolean;
  readonly bad: number;
  readonly total: number;
  /** bad / total (0 when the window is empty). */
  readonly share: number;
  /** Human-readable cause, used as the breaker reason when exhausted. */
  readonly reason: string;
}

export class GrayBudget {
  private readonly cfg: GrayBudgetConfig;
  // Ring of (time, bad) samples, oldest first; a window holds a few dozen at most.
  private times: number[] = [];
  private bads: boolean[] = [];
  private badCount = 0;

  constructor(cfg: GrayBudgetConfig) {
    if (!(cfg.windowMs > 0) || !(cfg.slowMs > 0) || !(cfg.maxBadShare > 0 && cfg.maxBadShare <= 1) || !(cfg.minBad >= 1)) {
      throw new RangeError(`gray budget: invalid config ${JSON.stringify(cfg)}`);
    }
    this.cfg = cfg;
  }

  get slowMs(): number { return this.cfg.slowMs; }

  /** One probe result: latency in ms, or null when it failed (or was cut off as slow). */
  record(latencyMs: number | null, now = Date.now()): GrayVerdict {
    const bad = latencyMs === null || latencyMs > this.cfg.slowMs;
    this.times.push(now);
    this.bads.push(bad);
    if (bad) this.badCount++;
    return this.verdict(now);
  }

  verdict(now = Date.now()): GrayVerdict {
    this.expire(now);
    const total = this.times.length;
    const bad = this.badCount;
    const share = total === 0 ? 0 : bad / total;
    const exhausted = bad >= this.cfg.minBad && share >= this.cfg.maxBadShare;
    const reason = `gray failure: ${bad} of ${total} probes slower than ${this.cfg.slowMs} ms or failed in the last ${this.cfg.windowMs / 1000} s (budget ${Math.round(this.cfg.maxBadShare * 100)} %, at least ${this.cfg.minBad})`;
    return { exhausted, bad, total, share, reason };
  }

  /** Forget the window (after the circuit opened on it, so one bad stretch opens it once). */
  reset(): void { this.times = []; this.bads = []; this.badCount = 0; }

  private expire(now: number): void {
    let drop = 0;
    while (drop < this.times.length && now - this.times[drop]! > this.cfg.windowMs) {
      if (this.bads[drop]) this.badCount--;
      drop++;
    }
    if (drop > 0) { this.times.splice(0, drop); this.bads.splice(0, drop); }
  }
}
