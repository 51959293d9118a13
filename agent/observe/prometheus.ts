// Prometheus metrics: counters, gauges and histograms with labels, a registry
// and the text exposition format (version 0.0.4). The agent's own, instead
// of prom-client: that library and the @opentelemetry/api it loads for
// exemplars cost an idle agent 12 MB RSS (Node 24.21, `require` alone, 53.6
// vs 41.3 MB), a sixth of the issue-15 idle budget, for features the agent
// does not use (exemplars, cluster aggregation, push gateway).
//
// The API is the subset the agent used, with the same shapes, so a metric's
// name, labels, values and text are unchanged for whoever scrapes them:
//   inc(labels?, n?) / set(labels?, v) / observe(labels?, v) / labels({...})
//   remove(labels) / reset() / get() -> { name, help, type, values }
//   collect(): called at scrape time with the metric as `this`.
//
// Series are kept in a Map keyed by the label values in labelNames order;
// a label outside labelNames is an error when its series is first made (the
// same mistake prom-client reports, caught once per series, not per call).

export type LabelValues<L extends string> = Partial<Record<L, string | number>>;
export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  /** Set for histogram lines (name_bucket, name_sum, name_count). */
  metricName?: string;
}

export interface MetricData {
  name: string;
  help: string;
  type: MetricType;
  values: MetricValue[];
  aggregator: string;
}

/** What a registry holds: the built-in metric classes, or any object of this shape (BatchHistogram). */
export interface Metric {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  get(): MetricData | Promise<MetricData>;
  reset(): void;
  readonly labelNames?: readonly string[];
}

interface Options<L extends string, M> {
  name: string;
  help: string;
  labelNames?: readonly L[];
  registers?: Registry[];
  /** Scrape-time refresh, `this` is the metric; its promise is awaited before the values are read. */
  collect?: (this: M) => void | Promise<void>;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

abstract class Base<L extends string, S extends { labels: Record<string, string | number> }> implements Metric {
  readonly name: string;
  readonly help: string;
  abstract readonly type: MetricType;
  readonly labelNames: readonly L[];
  protected readonly series = new Map<string, S>();
  private readonly collectFn: ((this: never) => void | Promise<void>) | undefined;

  constructor(o: Options<L, never>) {
    if (!METRIC_NAME.test(o.name)) throw new Error(`invalid metric name ${JSON.stringify(o.name)}`);
    if (!o.help) throw new Error(`metric ${o.name} needs a help text`);
    const labelNames = [...(o.labelNames ?? [])];
    for (const l of labelNames) {
      if (!LABEL_NAME.test(l) || l.startsWith('__')) throw new Error(`metric ${o.name}: invalid label name ${JSON.stringify(l)}`);
    }
    this.name = o.name;
    this.help = o.help;
    this.labelNames = labelNames;
    this.collectFn = o.collect;
    for (const r of o.registers ?? []) r.registerMetric(this);
  }

  protected abstract fresh(labels: Record<string, string | number>): S;
  protected abstract lines(s: S, out: MetricValue[]): void;

  /** The key of a label set: its values in labelNames order (\u0001 marks a missing one). */
  protected key(labels: LabelValues<L> | undefined): string {
    const names = this.labelNames;
    if (names.length === 0) return '';
    let k = '';
    for (let i = 0; i < names.length; i++) {
      const v = labels?.[names[i]!];
      k += v === undefined ? '\u0001' : String(v);
      k += '\u0000';
    }
    return k;
  }

  /** The series of a label set, made (and its labels checked) on first use. */
  protected at(labels: LabelValues<L> | undefined): S {
    const k = this.key(labels);
    let s = this.series.get(k);
    if (s === undefined) {
      const copy: Record<string, string | number> = {};
      if (labels) {
        for (const name of Object.keys(labels)) {
          if (!(this.labelNames as readonly string[]).includes(name)) throw new Error(`metric ${this.name}: label "${name}" is not one of its label names (${this.labelNames.join(', ')})`);
          const v = (labels as Record<string, string | number | undefined>)[name];
          if (v !== undefined) copy[name] = v;
        }
      }
      s = this.fresh(copy);
      this.series.set(k, s);
    }
    return s;
  }

