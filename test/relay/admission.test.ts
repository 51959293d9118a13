// Attacks on the relay's forward listener, in process (real sockets, real
// source, real sink; the downstream stands in for a Kafka that does not
// acknowledge): authentication refusals, session isolation between
// identities, compression bombs against the memory budget, a flood of
// connections from one address, and a slow-frame sender. In every case a
// legitimate agent sending at the same time loses and duplicates nothing.
// The same attacks against a real relay process and real Kafka are in
// relay-process.test.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from '../../agent/observe/prometheus.ts';
import { forwardSource } from '../../agent/sources/forward/index.ts';
import { forwardSink } from '../../agent/sinks/forward/index.ts';
import type { ForwardSource } from '../../agent/sources/forward/source.ts';
import type { ForwardSink } from '../../agent/sinks/forward/index.ts';
import { encodeAuthResponse, encodeBatch, encodeHello, type GoawayFrame } from '../../agent/forward/codec.ts';
import { authProof } from '../../agent/forward/auth.ts';
import { compress } from '../../agent/forward/compression.ts';
import { Compression, ErrorCode, FrameType } from '../../agent/forward/constants.ts';
import { sharedBudget } from '../../agent/forward/memory-budget.ts';
import { OtlpProtoEncoder, otlpProtoDefaults } from '../../agent/encoders/otlp/otlp-proto.ts';
import { CollectingDownstream, RawClient, encode, makeCtx, makeRecords, metricValue, until } from '../forward/helpers.ts';

const SECRET_A = 'secret-of-agent-edge-1-0123456789';
const SECRET_B = 'secret-of-agent-edge-2-0123456789';

/**
 * "Kafka down" for the bomb test: holds every record unacknowledged until release(), keeps only
 * the small (legit) bodies as text, and drops its references once released - unlike
 * CollectingDownstream, which would keep 64 x 30 MiB alive and measure the test, not the relay.
 */
class HoldingDownstream extends CollectingDownstream {
  readonly small: string[] = [];
  private waiting: Array<import('../../agent/core/record.ts').LogRecord[]> = [];
  override async push(batch: import('../../agent/core/record.ts').LogRecord[]): Promise<void> {
    for (const r of batch) if (r.body.length < 1000) this.small.push(r.body.toString());
    this.waiting.push(batch);
  }
  override release(): void {
    const w = this.waiting;
    this.waiting = [];
    for (const b of w) for (const r of b) r.ack.settle(1, 'delivered');
  }
}

async function relay(t: import('node:test').TestContext, opts: Record<string, unknown> = {}, down = new CollectingDownstream()) {
  const registry = new Registry();
  const ctx = makeCtx(t, 'fwd_in', 'relay-1', registry);
  const secrets = join(ctx.dataDir, 'agents.secrets');
  writeFileSync(secrets, `edge-1 ${SECRET_A}\nedge-2 ${SECRET_B}\n`);
  const src = forwardSource.create(forwardSource.validate({ address: '127.0.0.1:0', auth: { secrets_file: secrets }, ...opts }, 'sources.fwd_in'), ctx) as ForwardSource;
  await src.start(down);
  t.after(async () => { await src.stop(); await src.drain(1000); });
  return { src, down, registry, port: src.address!.port };
}

function agent(t: import('node:test').TestContext, port: number, secret: string | null, opts: Record<string, unknown> = {}, agentId = 'edge-1', registry = new Registry()): ForwardSink {
  const ctx = makeCtx(t, 'fwd_out', agentId, registry);
  const cfg = forwardSink.validate({ endpoints: [`127.0.0.1:${port}`], connect_timeout: '3s', ...(secret ? { auth: { secret } } : {}), ...opts }, 'sinks.fwd_out');
  const s = forwardSink.create(cfg, ctx) as ForwardSink;
  t.after(() => s.close());
  return s;
}

