// Messages that misled an operator (issue 14), each asserted as the operator
// sees it:
// - a port that is not Kafka: "not a Kafka broker" with what it answered, in
//   the sink's error and health and in `edgelog doctor` (not "connecting" for
//   30 s, "Request timed out" or PROBE_TIMEOUT);
// - a request the broker refuses as too large although every message is
//   within max_message_bytes: said as such, no "record of N bytes exceeds
//   limit M" with N < M, and the sink's health stays ready;
// - a shutdown with records not yet acknowledged: not "records discarded",
//   and the next start indeed delivers them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type Server } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from '../../agent/observe/prometheus.ts';
import { RecordTooLargeError } from '../../agent/core/errors.ts';
import { silentLogger } from '../../agent/observe/log.ts';
import { KafkaSink, kafkaSink } from '../../agent/sinks/kafka/sink.ts';
import { checkKafkaHandshake } from '../../agent/sinks/kafka/handshake-check.ts';
import { sharedKafka, uniqueTopic } from '../helpers/kafka.ts';
import { startAgent, type AgentProcess } from '../helpers/agent-process.ts';
import { tempDir, writeAgentConfig, readBack, waitFor } from '../helpers/e2e.ts';
import { defer } from '../helpers/cleanup.ts';

const mainTs = fileURLToPath(new URL('../../agent/cli/main.ts', import.meta.url));

async function listen(server: Server | import('node:http').Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const a = server.address() as { port: number };
  return `127.0.0.1:${a.port}`;
}

/** An HTTP server (answers a Kafka request with 400) and an sshd-like banner server, closed after the test. */
async function impostors(t: { after(fn: () => unknown): void }): Promise<{ http: string; ssh: string }> {
  const http = createHttpServer((_req, res) => { res.writeHead(200).end('ok'); });
  const ssh = createTcpServer((s) => { s.on('error', () => undefined); s.write('SSH-2.0-OpenSSH_9.6 edgelog-test\r\n'); });
  defer(t, 'close the impostor servers', () => { http.closeAllConnections(); http.close(); ssh.close(); });
  return { http: await listen(http), ssh: await listen(ssh) };
}

