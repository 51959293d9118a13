// kafkajs 2.x engine (the default). One producer per session, created with
// the Java-compatible partitioner; compression codecs other than gzip come
// from codecs.ts (kafkajs ships only gzip). Probes use a second client with
// no retries, so "is the cluster healthy now" gets one honest answer.

import kafkajs from 'kafkajs';
import type { Admin, Kafka as KafkaClient, LogEntry, Message, Producer, SASLOptions } from 'kafkajs';
import { compressionType, registerCodecs } from '../codecs.ts';
import type { KafkaSinkConfig } from '../config.ts';
import { mapKafkaError, type MappedError } from '../errors.ts';
import { acksValue, type EngineHooks, type ProduceOptions, type ProducerEngine, type ProducerMessage, type TopicLeaders } from '../producer.ts';
import { filterKafkajsTimerWarning } from '../warnings.ts';
import { saslCredentials, saslTokenProvider, tlsOptions } from './security.ts';
import { oauthBearerSasl } from './kafkajs-oauthbearer.ts';

const { Kafka, Partitioners, logLevel } = kafkajs;

export class KafkajsEngine implements ProducerEngine {
  readonly name = 'kafkajs' as const;
  private readonly cfg: KafkaSinkConfig;
  private readonly hooks: EngineHooks;
  private readonly kafka: KafkaClient;
  private readonly probeKafka: KafkaClient;
  private producer: Producer;
  private admin: Admin | null = null;

  constructor(cfg: KafkaSinkConfig, hooks: EngineHooks) {
    registerCodecs();
    filterKafkajsTimerWarning();
    this.cfg = cfg;
    this.hooks = hooks;
    const token = saslTokenProvider(cfg);
    const sasl = token ? oauthBearerSasl(token) : saslCredentials(cfg);
    const base = {
      brokers: cfg.brokers,
      clientId: cfg.clientId,
      ssl: tlsOptions(cfg),
      sasl: sasl as SASLOptions | undefined,
      connectionTimeout: cfg.connectTimeoutMs,
      authenticationTimeout: Math.max(cfg.connectTimeoutMs, 10_000),
      requestTimeout: cfg.requestTimeoutMs,
      logLevel: logLevel.INFO,
      logCreator: () => (e: LogEntry) => this.log(e),
    };
    this.kafka = new Kafka({
      ...base,
      retry: { retries: cfg.clientRetry.retries, initialRetryTime: cfg.clientRetry.initialBackoffMs, maxRetryTime: cfg.clientRetry.maxBackoffMs },
    });
    // Probes answer "is the cluster healthy now": one try, no retry.
    this.probeKafka = new Kafka({ ...base, clientId: `${cfg.clientId}-probe`, retry: { retries: 0 } });
    this.producer = this.newProducer();
  }

  private log(e: LogEntry): void {
    // kafkajs logs every internal retry at error level; the sink's events and
    // the pipeline report what matters, so its lines go to debug.
    const { message, ...rest } = e.log;
    if (rest.password !== undefined) delete rest.password;
    this.hooks.debug(`kafkajs: ${message}`, { namespace: e.namespace, ...rest });
  }

  private newProducer(): Producer {
    const p = this.kafka.producer({
      idempotent: this.cfg.idempotent,
      // Order per partition across kafkajs's internal retries (and required for its idempotent mode).
      maxInFlightRequests: this.cfg.idempotent ? 1 : undefined,
      retry: { retries: this.cfg.clientRetry.retries, initialRetryTime: this.cfg.clientRetry.initialBackoffMs, maxRetryTime: this.cfg.clientRetry.maxBackoffMs },
      createPartitioner: Partitioners.DefaultPartitioner, // Java-compatible murmur2 of the key; round-robin without key
      allowAutoTopicCreation: true,
    });
    p.on(p.events.DISCONNECT, () => { if (p === this.producer) this.hooks.onDisconnect(); });
    return p;
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  async send(topic: string, messages: ProducerMessage[], opts: ProduceOptions): Promise<void> {
    // ProducerMessage is structurally a kafkajs Message (key, value, headers).
    await this.producer.send({
      topic,
      messages: messages as Message[],
      acks: acksValue[opts.acks],
      timeout: opts.timeoutMs,
      compression: compressionType(opts.compression),
    });
  }

  async topicMetadata(topic: string): Promise<TopicLeaders> {
    if (!this.admin) {
      const a = this.probeKafka.admin({ retry: { retries: 0 } });
      this.admin = a;
      await a.connect();
    }
    const md = await this.admin.fetchTopicMetadata({ topics: [topic] });
    const parts = md.topics[0]?.partitions ?? [];
    let leaderless = 0;
    for (const p of parts) if (p.leader < 0) leaderless++;
    return { partitions: parts.length, leaderless };
  }

  resetMetadata(): void {
    const a = this.admin;
    this.admin = null;
    void a?.disconnect().catch(() => {});
  }

  async resetSession(): Promise<void> {
    const old = this.producer;
    this.producer = this.newProducer();
    await old.disconnect().catch(() => {});
  }

  mapError(err: unknown, largestBytes: number, limitBytes: number): MappedError {
    return mapKafkaError(err, largestBytes, limitBytes);
  }

  async close(): Promise<void> {
    const a = this.admin;
    this.admin = null;
    await Promise.allSettled([this.producer.disconnect(), a?.disconnect()]);
  }
}
