// Engine `builtin`: the ProducerEngine contract (../../producer.ts) on this
// folder's own Kafka client, which does only what the sink needs (see
// README.md). Per send: the messages are placed on partitions (keyed: Java's
// murmur2; keyless: round-robin), each partition's records section is built
// once into an exactly sized Buffer, compressed, prefixed by its batch header,
// and one produce request goes to each leader broker. The batches are kept
// (not rebuilt) for the client's short retry, so an idempotent retry carries
// the same producer id and sequence and the broker drops what it already has.

import { type KafkaSinkConfig, type CreateTopicConfig } from '../../config.ts';
import { createBatchCompressor, type BatchCompressor } from '../../compress/index.ts';
import { KafkaSendError, mapKafkaError, type MappedError } from '../../errors.ts';
import { acksValue, type EngineHooks, type ProduceOptions, type ProducerEngine, type ProducerMessage, type TopicLeaders, type TopicOutcome } from '../../producer.ts';
import { saslCredentials, saslTokenProvider, tlsOptions } from '../security.ts';
import { type Broker, type BrokerOptions, connectBroker, parseAddress } from './broker.ts';
import { KafkaNetworkError, KafkaProtocolError, staleMetadata } from './error-codes.ts';
import { keyPartition } from './murmur2.ts';
import { Api, decodeCreateTopics, decodeInitProducerId, decodeMetadata, decodeProduce, encodeCreateTopics, encodeInitProducerId, encodeMetadata, encodeProduce, type Metadata, type PartitionRecords, pickVersion } from './protocol.ts';
import { batchHeader, buildRecords, HeaderCache, SectionScratch } from './record-batch.ts';
import type { SaslAuth } from './sasl.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/**
 * The pipeline hints request k+1 as soon as it hands over request k, which
 * may not have reached produce() yet (connecting, waiting for the send before
 * it): two are kept, so neither hint is lost to the other.
 */
const MAX_PREFETCHED = 2;

/** lz4 and snappy consume the records section inside the compress call, so it can live in the shared scratch. */
const consumedInCall = (c: ProduceOptions['compression']): boolean => c === 'lz4' || c === 'snappy';

/**
 * The batches of the next send, built and compressed by prepare() while the
 * send before it waited for its answer. A body is null when compressing it
 * failed (send() then compresses again, and gets the error itself).
 */
interface Prefetched {
  readonly topic: string;
  readonly compression: ProduceOptions['compression'];
  readonly partitions: number;
  /** The messages it is for: their count, first and last value Buffers and headers objects (identity). */
  readonly n: number;
  readonly first: ProducerMessage;
  readonly last: ProducerMessage;
  readonly byPartition: Map<number, number[]>;
  readonly bodies: Map<number, Promise<Buffer | null>>;
}

/** One producer session: its broker connections and its producer id/epoch and sequences. */
class Session {
  private readonly conns = new Map<string, Promise<Broker>>();
  closed = false;
  producerId = -1n;
  epoch = -1;
  readonly sequences = new Map<string, number>();
  private readonly opts: BrokerOptions;
  private readonly onLost: () => void;
  constructor(opts: BrokerOptions, onLost: () => void) {
    this.opts = opts;
    this.onLost = onLost;
  }

  /** The connection to `address`, opened on first use and again after it went away. */
  broker(address: string): Promise<Broker> {
    let p = this.conns.get(address);
    if (!p) {
      const [host, port] = parseAddress(address);
      p = connectBroker(host, port, this.opts);
      this.conns.set(address, p);
      p.then((b) => b.conn.onClose(() => {
        if (this.conns.get(address) === p) this.conns.delete(address);
        if (!this.closed) this.onLost();
      }), () => { if (this.conns.get(address) === p) this.conns.delete(address); });
    }
    return p;
  }

  close(): void {
    this.closed = true;
    for (const p of this.conns.values()) p.then((b) => b.conn.close(), () => {});
    this.conns.clear();
  }
}