function runCli(args: string[], timeoutMs = 60_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = fork(mainTs, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    let out = '';
    child.stdout!.on('data', (d) => { out += d; });
    child.stderr!.on('data', (d) => { out += d; });
    const timer = setTimeout(() => { out += '\n[test] killed at the deadline'; child.kill('SIGKILL'); }, timeoutMs);
    child.once('exit', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
}

test('not a Kafka broker: the handshake check names what answered; Kafka itself passes', async (t) => {
  const imp = await impostors(t);
  const kafka = await sharedKafka('A');
  assert.deepEqual(await checkKafkaHandshake(kafka.bootstrap, 10_000), { kind: 'kafka' });
  assert.deepEqual(await checkKafkaHandshake(imp.http, 10_000), { kind: 'not_kafka', answer: '"HTTP/1.1 400 Bad Request"' });
  assert.deepEqual(await checkKafkaHandshake(imp.ssh, 10_000), { kind: 'not_kafka', answer: '"SSH-2.0-OpenSSH_9.6 edgelog-test"' });
});

test('not a Kafka broker: the sink says so in its health and its error, doctor says so too', async (t) => {
  const imp = await impostors(t);
  const cfg = kafkaSink.validate({ brokers: [imp.http], topic: 'logs', connect_timeout: '2s', request_timeout: '3s', client_retry: { retries: 2, initial_backoff: '100ms', max_backoff: '200ms' } }, 'sinks.kafka');
  const sink = new KafkaSink(cfg, { id: 'kafka', log: silentLogger, metrics: new Registry(), agentId: 'test' });
  defer(t, 'close the sink', () => sink.close());
  const sent = sink.send([{ key: null, value: Buffer.from('x'), headers: {}, records: [] }]).then(() => null, (e: unknown) => e as Error);
  // While the client is still trying, /readyz already says why.
  await waitFor('the sink health names the impostor', () => sink.health().reason.includes('not a Kafka broker'), 30_000, 20);
  assert.deepEqual(sink.health(), { ready: false, reason: `${imp.http} is not a Kafka broker: it answered a Kafka handshake (ApiVersions) with "HTTP/1.1 400 Bad Request"` });
  const err = await sent;
  assert.ok(err, 'the send failed');
  assert.match(err.message, /^kafka: NOT_KAFKA: 127\.0\.0\.1:\d+ is not a Kafka broker: it answered a Kafka handshake \(ApiVersions\) with "HTTP\/1\.1 400 Bad Request"$/);

  const doctor = await runCli(['doctor', '--brokers', imp.ssh]);
  assert.equal(doctor.code, 1, doctor.out);
  assert.ok(doctor.out.includes(`${imp.ssh} is not a Kafka broker: it answered a Kafka handshake (ApiVersions) with "SSH-2.0-OpenSSH_9.6 edgelog-test"`), doctor.out);
  assert.ok(doctor.out.includes(`fix: point brokers at a Kafka listener (the host:port a broker advertises); ${imp.ssh} is some other service`), doctor.out);
  assert.doesNotMatch(doctor.out, /PROBE_TIMEOUT/);
});

test('a request the broker refuses as too large is said as such; the sink stays ready and the parts go through', async (t) => {
  const kafka = await sharedKafka('A');
  const topic = uniqueTopic('too-large-text');
  await kafka.createTopic(topic);
  const cfg = kafkaSink.validate({ brokers: [kafka.bootstrap], topic, compression: 'none', max_message_bytes: '1000000' }, 'sinks.kafka');
  const sink = new KafkaSink(cfg, { id: 'kafka', log: silentLogger, metrics: new Registry(), agentId: 'test' });
  defer(t, 'close the sink', () => sink.close());
  // Three messages of 600 KB: each within max_message_bytes, together over the broker's message.max.bytes (1 MiB per batch).
  const msgs = [0, 1, 2].map(() => ({ key: null, value: randomBytes(600_000), headers: {}, records: [] }));
  await assert.rejects(sink.send(msgs), (e: unknown) => {
    assert.ok(e instanceof RecordTooLargeError, String(e));
    assert.match(e.message, /^broker refused a request of 3 messages \(1800000 bytes together, largest 600000 bytes\) as too large: its limit \(message\.max\.bytes, or the topic's max\.message\.bytes\) applies to the whole batch; sending them again in smaller parts$/);
    assert.doesNotMatch(e.message, /exceeds limit/);
    return true;
  });
  assert.equal(sink.health().ready, true, JSON.stringify(sink.health()));
  for (const m of msgs) await sink.send([m]);
  assert.equal((await kafka.consumeAll(topic, { idleMs: 1000 })).length, 3);
  // Our own guard names the setting.
  await assert.rejects(sink.send([{ key: null, value: Buffer.alloc(1_000_001), headers: {}, records: [] }]), /^RecordTooLargeError: message of 1000001 bytes exceeds max_message_bytes 1000000$|message of 1000001 bytes exceeds max_message_bytes 1000000/);
});

test('shutdown with records not acknowledged does not say "discarded"; the next start delivers them', async (t) => {
  const kafka = await sharedKafka('A');
  const topic = uniqueTopic('unacked-shutdown');
  await kafka.createTopic(topic);
  const dir = tempDir(t);
  const log = join(dir, 'app.log');
  writeFileSync(log, 'one\ntwo\nthree\n');
  // A port nobody listens on: every send fails and is retried until the shutdown deadline.
  const dead = createTcpServer();
  const deadAddr = await listen(dead);
  await new Promise((r) => dead.close(r));
  const down = writeAgentConfig({ dir, include: [log], bootstrap: deadAddr, topic, logLevel: 'info' });
  writeFileSync(down, (await import('node:fs')).readFileSync(down, 'utf8').replace('shutdown_timeout: 20s', 'shutdown_timeout: 2s'));
  let agent: AgentProcess | null = await startAgent(down);
  defer(t, 'kill the agent', () => agent?.kill());
  await waitFor('a failed send', () => agent!.stderr().includes('send failed; will retry'), 60_000, 50);
  assert.equal(await agent.stop(), 0);
  const said = agent.stderr();
  assert.doesNotMatch(said, /records discarded/);
  assert.match(said, /shutdown deadline passed with records not yet acknowledged by the destination; they stay unacknowledged, so file sources read them again on the next start","pipeline":"\S+","records":3/);

  const up = writeAgentConfig({ dir, include: [log], bootstrap: kafka.bootstrap, topic });
  agent = await startAgent(up);
  await waitFor('the three lines delivered after the restart', async () => (await readBack(kafka, topic, { idleMs: 500, timeoutMs: 10_000 })).length >= 3, 60_000, 200);
  assert.equal(await agent.stop(), 0);
  agent = null;
  assert.deepEqual((await readBack(kafka, topic, { idleMs: 1000 })).map((r) => r.body.toString()).sort(), ['one', 'three', 'two']);
});
