// Forward sink -> forward source in one process, over real loopback TCP:
// byte-exact delivery (node and io_uring send paths, every codec), send()
// resolving only after the downstream acknowledged, retransmit after the
// relay dies mid-request, NACK mapping, several endpoints with failover, TLS.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from '../../agent/observe/prometheus.ts';
import type { EncodedMessage } from '../../agent/core/component.ts';
import { EdgelogError } from '../../agent/core/errors.ts';
import { RESOURCE_ATTR_PREFIX } from '../../agent/forward/logs-decode.ts';
import { forwardSink, type ForwardSink } from '../../agent/sinks/forward/index.ts';
import { forwardSource, type ForwardSource } from '../../agent/sources/forward/index.ts';
import { capabilities } from '../../agent/native/capabilities.ts';
import { CollectingDownstream, encode, makeCtx, makeRecords, metricValue, until } from './helpers.ts';

const uring = (() => {
  try {
    const c = capabilities();
    return c.io_uring.available ? undefined : `io_uring unavailable: ${c.io_uring.reason}`;
  } catch (err) {
    return `native library not loadable: ${(err as Error).message}`;
  }
})();

async function relay(t: import('node:test').TestContext, opts: Record<string, unknown> = {}, port = 0, registry = new Registry()) {
  const ctx = makeCtx(t, 'fwd_in', 'relay-1', registry);
  const src = forwardSource.create(forwardSource.validate({ address: `127.0.0.1:${port}`, ...opts }, 'sources.fwd_in'), ctx) as ForwardSource;
  const down = new CollectingDownstream();
  await src.start(down);
  let stopped = false;
  const stop = async () => { if (stopped) return; stopped = true; await src.stop(); await src.drain(2000); };
  t.after(stop);
  return { src, down, port: src.address!.port, registry, stop };
}

function sink(t: import('node:test').TestContext, endpoints: string[], opts: Record<string, unknown> = {}, registry = new Registry()): ForwardSink {
  const ctx = makeCtx(t, 'fwd_out', 'edge-1', registry);
  const s = forwardSink.create(forwardSink.validate({ endpoints, ...opts }, 'sinks.fwd_out'), ctx) as ForwardSink;
  t.after(() => s.close());
  return s;
}

function assertSame(sent: EncodedMessage[], got: import('../../agent/core/record.ts').LogRecord[]): void {
  const want = sent.flatMap((m) => m.records);
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) {
    assert.ok(got[i]!.body.equals(want[i]!.body), `record ${i} body byte-exact`);
    assert.equal(got[i]!.offset, want[i]!.offset);
    assert.equal(got[i]!.streamId, want[i]!.streamId);
    assert.equal(got[i]!.stream, want[i]!.stream);
  }
}

for (const transport of ['node', 'io_uring'] as const) {
  for (const compression of ['none', 'gzip', 'zstd', 'lz4'] as const) {
    test(`batches arrive byte-exact over ${transport} with ${compression}`, { skip: transport === 'io_uring' ? uring : undefined }, async (t) => {
      const r = await relay(t);
      const s = sink(t, [`127.0.0.1:${r.port}`], { transport, compression, window: 3 });
      const bodies = (i: number) => i % 7 === 0 ? Buffer.from([0xff, 0xfe, i & 0xff]) : Buffer.from(`${i} ${'payload '.repeat(i % 40)}`);
      const { records } = makeRecords(2000, { body: bodies });
      const msgs = encode(records, 100); // 20 messages -> 20 frames through a window of 3
      await s.send(msgs.slice(0, 10));
      await s.send(msgs.slice(10));
      assert.equal(s.transport, transport);
      assertSame(msgs, r.down.records);
      assert.equal(r.down.records[0]!.attributes![`${RESOURCE_ATTR_PREFIX}edgelog.agent.id`], 'edge-1');
    });
  }
}

test('a large frame (1 MB+) crosses the io_uring path split over registered buffers', { skip: uring }, async (t) => {
  const r = await relay(t);
  const s = sink(t, [`127.0.0.1:${r.port}`], { transport: 'io_uring', compression: 'none' });
  const { records } = makeRecords(300, { body: (i) => Buffer.alloc(5000, 97 + (i % 26)) });
  const msgs = encode(records);
  assert.ok(msgs[0]!.value.length > 1 << 20);
  await s.send(msgs);
  assertSame(msgs, r.down.records);
});

