// Kafka sink. One send() = one produce call of the engine with all messages
// (the client groups them into one record batch per partition and one request
// per broker) and resolves when the broker acknowledged them with the
// configured acks. The client library sits behind ProducerEngine
// (producer.ts): the builtin producer by default (engines/builtin/, config.ts says why), @platformatic/kafka or kafkajs
// with `engine: kafkajs`; everything here (guard, headers, metrics, health, probe,
// session reset) is the same for both. No retry loop here: the client gets a
// couple of quick internal retries (client_retry), then the error goes to the
// pipeline, which backs off, splits on RecordTooLargeError, or fails over.
//
// Headers per message (when `headers: true`): edgelog.encoding (from the
// encoder), edgelog.agent_id, edgelog.batch_seq (one number per send call,
// increasing per sink instance: a consumer sees which messages travelled
// together and spots re-sends after a failure).

import type { Registry } from '../../observe/prometheus.ts';
import type { ComponentContext, ComponentSpec, EncodedMessage, Sink } from '../../core/component.ts';
import { EdgelogError, RecordTooLargeError, SinkSendError } from '../../core/errors.ts';
import type { Logger } from '../../observe/log.ts';
import { counter, gauge, histogram, latencyBuckets } from '../../observe/metrics.ts';
import { kafkaSinkDefaults, validateKafkaSink, type KafkaSinkConfig } from './config.ts';
import { createEngine } from './engines/create.ts';
import { KafkaSendError } from './errors.ts';
import { explainNotKafka } from './handshake-check.ts';
import { rewordBrokerTooLarge } from './too-large-text.ts';
import type { ProduceOptions, ProducerEngine, ProducerMessage } from './producer.ts';

/** Metrics and log lines of the sink; each event is one method. */
class KafkaSinkEvents {
  private readonly log: Logger;
  private readonly component: string;
  private readonly mRequests;
  private readonly mMessages;
  private readonly mBytes;
  private readonly mDuration;
  private readonly mErrors;
  private readonly mConnected;
  private readonly mTopicMismatch;

  constructor(registry: Registry, log: Logger, component: string) {
    this.log = log;
    this.component = component;
    this.mRequests = counter(registry, 'edgelog_kafka_requests_total', 'Kafka produce calls by result.', ['component', 'result']);
    this.mMessages = counter(registry, 'edgelog_kafka_messages_total', 'Kafka messages acknowledged.', ['component']);
    this.mBytes = counter(registry, 'edgelog_kafka_message_bytes_total', 'Uncompressed value bytes of acknowledged Kafka messages.', ['component']);
    this.mDuration = histogram(registry, 'edgelog_kafka_request_duration_seconds', 'Time from produce call to broker acknowledgement.', latencyBuckets, ['component']);
    this.mErrors = counter(registry, 'edgelog_kafka_errors_total', 'Failed Kafka produce calls by reason.', ['component', 'reason', 'retriable']);
    this.mConnected = gauge(registry, 'edgelog_kafka_connected', '1 while the producer is connected.', ['component']);
    this.mTopicMismatch = gauge(registry, 'edgelog_kafka_topic_partitions_mismatch', '1 when the existing topic has another partition count than create_topic asks for.', ['component', 'topic']);
  }

  sent(messages: number, bytes: number, seconds: number): void {
    this.mRequests.inc({ component: this.component, result: 'ok' });
    this.mMessages.inc({ component: this.component }, messages);
    this.mBytes.inc({ component: this.component }, bytes);
    this.mDuration.observe({ component: this.component }, seconds);
  }

  failed(err: EdgelogError, messages: number): void {
    const reason = err instanceof KafkaSendError ? err.reason : err.code;
    this.mRequests.inc({ component: this.component, result: 'error' });
    this.mErrors.inc({ component: this.component, reason, retriable: String(err.retriable) });
    // The pipeline logs each failed attempt with its backoff; this line adds the Kafka detail.
    this.log.debug('kafka send failed', { reason, retriable: err.retriable, messages, error: err.message });
  }

