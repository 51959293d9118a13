// A pipeline configured from YAML with two chains, end to end against the
// real broker (issue 3): app logs (JSON) -> json decoder -> filter (warn and
// above) -> topic A; access logs (logfmt) -> logfmt decoder -> redact -> topic B.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedKafka, uniqueTopic } from '../helpers/kafka.ts';
import { startAgent, metricSum } from '../helpers/agent-process.ts';
import { tempDir, readBack, waitFor } from '../helpers/e2e.ts';
import { defer } from '../helpers/cleanup.ts';

// Both ways the stages can run: on a processing thread (the default on two
// or more cores) and on the main thread (worker_threads: 0).
for (const threads of [1, 0]) test(`two chains from YAML: decode, filter, redact, each to its own topic (worker_threads: ${threads})`, async (t) => {
  const kafka = await sharedKafka('A');
  const topicA = uniqueTopic('chain-app');
  const topicB = uniqueTopic('chain-access');
  await kafka.createTopic(topicA);
  await kafka.createTopic(topicB);
  const dir = tempDir(t);
  const levels = ['debug', 'info', 'warn', 'error'];
  const app = Array.from({ length: 400 }, (_, i) => JSON.stringify({ time: new Date(Date.UTC(2026, 10, 21, 10, 0, i % 60)).toISOString(), level: levels[i % 4], msg: `event ${i}`, service: 'billing', trace_id: '0123456789abcdef0123456789abcdef' }));
  writeFileSync(join(dir, 'app.json.log'), app.join('\n') + '\n');
  const access = Array.from({ length: 200 }, (_, i) => `ts=2026-11-21T10:00:00Z level=info user=user${i}@example.com ip=10.0.${i % 250}.7 path=/checkout status=200`);
  writeFileSync(join(dir, 'access.log'), access.join('\n') + '\n');
  const cfgFile = join(dir, 'edgelog.yaml');
  writeFileSync(cfgFile, `
agent: { id: chains, data_dir: ${JSON.stringify(join(dir, 'state'))}, worker_threads: ${threads} }
observe: { log_level: warn }
sources:
  app: { type: file, include: [${JSON.stringify(join(dir, 'app.json.log'))}] }
  access: { type: file, include: [${JSON.stringify(join(dir, 'access.log'))}] }
decoders:
  json: { type: json }
  logfmt: { type: logfmt }
transforms:
  warn_and_above: { type: filter, min_level: warn }
  mask: { type: redact, rules: [email, ipv4] }
sinks:
  app_kafka: { type: kafka, brokers: [${JSON.stringify(kafka.bootstrap)}], topic: ${topicA} }
  access_kafka: { type: kafka, brokers: [${JSON.stringify(kafka.bootstrap)}], topic: ${topicB} }
pipelines:
  app: { sources: [app], decoders: [json], transforms: [warn_and_above], sink: app_kafka }
  access: { sources: [access], decoders: [logfmt], transforms: [mask], sink: access_kafka }
`);
  const agent = await startAgent(cfgFile);
  defer(t, 'kill the agent', () => agent.kill());
  await waitFor('both files checkpointed', async () => {
    const m = await agent.metrics();
    return metricSum(m, 'edgelog_file_checkpoint_lag_bytes') === 0 && metricSum(m, 'edgelog_file_acked_bytes_total') > 0
      && metricSum(m, 'edgelog_component_sent_records_total', 'component="access"') >= 200;
  }, 60_000, 200);
  const m = await agent.metrics();
  assert.equal(metricSum(m, 'edgelog_transform_dropped_records_total', 'warn_and_above'), 200, 'debug and info dropped, counted (on /metrics from either thread)');
  assert.equal(await agent.stop(), 0);

  const a = await readBack(kafka, topicA);
  assert.equal(a.length, 200);
  assert.ok(a.every((r) => r.severityNumber >= 13), 'only WARN (13) and above');
  assert.ok(a.every((r) => r.timeUnixNano > 0n), 'event time parsed from the line');
  assert.deepEqual(a.map((r) => r.severityText.toLowerCase()).slice(0, 2), ['warn', 'error']);
  const b = await readBack(kafka, topicB);
  assert.equal(b.length, 200);
  const text = b.map((r) => r.body.toString() + JSON.stringify(r.attributes)).join('\n');
  assert.doesNotMatch(text, /user\d+@example\.com/, 'emails masked');
  assert.doesNotMatch(text, /10\.0\.\d+\.7/, 'IPv4 masked');
  assert.ok(b.some((r) => r.attributes.path === '/checkout'), 'logfmt fields become attributes');
});
