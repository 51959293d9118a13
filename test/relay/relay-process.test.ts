// The attack suite against a real relay process (`edgelog run`, TLS + auth,
// as installed) writing to a real Kafka: while a legitimate agent streams,
// an unauthenticated sender, an old (version-1) agent, a wrong secret, an
// unknown agent id and a real credential forging another agent's records
// all get nothing into Kafka; each refusal is counted by reason and logged
// without the session id in full; the legitimate agent's records are in
// Kafka exactly once.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from '../../agent/observe/prometheus.ts';
import { sharedKafka, uniqueTopic } from '../helpers/kafka.ts';
import { metricSum, startAgent } from '../helpers/agent-process.ts';
import { readBack, tempDir } from '../helpers/e2e.ts';
import { forwardSink, type ForwardSink } from '../../agent/sinks/forward/index.ts';
import { encodeAuthResponse, encodeBatch, encodeHello, FrameDecoder, type Frame } from '../../agent/forward/codec.ts';
import { authProof } from '../../agent/forward/auth.ts';
import { ErrorCode, FrameType } from '../../agent/forward/constants.ts';
import { freePort } from '../../agent/embedded-kafka/cluster.ts';
import { encode, makeCtx, makeRecords, until } from '../forward/helpers.ts';
import { writeRelayYaml } from './relay-config.ts';

const SECRET_1 = 'edge-1-secret-for-the-process-test';
const SECRET_2 = 'edge-2-secret-for-the-process-test';

/** A TLS client speaking raw frames (the attacker's tool). */
async function tlsRaw(port: number, ca: Buffer): Promise<{ frames: Frame[]; write(b: Buffer): void; closed: Promise<void>; destroy(): void }> {
  const s = tls.connect({ host: '127.0.0.1', port, ca, servername: 'relay.test' });
  await new Promise<void>((resolve, reject) => { s.once('secureConnect', () => resolve()); s.once('error', reject); });
  const frames: Frame[] = [];
  const dec = new FrameDecoder(1 << 20);
  s.on('data', (d: Buffer) => { dec.push(d, frames); });
  s.on('error', () => {});
  const closed = new Promise<void>((r) => s.once('close', () => r()));
  return { frames, write: (b) => { s.write(b); }, closed, destroy: () => s.destroy() };
}

async function waitFrame(frames: Frame[], type: number): Promise<Frame> {
  await until(`frame ${type}`, () => frames.some((f) => f.type === type), 20_000);
  return frames.find((f) => f.type === type)!;
}

