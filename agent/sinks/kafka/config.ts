// Kafka sink options. Batching, buffering and the retry loop are the
// pipeline's (`batch`, `buffer`, `retry` beside these keys in the sink's
// config); here is only what the producer connection needs. `client_retry`
// is kafkajs's own short retry inside one send (leader moves, reconnects),
// kept small so the pipeline regains control quickly.

import { ConfigError } from '../../core/errors.ts';
import {
  join, readBool, readBytes, readDuration, readEnum, readInt, readMap, readString, readStringList,
} from '../../config/schema.ts';
import { readClientTls, requireTlsFiles } from '../../config/tls.ts';
import { readSasl, type SaslConfig } from '../../config/sasl.ts';
import { type Infer, int, section } from '../../config/declare.ts';
import { codecAvailable, codecInstalled, type Compression, compressions } from './codecs.ts';
// Only the leaf check of engine platformatic: config.ts imports no engine and
// no module that imports config.ts back (the engines load lazily, create.ts).
import { platformaticUnsupported } from './engines/platformatic-support.ts';

export type EngineName = 'kafkajs' | 'platformatic';
export const engineNames: readonly EngineName[] = ['kafkajs', 'platformatic'];

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

export interface KafkaClientRetry {
  retries: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export interface KafkaSinkConfig {
  /** Client library behind the sink (producer.ts). */
  engine: EngineName;
  brokers: string[];
  topic: string;
  clientId: string;
  acks: Acks;
  idempotent: boolean;
  compression: Compression;
  maxMessageBytes: number;
  requestTimeoutMs: number;
  connectTimeoutMs: number;
  clientRetry: KafkaClientRetry;
  tls: KafkaTlsConfig | null;
  sasl: KafkaSaslConfig | null;
  headers: boolean;
  /** Upper bound for probe() (health checks), ms. */
  probeTimeoutMs: number;
  /** Create the topic before the first record (create-topic.ts); null: the topic must exist or the broker auto-creates it. */
  createTopic: CreateTopicConfig | null;
}

/** Defaults of `create_topic` keys: three replicas, two in sync, as the relay regions are designed. */
export const createTopicDefaults: CreateTopicConfig = createTopicSection.defaults;

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

export const kafkaSinkDefaults: KafkaSinkConfig = {
  // Issue 3 item 5: kafkajs was the default, "switch only with numbers". The
  // numbers (npm run bench, 200-byte JSON, otlp_proto + lz4, one broker on the
  // same 2 cores, bench/results/results.md): @platformatic/kafka 538K vs
  // kafkajs 399K events/s (1.35x; 1.63x on 1 KB lines), 8.8 vs 14.4 CPU s/GB,
  // 242 vs 339 MB peak RSS, GC p99 4.7 vs 9.3 ms; client only
  // (bench/engines.ts) 1.21-1.74x;
  // all three failover drills pass with it (test/e2e/drill, --engine).
  // kafkajs stays selectable (engine: kafkajs).
  engine: 'platformatic',
  brokers: [],
  topic: 'edgelog', // one topic for the agent's logs; override per sink
  clientId: 'edgelog', // shows in broker request logs and quotas
  acks: 'all', // at-least-once needs every in-sync replica (Kafka 3.0+ producer default acks=all)
  idempotent: true, // no duplicates from kafkajs's internal retries (Kafka 3.0+ producer default enable.idempotence=true)
  compression: defaultCompression,
  // Broker message.max.bytes defaults to 1048588 (1 MiB + 12); leave ~48 KB for
  // batch overhead, keys and headers.
  maxMessageBytes: 1_000_000,
  requestTimeoutMs: 30_000, // kafkajs requestTimeout and librdkafka request.timeout.ms 30000
  // kafkajs connectionTimeout is 1000 ms, tight for a WAN link from an edge site; 3 s.
  connectTimeoutMs: 3_000,
  // kafkajs defaults to 5 retries (up to 30 s), or unlimited for idempotent
  // producers; the pipeline owns retry and failover, so kafkajs gets 2 quick ones.
  clientRetry: { retries: 2, initialBackoffMs: 100, maxBackoffMs: 1_000 },
  tls: null,
  sasl: null,
  headers: true,
  // Failover counts probes slower than 2 s; 5 s caps a probe of a hung broker.
  probeTimeoutMs: 5_000,
  createTopic: null,
};

const hostPort = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/;

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
  const d = kafkaSinkDefaults;
  const m = readMap(raw, path, [
    'engine', 'brokers', 'topic', 'client_id', 'acks', 'idempotent', 'compression', 'max_message_bytes', 'request_timeout',
    'connect_timeout', 'client_retry', 'tls', 'sasl', 'headers', 'probe_timeout', 'create_topic',
  ]);
  const brokers = readStringList(m, 'brokers', path, []);
  if (brokers.length === 0) throw new ConfigError(join(path, 'brokers'), 'a list of host:port (at least one)');
  brokers.forEach((b, i) => {
    const x = hostPort.exec(b);
    if (!x || Number(x[2]) < 1 || Number(x[2]) > 65535) throw new ConfigError(join(join(path, 'brokers'), i), 'host:port', b);
  });
  const topic = readString(m, 'topic', path, d.topic);
  // Kafka topic names: 1-249 chars of [a-zA-Z0-9._-].
  if (!/^[a-zA-Z0-9._-]{1,249}$/.test(topic)) throw new ConfigError(join(path, 'topic'), 'a Kafka topic name (1-249 of a-z A-Z 0-9 . _ -)', topic);
  const acks = readEnum<Acks>(m, 'acks', path, ['all', 'leader', 'none'], d.acks);
  const idempotent = readBool(m, 'idempotent', path, d.idempotent);
  if (idempotent && acks !== 'all') throw new ConfigError(join(path, 'acks'), 'all when idempotent is true (set idempotent: false to use acks leader or none)', acks);
  const engine = readEnum<EngineName>(m, 'engine', path, engineNames, d.engine);
  const compression = readEnum<Compression>(m, 'compression', path, compressions, d.compression);
  if (engine === 'kafkajs') {
    const avail = codecAvailable(compression);
    if (avail !== true) throw new ConfigError(join(path, 'compression'), `a codec available on this host (${compression}: ${avail})`, compression);
  }
  const r = readMap(m.client_retry, join(path, 'client_retry'), ['retries', 'initial_backoff', 'max_backoff']);
  const rp = join(path, 'client_retry');
  const clientRetry: KafkaClientRetry = {
    retries: readInt(r, 'retries', rp, d.clientRetry.retries, idempotent ? 1 : 0, 100),
    initialBackoffMs: readDuration(r, 'initial_backoff', rp, d.clientRetry.initialBackoffMs),
    maxBackoffMs: readDuration(r, 'max_backoff', rp, d.clientRetry.maxBackoffMs),
  };
  const cfg: KafkaSinkConfig = {
    engine,
    brokers,
    topic,
    clientId: readString(m, 'client_id', path, d.clientId),
    acks,
    idempotent,
    compression,
    // Kafka rejects a record batch above message.max.bytes; 1 KiB is a floor that still holds one line.
    maxMessageBytes: readBytes(m, 'max_message_bytes', path, d.maxMessageBytes, 1024),
    requestTimeoutMs: readDuration(m, 'request_timeout', path, d.requestTimeoutMs),
    connectTimeoutMs: readDuration(m, 'connect_timeout', path, d.connectTimeoutMs),
    clientRetry,
    tls: readTls(m.tls, join(path, 'tls')),
    sasl: readSasl(m.sasl, join(path, 'sasl')),
    headers: readBool(m, 'headers', path, d.headers),
    probeTimeoutMs: readDuration(m, 'probe_timeout', path, d.probeTimeoutMs),
    createTopic: readCreateTopic(m.create_topic, join(path, 'create_topic')),
  };
  if (engine === 'platformatic') {
    // What the engine cannot honour is refused here, never ignored at run time.
    const no = platformaticUnsupported(cfg);
    if (no) {
      const got = { engine, compression, 'client_retry.retries': cfg.clientRetry.retries, 'sasl.mechanism': cfg.sasl?.mechanism }[no.key];
      throw new ConfigError(join(path, no.key), no.expected, got);
    }
  }
  return cfg;
}