/** A raw client that completes the version-2 handshake with `secret` for `agentId`. */
async function authedRaw(port: number, agentId: string, secret: string, sessionId: bigint, host = '127.0.0.1'): Promise<RawClient> {
  const s = net.connect({ host: '127.0.0.1', port, localAddress: host });
  await new Promise<void>((resolve, reject) => { s.once('connect', () => resolve()); s.once('error', reject); });
  const c = new RawClient(s);
  c.write(encodeHello({ minVersion: 2, maxVersion: 2, flags: 0, maxFrameBytes: 1 << 20, compressions: [0, 1, 2, 3], sessionId, agentId }));
  const ch = await c.waitFrame(FrameType.AUTH_CHALLENGE);
  c.write(encodeAuthResponse(authProof(Buffer.from(secret), (ch as { nonce: Buffer }).nonce, sessionId, agentId)));
  await c.waitFrame(FrameType.HELLO_ACK);
  return c;
}

function goaway(c: RawClient): GoawayFrame | undefined {
  return c.frames.find((f) => f.type === FrameType.GOAWAY) as GoawayFrame | undefined;
}

function bodies(down: CollectingDownstream): string[] { return down.records.map((r) => r.body.toString()); }

test('authentication: no auth, an old agent, a wrong secret and a forged identity are refused and counted; the real agent loses and duplicates nothing', async (t) => {
  const r = await relay(t);
  const good = agent(t, r.port, SECRET_A);
  const { records } = makeRecords(40, { body: (i) => Buffer.from(`legit ${i}`) });
  const msgs = encode(records, 5);
  const sending = (async () => { for (const m of msgs) await good.send([m]); })();

  // 1. an agent with no secret: challenged, cannot answer, refused for good (not retriable)
  const anon = agent(t, r.port, null, {}, 'edge-1');
  await assert.rejects(anon.send(encode(makeRecords(2).records)), /relay requires authentication/);
  // 2. a version-1 agent (the protocol before authentication): a clear refusal naming the version
  const old = await RawClient.connect(r.port);
  old.write(encodeHello({ minVersion: 1, maxVersion: 1, flags: 0, maxFrameBytes: 1 << 20, compressions: [0], sessionId: 7n, agentId: 'edge-1' }));
  await old.closed;
  assert.equal(goaway(old)?.code, ErrorCode.AUTH_REQUIRED);
  assert.match(goaway(old)!.message, /requires forward protocol version 2/);
  // 3. the wrong secret for edge-1
  const wrong = agent(t, r.port, 'not-the-secret-of-edge-1-at-all', {}, 'edge-1');
  await assert.rejects(wrong.send(encode(makeRecords(2).records)), /auth_failed/);
  // 4. an id the relay has no secret for
  const stranger = agent(t, r.port, 'a-secret-nobody-issued-0123', {}, 'shop-0042');
  await assert.rejects(stranger.send(encode(makeRecords(2).records)), /auth_failed/);
  // 5. a real credential (edge-2) pushing records that claim to be edge-1
  const forger = await authedRaw(r.port, 'edge-2', SECRET_B, 99n);
  const [forged] = encode(makeRecords(3, { body: () => Buffer.from('forged') }).records); // encoder() stamps edgelog.agent.id=edge-1
  forger.write(encodeBatch({ sequence: 1n, compression: 0, recordCount: 3, rawLength: forged!.value.length, payload: forged!.value }));
  const nack = await forger.waitFrame(FrameType.NACK);
  assert.equal((nack as { code: number }).code, ErrorCode.IDENTITY_MISMATCH);
  forger.destroy();

  await sending;
  assert.equal(await metricValue(r.registry, 'edgelog_forward_rejected_total', { reason: 'auth_required' }), 1);
  // the agent without a secret gives up itself (it cannot answer the challenge); the relay counts the two that answered wrong
  assert.equal(await metricValue(r.registry, 'edgelog_forward_rejected_total', { reason: 'auth_failed' }), 2, 'wrong secret, unknown id');
  assert.equal(await metricValue(r.registry, 'edgelog_forward_rejected_total', { reason: 'identity_mismatch' }), 1);
  assert.deepEqual(bodies(r.down), records.map((x) => x.body.toString()), 'every legit record once, in order, nothing forged');
  for (const rec of r.down.records) assert.equal(rec.attributes?.['edgelog.resource.edgelog.agent.id'], 'edge-1');
});