test('a real TLS + auth relay and Kafka: unauthenticated, old, wrong-secret, unknown and forging senders get nothing in; the real agent loses and duplicates nothing', async (t) => {
  try { execFileSync('openssl', ['version'], { stdio: 'ignore' }); } catch { t.skip('openssl not installed (needed for the relay certificate)'); return; }
  const kafka = await sharedKafka('A');
  const topic = uniqueTopic('relay-attack');
  await kafka.createTopic(topic, 1);
  const dir = tempDir(t, 'edgelog-relay-attack-');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=relay.test',
    '-addext', 'subjectAltName=DNS:relay.test', '-keyout', join(dir, 'relay.key'), '-out', join(dir, 'relay.pem')], { stdio: 'ignore' });
  const ca = readFileSync(join(dir, 'relay.pem'));
  writeFileSync(join(dir, 'agents.secrets'), `edge-1 ${SECRET_1}\nedge-2 ${SECRET_2}\n`);
  const port = await freePort();
  const cfg = writeRelayYaml({
    id: 'relay-attack', dir, port, bootstrap: kafka.bootstrap, topic,
    source: [
      `tls: { cert_file: ${JSON.stringify(join(dir, 'relay.pem'))}, key_file: ${JSON.stringify(join(dir, 'relay.key'))} }`,
      `auth: { secrets_file: ${JSON.stringify(join(dir, 'agents.secrets'))} }`,
    ],
  });
  const relay = await startAgent(cfg);
  t.after(() => relay.kill());

  const sinkFor = (agentId: string, secret: string | null): ForwardSink => {
    const s = forwardSink.create(forwardSink.validate({
      endpoints: [`127.0.0.1:${port}`], tls: { ca_file: join(dir, 'relay.pem'), server_name: 'relay.test' }, connect_timeout: '5s',
      ...(secret ? { auth: { secret } } : {}),
    }, 'sinks.fwd'), makeCtx(t, 'fwd', agentId, new Registry())) as ForwardSink;
    t.after(() => s.close());
    return s;
  };

  // the legitimate agent streams 200 records in 20 batches while the attacks run
  const good = sinkFor('edge-1', SECRET_1);
  const { records } = makeRecords(200, { body: (i) => Buffer.from(`legit line ${i}`) });
  const msgs = encode(records, 10);
  const streaming = (async () => { for (const m of msgs) await good.send([m]); })();

  // unauthenticated (no secret), wrong secret, unknown agent id
  await assert.rejects(sinkFor('edge-1', null).send(encode(makeRecords(2).records)), /relay requires authentication/);
  await assert.rejects(sinkFor('edge-1', 'wrong-secret-wrong-secret').send(encode(makeRecords(2).records)), /auth_failed/);
  await assert.rejects(sinkFor('shop-0042', 'made-up-secret-made-up').send(encode(makeRecords(2).records)), /auth_failed/);
  // an old agent (version 1): clear refusal
  const old = await tlsRaw(port, ca);
  old.write(encodeHello({ minVersion: 1, maxVersion: 1, flags: 0, maxFrameBytes: 1 << 20, compressions: [0], sessionId: 5n, agentId: 'shop-0042' }));
  const g = await waitFrame(old.frames, FrameType.GOAWAY);
  assert.equal((g as { code: number }).code, ErrorCode.AUTH_REQUIRED);
  await old.closed;
  // edge-2's real credential, records claiming edge-1, and edge-1's session id
  const forger = await tlsRaw(port, ca);
  const sid = 0xfeedfacecafebeefn;
  forger.write(encodeHello({ minVersion: 2, maxVersion: 2, flags: 0, maxFrameBytes: 1 << 20, compressions: [0], sessionId: sid, agentId: 'edge-2' }));
  const ch = await waitFrame(forger.frames, FrameType.AUTH_CHALLENGE);
  forger.write(encodeAuthResponse(authProof(Buffer.from(SECRET_2), (ch as { nonce: Buffer }).nonce, sid, 'edge-2')));
  await waitFrame(forger.frames, FrameType.HELLO_ACK);
  const [forged] = encode(makeRecords(3, { body: () => Buffer.from('forged line') }).records); // resource says edgelog.agent.id=edge-1
  forger.write(encodeBatch({ sequence: 1n, compression: 0, recordCount: 3, rawLength: forged!.value.length, payload: forged!.value }));
  const n = await waitFrame(forger.frames, FrameType.NACK);
  assert.equal((n as { code: number }).code, ErrorCode.IDENTITY_MISMATCH);
  forger.destroy();

  await streaming;
  const m = await relay.metrics();
  assert.equal(metricSum(m, 'edgelog_forward_rejected_total', 'reason="auth_failed"'), 2);
  assert.equal(metricSum(m, 'edgelog_forward_rejected_total', 'reason="auth_required"'), 1);
  assert.equal(metricSum(m, 'edgelog_forward_rejected_total', 'reason="identity_mismatch"'), 1);
  assert.equal(await relay.stop(), 0);
  const log = relay.stderr();
  // the first refusal per reason and second is logged (later ones counted: the log cannot be flooded)
  assert.match(log, /"reason":"auth_failed".*authentication failed for agent edge-1/, 'the refusal is logged with the claimed agent id');
  assert.doesNotMatch(log, /feedfacecafebeef/i, 'session ids are not logged in full');

  const back = await readBack(kafka, topic);
  const bodies = back.map((r) => r.body.toString());
  assert.deepEqual(bodies, records.map((r) => r.body.toString()), 'every legit record exactly once, in order; nothing forged');
  for (const r of back) {
    const id = r.resource['edgelog.agent.id'] ?? r.attributes['edgelog.resource.edgelog.agent.id'];
    assert.equal(id, 'edge-1');
    // host.name is the authenticated identity too; the agent's own claim (host-a) is kept, labelled as such
    assert.equal(r.resource['host.name'], 'edge-1');
    assert.equal(r.resource['edgelog.sender.host.name'], 'host-a');
  }
});

