// Turns the run's results into bench/results/latest.json, results.md and
// chart.svg, and the table printed at the end.

import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { renderBars, type BarPanel } from './bar-chart.ts';
import type { LatencyResult, SaturationResult } from './scenarios.ts';
import type { ProfileSummary } from './profile.ts';
import type { EngineResult } from './engines.ts';
import type { IdleResult } from './idle.ts';

export interface Machine { nproc: number; memory_gb: number; kernel: string; cpu_model: string; node: string; broker: string }

export interface Cell { saturation?: SaturationResult; latency?: LatencyResult; error?: string }

export interface BenchResults {
  generated_at: string;
  quick: boolean;
  duration_s: number;
  command: string;
  machine: Machine;
  versions: Record<string, string>;
  encodings: Record<string, string>;
  /** Per tool: does its configuration deliver at least once across a crash of the tool. */
  at_least_once: Record<string, boolean>;
  workloads: Array<{ name: string; title: string; lines: number; bytes: number; avg_line_bytes: number; source: string }>;
  tools: string[];
  skipped: Record<string, string>;
  results: Record<string, Record<string, Cell>>;
  latency_seconds: number;
  profile?: ProfileSummary & { tool: string; workload: string; command: string };
  engines?: EngineResult[];
  /** Idle RSS per tool (one quiet file, sink connected), plus `node (bare)`. */
  idle?: Record<string, IdleResult>;
  notes: string[];
}

export const TARGETS = { events_per_s: 150_000, vs_rsyslog: 1.5, p99_ms: 40, rss_mb: 200, gc_p99_ms: 3 };

const colors: Record<string, string> = { edgelog: '#1f77b4', rsyslog: '#ff7f0e', 'syslog-ng': '#2ca02c', kcat: '#7f7f7f', otelcol: '#d62728', 'otelcol-persistent': '#ff9896' };
const colorOf = (t: string, i: number) => colors[t] ?? ['#9467bd', '#8c564b', '#e377c2', '#17becf'][i % 4]!;

