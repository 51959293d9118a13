// Forward sink, io_uring vs Node net: MB/s and sender CPU seconds per GB for
// 64 KB and 1 MB batches, the whole sink path (framing, window, ACK wait)
// as the pipeline drives it: send() with 4 messages per request (the
// pipeline's MAX_BATCHES_PER_REQUEST), one request at a time. No compression,
// so the send path is what differs. The receiver is a separate process that
// speaks the protocol and ACKs each BATCH as soon as it is read (no Kafka), so
// the CPU measured is the sender's alone.
//
//   node bench/forward/forward-bench.ts [--mb 512] [--reps 3] [--veth] [--per-request 4]
//
// --veth (root): sender and receiver in two network namespaces this bench
// creates (10.232.x.y only inside them), joined by a veth pair; removed at the end.
// Writes bench/results/forward.json/.md (loopback) or forward-veth.json/.md.

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startReceiver as spawnReceiver, type Receiver } from '../lib/receiver.ts';
import { Registry } from '../../agent/observe/prometheus.ts';
import type { EncodedMessage } from '../../agent/core/component.ts';
import { silentLogger } from '../../agent/observe/log.ts';
import { forwardSink, type ForwardSink } from '../../agent/sinks/forward/index.ts';
import { capabilities } from '../../agent/native/capabilities.ts';

const self = fileURLToPath(import.meta.url);
const root = resolve(dirname(self), '../..');
const arg = (name: string): string | undefined => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
const MB = Number(arg('mb') ?? 512);
const REPS = Number(arg('reps') ?? 3);
const PER_REQUEST = Number(arg('per-request') ?? 4);
const HOST = arg('host') ?? '127.0.0.1';
const RECEIVER_NS = arg('receiver-ns');
const VARIANT = arg('variant') ?? 'loopback';
const TOTAL = MB * 1024 * 1024;

if (process.argv.includes('--receiver')) {
  await receiver(HOST);
} else if (process.argv.includes('--veth')) {
  const sh = (a: string[]) => { const r = spawnSync(a[0]!, a.slice(1), { encoding: 'utf8' }); if (r.status !== 0) throw new Error(`${a.join(' ')}: ${r.stderr}`); };
  const x = 150 + (process.pid % 50), id = process.pid.toString(36);
  const nsR = `elfw-${id}-r`, nsS = `elfw-${id}-s`;
  try {
    sh(['ip', 'netns', 'add', nsR]);
    sh(['ip', 'netns', 'add', nsS]);
    sh(['ip', '-n', nsR, 'link', 'add', 'efrx0', 'type', 'veth', 'peer', 'name', 'eftx0', 'netns', nsS]);
    sh(['ip', '-n', nsR, 'addr', 'add', `10.232.${x}.100/24`, 'dev', 'efrx0']);
    sh(['ip', '-n', nsS, 'addr', 'add', `10.232.${x}.1/24`, 'dev', 'eftx0']);
    for (const [n, d] of [[nsR, 'efrx0'], [nsS, 'eftx0']] as const) { sh(['ip', '-n', n, 'link', 'set', d, 'up']); sh(['ip', '-n', n, 'link', 'set', 'lo', 'up']); }
    const r = spawnSync('ip', ['netns', 'exec', nsS, process.execPath, self, '--mb', String(MB), '--reps', String(REPS), '--per-request', String(PER_REQUEST),
      '--host', `10.232.${x}.100`, '--receiver-ns', nsR, '--variant', 'veth'], { stdio: 'inherit' });
    process.exitCode = r.status ?? 1;
  } finally {
    spawnSync('ip', ['netns', 'del', nsR]);
    spawnSync('ip', ['netns', 'del', nsS]);
  }
} else {
  await main();
}