test('a real mTLS + auth relay and Kafka: expired, untrusted and missing client certificates are refused with a log line and a counter; the real agent loses and duplicates nothing', async (t) => {
  try { execFileSync('openssl', ['version'], { stdio: 'ignore' }); } catch { t.skip('openssl not installed (needed for the relay certificate)'); return; }
  const kafka = await sharedKafka('A');
  const topic = uniqueTopic('relay-mtls');
  await kafka.createTopic(topic, 1);
  const dir = tempDir(t, 'edgelog-relay-mtls-');
  const o = (...a: string[]) => execFileSync('openssl', a, { cwd: dir, stdio: 'ignore' });
  const issue = (name: string, san: string, ca: string, days: string) => {
    o('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
    // -days -1: valid until yesterday, an expired certificate that is otherwise perfect
    o('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', days, '-extfile', `${name}.ext`, '-out', `${name}.pem`);
  };
  o('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=fleet-ca', '-keyout', 'ca.key', '-out', 'ca.pem');
  o('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=rogue-ca', '-keyout', 'rogue-ca.key', '-out', 'rogue-ca.pem');
  issue('relay', 'DNS:relay.test', 'ca', '1');
  issue('good', 'DNS:edge-1', 'ca', '1');
  issue('expired', 'DNS:edge-1', 'ca', '-1');
  issue('rogue', 'DNS:edge-1', 'rogue-ca', '1');
  writeFileSync(join(dir, 'agents.secrets'), `edge-1 ${SECRET_1}\n`);
  const p = (f: string) => JSON.stringify(join(dir, f));
  const port = await freePort();
  const cfg = writeRelayYaml({
    id: 'relay-mtls', dir, port, bootstrap: kafka.bootstrap, topic,
    source: [
      `tls: { cert_file: ${p('relay.pem')}, key_file: ${p('relay.key')}, ca_file: ${p('ca.pem')}, verify_client: true }`,
      `auth: { secrets_file: ${p('agents.secrets')} }`,
    ],
  });
  const relay = await startAgent(cfg);
  t.after(() => relay.kill());
  // every one of them knows edge-1's secret: only the certificate differs
  const sinkWith = (cert: string | null): ForwardSink => {
    const s = forwardSink.create(forwardSink.validate({
      endpoints: [`127.0.0.1:${port}`], connect_timeout: '5s', auth: { secret: SECRET_1 },
      tls: { ca_file: join(dir, 'ca.pem'), server_name: 'relay.test', ...(cert ? { cert_file: join(dir, `${cert}.pem`), key_file: join(dir, `${cert}.key`) } : {}) },
    }, 'sinks.fwd'), makeCtx(t, 'fwd', 'edge-1', new Registry())) as ForwardSink;
    t.after(() => s.close());
    return s;
  };

  const good = sinkWith('good');
  const { records } = makeRecords(200, { body: (i) => Buffer.from(`legit line ${i}`) });
  const msgs = encode(records, 10);
  const streaming = (async () => { for (const m of msgs) await good.send([m]); })();
  await assert.rejects(sinkWith('expired').send(encode(makeRecords(2).records)), /auth_failed: client certificate expired on /);
  await assert.rejects(sinkWith('rogue').send(encode(makeRecords(2).records)), /auth_failed: client certificate not trusted/);
  await assert.rejects(sinkWith(null).send(encode(makeRecords(2).records)), /auth_failed: client certificate required/);
  await streaming;

  const m = await relay.metrics();
  assert.equal(metricSum(m, 'edgelog_forward_rejected_total', 'reason="client_cert_expired"'), 1);
  assert.equal(metricSum(m, 'edgelog_forward_rejected_total', 'reason="client_cert_untrusted"'), 1);
  assert.equal(metricSum(m, 'edgelog_forward_rejected_total', 'reason="client_cert_missing"'), 1);
  assert.equal(await relay.stop(), 0);
  const log = relay.stderr();
  assert.match(log, /"reason":"client_cert_expired".*client certificate expired on .*subject CN=expired, issuer CN=fleet-ca/);
  assert.match(log, /"reason":"client_cert_untrusted".*UNABLE_TO_VERIFY_LEAF_SIGNATURE.*issuer CN=rogue-ca/);
  const back = await readBack(kafka, topic);
  assert.deepEqual(back.map((r) => r.body.toString()), records.map((r) => r.body.toString()), 'every legit record exactly once, in order');
});