const n0 = (v: number | undefined, d = 0) => (v === undefined || !Number.isFinite(v) ? '–' : v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
const ratio = (a?: number, b?: number) => (a && b ? `${(a / b).toFixed(2)}x` : '–');

/** One flat record per tool and workload: what latest.json promises. */
function flat(c: Cell): Record<string, number | number[] | string | null> {
  const s = c.saturation, l = c.latency;
  const r = (v: number | undefined, d = 2) => (v === undefined || !Number.isFinite(v) ? null : +v.toFixed(d));
  return {
    events_per_s: r(s?.events_per_s, 0), mb_per_s: r(s?.mb_per_s), p50_ms: r(l?.p50_ms), p99_ms: r(l?.p99_ms), p999_ms: r(l?.p999_ms),
    cpu_s_per_gb: r(s?.cpu_s_per_gb), rss_mb: r(s?.rss_mb, 1), gc_p99_ms: r(s?.gc_p99_ms, 3), gc_worker_p99_ms: r(s?.gc_worker_p99_ms, 3),
    broker_cpu_s_per_gb: r(s?.broker_cpu_s_per_gb), latency_rate_events_per_s: r(l?.rate, 0),
    kafka_records_per_s: r(s?.kafka_records_per_s, 0), kafka_records: s?.kafka_records ?? null, kafka_messages: s?.kafka_messages ?? null,
    startup_s: r(s?.startup_s, 3), window_s: r(s?.window_s, 2),
    runs_events_per_s: s?.runs_events_per_s ?? null,
    latency_received: l?.received ?? null, latency_written: l?.written ?? null, ...(c.error ? { error: c.error } : {}),
  };
}

export function tableFor(res: BenchResults, wl: string): string {
  const rows: string[] = [];
  rows.push('| tool | at least once | events/s | Kafka records/s | MB/s | startup s | p50 ms | p99 ms | p99.9 ms | CPU s/GB | broker CPU s/GB | peak RSS MB | GC p99 ms (main / worker) | window s | vs rsyslog | vs otelcol |');
  rows.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const rs = res.results.rsyslog?.[wl]?.saturation?.events_per_s;
  const oc = res.results.otelcol?.[wl]?.saturation?.events_per_s;
  for (const t of res.tools) {
    const c = res.results[t]?.[wl];
    if (!c) continue;
    const alo = res.at_least_once?.[t] ? 'yes' : 'no';
    if (c.error && !c.saturation) { rows.push(`| ${t} | ${alo} | failed: ${c.error.split('\n')[0]!.slice(0, 120)} | | | | | | | | | | | | | |`); continue; }
    const s = c.saturation, l = c.latency;
    rows.push(`| ${t} | ${alo} | ${n0(s?.events_per_s)} | ${n0(s?.kafka_records_per_s)} | ${n0(s?.mb_per_s, 1)} | ${n0(s?.startup_s, 2)} | ${n0(l?.p50_ms, 1)} | ${n0(l?.p99_ms, 1)} | ${n0(l?.p999_ms, 1)} | ${n0(s?.cpu_s_per_gb, 1)} | ${n0(s?.broker_cpu_s_per_gb, 1)} | ${n0(s?.rss_mb, 0)} | ${s?.gc_p99_ms !== undefined ? n0(s.gc_p99_ms, 2) + (s.gc_worker_p99_ms !== undefined ? ` / ${n0(s.gc_worker_p99_ms, 2)}` : '') : '–'} | ${n0(s?.window_s, 1)} | ${t === 'rsyslog' ? '1.00x' : ratio(s?.events_per_s, rs)} | ${t === 'otelcol' ? '1.00x' : ratio(s?.events_per_s, oc)} |`);
  }
  return rows.join('\n');
}

function idleSection(res: BenchResults): string {
  const idle = res.idle;
  if (!idle || Object.keys(idle).length === 0) return '_not measured (--no-idle)._';
  const rows = ['| tool | idle RSS MB (median) | runs | target |', '| --- | ---: | --- | --- |'];
  for (const [t, r] of Object.entries(idle)) {
    const target = t === 'edgelog' ? (r.median_mb <= 70 ? '<= 70: met' : `<= 70: **missed** by ${(r.median_mb - 70).toFixed(1)} MB`) : '';
    rows.push(`| ${t} | ${n0(r.median_mb, 1)} | ${r.runs_mb.map((x) => x.toFixed(1)).join(' / ')} | ${target} |`);
  }
  const s = Object.values(idle)[0]?.settle_s ?? 0;
  return `${rows.join('\n')}\n\nEach tool tails one empty file; one line is written and acknowledged by Kafka (the sink is connected), then the tool idles ${s} s and its VmRSS is read. \`node (bare)\`: the bundled Node runtime running an empty timer, the floor any Node agent starts from here.`;
}

/** Issue 15's targets against the OpenTelemetry Collector, per workload the run measured. */
function collectorTargets(res: BenchResults): string {
  const rows = ['| workload | edgelog events/s vs otelcol (>= 1.25x) | vs otelcol-persistent (>= 2.5x) | peak RSS MB (<= 120) | GC p99 ms (<= 2) | CPU s/GB edgelog / otelcol (lower) |', '| --- | ---: | ---: | ---: | ---: | ---: |'];
  let any = false;
  for (const w of res.workloads) {
    const e = res.results.edgelog?.[w.name]?.saturation;
    if (!e) continue;
    any = true;
    const o = res.results.otelcol?.[w.name]?.saturation, op = res.results['otelcol-persistent']?.[w.name]?.saturation;
    const mark = (ok: boolean | null) => (ok === null ? '' : ok ? ' met' : ' **missed**');
    const r1 = o ? e.events_per_s / o.events_per_s : null, r2 = op ? e.events_per_s / op.events_per_s : null;
    rows.push(`| ${w.name} | ${r1 === null ? '–' : `${r1.toFixed(2)}x${mark(r1 >= 1.25)}`} | ${r2 === null ? '–' : `${r2.toFixed(2)}x${mark(r2 >= 2.5)}`} | ${n0(e.rss_mb)}${mark(e.rss_mb <= 120)} | ${e.gc_p99_ms === undefined ? '–' : `${n0(e.gc_p99_ms, 2)}${mark(e.gc_p99_ms <= 2)}`} | ${n0(e.cpu_s_per_gb, 1)} / ${n0(o?.cpu_s_per_gb, 1)}${o ? mark(e.cpu_s_per_gb < o.cpu_s_per_gb) : ''} |`);
  }
  return any ? rows.join('\n') : '_edgelog did not run: no target check._';
}

function targetsSection(res: BenchResults): string {
  const c = res.results.edgelog?.['json-200b'];
  if (!c?.saturation) return '_edgelog did not run on json-200b: no target check._';
  const s = c.saturation, l = c.latency;
  const rs = res.results.rsyslog?.['json-200b']?.saturation?.events_per_s;
  const line = (name: string, target: string, value: number | undefined, ok: boolean | null, unit: string, miss: string) =>
    `| ${name} | ${target} | ${value === undefined || !Number.isFinite(value) ? '–' : `${n0(value, unit === 'x' || unit === 'ms' ? 2 : 0)}${unit === 'x' ? 'x' : ` ${unit}`}`} | ${ok === null ? 'not measured' : ok ? 'met' : `**missed** ${miss}`} |`;
  const rows = [
    '| target (200-byte JSON lines, otlp_proto + lz4) | goal | measured | result |',
    '| --- | --- | ---: | --- |',
    line('throughput', '>= 150,000 events/s', s.events_per_s, s.events_per_s >= TARGETS.events_per_s, 'events/s',
      `by ${n0(TARGETS.events_per_s - s.events_per_s)} events/s (${((1 - s.events_per_s / TARGETS.events_per_s) * 100).toFixed(0)}% short)`),
    line('vs rsyslog', '>= 1.5x', rs ? s.events_per_s / rs : undefined, rs ? s.events_per_s / rs >= TARGETS.vs_rsyslog : null, 'x',
      rs ? `(needs ${n0(rs * 1.5)} events/s)` : ''),
    line('p99 end-to-end at half saturation', '<= 40 ms', l?.p99_ms, l ? l.p99_ms <= TARGETS.p99_ms : null, 'ms', l ? `by ${(l.p99_ms - TARGETS.p99_ms).toFixed(1)} ms` : ''),
    line('peak RSS', '<= 200 MB', s.rss_mb, s.rss_mb <= TARGETS.rss_mb, 'MB', `by ${(s.rss_mb - TARGETS.rss_mb).toFixed(0)} MB`),
    line('GC pause p99 (main thread)', '<= 3 ms', s.gc_p99_ms, s.gc_p99_ms !== undefined ? s.gc_p99_ms <= TARGETS.gc_p99_ms : null, 'ms', s.gc_p99_ms !== undefined ? `by ${(s.gc_p99_ms - TARGETS.gc_p99_ms).toFixed(2)} ms` : ''),
  ];
  // A worker's pause stalls its stages, not reading or the Kafka client; held to the same target all the same.
  if (s.gc_worker_p99_ms !== undefined) {
    rows.push(line('GC pause p99 (processing worker)', '<= 3 ms', s.gc_worker_p99_ms, s.gc_worker_p99_ms <= TARGETS.gc_p99_ms, 'ms', `by ${(s.gc_worker_p99_ms - TARGETS.gc_p99_ms).toFixed(2)} ms`));
  }
  return rows.join('\n');
}

function profileSection(res: BenchResults): string {
  const p = res.profile;
  if (!p) return '_No CPU profile this run._';
  const rows = [
    `One extra saturation run of ${p.tool} on ${p.workload} with \`${p.command}\`; ${n0(p.total_ms / 1000, 1)} s of samples, idle excluded (all threads).`,
    '',
    '| self % | self ms | function | where |',
    '| ---: | ---: | --- | --- |',
    ...p.functions.slice(0, 20).map((r) => `| ${(r.share * 100).toFixed(1)} | ${n0(r.self_ms)} | \`${r.fn}\` | ${r.where} |`),
    '',
    'By file (self time):',
    '',
    '| self % | file |',
    '| ---: | --- |',
    ...p.files.slice(0, 12).map((r) => `| ${(r.share * 100).toFixed(1)} | ${r.where} |`),
  ];
  return rows.join('\n');
}

function enginesSection(res: BenchResults): string {
  const e = res.engines;
  if (!e || e.length === 0) return '_Not run (--no-engines)._';
  const base = e.find((x) => x.engine === 'kafkajs')?.events_per_s;
  return [
    'Pre-encoded OTLP LogsData messages (2,600 200-byte JSON lines each, ~512 KiB of bodies: `batch.max_bytes`) produced by each client in its own process, one request of 4 messages in flight (the pipeline\'s shape), acks=all, idempotent, lz4. Encoding is outside the measurement: this isolates the client\'s cost.',
    '',
    '| engine | records/s | MB/s of bodies | CPU s/GB | request p50 ms | request p99 ms | peak RSS MB | vs kafkajs |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...e.map((x) => x.error
      ? `| ${x.version} | failed: ${x.error.split('\n')[0]!.slice(0, 100)} | | | | | | |`
      : `| ${x.version} | ${n0(x.events_per_s)} | ${n0(x.mb_per_s, 1)} | ${n0(x.cpu_s_per_gb, 1)} | ${n0(x.request_p50_ms, 1)} | ${n0(x.request_p99_ms, 1)} | ${n0(x.rss_mb)} | ${ratio(x.events_per_s, base)} |`),
  ].join('\n');
}

