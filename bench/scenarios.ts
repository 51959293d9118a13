// The two measurements per tool and workload:
//  - saturation: the workload file is written before the tool starts; from
//    the first record in Kafka until the last, how fast, at what CPU and
//    memory cost;
//  - latency: a writer appends lines carrying their write time at half of
//    the tool's own saturation rate; the broker stamps arrival
//    (LogAppendTime); latency = arrival - write time, for every line.

import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import type { BenchKafka } from './kafka.ts';
import { ProcSampler, cpuSeconds, percentile } from './measure.ts';
import { gcPauses, memorySplit, type GcPause } from './peers/edgelog.ts';
import { nodeBinaryReady, sh, track } from './peers/proc.ts';
import type { Peer } from './peers/types.ts';
import type { Workload, WorkloadFile } from './workload.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const writerTs = fileURLToPath(new URL('./writer.ts', import.meta.url));

export interface SaturationResult {
  events_per_s: number;
  mb_per_s: number;
  /** Lines over the whole run from spawn to the last record (includes start-up). */
  events_per_s_wall: number;
  /** events/s of every repetition (the reported run is their median). */
  runs_events_per_s?: number[];
  /** 'broker': first/last message LogAppendTime; 'poll': the runner's polls (kcat consumer missing). */
  rate_source: string;
  /** Records counted in the topic after the run (OTLP messages decoded record by record); the same count for every tool. */
  kafka_records: number;
  /** Kafka messages in the topic (edgelog and the collector pack many records into one). */
  kafka_messages: number;
  /** Kafka messages per second over the same window as events_per_s. */
  kafka_records_per_s: number;
  /** Seconds from the spawn of the tool to the broker's LogAppendTime of its first record. */
  startup_s: number;
  cpu_s: number;
  cpu_s_per_gb: number;
  /** Broker JVM CPU per GB of input over the same window. */
  broker_cpu_s_per_gb: number;
  rss_mb: number;
  gc_p99_ms?: number;
  /** Pauses of the processing worker thread(s), when the agent runs them. */
  gc_worker_p99_ms?: number;
  gc_max_ms?: number;
  gc_count?: number;
  /** The three longest main-thread pauses: duration, kind, seconds after the process started. */
  gc_top?: GcPause[];
  gc_p99_hist_ms?: number;
  /** edgelog: process.memoryUsage() at the sample with the highest RSS (MB): heap, external, array buffers, the rest. */
  mem_at_peak?: Record<string, number>;
  window_s: number;
  /** 1-minute load average at the start and the end of the run (other work on the machine shows here). */
  load: [number, number];
  command: string;
  config: string;
}

export interface LatencyResult {
  rate: number;
  seconds: number;
  written: number;
  received: number;
  p50_ms: number;
  p99_ms: number;
  p999_ms: number;
  max_ms: number;
}

export interface ScenarioContext {
  kafka: BenchKafka;
  brokerPid: number;
  log: (s: string) => void;
}

