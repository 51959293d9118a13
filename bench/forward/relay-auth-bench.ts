// agent -> relay -> Kafka through a relay with TLS + HMAC auth, beside the
// same path in plain TCP without auth. The relay is a real `edgelog run`
// process writing to a real (embedded) Kafka; the agent side is the forward
// sink driven as the pipeline drives it (4 messages per send, one send at a
// time, zstd). A send resolves only when the relay ACKed, i.e. after Kafka
// did, so events/s is end to end. CPU s/GB: relay process CPU (from
// /proc/<pid>/stat) and sender CPU (process.cpuUsage), per GB of log bytes.
//
//   node bench/forward/relay-auth-bench.ts [--events 200000] [--reps 3]
//
// Both variants send the same pre-encoded messages through the same sink
// config (zstd, default window, node transport) and differ only in tls + auth.
// Variants alternate within each repetition, in ABBA order (plain first in odd
// repetitions, tls_auth first in even ones), after one untimed warm-up run of
// each: the earlier version always ran plain first, against a cold Kafka and
// right after the previous run, and measured plain "slower" than TLS (23,903 vs
// 43,077 ev/s), an order effect, not a property of either path.
// Writes bench/results/forward-relay-auth.json and .md.

import { execFileSync, fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from '../../agent/observe/prometheus.ts';
import { startKafkaCluster, createTopic, freePort } from '../../agent/embedded-kafka/cluster.ts';
import { forwardSink, type ForwardSink } from '../../agent/sinks/forward/index.ts';
import { silentLogger } from '../../agent/observe/log.ts';
import { OtlpProtoEncoder, otlpProtoDefaults } from '../../agent/encoders/otlp/otlp-proto.ts';
import { AckGroup } from '../../agent/core/ack.ts';
import { newRecord } from '../../agent/core/record.ts';
import type { EncodedMessage } from '../../agent/core/component.ts';

const self = fileURLToPath(import.meta.url);
const root = resolve(dirname(self), '../..');
const mainTs = join(root, 'agent/cli/main.ts');
const arg = (name: string): string | undefined => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
const EVENTS = Number(arg('events') ?? 200_000);
const REPS = Number(arg('reps') ?? 3);
const SECRET = 'bench-agent-secret-0123456789abcdef';
const loghub = '/work/shared/data/loghub/HDFS_2k.log';

function cpuOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, clock ticks (100 Hz)
}

/** The log lines to send: loghub HDFS lines when present, else synthetic lines of similar length. */
function lines(): Buffer[] {
  let src: Buffer[];
  try { src = readFileSync(loghub).toString().split('\n').filter(Boolean).map((l) => Buffer.from(l)); } catch { src = []; }
  if (src.length === 0) src = Array.from({ length: 2000 }, (_, i) => Buffer.from(`081109 2035${i % 60} 148 INFO dfs.DataNode$PacketResponder: block blk_${i * 7919} terminating`));
  return Array.from({ length: EVENTS }, (_, i) => src[i % src.length]!);
}

function encodeAll(bodies: Buffer[]): { msgs: EncodedMessage[]; bytes: number } {
  const enc = new OtlpProtoEncoder({ ...otlpProtoDefaults, key: 'none' }, { host: 'bench', service: 'bench', site: 'bench', agentId: 'bench-edge' });
  const g = new AckGroup(0, () => {});
  const msgs: EncodedMessage[] = [];
  let bytes = 0;
  const per = 1000;
  for (let i = 0; i < bodies.length; i += per) {
    const recs = bodies.slice(i, i + per).map((b, j) => { bytes += b.length; return newRecord(b, 'files', '/var/log/hdfs.log', 'bench', i + j, g, Date.now()); });
    msgs.push(...enc.encode(recs));
  }
  return { msgs, bytes };
}

async function startRelay(dir: string, variant: 'plain' | 'tls_auth', bootstrap: string, topic: string, port: number) {
  const cfg = join(dir, `relay-${variant}.yaml`);
  const security = variant === 'tls_auth'
    ? `    tls: { cert_file: ${JSON.stringify(join(dir, 'relay.pem'))}, key_file: ${JSON.stringify(join(dir, 'relay.key'))} }\n    auth: { secrets_file: ${JSON.stringify(join(dir, 'agents.secrets'))} }\n`
    : '';
  writeFileSync(cfg, `agent:\n  id: bench-relay\n  role: relay\n  data_dir: ${JSON.stringify(join(dir, `state-${variant}`))}\nobserve:\n  log_level: warn\nsources:\n  agents:\n    type: forward\n    address: 127.0.0.1:${port}\n${security}sinks:\n  kafka:\n    type: kafka\n    brokers: [${JSON.stringify(bootstrap)}]\n    topic: ${topic}\n    encoding:\n      codec: otlp_proto\n`);
  const child = fork(mainTs, ['run', '--config', cfg, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: ['--max-semi-space-size=8'] });
  let err = '';
  child.stderr!.on('data', (d) => { err += d; });
  await new Promise<void>((res, rej) => {
    child.on('message', (m: { ready?: boolean }) => { if (m?.ready) res(); });
    child.once('exit', (c) => rej(new Error(`relay exited ${c}: ${err.slice(-2000)}`)));
  });
  return child;
}