export function renderMarkdown(res: BenchResults): string {
  const out: string[] = [];
  out.push('# edgelog benchmark: files -> Kafka, side by side');
  out.push('');
  out.push(`Generated ${res.generated_at} by \`${res.command}\`${res.quick ? ' (**--quick**: small volumes, a smoke run)' : ''} in ${(res.duration_s / 60).toFixed(1)} min.`);
  out.push('One local Kafka broker (KRaft, single node, loopback, -Xmx512m) on the same 2-core machine as the tool under test; every tool reads the same file and writes to its own topic; lz4 everywhere; acks=all everywhere.');
  out.push('');
  out.push('## Targets (edgelog)');
  out.push('');
  out.push(targetsSection(res));
  out.push('');
  out.push('## Issue 15 targets (edgelog default vs the OpenTelemetry Collector, same run)');
  out.push('');
  out.push(collectorTargets(res));
  out.push('');
  for (const w of res.workloads) {
    out.push(`## ${w.title} (\`${w.name}\`)`);
    out.push('');
    out.push(`${n0(w.lines)} lines, ${n0(w.bytes / 1e6, 1)} MB, ${n0(w.avg_line_bytes, 1)} B/line on average (${w.source}).`);
    out.push('');
    out.push(tableFor(res, w.name));
    out.push('');
    const lat = res.tools.map((t) => { const l = res.results[t]?.[w.name]?.latency; return l ? `${t} ${n0(l.rate)}/s (${n0(l.received)}/${n0(l.written)} lines back, max ${n0(l.max_ms, 0)} ms)` : null; }).filter(Boolean);
    if (lat.length) out.push(`Latency runs (min(half of each tool's saturation rate, 150,000 lines/s), ${res.latency_seconds} s): ${lat.join('; ')}.`);
    const spread = res.tools.map((t) => { const s = res.results[t]?.[w.name]?.saturation; return s?.runs_events_per_s && s.runs_events_per_s.length > 1 ? `${t} ${s.runs_events_per_s.map((v) => n0(v)).join(' / ')}` : null; }).filter(Boolean);
    if (spread.length) out.push(`Saturation events/s of each repetition (median reported): ${spread.join('; ')}.`);
    const ld = res.tools.map((t) => { const s = res.results[t]?.[w.name]?.saturation; return s ? `${t} ${s.load[0].toFixed(1)}→${s.load[1].toFixed(1)}` : null; }).filter(Boolean);
    if (ld.length) out.push(`1-minute load average at start→end of each saturation run (2 cores; above ~3 means other work competed for the CPU): ${ld.join(', ')}.`);
    const cnt = res.tools.map((t) => { const s = res.results[t]?.[w.name]?.saturation; return s ? `${t} ${n0(s.kafka_records)} in ${n0(s.kafka_messages)} messages` : null; }).filter(Boolean);
    if (cnt.length) out.push(`Records counted in Kafka after the reported run (every tool read back alike): ${cnt.join('; ')}.`);
    // Where edgelog's peak RSS is (process.memoryUsage() at the sample with the highest RSS, reported run).
    const mem = res.tools.map((t) => { const m = res.results[t]?.[w.name]?.saturation?.mem_at_peak; return m ? `${t} ${m.rss} MB = heap ${m.heap_total} (used ${m.heap_used}) + external ${m.external} (array buffers ${m.array_buffers}) + other ${m.other} (code, stacks, allocator pages)` : null; }).filter(Boolean);
    if (mem.length) out.push(`Memory at peak RSS: ${mem.join('; ')}.`);
    out.push('');
  }
  out.push('## Idle RSS (one quiet file, Kafka sink connected)');
  out.push('');
  out.push(idleSection(res));
  out.push('');
  out.push('![chart](chart.svg)');
  out.push('');
  out.push('## Profile (edgelog, node --cpu-prof)');
  out.push('');
  out.push(profileSection(res));
  out.push('');
  out.push('## Kafka client engines (same OTLP messages, client only)');
  out.push('');
  out.push(enginesSection(res));
  out.push('');
  out.push('## Machine');
  out.push('');
  const m = res.machine;
  out.push(`- nproc ${m.nproc}, memory ${m.memory_gb.toFixed(1)} GB, kernel ${m.kernel}, CPU ${m.cpu_model}`);
  out.push(`- Node ${m.node}; broker ${m.broker}`);
  for (const [t, v] of Object.entries(res.versions)) out.push(`- ${t}: ${v} — ${res.encodings[t] ?? ''}; at least once: ${res.at_least_once?.[t] ? 'yes' : 'no'}`);
  for (const [t, why] of Object.entries(res.skipped)) out.push(`- ${t}: **skipped** (${why})`);
  out.push('');
  out.push('## Method');
  out.push('');
  for (const n of res.notes) out.push(`- ${n}`);
  out.push('');
  out.push('## Exact commands and configs (json-200b saturation run; paths are per-run temp dirs)');
  out.push('');
  for (const t of res.tools) {
    const s = Object.values(res.results[t] ?? {}).find((c) => c.saturation)?.saturation;
    if (!s) continue;
    out.push(`### ${t}`);
    out.push('');
    out.push('```');
    out.push(s.command);
    out.push('```');
    if (s.config && !s.config.startsWith('(')) { out.push(''); out.push('```'); out.push(s.config.trimEnd()); out.push('```'); }
    out.push('');
  }
  return out.join('\n');
}

