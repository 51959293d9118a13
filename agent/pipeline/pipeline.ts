// One pipeline: processors -> batcher -> encoder -> sink, with byte-bounded
// buffering (backpressure to the source), retry with backoff, splitting of
// oversize messages, dead letters, and acknowledgement back to the source.
// Retry, batching, backpressure and acks live here once, not in each sink
// (the OTel Collector's exporterhelper idea).
//
// Ordering: one request is in flight at a time and batches are sent in the
// order they were closed, so records of one stream reach the destination in
// order even across retries. A request carries every batch ready at that
// moment, so throughput does not depend on round trips.

import { recordCount, type Downstream, type EncodedMessage, type Encoder, type Processor, type Sink } from '../core/component.ts';
import type { LogRecord } from '../core/record.ts';
import { sliceRecords, type RecordRun, type RunSlice } from '../core/record-run.ts';
import { RecordTooLargeError, pipelineAction, type EdgelogError } from '../core/errors.ts';
import type { Logger } from '../observe/log.ts';
import type { DeliveryConfig } from './config.ts';
import { backoffMs } from './config.ts';
import { discardReason, type DeadLetterFile } from './dead-letter.ts';
import type { PipelineEvents } from './events.ts';
// Types only: the worker pool is loaded when `agent.worker_threads` asks for workers.
import type { ShardPool, RemoteMessage } from './workers/shard-pool.ts';
import type { WorkerMetricsHub } from './workers/metrics-mirror.ts';
import type { WorkerComponent } from './workers/protocol.ts';
import { StageChain, encodeFitting, encodeRunsFitting } from './stage-chain.ts';

export interface PipelineParts {
  readonly id: string;
  readonly processors: Processor[];
  readonly encoder: Encoder;
  readonly sink: Sink;
  readonly delivery: DeliveryConfig;
  readonly deadLetter: DeadLetterFile;
  readonly events: PipelineEvents;
  readonly log: Logger;
}

const resolved = Promise.resolve();

/** Decode/transform/encode on worker threads (agent.worker_threads). */
export interface PipelineWorkers {
  readonly workers: number;
  readonly processors: WorkerComponent[];
  readonly encoder: WorkerComponent;
  readonly hub: WorkerMetricsHub;
  readonly ctx: { dataDir: string; deadLetterMaxBytes?: number; agentId: string; host: string; service: string; site: string };
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  readonly logFormat: 'json' | 'text';
  /** Where the workers' GC pauses go (the agent's pause histogram). */
  readonly onGc?: (pauses: Array<[string, number]>) => void;
}

/** A closed batch of records held in columns (the columnar lane: no stage, no worker, an encoder with encodeRuns). */
interface RunBatch { readonly slices: RunSlice[]; readonly count: number; readonly bytes: number }

/** One request, encoded and ready to send. */
interface Prepared { messages: EncodedMessage[]; rejects: LogRecord[]; bodyBytes: number; count: number }
// Time-based processors (multiline timeout, throttle release) are ticked at this period.
const TICK_MS = 100;
// A request carries at most this many ready batches (bounds request size to ~4x batch.max_bytes).
const MAX_BATCHES_PER_REQUEST = 4;

/** An encoder that reuses the memory of values handed back (otlp_proto: encoders/otlp/value-pool.ts). */
interface RecyclingEncoder { recycle(messages: readonly EncodedMessage[]): void }
/** A sink whose send(), once resolved, leaves no reference to the message values (the Kafka sink: both clients copy them into their request). */
interface ReleasingSink { readonly releasesValuesAfterSend: true }

/** Hands acknowledged values back to the encoder, when both sides allow it; else null. */
function valueRecycler(encoder: Encoder, sink: Sink): RecyclingEncoder | null {
  const e = encoder as Partial<RecyclingEncoder>;
  return typeof e.recycle === 'function' && (sink as Partial<ReleasingSink>).releasesValuesAfterSend === true ? (encoder as unknown as RecyclingEncoder) : null;
}

