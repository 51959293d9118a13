// The eBPF ingress guard on a veth pair between two network namespaces this
// test creates (10.231.x.y lives only inside them). The guarded end runs
// GuardController in a helper process inside its namespace; a sender in the
// peer namespace fires bounded UDP bursts from several source addresses.
// Everything (namespaces, veth, helper processes) is torn down in t.after.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { capabilities } from '../../agent/native/capabilities.ts';

const here = dirname(fileURLToPath(import.meta.url));
const peerScript = join(here, 'helpers/netns-peer.ts');
const node = process.execPath;

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces';
  if (spawnSync('ip', ['-V']).status !== 0) return 'ip (iproute2) not installed';
  const caps = capabilities();
  if (!caps.guard.available) return `guard unavailable: ${caps.guard.reason}`;
  return undefined;
}

function sh(args: string[]): string {
  const r = spawnSync(args[0], args.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

interface Net {
  guarded: string;   // namespace with the guard and the receiver
  peer: string;      // namespace with the senders
  ifname: string;    // veth end inside `guarded`
  dst: string;       // receiver address
  sources: string[]; // sender addresses in `peer`
  dst6: string;
  src6: string;
}

function createNet(): Net {
  // x in 10.231.x.0/24 from the pid keeps concurrent runs apart
  const id = `${process.pid.toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
  const x = (process.pid + Math.floor(Math.random() * 200)) % 250;
  const net: Net = { guarded: `elg-${id}-g`, peer: `elg-${id}-p`, ifname: 'elguard0', dst: `10.231.${x}.100`, sources: [`10.231.${x}.1`, `10.231.${x}.2`, `10.231.${x}.3`],
    dst6: `fd31:231:${x.toString(16)}::100`, src6: `fd31:231:${x.toString(16)}::1` };
  sh(['ip', 'netns', 'add', net.guarded]);
  sh(['ip', 'netns', 'add', net.peer]);
  // both veth ends are created inside our namespaces: nothing touches the host's links
  sh(['ip', '-n', net.guarded, 'link', 'add', net.ifname, 'type', 'veth', 'peer', 'name', 'elpeer0', 'netns', net.peer]);
  sh(['ip', '-n', net.guarded, 'addr', 'add', `${net.dst}/24`, 'dev', net.ifname]);
  for (const s of net.sources) sh(['ip', '-n', net.peer, 'addr', 'add', `${s}/24`, 'dev', 'elpeer0']);
  // IPv6 ULA, also only inside our namespaces; nodad so it is usable at once
  sh(['ip', '-n', net.guarded, 'addr', 'add', `${net.dst6}/64`, 'dev', net.ifname, 'nodad']);
  sh(['ip', '-n', net.peer, 'addr', 'add', `${net.src6}/64`, 'dev', 'elpeer0', 'nodad']);
  for (const [ns, dev] of [[net.guarded, net.ifname], [net.peer, 'elpeer0']]) {
    sh(['ip', '-n', ns, 'link', 'set', dev, 'up']);
    sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }
  return net;
}

function destroyNet(net: Net): void {
  for (const ns of [net.guarded, net.peer]) spawnSync('ip', ['netns', 'del', ns]);
}

class Peer {
  #child: ChildProcess;
  #lines: AsyncIterator<string>;
  /** With bpffsAt, a private bpffs is mounted there first (in the mount namespace `ip netns exec` makes; gone when the helper exits). */
  constructor(ns: string, bpffsAt?: string) {
    const cmd = bpffsAt
      ? ['ip', 'netns', 'exec', ns, 'sh', '-c', 'mount -t bpf bpf "$1" && exec "$2" "$3" guard', 'sh', bpffsAt, node, peerScript]
      : ['ip', 'netns', 'exec', ns, node, peerScript, 'guard'];
    this.#child = spawn(cmd[0], cmd.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
    this.#lines = createInterface({ input: this.#child.stdout! })[Symbol.asyncIterator]();
  }
  async call(cmd: Record<string, unknown>): Promise<any> {
    this.#child.stdin!.write(JSON.stringify(cmd) + '\n');
    const { value, done } = await this.#lines.next();
    if (done) throw new Error('guard helper exited');
    const r = JSON.parse(value);
    if (!r.ok) throw Object.assign(new Error(r.error), { code: r.code });
    return r;
  }
  kill(): void {
    if (this.#child.exitCode === null) this.#child.kill('SIGKILL');
  }
}

function burst(net: Net, src: string, port: number, count: number, size = 200): { sent: number; elapsedMs: number } {
  const dst = src.includes(':') ? net.dst6 : net.dst;
  const out = sh(['ip', 'netns', 'exec', net.peer, node, peerScript, 'send', src, dst, String(port), String(count), String(size)]);
  return JSON.parse(out.trim().split('\n').pop()!);
}

const reason = skipReason();

test('eBPF guard on a veth pair between two namespaces', { skip: reason, timeout: 60_000 }, async (t) => {
  const net = createNet();
  const peer = new Peer(net.guarded);
  t.after(() => { peer.kill(); destroyNet(net); });
  const [a, b, c] = net.sources;

  await peer.call({ op: 'open', ifname: net.ifname });
  await peer.call({ op: 'attach' });
  await peer.call({ op: 'attach' }); // idempotent
  const { port } = await peer.call({ op: 'listen', addr: net.dst });
  const received = async (expect?: number): Promise<number> => (await peer.call({ op: 'received', expect })).received;
  const counters = async () => (await peer.call({ op: 'counters' })).counters;

  await t.test('allowed traffic passes', async () => {
    const s = burst(net, a, port, 50);
    assert.equal(s.sent, 50);
    assert.equal(await received(50), 50);
    assert.ok((await counters()).reasons.pass.packets >= 50);
  });

  await t.test('a deny rule added live drops and counts traffic from the denied CIDR only', async () => {
    const r = await peer.call({ op: 'apply', rules: { deny: [`${b}/32`] } });
    assert.deepEqual(r.result.added, [`deny ${b}/32`]);
    burst(net, b, port, 40);
    assert.equal(await received(), 0, 'denied source delivered nothing');
    burst(net, a, port, 10);
    assert.equal(await received(10), 10, 'other source unaffected');
    const k = await counters();
    assert.equal(k.reasons.deny.packets, 40);
    const rule = k.rules.find((x: { cidr: string }) => x.cidr === `${b}/32`);
    assert.equal(rule.packets, 40);
    assert.equal(rule.kind, 'deny');
    const { text } = await peer.call({ op: 'metrics' });
    assert.match(text, new RegExp(`edgelog_guard_dropped_packets_total\\{interface="${net.ifname}",reason="deny",rule="${b.replace(/\./g, '\\.')}/32"\\} 40\\n`));
    assert.match(text, /edgelog_guard_passed_packets_total\{interface="elguard0",reason="pass",rule=""\} \d+/);
  });

  await t.test('IPv6: deny by prefix drops, removal restores', async () => {
    const { port: port6 } = await peer.call({ op: 'listen', addr: net.dst6 });
    burst(net, net.src6, port6, 10);
    assert.equal(await received(10), 10, 'v6 passes without rules');
    const prefix = net.src6.replace(/::1$/, '::/64');
    await peer.call({ op: 'apply', rules: { deny: [prefix] } });
    burst(net, net.src6, port6, 10);
    assert.equal(await received(), 0, 'v6 prefix denied');
    const k = await counters();
    assert.equal(k.rules.find((x: { cidr: string }) => x.cidr === prefix)?.packets, 10);
    await peer.call({ op: 'apply', rules: {} });
    burst(net, net.src6, port6, 10);
    assert.equal(await received(10), 10);
  });

  await t.test('allow overrides deny; removing a rule is live too', async () => {
    const prefix = net.dst.replace(/\.100$/, '.0/24');
    await peer.call({ op: 'apply', rules: { deny: [prefix], allow: [`${c}/32`] } });
    burst(net, c, port, 20);
    assert.equal(await received(20), 20, 'allowed source passes its deny /24');
    burst(net, a, port, 20);
    assert.equal(await received(), 0, 'rest of the /24 is denied');
    const r = await peer.call({ op: 'apply', rules: {} });
    assert.equal(r.result.removed.length, 2);
    burst(net, a, port, 20);
    assert.equal(await received(20), 20, 'rules removed: passes again');
  });

  await t.test('a rate-limited source is held to its rate', async () => {
    const pps = 50, burstPackets = 10;
    await peer.call({ op: 'apply', rules: { rate: { pps, bps: 0, burstPackets } } });
    const before = (await counters()).reasons.rate_pps.packets;
    const s = burst(net, a, port, 400);
    const got = await received();
    const dropped = (await counters()).reasons.rate_pps.packets - before;
    // correctness bound (not a benchmark): bucket depth + refill over the burst, generous slack
    const bound = burstPackets + pps * (s.elapsedMs / 1000) + 10;
    assert.ok(got <= bound, `delivered ${got} > bound ${bound.toFixed(1)} (elapsed ${s.elapsedMs.toFixed(0)} ms)`);
    assert.ok(got >= 1, 'some traffic passes');
    assert.equal(got + dropped, s.sent, 'every packet either delivered or counted as dropped');
    // another source has its own bucket
    burst(net, b, port, 5);
    assert.equal(await received(5), 5);
  });

  await t.test('ports restrict the guard to ingest ports', async () => {
    await peer.call({ op: 'apply', rules: { deny: [`${a}/32`], ports: [port + 1] } });
    burst(net, a, port, 10);
    assert.equal(await received(10), 10, 'not an ingest port: out of scope');
    await peer.call({ op: 'apply', rules: { deny: [`${a}/32`], ports: [port] } });
    burst(net, a, port, 10);
    assert.equal(await received(), 0, 'ingest port: denied');
    await peer.call({ op: 'apply', rules: {} });
  });

  await t.test('bad rules are rejected before anything changes', async () => {
    await assert.rejects(peer.call({ op: 'apply', rules: { deny: ['10.0.0.0/8', 'not-a-cidr'] } }), (e: Error & { code?: string }) => e.code === 'EDGELOG_CONFIG');
    assert.equal((await counters()).rules.length, 0);
  });

  await t.test('detach leaves no program or qdisc behind', async () => {
    const filters = () => sh(['ip', 'netns', 'exec', net.guarded, 'tc', 'filter', 'show', 'dev', net.ifname, 'ingress']);
    assert.match(filters(), /edgelog_guard|bpf/);
    await peer.call({ op: 'detach' });
    await peer.call({ op: 'detach' }); // idempotent
    assert.equal(filters().trim(), '');
    assert.doesNotMatch(sh(['ip', 'netns', 'exec', net.guarded, 'tc', 'qdisc', 'show', 'dev', net.ifname]), /clsact/);
    await peer.call({ op: 'close' });
  });
});

test('pinned maps keep rules and counters across a close/reopen (agent restart)', { skip: reason, timeout: 60_000 }, async (t) => {
  const net = createNet();
  const pinDir = mkdtempSync(join(tmpdir(), 'edgelog-bpffs-'));
  const peer = new Peer(net.guarded, pinDir);
  t.after(() => { peer.kill(); destroyNet(net); rmSync(pinDir, { recursive: true, force: true }); });
  const [a] = net.sources;
  const pinRoot = join(pinDir, 'edgelog');
  const received = async (expect?: number): Promise<number> => (await peer.call({ op: 'received', expect })).received;

  await peer.call({ op: 'open', ifname: net.ifname, pinRoot });
  await peer.call({ op: 'attach' });
  const { port } = await peer.call({ op: 'listen', addr: net.dst });
  await peer.call({ op: 'apply', rules: { deny: [`${a}/32`] } });
  burst(net, a, port, 10);
  assert.equal(await received(), 0);

  await peer.call({ op: 'close' }); // pinned: the filter keeps guarding
  burst(net, a, port, 10);
  assert.equal(await received(), 0, 'still denied while no agent runs');

  await peer.call({ op: 'open', ifname: net.ifname, pinRoot });
  const { counters } = await peer.call({ op: 'counters' });
  assert.deepEqual(counters.rules.map((r: { cidr: string; packets: number }) => [r.cidr, r.packets]), [[`${a}/32`, 20]]);
  const r = await peer.call({ op: 'apply', rules: { deny: [`${a}/32`] } });
  assert.deepEqual(r.result, { added: [], removed: [] }, 'the restarted agent sees the pinned rule as current');
  await peer.call({ op: 'attach' }); // replaces the previous run's filter, no second one
  const filters = sh(['ip', 'netns', 'exec', net.guarded, 'tc', 'filter', 'show', 'dev', net.ifname, 'ingress']);
  assert.equal(filters.match(/ handle 0xe1 /g)?.length, 1, filters);
  await peer.call({ op: 'detach' });
  burst(net, a, port, 10);
  assert.equal(await received(10), 10, 'detached');
  await peer.call({ op: 'close' });
});