test('sessions belong to the identity that opened them: another identity reusing the session id and sequences neither suppresses nor poisons them', async (t) => {
  const r = await relay(t);
  const sessionId = 0x1234_5678_9abc_def0n;
  // The attacker has a valid credential of its own (edge-2) and learned edge-1's session id.
  const attacker = await authedRaw(r.port, 'edge-2', SECRET_B, sessionId);
  // records without an agent id claim: accepted, as edge-2's own
  const payload = hugeLogsData(8);
  for (const seq of [2n, 3n]) attacker.write(encodeBatch({ sequence: seq, compression: 0, recordCount: 1, rawLength: payload.length, payload }));
  await until('attacker batches answered', () => attacker.frames.filter((f) => f.type === FrameType.ACK || f.type === FrameType.NACK).length === 2);
  // The real agent now sends its sequences 1..3 on the same session id.
  const real = await authedRaw(r.port, 'edge-1', SECRET_A, sessionId);
  const mine = [1, 2, 3].map((i) => encode(makeRecords(1, { body: () => Buffer.from(`real ${i}`) }).records)[0]!);
  mine.forEach((m, i) => real.write(encodeBatch({ sequence: BigInt(i + 1), compression: 0, recordCount: 1, rawLength: m.value.length, payload: m.value })));
  await until('real batches acknowledged', () => real.frames.filter((f) => f.type === FrameType.ACK).length === 3);
  assert.deepEqual(bodies(r.down), ['aaaaaaaa', 'aaaaaaaa', 'real 1', 'real 2', 'real 3'], 'sequences 2 and 3 of edge-1 were pushed, not taken for duplicates');
  assert.equal(r.down.records[0]!.attributes?.['edgelog.resource.edgelog.agent.id'], 'edge-2', 'the attacker\'s records carry its own identity');
  assert.equal(await metricValue(r.registry, 'edgelog_forward_duplicates_suppressed_total'), 0);
  attacker.destroy();
  real.destroy();
});

test('host.name of relayed records is the authenticated identity: a differing claim is overwritten, kept as edgelog.sender.host.name and counted', async (t) => {
  const r = await relay(t);
  const c = await authedRaw(r.port, 'edge-2', SECRET_B, 42n);
  // edge-2's real credential; its records claim to come from host shop-0042 (resource and record attribute)
  const { records } = makeRecords(3, { body: (i) => Buffer.from(`claimed ${i}`) });
  records[1]!.attributes = { 'host.name': 'shop-0042' };
  const [m] = new OtlpProtoEncoder({ ...otlpProtoDefaults, key: 'none' }, { host: 'shop-0042', service: 'svc', site: 'site-1', agentId: 'edge-2' }).encode(records);
  c.write(encodeBatch({ sequence: 1n, compression: 0, recordCount: 3, rawLength: m!.value.length, payload: m!.value }));
  await c.waitFrame(FrameType.ACK);
  // edge-2 sending under its own host name: nothing to rewrite
  const [own] = new OtlpProtoEncoder({ ...otlpProtoDefaults, key: 'none' }, { host: 'edge-2', service: 'svc', site: 'site-1', agentId: 'edge-2' }).encode(makeRecords(2).records);
  c.write(encodeBatch({ sequence: 2n, compression: 0, recordCount: 2, rawLength: own!.value.length, payload: own!.value }));
  await until('second batch acknowledged', () => c.frames.filter((f) => f.type === FrameType.ACK).length === 2);
  assert.equal(r.down.records.length, 5);
  for (const rec of r.down.records) {
    assert.equal(rec.attributes?.['edgelog.resource.host.name'], 'edge-2');
    assert.equal(rec.attributes?.['host.name'], undefined, 'no record-level host.name claim survives');
  }
  assert.deepEqual(r.down.records.map((x) => x.attributes?.['edgelog.resource.edgelog.sender.host.name']), ['shop-0042', 'shop-0042', 'shop-0042', undefined, undefined]);
  assert.equal(await metricValue(r.registry, 'edgelog_forward_host_name_rewritten_total'), 3);
  c.destroy();
});

/** LogsData { resource_logs { scope_logs { log_records { body { string_value: <n x 'a'> } } } } } built by hand: one record of n bytes. */
function hugeLogsData(n: number): Buffer {
  const tag = (field: number, wire: number) => Buffer.from([(field << 3) | wire]);
  const varint = (v: number) => { const out: number[] = []; while (v > 127) { out.push((v & 127) | 128); v = Math.floor(v / 128); } out.push(v); return Buffer.from(out); };
  const ld = (field: number, inner: Buffer) => Buffer.concat([tag(field, 2), varint(inner.length), inner]);
  const anyValue = ld(1, Buffer.alloc(n, 0x61));
  return ld(1, ld(2, ld(2, ld(5, anyValue))));
}

