// @platformatic/kafka engine (opt-in: `engine: platformatic`). Pure
// JavaScript client; its codecs are built in (snappy and lz4 in WebAssembly,
// gzip and zstd from Node's zlib), TLS through tls.connect, SASL PLAIN and
// SCRAM-SHA-256/512. Loaded on first use (synchronous require of the ESM
// package, ~0.4 s), so kafkajs users never pay for it.
//
// Where it differs from kafkajs and what is done about it:
//   - its default partitioner maps a key to murmur2(key) >>> 0, not Java's
//     murmur2(key) & 0x7fffffff (platformatic/kafka issue #121): keyed records
//     would land on other partitions than kafkajs or the Java producer put
//     them. We pass our own partitioner: the library's compatibilityPartitioner
//     for keys (Java's toPositive), round-robin for keyless messages (a
//     partitioner is also called for those, and the library's returns 0);
//   - an idempotent producer with `retries` <= 1 is silently turned into one
//     that retries forever (Number.MAX_SAFE_INTEGER; `retries: true` is
//     forever too): a send to a dead cluster would never return to the
//     pipeline. So idempotent + client_retry.retries 1 is refused at validate
//     time (kafkajs takes it; the default, 2, suits both);
//   - the produce timeout is a client option (`timeout`), not per send: the
//     engine is built with request_timeout, which is what the sink passes;
//   - send() mutates its options object: each send gets a fresh one;
//   - a request timeout is not retried inside the library (its retry loop
//     skips errors marked canRetry: false): the send fails after one
//     request_timeout and the pipeline's retry takes over (kafkajs retries it);
//   - it connects lazily: connect() is a metadata request for the topic (created
//     if missing, as kafkajs does on first send), plus the producer id when idempotent.

import type { ClusterMetadata, MessageToProduce, Admin, Producer, Partitioner } from '@platformatic/kafka';
import type { Compression } from '../codecs.ts';
import type { CreateTopicConfig, KafkaSinkConfig } from '../config.ts';
import { KafkaSendError, mapPlatformaticError, platformaticRootCause, type MappedError } from '../errors.ts';
import { acksValue, type EngineHooks, type ProduceOptions, type ProducerEngine, type ProducerMessage, type TopicLeaders, type TopicOutcome } from '../producer.ts';
import { loadPlatformatic, saslNames } from './platformatic-support.ts';
import { saslCredentials, saslTokenProvider, tlsOptions } from './security.ts';

// Re-exported: tests and the bench reach them through the engine's module.
export { loadPlatformatic, platformaticUnsupported } from './platformatic-support.ts';

type PltModule = typeof import('@platformatic/kafka');

/**
 * Java-compatible placement: keyed -> toPositive(murmur2(key)) (the producer
 * takes it modulo the partition count); keyless -> round-robin from a random
 * start, as kafkajs's DefaultPartitioner spreads them.
 */
export function javaCompatiblePartitioner(l: PltModule): Partitioner<Buffer, Buffer, Buffer, Buffer> {
  let next = Math.floor(Math.random() * 0x10000);
  return (message, key) => {
    if (key && key.length > 0) return l.compatibilityPartitioner(message, key);
    next = (next + 1) & 0x7fffffff;
    return next;
  };
}

export class PlatformaticEngine implements ProducerEngine {
  readonly name = 'platformatic' as const;
  private readonly cfg: KafkaSinkConfig;
  private readonly hooks: EngineHooks;
  private readonly lib: PltModule;
  private readonly base: Record<string, unknown>;
  private readonly partitioner: Partitioner<Buffer, Buffer, Buffer, Buffer>;
  private producer: Producer<Buffer, Buffer, Buffer, Buffer>;
  private admin: Admin | null = null;
  // One Map per distinct headers object (the sink shares one object across a send's messages).
  private hdrSource: Record<string, string> | undefined;
  private hdrMap: Map<Buffer, Buffer> | undefined;

