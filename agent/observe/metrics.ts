// The agent's core metrics, one registry per agent. Names follow
// edgelog_<subsystem>_<what>_<unit>, counters end in _total. Components add
// their own metrics on the same registry (ctx.metrics); the helpers here are
// for the pipeline, which emits each event's log line and metric together.

import { Counter, Gauge, Histogram, Registry } from './prometheus.ts';
import { registerProcessMetrics } from './process-metrics.ts';

export function createRegistry(defaults = true): Registry {
  const r = new Registry();
  if (defaults) registerProcessMetrics(r, 'edgelog_process_');
  return r;
}

/**
 * The metric registered as `name` on `r`, or the one `make` creates and
 * registers: get-or-create, so that two components (or a reload) never
 * register a name twice. The one place the agent does this; counter, gauge,
 * histogram and batchHistogram are this with a constructor.
 */
export function registered<M>(r: Registry, name: string, make: () => M): M {
  return (r.getSingleMetric(name) as M | undefined) ?? make();
}

/** `collect`: computed at scrape time (called with the metric as `this`); kept from the first registration. */
type Collect<M> = (this: M) => void | Promise<void>;

export function counter<L extends string>(r: Registry, name: string, help: string, labelNames: readonly L[] = [], collect?: Collect<Counter<L>>): Counter<L> {
  return registered(r, name, () => new Counter<L>({ name, help, labelNames: [...labelNames], registers: [r], ...(collect ? { collect } : {}) }));
}
export function gauge<L extends string>(r: Registry, name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
  return registered(r, name, () => new Gauge<L>({ name, help, labelNames: [...labelNames], registers: [r] }));
}
export function histogram<L extends string>(r: Registry, name: string, help: string, buckets: number[], labelNames: readonly L[] = []): Histogram<L> {
  return registered(r, name, () => new Histogram<L>({ name, help, labelNames: [...labelNames], buckets, registers: [r] }));
}

// Latency buckets in seconds: dense around the 10-100 ms band where the
// brief's target (P99 47 ms) sits.
export const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
export const sizeBuckets = [1, 10, 100, 500, 1000, 5000, 10_000, 50_000];
export const byteBuckets = [1024, 16_384, 65_536, 262_144, 524_288, 1_048_576, 4_194_304];