test('compression bombs from 64 connections (zstd, lz4, gzip) with the downstream not acknowledging: memory stays within the budget, the real agent is served when it returns', async (t) => {
  const budget = sharedBudget(256 * 1024 * 1024);
  const r = await relay(t, { max_connections_per_address: 128 }, new HoldingDownstream());
  const down = r.down as HoldingDownstream;
  const raw = hugeLogsData(30 * 1024 * 1024);
  const bombs = new Map<number, Buffer>();
  for (const id of [Compression.ZSTD, Compression.LZ4, Compression.GZIP]) bombs.set(id, await compress(id, raw));
  for (const [id, b] of bombs) assert.ok(b.length < 200 * 1024, `codec ${id}: ${b.length} bytes on the wire expand to 30 MiB`);
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
  t.after(() => clearInterval(sampler));
  let maxInUse = 0;
  const watch = setInterval(() => { maxInUse = Math.max(maxInUse, budget.inUse); }, 5);
  t.after(() => clearInterval(watch));

  const attackers: RawClient[] = [];
  const ids = [...bombs.keys()];
  for (let i = 0; i < 64; i++) {
    const c = await authedRaw(r.port, 'edge-2', SECRET_B, BigInt(1000 + i));
    const id = ids[i % ids.length]!;
    const p = bombs.get(id)!;
    c.write(encodeBatch({ sequence: 1n, compression: id, recordCount: 1, rawLength: raw.length, payload: p }));
    attackers.push(c);
  }
  // the real agent sends meanwhile
  const good = agent(t, r.port, SECRET_A, { ack_timeout: '120s' });
  const { records } = makeRecords(20, { body: (i) => Buffer.from(`legit ${i}`) });
  const sending = good.send(encode(records, 4));
  await until('the budget is full and batches wait', async () => (await metricValue(r.registry, 'edgelog_forward_budget_waits_total')) > 0, 60_000);
  assert.ok(budget.inUse <= budget.limit);
  const outagePeak = peak;
  // nothing was acknowledged while the downstream holds everything
  assert.equal(attackers.reduce((n, c) => n + c.frames.filter((f) => f.type === FrameType.ACK).length, 0), 0);
  // "Kafka returns": release until every bomb and every legit record went through
  await until('every batch pushed and acknowledged', async () => {
    down.release();
    return attackers.every((c) => c.frames.some((f) => f.type === FrameType.ACK)) && down.small.length === 20;
  }, 240_000);
  await sending;
  clearInterval(sampler);
  const grewMiB = (outagePeak - before) / 1048576;
  t.diagnostic(`RSS before ${(before / 1048576).toFixed(0)} MiB, peak during the outage ${(outagePeak / 1048576).toFixed(0)} MiB (+${grewMiB.toFixed(0)}), peak while draining ${(peak / 1048576).toFixed(0)} MiB, budget peak ${(maxInUse / 1048576).toFixed(0)} of ${budget.limit / 1048576} MiB`);
  assert.ok(maxInUse <= budget.limit, 'the budget was never exceeded');
  // 64 x 30 MiB expanded at once would be 1.9 GiB (the issue measured 3.1 GiB); the budget admits two at a time
  assert.ok(grewMiB < 512, `RSS grew ${grewMiB.toFixed(0)} MiB during the outage (ceiling 512 MiB)`);
  // While draining, 64 x 30 MiB pass through in quick succession. This once reached +730 MiB: not
  // GC lag but lz4-napi's async uncompress never freeing its output (agent/forward/compression.ts).
  assert.ok(peak - before < 512 * 1048576, `RSS grew ${((peak - before) / 1048576).toFixed(0)} MiB while draining (ceiling 512 MiB)`);
  assert.deepEqual(down.small, records.map((x) => x.body.toString()), 'every legit record once, in order');
  for (const c of attackers) c.destroy();
});