export function renderSvg(res: BenchResults): string {
  const groups = res.workloads.map((w) => w.name);
  const panel = (title: string, unit: string, pick: (c: Cell) => number | undefined, target?: BarPanel['target']): BarPanel => ({
    title, unit, groups, target,
    series: res.tools.map((t, i) => ({ name: t, color: colorOf(t, i), values: groups.map((g) => { const c = res.results[t]?.[g]; const v = c ? pick(c) : undefined; return v === undefined ? null : v; }) })),
  });
  return renderBars(`edgelog bench: files -> Kafka on ${res.machine.nproc} cores (${res.generated_at.slice(0, 10)}${res.quick ? ', quick' : ''})`, [
    panel('Saturation throughput', 'events/s', (c) => c.saturation?.events_per_s, { value: TARGETS.events_per_s, label: 'edgelog target 150K/s (200 B)' }),
    panel('End-to-end latency p99 at half saturation', 'ms', (c) => c.latency?.p99_ms, { value: TARGETS.p99_ms, label: 'target 40 ms' }),
    panel('CPU per GB of input', 's/GB', (c) => c.saturation?.cpu_s_per_gb),
    panel('Peak RSS', 'MB', (c) => c.saturation?.rss_mb, { value: TARGETS.rss_mb, label: 'target 200 MB' }),
  ]);
}