  /** Drop one label set's series (a file let go, a peer gone). */
  remove(labels: LabelValues<L>): void {
    this.series.delete(this.key(labels));
    this.seed();
  }

  /** Drop every series; an unlabelled metric starts again at zero. */
  reset(): void {
    this.series.clear();
    this.seed();
  }

  /** An unlabelled metric always has its one series (it reads 0 before the first event). */
  protected seed(): void {
    if (this.labelNames.length === 0 && !this.series.has('')) this.series.set('', this.fresh({}));
  }

  async get(): Promise<MetricData> {
    if (this.collectFn) await (this.collectFn as (this: this) => void | Promise<void>).call(this);
    const values: MetricValue[] = [];
    for (const s of this.series.values()) this.lines(s, values);
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' };
  }
}

interface ValueSeries { labels: Record<string, string | number>; value: number }

/** Split (labels?, value?) arguments. */
function args<L extends string>(a?: LabelValues<L> | number, b?: number): [LabelValues<L> | undefined, number | undefined] {
  return typeof a === 'object' ? [a, b] : [undefined, a];
}

export class Counter<L extends string = string> extends Base<L, ValueSeries> {
  readonly type = 'counter';
  constructor(o: Options<L, Counter<L>>) { super(o as Options<L, never>); this.seed(); }
  protected fresh(labels: Record<string, string | number>): ValueSeries { return { labels, value: 0 }; }
  protected lines(s: ValueSeries, out: MetricValue[]): void { out.push({ value: s.value, labels: s.labels }); }

  inc(labels?: LabelValues<L> | number, value?: number): void {
    const [l, v = 1] = args(labels, value);
    if (!(v >= 0)) throw new Error(`counter ${this.name}: cannot add ${v} (a counter only goes up)`);
    this.at(l).value += v;
  }

  labels(l: LabelValues<L>): { inc(value?: number): void } {
    const s = this.at(l);
    const name = this.name;
    return { inc(v = 1) { if (!(v >= 0)) throw new Error(`counter ${name}: cannot add ${v}`); s.value += v; } };
  }
}

export class Gauge<L extends string = string> extends Base<L, ValueSeries> {
  readonly type = 'gauge';
  constructor(o: Options<L, Gauge<L>>) { super(o as Options<L, never>); this.seed(); }
  protected fresh(labels: Record<string, string | number>): ValueSeries { return { labels, value: 0 }; }
  protected lines(s: ValueSeries, out: MetricValue[]): void { out.push({ value: s.value, labels: s.labels }); }

  set(labels: LabelValues<L> | number, value?: number): void {
    const [l, v] = args(labels, value);
    this.at(l).value = v ?? 0;
  }
  inc(labels?: LabelValues<L> | number, value?: number): void {
    const [l, v = 1] = args(labels, value);
    this.at(l).value += v;
  }
  dec(labels?: LabelValues<L> | number, value?: number): void {
    const [l, v = 1] = args(labels, value);
    this.at(l).value -= v;
  }

  labels(l: LabelValues<L>): { set(value: number): void; inc(value?: number): void; dec(value?: number): void } {
    const s = this.at(l);
    return { set(v) { s.value = v; }, inc(v = 1) { s.value += v; }, dec(v = 1) { s.value -= v; } };
  }
}

/** One label set of a histogram: counts[k] observations in bucket k (the last: above every bound). */
export interface HistogramSeries { labels: Record<string, string | number>; counts: Float64Array; sum: number; count: number }

/** A histogram series as the values of name_bucket (cumulative, le="+Inf" last), name_sum and name_count. */
export function histogramLines(name: string, bounds: Float64Array, s: HistogramSeries, out: MetricValue[]): void {
  let acc = 0;
  for (let k = 0; k < bounds.length; k++) {
    acc += s.counts[k]!;
    out.push({ value: acc, labels: { ...s.labels, le: bounds[k]! }, metricName: `${name}_bucket` });
  }
  out.push({ value: s.count, labels: { ...s.labels, le: '+Inf' }, metricName: `${name}_bucket` });
  out.push({ value: s.sum, labels: s.labels, metricName: `${name}_sum` });
  out.push({ value: s.count, labels: s.labels, metricName: `${name}_count` });
}

export class Histogram<L extends string = string> extends Base<L, HistogramSeries> {
  readonly type = 'histogram';
  private readonly bounds: Float64Array;

