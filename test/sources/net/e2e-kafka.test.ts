// End to end through the real agent and a real Kafka broker: lines over TCP
// (spooled) and syslog over TCP, with a SIGKILL of the agent in the middle.
// Every TCP line the spool took arrives (deduplicated by stream id + offset),
// in order per connection; syslog arrives parsed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedKafka, uniqueTopic } from '../../helpers/kafka.ts';
import { startAgent, metricSum } from '../../helpers/agent-process.ts';
import { tempDir, readBack, waitFor } from '../../helpers/e2e.ts';

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function send(port: number, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.end(data));
    s.on('error', reject);
    s.on('close', () => resolve());
  });
}

test('tcp (spooled) and syslog sources into Kafka through the agent, with a SIGKILL in between: 0 lost', { timeout: 240_000 }, async (t) => {
  const kafka = await sharedKafka('A');
  const topic = uniqueTopic('net-e2e');
  await kafka.createTopic(topic, 1);
  const dir = tempDir(t, 'edgelog-net-e2e-');
  const [tcpPort, syslogPort] = [await freePort(), await freePort()];
  const cfg = join(dir, 'edgelog.yaml');
  writeFileSync(cfg, `
agent:
  id: net-e2e
  data_dir: ${JSON.stringify(join(dir, 'state'))}
  shutdown_timeout: 20s
observe:
  log_level: warn
sources:
  lines:
    type: tcp
    address: 127.0.0.1:${tcpPort}
    spool:
      max_bytes: 64MiB
  devices:
    type: syslog
    address: 127.0.0.1:${syslogPort}
sinks:
  kafka:
    type: kafka
    brokers: [${JSON.stringify(kafka.bootstrap)}]
    topic: ${topic}
`);
  let agent = await startAgent(cfg);
  t.after(() => agent.kill());
  const n = 20_000;
  const lines = Array.from({ length: n }, (_, i) => `tcp line ${i} ${'x'.repeat(i % 90)}`);
  // one connection streams all lines; the agent is killed mid-stream once a quarter is in the spool
  const sending = send(tcpPort, lines.join('\n') + '\n').catch(() => { /* reset by the kill */ });
  let spooledBeforeKill = 0;
  await waitFor('a quarter spooled', async () => (spooledBeforeKill = metricSum(await agent.metrics(), 'edgelog_spool_records_total', 'op="append"')) >= n / 4, 60_000, 20);
  await agent.kill('SIGKILL');
  await sending;

  agent = await startAgent(cfg);
  const sys = Array.from({ length: 200 }, (_, i) => {
    const m = `<${i % 2 ? 165 : 11}>1 2024-05-01T10:00:${String(i % 60).padStart(2, '0')}.5Z dev${i % 3} app${i % 2} ${i} ID${i} - syslog message ${i}`;
    return `${Buffer.byteLength(m)} ${m}`;
  });
  await send(syslogPort, sys.join(''));
  await waitFor('spool drained and syslog delivered', async () => {
    const m = await agent.metrics();
    return metricSum(m, 'edgelog_spool_size_bytes') < 1024 * 1024 && metricSum(m, 'edgelog_source_net_records_total', 'component="devices"') >= 200;
  }, 120_000, 250);
  assert.equal(await agent.stop(), 0);

  const records = await readBack(kafka, topic);
  const tcp = records.filter((r) => String(r.attributes['edgelog.stream_id'] ?? '').startsWith('lines@'));
  const seen = new Set<string>();
  const firsts: string[] = [];
  let dups = 0;
  for (const r of tcp) {
    const key = `${r.attributes['edgelog.stream_id']}#${r.attributes['edgelog.offset']}`;
    if (seen.has(key)) { dups++; continue; }
    seen.add(key);
    firsts.push(r.body.toString());
  }
  // TCP has no application ack: lines still in kernel buffers at the kill are gone (the sender's problem),
  // but every line the spool took is delivered, and what arrives is an unbroken prefix in order.
  assert.ok(firsts.length >= spooledBeforeKill, `every spooled line delivered (${firsts.length} >= ${spooledBeforeKill})`);
  assert.deepEqual(firsts, lines.slice(0, firsts.length), 'an unbroken prefix, in order');
  const syslog = records.filter((r) => String(r.attributes['edgelog.stream_id'] ?? '').startsWith('devices@'));
  assert.equal(syslog.length, 200);
  assert.equal(syslog[1]!.body.toString(), 'syslog message 1');
  assert.equal(syslog[1]!.severityText, 'notice');
  assert.equal(syslog[1]!.attributes.hostname, 'dev1');
  assert.equal(syslog[1]!.attributes.appname, 'app1');
  assert.equal(syslog[1]!.attributes.msg_id, 'ID1');
  assert.equal(syslog[0]!.severityText, 'err');
  t.diagnostic(`tcp: ${spooledBeforeKill} lines spooled when SIGKILLed, ${firsts.length} delivered (prefix, in order), ${dups} duplicates; 200 syslog parsed`);
});
