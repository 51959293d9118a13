// The processing workers count into their own registries (a metrics
// registry cannot be shared across threads). The agent's one registry shows
// their counters and gauges through mirror metrics whose collect() asks every
// live worker for a fresh snapshot at scrape time and sums them by label set.
// Counts of workers that have ended (reload, shutdown) are kept as a base, so
// a counter never goes backwards across a reload.

import { Counter, Gauge } from '../../observe/prometheus.ts';
import type { Registry } from '../../observe/prometheus.ts';
import type { WorkerMetrics } from './protocol.ts';

export interface MetricsSource {
  /** Fresh snapshots, one per live worker. */
  snapshot(): Promise<WorkerMetrics[]>;
}

type Labels = Record<string, string | number>;
interface Mirror { kind: 'counter' | 'gauge'; metric: Counter<string> | Gauge<string>; base: Map<string, { labels: Labels; value: number }> }

function labelKey(l: Labels): string {
  return Object.keys(l).sort().map((k) => `${k}=${l[k]}`).join(',');
}

export class WorkerMetricsHub {
  private readonly registry: Registry;
  private readonly sources = new Set<MetricsSource>();
  private readonly mirrors = new Map<string, Mirror>();
  private pending: Promise<WorkerMetrics[]> | null = null;

  constructor(registry: Registry) { this.registry = registry; }

  /** A pool's workers are live; `initial` is a first snapshot that tells which metrics they have. */
  attach(src: MetricsSource, initial: WorkerMetrics[]): void {
    this.sources.add(src);
    for (const snap of initial) for (const m of snap) this.ensure(m);
  }

  /** The pool is ending: `last` is its final snapshot, kept as the base of its counters. */
  detach(src: MetricsSource, last: WorkerMetrics[]): void {
    this.sources.delete(src);
    for (const snap of last) {
      for (const m of snap) {
        const mirror = this.ensure(m);
        if (!mirror || mirror.kind !== 'counter') continue;
        for (const v of m.values) {
          const k = labelKey(v.labels);
          const b = mirror.base.get(k);
          if (b) b.value += v.value; else mirror.base.set(k, { labels: v.labels, value: v.value });
        }
      }
    }
  }

  private ensure(m: WorkerMetrics[number]): Mirror | null {
    const { name, help, type } = m;
    const have = this.mirrors.get(name);
    if (have) return have;
    if (type !== 'counter' && type !== 'gauge') return null; // stages only count and gauge today
    if (this.registry.getSingleMetric(name)) return null; // the main thread owns this name
    const labelNames = m.labelNames;
    const hub = this;
    const mirror: Mirror = { kind: type, metric: null as unknown as Counter<string>, base: new Map() };
    const collect = async function (this: Counter<string> | Gauge<string>): Promise<void> { await hub.fill(name, mirror); };
    mirror.metric = type === 'counter'
      ? new Counter({ name, help, labelNames, registers: [this.registry], collect })
      : new Gauge({ name, help, labelNames, registers: [this.registry], collect });
    this.mirrors.set(name, mirror);
    return mirror;
  }

  /** One snapshot round per scrape, shared by every mirror metric. */
  private snapshots(): Promise<WorkerMetrics[]> {
    if (!this.pending) {
      this.pending = Promise.all([...this.sources].map((s) => s.snapshot())).then((all) => all.flat());
      void this.pending.finally(() => { setImmediate(() => { this.pending = null; }); });
    }
    return this.pending;
  }

  private async fill(name: string, mirror: Mirror): Promise<void> {
    const snaps = await this.snapshots();
    const sum = new Map<string, { labels: Labels; value: number }>();
    for (const [k, b] of mirror.base) sum.set(k, { labels: b.labels, value: b.value });
    for (const snap of snaps) {
      const m = snap.find((x) => x.name === name);
      if (!m) continue;
      for (const v of m.values) {
        const k = labelKey(v.labels);
        const s = sum.get(k);
        if (s) s.value += v.value; else sum.set(k, { labels: v.labels, value: v.value });
      }
    }
    mirror.metric.reset();
    for (const { labels, value } of sum.values()) {
      if (mirror.kind === 'counter') (mirror.metric as Counter<string>).inc(labels, value);
      else (mirror.metric as Gauge<string>).set(labels, value);
    }
  }
}
