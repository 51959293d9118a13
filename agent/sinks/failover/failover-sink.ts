// Region failover across several destination clusters, as one Sink. Each
// cluster has a circuit breaker fed by send results and a periodic health
// probe (metadata round trip). Traffic goes to the highest-priority cluster
// whose circuit allows it; when that circuit opens mid-request, the request is
// abandoned there and sent to the next cluster at once (so a hung region costs
// detection time, not a request timeout). Failback to a higher-priority
// cluster happens only after it has stayed healthy for `failbackHoldDownMs`,
// and only between requests, so records of one stream stay in order.
//
// What can duplicate: a request abandoned on a hung cluster may still be
// written there when the cluster wakes up; the same records were written to
// the next cluster. Each such request is counted in
// edgelog_sink_failover_abandoned_records_total so duplicates are bounded and visible.

import type { Registry } from '../../observe/prometheus.ts';
import { recordCount, type EncodedMessage, type RouteEvent, type Sink } from '../../core/component.ts';
import { EdgelogError, SinkSendError } from '../../core/errors.ts';
import type { Logger } from '../../observe/log.ts';
import { counter, gauge } from '../../observe/metrics.ts';
import { CircuitBreaker, type BreakerConfig, type BreakerState } from './breaker.ts';
import { GrayBudget, grayBudgetDefaults, type GrayBudgetConfig } from './gray-budget.ts';

export interface ProbingSink extends Sink {
  /** Round trip to the cluster (e.g. a metadata request); resolves with latency ms, rejects on failure. */
  probe(): Promise<number>;
  /**
   * Drop any per-session delivery state (an idempotent producer's id and
   * sequence numbers) so that the next send cannot be mistaken for a retry
   * of an earlier, failed one.
   */
  resetSession?(reason: string): Promise<void>;
}

export interface ClusterTarget {
  readonly name: string;
  readonly region: string;
  readonly priority: number;
  readonly sink: ProbingSink;
}

export interface FailoverConfig {
  readonly breaker: BreakerConfig;
  readonly probeIntervalMs: number;
  readonly failbackHoldDownMs: number;
  /**
   * A request outstanding this long opens the circuit (and is resent on the
   * next cluster): a cluster whose bootstrap answers probes but whose partition
   * leaders cannot be reached hangs requests without failing them. Default
   * 10 s: above Kafka's default broker.session.timeout.ms (9 s), so a leader
   * election (requests wait until the dead leader is fenced) never trips it.
   */
  readonly stuckRequestMs?: number;
  /** Sliding-window probe budget (gray failures); defaults when omitted. */
  readonly gray?: GrayBudgetConfig;
}

export const failoverDefaults = {
  // Five probes slower than 2 s must fit in the 5 s detection target: probing
  // every 500 ms with overlapping probes reaches the fifth slow verdict ~4 s after a hang.
  probeIntervalMs: 500,
  // Fail back only after the primary was healthy for 30 s, so a flapping region
  // does not drag traffic back and forth (Route 53 failover uses similar settling).
  failbackHoldDownMs: 30_000,
  stuckRequestMs: 10_000,
};

/** The sink contract's route event (core/component.ts), so the agent streams it without knowing this class. */
export type FailoverEvent = RouteEvent;

const stateValue: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

class Abandoned extends Error {}

export class FailoverSink implements Sink {
  readonly maxMessageBytes: number;
  private readonly targets: Array<ClusterTarget & {
    breaker: CircuitBreaker; gray: GrayBudget; probing: number;
    /**
     * Requests in flight on this cluster, each with the abandon callback that
     * ends its race when the circuit opens. One entry per request, removed when
     * it settles: nothing accumulates on a long-lived promise (racing every send
     * against one shared `opened` promise kept a reaction per send alive until
     * the circuit next opened, i.e. forever on a healthy cluster).
     */
    inflight: Set<() => void>;
    failedRequest: EncodedMessage[] | null;
  }>;
  private active: number;
  private readonly cfg: FailoverConfig;
  private readonly log: Logger;
  private readonly timer: NodeJS.Timeout;
  private readonly listeners: Array<(e: FailoverEvent) => void> = [];
  private readonly deliveryListeners: Array<(cluster: string, messages: EncodedMessage[]) => void> = [];
  private readonly mState; private readonly mActive; private readonly mFailedOver; private readonly mTransitions; private readonly mAbandoned; private readonly mSwitches;
  private readonly mGrayShare; private readonly mGrayTrips;
  private closed = false;