  constructor(cfg: KafkaSinkConfig, hooks: EngineHooks) {
    const l = loadPlatformatic();
    if (typeof l === 'string') throw new Error(l); // validate() already refused this config
    this.lib = l;
    this.cfg = cfg;
    this.hooks = hooks;
    const sasl = saslCredentials(cfg);
    const token = saslTokenProvider(cfg);
    const { initialBackoffMs, maxBackoffMs } = cfg.clientRetry;
    this.base = {
      clientId: cfg.clientId,
      bootstrapBrokers: cfg.brokers,
      connectTimeout: cfg.connectTimeoutMs,
      requestTimeout: cfg.requestTimeoutMs,
      timeout: cfg.requestTimeoutMs,
      tls: tlsOptions(cfg),
      sasl: token
        ? { mechanism: 'OAUTHBEARER', token }
        : sasl ? { mechanism: saslNames[sasl.mechanism], username: sasl.username, password: sasl.password } : undefined,
      // Exponential backoff, as kafkajs's initialRetryTime/maxRetryTime (without its jitter).
      retryDelay: (_c: unknown, _op: string, attempt: number) => Math.min(maxBackoffMs, initialBackoffMs * 2 ** Math.max(0, attempt - 1)),
      autocreateTopics: true, // as kafkajs's allowAutoTopicCreation in the kafkajs engine
    };
    this.partitioner = javaCompatiblePartitioner(l);
    this.producer = this.newProducer();
  }

  private newProducer(): Producer<Buffer, Buffer, Buffer, Buffer> {
    const p = new this.lib.Producer<Buffer, Buffer, Buffer, Buffer>({
      ...(this.base as { clientId: string; bootstrapBrokers: string[] }),
      retries: this.cfg.clientRetry.retries, // >= 2 when idempotent (validate), see the header
      idempotent: this.cfg.idempotent,
      acks: acksValue[this.cfg.acks],
      compression: this.cfg.compression,
      partitioner: this.partitioner,
    });
    p.on('client:broker:disconnect', () => { if (p === this.producer) this.hooks.onDisconnect(); });
    return p;
  }

  async connect(): Promise<void> {
    const p = this.producer;
    const md = await p.metadata({ topics: [this.cfg.topic] });
    // The library leaves internal topics (__consumer_offsets, ...) out of its metadata
    // cache, and its send then throws a TypeError from a callback, which would take the
    // process down (@platformatic/kafka 1.35.0, producer.js #performSend). Refuse here,
    // as the permanent destination error kafkajs gets from the broker.
    if (!md.topics.get(this.cfg.topic)) {
      throw new KafkaSendError('INVALID_TOPIC_EXCEPTION', `topic ${this.cfg.topic} is internal to Kafka (or missing from the metadata answer); records cannot be produced to it`, false);
    }
    if (this.cfg.idempotent && p.producerId === undefined) await p.initIdempotentProducer({});
  }

  private headers(h: Record<string, string> | undefined): Map<Buffer, Buffer> | undefined {
    if (h === undefined) return undefined;
    if (h === this.hdrSource && this.hdrMap) return this.hdrMap;
    const m = new Map<Buffer, Buffer>();
    for (const k in h) m.set(Buffer.from(k), Buffer.from(h[k]!));
    this.hdrSource = h;
    this.hdrMap = m;
    return m;
  }

