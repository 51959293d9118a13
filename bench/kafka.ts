// Broker-side helpers for the bench: topics stamped by the broker on arrival
// (message.timestamp.type=LogAppendTime, so latency = arrival - write time
// with one clock), end-offset polling, and a streaming latency reader.

import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import kafkajs from 'kafkajs';
import type { Admin, Kafka as KafkaClient } from 'kafkajs';
import { registerCodecs } from '../agent/sinks/kafka/codecs.ts';

const { Kafka, logLevel } = kafkajs;

export class BenchKafka {
  readonly bootstrap: string;
  private readonly kafka: KafkaClient;
  private admin: Admin | null = null;

  constructor(bootstrap: string) {
    this.bootstrap = bootstrap;
    // The peers write lz4 batches: kafkajs reads them only with the codec plugged in.
    registerCodecs();
    this.kafka = new Kafka({ brokers: [bootstrap], clientId: 'edgelog-bench', logLevel: logLevel.NOTHING, connectionTimeout: 3000, retry: { retries: 5 } });
  }

  private async adm(): Promise<Admin> {
    if (!this.admin) { this.admin = this.kafka.admin(); await this.admin.connect(); }
    return this.admin;
  }

  async createTopic(topic: string): Promise<void> {
    const a = await this.adm();
    // The broker answers UNKNOWN_TOPIC_OR_PARTITION now and then while the
    // leader is being elected (right after a delete): retry, then check.
    for (let attempt = 0; ; attempt++) {
      try {
        await a.createTopics({
          topics: [{ topic, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] }],
          waitForLeaders: true, timeout: 10_000,
        });
      } catch (err) {
        if (attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
      try {
        const md = await a.fetchTopicMetadata({ topics: [topic] });
        if (md.topics[0]?.partitions.some((p) => p.leader >= 0)) return;
      } catch { /* not yet */ }
      if (attempt >= 5) throw new Error(`topic ${topic} has no leader`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  async deleteTopic(topic: string): Promise<void> {
    const a = await this.adm();
    await a.deleteTopics({ topics: [topic], timeout: 10_000 }).catch(() => {});
  }

  /** Messages in the topic (sum of high watermarks; topics start at offset 0). */
  async endOffset(topic: string): Promise<number> {
    const a = await this.adm();
    const offs = await a.fetchTopicOffsets(topic);
    return offs.reduce((s, o) => s + Number(o.high), 0);
  }

  /**
   * Reads a topic from the start until `stop()` says so (or idle/timeout),
   * handing each message's value and broker timestamp to `each`.
   */
  async consume(topic: string, each: (value: Buffer, tsMs: number) => void, stop: () => boolean, opts: { idleMs?: number; timeoutMs?: number } = {}): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: `edgelog-bench-${randomBytes(6).toString('hex')}`, sessionTimeout: 10_000, heartbeatInterval: 1000,
      maxWaitTimeInMs: 200, maxBytesPerPartition: 8 * 1024 * 1024, maxBytes: 16 * 1024 * 1024,
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      let last = Date.now();
      const started = Date.now();
      let finish!: () => void;
      const done = new Promise<void>((r) => { finish = r; });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) if (m.value) each(m.value, Number(m.timestamp));
          last = Date.now();
          if (stop()) finish();
        },
      });
      const timer = setInterval(() => {
        const now = Date.now();
        if (stop() || now - last > (opts.idleMs ?? 10_000) || now - started > (opts.timeoutMs ?? 180_000)) finish();
      }, 100);
      await done;
      clearInterval(timer);
    } finally {
      await consumer.disconnect().catch(() => {});
    }
  }

  /**
   * Broker timestamp (LogAppendTime, ms) and value of the message at `offset`
   * (negative: from the end) of partition 0, read with kcat's consumer (one
   * message, no group). null when kcat is missing or the read fails.
   */
  messageAt(topic: string, offset: number): { ts: number; value: Buffer } | null {
    try {
      // %T, a tab, then the raw value (binary for OTLP): split at the first tab.
      const out = execFileSync('kcat', ['-C', '-q', '-e', '-b', this.bootstrap, '-t', topic, '-p', '0', '-o', String(offset), '-c', '1', '-f', '%T\t%s'],
        { stdio: ['ignore', 'pipe', 'ignore'], timeout: 20_000, maxBuffer: 64 * 1024 * 1024 });
      const tab = out.indexOf(9);
      if (tab < 0) return null;
      const ts = Number(out.subarray(0, tab).toString('latin1'));
      return Number.isFinite(ts) && ts > 0 ? { ts, value: out.subarray(tab + 1) } : null;
    } catch { return null; }
  }

  async close(): Promise<void> {
    await this.admin?.disconnect().catch(() => {});
    this.admin = null;
  }
}