  connection(up: boolean, brokers: string[], err?: unknown): void {
    this.mConnected.set({ component: this.component }, up ? 1 : 0);
    if (up) this.log.info('kafka producer connected', { brokers });
    else if (err) this.log.warn('kafka producer connect failed', { brokers, error: (err as Error).message });
    else this.log.info('kafka producer disconnected', { brokers });
  }

  topic(topic: string, wanted: number, created: boolean, partitions: number): void {
    const mismatch = partitions !== wanted;
    this.mTopicMismatch.set({ component: this.component, topic }, mismatch ? 1 : 0);
    if (created) this.log.info('kafka topic created', { topic, partitions });
    else if (mismatch) this.log.warn('kafka topic exists with another partition count; left as is', { topic, partitions, create_topic_partitions: wanted });
  }

  producerReset(reason: string): void {
    this.log.warn('kafka producer session reset', { reason });
  }
}

export interface KafkaSinkContext {
  id: string;
  log: Logger;
  metrics: Registry;
  agentId: string;
}

export class KafkaSink implements Sink {
  /**
   * Once send() resolved, neither engine references the message values any
   * more (each copies them into its record batch and request): the pipeline
   * may hand them back to the encoder for reuse (encoders/otlp/value-pool.ts).
   */
  readonly releasesValuesAfterSend = true;
  readonly maxMessageBytes: number;
  readonly topic: string;
  private readonly cfg: KafkaSinkConfig;
  private readonly log: Logger;
  private readonly events: KafkaSinkEvents;
  private readonly agentId: string;
  private readonly engine: ProducerEngine;
  /** Bumped by every session reset: a connect that finishes for an older session connects the new one. */
  private session = 0;
  private connecting: Promise<void> | null = null;
  private connected = false;
  private seq = 0;
  private topicEnsured = false;
  private closed = false;
  private lastError: EdgelogError | null = null;
  /** Set while connecting when the bootstrap address answers, but not as Kafka (handshake-check.ts). */
  private notKafka: string | null = null;
  /** A metadata answer came once: the address is Kafka, the handshake check is skipped from then on. */
  private answeredAsKafka = false;
  private hdrSource: Record<string, string> | null = null;
  private hdrSeq = -1;
  private hdr: Record<string, string> | undefined;

  constructor(cfg: KafkaSinkConfig, ctx: KafkaSinkContext) {
    this.cfg = cfg;
    this.topic = cfg.topic;
    this.maxMessageBytes = cfg.maxMessageBytes;
    this.agentId = ctx.agentId;
    this.log = ctx.log.child({ sink: ctx.id });
    this.events = new KafkaSinkEvents(ctx.metrics, this.log, ctx.id);
    if (cfg.sasl && !cfg.tls) this.log.warn('kafka SASL without TLS: credentials travel in clear text', { mechanism: cfg.sasl.mechanism });
    const hooks = {
      onDisconnect: () => {
        if (this.connected) {
          this.connected = false;
          this.events.connection(false, this.cfg.brokers);
        }
      },
      debug: (message: string, fields: Record<string, unknown>) => this.log.debug(message, fields),
    };
    this.engine = createEngine(cfg, hooks);
  }

  private ensureConnected(): Promise<void> {
    if (this.connected) return Promise.resolve();
    if (!this.connecting) {
      const session = this.session;
      // Beside the client's connect: a port that is not Kafka is named in seconds, not after the client's timeout.
      const check = (this.answeredAsKafka ? Promise.resolve(null) : explainNotKafka(this.cfg.brokers, this.cfg.tls !== null)).then((reason) => {
        if (reason && !this.connected && reason !== this.notKafka) this.log.error('kafka sink: not a Kafka broker', { reason });
        this.notKafka = this.connected ? null : reason;
      });
      // The topic first: engine platformatic's connect is a metadata request that would auto-create it with broker defaults.
      this.connecting = this.topicReady().then(() => this.engine.connect()).then(
        () => {
          this.connecting = null;
          this.notKafka = null;
          this.answeredAsKafka = true;
          if (session !== this.session) return this.ensureConnected();
          this.connected = true;
          this.events.connection(true, this.cfg.brokers);
        },
        async (err: unknown) => {
          this.connecting = null;
          await check;
          this.events.connection(false, this.cfg.brokers, err);
          if (this.notKafka) throw new KafkaSendError('NOT_KAFKA', this.notKafka, true, err);
          if (err instanceof KafkaSendError) throw err; // create_topic's own, already explained
          throw this.engine.mapError(err, 0, this.maxMessageBytes).error;
        },
      );
    }
    return this.connecting;
  }

