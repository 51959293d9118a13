// Kafka client engines side by side (issue 3 item 5): the same pre-encoded
// OTLP LogsData messages (200-byte JSON lines through the real otlp_proto
// encoder, ~512 KiB of bodies per message, as the pipeline batches them)
// produced through the Kafka sink's own engine modules
// (agent/sinks/kafka/engines: kafkajs, @platformatic/kafka and builtin),
// each in its own child process, one request of 4 messages in flight,
// acks=all, idempotent, lz4, the sink's headers. What differs is only the
// client: encode cost is outside the measurement.
//
// Standalone (a private broker unless --bootstrap is given):
//   node bench/engines.ts [--records N] [--reps N] [--bootstrap host:port]
// prints records/s, CPU s/GB, request p50/p99 and peak RSS per engine (the
// median of --reps runs, engines interleaved; the table also goes to
// bench/results/engines.md). `npm run bench` runs it once.

import { fork } from 'node:child_process';
import { startKafkaCluster, type KafkaCluster } from '../agent/embedded-kafka/cluster.ts';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from '../agent/observe/prometheus.ts';
import { AckGroup } from '../agent/core/ack.ts';
import { newRecord } from '../agent/core/record.ts';
import { silentLogger } from '../agent/observe/log.ts';
import { otlpProtoEncoder } from '../agent/encoders/otlp/otlp-proto.ts';
import { BenchKafka } from './kafka.ts';
import { ProcSampler } from './measure.ts';
import { nodeBinaryReady, track } from './peers/proc.ts';
import { jsonLine, repoRoot } from './workload.ts';

const producerTs = fileURLToPath(new URL('./engine-producer.ts', import.meta.url));

export interface EngineResult {
  engine: string;
  version: string;
  events_per_s: number;
  mb_per_s: number;
  cpu_s_per_gb: number;
  rss_mb: number;
  request_p50_ms: number;
  request_p99_ms: number;
  records: number;
  error?: string;
}

const RECORDS_PER_MESSAGE = 2600; // ~512 KiB of 200-byte bodies: batch.max_bytes default

/** Encodes a few distinct messages with the real encoder, length-prefixed into a file. */
function writePayloads(file: string, count: number): void {
  const ack = new AckGroup(0, () => {});
  ack.add(Number.MAX_SAFE_INTEGER / 2);
  const enc = otlpProtoEncoder.create(otlpProtoEncoder.validate({}, 'bench.encoder'), {
    id: 'bench', log: silentLogger, metrics: new Registry(), dataDir: tmpdir(), agentId: 'bench', host: 'bench-host', service: 'bench', site: 'bench',
  });
  const parts: Buffer[] = [];
  let line = 0;
  for (let m = 0; m < count; m++) {
    const recs = [];
    for (let i = 0; i < RECORDS_PER_MESSAGE; i++, line++) {
      recs.push(newRecord(Buffer.from(jsonLine(line, 200).slice(0, -1)), 'bench', '/var/log/app/bench.log', 'stream-0', line * 200, ack));
    }
    for (const msg of enc.encode(recs)) {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(msg.value.length);
      parts.push(len, msg.value);
    }
  }
  writeFileSync(file, Buffer.concat(parts));
}