test('send resolves only after the relay downstream acknowledged', async (t) => {
  const r = await relay(t);
  r.down.hold = true;
  const s = sink(t, [`127.0.0.1:${r.port}`]);
  const msgs = encode(makeRecords(50).records, 10);
  let done = false;
  const p = s.send(msgs).then(() => { done = true; });
  await until('records at the relay', () => r.down.records.length === 50);
  await new Promise((res) => setTimeout(res, 100));
  assert.equal(done, false, 'not resolved while the downstream holds the records');
  r.down.release();
  await p;
  assert.equal(done, true);
});

test('relay killed mid-request: the sink reconnects and retransmits, nothing lost', async (t) => {
  const reg = new Registry();
  const r1 = await relay(t);
  const port = r1.port;
  r1.down.hold = true;
  const s = sink(t, [`127.0.0.1:${port}`], { window: 4, reconnect_attempts: 0 }, reg);
  const msgs = encode(makeRecords(400).records, 50); // 8 frames
  const first = s.send(msgs).then(() => null, (e: unknown) => e);
  await until('first window at relay 1', () => r1.down.records.length >= 100);
  // stop without ACKs: GOAWAY, then the connections close with 4 batches unacknowledged
  await r1.stop();
  const err = await first;
  assert.ok(err instanceof EdgelogError && err.retriable, `retriable error, got ${err}`);
  const r2 = await relay(t, {}, port);
  // the pipeline retries the same request: unacked frames go again with their sequence numbers
  await s.send(msgs);
  const got = r2.down.records;
  assertSame(msgs, got);
  assert.ok(await metricValue(reg, 'edgelog_forward_retransmits_total') >= 4, 'retransmits counted');
});

test('relay restarting between frames: one reconnect inside the same send', async (t) => {
  const r1 = await relay(t);
  const port = r1.port;
  const s = sink(t, [`127.0.0.1:${port}`], { window: 2, reconnect_attempts: 5 });
  await s.send(encode(makeRecords(10).records));
  await r1.stop();
  const r2 = await relay(t, {}, port);
  const msgs = encode(makeRecords(100).records, 10);
  await s.send(msgs);
  assertSame(msgs, r2.down.records);
});

test('a batch the relay cannot decode is NACKed as not retriable', async (t) => {
  const r = await relay(t);
  const s = sink(t, [`127.0.0.1:${r.port}`]);
  const bogus: EncodedMessage = { key: null, value: Buffer.from([0x0a, 0xff, 0xff, 0x7f]), headers: {}, records: makeRecords(1).records };
  await assert.rejects(s.send([bogus]), (e: EdgelogError) => e.code === 'EDGELOG_FORWARD_NACK' && !e.retriable && /bad_payload/.test(e.message));
  // the connection survives a NACK: the next good batch goes through
  const msgs = encode(makeRecords(5).records);
  await s.send(msgs);
  assertSame(msgs, r.down.records);
});

test('unreachable relay: retriable connect error', async (t) => {
  const srv = net.createServer();
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((res) => srv.close(() => res()));
  const s = sink(t, [`127.0.0.1:${port}`]);
  await assert.rejects(s.send(encode(makeRecords(1).records)), (e: EdgelogError) => e.code === 'EDGELOG_FORWARD_CONNECT' && e.retriable);
  await assert.rejects(s.probe(), (e: EdgelogError) => e.retriable);
});

test('names are resolved on connect (localhost) and probe measures a heartbeat round trip', async (t) => {
  const reg = new Registry();
  const r = await relay(t);
  const s = sink(t, [`localhost:${r.port}`], {}, reg);
  const ms = await s.probe();
  assert.ok(ms >= 0);
  assert.equal(await metricValue(reg, 'edgelog_forward_frames_total', { direction: 'in', type: 'heartbeat_ack' }), 1);
});

test('several endpoints: the dead primary fails over to the next relay', async (t) => {
  const dead = net.createServer();
  await new Promise<void>((res) => dead.listen(0, '127.0.0.1', res));
  const deadPort = (dead.address() as net.AddressInfo).port;
  await new Promise<void>((res) => dead.close(() => res()));
  const r = await relay(t);
  const s = sink(t, [`127.0.0.1:${deadPort}`, `127.0.0.1:${r.port}`], { probe_interval: '50ms' });
  const msgs = encode(makeRecords(20).records);
  // the pipeline retries failed sends; the breaker opens after five failures and traffic moves on
  for (let i = 0; ; i++) {
    try { await s.send(msgs); break; } catch (e) { assert.ok((e as EdgelogError).retriable); if (i > 20) throw e; await new Promise((res) => setTimeout(res, 50)); }
  }
  assertSame(msgs, r.down.records);
});