export class Pipeline implements Downstream {
  readonly id: string;
  private readonly p: PipelineParts;
  private open: LogRecord[] = [];
  private openBytes = 0;
  // The open batch of the columnar lane, beside the one of LogRecords. A
  // stream sends only one kind (a file tailer sends runs), so closing them
  // separately keeps every stream in order.
  private openRuns: RunSlice[] = [];
  private openRunCount = 0;
  private openRunBytes = 0;
  /** Encoded bytes per record beyond its body, from the last batch of runs (acceptRun's size estimate). */
  private runOverhead = 0;
  private readonly ready: Array<LogRecord[] | RunBatch> = [];
  /** Body bytes buffered in open + ready batches + the request in flight. */
  private buffered = 0;
  private waiters: Array<() => void> = [];
  private linger: NodeJS.Timeout | null = null;
  private readonly ticker: NodeJS.Timeout;
  private sender: Promise<void> | null = null;
  /** While a request is on the wire: the next one, encoded as soon as a batch was ready for it (sent when the current one is answered). */
  private following: Prepared | null = null;
  private onWire = false;
  private stopping = false;
  private abortAt = Infinity;
  private idleWaiters: Array<() => void> = [];
  /** Set when decode/transform/encode run on worker threads: encoded messages arrive here. */
  private pool: ShardPool | null = null;
  private readonly encoded: RemoteMessage[] = [];
  /** Why a processing worker failed, if one did (for /readyz). */
  workerFailure: string | null = null;
  private readonly chain: StageChain;
  /** Where acknowledged values go back for reuse (in-thread encoding only), or null. */
  private readonly recycler: RecyclingEncoder | null;
  /** Runs stay in columns up to the encoder: no processor, and an encoder that encodes columns (workers: see pushRun). */
  private readonly columnar: boolean;

  constructor(parts: PipelineParts) {
    this.p = parts;
    this.id = parts.id;
    this.recycler = valueRecycler(parts.encoder, parts.sink);
    this.columnar = parts.processors.length === 0 && typeof parts.encoder.encodeRuns === 'function';
    this.chain = new StageChain(parts.processors, (recs) => this.accept(recs));
    this.ticker = setInterval(() => this.tick(), TICK_MS);
    this.ticker.unref();
  }

  /**
   * Moves decoders, transforms, batching and encoding onto `w.workers` threads,
   * streams sharded by streamId. Call before the first push.
   */
  async useWorkers(w: PipelineWorkers): Promise<void> {
    const { ShardPool } = await import('./workers/shard-pool.ts');
    this.pool = await ShardPool.start({
      workers: w.workers,
      ringBytes: Math.max(2 * this.p.delivery.buffer.maxBytes, 4 * this.p.delivery.batch.maxBytes),
      init: {
        pipelineId: this.id, processors: w.processors, encoder: w.encoder, batch: this.p.delivery.batch,
        maxMessageBytes: this.p.sink.maxMessageBytes, deadLetterPath: this.p.deadLetter.path,
        ...w.ctx, logLevel: w.logLevel, logFormat: w.logFormat,
      },
      events: this.p.events, log: this.p.log, hub: w.hub,
      onMessages: (msgs) => this.acceptEncoded(msgs),
      onReleased: (bytes) => this.release(bytes),
      onGc: w.onGc,
      onFailure: (reason) => {
        this.workerFailure = reason;
        this.p.log.error('processing worker failure', { pipeline: this.id, reason });
      },
    });
  }

  get workerThreads(): number { return this.pool?.size ?? 0; }

  /** Accept a batch from a source. The returned promise resolves when the source may push again. */
  push(batch: LogRecord[]): Promise<void> {
    let bytes = 0;
    for (let i = 0; i < batch.length; i++) bytes += batch[i]!.body.length;
    this.p.events.received(batch.length, bytes);
    if (this.pool) {
      if (batch.length === 0) return resolved;
      // Counted until every record of the batch is settled (the pool reports it).
      this.buffered += bytes;
      this.p.events.bufferBytes(this.buffered);
      this.pool.submit(batch);
    } else {
      this.chain.push(batch);
    }
    return this.room();
  }

