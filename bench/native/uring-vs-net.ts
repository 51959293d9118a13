// io_uring sender vs Node net: throughput and sender CPU seconds per GB on
// loopback TCP, 64 KB and 1 MB batches. The receiver is a separate process
// (it reads and discards), so the CPU measured is the sender's alone.
//
//   node bench/native/uring-vs-net.ts [--gb 2] [--reps 3] [--veth]
//
// --veth (root): sender and receiver in two network namespaces this bench
// creates, joined by a veth pair (10.231.x.y only inside them).
// Writes bench/results/native-uring.json/.md (native-uring-veth.* with --veth). Each figure is the median
// of --reps runs. Payload bytes are written into the send buffer once per
// batch in every mode (a forward sink encodes into it), so the comparison is
// the send path: net.Socket.write (libuv writev) vs io_uring send / send_zc
// from registered buffers.

import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { cpus, loadavg, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startReceiver as spawnReceiver, type Receiver } from '../lib/receiver.ts';
import { once } from 'node:events';
import { UringSender, C_BUF_FREE } from '../../agent/native/uring-sender.ts';
import { capabilities } from '../../agent/native/capabilities.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const GB = arg('gb', 2);
const REPS = arg('reps', 3);
const TOTAL = Math.round(GB * 1024 ** 3);
const sarg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const HOST = sarg('host') ?? '127.0.0.1';
const RECEIVER_NS = sarg('receiver-ns');
const VARIANT = sarg('variant') ?? 'loopback';

if (process.argv.includes('--veth')) {
  // parent: build the namespaces, re-run this script inside the sender namespace, clean up
  const { spawnSync } = await import('node:child_process');
  const sh = (a: string[]) => { const r = spawnSync(a[0], a.slice(1), { encoding: 'utf8' }); if (r.status !== 0) throw new Error(`${a.join(' ')}: ${r.stderr}`); };
  const x = 150 + (process.pid % 50), id = process.pid.toString(36);
  const nsR = `elub-${id}-r`, nsS = `elub-${id}-s`;
  try {
    sh(['ip', 'netns', 'add', nsR]);
    sh(['ip', 'netns', 'add', nsS]);
    sh(['ip', '-n', nsR, 'link', 'add', 'elrx0', 'type', 'veth', 'peer', 'name', 'eltx0', 'netns', nsS]);
    sh(['ip', '-n', nsR, 'addr', 'add', `10.231.${x}.100/24`, 'dev', 'elrx0']);
    sh(['ip', '-n', nsS, 'addr', 'add', `10.231.${x}.1/24`, 'dev', 'eltx0']);
    for (const [n, d] of [[nsR, 'elrx0'], [nsS, 'eltx0']]) { sh(['ip', '-n', n, 'link', 'set', d, 'up']); sh(['ip', '-n', n, 'link', 'set', 'lo', 'up']); }
    const r = spawnSync('ip', ['netns', 'exec', nsS, process.execPath, fileURLToPath(import.meta.url), '--gb', String(GB), '--reps', String(REPS),
      '--host', `10.231.${x}.100`, '--receiver-ns', nsR, '--variant', 'veth'], { stdio: 'inherit' });
    process.exitCode = r.status ?? 1;
  } finally {
    spawnSync('ip', ['netns', 'del', nsR]);
    spawnSync('ip', ['netns', 'del', nsS]);
  }
  process.exit();
}

// the receiver: a child process that counts and discards, reporting when it got `expect` bytes
const receiverSrc = `
const net = require('node:net');
const srv = net.createServer((s) => {
  let n = 0;
  s.on('data', (d) => { n += d.length; });
  s.on('end', () => { process.stdout.write(JSON.stringify({ bytes: n }) + '\\n'); });
});
srv.listen(0, process.argv[1] || '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: srv.address().port }) + '\\n'));
`;

function startReceiver(): Promise<Receiver> {
  return spawnReceiver(['-e', receiverSrc, HOST], RECEIVER_NS || undefined);
}

function fill(buf: Buffer, len: number, seed: number): void {
  // one pass over the batch, like an encoder writing frames into it
  buf.fill(seed & 0xff, 0, len);
}

interface Run { mode: string; batch: number; seconds: number; cpuSeconds: number; mbPerS: number; cpuSecPerGB: number; submitsOrWrites: number }

async function runNet(port: number, batch: number): Promise<Omit<Run, 'mode' | 'batch'>> {
  // same bytes in flight as the io_uring runs (8 buffers of one batch): write() keeps accepting until 8 batches are queued
  const sock = net.connect({ port, host: HOST, noDelay: true, writableHighWaterMark: 8 * batch } as net.NetConnectOpts);
  await once(sock, 'connect');
  const bufs = Array.from({ length: 8 }, () => Buffer.allocUnsafe(batch));
  const c0 = process.cpuUsage(), t0 = performance.now();
  let sent = 0, writes = 0;
  while (sent < TOTAL) {
    const len = Math.min(batch, TOTAL - sent);
    const b = bufs[writes % bufs.length];
    fill(b, len, writes);
    writes++;
    sent += len;
    // a buffer handed to write() stays referenced until written; 8 rotating buffers and drain keep it honest
    if (!sock.write(len === batch ? b : b.subarray(0, len))) await once(sock, 'drain');
  }
  sock.end();
  await once(sock, 'finish');
  const t = (performance.now() - t0) / 1000, c = process.cpuUsage(c0);
  return summarize(t, (c.user + c.system) / 1e6, writes);
}

