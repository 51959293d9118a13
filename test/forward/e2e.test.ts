// Agent -> relay -> real Kafka, both as real agents (`edgelog run`, child processes):
//   edge:  file source -> otlp_proto -> forward sink
//   relay: forward source -> otlp_proto -> kafka sink
// Every line arrives byte-exact (node and io_uring send paths), with its
// dedupe key (edgelog.stream_id + edgelog.offset) and the edge's resource;
// SIGKILL of the relay mid-stream loses nothing (the edge retransmits).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { sharedKafka, uniqueTopic, type TestKafka } from '../helpers/kafka.ts';
import { metricSum, startAgent, type AgentProcess } from '../helpers/agent-process.ts';
import { readBack, tempDir, waitFor, sleep } from '../helpers/e2e.ts';
import { checkAgainstFiles, splitLines, type ReadbackRecord } from '../../agent/verify/otlp-readback.ts';
import { capabilities } from '../../agent/native/capabilities.ts';

// EDGELOG_LOGHUB: the samples from a git worktree, where ../../../shared is not the shared data folder
const loghub = process.env.EDGELOG_LOGHUB ?? resolve(import.meta.dirname, '../../../shared/data/loghub');
const samples = ['Apache_2k.log', 'OpenSSH_2k.log', 'Linux_2k.log'];

const uringSkip = (() => {
  try {
    const c = capabilities();
    return c.io_uring.available ? undefined : `io_uring unavailable: ${c.io_uring.reason}`;
  } catch (err) {
    return `native library not loadable: ${(err as Error).message}`;
  }
})();

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

// Both ends authenticate as production relays do (PROTOCOL.md 6.1): the edge proves its secret.
function writeSecrets(dir: string): void {
  writeFileSync(join(dir, 'agents.secrets'), '# agent_id secret\nedge-e2e e2e-secret-of-the-edge-agent\n');
  writeFileSync(join(dir, 'edge.secret'), 'e2e-secret-of-the-edge-agent\n');
}

function relayConfig(dir: string, port: number, kafka: TestKafka, topic: string, linger = ''): string {
  const file = join(dir, 'relay.yaml');
  writeSecrets(dir);
  writeFileSync(file, `
agent:
  id: relay-e2e
  role: relay
  data_dir: ${JSON.stringify(join(dir, 'relay-state'))}
  shutdown_timeout: 20s
observe:
  log_level: warn
sources:
  agents:
    type: forward
    address: 127.0.0.1:${port}
    auth:
      secrets_file: ${JSON.stringify(join(dir, 'agents.secrets'))}
sinks:
  kafka:
    type: kafka
    brokers: [${JSON.stringify(kafka.bootstrap)}]
    topic: ${topic}
    encoding:
      codec: otlp_proto
${linger ? `    batch:\n      timeout: ${linger}\n` : ''}`);
  return file;
}

function edgeConfig(dir: string, include: string[], port: number, transport: string): string {
  const file = join(dir, 'edge.yaml');
  writeFileSync(file, `
agent:
  id: edge-e2e
  data_dir: ${JSON.stringify(join(dir, 'edge-state'))}
  shutdown_timeout: 20s
observe:
  log_level: warn
sources:
  files:
    type: file
    include: ${JSON.stringify(include)}
    glob_interval: 100ms
    idle_flush: 500ms
sinks:
  relay:
    type: forward
    endpoints: ["127.0.0.1:${port}"]
    transport: ${transport}
    auth:
      secret_file: ${JSON.stringify(join(dir, 'edge.secret'))}
    ack_timeout: 10s
    encoding:
      codec: otlp_proto
    retry:
      initial_backoff: 100ms
      max_backoff: 500ms
`);
  return file;
}

function checkResource(records: ReadbackRecord[]): void {
  // The relay carries the edge's resource as edgelog.resource.* attributes; an encoder
  // that lifts them back into the Resource shows them there instead.
  const r = records[0]!;
  const agentId = r.resource['edgelog.agent.id'] === 'edge-e2e' ? 'resource' : r.attributes['edgelog.resource.edgelog.agent.id'] === 'edge-e2e' ? 'attribute' : 'lost';
  assert.notEqual(agentId, 'lost', `edge resource preserved: ${JSON.stringify({ res: r.resource, attrs: r.attributes })}`);
}

async function run(t: import('node:test').TestContext, transport: 'node' | 'io_uring'): Promise<void> {
  const kafka = await sharedKafka('A');
  const topic = uniqueTopic(`fwd-${transport}`);
  await kafka.createTopic(topic, 1);
  const dir = tempDir(t, 'edgelog-fwd-e2e-');
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const files = new Map<string, Buffer>();
  for (const f of samples) { const b = readFileSync(join(loghub, f)); writeFileSync(join(logs, f), b); files.set(join(logs, f), b); }
  const expected = [...files.values()].reduce((a, b) => a + splitLines(b).length, 0);
  const port = await freePort();
  const relay = await startAgent(relayConfig(dir, port, kafka, topic));
  t.after(() => relay.kill());
  const edge = await startAgent(edgeConfig(dir, [join(logs, '*.log')], port, transport));
  t.after(() => edge.kill());
  await waitFor('every line acknowledged by the relay', async () => metricSum(await edge.metrics(), 'edgelog_component_sent_records_total') >= expected, 90_000, 250)
    .catch((e) => { throw new Error(`${e.message}\nedge: ${edge.stderr().slice(-3000)}\nrelay: ${relay.stderr().slice(-3000)}`); });
  const em = await edge.metrics();
  assert.equal(await edge.stop(), 0);
  assert.equal(await relay.stop(), 0);
  const records = await readBack(kafka, topic);
  for (const c of checkAgainstFiles(records, files)) {
    assert.equal(c.missing, 0, `${c.stream}: ${c.missing} missing`);
    assert.equal(c.mismatched, 0, `${c.stream}: ${c.mismatched} bodies differ`);
    assert.equal(c.outOfOrder, 0, `${c.stream}: ${c.outOfOrder} out of order`);
  }
  checkResource(records);
  assert.ok(metricSum(em, 'edgelog_forward_frames_total', 'type="batch"') > 0);
  t.diagnostic(`${records.length} records for ${expected} lines over ${transport}`);
}