  /**
   * Accept one chunk's records in columns. They stay in columns when nothing
   * before the encoder needs their fields; otherwise they become LogRecords
   * here (the processing workers pack records into their own columns).
   */
  pushRun(run: RecordRun): Promise<void> {
    if (this.pool || !this.columnar) return this.push(run.toRecords());
    this.p.events.received(run.length, run.bodyBytes);
    if (run.length > 0) this.acceptRun(run);
    return this.room();
  }

  /** Resolves when the buffer has room again: at once below buffer.max_bytes, else when release() frees enough. */
  private room(): Promise<void> {
    if (this.buffered < this.p.delivery.buffer.maxBytes) return resolved;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  get events(): PipelineEvents { return this.p.events; }

  /** The agent went quiet: the encoder (on this thread) and the sink drop what they keep only for reuse. */
  trim(): void {
    if (!this.pool) this.p.encoder.trim?.();
    this.p.sink.trim?.();
  }

  /** A stream ended: stages release what they hold for it (multiline groups) without waiting for their timeout. */
  endStream(streamId: string): void {
    if (this.pool) this.pool.endStream(streamId);
    else this.chain.endStream(streamId);
  }

  /** Body bytes buffered or in flight (for /readyz and tests). */
  get bufferedBytes(): number { return this.buffered; }

  /**
   * Flush everything held (processors, open batch) and wait until all of it was
   * acknowledged, or until `timeoutMs` passes (then retries stop; unacked records
   * stay unacknowledged, so their sources will read them again after a restart).
   */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    clearInterval(this.ticker);
    if (this.pool) await this.pool.flush();
    else this.chain.flush();
    this.closeBatch();
    this.abortAt = Date.now() + timeoutMs;
    const deadline = new Promise<void>((r) => setTimeout(r, timeoutMs + 50).unref());
    await Promise.race([this.idle(), deadline]);
    if (this.linger) clearTimeout(this.linger);
    await this.pool?.close();
    await this.p.sink.close().catch((err) => this.p.log.warn('sink close failed', { error: (err as Error).message }));
  }