test('2,000 connections from one address: the per-address cap refuses the flood, an agent from another address is served', async (t) => {
  // 127.0.0.2 is loopback on Linux (the whole 127/8 is routed to lo)
  const probe = net.connect({ host: '127.0.0.1', port: 1, localAddress: '127.0.0.2' });
  const can = await new Promise<boolean>((resolve) => { probe.once('error', (e: NodeJS.ErrnoException) => resolve(e.code !== 'EADDRNOTAVAIL')); probe.once('connect', () => resolve(true)); });
  probe.destroy();
  if (!can) { t.skip('cannot bind 127.0.0.2 on this host'); return; }
  const r = await relay(t, { max_connections_per_address: 32, handshake_timeout: '60s' });
  const flood: net.Socket[] = [];
  t.after(() => { for (const s of flood) s.destroy(); });
  let closedByRelay = 0;
  // Fire 2,000 connects at once; some sit in the kernel's SYN/accept queues and retry (with the
  // accept queue full, a client may count itself connected while the server side still waits in
  // SYN_RECV for a minute), so the test waits for half of them to be refused, not for all 2,000.
  for (let i = 0; i < 2000; i++) {
    const s = net.connect({ host: '127.0.0.1', port: r.port, localAddress: '127.0.0.1' });
    flood.push(s);
    s.on('error', () => {});
    s.once('close', () => { closedByRelay++; });
  }
  await until('the flood beyond the cap is refused', async () => (await metricValue(r.registry, 'edgelog_forward_rejected_total', { reason: 'max_connections_per_address' })) >= 1000, 60_000)
    .catch(async (e) => { throw new Error(`${e.message}: refused ${await metricValue(r.registry, 'edgelog_forward_rejected_total')} closed ${closedByRelay} open ${r.src.connections}`); });
  // The real agent connects from 127.0.0.2 while the 32 admitted flood sockets stay open. The sink
  // has no source-address option, so its bytes go through a hop that connects from 127.0.0.2.
  const ctx = makeCtx(t, 'fwd_out', 'edge-1');
  const hop = net.createServer((inbound) => {
    const out = net.connect({ host: '127.0.0.1', port: r.port, localAddress: '127.0.0.2' });
    inbound.pipe(out).pipe(inbound);
    inbound.on('error', () => out.destroy());
    out.on('error', () => inbound.destroy());
  });
  await new Promise<void>((res) => hop.listen(0, '127.0.0.1', res));
  t.after(() => hop.close());
  const viaHop = forwardSink.create(forwardSink.validate({ endpoints: [`127.0.0.1:${(hop.address() as net.AddressInfo).port}`], auth: { secret: SECRET_A } }, 'sinks.fwd_out'), ctx) as ForwardSink;
  t.after(() => viaHop.close());
  const { records } = makeRecords(10, { body: (i) => Buffer.from(`legit ${i}`) });
  await viaHop.send(encode(records));
  assert.deepEqual(bodies(r.down), records.map((x) => x.body.toString()));
  assert.ok(closedByRelay >= 1000, `the relay closed ${closedByRelay} flood connections`);
  assert.ok(r.src.connections <= 32 + 1, `at most 32 flood connections held (${r.src.connections} open)`);
});

test('a slow-frame sender is cut at the frame deadline; the real agent is unaffected', async (t) => {
  const r = await relay(t, { frame_timeout: '300ms' });
  const slow = await authedRaw(r.port, 'edge-2', SECRET_B, 5n);
  // a BATCH header announcing 64 KiB, then a trickle that never completes it
  const [m] = encode(makeRecords(1).records);
  const frame = encodeBatch({ sequence: 1n, compression: 0, recordCount: 1, rawLength: m!.value.length, payload: Buffer.concat([m!.value, Buffer.alloc(65536)]) });
  slow.write(frame.subarray(0, 100));
  const trickle = setInterval(() => { if (!slow.socket.destroyed) slow.write(Buffer.from([0])); }, 50);
  t.after(() => clearInterval(trickle));
  const good = agent(t, r.port, SECRET_A);
  const { records } = makeRecords(5);
  await good.send(encode(records));
  await slow.closed;
  clearInterval(trickle);
  assert.equal(goaway(slow)?.code, ErrorCode.FRAME_TIMEOUT);
  assert.equal(await metricValue(r.registry, 'edgelog_forward_rejected_total', { reason: 'frame_timeout' }), 1);
  assert.equal(r.down.records.length, 5);
});