interface Row { variant: string; rep: number; events: number; seconds: number; eventsPerSec: number; relayCpuSPerGB: number; senderCpuSPerGB: number }

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'edgelog-relay-auth-bench-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=relay.bench',
    '-addext', 'subjectAltName=DNS:relay.bench', '-keyout', join(dir, 'relay.key'), '-out', join(dir, 'relay.pem')], { stdio: 'ignore' });
  writeFileSync(join(dir, 'agents.secrets'), `bench-edge ${SECRET}\n`);
  const cluster = await startKafkaCluster({ name: `bench-relay-auth-${process.pid}`, heapMb: 512 });
  const rows: Row[] = [];
  try {
    const { msgs, bytes } = encodeAll(lines());
    const gb = bytes / 1e9;
    // rep 0: warm-up of both variants (Kafka's JIT, page cache, topic metadata), not recorded
    for (let rep = 0; rep <= REPS; rep++) {
      const order = rep % 2 === 1 ? ['plain', 'tls_auth'] as const : ['tls_auth', 'plain'] as const;
      for (const variant of order) {
        const topic = `relay-auth-${variant}-${rep}-${process.pid}`;
        await createTopic(cluster.bootstrap, topic, 1);
        const port = await freePort();
        const relay = await startRelay(dir, variant, cluster.bootstrap, topic, port);
        const sink = forwardSink.create(forwardSink.validate({
          endpoints: [`127.0.0.1:${port}`], compression: 'zstd', ack_timeout: '60s',
          ...(variant === 'tls_auth' ? { tls: { ca_file: join(dir, 'relay.pem'), server_name: 'relay.bench' }, auth: { secret: SECRET } } : {}),
        }, 'sinks.bench'), { id: 'bench', log: silentLogger, metrics: new Registry(), dataDir: dir, agentId: 'bench-edge', host: 'bench', service: 'bench', site: 'bench' }) as ForwardSink;
        await sink.send(msgs.slice(0, 1)); // connect + handshake outside the timing
        const relayCpu0 = cpuOf(relay.pid!);
        const cpu0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        for (let i = 1; i < msgs.length; i += 4) await sink.send(msgs.slice(i, i + 4));
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        const cpu = process.cpuUsage(cpu0);
        const relayCpu = cpuOf(relay.pid!) - relayCpu0;
        await sink.close();
        relay.kill('SIGTERM');
        await new Promise((r) => relay.once('exit', r));
        const sent = EVENTS - msgs[0]!.records.length;
        const row: Row = {
          variant, rep, events: sent, seconds, eventsPerSec: sent / seconds,
          relayCpuSPerGB: relayCpu / gb, senderCpuSPerGB: (cpu.user + cpu.system) / 1e6 / gb,
        };
        console.log(JSON.stringify(row));
        if (rep > 0) rows.push(row);
      }
    }
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const out = join(root, 'bench/results');
  mkdirSync(out, { recursive: true });
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  const summary = (['plain', 'tls_auth'] as const).map((variant) => {
    const r = rows.filter((x) => x.variant === variant);
    return { variant, reps: r.length, eventsPerSec: median(r.map((x) => x.eventsPerSec)), relayCpuSPerGB: median(r.map((x) => x.relayCpuSPerGB)), senderCpuSPerGB: median(r.map((x) => x.senderCpuSPerGB)) };
  });
  const env = { cpus: cpus().length, cpu: cpus()[0]?.model, loadavg: loadavg(), events: EVENTS, node: process.version, date: new Date().toISOString() };
  writeFileSync(join(out, 'forward-relay-auth.json'), JSON.stringify({ env, rows, summary }, null, 2));
  const md = [
    '# agent -> relay -> Kafka: TLS + auth vs plain',
    '',
    `\`node bench/forward/relay-auth-bench.ts --events ${EVENTS} --reps ${REPS}\` (${env.date}, ${env.cpus} CPUs, load ${env.loadavg.map((x) => x.toFixed(1)).join(' ')}; shared machine).`,
    'Medians of the repetitions (after one untimed warm-up run of each; ABBA order); CPU s per GB of log line bytes.',
    '',
    '| path | events/s | relay CPU s/GB | sender CPU s/GB |',
    '|---|---|---|---|',
    ...summary.map((s) => `| ${s.variant} | ${s.eventsPerSec.toFixed(0)} | ${s.relayCpuSPerGB.toFixed(1)} | ${s.senderCpuSPerGB.toFixed(1)} |`),
    '',
    'Every repetition:',
    '',
    '| path | rep | events/s | relay CPU s/GB | sender CPU s/GB |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.variant} | ${r.rep} | ${r.eventsPerSec.toFixed(0)} | ${r.relayCpuSPerGB.toFixed(1)} | ${r.senderCpuSPerGB.toFixed(1)} |`),
    '',
  ].join('\n');
  writeFileSync(join(out, 'forward-relay-auth.md'), md);
  console.log(md);
}

await main();
