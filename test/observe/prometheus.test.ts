// The agent's Prometheus registry: what a scraper and a dashboard read. The
// text must parse as exposition format 0.0.4 (names, escaped label values,
// cumulative buckets with le="+Inf", _sum, _count), counters never go down,
// a label outside a metric's label names is refused, and the process metrics
// report this process's real figures under the names dashboards use.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Counter, Gauge, Histogram, Registry } from '../../agent/observe/prometheus.ts';
import { counter, createRegistry, histogram, latencyBuckets } from '../../agent/observe/metrics.ts';
import { BatchHistogram } from '../../agent/observe/batch-histogram.ts';

/** Sample lines of a scrape: name{labels} -> value (comments dropped). */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    const v = line.slice(i + 1);
    out.set(line.slice(0, i), v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v));
  }
  return out;
}

test('counters, gauges and histograms in the text format, with HELP and TYPE and escaped label values', async () => {
  const r = new Registry();
  const c = new Counter<'path'>({ name: 'x_read_total', help: 'Bytes read\nper path \\ file.', labelNames: ['path'], registers: [r] });
  const g = new Gauge({ name: 'x_open', help: 'Open.', registers: [r] });
  const h = new Histogram<'k'>({ name: 'x_seconds', help: 'Time.', labelNames: ['k'], buckets: [0.5, 0.1, 1], registers: [r] });
  c.inc({ path: '/var/log/a "b"\n\\c' }, 5);
  c.inc({ path: '/var/log/a "b"\n\\c' });
  c.labels({ path: 'other' }).inc(2);
  g.set(3); g.inc(2); g.dec();
  h.observe({ k: 'a' }, 0.1); // on the bound: counts in le="0.1"
  h.observe({ k: 'a' }, 0.3);
  h.labels({ k: 'a' }).observe(7);
  const text = await r.metrics();
  assert.equal(r.contentType, 'text/plain; version=0.0.4; charset=utf-8');
  assert.match(text, /^# HELP x_read_total Bytes read\\nper path \\\\ file\.\n# TYPE x_read_total counter\n/);
  assert.match(text, /# TYPE x_open gauge\n/);
  assert.match(text, /# TYPE x_seconds histogram\n/);
  const s = samples(text);
  assert.equal(s.get('x_read_total{path="/var/log/a \\"b\\"\\n\\\\c"}'), 6);
  assert.equal(s.get('x_read_total{path="other"}'), 2);
  assert.equal(s.get('x_open'), 4);
  assert.equal(s.get('x_seconds_bucket{k="a",le="0.1"}'), 1);
  assert.equal(s.get('x_seconds_bucket{k="a",le="0.5"}'), 2);
  assert.equal(s.get('x_seconds_bucket{k="a",le="1"}'), 2);
  assert.equal(s.get('x_seconds_bucket{k="a",le="+Inf"}'), 3);
  assert.ok(Math.abs(s.get('x_seconds_sum{k="a"}')! - 7.4) < 1e-9);
  assert.equal(s.get('x_seconds_count{k="a"}'), 3);
  assert.equal(s.size, 2 + 1 + 6);
});

test('an unlabelled metric reads 0 before its first event and after reset; a labelled one has no series', async () => {
  const r = new Registry();
  new Counter({ name: 'a_total', help: 'A.', registers: [r] });
  new Counter<'x'>({ name: 'b_total', help: 'B.', labelNames: ['x'], registers: [r] });
  const h = new Histogram({ name: 'c', help: 'C.', buckets: [1], registers: [r] });
  h.observe(2);
  h.reset();
  const s = samples(await r.metrics());
  assert.deepEqual([...s.entries()], [['a_total', 0], ['c_bucket{le="1"}', 0], ['c_bucket{le="+Inf"}', 0], ['c_sum', 0], ['c_count', 0]]);
});

test('remove drops one label set; get() returns the values with their labels', async () => {
  const g = new Gauge<'path' | 'component'>({ name: 'lag', help: 'Lag.', labelNames: ['component', 'path'] });
  g.set({ component: 'f', path: '/a' }, 1);
  g.set({ path: '/b', component: 'f' }, 2); // label order does not matter
  g.set({ component: 'f', path: '/b' }, 3);
  g.remove({ component: 'f', path: '/a' });
  const d = await g.get();
  assert.equal(d.type, 'gauge');
  assert.deepEqual(d.values, [{ value: 3, labels: { path: '/b', component: 'f' } }]);
  assert.deepEqual(g.labelNames, ['component', 'path']);
});

test('mistakes are refused: an unknown label, a counter going down, a name registered twice, bad names', () => {
  const r = new Registry();
  const c = new Counter<'a'>({ name: 'm_total', help: 'M.', labelNames: ['a'], registers: [r] });
  assert.throws(() => c.inc({ a: '1', b: '2' } as never), /label "b" is not one of its label names/);
  assert.throws(() => c.inc({ a: '1' }, -1), /only goes up/);
  assert.throws(() => c.inc({ a: '1' }, Number.NaN), /cannot add/);
  assert.throws(() => new Counter({ name: 'm_total', help: 'again', registers: [r] }), /already registered/);
  assert.throws(() => new Gauge({ name: 'bad-name', help: 'x' }), /invalid metric name/);
  assert.throws(() => new Gauge({ name: 'ok', help: 'x', labelNames: ['__reserved'] }), /invalid label name/);
  assert.throws(() => new Histogram({ name: 'h', help: 'x', labelNames: ['le'], buckets: [1] }), /reserved/);
  assert.throws(() => new Histogram({ name: 'h', help: 'x', buckets: [1, 1] }), /given twice/);
  assert.equal(r.getSingleMetric('m_total'), c);
});

test('collect runs at scrape time with the metric as this, and a scrape waits for an async one', async () => {
  const r = new Registry();
  let reads = 0;
  new Gauge({
    name: 'slow', help: 'S.', registers: [r],
    async collect() { reads++; await new Promise((res) => setTimeout(res, 5)); this.set(reads * 10); },
  });
  assert.equal(samples(await r.metrics()).get('slow'), 10);
  assert.equal(samples(await r.metrics()).get('slow'), 20);
  assert.equal((await r.getSingleMetricAsString('slow')).split('\n')[2], 'slow 30');
  assert.equal(await r.getSingleMetricAsString('absent'), '');
});

test('a BatchHistogram on the registry scrapes like a Histogram fed the same values', async () => {
  const r = new Registry();
  const b = new BatchHistogram('bh', 'B.', [0.01, 0.1]);
  r.registerMetric(b);
  const h = new Histogram<'component'>({ name: 'hh', help: 'H.', labelNames: ['component'], buckets: [0.01, 0.1], registers: [r] });
  const ms = [1, 50, 500];
  b.observeMany(b.labels({ component: 'p' }), ms.map((x) => 1000 - x), 1000, 0.001);
  for (const x of ms) h.observe({ component: 'p' }, x / 1000);
  const s = samples(await r.metrics());
  for (const suffix of ['_bucket{component="p",le="0.01"}', '_bucket{component="p",le="0.1"}', '_bucket{component="p",le="+Inf"}', '_count{component="p"}']) {
    assert.equal(s.get(`bh${suffix}`), s.get(`hh${suffix}`), suffix);
  }
});

test('process metrics report this process: its RSS, CPU time, open fds, heap and version', async () => {
  const r = createRegistry();
  const s = samples(await r.metrics());
  const rss = s.get('edgelog_process_process_resident_memory_bytes')!;
  const now = process.memoryUsage.rss();
  assert.ok(rss > 0.5 * now && rss < 2 * now, `RSS ${rss} vs ${now}`);
  const cpu = s.get('edgelog_process_process_cpu_seconds_total')!;
  assert.ok(cpu > 0 && cpu <= process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6, `cpu ${cpu}`);
  assert.ok(Math.abs(cpu - s.get('edgelog_process_process_cpu_user_seconds_total')! - s.get('edgelog_process_process_cpu_system_seconds_total')!) < 0.05);
  assert.ok(s.get('edgelog_process_process_open_fds')! >= 3);
  assert.ok(s.get('edgelog_process_process_max_fds')! >= s.get('edgelog_process_process_open_fds')!);
  const start = s.get('edgelog_process_process_start_time_seconds')!;
  assert.ok(Math.abs(start - (Date.now() / 1000 - process.uptime())) < 2);
  assert.ok(s.get('edgelog_process_nodejs_heap_size_used_bytes')! > 1e6);
  assert.ok(s.get('edgelog_process_nodejs_heap_space_size_used_bytes{space="old"}')! > 0);
  assert.ok(s.get('edgelog_process_nodejs_eventloop_lag_seconds')! >= 0);
  assert.ok(s.has('edgelog_process_nodejs_eventloop_lag_p99_seconds'));
  const [maj, min, pat] = process.versions.node.split('.');
  assert.equal(s.get(`edgelog_process_nodejs_version_info{version="${process.version}",major="${maj}",minor="${min}",patch="${pat}"}`), 1);
  assert.ok(s.get('edgelog_process_nodejs_active_resources_total')! >= 0);
});

// .ci/setup.sh extracts promtool into .cache/bin (as for monitoring.test.ts).
const cachedPromtool = join(import.meta.dirname, '../../.cache/bin/promtool');
const promtool = existsSync(cachedPromtool) ? cachedPromtool : 'promtool';
const hasPromtool = spawnSync(promtool, ['--version']).status === 0;

test('a scrape parses with Prometheus\'s own parser (promtool check metrics)', { skip: hasPromtool ? false : 'promtool not found in .cache/bin or on PATH (.ci/setup.sh extracts it from Debian\'s prometheus package)' }, async () => {
  const r = createRegistry();
  counter(r, 'edgelog_x_records_total', 'Records.', ['component']).inc({ component: 'a "quoted"\nline \\ back' }, 3);
  histogram(r, 'edgelog_x_latency_seconds', 'Latency.', latencyBuckets, ['component']).observe({ component: 'a' }, 0.02);
  new Gauge({ name: 'edgelog_x_open', help: 'Open \\ files\nnow.', registers: [r] }).set(Number.POSITIVE_INFINITY);
  const p = spawnSync(promtool, ['check', 'metrics'], { input: await r.metrics(), encoding: 'utf8' });
  // Exit 3 is lint only; the one lint kept on purpose: the Node client libraries' gauge name nodejs_active_resources_total.
  const lint = `${p.stdout}${p.stderr}`.split('\n').filter((l) => l.trim() !== '' && !l.includes('nodejs_active_resources_total non-counter metrics should not have "_total" suffix'));
  assert.ok(p.status === 0 || p.status === 3, `promtool exit ${p.status}: ${p.stdout}${p.stderr}`);
  assert.deepEqual(lint, []);
});
