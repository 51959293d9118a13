// `create_topic`: the sink makes its topic before the first record, so a
// cluster with auto-creation off (MSK, GCP Managed Kafka) has somewhere to put
// it. Idempotent: an existing topic is fine. An existing topic with another
// partition count is not changed (that would move keys between partitions):
// it is a warning and the metric edgelog_kafka_topic_partitions_mismatch, not a
// crash. The admin connection uses the sink's TLS and SASL settings; this
// module is the kafkajs admin client's version (engine kafkajs), closed right
// after. Engine platformatic creates the topic with its own client
// (PlatformaticEngine.ensureTopic), so kafkajs never loads there.

import kafkajs, { type SASLOptions } from 'kafkajs';
import type { CreateTopicConfig, KafkaSinkConfig } from './config.ts';
import { KafkaSendError } from './errors.ts';
import type { TopicOutcome } from './producer.ts';
import { oauthBearerSasl } from './engines/kafkajs-oauthbearer.ts';
import { saslCredentials, saslTokenProvider, tlsOptions } from './engines/security.ts';
import { filterKafkajsTimerWarning } from './warnings.ts';

export type { TopicOutcome } from './producer.ts';

/**
 * kafkajs reports a refused creation as "Topic creation errors" with the
 * broker's reasons inside; the sink's error names the broker's reason and the
 * layout asked for (a layout the cluster cannot hold is a config problem, not
 * a transient one).
 */
export function topicError(topic: string, spec: CreateTopicConfig, err: unknown): KafkaSendError {
  const inner = (err as { errors?: { type?: string; message?: string; retriable?: boolean }[] }).errors?.[0];
  // A protocol error thrown as is (not inside "Topic creation errors") says itself
  // whether it is retriable: UNKNOWN_TOPIC_OR_PARTITION right after the creation
  // (leaders not yet known on a loaded broker) is, and must not open the circuit.
  const retriable = inner?.retriable ?? (err as { retriable?: boolean }).retriable ?? false;
  const reason = inner?.type ?? (err as { type?: string }).type ?? 'CREATE_TOPIC_FAILED';
  const why = inner?.message ?? (err as Error).message;
  const layout = `partitions ${spec.partitions}, replication_factor ${spec.replicationFactor}, min_insync_replicas ${spec.minInsyncReplicas}`;
  return new KafkaSendError(reason, `create_topic ${topic} (${layout}): ${why}`, retriable, err);
}

export async function ensureTopic(cfg: KafkaSinkConfig, spec: CreateTopicConfig): Promise<TopicOutcome> {
  filterKafkajsTimerWarning();
  const token = saslTokenProvider(cfg);
  const kafka = new kafkajs.Kafka({
    brokers: cfg.brokers,
    clientId: `${cfg.clientId}-admin`,
    ssl: tlsOptions(cfg),
    sasl: (token ? oauthBearerSasl(token) : saslCredentials(cfg)) as SASLOptions | undefined,
    connectionTimeout: cfg.connectTimeoutMs,
    requestTimeout: cfg.requestTimeoutMs,
    logLevel: kafkajs.logLevel.NOTHING,
    retry: { retries: cfg.clientRetry.retries, initialRetryTime: cfg.clientRetry.initialBackoffMs, maxRetryTime: cfg.clientRetry.maxBackoffMs },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    let created: boolean;
    try {
      created = await admin.createTopics({
        topics: [{
          topic: cfg.topic,
          numPartitions: spec.partitions,
          replicationFactor: spec.replicationFactor,
          configEntries: [{ name: 'min.insync.replicas', value: String(spec.minInsyncReplicas) }],
        }],
        waitForLeaders: true,
        timeout: cfg.requestTimeoutMs,
      });
    } catch (err) {
      throw topicError(cfg.topic, spec, err);
    }
    const md = await admin.fetchTopicMetadata({ topics: [cfg.topic] });
    return { created, partitions: md.topics[0]?.partitions.length ?? 0 };
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
