// Kafka sink options. Batching, buffering and the retry loop are the
// pipeline's (`batch`, `buffer`, `retry` beside these keys in the sink's
// config); here is only what the producer connection needs. `client_retry`
// is kafkajs's own short retry inside one send (leader moves, reconnects),
// kept small so the pipeline regains control quickly.

import { ConfigError } from '../../core/errors.ts';
import { join, readString, readStringList, type Raw } from '../../config/schema.ts';
import { clientTlsSection, readClientTls, requireTlsFiles } from '../../config/tls.ts';
import { readSasl, saslSection, type SaslConfig } from '../../config/sasl.ts';
import { choice, derivedDefault, duration, field, flag, type Infer, int, nested, section, size, text } from '../../config/declare.ts';
import { codecAvailable, codecInstalled, type Compression, compressions } from './codecs.ts';
// Only the leaf check of engine platformatic: config.ts imports no engine and
// no module that imports config.ts back (the engines load lazily, create.ts).
import { platformaticUnsupported } from './engines/platformatic-support.ts';

export type EngineName = 'kafkajs' | 'platformatic' | 'builtin';
export const engineNames: readonly EngineName[] = ['kafkajs', 'platformatic', 'builtin'];

/** create_topic: the layout made before the first record (create-topic.ts), declared once (agent/config/declare.ts). */
export const createTopicSection = section({
  partitions: int('partitions', 6, 'partitions of a new topic', 1, 100_000),
  replicationFactor: int('replication_factor', 3, 'replicas of each partition', 1, 32_767),
  minInsyncReplicas: int('min_insync_replicas', 2, 'topic `min.insync.replicas` (at most replication_factor): with acks all, a write needs this many replicas', 1, 32_767),
}, (c, _m, path) => {
  if (c.minInsyncReplicas > c.replicationFactor) {
    throw new ConfigError(join(path, 'min_insync_replicas'), `at most replication_factor (${c.replicationFactor}): acks all could never succeed`, c.minInsyncReplicas);
  }
});
export type CreateTopicConfig = Infer<typeof createTopicSection>;

export type Acks = 'all' | 'leader' | 'none';
export type { SaslMechanism } from '../../config/sasl.ts';

export interface KafkaTlsConfig {
  enabled: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  insecureSkipVerify: boolean;
  /** SNI / certificate name, when it differs from the broker host. */
  serverName?: string;
}

/** The shared SASL block (agent/config/sasl.ts). */
export type KafkaSaslConfig = SaslConfig;

/**
 * `client_retry`: kafkajs's own short retry inside one send. kafkajs defaults
 * to 5 retries (up to 30 s), or unlimited for idempotent producers; the
 * pipeline owns retry and failover, so the client gets 2 quick ones.
 */
export const clientRetrySection = section({
  retries: int('retries', 2, 'at least 1 while `idempotent`', 0, 100),
  initialBackoffMs: duration('initial_backoff', 100, 'first wait'),
  maxBackoffMs: duration('max_backoff', 1_000, 'longest wait'),
});
export type KafkaClientRetry = Infer<typeof clientRetrySection>;

/**
 * Default compression: lz4 when its codec loads (lz4-napi, prebuilt). On log
 * lines it compresses about as well as snappy at a fraction of gzip's CPU per
 * byte, which is what a small edge CPU can afford at high rates; the Kafka
 * project lists lz4 as its fastest codec. gzip (Node's zlib, always present)
 * is the fallback.
 */
// Checked without loading lz4-napi (engine platformatic has lz4 built in and
// never loads it); engine kafkajs still loads the codec when the config is
// validated, and a binding that does not load there is a ConfigError naming
// `compression`.
export const defaultCompression: Compression = codecInstalled('lz4-napi') ? 'lz4' : 'gzip';

const hostPort = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/;

/** `brokers`: bootstrap host:port, at least one. */
export function brokerList(defText: string, meaning: string) {
  return field<string[]>('brokers', 'list of host:port', [], defText, meaning, (m: Raw, path: string) => {
    const brokers = readStringList(m, 'brokers', path, []);
    if (brokers.length === 0) throw new ConfigError(join(path, 'brokers'), 'a list of host:port (at least one)');
    brokers.forEach((b, i) => {
      const x = hostPort.exec(b);
      if (!x || Number(x[2]) < 1 || Number(x[2]) > 65535) throw new ConfigError(join(join(path, 'brokers'), i), 'host:port', b);
    });
    return brokers;
  });
}