test('TLS: the sink verifies the relay certificate and delivers', async (t) => {
  let dir: string;
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch {
    t.skip('openssl not installed (needed to make a test certificate)');
    return;
  }
  dir = makeCtx(t, 'certs').dataDir;
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=relay.test',
    '-addext', 'subjectAltName=DNS:relay.test,IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  assert.ok(existsSync(join(dir, 'cert.pem')));
  const r = await relay(t, { tls: { cert_file: join(dir, 'cert.pem'), key_file: join(dir, 'key.pem') } });
  const s = sink(t, [`127.0.0.1:${r.port}`], { tls: { ca_file: join(dir, 'cert.pem'), server_name: 'relay.test' } });
  const msgs = encode(makeRecords(30).records);
  await s.send(msgs);
  assertSame(msgs, r.down.records);
  // a sink that does not trust the certificate cannot connect
  const bad = sink(t, [`127.0.0.1:${r.port}`], { tls: { server_name: 'relay.test' } });
  await assert.rejects(bad.send(msgs), (e: EdgelogError) => e.code === 'EDGELOG_FORWARD_CONNECT' && e.retriable);
});

test('config errors name the key path', () => {
  assert.throws(() => forwardSink.validate({}, 'sinks.f'), /sinks\.f\.endpoints: expected at least one relay endpoint/);
  assert.throws(() => forwardSink.validate({ endpoints: ['nohost'] }, 'sinks.f'), /sinks\.f\.endpoints\[0\]: expected host:port/);
  assert.throws(() => forwardSink.validate({ endpoints: ['a:1'], transport: 'io_uring', tls: {} }, 'sinks.f'), /sinks\.f\.transport/);
  assert.throws(() => forwardSink.validate({ endpoints: ['a:1'], compression: 'brotli' }, 'sinks.f'), /sinks\.f\.compression: expected one of none, gzip, zstd, lz4/);
  assert.throws(() => forwardSource.validate({ tls: { cert_file: 'a', key_file: 'b', verify_client: true } }, 'sources.r'), /sources\.r\.tls\.ca_file/);
  assert.throws(() => forwardSource.validate({ address: 'x' }, 'sources.r'), /sources\.r\.address/);
  const d = forwardSink.validate({ endpoints: ['relay:24240'] }, 'sinks.f');
  assert.equal(d.transport, 'auto');
  assert.equal(d.endpoints[0]!.port, 24240);
  // the installed relay.yaml says `listen:`
  assert.equal(forwardSource.validate({ listen: '0.0.0.0:24240', insecure: true }, 'sources.r').address, '0.0.0.0:24240');
  assert.throws(() => forwardSource.validate({ listen: '0.0.0.0:24240' }, 'sources.r'), /sources\.r\.listen: expected a loopback address, or tls and auth/);
  assert.equal(forwardSource.validate({}, 'sources.r').address, '127.0.0.1:24240');
  assert.throws(() => forwardSource.validate({ listen: 'a:1', address: 'b:2' }, 'sources.r'), /sources\.r\.listen/);
});

test('no ACK within ack_timeout: retriable timeout, the connection is replaced', async (t) => {
  const r = await relay(t);
  r.down.hold = true;
  const s = sink(t, [`127.0.0.1:${r.port}`], { ack_timeout: '300ms' });
  await assert.rejects(s.send(encode(makeRecords(5).records)), (e: EdgelogError) => e.code === 'EDGELOG_FORWARD_TIMEOUT' && e.retriable);
  r.down.release();
});

