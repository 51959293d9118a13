// Metrics and log lines of the forward protocol, shared by the sink (edge)
// and the source (relay). One typed method per event emits its metric and,
// where worth it, its log line.

import type { Registry } from '../observe/prometheus.ts';
import type { Logger } from '../observe/log.ts';
import { counter, gauge, histogram, latencyBuckets } from '../observe/metrics.ts';
import { frameTypeName } from './constants.ts';

export type Direction = 'in' | 'out';

export class ForwardMetrics {
  private readonly component: string;
  private readonly log: Logger;
  private readonly frames;
  private readonly bytes;
  private readonly rtt;
  private readonly ackLatency;
  private readonly retransmitsC;
  private readonly rejectedC;
  private readonly connectsC;
  private readonly connectionsG;
  private readonly nacksC;
  private readonly fallbackC;
  private readonly dupC;
  private readonly budgetWaitsC;
  private readonly hostRewritesC;
  /** Refusal log lines: at most one per reason per second, the rest counted (a flood must not flood the log). */
  private readonly lastLog = new Map<string, { at: number; suppressed: number }>();

  constructor(registry: Registry, component: string, log: Logger) {
    this.component = component;
    this.log = log;
    this.frames = counter(registry, 'edgelog_forward_frames_total', 'Forward protocol frames sent (out) and received (in), by type.', ['component', 'direction', 'type']);
    this.bytes = counter(registry, 'edgelog_forward_bytes_total', 'Forward protocol bytes on the wire (frames included), by direction.', ['component', 'direction']);
    this.rtt = histogram(registry, 'edgelog_forward_rtt_seconds', 'HEARTBEAT -> HEARTBEAT_ACK round trip to the relay.', latencyBuckets, ['component']);
    this.ackLatency = histogram(registry, 'edgelog_forward_ack_latency_seconds', 'BATCH sent -> ACK received (includes the relay\'s Kafka round trip).', latencyBuckets, ['component']);
    this.retransmitsC = counter(registry, 'edgelog_forward_retransmits_total', 'BATCH frames sent again on a new connection because the previous one ended before their ACK.', ['component']);
    this.rejectedC = counter(registry, 'edgelog_forward_rejected_total', 'Connections or batches the relay rejected for violating the protocol, by reason.', ['component', 'reason']);
    this.connectsC = counter(registry, 'edgelog_forward_connects_total', 'Connection attempts to a relay, by endpoint and result.', ['component', 'endpoint', 'result']);
    this.connectionsG = gauge(registry, 'edgelog_forward_connections', 'Open forward connections (sink: to relays; source: from agents).', ['component']);
    this.fallbackC = counter(registry, 'edgelog_forward_transport_fallbacks_total', 'Times the sink fell back from io_uring to Node net because io_uring could not be set up.', ['component']);
    this.dupC = counter(registry, 'edgelog_forward_duplicates_suppressed_total', 'Resent batches the relay recognised (same session and sequence) and did not push again: still pending or already done.', ['component', 'state']);
    this.budgetWaitsC = counter(registry, 'edgelog_forward_budget_waits_total', 'Batches that waited (socket paused, no ACK) because the relay memory budget was full.', ['component']);
    this.hostRewritesC = counter(registry, 'edgelog_forward_host_name_rewritten_total', 'Relayed records whose claimed host.name differed from the authenticated identity: overwritten, the claim kept as edgelog.sender.host.name.', ['component']);
    this.nacksC = counter(registry, 'edgelog_forward_nacks_total', 'NACKs sent (source) or received (sink), by error code.', ['component', 'code']);
    // inc(0), not set(0): a reloaded component must not reset the count its predecessor's closing connections still hold
    this.connectionsG.inc({ component }, 0);
  }

  frame(direction: Direction, type: number, bytes: number): void {
    this.frames.inc({ component: this.component, direction, type: frameTypeName[type] ?? 'unknown' });
    this.bytes.inc({ component: this.component, direction }, bytes);
  }

  rttSeconds(s: number): void { this.rtt.observe({ component: this.component }, s); }
  ackSeconds(s: number): void { this.ackLatency.observe({ component: this.component }, s); }

  retransmits(n: number, endpoint: string): void {
    if (n <= 0) return;
    this.retransmitsC.inc({ component: this.component }, n);
    this.log.warn('forward: retransmitting unacknowledged batches', { endpoint, frames: n });
  }

  rejected(reason: string, peer: string, detail: string): void {
    this.rejectedC.inc({ component: this.component, reason });
    const suppressed = this.throttle(reason);
    if (suppressed >= 0) this.log.warn('forward: rejected input, closing connection', { reason, peer, detail, ...(suppressed > 0 ? { suppressed_since_last: suppressed } : {}) });
  }

  /** A refused batch that is answered with NACK, counted under the same metric as refused connections. */
  hostNameRewritten(n: number): void { this.hostRewritesC.inc({ component: this.component }, n); }
  rejectedBatch(reason: string): void { this.rejectedC.inc({ component: this.component, reason }); }

  budgetWait(): void { this.budgetWaitsC.inc({ component: this.component }); }

  /** -1: do not log (counted as suppressed); otherwise log, reporting how many were suppressed before. */
  private throttle(reason: string): number {
    const now = Date.now();
    const e = this.lastLog.get(reason);
    if (e && now - e.at < 1000) { e.suppressed++; return -1; }
    const n = e?.suppressed ?? 0;
    this.lastLog.set(reason, { at: now, suppressed: 0 });
    return n;
  }

  /** Counts a rejected-batch reason without closing (NACKed batch). */
  nack(code: string, peer: string, detail: string): void {
    this.nacksC.inc({ component: this.component, code });
    if (this.throttle(`nack:${code}`) >= 0) this.log.warn('forward: batch not accepted', { code, peer, detail });
  }

  connect(endpoint: string, result: 'ok' | 'error', detail = ''): void {
    this.connectsC.inc({ component: this.component, endpoint, result });
    if (result === 'ok') this.log.info('forward: connected', { endpoint, ...(detail ? { detail } : {}) });
    else this.log.warn('forward: connect failed', { endpoint, error: detail });
  }

  transportFallback(reason: string): void {
    this.fallbackC.inc({ component: this.component });
    this.log.warn('forward: io_uring send path unavailable, using node net', { reason });
  }

  duplicate(peer: string, state: 'pending' | 'done'): void {
    this.dupC.inc({ component: this.component, state });
    this.log.debug('forward: resent batch recognised, not pushed again', { peer, state });
  }

  connections(delta: number): void { this.connectionsG.inc({ component: this.component }, delta); }
}