/** Minimal protocol receiver: HELLO -> HELLO_ACK, BATCH -> ACK, HEARTBEAT -> HEARTBEAT_ACK. Reports bytes of payload per connection. */
async function receiver(host: string): Promise<void> {
  const net = await import('node:net');
  const { FrameDecoder, encodeAck, encodeHelloAck, encodeHeartbeat } = await import('../../agent/forward/codec.ts');
  const { FrameType } = await import('../../agent/forward/constants.ts');
  const srv = net.createServer((s) => {
    s.setNoDelay(true); // ACKs are small: no Nagle delay on them (the relay does the same)
    const d = new FrameDecoder(16 << 20);
    let payload = 0;
    s.on('data', (chunk: Buffer) => {
      const frames: import('../../agent/forward/codec.ts').Frame[] = [];
      const err = d.push(chunk, frames);
      if (err) { process.stderr.write(`receiver: ${err.message}\n`); s.destroy(); return; }
      const out: Buffer[] = [];
      for (const f of frames) {
        if (f.type === FrameType.HELLO) out.push(encodeHelloAck({ version: 1, flags: 0, maxFrameBytes: 16 << 20, window: 16, compressions: [0, 1, 2, 3], relayId: 'bench' }));
        else if (f.type === FrameType.BATCH) { payload += f.payload.length; out.push(encodeAck(f.sequence)); }
        else if (f.type === FrameType.HEARTBEAT) out.push(encodeHeartbeat(f.timestamp, true));
      }
      if (out.length) s.write(out.length === 1 ? out[0]! : Buffer.concat(out));
    });
    s.on('close', () => process.stdout.write(JSON.stringify({ bytes: payload }) + '\n'));
    s.on('error', () => {});
  });
  srv.listen(0, host, () => process.stdout.write(JSON.stringify({ port: (srv.address() as import('node:net').AddressInfo).port }) + '\n'));
}

function startReceiver(): Promise<Receiver> {
  return spawnReceiver([self, '--receiver', '--host', HOST], RECEIVER_NS || undefined);
}

interface Row { transport: string; batch: number; seconds: number; cpuSeconds: number; mbPerS: number; cpuSecPerGB: number }

async function runOnce(transport: 'node' | 'io_uring', port: number, batch: number): Promise<Omit<Row, 'transport' | 'batch'>> {
  const ctx = { id: 'bench', log: silentLogger, metrics: new Registry(), dataDir: '/tmp', agentId: 'bench', host: 'h', service: 's', site: 'x' };
  const sink = forwardSink.create(forwardSink.validate({ endpoints: [`${HOST}:${port}`], transport, compression: 'none', max_frame_bytes: '16MiB' }, 'sinks.bench'), ctx) as ForwardSink;
  // log-like bytes (a real LogsData would be the same to the send path)
  const line = Buffer.from('2026-11-21T10:00:00.000Z host-17 app[4242]: INFO request handled path=/api/v1/items status=200 ms=12\n');
  const value = Buffer.alloc(batch);
  for (let o = 0; o < batch; o += line.length) line.copy(value, o);
  await sink.probe(); // connect + handshake outside the timed part
  const c0 = process.cpuUsage(), t0 = performance.now();
  let sent = 0;
  while (sent < TOTAL) {
    const msgs: EncodedMessage[] = [];
    for (let i = 0; i < PER_REQUEST && sent < TOTAL; i++) {
      // a fresh message object per request (the sink remembers frames per message object)
      msgs.push({ key: null, value, headers: {}, records: [] });
      sent += batch;
    }
    await sink.send(msgs);
  }
  const seconds = (performance.now() - t0) / 1000, c = process.cpuUsage(c0);
  const actual = sink.transport;
  await sink.close();
  if (actual !== transport) throw new Error(`asked for ${transport}, sink used ${actual}`);
  const cpuSeconds = (c.user + c.system) / 1e6;
  return { seconds, cpuSeconds, mbPerS: sent / 1024 ** 2 / seconds, cpuSecPerGB: cpuSeconds / (sent / 1024 ** 3) };
}

