// A Prometheus histogram that takes observations in bulk. The end-to-end
// latency is observed for every record; a Histogram.observe costs a label
// lookup per call (prom-client's, the library of the time, also a hash), which showed as 5.3 % of the
// agent's CPU at saturation (bench/results/results.md profile, json-200b).
// Here a batch is binned into a Float64Array per label set and the registry
// reads it at scrape time; the text format is the same.

import { histogramLines, type HistogramSeries, type Metric, type MetricData, type MetricValue, type Registry } from './prometheus.ts';
import { registered } from './metrics.ts';


export class BatchHistogram implements Metric {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum';
  private readonly bounds: Float64Array;
  private readonly series = new Map<string, HistogramSeries>();

  constructor(name: string, help: string, buckets: readonly number[]) {
    this.name = name;
    this.help = help;
    this.bounds = Float64Array.from(buckets);
  }

  /** The series for one label set; keep the handle, it is cheap to observe into. */
  labels(labels: Record<string, string>): HistogramSeries {
    const key = JSON.stringify(labels);
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { labels, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 }));
    return s;
  }

  /** Observe `values[i] * scale` for every i (e.g. milliseconds with scale 0.001 for seconds). */
  observeMany(s: HistogramSeries, values: ArrayLike<number>, offset: number, scale: number): void {
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
    for (const s of this.series.values()) histogramLines(this.name, this.bounds, s, values);
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
