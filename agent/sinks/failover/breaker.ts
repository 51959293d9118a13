// Circuit breaker for one destination cluster: closed (healthy) -> open after
// `failureThreshold` consecutive failures or `slowThreshold` consecutive slow
// probes -> half-open after `openDurationMs` (one trial) -> closed on success,
// open again on failure. Defaults follow the design brief: fail over after
// five failures or five health checks slower than 2 s.

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerConfig {
  /** Consecutive send or probe failures that open the circuit. */
  readonly failureThreshold: number;
  /** Consecutive probes slower than `slowMs` that open the circuit. */
  readonly slowThreshold: number;
  readonly slowMs: number;
  /** How long the circuit stays open before one trial is allowed. */
  readonly openDurationMs: number;
}

export const breakerDefaults: BreakerConfig = {
  failureThreshold: 5, // design brief: "after five slow checks (> 2 s)"; same count for hard failures
  slowThreshold: 5,
  slowMs: 2000,
  // Resilience4j's waitDurationInOpenState default is 60 s; a log shipper's
  // destinations recover faster than that matters, and a trial is cheap: 10 s.
  openDurationMs: 10_000,
};

export class CircuitBreaker {
  state: BreakerState = 'closed';
  private failures = 0;
  private slow = 0;
  private openedAt = 0;
  /** When the circuit last became closed (for failback hold-down). */
  closedSince = Date.now();
  lastReason = '';
  private readonly cfg: BreakerConfig;
  private readonly onChange: (from: BreakerState, to: BreakerState, reason: string) => void;

  constructor(cfg: BreakerConfig, onChange: (from: BreakerState, to: BreakerState, reason: string) => void) {
    this.cfg = cfg;
    this.onChange = onChange;
  }

  /** May traffic be sent now? Moves open -> half_open once the open period passed. */
  allows(now = Date.now()): boolean {
    if (this.state === 'open' && now - this.openedAt >= this.cfg.openDurationMs) this.transition('half_open', 'open period elapsed');
    return this.state !== 'open';
  }

  success(now = Date.now()): void {
    this.failures = 0;
    this.slow = 0;
    if (this.state !== 'closed') { this.transition('closed', 'request succeeded'); this.closedSince = now; }
  }

  failure(reason: string, now = Date.now()): void {
    this.failures++;
    this.lastReason = reason;
    if (this.state === 'half_open' || this.failures >= this.cfg.failureThreshold) this.open(`${this.failures} consecutive failures: ${reason}`, now);
  }

  /** Result of a health probe: latency in ms, or null when it failed. */
  probe(latencyMs: number | null, now = Date.now()): void {
    if (latencyMs === null) { this.failure('probe failed', now); return; }
    if (latencyMs > this.cfg.slowMs) {
      this.slow++;
      this.lastReason = `probe took ${Math.round(latencyMs)} ms`;
      if (this.slow >= this.cfg.slowThreshold) this.open(`${this.slow} consecutive probes slower than ${this.cfg.slowMs} ms`, now);
      return;
    }
    this.slow = 0;
    if (this.state === 'closed') this.failures = 0;
    // A healthy probe while open/half-open closes the circuit: the cluster answers again.
    else this.success(now);
  }

  /** Open the circuit on a verdict from outside the consecutive counters (the sink's gray-failure budget). */
  trip(reason: string, now = Date.now()): void {
    this.lastReason = reason;
    this.open(reason, now);
  }

  private open(reason: string, now: number): void {
    this.openedAt = now;
    if (this.state !== 'open') this.transition('open', reason);
  }

  private transition(to: BreakerState, reason: string): void {
    const from = this.state;
    this.state = to;
    this.onChange(from, to, reason);
  }
}