  constructor(targets: ClusterTarget[], cfg: FailoverConfig, registry: Registry, log: Logger, component: string) {
    if (targets.length === 0) throw new Error('FailoverSink needs at least one cluster');
    this.cfg = cfg;
    this.log = log;
    this.mState = gauge(registry, 'edgelog_sink_circuit_state', 'Circuit state per cluster: 0 closed, 1 half-open, 2 open.', ['component', 'cluster', 'region']);
    this.mActive = gauge(registry, 'edgelog_sink_active_cluster', '1 for the cluster currently taking traffic.', ['component', 'cluster', 'region']);
    this.mFailedOver = gauge(registry, 'edgelog_sink_failed_over', '1 while traffic goes to a cluster other than the highest-priority one.', ['component']);
    this.mTransitions = counter(registry, 'edgelog_sink_circuit_transitions_total', 'Circuit breaker transitions.', ['component', 'cluster', 'to']);
    this.mSwitches = counter(registry, 'edgelog_sink_failovers_total', 'Switches of the active cluster.', ['component', 'kind', 'to']);
    this.mAbandoned = counter(registry, 'edgelog_sink_failover_abandoned_records_total', 'Records of requests abandoned on a failing cluster and resent elsewhere (possible duplicates).', ['component', 'cluster']);
    this.mGrayShare = gauge(registry, 'edgelog_sink_gray_bad_probe_share', 'Share of health probes slower than the gray-failure threshold (or failed) in the sliding window, per cluster (0..1).', ['component', 'cluster', 'region']);
    this.mGrayTrips = counter(registry, 'edgelog_sink_gray_trips_total', 'Circuits opened by the gray-failure budget (repeated short stalls), per cluster.', ['component', 'cluster']);
    const gray = cfg.gray ?? grayBudgetDefaults;
    const sorted = [...targets].sort((a, b) => a.priority - b.priority);
    this.targets = sorted.map((t) => {
      const entry = {
        ...t, probing: 0, failedRequest: null as EncodedMessage[] | null,
        inflight: new Set<() => void>(),
        gray: new GrayBudget(gray),
        breaker: null as unknown as CircuitBreaker,
      };
      entry.breaker = new CircuitBreaker(cfg.breaker, (from, to, reason) => this.onBreaker(entry, from, to, reason, component));
      this.mState.set({ component, cluster: t.name, region: t.region }, 0);
      return entry;
    });
    this.maxMessageBytes = Math.min(...targets.map((t) => t.sink.maxMessageBytes));
    this.active = 0;
    this.component = component;
    this.setActiveGauge();
    this.timer = setInterval(() => this.probeAll(), cfg.probeIntervalMs);
    this.timer.unref();
  }

  private readonly component: string;

  onEvent(f: (e: FailoverEvent) => void): void { this.listeners.push(f); }
  /** Called after a cluster acknowledged a request (drills time failover from these). */
  onDelivery(f: (cluster: string, messages: EncodedMessage[]) => void): void { this.deliveryListeners.push(f); }

  /** An observer that throws is a bug in the observer: it must never turn a delivered request into a failed one. */
  private notifyDelivery(cluster: string, messages: EncodedMessage[]): void {
    for (const f of this.deliveryListeners) {
      try { f(cluster, messages); } catch (err) { this.log.error('delivery observer failed', { cluster, error: (err as Error).message }); }
    }
  }
  get activeCluster(): string { return this.targets[this.active]!.name; }

  /** The hint goes to the cluster taking traffic now; if the request ends up elsewhere, that cluster's engine lets the hint go. */
  prepare(messages: EncodedMessage[]): void { this.targets[this.active]?.sink.prepare?.(messages); }