function version(pkg: string): string {
  try { return (JSON.parse(readFileSync(join(repoRoot, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version; } catch { return '?'; }
}

export function enginesAvailable(): string[] {
  const out = ['kafkajs'];
  if (existsSync(join(repoRoot, 'node_modules/@platformatic/kafka/package.json'))) out.push('platformatic');
  out.push('builtin'); // the agent's own producer (agent/sinks/kafka/engines/builtin)
  return out;
}

export async function runEngines(kafka: BenchKafka, records: number, log: (s: string) => void): Promise<EngineResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'edgelog-bench-engines-'));
  const payloadFile = join(dir, 'payloads.bin');
  const out: EngineResult[] = [];
  try {
    writePayloads(payloadFile, 8);
    const requests = Math.max(4, Math.round(records / (RECORDS_PER_MESSAGE * 4)));
    for (const engine of enginesAvailable()) {
      const pkg = engine === 'kafkajs' ? 'kafkajs' : '@platformatic/kafka';
      const ver = engine === 'builtin' ? `builtin (edgelog ${version('..')})` : `${pkg} ${version(pkg)}`;
      const topic = `engine-${engine}-${Date.now()}`;
      await kafka.createTopic(topic);
      log(`engine ${ver}: ${requests} requests of 4 x ${RECORDS_PER_MESSAGE}-record OTLP messages`);
      try {
        await nodeBinaryReady();
        const child = fork(producerTs, [engine, kafka.bootstrap, topic, payloadFile, String(requests), String(RECORDS_PER_MESSAGE)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        track(child);
        const sampler = new ProcSampler([child.pid!], { intervalMs: 50 });
        const r = await new Promise<{ wall_s: number; records: number; encoded_bytes: number; cpu_s: number; request_p50_ms: number; request_p99_ms: number }>((resolve, reject) => {
          child.once('message', (m) => resolve(m as never));
          child.once('exit', (code) => reject(new Error(`engine child exited ${code}`)));
          child.once('error', reject);
        });
        sampler.stop();
        await new Promise((res) => { if (child.exitCode !== null) res(null); else child.once('exit', res); });
        const bodyBytes = r.records * 200;
        out.push({
          engine, version: ver, events_per_s: r.records / r.wall_s, mb_per_s: bodyBytes / r.wall_s / 1e6,
          cpu_s_per_gb: r.cpu_s / (bodyBytes / 1e9), rss_mb: sampler.peakBytes / 2 ** 20,
          request_p50_ms: r.request_p50_ms, request_p99_ms: r.request_p99_ms, records: r.records,
        });
        const x = out[out.length - 1]!;
        log(`  ${Math.round(x.events_per_s).toLocaleString('en-US')} records/s, ${x.cpu_s_per_gb.toFixed(1)} CPU s/GB, request p99 ${x.request_p99_ms.toFixed(1)} ms, RSS ${x.rss_mb.toFixed(0)} MB`);
      } catch (err) {
        out.push({ engine, version: ver, events_per_s: NaN, mb_per_s: NaN, cpu_s_per_gb: NaN, rss_mb: NaN, request_p50_ms: NaN, request_p99_ms: NaN, records: 0, error: (err as Error).message });
        log(`  FAILED: ${(err as Error).message.split('\n')[0]}`);
      }
      await kafka.deleteTopic(topic);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

function median(xs: number[]): number {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return v.length === 0 ? NaN : v[Math.floor((v.length - 1) / 2)]!;
}

async function cli(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (k: string): string | undefined => { const i = argv.indexOf(k); return i >= 0 ? argv[i + 1] : undefined; };
  if (argv.includes('--help')) {
    console.log('usage: node bench/engines.ts [--records N (1000000)] [--reps N (3)] [--bootstrap host:port] [--out FILE (bench/results/engines.md)]');
    return;
  }
  const loadBefore = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const records = Number(opt('--records') ?? 1_000_000);
  const reps = Number(opt('--reps') ?? 3);
  const started = performance.now();
  const log = (s: string) => console.log(`[engines ${((performance.now() - started) / 1000).toFixed(0).padStart(4)}s] ${s}`);
  let cluster: KafkaCluster | null = null;
  let bootstrap = opt('--bootstrap');
  if (!bootstrap) {
    log('starting a private Kafka broker');
    cluster = await startKafkaCluster({ name: 'bench-engines', heapMb: 512 }); // as bench/run.ts
    bootstrap = cluster.bootstrap;
  }
  const kafka = new BenchKafka(bootstrap);
  const runs: EngineResult[][] = [];
  try {
    for (let r = 0; r < reps; r++) { log(`rep ${r + 1}/${reps}`); runs.push(await runEngines(kafka, records, log)); }
  } finally {
    await kafka.close();
    await cluster?.stop();
  }
  const base = median(runs.map((rs) => rs.find((x) => x.engine === 'kafkajs')?.events_per_s ?? NaN));
  const lines: string[] = [];
  const print = (l: string) => { console.log(l); lines.push(l); };
  print(`\nmedian of ${reps} runs, ${records.toLocaleString('en-US')} records each (node ${process.version}; load average before ${loadBefore}, after ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})\n`);
  print('| engine | records/s | MB/s of bodies | CPU s/GB | request p50 ms | request p99 ms | peak RSS MB | vs kafkajs | spread records/s |');
  print('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const name of enginesAvailable()) {
    const rs = runs.map((x) => x.find((y) => y.engine === name)).filter((x): x is EngineResult => !!x);
    const m = (f: (x: EngineResult) => number) => median(rs.map(f));
    const eps = m((x) => x.events_per_s);
    const all = rs.map((x) => Math.round(x.events_per_s).toLocaleString('en-US')).join(' / ');
    print(`| ${rs[0]?.version ?? name} | ${Math.round(eps).toLocaleString('en-US')} | ${m((x) => x.mb_per_s).toFixed(1)} | ${m((x) => x.cpu_s_per_gb).toFixed(1)} | ${m((x) => x.request_p50_ms).toFixed(1)} | ${m((x) => x.request_p99_ms).toFixed(1)} | ${m((x) => x.rss_mb).toFixed(0)} | ${(eps / base).toFixed(2)}x | ${all} |`);
  }
  const out = opt('--out') ?? join(repoRoot, 'bench/results/engines.md');
  writeFileSync(out, [`# Kafka engines, client only`, '', `Generated ${new Date().toISOString()} by \`node bench/engines.ts ${process.argv.slice(2).join(' ')}\` on the shared 2-core machine.`, ...lines, ''].join('\n'));
  console.log(`written to ${out}`);
}

if (import.meta.main) {
  cli().then(() => process.exit(0), (err: unknown) => { console.error(err); process.exit(1); });
}