  constructor(o: Options<L, Histogram<L>> & { buckets: readonly number[] }) {
    super(o as Options<L, never>);
    if ((o.labelNames as readonly string[] | undefined)?.includes('le')) throw new Error(`histogram ${o.name}: "le" is reserved for buckets`);
    const b = [...o.buckets].sort((x, y) => x - y);
    for (let i = 1; i < b.length; i++) if (b[i] === b[i - 1]) throw new Error(`histogram ${o.name}: bucket ${b[i]} given twice`);
    this.bounds = Float64Array.from(b);
    this.seed();
  }

  protected fresh(labels: Record<string, string | number>): HistogramSeries {
    return { labels, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
  }

  protected lines(s: HistogramSeries, out: MetricValue[]): void { histogramLines(this.name, this.bounds, s, out); }

  private add(s: HistogramSeries, v: number): void {
    if (Number.isNaN(v)) throw new Error(`histogram ${this.name}: cannot observe NaN`);
    const b = this.bounds;
    let k = 0;
    while (k < b.length && v > b[k]!) k++;
    s.counts[k]!++;
    s.sum += v;
    s.count++;
  }

  observe(labels: LabelValues<L> | number, value?: number): void {
    const [l, v] = args(labels, value);
    this.add(this.at(l), v ?? 0);
  }

  labels(l: LabelValues<L>): { observe(value: number): void } {
    const s = this.at(l);
    return { observe: (v) => this.add(s, v) };
  }
}

/** A number as the text format writes it. */
function formatValue(v: number): string {
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

/** One metric in the text exposition format, each line ending in \n. */
export function formatMetric(d: MetricData): string {
  let out = `# HELP ${d.name} ${escapeHelp(d.help)}\n# TYPE ${d.name} ${d.type}\n`;
  for (const v of d.values) {
    let labels = '';
    for (const k of Object.keys(v.labels)) {
      const x = v.labels[k]!;
      labels += `${labels === '' ? '' : ','}${k}="${escapeLabel(typeof x === 'number' ? formatValue(x) : x)}"`;
    }
    out += `${v.metricName ?? d.name}${labels === '' ? '' : `{${labels}}`} ${formatValue(v.value)}\n`;
  }
  return out;
}

export class Registry {
  /** The Content-Type of what metrics() returns. */
  readonly contentType = 'text/plain; version=0.0.4; charset=utf-8';
  private readonly byName = new Map<string, Metric>();

  /** Register a metric; a second metric of the same name is an error (use getSingleMetric first). */
  registerMetric(m: Metric): void {
    if (this.byName.has(m.name) && this.byName.get(m.name) !== m) throw new Error(`a metric named ${m.name} is already registered`);
    this.byName.set(m.name, m);
  }

  getSingleMetric(name: string): Metric | undefined { return this.byName.get(name); }
  removeSingleMetric(name: string): void { this.byName.delete(name); }
  clear(): void { this.byName.clear(); }
  resetMetrics(): void { for (const m of this.byName.values()) m.reset(); }

  /** Every metric's current data (collect() run first), in registration order. */
  async getMetricsAsJSON(): Promise<MetricData[]> {
    const out: MetricData[] = [];
    for (const m of this.byName.values()) out.push(await m.get());
    return out;
  }

  /** One metric in the text format ('' when no such metric is registered). */
  async getSingleMetricAsString(name: string): Promise<string> {
    const m = this.byName.get(name);
    return m ? formatMetric(await m.get()) : '';
  }

  /** The scrape: every metric in the text format. */
  async metrics(): Promise<string> {
    let out = '';
    for (const d of await this.getMetricsAsJSON()) out += formatMetric(d);
    return out;
  }
}
