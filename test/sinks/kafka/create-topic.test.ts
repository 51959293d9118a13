// create_topic against a real broker, each engine: the sink makes its topic
// with the configured partitions and min.insync.replicas before the first
// record; a second sink on the existing topic (another partition count) still
// ships, leaves the topic as it is and raises the mismatch metric.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { Registry } from '../../../agent/observe/prometheus.ts';
import type { EncodedMessage } from '../../../agent/core/component.ts';
import { silentLogger } from '../../../agent/observe/log.ts';
import { KafkaSendError } from '../../../agent/sinks/kafka/errors.ts';
import { topicError } from '../../../agent/sinks/kafka/create-topic.ts';
import { KafkaSink, kafkaSink } from '../../../agent/sinks/kafka/sink.ts';
import { loadPlatformatic } from '../../../agent/sinks/kafka/engines/platformatic.ts';
import { engineNames } from '../../../agent/sinks/kafka/producer.ts';
import { sharedKafka, uniqueTopic } from '../../helpers/kafka.ts';

test('create_topic makes the topic before the first record and tolerates an existing one, each engine', async (t) => {
  const kafka = await sharedKafka('A');
  const sinks: KafkaSink[] = [];
  const admin = new kafkajs.Kafka({ brokers: [kafka.bootstrap], logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
  t.after(async () => {
    await Promise.allSettled(sinks.map((s) => s.close()));
    await admin.disconnect();
  });
  for (const engine of engineNames) {
    if (engine === 'platformatic' && typeof loadPlatformatic() === 'string') { t.diagnostic(`platformatic engine skipped: ${loadPlatformatic() as string}`); continue; }
    const topic = uniqueTopic(`create-${engine}`);
    const msg = (s: string): EncodedMessage[] => [{ key: null, value: Buffer.from(s), headers: {}, records: [] }];
    const sink = (createTopic: Record<string, number>): { sink: KafkaSink; metrics: Registry } => {
      const metrics = new Registry();
      const s = new KafkaSink(kafkaSink.validate({
        engine, brokers: [kafka.bootstrap], topic, client_retry: { retries: 2 }, create_topic: createTopic,
      }, 'sinks.k'), { id: 'k', log: silentLogger, metrics, agentId: 'a1' });
      sinks.push(s);
      return { sink: s, metrics };
    };

    const first = sink({ partitions: 3, replication_factor: 1, min_insync_replicas: 1 });
    await first.sink.send(msg('first'));
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    // The shared broker auto-creates topics with 1 partition: 3 means the sink made it.
    assert.equal(md.topics[0]!.partitions.length, 3, engine);
    const cfg = await admin.describeConfigs({ resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configNames: ['min.insync.replicas'] }], includeSynonyms: false });
    const entry = cfg.resources[0]!.configEntries.find((e) => e.configName === 'min.insync.replicas')!;
    assert.equal(entry.configValue, '1');
    assert.equal(entry.isDefault, false, 'min.insync.replicas set on the topic itself');
    assert.equal((await first.metrics.getSingleMetric('edgelog_kafka_topic_partitions_mismatch')!.get()).values[0]?.value, 0);

    // Existing topic, another partition count: no crash, no change, a metric.
    const second = sink({ partitions: 5, replication_factor: 1, min_insync_replicas: 1 });
    await second.sink.send(msg('second'));
    assert.equal((await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.length, 3);
    assert.equal((await second.metrics.getSingleMetric('edgelog_kafka_topic_partitions_mismatch')!.get()).values[0]?.value, 1);

    // A layout the cluster cannot hold (3 replicas on 1 broker): the send fails with a sink error naming it, no crash.
    const impossible = new KafkaSink(kafkaSink.validate({
      engine, brokers: [kafka.bootstrap], topic: uniqueTopic(`create-impossible-${engine}`), client_retry: { retries: 2 },
      create_topic: { partitions: 1, replication_factor: 3, min_insync_replicas: 2 },
    }, 'sinks.k'), { id: 'k', log: silentLogger, metrics: new Registry(), agentId: 'a1' });
    sinks.push(impossible);
    await assert.rejects(impossible.send(msg('never')), (e: unknown) => {
      assert.ok(e instanceof KafkaSendError, `${engine}: ${String(e)}`);
      assert.match(e.message, /replication/i);
      return true;
    });

    const got = await kafka.consumeAll(topic);
    assert.deepEqual(got.map((m) => m.value!.toString()).sort(), ['first', 'second']);
  }
});

test('create_topic errors: a refused creation keeps its own retriable flag; a bare protocol error (leaders not yet known) stays retriable', () => {
  const spec = { partitions: 3, replicationFactor: 1, minInsyncReplicas: 1 } as Parameters<typeof topicError>[1];
  const refused = topicError('t', spec, Object.assign(new Error('Topic creation errors'), { errors: [{ type: 'POLICY_VIOLATION', message: 'no', retriable: false }] }));
  assert.equal(refused.retriable, false);
  assert.equal(refused.reason, 'POLICY_VIOLATION');
  const early = topicError('t', spec, Object.assign(new Error('This server does not host this topic-partition'), { type: 'UNKNOWN_TOPIC_OR_PARTITION', retriable: true }));
  assert.equal(early.retriable, true, 'waited out and tried again, not a closed circuit');
});
