// Kafka sink against a real broker: every compression codec (read back by
// kafkajs through our codecs and recompressed by the Java broker to prove it
// could read them), headers, message keys, too-large messages (our guard and
// the broker's own refusal), a stopped broker, probe and health; each test
// once per producer engine (kafkajs, @platformatic/kafka).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { Registry } from '../../../agent/observe/prometheus.ts';
import { AckGroup } from '../../../agent/core/ack.ts';
import type { EncodedMessage } from '../../../agent/core/component.ts';
import { RecordTooLargeError } from '../../../agent/core/errors.ts';
import { newRecord } from '../../../agent/core/record.ts';
import { OtlpProtoEncoder } from '../../../agent/encoders/otlp/otlp-proto.ts';
import { createTopicWithLeaders, startKafkaCluster, consumeAll } from '../../../agent/embedded-kafka/cluster.ts';
import { silentLogger } from '../../../agent/observe/log.ts';
import { codecAvailable, type Compression } from '../../../agent/sinks/kafka/codecs.ts';
import { KafkaSendError } from '../../../agent/sinks/kafka/errors.ts';
import { KafkaSink, kafkaSink } from '../../../agent/sinks/kafka/sink.ts';
import { loadPlatformatic } from '../../../agent/sinks/kafka/engines/platformatic.ts';
import { engineNames, type EngineName } from '../../../agent/sinks/kafka/producer.ts';
import { sharedKafka, uniqueTopic } from '../../helpers/kafka.ts';

const ack = new AckGroup(0, () => {});
const encoderCtx = { host: 'edge-01', service: 'edgelog', site: 'test', agentId: 'agent-sink-test' };

function sinkFor(engine: EngineName, bootstrap: string, topic: string, extra: Record<string, unknown> = {}, registry = new Registry()): KafkaSink {
  const cfg = kafkaSink.validate({ engine, brokers: [bootstrap], topic, ...extra }, 'sinks.test');
  return new KafkaSink(cfg, { id: 'test', log: silentLogger, metrics: registry, agentId: 'agent-sink-test' });
}

/** Messages as the pipeline would hand them: a few OTLP batches keyed by stream plus raw lines. */
function messages(n: number, stream = '/var/log/app.log'): EncodedMessage[] {
  const enc = new OtlpProtoEncoder({ key: 'stream', resourceAttributes: {}, scopeName: 'edgelog' }, encoderCtx);
  const out: EncodedMessage[] = [];
  for (let i = 0; i < n; i++) {
    const recs = Array.from({ length: 50 }, (_, j) => newRecord(Buffer.from(`2026-11-21 INFO request ${i}-${j} served in ${j} ms path=/api/v1/items`), 'app', stream, '1:2:ff', (i * 50 + j) * 60, ack));
    out.push(...enc.encode(recs));
  }
  return out;
}