export function writeResults(dir: string, res: BenchResults): void {
  mkdirSync(dir, { recursive: true });
  const tools: Record<string, Record<string, unknown>> = {};
  for (const t of res.tools) {
    tools[t] = {};
    for (const w of res.workloads) { const c = res.results[t]?.[w.name]; if (c) tools[t]![w.name] = flat(c); }
  }
  const json = {
    generated_at: res.generated_at, quick: res.quick, duration_s: Math.round(res.duration_s), command: res.command,
    machine: res.machine, versions: res.versions, at_least_once: res.at_least_once, workloads: res.workloads, targets: TARGETS, skipped: res.skipped,
    tools,
    // Everything measured, minus the configs (they are in results.md).
    raw: JSON.parse(JSON.stringify(res.results, (k, v) => (k === 'config' ? undefined : v))),
    engines: res.engines ?? null,
    idle: res.idle ?? null,
    profile: res.profile ? { ...res.profile, functions: res.profile.functions.slice(0, 20), files: res.profile.files.slice(0, 12) } : null,
  };
  writeFileSync(join(dir, 'latest.json'), JSON.stringify(json, null, 2) + '\n');
  writeFileSync(join(dir, 'results.md'), renderMarkdown(res) + '\n');
  writeFileSync(join(dir, 'chart.svg'), renderSvg(res) + '\n');
}