  /** Resolves when nothing is buffered or in flight. */
  idle(): Promise<void> {
    if (this.buffered === 0 && !this.sender) return resolved;
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private tick(): void {
    if (!this.pool) this.chain.tick(Date.now());
  }

  private accept(recs: LogRecord[]): void {
    if (recs.length === 0) return;
    const { maxBytes, maxEvents, timeoutMs } = this.p.delivery.batch;
    for (let i = 0; i < recs.length; i++) {
      const r = recs[i]!;
      const n = r.body.length;
      this.open.push(r);
      this.openBytes += n;
      this.buffered += n;
      if (this.openBytes >= maxBytes || this.open.length >= maxEvents) this.closeBatch();
    }
    this.p.events.bufferBytes(this.buffered);
    this.armLinger(timeoutMs);
  }

  /**
   * The columnar lane's accept(): the batch closes at the same record it would
   * close at for LogRecords (batch.max_bytes, batch.max_events), or earlier
   * when its estimated encoding nears the destination's message limit.
   */
  private acceptRun(run: RecordRun): void {
    const { maxBytes, maxEvents, timeoutMs } = this.p.delivery.batch;
    const n = run.length;
    const { starts, ends } = run;
    this.buffered += run.bodyBytes;
    // A batch also closes before its encoding would pass the destination's
    // message limit (estimated from the last batch's bytes per record beyond
    // the body), instead of being encoded, found too large and encoded again
    // in halves. json-200b: 512 KiB of 200-byte bodies encode to ~1 MB.
    const ov = this.runOverhead;
    const cap = this.p.sink.maxMessageBytes * 0.9;
    const full = (bytes: number, count: number): boolean => bytes >= maxBytes || bytes + count * ov >= cap;
    let from = 0;
    while (from < n) {
      let to = Math.min(n, from + maxEvents - this.openRunCount);
      let bytes = run.bytesOf(from, to);
      if (full(this.openRunBytes + bytes, this.openRunCount + to - from)) {
        // Close right after the record that fills the batch.
        bytes = 0;
        to = from;
        while (to < n) {
          bytes += ends[to]! - starts[to]!;
          to++;
          if (full(this.openRunBytes + bytes, this.openRunCount + to - from)) break;
        }
      }
      this.openRuns.push({ run, from, to });
      this.openRunCount += to - from;
      this.openRunBytes += bytes;
      if (this.openRunCount >= maxEvents || full(this.openRunBytes, this.openRunCount)) {
        // The timer was for the batch just closed; the next one gets its own (armLinger below).
        if (this.linger && this.open.length === 0) { clearTimeout(this.linger); this.linger = null; }
        this.closeRuns();
      }
      from = to;
    }
    this.p.events.bufferBytes(this.buffered);
    this.armLinger(timeoutMs);
  }

  /** Whatever is open is closed at most batch.timeout after its first record. */
  private armLinger(timeoutMs: number): void {
    if ((this.open.length > 0 || this.openRuns.length > 0) && this.linger === null) {
      this.linger = setTimeout(() => { this.linger = null; this.closeBatch(); }, timeoutMs);
    }
  }

  /** Encoded messages from the workers, in the order each worker produced them. */
  private acceptEncoded(msgs: RemoteMessage[]): void {
    for (let i = 0; i < msgs.length; i++) this.encoded.push(msgs[i]!);
    this.startSender();
  }

  /** Close both open batches (linger timeout, stop); accept() closes the LogRecord batch when it is full. */
  private closeBatch(): void {
    if (this.linger) { clearTimeout(this.linger); this.linger = null; }
    this.closeRuns();
    if (this.open.length === 0) return;
    this.ready.push(this.open);
    this.open = [];
    this.openBytes = 0;
    this.startSender();
  }

  private closeRuns(): void {
    if (this.openRuns.length === 0) return;
    this.ready.push({ slices: this.openRuns, count: this.openRunCount, bytes: this.openRunBytes });
    this.openRuns = [];
    this.openRunCount = 0;
    this.openRunBytes = 0;
    this.startSender();
  }

  private startSender(): void {
    if (!this.sender) this.sender = this.sendLoop().finally(() => { this.sender = null; this.checkIdle(); });
    else if (this.onWire && this.following === null) this.prepareFollowing();
  }

  private async sendLoop(): Promise<void> {
    let current = this.prepare();
    while (current) {
      const inFlight = this.deliverPrepared(current);
      // Encode the next request while this one is on the wire: with one request
      // in flight, encoding and the Kafka round trip otherwise never overlap
      // (bench/results/results.md profile). Sends stay strictly in order.
      this.onWire = true;
      this.prepareFollowing();
      await inFlight;
      this.onWire = false;
      current = this.following ?? this.prepare();
      this.following = null;
    }
  }

  /**
   * The request after the one on the wire, from the batches ready now; if
   * none is, startSender() comes back here when one closes. The sink gets it
   * as a hint (the Kafka sink compresses it meanwhile): at saturation the
   * next batch usually closes while a request is out, and compressing it only
   * once the request was answered left the main thread idle about a third of
   * the time (json-200b profile: 32 % idle, liblz4 and crc32c 25 %).
   */
  private prepareFollowing(): void {
    const next = this.prepare();
    if (next === null) return;
    this.following = next;
    if (next.messages.length > 0) this.p.sink.prepare?.(next.messages);
  }

  /** Take up to MAX_BATCHES_PER_REQUEST ready batches and encode them into one request. */
  private prepare(): Prepared | null {
    if (this.pool) return this.prepareEncoded();
    if (this.ready.length === 0) return null;
    const p: Prepared = { messages: [], rejects: [], bodyBytes: 0, count: 0 };
    for (let i = 0; i < MAX_BATCHES_PER_REQUEST && this.ready.length > 0; i++) {
      const b = this.ready.shift()!;
      if (Array.isArray(b)) {
        p.count += b.length;
        for (let k = 0; k < b.length; k++) p.bodyBytes += b[k]!.body.length;
        this.encodeFitting(b, p.messages, p.rejects);
      } else {
        p.count += b.count;
        p.bodyBytes += b.bytes;
        const first = p.messages.length;
        encodeRunsFitting(this.p.encoder, this.p.sink.maxMessageBytes, b.slices, p.messages, p.rejects);
        let encoded = 0;
        for (let k = first; k < p.messages.length; k++) encoded += p.messages[k]!.value.length;
        if (b.count > 0 && p.rejects.length === 0) this.runOverhead = Math.max(0, (encoded - b.bytes) / b.count);
      }
    }
    return p;
  }

  /** Worker mode: take ready messages up to about the same request size the in-thread path builds. */
  private prepareEncoded(): Prepared | null {
    if (this.encoded.length === 0) return null;
    const maxBytes = this.p.delivery.batch.maxBytes * MAX_BATCHES_PER_REQUEST;
    const maxMsgs = this.p.delivery.batch.maxEvents * MAX_BATCHES_PER_REQUEST;
    let bytes = 0;
    let n = 0;
    while (n < this.encoded.length && n < maxMsgs && bytes < maxBytes) bytes += this.encoded[n++]!.value.length;
    const messages = this.encoded.splice(0, n);
    let count = 0;
    for (const m of messages) count += recordCount(m);
    // bodyBytes 0: the pool releases buffer space as records settle.
    return { messages, rejects: [], bodyBytes: 0, count };
  }

  private async deliverPrepared(p: Prepared): Promise<void> {
    try {
      if (p.rejects.length) await this.deadLetter(p.rejects, new RecordTooLargeError(p.rejects[0]!.body.length, this.p.sink.maxMessageBytes));
      await this.deliver(p.messages);
    } catch (err) {
      // Only reached when shutting down with retries abandoned: leave the records
      // unacknowledged (their sources re-read them after restart) and release memory.
      this.p.events.unacknowledgedAtShutdown(p.count, (err as Error).message);
    }
    this.release(p.bodyBytes);
  }

  /** Encode a batch, halving it until every message fits the destination's limit. */
  private encodeFitting(batch: LogRecord[], out: EncodedMessage[], rejects: LogRecord[]): void {
    encodeFitting(this.p.encoder, this.p.sink.maxMessageBytes, batch, out, rejects);
  }

  /** Written before the ack, so a crash cannot lose a record without a trace. */
  private async deadLetter(records: LogRecord[], err: EdgelogError): Promise<void> {
    this.p.events.discarded(records.length, discardReason(err.code), err.message);
    try {
      await this.p.deadLetter.write(records, err.code, err.message);
    } catch (e) {
      // Counted above either way; a full disk must not stall delivery of everything else.
      this.p.log.error('dead-letter write failed', { path: this.p.deadLetter.path, error: (e as Error).message });
    }
    for (const r of records) r.ack.settle(1, 'rejected');
  }

  /**
   * Send until acknowledged, by the error table (core/errors.ts): a retriable
   * failure backs off and retries (until shutdown's deadline); a record the
   * destination never accepts (too large, invalid) is found by halving the
   * request and dead-lettered with its reason while the rest is delivered; a
   * destination that refuses everything (authorization, missing topic) marks
   * the pipeline degraded with that reason and is probed at the longest
   * backoff. Other pipelines have their own senders, so they keep flowing.
   */
  private async deliver(messages: EncodedMessage[]): Promise<void> {
    if (messages.length === 0) return;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.p.sink.send(messages);
        this.acknowledge(messages);
        // Worker mode: the values came from the workers' encoders, not this one.
        if (this.recycler && !this.pool) this.recycler.recycle(messages);
        return;
      } catch (err) {
        const action = pipelineAction(err);
        if (action === 'dead_letter') {
          await this.deliverSplit(messages, err as EdgelogError);
          return;
        }
        // A denied destination will not change its mind within the backoff ramp: probe at the cap.
        const wait = action === 'degrade' ? this.p.delivery.retry.maxBackoffMs : backoffMs(attempt, this.p.delivery.retry);
        this.p.events.sendFailed(err, attempt, wait);
        if (this.stopping && Date.now() + wait > this.abortAt) throw err;
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  /** The destination refused a record (too large for its limit, or invalid): halve and send in order until the one refused record is found. */
  private async deliverSplit(messages: EncodedMessage[], err: EdgelogError): Promise<void> {
    if (messages.length > 1) {
      const half = messages.length >> 1;
      await this.deliver(messages.slice(0, half));
      await this.deliver(messages.slice(half));
      return;
    }
    const only = messages[0]! as RemoteMessage;
    if (this.pool && only.remote) {
      if (recordCount(only) > 1) {
        const parts = await this.pool.split(only);
        if (parts) { await this.deliver(parts); return; }
      }
      // The worker dead-letters it, counts it (discarded, by reason) and settles it as rejected.
      this.pool.reject(only, err.code, err.message);
      return;
    }
    const runs = messages[0]!.runs;
    const recs = runs ? sliceRecords(runs) : messages[0]!.records;
    if (recs.length === 1) {
      await this.deadLetter(recs, err instanceof RecordTooLargeError ? new RecordTooLargeError(messages[0]!.value.length, this.p.sink.maxMessageBytes) : err);
      return;
    }
    const half = recs.length >> 1;
    for (const part of [recs.slice(0, half), recs.slice(half)]) {
      const out: EncodedMessage[] = [];
      const rejects: LogRecord[] = [];
      this.encodeFitting(part, out, rejects);
      if (rejects.length) await this.deadLetter(rejects, new RecordTooLargeError(rejects[0]!.body.length, this.p.sink.maxMessageBytes));
      await this.deliver(out);
    }
  }

  /** Settle the records of acknowledged messages (here, or through the pool when they live on a worker) and count the request. */
  private acknowledge(messages: EncodedMessage[]): void {
    const now = Date.now();
    let n = 0;
    let bytes = 0;
    for (const m of messages) { n += recordCount(m); bytes += m.value.length; }
    const observed = new Float64Array(n);
    let i = 0;
    if (this.pool) {
      for (const m of messages as RemoteMessage[]) { const o = this.pool.observed(m); observed.set(o, i); i += o.length; }
      this.pool.delivered(messages as RemoteMessage[]);
    } else {
      for (const m of messages) {
        const runs = m.runs;
        if (runs) {
          // One settle per run slice, not per record.
          for (const sl of runs) {
            const k = sl.to - sl.from;
            observed.fill(sl.run.observedMs, i, i + k);
            i += k;
            sl.run.ack.settle(k, 'delivered');
          }
          continue;
        }
        for (const r of m.records) { observed[i++] = r.observedMs; r.ack.settle(1, 'delivered'); }
      }
    }
    this.p.events.delivered(n, bytes, observed, now);
  }

  private release(bytes: number): void {
    this.buffered -= bytes;
    this.p.events.bufferBytes(this.buffered);
    if (this.buffered <= this.p.delivery.buffer.lowBytes && this.waiters.length > 0) {
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    }
    this.checkIdle();
  }

  private checkIdle(): void {
    if (this.buffered === 0 && !this.sender && this.idleWaiters.length > 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
  }
}