  /** With create_topic: make the topic once, before the first record (idempotent; a partition mismatch only warns). */
  private async topicReady(): Promise<void> {
    if (!this.cfg.createTopic || this.topicEnsured) return;
    const spec = this.cfg.createTopic;
    // The engine's own client when it has one (platformatic: kafkajs is never loaded there);
    // else create-topic.ts, loaded only with create_topic (kafkajs's admin client).
    const r = this.engine.ensureTopic
      ? await this.engine.ensureTopic(spec)
      : await (await import('./create-topic.ts')).ensureTopic(this.cfg, spec);
    this.topicEnsured = true;
    this.events.topic(this.topic, spec.partitions, r.created, r.partitions);
  }

  /** Eagerly connect (optional; send() connects on demand). */
  async start(): Promise<void> {
    await this.ensureConnected();
  }

  /**
   * Compression of the next request while this one is on the wire
   * (ProducerEngine.prepare). Its headers carry the number the next send()
   * takes; if that send is a retry instead, the headers differ (headersFor
   * makes one object per number) and the engine does not use the hint.
   */
  prepare(messages: EncodedMessage[]): void {
    if (this.closed || !this.engine.prepare || messages.length === 0) return;
    this.engine.prepare(this.topic, this.producerMessages(messages, this.seq + 1), this.produceOptions());
  }

