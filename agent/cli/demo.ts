// `edgelog demo`: the main job on an embedded default. Starts a real Kafka
// broker, copies the twelve loghub samples into a temp directory and adds a
// live writer, ships everything through the real agent (file source ->
// otlp_proto -> kafka), prints a progress line each second, then reads the
// topic back and checks every line: present, byte-exact, in order per file.

import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from './args.ts';
import { parseConfig } from '../config/load.ts';
import { Agent } from '../pipeline/agent.ts';
import { createLogger } from '../observe/log.ts';
import { readDuration } from '../config/schema.ts';
import { startKafkaCluster, createTopic, consumeAll, type KafkaCluster } from '../embedded-kafka/cluster.ts';
import { readLogsData, checkAgainstFiles, splitLines, type ReadbackRecord } from '../verify/otlp-readback.ts';

export const help = `usage: edgelog demo [--duration DUR] [--rate N] [--json FILE] [--keep]

Starts an embedded Kafka broker, tails the twelve loghub samples plus a live
writer through the agent, shows records/s, MB/s, lag and p99 latency each
second, and ends with a summary and a check that every written line was
consumed back from Kafka byte-exact and in order. Exit 0 only if it was.

  --duration DUR   how long the live writer runs (default 60s)
  --rate N         live lines per second (default 20000)
  --samples DIR    loghub samples (default ../shared/data/loghub next to the repository)
  --json FILE      write the summary as JSON
  --keep           keep the temp directory (logs, state) for inspection`;

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export async function main(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, { duration: 'string', rate: 'string', json: 'string', keep: 'boolean', samples: 'string' });
  if (flags.help) { console.log(help); return 0; }
  const durationMs = readDuration(flags, 'duration', 'demo', 60_000);
  const rate = flags.rate === undefined ? 20_000 : Number(flags.rate);
  const samplesDir = (flags.samples as string | undefined) ?? process.env.EDGELOG_SAMPLES ?? resolve(repoRoot, '../shared/data/loghub');
  const say = (s: string) => console.log(s);
  const dir = mkdtempSync(join(tmpdir(), 'edgelog-demo-'));
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  let kafka: KafkaCluster | null = null;
  let agent: Agent | null = null;
  try {
    say('edgelog demo: starting an embedded Kafka broker (KRaft, loopback)');
    kafka = await startKafkaCluster({ name: 'demo' });
    const topic = 'edgelog-demo';
    await createTopic(kafka.bootstrap, topic, 3);
    say(`  broker ${kafka.bootstrap} ready in ${(kafka.startupMs / 1000).toFixed(1)} s; topic ${topic} (3 partitions)`);

    // Sample lines: the loghub files as they are (CRLF, unterminated last lines and all).
    const samples = existsSync(samplesDir) ? readdirSync(samplesDir).filter((f) => f.endsWith('.log')).sort() : [];
    const pool: Buffer[] = [];
    for (const f of samples) {
      copyFileSync(join(samplesDir, f), join(logs, f));
      for (const [, line] of splitLines(readFileSync(join(samplesDir, f)))) if (line.length > 0) pool.push(line);
    }
    if (pool.length === 0) {
      say(`  no loghub samples at ${samplesDir}: the live writer uses generated lines`);
      for (let i = 0; i < 1000; i++) pool.push(Buffer.from(`${new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString()} INFO app[${100 + (i % 7)}]: request id=${i} path=/api/v1/items/${i % 97} status=${[200, 200, 200, 404, 500][i % 5]} duration_ms=${(i * 37) % 900}`));
    } else say(`  tailing ${samples.length} loghub samples (${pool.length} lines) from ${samplesDir}`);

    const cfg = parseConfig(`
agent: { id: demo, site: demo-site, data_dir: ${JSON.stringify(join(dir, 'state'))} }
observe: { log_level: warn, log_format: text }
sources:
  logs: { type: file, include: [${JSON.stringify(join(logs, '*.log'))}], idle_flush: 1s }
sinks:
  kafka:
    type: kafka
    brokers: [${JSON.stringify(kafka.bootstrap)}]
    topic: ${topic}
`);
    agent = new Agent(cfg, { log: createLogger({ level: 'warn', format: 'text' }) });
    let delivered = 0, deliveredBytes = 0;
    const t0 = Date.now();
    let window: number[] = [];
    const all: number[] = [];
    await agent.start('127.0.0.1:0');
    for (const p of agent.pipelines) {
      p.events.tap = (n, bytes, observed, now) => {
        delivered += n; deliveredBytes += bytes;
        // Steady-state latency excludes the first 5 s (broker coordinator loading, the samples' initial burst).
        const steady = now - t0 > 5000;
        for (let i = 0; i < observed.length; i++) { const l = now - observed[i]!; window.push(l); if (steady) all.push(l); }
      };
    }
    say(`  agent up: metrics on http://${agent.httpAddress}/metrics`);

    // Live writer: four files, lines drawn from the samples, at a steady rate, in a worker thread.
    let written = 0, writtenBytes = 0;
    const started = Date.now();
    const worker = new Worker(new URL('./demo-writer.ts', import.meta.url), {
      workerData: { files: [0, 1, 2, 3].map((i) => join(logs, `live-${i}.log`)), rate, durationMs, pool },
    });
    const writerDone = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: { written: number; bytes: number; done: boolean }) => { written = m.written; writtenBytes = m.bytes; if (m.done) resolve(); });
      worker.on('error', reject);
    });
    const sampleLines = samples.reduce((a, f) => a + splitLines(readFileSync(join(logs, f))).length, 0);
    let last = 0, lastBytes = 0;
    const progress = setInterval(() => {
      const t = (Date.now() - started) / 1000;
      const lag = Math.max(0, sampleLines + written - delivered);
      say(`  t=${t.toFixed(0).padStart(3)}s  ${fmt(delivered - last).padStart(7)} rec/s  ${((deliveredBytes - lastBytes) / 1e6).toFixed(2).padStart(6)} MB/s  lag ${fmt(lag).padStart(7)} lines  p99 ${pct(window, 0.99).toFixed(0).padStart(4)} ms  delivered ${fmt(delivered)}`);
      last = delivered; lastBytes = deliveredBytes; window = [];
    }, 1000);
    await writerDone;
    await worker.terminate();
    const liveSeconds = (Date.now() - started) / 1000;
    say(`  writer stopped: ${fmt(written)} live lines (${(writtenBytes / 1e6).toFixed(1)} MB) in ${liveSeconds.toFixed(0)} s; draining`);
    const drainDeadline = Date.now() + 60_000;
    while (delivered < sampleLines + written - samples.length && Date.now() < drainDeadline) await sleep(100);
    clearInterval(progress);
    await agent.stop(); // flushes the samples' unterminated last lines
    agent = null;

    say('  reading the topic back from Kafka');
    const msgs = await consumeAll(kafka.bootstrap, topic, { idleMs: 15_000, timeoutMs: 120_000 });
    const records: ReadbackRecord[] = [];
    for (const m of msgs) if (m.value) records.push(...readLogsData(m.value));
    const files = new Map<string, Buffer>();
    for (const f of readdirSync(logs).sort()) files.set(join(logs, f), readFileSync(join(logs, f)));
    const checks = checkAgainstFiles(records, files);
    const expected = checks.reduce((a, c) => a + c.expected, 0);
    const bad = checks.filter((c) => c.missing || c.mismatched || c.outOfOrder);
    const dups = checks.reduce((a, c) => a + c.duplicates, 0);
    all.sort((a, b) => a - b);
    const summary = {
      lines_expected: expected, records_consumed: records.length, kafka_messages: msgs.length,
      missing: checks.reduce((a, c) => a + c.missing, 0), mismatched: checks.reduce((a, c) => a + c.mismatched, 0),
      out_of_order: checks.reduce((a, c) => a + c.outOfOrder, 0), duplicates: dups,
      live_rate_target: rate, throughput_records_per_s: Math.round(delivered / liveSeconds), throughput_mb_per_s: +(deliveredBytes / 1e6 / liveSeconds).toFixed(2),
      latency_p50_ms: pctSorted(all, 0.5), latency_p99_ms: pctSorted(all, 0.99), latency_max_ms: all.at(-1) ?? 0,
      files: checks.map((c) => ({ file: c.stream.slice(logs.length + 1), ...c, stream: undefined })),
      ok: bad.length === 0 && expected > 0,
    };
    say('');
    say('  file                         lines  delivered  missing  mismatched  dups');
    for (const c of checks) say(`  ${c.stream.slice(logs.length + 1).padEnd(26)} ${String(c.expected).padStart(7)} ${String(c.unique).padStart(10)} ${String(c.missing).padStart(8)} ${String(c.mismatched).padStart(11)} ${String(c.duplicates).padStart(5)}`);
    say('');
    say(`  ${fmt(expected)} lines written, ${fmt(records.length)} records consumed in ${fmt(msgs.length)} Kafka messages (otlp_proto)`);
    say(`  throughput ${fmt(summary.throughput_records_per_s)} records/s, ${summary.throughput_mb_per_s} MB/s (encoded); latency read->ack (after 5 s warm-up) p50 ${summary.latency_p50_ms} ms, p99 ${summary.latency_p99_ms} ms`);
    say(summary.ok ? '  check: every line delivered, byte-exact, in order per file: OK' : `  check: FAILED for ${bad.map((c) => c.stream).join(', ')}`);
    if (flags.json) writeFileSync(String(flags.json), JSON.stringify(summary, null, 2) + '\n');
    return summary.ok ? 0 : 1;
  } finally {
    if (agent) await agent.stop().catch(() => undefined);
    await kafka?.stop().catch(() => undefined);
    if (flags.keep) say(`  kept ${dir}`); else rmSync(dir, { recursive: true, force: true });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
function pct(v: number[], p: number): number { if (!v.length) return 0; const s = [...v].sort((a, b) => a - b); return pctSorted(s, p); }
function pctSorted(s: number[], p: number): number { return s.length ? s[Math.min(s.length - 1, Math.floor(s.length * p))]! : 0; }