async function main(): Promise<void> {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const caps = capabilities();
  const only = arg('only');
  const transports: Array<'node' | 'io_uring'> = [];
  if (!only || only === 'node') transports.push('node');
  if (caps.io_uring.available && (!only || only === 'io_uring')) transports.push('io_uring');
  else process.stdout.write(`io_uring unavailable (${caps.io_uring.reason}): node only\n`);
  const rows: Row[] = [];
  const batches = arg('batch-kb') ? [Number(arg('batch-kb')) * 1024] : [64 * 1024, 1024 * 1024];
  for (const batch of batches) {
    const reps = new Map<string, Omit<Row, 'transport' | 'batch'>[]>(transports.map((t) => [t, []]));
    for (let r = 0; r < REPS; r++) {
      // interleaved so load from other work on the machine hits both alike
      for (const t of transports) {
        const rx = await startReceiver();
        try {
          const res = await runOnce(t, rx.port, batch);
          const got = await rx.next();
          const want = Math.ceil(TOTAL / batch) * batch;
          if (got !== want) throw new Error(`${t}: receiver got ${got} of ${want} payload bytes`);
          reps.get(t)!.push(res);
        } finally {
          rx.stop();
        }
      }
    }
    for (const t of transports) {
      const xs = reps.get(t)!;
      const pick = (k: keyof Omit<Row, 'transport' | 'batch'>) => median(xs.map((x) => x[k]));
      const row: Row = { transport: t, batch, seconds: pick('seconds'), cpuSeconds: pick('cpuSeconds'), mbPerS: pick('mbPerS'), cpuSecPerGB: pick('cpuSecPerGB') };
      rows.push(row);
      process.stdout.write(`${t.padEnd(9)} batch ${String(batch / 1024).padStart(5)} KB  ${row.mbPerS.toFixed(0).padStart(6)} MB/s  ${row.cpuSecPerGB.toFixed(3)} CPU s/GB\n`);
    }
  }
  const meta = {
    date: new Date().toISOString(), loadavg1mAtEnd: loadavg()[0], kernel: release(), cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version,
    bytesPerRun: TOTAL, reps: REPS, messagesPerRequest: PER_REQUEST, compression: 'none', window: 16,
    path: VARIANT === 'veth' ? 'TCP over a veth pair between two network namespaces; protocol receiver (ACK on read) in a separate process' : 'loopback TCP 127.0.0.1; protocol receiver (ACK on read) in a separate process',
    command: `node bench/forward/forward-bench.ts --mb ${MB} --reps ${REPS}${VARIANT === 'veth' ? ' --veth' : ''}`,
  };
  const outDir = join(root, 'bench/results');
  mkdirSync(outDir, { recursive: true });
  const name = VARIANT === 'veth' ? 'forward-veth' : 'forward';
  if (only || arg('batch-kb')) { process.stdout.write('partial run (--only/--batch-kb): results not written\n'); return; }
  writeFileSync(join(outDir, `${name}.json`), JSON.stringify({ meta, rows }, null, 2) + '\n');
  const md = [
    `# Forward sink: io_uring vs Node net (${VARIANT === 'veth' ? 'TCP across a veth pair' : 'loopback TCP'})`,
    '',
    `${meta.date}, Linux ${meta.kernel}, ${meta.cpus} × ${meta.cpu}, Node ${meta.node}. ${MB} MiB per run, median of ${REPS} runs, transports interleaved within each rep.`,
    `1-minute load average at the end: ${meta.loadavg1mAtEnd.toFixed(1)} (shared machine: figures are noisy; compare rows of one run).`,
    `Whole sink path as the pipeline drives it: ${PER_REQUEST} messages per send(), one send at a time, each message one BATCH frame (no compression), send resolves on the last ACK.`,
    `The receiver speaks the protocol and ACKs on read (no Kafka). CPU = sender process user+system.`,
    `Command: \`${meta.command}\``,
    '',
    '| transport | batch | MB/s | CPU s/GB |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.transport} | ${r.batch / 1024} KB | ${r.mbPerS.toFixed(0)} | ${r.cpuSecPerGB.toFixed(3)} |`),
    '',
  ].join('\n');
  writeFileSync(join(outDir, `${name}.md`), md);
  process.stdout.write(`wrote bench/results/${name}.json and .md\n`);
  void readFileSync; void existsSync;
}