test('a relay that stops answering heartbeats fails the probe with a timeout', async (t) => {
  // speaks the handshake, then reads and ignores everything
  const { FrameDecoder, encodeHelloAck } = await import('../../agent/forward/codec.ts');
  const srv = net.createServer((sock) => {
    const d = new FrameDecoder(1 << 20);
    sock.on('data', (b) => {
      const frames: import('../../agent/forward/codec.ts').Frame[] = [];
      d.push(b, frames);
      if (frames.some((f) => f.type === 1)) sock.write(encodeHelloAck({ version: 1, flags: 0, maxFrameBytes: 1 << 20, window: 4, compressions: [0], relayId: 'mute' }));
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
  t.after(() => new Promise<void>((res) => srv.close(() => res())));
  const s = sink(t, [`127.0.0.1:${(srv.address() as net.AddressInfo).port}`], { heartbeat_timeout: '200ms', compression: 'none' });
  await assert.rejects(s.probe(), (e: EdgelogError) => e.code === 'EDGELOG_FORWARD_TIMEOUT' && e.retriable);
  // srv.close waits for the sink's connection: close the sink first
  await s.close();
});

test('backpressure: the relay reads nothing more from a connection while its push is pending', async (t) => {
  const r = await relay(t);
  let releasePush!: () => void;
  const gate = new Promise<void>((res) => { releasePush = res; });
  const pushes: number[] = [];
  const orig = r.down.push.bind(r.down);
  r.down.push = async (batch) => { pushes.push(batch.length); await orig(batch); if (pushes.length === 1) await gate; };
  const s = sink(t, [`127.0.0.1:${r.port}`], { window: 8, compression: 'none' });
  const msgs = encode(makeRecords(40).records, 10); // 4 frames, all within the window
  const p = s.send(msgs);
  await until('first push', () => pushes.length === 1);
  await new Promise((res) => setTimeout(res, 200));
  assert.equal(pushes.length, 1, 'no further batch taken while the first push is pending');
  releasePush();
  await p;
  assert.deepEqual(pushes, [10, 10, 10, 10]);
});

test('mutual TLS: the relay accepts only agents with a certificate from its CA that names the agent id', async (t) => {
  try { execFileSync('openssl', ['version'], { stdio: 'ignore' }); } catch { t.skip('openssl not installed (needed to make test certificates)'); return; }
  const dir = makeCtx(t, 'mtls').dataDir;
  const o = (...a: string[]) => execFileSync('openssl', a, { cwd: dir, stdio: 'ignore' });
  o('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=test-ca', '-keyout', 'ca.key', '-out', 'ca.pem');
  // the agent's certificate names its agent id (the sink's ctx says edge-1); `other` belongs to another agent
  for (const [name, san] of [['relay', 'DNS:relay.test'], ['agent', 'DNS:edge-1'], ['other', 'DNS:edge-2']] as const) {
    o('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
    o('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', `${name}.ext`, '-out', `${name}.pem`);
  }
  const p = (f: string) => join(dir, f);
  const reg = new Registry();
  const r = await relay(t, { tls: { cert_file: p('relay.pem'), key_file: p('relay.key'), ca_file: p('ca.pem'), verify_client: true } }, 0, reg);
  const good = sink(t, [`127.0.0.1:${r.port}`], { tls: { ca_file: p('ca.pem'), cert_file: p('agent.pem'), key_file: p('agent.key'), server_name: 'relay.test' } });
  const msgs = encode(makeRecords(10).records);
  await good.send(msgs);
  assertSame(msgs, r.down.records);
  const anon = sink(t, [`127.0.0.1:${r.port}`], { tls: { ca_file: p('ca.pem'), server_name: 'relay.test' }, connect_timeout: '2s' });
  await assert.rejects(anon.send(msgs), (e: EdgelogError) => !e.retriable && /client certificate required/.test(e.message));
  // a valid certificate of edge-2 cannot push as edge-1
  const borrowed = sink(t, [`127.0.0.1:${r.port}`], { tls: { ca_file: p('ca.pem'), cert_file: p('other.pem'), key_file: p('other.key'), server_name: 'relay.test' }, connect_timeout: '2s' });
  await assert.rejects(borrowed.send(msgs), (e: EdgelogError) => /auth_failed|client certificate names edge-2/.test(e.message));
  assert.equal(await metricValue(reg, 'edgelog_forward_rejected_total', { reason: 'identity_mismatch' }), 1);
  // a certificate naming edge-1 but issued by a CA the relay does not trust: refused right after the handshake, counted
  o('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=rogue-ca', '-keyout', 'rogue-ca.key', '-out', 'rogue-ca.pem');
  o('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=edge-1', '-keyout', 'rogue.key', '-out', 'rogue.csr');
  writeFileSync(join(dir, 'rogue.ext'), 'subjectAltName=DNS:edge-1\n');
  o('x509', '-req', '-in', 'rogue.csr', '-CA', 'rogue-ca.pem', '-CAkey', 'rogue-ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'rogue.ext', '-out', 'rogue.pem');
  const rogue = sink(t, [`127.0.0.1:${r.port}`], { tls: { ca_file: p('ca.pem'), cert_file: p('rogue.pem'), key_file: p('rogue.key'), server_name: 'relay.test' }, connect_timeout: '2s' });
  await assert.rejects(rogue.send(msgs), (e: EdgelogError) => !e.retriable && /client certificate not trusted/.test(e.message));
  assert.equal(await metricValue(reg, 'edgelog_forward_rejected_total', { reason: 'client_cert_untrusted' }), 1);
  assert.equal(await metricValue(reg, 'edgelog_forward_rejected_total', { reason: 'client_cert_missing' }), 1);
  assert.equal(r.down.records.length, 10);
});

test('the endpoint name is resolved again on every connect (DNS failover)', async (t) => {
  const { ForwardConnection } = await import('../../agent/sinks/forward/connection.ts');
  const { ForwardMetrics } = await import('../../agent/forward/metrics.ts');
  const r1 = await relay(t);
  const port = r1.port;
  let address = '127.0.0.1';
  const asked: string[] = [];
  const ctx = makeCtx(t, 'fwd_out');
  const cfg = forwardSink.validate({ endpoints: [`relay.test:${port}`], reconnect_attempts: 0 }, 'sinks.fwd_out');
  const conn = new ForwardConnection({
    cfg, endpoint: cfg.endpoints[0]!, agentId: 'edge-1', transport: Promise.resolve({ kind: 'node', reason: 'test' }), tlsOptions: null,
    metrics: new ForwardMetrics(ctx.metrics, ctx.id, ctx.log), log: ctx.log,
    resolve: async (host) => { asked.push(host); return address; },
  });
  t.after(() => conn.close());
  await conn.send(encode(makeRecords(5).records));
  assert.equal(r1.down.records.length, 5);
  // the record moves to another address (127.0.0.2 is loopback too); the old relay goes away
  await r1.stop();
  const ctx2 = makeCtx(t, 'fwd_in2', 'relay-2');
  const src2 = forwardSource.create(forwardSource.validate({ address: `127.0.0.2:${port}` }, 'sources.fwd_in2'), ctx2) as ForwardSource;
  const down2 = new (await import('./helpers.ts')).CollectingDownstream();
  try {
    await src2.start(down2);
  } catch (err) {
    t.skip(`cannot listen on 127.0.0.2: ${(err as Error).message}`);
    return;
  }
  t.after(async () => { await src2.stop(); await src2.drain(1000); });
  address = '127.0.0.2';
  const msgs = encode(makeRecords(7).records);
  for (let i = 0; ; i++) {
    try { await conn.send(msgs); break; } catch (e) { assert.ok((e as EdgelogError).retriable); if (i > 5) throw e; }
  }
  assert.equal(down2.records.length, 7);
  assert.ok(asked.length >= 2 && asked.every((h) => h === 'relay.test'), `resolved on each connect: ${asked.join(',')}`);
});

test('a resent batch is not pushed twice while the relay stays up (pending, then done)', async (t) => {
  const reg = new Registry();
  const r = await relay(t, {}, 0, reg);
  r.down.hold = true;
  const s = sink(t, [`127.0.0.1:${r.port}`], { ack_timeout: '300ms', window: 4 });
  const msgs = encode(makeRecords(40).records, 10); // 4 frames
  // 1. no ACK in time: the sink drops the connection; the pipeline retries the same messages
  await assert.rejects(s.send(msgs), (e: EdgelogError) => e.code === 'EDGELOG_FORWARD_TIMEOUT');
  assert.equal(r.down.records.length, 40);
  const retry = s.send(msgs);
  await until('resent batches recognised as pending', async () => (await metricValue(reg, 'edgelog_forward_duplicates_suppressed_total', { state: 'pending' })) === 4);
  r.down.release();
  await retry;
  assert.equal(r.down.records.length, 40, 'nothing pushed twice');
  // 2. ACKs lost after completion: the resend is ACKed from memory
  const more = encode(makeRecords(20, { start: 10_000 }).records, 10);
  await assert.rejects(s.send(more), (e: EdgelogError) => e.code === 'EDGELOG_FORWARD_TIMEOUT');
  r.down.release(); // completes while the sink has no connection
  await until('batches done', async () => r.down.held.length === 0);
  await s.send(more);
  assert.equal(r.down.records.length, 60);
  assert.equal(await metricValue(reg, 'edgelog_forward_duplicates_suppressed_total', { state: 'done' }), 2);
});