  /** The engine's messages for send number `seq` (its headers carry that number). */
  private producerMessages(messages: EncodedMessage[], seq: number): ProducerMessage[] {
    const out: ProducerMessage[] = new Array(messages.length);
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      out[i] = { key: m.key, value: m.value, headers: this.cfg.headers ? this.headersFor(m.headers, seq) : undefined };
    }
    return out;
  }

  private produceOptions(): ProduceOptions {
    return { acks: this.cfg.acks, compression: this.cfg.compression, timeoutMs: this.cfg.requestTimeoutMs };
  }

  async send(messages: EncodedMessage[]): Promise<void> {
    if (this.closed) throw new SinkSendError('kafka sink closed', false);
    if (messages.length === 0) return;
    let largest = 0;
    let bytes = 0;
    for (const m of messages) {
      const size = m.value.length + (m.key?.length ?? 0);
      bytes += m.value.length;
      if (size > largest) largest = size;
    }
    if (largest > this.maxMessageBytes) {
      const e = rewordBrokerTooLarge(new RecordTooLargeError(largest, this.maxMessageBytes), messages.length, bytes, largest, this.maxMessageBytes);
      this.events.failed(e, messages.length);
      throw e;
    }
    // The number is taken before connecting, so that prepare(), called for the
    // next request while this one connects, knows which number that one gets.
    const out = this.producerMessages(messages, ++this.seq);
    try {
      await this.ensureConnected();
    } catch (err) {
      const e = err instanceof EdgelogError ? err : this.engine.mapError(err, largest, this.maxMessageBytes).error;
      this.lastError = e;
      this.events.failed(e, messages.length);
      throw e;
    }
    const t0 = performance.now();
    try {
      await this.engine.send(this.topic, out, this.produceOptions());
    } catch (err) {
      const { error, resetProducer } = this.engine.mapError(err, largest, this.maxMessageBytes);
      // Too large is about these messages, not the destination's health: the pipeline splits or dead-letters them.
      if (error instanceof RecordTooLargeError) rewordBrokerTooLarge(error, messages.length, bytes, largest, this.maxMessageBytes);
      else this.lastError = error;
      this.events.failed(error, messages.length);
      if (resetProducer) await this.resetProducer((error as KafkaSendError).reason ?? error.code);
      throw error;
    }
    this.lastError = null;
    this.events.sent(messages.length, bytes, (performance.now() - t0) / 1000);
  }

  /** One headers object shared by all messages of a send that carry the same encoder headers. */
  private headersFor(encoderHeaders: Record<string, string>, seq: number): Record<string, string> {
    if (this.hdr !== undefined && encoderHeaders === this.hdrSource && seq === this.hdrSeq) return this.hdr;
    const h: Record<string, string> = { ...encoderHeaders, 'edgelog.agent_id': this.agentId, 'edgelog.batch_seq': String(seq) };
    this.hdrSource = encoderHeaders;
    this.hdrSeq = seq;
    this.hdr = h;
    return h;
  }

  /**
   * Abandon the idempotent session: the next send uses a new producer id.
   * Needed when a send failed ambiguously (it may have been written) and its
   * records were then delivered elsewhere (failover): retrying different
   * records under the old sequence numbers would make the broker take them for
   * duplicates of what it already has and silently drop them.
   */
  resetSession(reason: string): Promise<void> { return this.resetProducer(reason); }

  /** Start a new producer session (new producer id) after the broker rejected the old one's state. */
  private async resetProducer(reason: string): Promise<void> {
    this.events.producerReset(reason);
    this.session++;
    this.connected = false;
    this.connecting = null;
    await this.engine.resetSession();
  }

  /**
   * Metadata round trip for the sink's topic (health checks, failover).
   * Resolves with the latency in ms; rejects when the cluster does not
   * answer within probe_timeout or the topic has a partition without leader.
   */
  async probe(): Promise<number> {
    const t0 = performance.now();
    // Alongside, not after: a failed probe is not delayed. Once a broker answered as Kafka there is nothing to ask.
    const check = this.answeredAsKafka ? Promise.resolve(null) : explainNotKafka(this.cfg.brokers, this.cfg.tls !== null, Math.min(3000, this.cfg.probeTimeoutMs));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, rej) => {
      timer = setTimeout(() => rej(new KafkaSendError('PROBE_TIMEOUT', `no metadata answer within ${this.cfg.probeTimeoutMs} ms`, true)), this.cfg.probeTimeoutMs);
    });
    try {
      const run = async (): Promise<number> => {
        const md = await this.engine.topicMetadata(this.topic);
        this.answeredAsKafka = true;
        if (md.partitions === 0 || md.leaderless > 0) throw new KafkaSendError('LEADER_NOT_AVAILABLE', `topic ${this.topic} has a partition without leader`, true);
        return performance.now() - t0;
      };
      return await Promise.race([run(), timeout]);
    } catch (err) {
      // Drop the metadata connection so the next probe starts from a fresh one.
      this.engine.resetMetadata();
      const notKafka = await check;
      if (notKafka) throw new KafkaSendError('NOT_KAFKA', notKafka, true, err);
      throw err instanceof EdgelogError ? err : this.engine.mapError(err, 0, this.maxMessageBytes).error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The agent went quiet: the engine lets go of its compression buffers and scratch. */
  trim(): void { this.engine.trim?.(); }

  health(): { ready: boolean; reason: string } {
    if (this.closed) return { ready: false, reason: 'closed' };
    if (this.notKafka && !this.connected) return { ready: false, reason: this.notKafka };
    if (this.lastError) return { ready: false, reason: `last send failed: ${this.lastError.message}` };
    // Lazy connection: nothing known bad before the first send (as the forward sink counts it).
    if (!this.connected) return { ready: true, reason: this.connecting ? 'connecting' : 'idle: connects on first send' };
    return { ready: true, reason: 'connected' };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const wasConnected = this.connected;
    this.connected = false;
    await this.engine.close();
    if (wasConnected) this.events.connection(false, this.cfg.brokers);
  }
}

/** create() returns the concrete KafkaSink: it also has probe() (the failover sink's ProbingSink) and start(). */
export const kafkaSink: ComponentSpec<KafkaSinkConfig, KafkaSink> = {
  kind: 'sink',
  type: 'kafka',
  summary: 'Apache Kafka producer (@platformatic/kafka, or kafkajs with engine: kafkajs): acks=all, idempotent, compressed, TLS and SASL',
  defaults: kafkaSinkDefaults,
  validate: validateKafkaSink,
  create(cfg: KafkaSinkConfig, ctx: ComponentContext): KafkaSink {
    return new KafkaSink(cfg, ctx);
  },
};