async function createTopicWith(bootstrap: string, topic: string, configEntries: Array<{ name: string; value: string }> = []): Promise<void> {
  const admin = new kafkajs.Kafka({ brokers: [bootstrap], logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await createTopicWithLeaders(admin, { topic, numPartitions: 2, replicationFactor: 1, configEntries });
  } finally {
    await admin.disconnect();
  }
}

const msgs = (v: string): EncodedMessage[] => [{ key: null, value: Buffer.from(v), headers: {}, records: [] }];

const pltMissing = loadPlatformatic();
// Every test runs once per producer engine (platformatic skipped when the package does not load here).
for (const engine of engineNames) {
  const skip = engine === 'platformatic' && typeof pltMissing === 'string' ? pltMissing : false;

  const codecs: Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
  for (const compression of codecs) {
    test(`[${engine}] compression ${compression}: acknowledged, read back byte-exact with headers; the broker can decompress it`, { skip }, async (t) => {
      const avail = engine === 'kafkajs' ? codecAvailable(compression) : true; // platformatic's codecs are its own (validate checks them)
      if (avail !== true) { t.skip(`${compression} unavailable: ${avail}`); return; }
      const k = await sharedKafka('A');
      const plain = uniqueTopic(`sink-${compression}`);
      // compression.type=gzip on the topic makes the broker decompress our batch and recompress it:
      // a codec the Java side could not read would fail the produce (CORRUPT_MESSAGE) or the read.
      const recompressed = uniqueTopic(`sink-${compression}-gz`);
      await createTopicWith(k.bootstrap, plain);
      await createTopicWith(k.bootstrap, recompressed, [{ name: 'compression.type', value: 'gzip' }]);
      const msgs = messages(6);
      for (const topic of [plain, recompressed]) {
        const sink = sinkFor(engine, k.bootstrap, topic, { compression });
        t.after(() => sink.close());
        await sink.send(msgs.slice(0, 3));
        await sink.send(msgs.slice(3));
        assert.equal(sink.health().ready, true);
        const got = await consumeAll(k.bootstrap, topic);
        assert.equal(got.length, msgs.length);
        // one key (one stream) -> one partition, in send order
        assert.equal(new Set(got.map((m) => m.partition)).size, 1);
        assert.deepEqual(got.map((m) => m.value), msgs.map((m) => m.value));
        assert.ok(got.every((m) => m.key!.toString() === '/var/log/app.log'));
        assert.deepEqual(got.map((m) => m.headers['edgelog.batch_seq']!.toString()), ['1', '1', '1', '2', '2', '2']);
        assert.ok(got.every((m) => m.headers['edgelog.encoding']!.toString() === 'otlp_proto'));
        assert.ok(got.every((m) => m.headers['edgelog.agent_id']!.toString() === 'agent-sink-test'));
      }
    });
  }

  test(`[${engine}] headers off; key none spreads over partitions`, { skip }, async (t) => {
    const k = await sharedKafka('A');
    const topic = uniqueTopic('sink-noheaders');
    await createTopicWith(k.bootstrap, topic);
    const sink = sinkFor(engine, k.bootstrap, topic, { headers: false });
    t.after(() => sink.close());
    const msgs: EncodedMessage[] = Array.from({ length: 40 }, (_, i) => ({ key: null, value: Buffer.from(`line ${i}`), headers: { 'edgelog.encoding': 'raw' }, records: [] }));
    await sink.send(msgs);
    const got = await consumeAll(k.bootstrap, topic);
    assert.equal(got.length, 40);
    assert.ok(got.every((m) => Object.keys(m.headers).length === 0 && m.key === null));
    assert.deepEqual(got.map((m) => m.value!.toString()).sort(), msgs.map((m) => m.value.toString()).sort());
  });

  test(`[${engine}] too large: our guard and the broker both give a non-retriable RecordTooLargeError; the sink keeps working`, { skip }, async (t) => {
    const k = await sharedKafka('A');
    const topic = uniqueTopic('sink-toolarge');
    await k.createTopic(topic);
    const registry = new Registry();

    // our guard: a message over max_message_bytes never reaches the broker
    const small = sinkFor(engine, k.bootstrap, topic, { max_message_bytes: 4096 }, registry);
    t.after(() => small.close());
    await assert.rejects(small.send([{ key: null, value: Buffer.alloc(5000, 0x61), headers: {}, records: [] }]), (e: unknown) => {
      assert.ok(e instanceof RecordTooLargeError);
      assert.equal(e.retriable, false);
      assert.equal(e.bytes, 5000);
      return true;
    });

    // the broker's limit (message.max.bytes 1048588) below ours: 2 MB of random bytes, uncompressed
    const big = sinkFor(engine, k.bootstrap, topic, { max_message_bytes: '8MB', compression: 'none' });
    t.after(() => big.close());
    await assert.rejects(big.send([{ key: null, value: randomBytes(2_000_000), headers: {}, records: [] }]), (e: unknown) => {
      assert.ok(e instanceof RecordTooLargeError, `RecordTooLargeError, got ${String(e)}`);
      assert.equal(e.retriable, false);
      return true;
    });
    await big.send([{ key: null, value: Buffer.from('still fine'), headers: {}, records: [] }]);
    const got = await consumeAll(k.bootstrap, topic);
    assert.deepEqual(got.map((m) => m.value!.toString()), ['still fine']);
    const metrics = await registry.getSingleMetricAsString('edgelog_kafka_errors_total');
    assert.match(metrics, /reason="EDGELOG_RECORD_TOO_LARGE",retriable="false"\} 1/);
  });

  test(`[${engine}] probe reports latency on a healthy cluster`, { skip }, async (t) => {
    const k = await sharedKafka('B');
    const topic = uniqueTopic('sink-probe');
    await k.createTopic(topic);
    const sink = sinkFor(engine, k.bootstrap, topic);
    t.after(() => sink.close());
    const ms = await sink.probe();
    assert.ok(ms >= 0 && Number.isFinite(ms));
    assert.deepEqual(sink.health(), { ready: true, reason: 'idle: connects on first send' }); // lazy: nothing known bad yet
    await sink.send(messages(1));
    assert.deepEqual(sink.health(), { ready: true, reason: 'connected' });
    await sink.close();
    assert.equal(sink.health().ready, false);
  });

  test(`[${engine}] a stopped broker gives a retriable error, unready health and a failing probe; the same sink recovers`, { skip }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'edgelog-sink-stop-'));
    let cluster = await startKafkaCluster({ name: 'sink-stop', heapMb: 256, dataDir: dir });
    t.after(async () => { await cluster.stop(); rmSync(dir, { recursive: true, force: true }); });
    const port = Number(cluster.bootstrap.split(':')[1]);
    const topic = 'stopped';
    await cluster.createTopic(topic);
    const sink = sinkFor(engine, cluster.bootstrap, topic, { connect_timeout: '1s', request_timeout: '3s', probe_timeout: '2s', client_retry: { retries: engine === 'platformatic' ? 2 : 1, initial_backoff: '100ms', max_backoff: '200ms' } }); // platformatic: >= 2 when idempotent
    t.after(() => sink.close());
    await sink.send(msgs('before'));
    await cluster.stop();
    await assert.rejects(sink.send(msgs('during')), (e: unknown) => {
      assert.ok(e instanceof KafkaSendError, `KafkaSendError, got ${String(e)}`);
      assert.equal(e.retriable, true);
      assert.equal(e.code, 'EDGELOG_SINK_SEND');
      return true;
    });
    assert.equal(sink.health().ready, false);
    await assert.rejects(sink.probe(), (e: unknown) => (e as KafkaSendError).retriable === true);

    // the broker comes back on the same address: the same sink delivers again (what the pipeline's retry relies on)
    cluster = await startKafkaCluster({ name: 'sink-stop', heapMb: 256, dataDir: dir, port });
    let delivered = false;
    for (let i = 0; i < 20 && !delivered; i++) {
      try { await sink.send(msgs('after')); delivered = true; } catch (e) {
        assert.equal((e as KafkaSendError).retriable, true);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    assert.ok(delivered, 'delivered after the broker came back');
    assert.equal(sink.health().ready, true);
    assert.ok((await sink.probe()) >= 0);
    const got = await cluster.consumeAll(topic);
    assert.deepEqual(got.map((m) => m.value!.toString()), ['before', 'after']);
  });
}