const skipNoData = existsSync(loghub) ? undefined : `no samples at ${loghub}`;

test('edge -> relay -> Kafka byte-exact over Node net', { skip: skipNoData }, (t) => run(t, 'node'));

test('edge -> relay -> Kafka byte-exact over io_uring', { skip: skipNoData ?? uringSkip }, (t) => run(t, 'io_uring'));

async function restartMidStream(t: import('node:test').TestContext, how: 'SIGKILL' | 'SIGTERM'): Promise<void> {
  const kafka = await sharedKafka('A');
  const topic = uniqueTopic(`fwd-${how}`);
  await kafka.createTopic(topic, 1);
  const dir = tempDir(t, 'edgelog-fwd-kill-');
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const path = join(logs, 'live.log');
  const source = readFileSync(join(loghub, 'HDFS_2k.log'));
  const lines = splitLines(source).map(([, b]) => b);
  const total = lines.length * 2;
  writeFileSync(path, '');
  const port = await freePort();
  // The relay lingers 1 s before writing to Kafka, so its ACKs lag and the edge
  // has batches in flight when the relay is killed.
  const relayFile = relayConfig(dir, port, kafka, topic, '1000ms');
  let relay: AgentProcess = await startAgent(relayFile);
  t.after(() => relay.kill());
  const edge = await startAgent(edgeConfig(dir, [path], port, 'node'));
  t.after(() => edge.kill());

  // a writer appends lines in bursts for the whole test
  let written = 0;
  const writeSome = (n: number) => {
    const chunk: Buffer[] = [];
    for (let i = 0; i < n && written < total; i++, written++) chunk.push(lines[written % lines.length]!, Buffer.from('\n'));
    if (chunk.length) appendFileSync(path, Buffer.concat(chunk));
  };
  for (let i = 0; i < 10; i++) { writeSome(100); await sleep(50); }
  await waitFor('some records through the relay', async () => metricSum(await edge.metrics(), 'edgelog_component_sent_records_total') >= 300, 60_000, 100);
  writeSome(500);
  const inFlight = async () => {
    const m = await edge.metrics();
    return metricSum(m, 'edgelog_forward_frames_total', 'direction="out",type="batch"') - metricSum(m, 'edgelog_forward_frames_total', 'direction="in",type="ack"');
  };
  await waitFor('batches in flight to the relay', async () => (await inFlight()) > 0, 30_000, 20);
  if (how === 'SIGKILL') await relay.kill(); // a crash: ACKs in flight are lost with it
  else assert.equal(await relay.stop(), 0); // orderly: GOAWAY, finish and ACK what it took, exit
  for (let i = 0; i < 10; i++) { writeSome(100); await sleep(100); }
  relay = await startAgent(relayFile);
  while (written < total) { writeSome(200); await sleep(20); }
  await waitFor('every line acknowledged', async () => metricSum(await edge.metrics(), 'edgelog_component_sent_records_total') >= written, 90_000, 250)
    .catch((e) => { throw new Error(`${e.message}\nedge: ${edge.stderr().slice(-3000)}`); });
  const em = await edge.metrics();
  assert.equal(await edge.stop(), 0);
  assert.equal(await relay.stop(), 0);
  const records = await readBack(kafka, topic);
  const [check] = checkAgainstFiles(records, new Map([[path, readFileSync(path)]]));
  t.diagnostic(`written ${written}, consumed ${records.length}, unique ${check!.unique}, duplicates ${check!.duplicates}, retransmits ${metricSum(em, 'edgelog_forward_retransmits_total')}`);
  assert.equal(check!.missing, 0, `${check!.missing} lines missing`);
  assert.equal(check!.mismatched, 0);
  assert.equal(check!.expected, written);
  if (how === 'SIGKILL') assert.ok(metricSum(em, 'edgelog_forward_retransmits_total') > 0, 'unacknowledged batches were sent again');
  else assert.equal(check!.duplicates, 0, 'an orderly relay restart duplicates nothing');
}

test('SIGKILL of the relay mid-stream loses nothing: the edge retransmits to the restarted relay', { skip: skipNoData }, (t) => restartMidStream(t, 'SIGKILL'));

test('SIGTERM of the relay mid-stream (rolling restart) loses and duplicates nothing', { skip: skipNoData }, (t) => restartMidStream(t, 'SIGTERM'));
