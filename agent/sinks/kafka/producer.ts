// The producer engine behind the Kafka sink: the few operations the sink
// needs from a Kafka client, so the client library can be swapped (issue 3
// item 5) without touching the sink's batching, headers, metrics, health or
// its contract with the pipeline and the failover sink. Everything above this
// interface (KafkaSink) is the same whatever the engine; everything below it
// is one client library (engines/kafkajs.ts, engines/platformatic.ts).
//
// Rules every engine keeps:
//   - send() resolves only once the broker acknowledged the whole request with
//     the given acks (acks none: once written);
//   - a keyed message goes to toPositive(murmur2(key)) % partitions, as the
//     Java producer and kafkajs's DefaultPartitioner place it; a keyless one is
//     spread round-robin;
//   - idempotent producers keep one request in flight per connection and
//     survive their own short retries without duplicates; resetSession()
//     starts a new producer id;
//   - raw client errors are turned into the sink's errors by mapError() (one
//     place per engine), so the pipeline's retry/split/failover see the same
//     KafkaSendError reasons and RecordTooLargeError whatever the engine.

import type { Compression } from './codecs.ts';
import type { Acks, CreateTopicConfig, EngineName, KafkaSinkConfig } from './config.ts';
import type { MappedError } from './errors.ts';

// The engine names live in config.ts (which imports nothing of the engines);
// re-exported here where the tests have always found them.
export { engineNames, type EngineName } from './config.ts';

/** One message as the engine writes it. `headers` objects may be shared by many messages of a send. */
export interface ProducerMessage {
  key: Buffer | null;
  value: Buffer;
  headers: Record<string, string> | undefined;
}

/** Kafka's produce `acks` field for each config value. */
export const acksValue = { all: -1, leader: 1, none: 0 } as const;

export interface ProduceOptions {
  acks: Acks;
  compression: Compression;
  /** Broker-side produce timeout, ms. */
  timeoutMs: number;
}

/** What `create_topic` found or did. */
export interface TopicOutcome {
  /** True when this call created the topic, false when it existed. */
  created: boolean;
  /** Partition count the topic has now. */
  partitions: number;
}

/** What a metadata round trip says about one topic. */
export interface TopicLeaders {
  partitions: number;
  /** Partitions whose leader is unknown (-1). */
  leaderless: number;
}

export interface EngineHooks {
  /** The current producer's connection went away (not called for producers replaced by resetSession). */
  onDisconnect(): void;
  /** Client library log lines (already at the sink's debug level). */
  debug(message: string, fields: Record<string, unknown>): void;
}

export interface ProducerEngine {
  readonly name: EngineName;
  /** Connect the current producer (and get its producer id when idempotent). */
  connect(): Promise<void>;
  /** Produce the messages to `topic`; resolves on the broker's acknowledgement. */
  send(topic: string, messages: ProducerMessage[], opts: ProduceOptions): Promise<void>;
  /**
   * A hint: `messages` (the same value Buffers) are the next send(). Work that
   * does not depend on the sends before it (placing on partitions, building
   * and compressing the batches) may be done now, while those are on the
   * wire. send() delivers the same whether or not this was called.
   */
  prepare?(topic: string, messages: ProducerMessage[], opts: ProduceOptions): void;
  /** Metadata round trip for `topic` on a connection of its own (one try, no retry). */
  topicMetadata(topic: string): Promise<TopicLeaders>;
  /** Forget the metadata connection, so the next topicMetadata starts afresh (after a failed or timed-out probe). */
  resetMetadata(): void;
  /** Replace the producer by a new one (new producer id); the old one is closed. */
  resetSession(): Promise<void>;
  /**
   * `create_topic` with this engine's own client (idempotent; an existing
   * topic is left as it is). Absent: the sink uses create-topic.ts (kafkajs's admin).
   */
  ensureTopic?(spec: CreateTopicConfig): Promise<TopicOutcome>;
  /** A raw error of this engine as the sink's error, and whether the producer session must be reset. */
  mapError(err: unknown, largestBytes: number, limitBytes: number): MappedError;
  /** Drops buffers kept only for reuse (the agent went quiet); nothing in flight. */
  trim?(): void;
  close(): Promise<void>;
}

export type EngineFactory = (cfg: KafkaSinkConfig, hooks: EngineHooks) => ProducerEngine;
