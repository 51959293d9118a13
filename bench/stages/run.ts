// Per-stage micro-benchmarks: records/s of each decoder and transform on
// 200-byte and 1 KB JSON lines and on the loghub samples, in batches of 256
// (the pipeline's batch shape). Writes bench/results/stages.json and .md.
//
//   node bench/stages/run.ts [--seconds 1] [--only name,name]
//
// Each case: fresh records are built outside the timed section (decoders and
// transforms mutate records), three untimed warm-up rounds, then rounds until
// --seconds of timed work. Single thread, the stage alone.

import { cpus, totalmem, arch, platform, release, loadavg } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Registry } from '../../agent/observe/prometheus.ts';
import { AckGroup } from '../../agent/core/ack.ts';
import type { ComponentContext, ComponentSpec, Processor } from '../../agent/core/component.ts';
import { newRecord } from '../../agent/core/record.ts';
import type { LogRecord } from '../../agent/core/record.ts';
import { silentLogger } from '../../agent/observe/log.ts';
import { jsonDecoder } from '../../agent/decoders/json/json.ts';
import { logfmtDecoder } from '../../agent/decoders/logfmt.ts';
import { regexDecoder } from '../../agent/decoders/regex.ts';
import { syslogDecoder } from '../../agent/decoders/syslog.ts';
import { multiline } from '../../agent/transforms/multiline/multiline.ts';
import { filter } from '../../agent/transforms/filter.ts';
import { sample } from '../../agent/transforms/sample.ts';
import { enrich } from '../../agent/transforms/enrich.ts';
import { redact } from '../../agent/transforms/redact.ts';
import { throttle } from '../../agent/transforms/throttle.ts';
import { validate } from '../../agent/transforms/validate.ts';
import { rename } from '../../agent/transforms/rename.ts';
import { javaTraceLines, jsonLines, logfmtLines, loghubLines } from './workload.ts';

const args = process.argv.slice(2);
const seconds = Number(args[args.indexOf('--seconds') + 1] || 0) || Number(process.env.EDGELOG_BENCH_SECONDS ?? 1);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1]!.split(',') : null;
const BATCH = 256;

// One ack group that never completes: the bench measures stages, not acks.
const ack = new AckGroup(0, () => {});
ack.add(Number.MAX_SAFE_INTEGER / 2);

function ctx(id: string): ComponentContext {
  return { id, log: silentLogger, metrics: new Registry(), dataDir: '/tmp/edgelog-bench-stages', agentId: 'bench', host: 'bench-host', service: 'edgelog', site: 'bench' };
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function make(spec: ComponentSpec<any, Processor>, raw: Record<string, unknown>, id = spec.type): Processor {
  return spec.create(spec.validate(raw, `bench.${id}`), ctx(id));
}

function toRecords(bufs: Buffer[], streams = 1): LogRecord[] {
  const out = new Array<LogRecord>(bufs.length);
  for (let i = 0; i < bufs.length; i++) out[i] = newRecord(bufs[i]!, 'bench', 's', `stream-${i % streams}`, i, ack);
  return out;
}

interface Case {
  name: string; workload: string; stage: string;
  lines: Buffer[];
  /** Prepare input records (untimed): e.g. decode JSON before a transform. */
  prep?: (recs: LogRecord[]) => LogRecord[];
  proc: () => Processor;
}

interface Result { name: string; stage: string; workload: string; records: number; rounds: number; seconds: number; records_per_s: number; best_records_per_s: number; records_per_cpu_s: number; mb_per_s: number; out_ratio: number }

// Rounds until --seconds of timed work and at least 5 rounds; the median
// round is the figure, the best round shows what the stage does when the
// (shared, 2-core) machine is not busy with something else.
function runCase(c: Case): Result {
  const bytes = c.lines.reduce((n, b) => n + b.length + 1, 0);
  const p = c.proc();
  const round = (): [number, number, number] => {
    let recs = toRecords(c.lines);
    if (c.prep) recs = c.prep(recs);
    const out: LogRecord[] = [];
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < recs.length; i += BATCH) p.process(recs.slice(i, i + BATCH), out);
    p.flush?.(out);
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(c0);
    return [wall, (cpu.user + cpu.system) / 1e6, out.length];
  };
  // Three warm-up rounds: with one, whichever case ran first paid for the
  // optimizing compiler on the shared helpers (the json fast path measured
  // 2x slower than the parse path when it ran first, even when interleaved
  // runs showed them within 10%).
  for (let w = 0; w < 3; w++) round();
  const rates: number[] = [];
  const cpuRates: number[] = [];
  let total = 0, n = 0, outN = 0;
  while (total < seconds || rates.length < 5) {
    const [dt, cpu, o] = round();
    total += dt; n += c.lines.length; outN += o;
    rates.push(c.lines.length / dt);
    cpuRates.push(c.lines.length / Math.max(cpu, 1e-6));
  }
  rates.sort((a, b) => a - b);
  cpuRates.sort((a, b) => a - b);
  const median = rates[rates.length >> 1]!;
  return {
    name: c.name, stage: c.stage, workload: c.workload, records: n, rounds: rates.length, seconds: +total.toFixed(3),
    records_per_s: Math.round(median), best_records_per_s: Math.round(rates[rates.length - 1]!), records_per_cpu_s: Math.round(cpuRates[cpuRates.length >> 1]!),
    mb_per_s: +((bytes / c.lines.length) * median / 1e6).toFixed(1), out_ratio: +(outN / n).toFixed(3),
  };
}