export class BuiltinEngine implements ProducerEngine {
  readonly name = 'builtin' as const;
  private readonly cfg: KafkaSinkConfig;
  private readonly hooks: EngineHooks;
  private readonly opts: BrokerOptions;
  private readonly compressor: BatchCompressor = createBatchCompressor();
  private readonly scratch = new SectionScratch();
  private readonly headers = new HeaderCache();
  /** Oldest first; at most MAX_PREFETCHED (the pipeline hints the next request while the current one is still on its way here). */
  private readonly prefetched: Prefetched[] = [];
  private session: Session;
  private brokers = new Map<number, string>();
  private readonly leaders = new Map<string, number[]>();
  private probe: Promise<Broker> | null = null;
  private next = Math.floor(Math.random() * 0x10000);
  /** Idempotent sends one at a time (one produce in flight per connection, sequences in wire order). */
  private lock: Promise<void> = Promise.resolve();
  /** After a failed idempotent send the broker may hold part of it: a new producer id, so no sequence is reused for other data. */
  private needNewId = false;

  constructor(cfg: KafkaSinkConfig, hooks: EngineHooks) {
    this.cfg = cfg;
    this.hooks = hooks;
    const creds = saslCredentials(cfg);
    const token = saslTokenProvider(cfg);
    const sasl: SaslAuth | undefined = token ? { kind: 'token', token } : creds ? { kind: 'password', creds } : undefined;
    this.opts = { tls: tlsOptions(cfg), sasl, connectTimeoutMs: cfg.connectTimeoutMs, requestTimeoutMs: cfg.requestTimeoutMs, clientId: cfg.clientId };
    this.session = this.newSession();
  }

  private newSession(): Session {
    const s: Session = new Session(this.opts, () => { if (s === this.session) this.hooks.onDisconnect(); });
    return s;
  }

  /** Any reachable broker of the session: known brokers first, then the bootstrap list. */
  private async anyBroker(s: Session): Promise<Broker> {
    let last: unknown;
    for (const a of [...this.brokers.values(), ...this.cfg.brokers]) {
      try { return await s.broker(a); } catch (e) { last = e; }
    }
    throw last ?? new KafkaNetworkError('NETWORK_EXCEPTION', 'no broker reachable');
  }

  private async metadata(b: Broker, topics: string[], autoCreate: boolean): Promise<Metadata> {
    const v = pickVersion(Api.Metadata, b.versions);
    return b.conn.request(Api.Metadata, v, encodeMetadata(v, topics, autoCreate), (r) => decodeMetadata(v, r));
  }

  private async refresh(topic: string): Promise<number[]> {
    const md = await this.metadata(await this.anyBroker(this.session), [topic], true);
    for (const [id, b] of md.brokers) this.brokers.set(id, `${b.host}:${b.port}`);
    const t = md.topics.find((x) => x.name === topic);
    if (!t || t.error !== 0) throw new KafkaProtocolError(t?.error ?? 3, `metadata for topic ${topic}`);
    if (t.internal) throw new KafkaSendError('INVALID_TOPIC_EXCEPTION', `topic ${topic} is internal to Kafka; records cannot be produced to it`, false);
    if (t.partitions.length === 0) throw new KafkaProtocolError(5, `topic ${topic} has no partitions yet`);
    const leaders = new Array<number>(t.partitions.length).fill(-1);
    for (const p of t.partitions) if (p.partition < leaders.length) leaders[p.partition] = p.leader;
    this.leaders.set(topic, leaders);
    return leaders;
  }