// EDGELOG_BENCH_KEEP_DIRS=1 keeps each run's directory (config, the tool's
// own output such as --trace-gc lines) for diagnosis; the path is logged.
function removeRunDir(dir: string, ctx: ScenarioContext): void {
  if (process.env.EDGELOG_BENCH_KEEP_DIRS === '1') ctx.log(`  kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

function runDir(peer: string, wl: string): string {
  return mkdtempSync(join(tmpdir(), `edgelog-bench-${peer}-${wl}-`));
}

function topicName(kind: string, peer: string, wl: string): string {
  return `${kind}-${peer}-${wl}-${randomBytes(3).toString('hex')}`.replace(/[^a-zA-Z0-9._-]/g, '_');
}

export async function saturation(ctx: ScenarioContext, peer: Peer, wl: Workload, wf: WorkloadFile, opts: { cpuProfileDir?: string } = {}): Promise<SaturationResult> {
  const topic = topicName('sat', peer.name, wl.name);
  await ctx.kafka.createTopic(topic);
  const dir = runDir(peer.name, wl.name);
  const tSpawn = performance.now();
  const spawnEpochMs = Date.now();
  const load0 = loadavg()[0]!;
  const p = await peer.start({ kafka: ctx.kafka, topic, input: wf.path, dir, mode: 'saturation', cpuProfileDir: opts.cpuProfileDir });
  const sampler = new ProcSampler(p.pids, { expandChildren: p.expandChildren, intervalMs: 50 });
  let t0 = 0, n0 = 0, cpu0 = 0, b0 = 0, tEnd = 0, cpuEnd = 0, bEnd = 0;
  let extra: Record<string, number> = {};
  try {
    let lastN = -1, lastProgress = performance.now();
    for (;;) {
      const n = await p.delivered();
      const t = performance.now();
      if (n > 0 && t0 === 0) { sampler.sample(); t0 = t; n0 = n; cpu0 = sampler.cpu(); b0 = cpuSeconds(ctx.brokerPid, false) ?? 0; }
      if (n >= wf.lines) { sampler.sample(); tEnd = t; cpuEnd = sampler.cpu(); bEnd = cpuSeconds(ctx.brokerPid, false) ?? 0; break; }
      if (n > lastN) { lastN = n; lastProgress = t; }
      if (t - lastProgress > 60_000) throw new Error(`${peer.name} stalled at ${n}/${wf.lines} records for 60 s`);
      await sleep(peer.pollMs ?? 50);
    }
    extra = (await p.extra?.()) ?? {};
  } finally {
    sampler.stop();
    await p.stop();
  }
  // The end condition above is each tool's own view (its metrics or the end
  // offset); what counts is what is in Kafka, read back the same way for
  // every tool once it stopped.
  const kafkaMessages = await ctx.kafka.endOffset(topic);
  let kafkaRecords = kafkaMessages;
  if (peer.batched) {
    let seen = 0;
    kafkaRecords = 0;
    await ctx.kafka.consume(topic, (v) => { seen++; kafkaRecords += peer.writeTimes(v).length; }, () => seen >= kafkaMessages, { idleMs: 10_000 });
  }
  if (kafkaRecords < wf.lines) throw new Error(`${peer.name}: ${kafkaRecords} of ${wf.lines} records in Kafka after the run (${kafkaMessages} messages)`);
  const avg = wf.bytes / wf.lines;
  const windowLines = wf.lines - n0;
  // Throughput from the broker's own clock: LogAppendTime of the first and
  // the last message, records after the first message over that span. Exact
  // to a millisecond whatever the polling interval (short runs need it).
  const first = ctx.kafka.messageAt(topic, 0);
  const last = ctx.kafka.messageAt(topic, -1);
  let windowS = (tEnd - t0) / 1000;
  let rate = (wf.lines - n0) / Math.max(windowS, 1e-3);
  let rateSource = 'poll';
  let wall = wf.lines / ((tEnd - tSpawn) / 1000);
  let msgRate = (kafkaMessages - 1) / Math.max(windowS, 1e-3);
  let startup = (t0 - tSpawn) / 1000;
  if (first && last && last.ts > first.ts) {
    const firstRecords = Math.max(1, peer.writeTimes(first.value).length);
    windowS = (last.ts - first.ts) / 1000;
    rate = (wf.lines - firstRecords) / windowS;
    msgRate = (kafkaMessages - 1) / windowS;
    rateSource = 'broker';
    wall = wf.lines / ((last.ts - spawnEpochMs) / 1000);
    startup = (first.ts - spawnEpochMs) / 1000;
  }
  // Every tool, kcat included, over the same window: the first poll that saw a record to the poll that saw the last.
  const cpu = cpuEnd - cpu0;
  const gc = gcPauses(dir);
  const mem = memorySplit(dir);
  const res: SaturationResult = {
    events_per_s: rate,
    mb_per_s: (rate * avg) / 1e6,
    events_per_s_wall: wall,
    rate_source: rateSource,
    kafka_records: kafkaRecords,
    kafka_messages: kafkaMessages,
    kafka_records_per_s: msgRate,
    startup_s: startup,
    cpu_s: cpu,
    cpu_s_per_gb: cpu / ((windowLines * avg) / 1e9),
    broker_cpu_s_per_gb: (bEnd - b0) / (((wf.lines - n0) * avg) / 1e9),
    rss_mb: sampler.peakBytes / (1024 * 1024),
    window_s: windowS,
    load: [+load0.toFixed(2), +loadavg()[0]!.toFixed(2)],
    command: p.command,
    config: p.config,
    ...(gc ? { gc_p99_ms: gc.p99, gc_max_ms: gc.max, gc_count: gc.count, gc_top: gc.top } : {}),
    ...(gc?.worker ? { gc_worker_p99_ms: gc.worker.p99, gc_worker_max_ms: gc.worker.max, gc_worker_count: gc.worker.count } : {}),
    ...(mem ? { mem_at_peak: mem } : {}),
    ...extra,
  };
  await ctx.kafka.deleteTopic(topic);
  removeRunDir(dir, ctx);
  return res;
}

export async function latency(ctx: ScenarioContext, peer: Peer, wl: Workload, rate: number, seconds: number): Promise<LatencyResult> {
  const topic = topicName('lat', peer.name, wl.name);
  await ctx.kafka.createTopic(topic);
  const dir = runDir(peer.name, wl.name);
  const input = join(dir, 'input.log');
  // kcat reads a FIFO the writer appends to. The others tail a regular file.
  if (peer.name === 'kcat') sh('mkfifo', [input]); else writeFileSync(input, '');
  const p = await peer.start({ kafka: ctx.kafka, topic, input, dir, mode: 'latency' });
  let written = 0;
  try {
    // Let the daemons open and watch the file before the first line (edgelog reports ready itself).
    await sleep(peer.name.startsWith('edgelog') || peer.name === 'kcat' ? 300 : 1500);
    await nodeBinaryReady();
    const w = fork(writerTs, [input, wl.name, String(Math.max(1, Math.round(rate))), String(seconds)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    track(w);
    const res = await new Promise<{ written: number }>((resolve, reject) => {
      w.once('message', (m) => resolve(m as { written: number }));
      w.once('exit', (code) => reject(new Error(`writer exited (${code}) without a result`)));
      w.once('error', reject);
    });
    written = res.written;
    // Everything written must arrive; bounded wait.
    const deadline = performance.now() + 120_000;
    while ((await p.delivered()) < written) {
      if (performance.now() > deadline) break;
      await sleep(100);
    }
  } finally {
    await p.stop();
  }
  const lats = new Float64Array(written);
  let k = 0;
  await ctx.kafka.consume(topic, (v, ts) => {
    for (const wt of peer.writeTimes(v)) if (Number.isFinite(wt) && k < lats.length) lats[k++] = ts - wt;
  }, () => k >= written, { idleMs: 10_000 });
  const sorted = lats.subarray(0, k).sort();
  await ctx.kafka.deleteTopic(topic);
  removeRunDir(dir, ctx);
  return {
    rate, seconds, written, received: k,
    p50_ms: percentile(sorted, 0.5), p99_ms: percentile(sorted, 0.99), p999_ms: percentile(sorted, 0.999),
    max_ms: k ? sorted[k - 1]! : NaN,
  };
}