const B = (ls: string[]) => ls.map((l) => Buffer.from(l));
const N = 20_000;
const j200 = B(jsonLines(N, 200));
const j1k = B(jsonLines(N / 4, 1024));
const lf = B(logfmtLines(N));
const hub = B(loghubLines());
const hadoop = B(loghubLines('Hadoop_2k.log'));
const linux = B(loghubLines('Linux_2k.log'));
const java = B(javaTraceLines());

const decodeJson = (() => { const d = make(jsonDecoder, {}, 'prep'); return (recs: LogRecord[]) => { const o: LogRecord[] = []; d.process(recs, o); return o; }; })();
const hadoopPattern = {
  pattern: String.raw`^(?<time>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}) (?<level>[A-Z]+) \[(?<thread>[^\]]*)\] (?<logger>[\w.$]+): (?<message>.*)$`,
  time_format: '%Y-%m-%d %H:%M:%S,%L',
};

const cases: Case[] = [
  { name: 'baseline JSON.parse only', stage: 'baseline', workload: 'json200', lines: j200, proc: (): Processor => ({ process(b: LogRecord[], o: LogRecord[]) { for (const r of b) { JSON.parse(r.body.toString()); o.push(r); } } }) },
  { name: 'json (fast path)', stage: 'json', workload: 'json200', lines: j200, proc: () => make(jsonDecoder, {}) },
  { name: 'json (JSON.parse path)', stage: 'json', workload: 'json200', lines: j200, proc: () => make(jsonDecoder, { fast_path: false }) },
  { name: 'json (fast path)', stage: 'json', workload: 'json1k', lines: j1k, proc: () => make(jsonDecoder, {}) },
  { name: 'json (JSON.parse path)', stage: 'json', workload: 'json1k', lines: j1k, proc: () => make(jsonDecoder, { fast_path: false }) },
  { name: 'json on non-JSON lines', stage: 'json', workload: 'loghub', lines: hub, proc: () => make(jsonDecoder, {}) },
  { name: 'logfmt', stage: 'logfmt', workload: 'logfmt200', lines: lf, proc: () => make(logfmtDecoder, {}) },
  { name: 'regex (Hadoop log4j pattern)', stage: 'regex', workload: 'loghub Hadoop', lines: hadoop, proc: () => make(regexDecoder, hadoopPattern) },
  { name: 'syslog (BSD, no PRI)', stage: 'syslog', workload: 'loghub Linux', lines: linux, proc: () => make(syslogDecoder, {}) },
  { name: 'multiline java', stage: 'multiline', workload: 'loghub Hadoop + traces', lines: java, proc: () => make(multiline, { preset: 'java' }) },
  { name: 'multiline timestamp_start', stage: 'multiline', workload: 'loghub Hadoop + traces', lines: java, proc: () => make(multiline, { preset: 'timestamp_start' }) },
  { name: 'multiline java', stage: 'multiline', workload: 'json200', lines: j200, proc: () => make(multiline, { preset: 'java' }) },
  { name: 'filter min_level + exclude', stage: 'filter', workload: 'json200 decoded', lines: j200, prep: decodeJson, proc: () => make(filter, { min_level: 'info', exclude: [{ field: 'path', equals: '/healthz' }] }) },
  { name: 'sample 1/10 by trace_id', stage: 'sample', workload: 'json200 decoded', lines: j200, prep: decodeJson, proc: () => make(sample, { rate: 10, key_field: 'trace_id' }) },
  { name: 'enrich 2 labels + host facts', stage: 'enrich', workload: 'json200 decoded', lines: j200, prep: decodeJson, proc: () => make(enrich, { labels: { env: 'prod', region: 'eu-west' } }) },
  { name: 'redact all built-ins', stage: 'redact', workload: 'json200 decoded', lines: j200, prep: decodeJson, proc: () => make(redact, {}) },
  { name: 'redact all built-ins', stage: 'redact', workload: 'json200 raw', lines: j200, proc: () => make(redact, {}) },
  { name: 'redact all built-ins', stage: 'redact', workload: 'loghub', lines: hub, proc: () => make(redact, {}) },
  { name: 'throttle per service (under rate)', stage: 'throttle', workload: 'json200 decoded', lines: j200, prep: decodeJson, proc: () => make(throttle, { rate: 1e9, key_field: 'service.name' }) },
  { name: 'validate 2 required + 1 type', stage: 'validate', workload: 'json200 decoded', lines: j200, prep: decodeJson, proc: () => make(validate, { required: ['message', 'service.name'], types: { status: 'integer' } }) },
  { name: 'rename lower-case + dots', stage: 'rename', workload: 'json200 decoded', lines: j200, prep: decodeJson, proc: () => make(rename, { lower_case_keys: true, dots_to: '_' }) },
].filter((c) => c.lines.length > 0 && (only === null || only.includes(c.stage)));