  /**
   * A producer id for the session. A broker that just started answers
   * COORDINATOR_LOAD_IN_PROGRESS / NOT_COORDINATOR for a while: retriable
   * answers are asked again with backoff for up to request_timeout (at least
   * client_retry.retries times).
   */
  private async initProducerId(s: Session): Promise<void> {
    const { retries, initialBackoffMs, maxBackoffMs } = this.cfg.clientRetry;
    const deadline = Date.now() + this.cfg.requestTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        const b = await this.anyBroker(s);
        const v = pickVersion(Api.InitProducerId, b.versions);
        const r = await b.conn.request(Api.InitProducerId, v, encodeInitProducerId(), decodeInitProducerId);
        s.producerId = r.producerId;
        s.epoch = r.epoch;
        s.sequences.clear();
        return;
      } catch (e) {
        const wait = Math.min(maxBackoffMs, initialBackoffMs * 2 ** Math.min(attempt, 20));
        if ((e as { retriable?: boolean }).retriable !== true || s.closed || (attempt >= retries && Date.now() + wait > deadline)) throw e;
        this.hooks.debug('builtin: InitProducerId retried', { attempt: attempt + 1, error: (e as Error).message });
        await sleep(wait);
      }
    }
  }

  async connect(): Promise<void> {
    await this.refresh(this.cfg.topic);
    if (this.cfg.idempotent && this.session.producerId < 0n) await this.initProducerId(this.session);
  }

  private partitionOf(m: ProducerMessage, partitions: number): number {
    if (m.key !== null) return keyPartition(m.key, partitions);
    this.next = (this.next + 1) & 0x7fffffff;
    return this.next % partitions;
  }

  async send(topic: string, messages: ProducerMessage[], opts: ProduceOptions): Promise<void> {
    if (!this.cfg.idempotent) return this.produce(topic, messages, opts);
    const prev = this.lock;
    let release!: () => void;
    this.lock = new Promise((r) => { release = r; });
    await prev;
    try {
      await this.produce(topic, messages, opts);
    } catch (e) {
      this.needNewId = true;
      throw e;
    } finally {
      release();
    }
  }

  /**
   * With one request in flight (the pipeline sends in order, and idempotent
   * sends wait for the one before), compressing at send time left the main
   * thread idle while a request was on the wire and the broker busy while the
   * next was compressed: liblz4 and crc32c were 25 % of the main thread's
   * profile and it was idle 32 % (json-200b at saturation). Compressing the
   * next request here, while the current one waits for its answer, overlaps
   * the two. Only for codecs that compress inside the call (lz4, snappy: the
   * records section lives in the shared scratch until then).
   */
  prepare(topic: string, messages: ProducerMessage[], opts: ProduceOptions): void {
    const leaders = this.leaders.get(topic);
    if (leaders === undefined || messages.length === 0 || !consumedInCall(opts.compression)) return;
    const byPartition = this.place(messages, leaders.length);
    const bodies = new Map<number, Promise<Buffer | null>>();
    for (const [p, idx] of byPartition) {
      const records = buildRecords(messages, idx, this.headers, this.scratch);
      bodies.set(p, this.compressor.compress(opts.compression, records).catch(() => null));
    }
    this.prefetched.push({ topic, compression: opts.compression, partitions: leaders.length, n: messages.length, first: messages[0]!, last: messages[messages.length - 1]!, byPartition, bodies });
    if (this.prefetched.length > MAX_PREFETCHED) this.releaseBodies(this.prefetched.shift()!);
  }

  /**
   * The prefetched batches for exactly these messages on this topic as it is
   * now, or null. Hints older than the one taken are let go (their requests
   * were sent without them, or split); a hint whose topic changed shape too.
   */
  private takePrefetched(topic: string, messages: ProducerMessage[], opts: ProduceOptions, partitions: number): Prefetched | null {
    const first = messages[0]!;
    const last = messages[messages.length - 1]!;
    const k = this.prefetched.findIndex((f) => f.n === messages.length && f.first.value === first.value && f.last.value === last.value);
    if (k < 0) return null;
    const dropped = this.prefetched.splice(0, k + 1);
    const f = dropped.pop()!;
    for (const d of dropped) this.releaseBodies(d);
    if (f.topic === topic && f.compression === opts.compression && f.partitions === partitions && f.first.headers === first.headers && f.last.headers === last.headers) return f;
    this.releaseBodies(f);
    return null;
  }

  private dropPrefetched(): void {
    for (const f of this.prefetched.splice(0)) this.releaseBodies(f);
  }

  private releaseBodies(f: Prefetched): void {
    for (const b of f.bodies.values()) void b.then((body) => { if (body) this.compressor.release(body); });
  }

  private place(messages: ProducerMessage[], partitions: number): Map<number, number[]> {
    const byPartition = new Map<number, number[]>();
    for (let i = 0; i < messages.length; i++) {
      const p = this.partitionOf(messages[i]!, partitions);
      const l = byPartition.get(p);
      if (l) l.push(i); else byPartition.set(p, [i]);
    }
    return byPartition;
  }

  private async produce(topic: string, messages: ProducerMessage[], opts: ProduceOptions): Promise<void> {
    if (messages.length === 0) return;
    const s = this.session;
    const idem = this.cfg.idempotent;
    if (idem && (s.producerId < 0n || this.needNewId)) { await this.initProducerId(s); this.needNewId = false; }
    const leaders = this.leaders.get(topic) ?? await this.refresh(topic);
    const pre = this.takePrefetched(topic, messages, opts, leaders.length);
    const byPartition = pre?.byPartition ?? this.place(messages, leaders.length);
    const bodies: Buffer[] = [];
    try {
      await this.sendBatches(s, topic, messages, opts, leaders, byPartition, bodies, pre?.bodies);
    } finally {
      // Prefetched bodies sendBatches did not get to (it threw first).
      if (pre) this.releaseBodies(pre);
      // Every request that carried these bytes was answered or its connection
      // destroyed (which drops queued writes): the compressor may reuse them.
      for (const b of bodies) this.compressor.release(b);
    }
  }

  /** One record batch per partition, sent to the leaders with the client's short retry; each compressed body is pushed to `bodies`. */
  private async sendBatches(s: Session, topic: string, messages: ProducerMessage[], opts: ProduceOptions, leaders: number[], byPartition: Map<number, number[]>, bodies: Buffer[], prefetched?: Map<number, Promise<Buffer | null>>): Promise<void> {
    const idem = this.cfg.idempotent;
    const now = Date.now();
    const pending = new Map<number, PartitionRecords & { count: number }>();
    for (const [p, idx] of byPartition) {
      let body: Buffer | null = null;
      const early = prefetched?.get(p);
      if (early) {
        // Taken out of the map: produce() releases what is left in it, this one goes with `bodies`.
        prefetched!.delete(p);
        body = await early;
      }
      if (body === null) {
        const records = buildRecords(messages, idx, this.headers, consumedInCall(opts.compression) ? this.scratch : undefined);
        body = await this.compressor.compress(opts.compression, records);
      }
      bodies.push(body);
      const seqKey = `${topic}\0${p}`;
      const header = batchHeader({
        codec: opts.compression, count: idx.length, timestamp: now,
        producerId: idem ? s.producerId : -1n, producerEpoch: idem ? s.epoch : -1, baseSequence: idem ? (s.sequences.get(seqKey) ?? 0) : -1,
      }, body);
      pending.set(p, { partition: p, parts: [header, body], bytes: header.length + body.length, count: idx.length });
    }
    const acks = acksValue[opts.acks];
    const { retries, initialBackoffMs, maxBackoffMs } = this.cfg.clientRetry;
    for (let attempt = 0; ; attempt++) {
      let failure: Error | null = null;
      let stale = false;
      const current = this.leaders.get(topic) ?? leaders;
      const byLeader = new Map<number, (PartitionRecords & { count: number })[]>();
      for (const d of pending.values()) {
        const l = current[d.partition] ?? -1;
        if (l < 0 || !this.brokers.has(l)) { failure = new KafkaProtocolError(5, `partition ${d.partition} of ${topic} has no leader`); stale = true; continue; }
        const list = byLeader.get(l);
        if (list) list.push(d); else byLeader.set(l, [d]);
      }
      await Promise.all([...byLeader].map(async ([leader, data]) => {
        try {
          const b = await s.broker(this.brokers.get(leader)!);
          const v = pickVersion(Api.Produce, b.versions);
          const req = encodeProduce(acks, opts.timeoutMs, topic, data);
          if (acks === 0) {
            await b.conn.request(Api.Produce, v, req, () => undefined, false);
            for (const d of data) pending.delete(d.partition);
            return;
          }
          const results = await b.conn.request(Api.Produce, v, req, (r) => decodeProduce(v, r));
          for (const r of results) {
            const d = pending.get(r.partition);
            if (!d) continue;
            if (r.error === 0) {
              pending.delete(r.partition);
              if (idem) { const k = `${topic}\0${r.partition}`; s.sequences.set(k, ((s.sequences.get(k) ?? 0) + d.count) & 0x7fffffff); }
            } else {
              const e = new KafkaProtocolError(r.error, r.message || `produce to ${topic}/${r.partition}`);
              if (!failure || !e.retriable) failure = e;
              if (staleMetadata.has(e.type)) stale = true;
            }
          }
        } catch (e) {
          if (!failure || !(e as { retriable?: boolean }).retriable) failure = e as Error;
          stale = true;
        }
      }));
      if (pending.size === 0) return;
      failure ??= new KafkaProtocolError(-1, `no answer for ${pending.size} partition(s) of ${topic}`);
      const retriable = (failure as { retriable?: boolean }).retriable === true;
      if (!retriable || attempt >= retries || s !== this.session) throw failure;
      this.hooks.debug('builtin: produce retried', { topic, attempt: attempt + 1, error: failure.message });
      await sleep(Math.min(maxBackoffMs, initialBackoffMs * 2 ** attempt));
      if (stale) { try { await this.refresh(topic); } catch (e) { this.hooks.debug('builtin: metadata refresh failed', { topic, error: (e as Error).message }); } }
    }
  }

  async topicMetadata(topic: string): Promise<TopicLeaders> {
    if (!this.probe) {
      const [host, port] = parseAddress(this.cfg.brokers[0]!);
      const p = this.probeConnect(host, port);
      this.probe = p;
      p.then((b) => b.conn.onClose(() => { if (this.probe === p) this.probe = null; }), () => { if (this.probe === p) this.probe = null; });
    }
    const b = await this.probe;
    const md = await this.metadata(b, [topic], false);
    const t = md.topics.find((x) => x.name === topic);
    const parts = t && t.error === 0 ? t.partitions : [];
    return { partitions: parts.length, leaderless: parts.filter((x) => x.leader < 0).length };
  }

  /** The probe's connection: the first bootstrap broker that answers. */
  private async probeConnect(host: string, port: number): Promise<Broker> {
    const o = { ...this.opts, clientId: `${this.cfg.clientId}-probe` };
    try { return await connectBroker(host, port, o); } catch (e) {
      for (const a of this.cfg.brokers.slice(1)) { try { return await connectBroker(...parseAddress(a), o); } catch { /* next */ } }
      throw e;
    }
  }

  resetMetadata(): void {
    const p = this.probe;
    this.probe = null;
    p?.then((b) => b.conn.close(), () => {});
  }

  async ensureTopic(spec: CreateTopicConfig): Promise<TopicOutcome> {
    const topic = this.cfg.topic;
    const layout = `partitions ${spec.partitions}, replication_factor ${spec.replicationFactor}, min_insync_replicas ${spec.minInsyncReplicas}`;
    const admin = new Session({ ...this.opts, clientId: `${this.cfg.clientId}-admin` }, () => {});
    try {
      const b = await this.anyBroker(admin);
      const v = pickVersion(Api.CreateTopics, b.versions);
      const res = await b.conn.request(Api.CreateTopics, v, encodeCreateTopics({ name: topic, partitions: spec.partitions, replicationFactor: spec.replicationFactor, configs: { 'min.insync.replicas': String(spec.minInsyncReplicas) } }, this.cfg.requestTimeoutMs), decodeCreateTopics);
      const r = res.find((x) => x.name === topic) ?? res[0];
      let created = true;
      if (r && r.error !== 0) {
        const e = new KafkaProtocolError(r.error, r.message);
        if (e.type === 'TOPIC_ALREADY_EXISTS') created = false;
        else throw new KafkaSendError(e.type, `create_topic ${topic} (${layout}): ${r.message || e.type}`, false, e);
      }
      const deadline = Date.now() + this.cfg.requestTimeoutMs;
      for (;;) {
        let partitions = 0;
        let leaderless = 1;
        try {
          const md = await this.metadata(await this.anyBroker(admin), [topic], false);
          const parts = md.topics.find((x) => x.name === topic && x.error === 0)?.partitions ?? [];
          partitions = parts.length;
          leaderless = parts.filter((x) => x.leader < 0).length;
        } catch (err) {
          if (Date.now() > deadline) throw err;
        }
        if (partitions > 0 && leaderless === 0) return { created, partitions };
        if (Date.now() > deadline) throw new KafkaSendError('LEADER_NOT_AVAILABLE', `create_topic ${topic}: a partition has no leader ${this.cfg.requestTimeoutMs} ms after creation`, true);
        await sleep(100);
      }
    } finally {
      admin.close();
    }
  }

  async resetSession(): Promise<void> {
    const old = this.session;
    this.session = this.newSession();
    this.needNewId = false;
    old.close();
  }

  trim(): void {
    this.dropPrefetched();
    this.compressor.trim();
    this.scratch.trim();
  }

  mapError(err: unknown, largestBytes: number, limitBytes: number): MappedError {
    // Errors here carry Kafka's error name in `type`, as kafkajs's do: one finder serves both.
    return mapKafkaError(err, largestBytes, limitBytes);
  }

  async close(): Promise<void> {
    this.dropPrefetched();
    this.session.close();
    this.resetMetadata();
    this.scratch.close();
    await this.compressor.close();
  }
}