  async send(messages: EncodedMessage[]): Promise<void> {
    this.maybeFailback();
    let lastErr: unknown = null;
    for (let attempt = 0; attempt < this.targets.length; attempt++) {
      const i = this.pick();
      if (i === -1) break;
      this.switchTo(i, 'failover', lastErr ? (lastErr as Error).message : 'circuit open');
      const t = this.targets[i]!;
      // A request that failed here may still have been written (ambiguous failure). If
      // different records come now, that one was delivered elsewhere or given up:
      // start a fresh producer session so the broker cannot mistake these records
      // for a retry of it (idempotent dedupe would drop them silently).
      if (t.failedRequest !== null && t.failedRequest !== messages) {
        // Cleared only once the reset succeeded: a failed reset is tried again on the next request.
        await t.sink.resetSession?.('request failed on this cluster was delivered elsewhere');
        t.failedRequest = null;
      }
      try {
        await this.sendOrAbandon(t, messages);
        t.failedRequest = null;
        t.breaker.success();
        this.notifyDelivery(t.name, messages);
        return;
      } catch (err) {
        t.failedRequest = messages;
        if (err instanceof Abandoned) {
          let n = 0;
          for (const m of messages) n += recordCount(m);
          this.mAbandoned.inc({ component: this.component, cluster: t.name }, n);
          lastErr = new SinkSendError(`cluster ${t.name} failed during the request`, true);
          continue;
        }
        if (err instanceof EdgelogError && !err.retriable) throw err; // e.g. too large: the same everywhere
        t.breaker.failure((err as Error).message);
        lastErr = err;
        // Only move on at once if that failure opened the circuit; otherwise let the
        // pipeline back off and retry the same cluster (a blip is not a failover).
        if (t.breaker.state !== 'open') throw err;
      }
    }
    throw lastErr instanceof Error ? lastErr : new SinkSendError('no cluster available: every circuit is open', true);
  }