// Each case runs in its own Node process: in one process the first JSON case
// measured up to 2x slower than the same case run later (JIT feedback and
// heap size left behind by earlier cases), which made the json fast path
// look slower than JSON.parse or faster depending only on the order.
const caseArg = args.indexOf('--case');
if (caseArg >= 0) {
  const c = cases[Number(args[caseArg + 1])]!;
  process.stdout.write(JSON.stringify(runCase(c)) + '\n');
  process.exit(0);
}

const loadAtStart = loadavg().map((x) => +x.toFixed(2));
const results: Result[] = [];
const self = fileURLToPath(import.meta.url);
for (let i = 0; i < cases.length; i++) {
  const passOn = args.filter((a, k) => a !== '--case' && args[k - 1] !== '--case');
  const child = spawnSync(process.execPath, [self, ...passOn, '--case', String(i)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (child.status !== 0) throw new Error(`case ${cases[i]!.name} failed with status ${child.status}`);
  const r = JSON.parse(child.stdout.trim().split('\n').pop()!) as Result;
  results.push(r);
  console.log(`${r.stage.padEnd(10)} ${r.name.padEnd(36)} ${r.workload.padEnd(24)} ${String(r.records_per_s).padStart(10)} rec/s (best ${String(r.best_records_per_s).padStart(9)}, per CPU-s ${String(r.records_per_cpu_s).padStart(9)}) ${String(r.mb_per_s).padStart(7)} MB/s  out ${r.out_ratio}`);
}

const machine = { load_avg_at_start: loadAtStart, load_avg_at_end: loadavg().map((x) => +x.toFixed(2)), cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, mem_gb: +(totalmem() / 2 ** 30).toFixed(1), node: process.version, os: `${platform()} ${release()} ${arch()}` };
const command = `node bench/stages/run.ts${args.length ? ' ' + args.join(' ') : ''}`; // each case in a child process
const dir = join(import.meta.dirname, '../results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'stages.json'), JSON.stringify({ date: new Date().toISOString(), command, machine, batch: BATCH, seconds_per_case: seconds, results }, null, 2) + '\n');
const md = [
  '# Per-stage micro-benchmarks', '',
  `${new Date().toISOString()} · \`${command}\` · ${machine.cpu} (${machine.cores} cores) · Node ${machine.node} · load average ${machine.load_avg_at_start.join(' ')} at start, ${machine.load_avg_at_end.join(' ')} at end · batches of ${BATCH}, one thread, one process per case, >= ${seconds}s and 5 rounds per case`, '',
  'records/s is the median round (wall clock), best the fastest round, per CPU-s the median of records per CPU second of this process (less sensitive to other load; the machine is shared).', '',
  '| stage | case | workload | records/s (median) | best round | records per CPU-s | MB/s (median) | out/in |', '|---|---|---|---:|---:|---:|---:|---:|',
  ...results.map((r) => `| ${r.stage} | ${r.name} | ${r.workload} | ${r.records_per_s.toLocaleString('en-US')} | ${r.best_records_per_s.toLocaleString('en-US')} | ${r.records_per_cpu_s.toLocaleString('en-US')} | ${r.mb_per_s} | ${r.out_ratio} |`), '',
].join('\n');
writeFileSync(join(dir, 'stages.md'), md);
