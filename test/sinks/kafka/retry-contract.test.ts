// The retry contract (core/errors.ts ERRORS) against the real broker, through
// the Pipeline and the Kafka sink, once per producer engine:
// - a destination that refuses everything (Kafka's internal offsets topic: the
//   broker answers every client produce with INVALID_TOPIC_EXCEPTION, "cannot
//   append to internal topic", which no retry changes) degrades its own
//   pipeline with that reason, and a second pipeline to a good topic delivers
//   every record meanwhile;
// - a record the broker refuses as invalid (no key on a compacted topic:
//   INVALID_RECORD) goes to the dead letter with its reason, and the records
//   around it are delivered and acknowledged.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { AckGroup } from '../../../agent/core/ack.ts';
import type { Encoder } from '../../../agent/core/component.ts';
import { newRecord, type LogRecord } from '../../../agent/core/record.ts';
import { Pipeline } from '../../../agent/pipeline/pipeline.ts';
import { deliveryDefaults } from '../../../agent/pipeline/config.ts';
import { DeadLetterFile } from '../../../agent/pipeline/dead-letter.ts';
import { PipelineEvents } from '../../../agent/pipeline/events.ts';
import { createRegistry } from '../../../agent/observe/metrics.ts';
import { silentLogger } from '../../../agent/observe/log.ts';
import { KafkaSink, kafkaSink } from '../../../agent/sinks/kafka/sink.ts';
import { engineNames } from '../../../agent/sinks/kafka/producer.ts';
import { sharedKafka, uniqueTopic } from '../../helpers/kafka.ts';
import { createTopicWithLeaders } from '../../../agent/embedded-kafka/cluster.ts';

/** One message per record; a record whose body starts with "nokey" gets no key (refused by a compacted topic). */
const perRecord: Encoder = {
  name: 'per-record',
  encode(records) {
    return records.map((r) => ({ key: r.body.subarray(0, 5).toString() === 'nokey' ? null : Buffer.from(r.body), value: r.body, headers: {}, records: [r] }));
  },
};

function records(bodies: string[]): { recs: LogRecord[]; group: AckGroup; done: Promise<AckGroup> } {
  let resolve!: (g: AckGroup) => void;
  const done = new Promise<AckGroup>((r) => { resolve = r; });
  const group = new AckGroup(bodies.length, resolve);
  const recs = bodies.map((b, i) => newRecord(Buffer.from(b), 's', 'f', 'id', i, group));
  group.add(recs.length);
  group.seal();
  return { recs, group, done };
}

function pipelineTo(engine: string, bootstrap: string, topic: string, dir: string, id: string) {
  const registry = createRegistry(false);
  const cfg = kafkaSink.validate({
    engine, brokers: [bootstrap], topic, connect_timeout: '2s', request_timeout: '5s', probe_timeout: '2s',
    client_retry: { retries: 2, initial_backoff: '50ms', max_backoff: '200ms' },
  }, `sinks.${id}`);
  const sink = new KafkaSink(cfg, { id, log: silentLogger, metrics: registry, agentId: 'retry-contract' });
  const pipeline = new Pipeline({
    id, processors: [], encoder: perRecord, sink,
    delivery: { ...deliveryDefaults, batch: { ...deliveryDefaults.batch, timeoutMs: 1 }, retry: { initialBackoffMs: 20, maxBackoffMs: 200 } },
    deadLetter: new DeadLetterFile(join(dir, `${id}.jsonl`)),
    events: new PipelineEvents(id, registry, silentLogger), log: silentLogger,
  });
  return { pipeline, sink, registry, deadLetterPath: join(dir, `${id}.jsonl`) };
}

/** Resolves when `f` holds; fails at the deadline with what was last seen. */
async function until(f: () => Promise<boolean>, what: string, deadlineMs = 60_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await f())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

for (const engine of engineNames) {
  // __consumer_offsets: kafkajs gets the broker's refusal; @platformatic/kafka leaves internal
  // topics out of its metadata and would throw from a callback, so the engine refuses at connect.
  test(`${engine}: a denied destination degrades its pipeline and does not stall another`, async (t) => {
    const kafka = await sharedKafka('A');
    const dir = mkdtempSync(join(tmpdir(), `edgelog-retry-${process.pid}-`));
    const good = uniqueTopic(`retry-good-${engine}`);
    await kafka.createTopic(good);
    const denied = pipelineTo(engine, kafka.bootstrap, '__consumer_offsets', dir, 'denied');
    const healthy = pipelineTo(engine, kafka.bootstrap, good, dir, 'healthy');
    t.after(async () => {
      await Promise.all([denied.pipeline.stop(0), healthy.pipeline.stop(2000)]);
      await Promise.all([denied.sink.close(), healthy.sink.close()]);
      rmSync(dir, { recursive: true, force: true });
    });
    const a = records(['a0', 'a1', 'a2']);
    let deniedAcked = false;
    void a.done.then(() => { deniedAcked = true; });
    await denied.pipeline.push(a.recs);
    // The denied pipeline reports the destination's refusal as not retriable under EDGELOG_SINK_DENIED.
    await until(async () => /edgelog_sink_send_errors_total\{component="denied",code="EDGELOG_SINK_DENIED",retriable="false"\} [1-9]/.test(await denied.registry.metrics()), 'the denied pipeline to report EDGELOG_SINK_DENIED');
    const bodies = Array.from({ length: 20 }, (_, i) => `b${i}`);
    const b = records(bodies);
    await healthy.pipeline.push(b.recs);
    const group = await b.done;
    assert.equal(group.status, 'delivered');
    const got = await kafka.consumeAll(good);
    assert.deepEqual(got.map((m) => m.value?.toString()), bodies);
    // The denied records are neither acknowledged nor dead-lettered: the destination, not the records, is at fault.
    assert.equal(deniedAcked, false);
    assert.throws(() => readFileSync(denied.deadLetterPath));
  });

  test(`${engine}: a record the broker refuses as invalid goes to the dead letter with its reason`, async (t) => {
    const kafka = await sharedKafka('A');
    const dir = mkdtempSync(join(tmpdir(), `edgelog-retry-${process.pid}-`));
    const topic = uniqueTopic(`retry-compacted-${engine}`);
    const admin = new kafkajs.Kafka({ brokers: [kafka.bootstrap], logLevel: kafkajs.logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      await createTopicWithLeaders(admin, { topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] });
    } finally { await admin.disconnect(); }
    const p = pipelineTo(engine, kafka.bootstrap, topic, dir, 'compacted');
    t.after(async () => {
      await p.pipeline.stop(2000);
      await p.sink.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const r = records(['k0', 'k1', 'nokey-2', 'k3', 'k4']);
    await p.pipeline.push(r.recs);
    const group = await r.done;
    assert.equal(group.status, 'rejected', 'one record was dead-lettered; the checkpoint may still move past it');
    const got = await kafka.consumeAll(topic);
    assert.deepEqual(got.map((m) => m.value?.toString()), ['k0', 'k1', 'k3', 'k4']);
    const lines = readFileSync(p.deadLetterPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { reason: string; detail: string; body_b64: string });
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.reason, 'EDGELOG_RECORD_INVALID');
    assert.match(lines[0]!.detail, /INVALID_RECORD/);
    assert.equal(Buffer.from(lines[0]!.body_b64, 'base64').toString(), 'nokey-2');
    assert.match(await p.registry.metrics(), /edgelog_component_discarded_records_total\{component="compacted",reason="invalid"\} 1/);
  });
}
