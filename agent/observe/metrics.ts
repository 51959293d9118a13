// The agent's core metrics, one registry per agent. Names follow
// edgelog_<subsystem>_<what>_<unit>, counters end in _total. Components add
// their own metrics on the same registry (ctx.metrics); the helpers here are
// for the pipeline, which emits each event's log line and metric together.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createRegistry(defaults = true): Registry {
  const r = new Registry();
  if (defaults) collectDefaultMetrics({ register: r, prefix: 'edgelog_process_' });
  return r;
}

/** Get-or-create so that two components (or a reload) never double-register a name. */
export function counter<L extends string>(r: Registry, name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
  return (r.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames, registers: [r] });
}
export function gauge<L extends string>(r: Registry, name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
  return (r.getSingleMetric(name) as Gauge<L> | undefined) ?? new Gauge({ name, help, labelNames, registers: [r] });
}
export function histogram<L extends string>(r: Registry, name: string, help: string, buckets: number[], labelNames: readonly L[] = []): Histogram<L> {
  return (r.getSingleMetric(name) as Histogram<L> | undefined) ?? new Histogram({ name, help, labelNames, buckets, registers: [r] });
}

// Latency buckets in seconds: dense around the 10-100 ms band where the
// brief's target (P99 47 ms) sits.
export const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
export const sizeBuckets = [1, 10, 100, 500, 1000, 5000, 10_000, 50_000];
export const byteBuckets = [1024, 16_384, 65_536, 262_144, 524_288, 1_048_576, 4_194_304];