  /** The cluster's send, cut short with Abandoned when its circuit opens meanwhile. */
  private sendOrAbandon(t: (typeof this.targets)[number], messages: EncodedMessage[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const stuckMs = this.cfg.stuckRequestMs ?? failoverDefaults.stuckRequestMs;
      // One timer per request (per batch, not per record).
      const stuck = setTimeout(() => t.breaker.trip(`request outstanding for more than ${stuckMs} ms (cluster answers probes but does not take writes)`), stuckMs);
      stuck.unref();
      const abandon = (): void => { clearTimeout(stuck); t.inflight.delete(abandon); reject(new Abandoned()); };
      t.inflight.add(abandon);
      t.sink.send(messages).then(
        () => { clearTimeout(stuck); t.inflight.delete(abandon); resolve(); },
        (err: unknown) => { clearTimeout(stuck); t.inflight.delete(abandon); reject(err); },
      );
    });
  }

  /** Per-cluster gray-failure state for /health and the drill report. */
  grayState(): Array<{ cluster: string; bad: number; total: number; share: number; exhausted: boolean }> {
    return this.targets.map((t) => { const v = t.gray.verdict(); return { cluster: t.name, bad: v.bad, total: v.total, share: v.share, exhausted: v.exhausted }; });
  }

  health(): { ready: boolean; reason: string } {
    const open = this.targets.filter((t) => t.breaker.state === 'open');
    if (open.length === this.targets.length) return { ready: false, reason: 'every cluster circuit is open' };
    if (this.active !== 0) return { ready: false, reason: `failed over to ${this.targets[this.active]!.name} (${this.targets[this.active]!.region})` };
    if (open.length > 0) return { ready: false, reason: `circuit open: ${open.map((t) => t.name).join(', ')}` };
    return { ready: true, reason: '' };
  }

  trim(): void { for (const t of this.targets) t.sink.trim?.(); }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await Promise.all(this.targets.map((t) => t.sink.close().catch(() => undefined)));
  }

  /** Highest-priority cluster whose circuit allows traffic; -1 when none. */
  private pick(): number {
    // Stay on the active cluster while it allows traffic (failback is separate and deliberate).
    if (this.targets[this.active]!.breaker.allows()) return this.active;
    for (let i = 0; i < this.targets.length; i++) if (this.targets[i]!.breaker.allows()) return i;
    return -1;
  }

  private maybeFailback(): void {
    const now = Date.now();
    for (let i = 0; i < this.active; i++) {
      const b = this.targets[i]!.breaker;
      // And not one bad probe in the gray window: a flapping region closes its
      // circuit between stalls, which alone must not bring the traffic back.
      if (b.state === 'closed' && now - b.closedSince >= this.cfg.failbackHoldDownMs && this.targets[i]!.gray.verdict(now).bad === 0) {
        this.switchTo(i, 'failback', `healthy for ${Math.round((now - b.closedSince) / 1000)} s`);
        return;
      }
    }
  }

  private switchTo(i: number, kind: 'failover' | 'failback', reason: string): void {
    if (i === this.active) return;
    const from = this.targets[this.active]!;
    const to = this.targets[i]!;
    this.active = i;
    this.setActiveGauge();
    this.mSwitches.inc({ component: this.component, kind, to: to.name });
    this.log.warn(kind === 'failover' ? 'failing over' : 'failing back', { from: from.name, to: to.name, region: to.region, reason });
    this.emit({ kind, cluster: to.name, from: from.name, to: to.name, reason, ts: Date.now() });
  }

  private setActiveGauge(): void {
    this.mFailedOver.set({ component: this.component }, this.active === 0 ? 0 : 1);
    this.targets.forEach((t, i) => this.mActive.set({ component: this.component, cluster: t.name, region: t.region }, i === this.active ? 1 : 0));
  }

  private onBreaker(t: (typeof this.targets)[number], from: BreakerState, to: BreakerState, reason: string, component: string): void {
    this.mState.set({ component, cluster: t.name, region: t.region }, stateValue[to]);
    this.mTransitions.inc({ component, cluster: t.name, to });
    const fields = { cluster: t.name, region: t.region, from, to, reason };
    if (to === 'open') this.log.error('circuit opened', fields); else this.log.info('circuit changed', fields);
    if (to === 'open') for (const abandon of [...t.inflight]) abandon();
    // Samples from before the cluster recovered must not open it again: probes
    // stuck during an outage are all bad, and would trip the budget once more
    // right after the circuit closed.
    if (to === 'closed') t.gray.reset();
    this.emit({ kind: 'breaker', cluster: t.name, from, to, reason, ts: Date.now() });
  }

  private recordGray(t: (typeof this.targets)[number], latencyMs: number | null): void {
    if (this.closed) return;
    const v = t.gray.record(latencyMs);
    this.mGrayShare.set({ component: this.component, cluster: t.name, region: t.region }, v.share);
    // Open once per exhausted window: the window starts afresh, so a region that
    // keeps stalling opens the circuit again (and restarts the failback hold-down).
    if (v.exhausted && t.breaker.state !== 'open') {
      t.gray.reset();
      this.mGrayTrips.inc({ component: this.component, cluster: t.name });
      t.breaker.trip(v.reason);
    }
  }

  private emit(e: FailoverEvent): void { for (const f of this.listeners) f(e); }

  private probeAll(): void {
    if (this.closed) return;
    for (const t of this.targets) {
      // Overlapping probes let a hung cluster collect its slow verdicts at probe rate,
      // not once per timeout; cap them so a dead cluster does not pile up requests.
      if (t.probing >= this.cfg.breaker.slowThreshold) continue;
      t.probing++;
      const started = Date.now();
      let settled = false;
      // The gray budget gets its sample as soon as the probe is known slow (or when
      // it answers earlier), so a stalled region is counted while it is stalled.
      let grayDone = false;
      const graySample = (latency: number | null): void => { if (!grayDone) { grayDone = true; clearTimeout(grayTimer); this.recordGray(t, latency); } };
      const grayTimer = setTimeout(() => graySample(null), t.gray.slowMs + 1);
      grayTimer.unref();
      const slowTimer = setTimeout(() => { if (!settled) { settled = true; t.probing--; t.breaker.probe(this.cfg.breaker.slowMs + 1); } }, this.cfg.breaker.slowMs + 1);
      slowTimer.unref();
      t.sink.probe().then(
        () => { const ms = Date.now() - started; graySample(ms); if (!settled) { settled = true; t.probing--; clearTimeout(slowTimer); t.breaker.probe(ms); } },
        () => { graySample(null); if (!settled) { settled = true; t.probing--; clearTimeout(slowTimer); t.breaker.probe(null); } },
      );
    }
  }
}
