// A Prometheus histogram that takes observations in bulk. The end-to-end
// latency is observed for every record; a Histogram.observe costs a label
// lookup per call (prom-client's, the library of the time, also a hash), which showed as 5.3 % of the
// agent's CPU at saturation (bench/results/results.md profile, json-200b).
// Here a batch is binned into a Float64Array per label set and the registry
// reads it at scrape time; the text format is the same.

import type { Metric, MetricData, MetricValue, Registry } from './prometheus.ts';
import { registered } from './metrics.ts';

interface Series { labels: Record<string, string>; counts: Float64Array; sum: number; count: number }

export class BatchHistogram implements Metric {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum';
  private readonly bounds: Float64Array;
  private readonly series = new Map<string, Series>();

  constructor(name: string, help: string, buckets: readonly number[]) {
    this.name = name;
    this.help = help;
    this.bounds = Float64Array.from(buckets);
  }

  /** The series for one label set; keep the handle, it is cheap to observe into. */
  labels(labels: Record<string, string>): Series {
    const key = JSON.stringify(labels);
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { labels, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 }));
    return s;
  }

  /** Observe `values[i] * scale` for every i (e.g. milliseconds with scale 0.001 for seconds). */
  observeMany(s: Series, values: ArrayLike<number>, offset: number, scale: number): void {
    const b = this.bounds;
    const n = b.length;
    let sum = 0;
    for (let i = 0; i < values.length; i++) {
      const v = (offset - values[i]!) * scale;
      sum += v;
      // Linear scan: 17 buckets, and most values fall in the first few.
      let k = 0;
      while (k < n && v > b[k]!) k++;
      s.counts[k]!++;
    }
    s.sum += sum;
    s.count += values.length;
  }

  get(): MetricData {
    const values: MetricValue[] = [];
    for (const s of this.series.values()) {
      let acc = 0;
      for (let k = 0; k < this.bounds.length; k++) {
        acc += s.counts[k]!;
        values.push({ value: acc, labels: { ...s.labels, le: this.bounds[k]! }, metricName: `${this.name}_bucket` });
      }
      values.push({ value: s.count, labels: { ...s.labels, le: '+Inf' }, metricName: `${this.name}_bucket` });
      values.push({ value: s.sum, labels: s.labels, metricName: `${this.name}_sum` });
      values.push({ value: s.count, labels: s.labels, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void { this.series.clear(); }
}

/** Get-or-register on a registry (a reload must not register the name twice). */
export function batchHistogram(r: Registry, name: string, help: string, buckets: readonly number[]): BatchHistogram {
  return registered(r, name, () => {
    const h = new BatchHistogram(name, help, buckets);
    r.registerMetric(h);
    return h;
  });
}