/**
 * The sink's own keys for one cluster, declared once (agent/config/declare.ts):
 * the type, the reader with its cross-key rules, the defaults and the rows of
 * COMPONENTS.md (with `clusters` and `failover`, sinks/failover/kafka-clusters.ts).
 */
export const kafkaSection = section({
  // Issue 3 item 5: kafkajs was the default, "switch only with numbers". The
  // numbers (npm run bench, 200-byte JSON, otlp_proto + lz4, one broker on the
  // same 2 cores, bench/results/results.md): @platformatic/kafka 538K vs
  // kafkajs 399K events/s (1.35x; 1.63x on 1 KB lines), 8.8 vs 14.4 CPU s/GB,
  // 242 vs 339 MB peak RSS, GC p99 4.7 vs 9.3 ms; client only
  // (bench/engines.ts) 1.21-1.74x;
  // all three failover drills pass with it (test/e2e/drill, --engine).
  // kafkajs stays selectable (engine: kafkajs).
  // Issue 15: builtin became the default: it loads no client library (idle RSS
  // 90.8 vs 116.2 MB, bench/results/idle-rss-builtin.md), and client only it
  // sends 950K vs 716K records/s at 3.7 vs 4.9 CPU s/GB (bench/results/engines.md);
  // every engine-matrix test in test/sinks/kafka runs on it. platformatic and
  // kafkajs stay selectable.
  /** Client library behind the sink (producer.ts). */
  engine: choice<EngineName>('engine', engineNames, 'builtin', 'client library behind the sink; `platformatic` refuses at validation what it cannot honour (codec, SASL mechanism, and `client_retry.retries` below 2 with `idempotent: true`, which that library would turn into unlimited retries); `builtin` is the agent\'s own producer (engines/builtin/, no client library loaded)'),
  brokers: brokerList('(required without clusters)', 'bootstrap brokers of the one cluster'),
  // One topic for the agent's logs; override per sink.
  topic: field('topic', 'string', 'edgelog', '`edgelog`', 'Kafka topic (1-249 of `a-z A-Z 0-9 . _ -`)', (m: Raw, path: string) => {
    const topic = readString(m, 'topic', path, 'edgelog');
    if (!/^[a-zA-Z0-9._-]{1,249}$/.test(topic)) throw new ConfigError(join(path, 'topic'), 'a Kafka topic name (1-249 of a-z A-Z 0-9 . _ -)', topic);
    return topic;
  }),
  // Shows in broker request logs and quotas.
  clientId: text('client_id', 'edgelog', 'client id seen by the brokers (logs, quotas)'),
  // At-least-once needs every in-sync replica (Kafka 3.0+ producer default acks=all).
  acks: choice<Acks>('acks', ['all', 'leader', 'none'], 'all', 'replicas that must confirm; `all` is required while `idempotent`'),
  // No duplicates from kafkajs's internal retries (Kafka 3.0+ producer default enable.idempotence=true).
  idempotent: flag('idempotent', true, "no duplicates from the client's own retries"),
  compression: derivedDefault(choice<Compression>('compression', compressions, defaultCompression, 'batch compression; must be available on this host'), '`lz4` (`gzip` where the lz4 codec does not load)'),
  // Broker message.max.bytes defaults to 1048588 (1 MiB + 12); leave ~48 KB for
  // batch overhead, keys and headers. Kafka rejects a record batch above
  // message.max.bytes; 1 KiB is a floor that still holds one line.
  maxMessageBytes: size('max_message_bytes', 1_000_000, 'largest message; bigger batches are split, a bigger single record is dead-lettered', 1024),
  // kafkajs requestTimeout and librdkafka request.timeout.ms 30000.
  requestTimeoutMs: duration('request_timeout', 30_000, 'one produce request'),
  // kafkajs connectionTimeout is 1000 ms, tight for a WAN link from an edge site; 3 s.
  connectTimeoutMs: duration('connect_timeout', 3_000, 'one broker connection'),
  clientRetry: nested('client_retry', clientRetrySection, 'map', clientRetrySection.defaults, '`{}`', "the client's own short retry inside one send (the pipeline's `retry` is the real one)", (raw, path) => clientRetrySection.read(raw, path)),
  tls: nested<KafkaTlsConfig | null>('tls', clientTlsSection, 'map, or `true`', null, '`null`', 'TLS to the brokers (`true`: with the system CAs)', readTls),
  sasl: nested<KafkaSaslConfig | null>('sasl', saslSection, 'map', null, '`null`', 'SASL authentication', readSasl),
  headers: flag('headers', true, 'add `edgelog.encoding`, `edgelog.agent_id`, `edgelog.batch_seq` headers'),
  /** Upper bound for probe() (health checks), ms. Failover counts probes slower than 2 s; 5 s caps a probe of a hung broker. */
  probeTimeoutMs: duration('probe_timeout', 5_000, 'upper bound of one health probe'),
  /** Create the topic before the first record (create-topic.ts); null: the topic must exist or the broker auto-creates it. */
  createTopic: nested<CreateTopicConfig | null>('create_topic', createTopicSection, 'map, or `true`', null, '`null`', 'create `topic` before the first record (clusters with auto-creation off, e.g. MSK, GCP Managed Kafka); idempotent: an existing topic is kept, another partition count there is a warning and `edgelog_kafka_topic_partitions_mismatch` 1, never a change', readCreateTopic),
}, (cfg, m, path) => {
  if (cfg.idempotent && cfg.acks !== 'all') throw new ConfigError(join(path, 'acks'), 'all when idempotent is true (set idempotent: false to use acks leader or none)', cfg.acks);
  if (cfg.engine === 'kafkajs') {
    const avail = codecAvailable(cfg.compression);
    if (avail !== true) throw new ConfigError(join(path, 'compression'), `a codec available on this host (${cfg.compression}: ${avail})`, cfg.compression);
  }
  // An idempotent producer needs the client to retry at least once.
  if (cfg.idempotent && cfg.clientRetry.retries < 1) {
    const rp = join(path, 'client_retry');
    throw new ConfigError(join(rp, 'retries'), 'an integer from 1 to 100', (m.client_retry as Raw).retries);
  }
  if (cfg.engine === 'platformatic') {
    // What the engine cannot honour is refused here, never ignored at run time.
    const no = platformaticUnsupported(cfg);
    if (no) {
      const got = { engine: cfg.engine, compression: cfg.compression, 'client_retry.retries': cfg.clientRetry.retries, 'sasl.mechanism': cfg.sasl?.mechanism }[no.key];
      throw new ConfigError(join(path, no.key), no.expected, got);
    }
  }
});

export type KafkaSinkConfig = Infer<typeof kafkaSection>;

/** Defaults of `create_topic` keys: three replicas, two in sync, as the relay regions are designed. */
export const createTopicDefaults: CreateTopicConfig = createTopicSection.defaults;

export const kafkaSinkDefaults: KafkaSinkConfig = kafkaSection.defaults;

/** The shared client TLS block (agent/config/tls.ts), its files checked now, in the shape the engines take (engines/security.ts). */
export function readTls(raw: unknown, path: string): KafkaTlsConfig | null {
  const t = readClientTls(raw, path);
  if (!t) return null;
  requireTlsFiles(t, path);
  return { enabled: true, caFile: t.ca_file, certFile: t.cert_file, keyFile: t.key_file, insecureSkipVerify: t.insecure_skip_verify, serverName: t.server_name };
}

/** `create_topic`: absent, null or `false` = off; `true` = every default. */
export function readCreateTopic(raw: unknown, path: string): CreateTopicConfig | null {
  if (raw === undefined || raw === null || raw === false) return null;
  return createTopicSection.read(raw === true ? {} : raw, path);
}

export function validateKafkaSink(raw: unknown, path: string): KafkaSinkConfig {
  return kafkaSection.read(raw, path);
}