  async send(topic: string, messages: ProducerMessage[], opts: ProduceOptions): Promise<void> {
    const out: MessageToProduce<Buffer, Buffer, Buffer, Buffer>[] = new Array(messages.length);
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      out[i] = { topic, key: m.key ?? undefined, value: m.value, headers: this.headers(m.headers) };
    }
    // opts.timeoutMs is the client's `timeout` (set from request_timeout at construction).
    await this.producer.send({ messages: out, acks: acksValue[opts.acks], compression: opts.compression as Compression });
  }

  async topicMetadata(topic: string): Promise<TopicLeaders> {
    if (!this.admin) {
      // Probes answer "is the cluster healthy now": one try, no retry.
      this.admin = new this.lib.Admin({ ...(this.base as { clientId: string; bootstrapBrokers: string[] }), clientId: `${this.cfg.clientId}-probe`, retries: 0, autocreateTopics: false });
    }
    const md: ClusterMetadata = await this.admin.metadata({ topics: [topic], forceUpdate: true });
    const t = md.topics.get(topic);
    const parts = t?.partitions ?? [];
    let leaderless = 0;
    for (const p of parts) if (!p || p.leader < 0) leaderless++;
    return { partitions: parts.length, leaderless };
  }

  /**
   * `create_topic` with this library's admin client (kafkajs is not loaded
   * for it): create with the configured layout; TOPIC_ALREADY_EXISTS is
   * fine; a refusal by the broker is a KafkaSendError naming its reason and
   * the layout (not retried: a layout the cluster cannot hold is a config
   * problem); then, as kafkajs's waitForLeaders, metadata until every
   * partition has a leader, within request_timeout.
   */
  async ensureTopic(spec: CreateTopicConfig): Promise<TopicOutcome> {
    const topic = this.cfg.topic;
    const layout = `partitions ${spec.partitions}, replication_factor ${spec.replicationFactor}, min_insync_replicas ${spec.minInsyncReplicas}`;
    const admin = new this.lib.Admin({ ...(this.base as { clientId: string; bootstrapBrokers: string[] }), clientId: `${this.cfg.clientId}-admin`, retries: this.cfg.clientRetry.retries, autocreateTopics: false });
    try {
      let created = true;
      try {
        await admin.createTopics({ topics: [topic], partitions: spec.partitions, replicas: spec.replicationFactor, configs: [{ name: 'min.insync.replicas', value: String(spec.minInsyncReplicas) }] });
      } catch (err) {
        const f = platformaticRootCause(err);
        if (f.reason === 'TOPIC_ALREADY_EXISTS') created = false;
        // A broker's answer (an error code) is about the request; anything else (connection, timeout) the sink maps as usual.
        else if (!f.reason.startsWith('PLT_KFK_')) throw new KafkaSendError(f.reason, `create_topic ${topic} (${layout}): ${f.message}`, false, err);
        else throw err;
      }
      const deadline = Date.now() + this.cfg.requestTimeoutMs;
      for (;;) {
        let partitions = 0;
        let leaderless = 1;
        try {
          const md: ClusterMetadata = await admin.metadata({ topics: [topic], forceUpdate: true });
          const parts = md.topics.get(topic)?.partitions ?? [];
          partitions = parts.length;
          leaderless = parts.filter((p) => !p || p.leader < 0).length;
        } catch (err) {
          // A topic created a moment ago may be unknown to the broker answering: ask again until the deadline.
          if (Date.now() > deadline) throw err;
        }
        if (partitions > 0 && leaderless === 0) return { created, partitions };
        if (Date.now() > deadline) throw new KafkaSendError('LEADER_NOT_AVAILABLE', `create_topic ${topic}: a partition has no leader ${this.cfg.requestTimeoutMs} ms after creation`, true);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await (admin.close() as unknown as Promise<void>).catch(() => {});
    }
  }

  resetMetadata(): void {
    const a = this.admin;
    this.admin = null;
    void (a?.close() as Promise<void> | undefined)?.catch(() => {});
  }

  async resetSession(): Promise<void> {
    const old = this.producer;
    this.producer = this.newProducer();
    await (old.close(true) as unknown as Promise<void>).catch(() => {});
  }

  mapError(err: unknown, largestBytes: number, limitBytes: number): MappedError {
    return mapPlatformaticError(err, largestBytes, limitBytes);
  }

  async close(): Promise<void> {
    const a = this.admin;
    this.admin = null;
    await Promise.allSettled([this.producer.close(true) as unknown as Promise<void>, a?.close()]);
  }
}
