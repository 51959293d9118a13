// eBPF guard under a UDP flood between two network namespaces this bench
// creates (10.231.x.y only inside them; both veth ends in our namespaces).
//   node bench/native/guard-flood.ts [--seconds 3]
// Measures: flood rate; packets/s the guard drops; CPU of the receiving
// process (a Node UDP listener standing in for the agent) and of the whole
// machine with the guard off vs on; time from a deny rule being added to the
// last packet delivered from the flooding source. Needs root, BPF and gcc.
// Writes bench/results/native-guard.json and .md.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { cpus, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const peerScript = join(root, 'test/native/helpers/netns-peer.ts');
const i = process.argv.indexOf('--seconds');
const SECONDS = i > 0 ? Number(process.argv[i + 1]) : 3;

function sh(args: string[]): string {
  const r = spawnSync(args[0], args.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

if (process.getuid?.() !== 0) { console.error('guard bench needs root'); process.exit(0); }

const work = join(root, 'bench/work');
mkdirSync(work, { recursive: true });
const flood = join(work, 'flood');
sh(['gcc', '-O2', '-o', flood, join(root, 'bench/native/flood.c')]);

const x = 200 + (process.pid % 50);
const id = process.pid.toString(36);
const ns = { g: `elgb-${id}-g`, p: `elgb-${id}-p` };
const dst = `10.231.${x}.100`, src = `10.231.${x}.1`, other = `10.231.${x}.2`;
let helper: ChildProcess | undefined;

function teardown(): void {
  if (helper && helper.exitCode === null) helper.kill('SIGKILL');
  spawnSync('ip', ['netns', 'del', ns.g]);
  spawnSync('ip', ['netns', 'del', ns.p]);
}
process.on('exit', teardown);
process.on('SIGINT', () => process.exit(130));

sh(['ip', 'netns', 'add', ns.g]);
sh(['ip', 'netns', 'add', ns.p]);
sh(['ip', '-n', ns.g, 'link', 'add', 'elguard0', 'type', 'veth', 'peer', 'name', 'elpeer0', 'netns', ns.p]);
sh(['ip', '-n', ns.g, 'addr', 'add', `${dst}/24`, 'dev', 'elguard0']);
sh(['ip', '-n', ns.p, 'addr', 'add', `${src}/24`, 'dev', 'elpeer0']);
sh(['ip', '-n', ns.p, 'addr', 'add', `${other}/24`, 'dev', 'elpeer0']);
for (const [n, d] of [[ns.g, 'elguard0'], [ns.p, 'elpeer0']]) { sh(['ip', '-n', n, 'link', 'set', d, 'up']); sh(['ip', '-n', n, 'link', 'set', 'lo', 'up']); }

helper = spawn('ip', ['netns', 'exec', ns.g, process.execPath, peerScript, 'guard'], { stdio: ['pipe', 'pipe', 'inherit'] });
const lines = createInterface({ input: helper.stdout! })[Symbol.asyncIterator]();
async function call(cmd: Record<string, unknown>): Promise<any> {
  helper!.stdin!.write(JSON.stringify(cmd) + '\n');
  const { value } = await lines.next();
  const r = JSON.parse(String(value));
  if (!r.ok) throw new Error(r.error);
  return r;
}

function busyJiffies(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + f[4];
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

function runFlood(from: string, port: number, seconds: number): Promise<{ sent: number; seconds: number }> {
  return new Promise((res, rej) => {
    const c = spawn('ip', ['netns', 'exec', ns.p, flood, from, dst, String(port), String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout!.on('data', (d) => { out += d; });
    c.on('exit', (code) => (code === 0 ? res(JSON.parse(out)) : rej(new Error(`flood exited ${code}`))));
  });
}

async function phase(label: string, port: number) {
  const s0 = await call({ op: 'stats' });
  const k0 = (await call({ op: 'counters' })).counters;
  const j0 = busyJiffies();
  const f = await runFlood(src, port, SECONDS);
  await new Promise((r) => setTimeout(r, 200));
  const j1 = busyJiffies();
  const s1 = await call({ op: 'stats' });
  const k1 = (await call({ op: 'counters' })).counters;
  const hz = 100; // USER_HZ
  const row = {
    phase: label,
    floodPps: Math.round(f.sent / f.seconds),
    receivedPps: Math.round((s1.received - s0.received) / f.seconds),
    guardDroppedPps: Math.round((k1.reasons.deny.packets - k0.reasons.deny.packets) / f.seconds),
    agentCpuSeconds: (s1.cpuUs - s0.cpuUs) / 1e6,
    machineBusyCores: (j1.busy - j0.busy) / hz / f.seconds,
    floodSeconds: f.seconds,
  };
  console.log(JSON.stringify(row));
  return row;
}

await call({ op: 'open', ifname: 'elguard0' });
const { port } = await call({ op: 'listen', addr: dst });

const off = await phase('guard off (not attached)', port);
await call({ op: 'attach' });
await call({ op: 'apply', rules: { deny: [`${src}/32`] } });
const on = await phase('guard on, flood source denied', port);

// rule add -> first drop: flood running, guard attached without rules, then deny
await call({ op: 'apply', rules: {} });
const floodRun = runFlood(src, port, SECONDS);
await new Promise((r) => setTimeout(r, 1000));
const applied = await call({ op: 'apply', rules: { deny: [`${src}/32`] } });
await new Promise((r) => setTimeout(r, 500)); // the receiver drains what was queued before the rule
const st = await call({ op: 'stats' });
const k = (await call({ op: 'counters' })).counters;
// again, this time polling the rule's counter right after the map update
await call({ op: 'apply', rules: {} });
await new Promise((r) => setTimeout(r, 300));
const polled = await call({ op: 'applyUntilDrop', rules: { deny: [`${src}/32`] }, cidr: `${src}/32` });
await floodRun;
const ruleAdd = {
  applyCallMs: Number(BigInt(applied.endNs) - BigInt(applied.startNs)) / 1e6,
  lastDeliveredAfterApplyStartMs: Number(BigInt(st.lastRxNs) - BigInt(applied.startNs)) / 1e6,
  droppedByRule: k.rules.find((r: { cidr: string }) => r.cidr === `${src}/32`)?.packets ?? 0,
  // second rule add, counter polled from the guard process: time until the first packet was dropped by it
  polledApplyMs: Number(polled.applyNs) / 1e6,
  polledFirstDropMs: polled.firstDropNs === null ? null : Number(polled.firstDropNs) / 1e6,
};
console.log(JSON.stringify(ruleAdd));
await call({ op: 'detach' });
await call({ op: 'exit' }).catch(() => {});

const meta = { date: new Date().toISOString(), kernel: release(), cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, floodSeconds: SECONDS, payloadBytes: 64, command: `node bench/native/guard-flood.ts --seconds ${SECONDS}` };
const outDir = join(root, 'bench/results');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'native-guard.json'), JSON.stringify({ meta, phases: [off, on], ruleAdd }, null, 2) + '\n');
writeFileSync(join(outDir, 'native-guard.md'), [
  '# eBPF guard under a UDP flood (veth between two namespaces)', '',
  `${meta.date}, Linux ${meta.kernel}, ${meta.cpus} × ${meta.cpu}, Node ${meta.node}. Command: \`${meta.command}\`.`,
  'Flood: sendmmsg of 64-byte UDP datagrams from one source in the peer namespace (flood.c), same 2 cores as everything else.',
  'Receiver: a Node UDP listener in the guarded namespace (stands in for the agent). Machine busy = all CPUs from /proc/stat, flooder included.', '',
  '| phase | flood pps | delivered pps | guard drops/s | receiver CPU s | machine busy cores |', '|---|---|---|---|---|---|',
  ...[off, on].map((r) => `| ${r.phase} | ${r.floodPps} | ${r.receivedPps} | ${r.guardDroppedPps} | ${r.agentCpuSeconds.toFixed(2)} | ${r.machineBusyCores.toFixed(2)} |`),
  '',
  `Rule add to first drop: applyRules() call took ${ruleAdd.applyCallMs.toFixed(2)} ms; the last packet from the flooding source was delivered ${ruleAdd.lastDeliveredAfterApplyStartMs.toFixed(2)} ms after the call started (negative = before); ${ruleAdd.droppedByRule} packets dropped by the rule in the following 500 ms. The rule is live in the kernel when the map update returns (inside the call); the later "last delivered" time is the receiver draining datagrams already queued in its socket buffer before the rule, so it bounds the time from rule add to the flood no longer reaching the application.`,
  '',
  `Rule add to first drop, measured in the kernel counters: a second add took ${ruleAdd.polledApplyMs.toFixed(2)} ms and the rule's drop counter was non-zero ${ruleAdd.polledFirstDropMs === null ? '(never, within 2 s)' : `${ruleAdd.polledFirstDropMs.toFixed(2)} ms`} after the call started (counter polled in a loop right after the update).`,
  '',
].join('\n'));