async function runUring(port: number, batch: number, zcThreshold: number): Promise<Omit<Run, 'mode' | 'batch'>> {
  const bufCount = 8;
  const s = UringSender.open({ bufCount, bufSize: batch, sqEntries: 16, zcThreshold });
  await s.connect(HOST, port);
  const free: number[] = Array.from({ length: bufCount }, (_, i) => i);
  const c0 = process.cpuUsage(), t0 = performance.now();
  let queued = 0, seq = 0, submits = 0;
  while (queued < TOTAL || s.inflight > 0) {
    while (free.length && queued < TOTAL) {
      const i = free.pop()!;
      const len = Math.min(batch, TOTAL - queued);
      fill(s.buffer(i), len, seq);
      s.queue(i, len, 0, i);
      queued += len;
      seq++;
    }
    if (s.queued) { s.submit(); submits++; }
    for (const c of await s.completions()) {
      s.check(c);
      if (c.flags & C_BUF_FREE) free.push(c.userData);
    }
  }
  const t = (performance.now() - t0) / 1000, c = process.cpuUsage(c0);
  await s.close();
  return summarize(t, (c.user + c.system) / 1e6, submits);
}

function summarize(seconds: number, cpuSeconds: number, ops: number) {
  const gb = TOTAL / 1024 ** 3;
  return { seconds, cpuSeconds, mbPerS: TOTAL / 1024 ** 2 / seconds, cpuSecPerGB: cpuSeconds / gb, submitsOrWrites: ops };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const caps = capabilities();
const modes: { mode: string; run: (port: number, batch: number) => Promise<Omit<Run, 'mode' | 'batch'>> }[] = [
  { mode: 'node-net', run: runNet },
];
if (caps.io_uring.available) modes.push({ mode: 'uring-send', run: (p, b) => runUring(p, b, 0) });
if (caps.send_zc.available) modes.push({ mode: 'uring-send-zc', run: (p, b) => runUring(p, b, 1) });

const results: Run[] = [];
for (const batch of [64 * 1024, 1024 * 1024]) {
  // modes interleaved within each rep so load from other work on the machine hits them alike
  const reps = new Map<string, Omit<Run, 'mode' | 'batch'>[]>(modes.map((m) => [m.mode, []]));
  for (let r = 0; r < REPS; r++) {
    for (const m of modes) {
      const rx = await startReceiver();
      try {
        const res = await m.run(rx.port, batch);
        const got = await rx.next();
        if (got !== TOTAL) throw new Error(`${m.mode}: receiver got ${got} of ${TOTAL} bytes`);
        reps.get(m.mode)!.push(res);
      } finally {
        rx.stop();
      }
    }
  }
  for (const m of modes) {
    const xs = reps.get(m.mode)!;
    const pick = (k: keyof Omit<Run, 'mode' | 'batch'>) => median(xs.map((x) => x[k]));
    const row: Run = { mode: m.mode, batch, seconds: pick('seconds'), cpuSeconds: pick('cpuSeconds'), mbPerS: pick('mbPerS'), cpuSecPerGB: pick('cpuSecPerGB'), submitsOrWrites: pick('submitsOrWrites') };
    results.push(row);
    process.stdout.write(`${m.mode.padEnd(14)} batch ${String(batch / 1024).padStart(5)} KB  ${row.mbPerS.toFixed(0).padStart(6)} MB/s  ${row.cpuSecPerGB.toFixed(3)} CPU s/GB\n`);
  }
}

const meta = {
  date: new Date().toISOString(), loadavg1mAtEnd: loadavg()[0], kernel: release(), cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version,
  bytesPerRun: TOTAL, reps: REPS,
  path: VARIANT === 'veth' ? 'TCP over a veth pair between two network namespaces, receiver in a separate process' : 'loopback TCP 127.0.0.1, receiver in a separate process',
  command: `node bench/native/uring-vs-net.ts --gb ${GB} --reps ${REPS}${VARIANT === 'veth' ? ' --veth' : ''}`,
};
const outDir = join(root, 'bench/results');
mkdirSync(outDir, { recursive: true });
const base = VARIANT === 'veth' ? 'native-uring-veth' : 'native-uring';
writeFileSync(join(outDir, `${base}.json`), JSON.stringify({ meta, results }, null, 2) + '\n');
const md = [
  `# io_uring sender vs Node net (${VARIANT === 'veth' ? 'TCP across a veth pair' : 'loopback TCP'})`, '',
  `${meta.date}, Linux ${meta.kernel}, ${meta.cpus} × ${meta.cpu}, Node ${meta.node}. ${GB} GiB per run, median of ${REPS} runs.`,
  `Shared machine: 1-minute load average ${meta.loadavg1mAtEnd.toFixed(1)} at the end of the run (other work on the same 2 cores), so figures are noisy; compare rows of one run, not runs (modes are interleaved within each rep for that reason).`,
  'Node net gets the same bytes in flight as io_uring (writableHighWaterMark = 8 batches; io_uring has 8 registered buffers of one batch).',
  `Command: \`${meta.command}\`. Sender CPU only (receiver is another process).`, '',
  '| mode | batch | MB/s | CPU s/GB | submits or writes |', '|---|---|---|---|---|',
  ...results.map((r) => `| ${r.mode} | ${r.batch / 1024} KB | ${r.mbPerS.toFixed(0)} | ${r.cpuSecPerGB.toFixed(3)} | ${r.submitsOrWrites} |`),
  '',
].join('\n');
writeFileSync(join(outDir, `${base}.md`), md);
