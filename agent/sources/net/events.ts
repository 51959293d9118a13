// Network source events: each is one function that counts (in-process stats
// for tests and /readyz, Prometheus for operators) and logs. Hostile traffic
// repeats, so log lines for bad input are rate-limited per reason; counters
// always count.

import type { Counter, Gauge, Registry } from '../../observe/prometheus.ts';
import type { Logger } from '../../observe/log.ts';
import { counter, gauge } from '../../observe/metrics.ts';

export type MalformedReason =
  | 'oversized' | 'bad_frame' | 'unparsed' | 'empty' | 'overflow' | 'tls_handshake' | 'spool_rejected';
export type CloseReason =
  | 'peer' | 'idle_timeout' | 'frame_timeout' | 'max_connections' | 'bad_frame' | 'error' | 'shutdown';

export interface NetStats {
  accepted: number;
  open: number;
  closed: Partial<Record<CloseReason, number>>;
  malformed: Partial<Record<MalformedReason, number>>;
  records: number;
  bytes: number;
  pauses: number;
  spoolRetries: number;
}

interface Metrics {
  malformed: Counter<'component' | 'reason'>;
  conns: Gauge<'component' | 'state'>;
  closed: Counter<'component' | 'reason'>;
  records: Counter<'component'>;
}

function metricsOn(reg: Registry): Metrics {
  return {
    malformed: counter(reg, 'edgelog_source_malformed_total', 'Malformed, oversized or undeliverable input seen by a source, by reason.', ['component', 'reason']),
    conns: gauge(reg, 'edgelog_source_connections', 'Connections of a network source by state (open, paused).', ['component', 'state']),
    closed: counter(reg, 'edgelog_source_connections_closed_total', 'Connections closed by a network source, by reason (peer, idle_timeout, frame_timeout, max_connections, bad_frame, error, shutdown).', ['component', 'reason']),
    records: counter(reg, 'edgelog_source_net_records_total', 'Records read by a network source.', ['component']),
  };
}

const LOG_EVERY_MS = 10_000;

export class NetEvents {
  readonly stats: NetStats = { accepted: 0, open: 0, closed: {}, malformed: {}, records: 0, bytes: 0, pauses: 0, spoolRetries: 0 };
  private readonly m: Metrics | null;
  private readonly log: Logger;
  private readonly component: string;
  private readonly lastLog = new Map<string, number>();
  private paused = 0;

  constructor(component: string, log: Logger, reg: Registry | undefined) {
    this.component = component;
    this.log = log;
    this.m = reg ? metricsOn(reg) : null;
    this.m?.conns.set({ component, state: 'open' }, 0);
    this.m?.conns.set({ component, state: 'paused' }, 0);
  }

  private limited(key: string): boolean {
    const now = Date.now();
    const last = this.lastLog.get(key) ?? 0;
    if (now - last < LOG_EVERY_MS) return true;
    this.lastLog.set(key, now);
    return false;
  }

  accepted(peer: string): void {
    this.stats.accepted++;
    this.stats.open++;
    this.m?.conns.set({ component: this.component, state: 'open' }, this.stats.open);
    this.log.debug('connection accepted', { peer });
  }

  rejected(peer: string, limit: number): void {
    this.stats.closed.max_connections = (this.stats.closed.max_connections ?? 0) + 1;
    this.m?.closed.inc({ component: this.component, reason: 'max_connections' });
    if (!this.limited('max_connections')) this.log.warn('connection refused: max_connections reached', { peer, max_connections: limit, refused_total: this.stats.closed.max_connections });
  }

  closed(peer: string, reason: CloseReason): void {
    this.stats.open--;
    this.stats.closed[reason] = (this.stats.closed[reason] ?? 0) + 1;
    this.m?.conns.set({ component: this.component, state: 'open' }, this.stats.open);
    this.m?.closed.inc({ component: this.component, reason });
    if (reason === 'peer' || reason === 'shutdown') this.log.debug('connection closed', { peer, reason });
    else if (!this.limited('close:' + reason)) this.log.warn('connection closed by edgelog', { peer, reason, total: this.stats.closed[reason] });
  }

  malformed(reason: MalformedReason, peer: string, n = 1): void {
    this.stats.malformed[reason] = (this.stats.malformed[reason] ?? 0) + n;
    this.m?.malformed.inc({ component: this.component, reason }, n);
    if (!this.limited('malformed:' + reason)) this.log.warn('malformed input', { peer, reason, total: this.stats.malformed[reason] });
  }

  read(records: number, bytes: number): void {
    this.stats.records += records;
    this.stats.bytes += bytes;
    this.m?.records.inc({ component: this.component }, records);
  }

  pause(delta: 1 | -1): void {
    this.paused += delta;
    if (delta > 0) this.stats.pauses++;
    this.m?.conns.set({ component: this.component, state: 'paused' }, this.paused);
  }

  spoolRetry(err: unknown): void {
    this.stats.spoolRetries++;
    if (!this.limited('spool_retry')) this.log.error('spool refused records, reading paused until it accepts them', { err });
  }
}
