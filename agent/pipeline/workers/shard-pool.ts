// The main-thread side of a pipeline's processing workers. Batches from the
// sources are routed by stream (a stream always goes to the same worker, so
// its records keep their order), packed and transferred; encoded messages
// come back and are handed to the pipeline's send loop in arrival order. The
// AckGroups of the sources never leave this thread: an ack table maps the
// small ids the workers see back to them, and counts what each batch still
// holds so the pipeline's buffer accounting (backpressure) stays exact.

import type { Worker } from 'node:worker_threads';
import type { AckGroup, AckStatus } from '../../core/ack.ts';
import { NO_RECORDS, type EncodedMessage } from '../../core/component.ts';
import type { LogRecord } from '../../core/record.ts';
import type { Logger } from '../../observe/log.ts';
import type { PipelineEvents } from '../events.ts';
import type { WorkerMetricsHub, MetricsSource } from './metrics-mirror.ts';
import type { FromWorker, ToWorker, WorkerInit, WorkerMetrics } from './protocol.ts';
import { batchBytes, packBatch, STATUS_CODES, type WireResult } from './wire.ts';
import { BodyRing, type RingRegion } from './body-ring.ts';

const workerUrl = new URL('./shard-worker.ts', import.meta.url);

/** Where an encoded message came from, so its records can be settled, split or dead-lettered. */
export interface RemoteMeta {
  readonly worker: number;
  readonly result: ResultEntry;
  readonly index: number;
  readonly partFrom: number;
  readonly partTo: number;
  readonly obsFrom: number;
  readonly obsTo: number;
}

export type RemoteMessage = EncodedMessage & { remote: RemoteMeta };

interface ResultEntry { readonly id: number; readonly wire: WireResult; open: number }
interface BatchEntry { bytes: number; remaining: number; region: RingRegion | null; ring: BodyRing | null }
interface AckEntry { group: AckGroup; remaining: number; batch: BatchEntry }

export interface ShardPoolOptions {
  readonly workers: number;
  /** Size of each worker's shared body ring. */
  readonly ringBytes: number;
  readonly init: Omit<WorkerInit, 'index' | 'ring' | 'outRing'>;
  readonly events: PipelineEvents;
  readonly log: Logger;
  readonly hub: WorkerMetricsHub;
  /** Encoded messages, in the order a worker produced them. */
  readonly onMessages: (msgs: RemoteMessage[]) => void;
  /** Body bytes of input batches whose every record is settled. */
  readonly onReleased: (bytes: number) => void;
  /** GC pauses of a worker thread (kind, ms). */
  readonly onGc?: (pauses: Array<[string, number]>) => void;
  /** A worker failed (error thrown by a stage, or the thread died). */
  readonly onFailure: (reason: string) => void;
}

interface Shard {
  readonly index: number;
  readonly worker: Worker;
  readonly ring: BodyRing;
  readonly outView: Buffer;
  done: number[];
  exited: boolean;
}

export class ShardPool implements MetricsSource {
  private readonly o: ShardPoolOptions;
  private readonly shards: Shard[] = [];
  private readonly acks = new Map<number, AckEntry>();
  private nextAck = 1;
  private seq = 0;
  private readonly waiting = new Map<number, (v: unknown) => void>();
  private readonly shardOf = new Map<string, number>();
  private closing = false;
  /** Scratch for a batch's ack ids (copied into the batch's memory). */
  private ids = new Int32Array(1024);

  private constructor(o: ShardPoolOptions) { this.o = o; }

  /** Starts the workers and waits until each has built its stages (a stage that fails to build fails here). */
  static async start(o: ShardPoolOptions): Promise<ShardPool> {
    const pool = new ShardPool(o);
    const ready: Promise<void>[] = [];
    for (let i = 0; i < o.workers; i++) {
      // Twice the pipeline's buffer: the buffer bounds what is unsettled, so the ring rarely fills.
      const ring = new BodyRing(o.ringBytes);
      const outRing = new SharedArrayBuffer(o.ringBytes);
      // node:worker_threads is loaded only by an agent that runs processing workers (~1.2 MB RSS otherwise spent).
      const worker = new (process.getBuiltinModule('node:worker_threads') as typeof import('node:worker_threads')).Worker(workerUrl, {
        // V8 flags (the launcher's --max-semi-space-size) are process-wide: workers get them too.
        workerData: { ...o.init, index: i, ring: ring.sab, outRing } satisfies WorkerInit,
      });
      const shard: Shard = { index: i, worker, ring, outView: Buffer.from(outRing), done: [], exited: false };
      pool.shards.push(shard);
      ready.push(new Promise((resolve, reject) => {
        const onReady = (m: FromWorker): void => { if (m.t === 'ready') { worker.off('message', onReady); worker.off('error', reject); resolve(); } };
        worker.on('message', onReady);
        worker.once('error', reject);
      }));
      worker.on('message', (m: FromWorker) => pool.onMessage(shard, m));
      worker.on('error', (err) => pool.o.onFailure(`processing worker ${i} failed: ${err.message}`));
      worker.on('exit', (code) => {
        shard.exited = true;
        if (!pool.closing) pool.o.onFailure(`processing worker ${i} exited with code ${code}`);
      });
    }
    try {
      await Promise.all(ready);
    } catch (err) {
      await pool.terminate();
      throw err;
    }
    o.hub.attach(pool, await pool.snapshot());
    return pool;
  }

  get size(): number { return this.shards.length; }

  /** Route a batch by stream and hand it to the workers. */
  submit(batch: LogRecord[]): void {
    if (this.shards.length === 1) { this.post(this.shards[0]!, batch); return; }
    const first = batch[0]!.streamId;
    let mixed = false;
    for (let i = 1; i < batch.length; i++) if (batch[i]!.streamId !== first) { mixed = true; break; }
    if (!mixed) { this.post(this.shards[this.shardFor(first)]!, batch); return; }
    const parts: LogRecord[][] = this.shards.map(() => []);
    for (const r of batch) parts[this.shardFor(r.streamId)]!.push(r);
    for (let i = 0; i < parts.length; i++) if (parts[i]!.length) this.post(this.shards[i]!, parts[i]!);
  }

  private shardFor(streamId: string): number {
    let s = this.shardOf.get(streamId);
    if (s !== undefined) return s;
    // FNV-1a: stable across restarts, so a stream keeps its worker.
    let h = 0x811c9dc5;
    for (let i = 0; i < streamId.length; i++) h = Math.imul(h ^ streamId.charCodeAt(i), 0x01000193);
    s = (h >>> 0) % this.shards.length;
    if (this.shardOf.size > 100_000) this.shardOf.clear();
    this.shardOf.set(streamId, s);
    return s;
  }

  private post(shard: Shard, batch: LogRecord[]): void {
    let bytes = 0;
    for (let i = 0; i < batch.length; i++) bytes += batch[i]!.body.length;
    // Room for the newlines kept between lines of one chunk (see packBatch).
    const room = bytes + 2 * batch.length;
    const region = shard.ring.alloc(batchBytes(batch.length, room));
    const entry: BatchEntry = { bytes, remaining: batch.length, region, ring: region ? shard.ring : null };
    if (this.ids.length < batch.length) this.ids = new Int32Array(batch.length * 2);
    const ids = this.ids;
    let lastGroup: AckGroup | null = null;
    let lastId = 0;
    let lastEntry: AckEntry | null = null;
    for (let i = 0; i < batch.length; i++) {
      const g = batch[i]!.ack;
      if (g !== lastGroup) {
        lastGroup = g;
        lastId = this.nextAck;
        this.nextAck = this.nextAck >= 0x7ffffff0 ? 1 : this.nextAck + 1;
        lastEntry = { group: g, remaining: 0, batch: entry };
        this.acks.set(lastId, lastEntry);
      }
      lastEntry!.remaining++;
      ids[i] = lastId;
    }
    const { msg, transfer } = packBatch(batch, room, ids, region ? shard.ring.sab : null, region ? region.start : 0);
    shard.worker.postMessage(msg, transfer);
  }

  endStream(streamId: string): void {
    const shard = this.shards.length === 1 ? this.shards[0]! : this.shards[this.shardFor(streamId)]!;
    this.send(shard, { t: 'end', streamId });
  }

  /** Settle the records of acknowledged messages and let the workers forget them. */
  delivered(msgs: RemoteMessage[]): void {
    for (const m of msgs) {
      const r = m.remote;
      const w = r.result.wire;
      for (let p = r.partFrom; p < r.partTo; p++) this.settle(w.ackIds[p]!, w.ackCounts[p]!, 'delivered');
      this.messageDone(r);
    }
    this.flushDone();
  }

  /** observedMs of a message's records (latency histogram). */
  observed(m: RemoteMessage): Float64Array {
    return m.observedMs ?? m.remote.result.wire.observed.subarray(m.remote.obsFrom, m.remote.obsTo);
  }

  /** The destination refused a message as too large: the worker re-encodes its records in two halves. */
  async split(m: RemoteMessage): Promise<RemoteMessage[] | null> {
    const seq = ++this.seq;
    const shard = this.shards[m.remote.worker]!;
    const answer = new Promise((resolve) => this.waiting.set(seq, resolve));
    this.send(shard, { t: 'split', seq, result: m.remote.result.id, index: m.remote.index });
    const msgs = await answer as RemoteMessage[] | null;
    if (msgs) { this.messageDone(m.remote); this.flushDone(); }
    return msgs;
  }

  /** A single record the destination refuses: the worker dead-letters it with the error's code as reason and settles it as rejected. */
  reject(m: RemoteMessage, code: string, detail: string): void {
    this.send(this.shards[m.remote.worker]!, { t: 'reject', result: m.remote.result.id, index: m.remote.index, code, detail });
    this.messageDone(m.remote);
    this.flushDone();
  }

  /** Every worker releases what its stages hold and closes its open batch; resolves when all results are posted. */
  async flush(): Promise<void> {
    await Promise.all(this.shards.filter((s) => !s.exited).map((s) => {
      const seq = ++this.seq;
      const p = new Promise((resolve) => this.waiting.set(seq, resolve));
      this.send(s, { t: 'flush', seq });
      return p;
    }));
  }

  async snapshot(): Promise<WorkerMetrics[]> {
    return Promise.all(this.shards.filter((s) => !s.exited).map(async (s) => {
      const seq = ++this.seq;
      let timer: NodeJS.Timeout | undefined;
      const p = new Promise((resolve) => {
        this.waiting.set(seq, resolve);
        // A busy or stuck worker must not hang a scrape.
        timer = setTimeout(() => { this.waiting.delete(seq); resolve([]); }, 2000);
      });
      this.send(s, { t: 'metrics', seq });
      const json = await p as WorkerMetrics;
      clearTimeout(timer);
      return json;
    }));
  }

  /** Final metrics go to the hub's base, then the threads end. */
  async close(): Promise<void> {
    if (this.closing) return;
    const last = await this.snapshot().catch(() => []);
    this.o.hub.detach(this, last);
    await this.terminate();
  }

  private async terminate(): Promise<void> {
    this.closing = true;
    await Promise.all(this.shards.map((s) => s.worker.terminate().catch(() => 0)));
  }

  private send(shard: Shard, m: ToWorker): void {
    if (!shard.exited) shard.worker.postMessage(m);
  }

  private settle(id: number, n: number, status: AckStatus): void {
    const e = this.acks.get(id);
    if (!e) { this.o.log.error('processing worker settled an unknown acknowledgement', { id, n }); return; }
    e.group.settle(n, status);
    e.remaining -= n;
    if (e.remaining <= 0) this.acks.delete(id);
    const b = e.batch;
    b.remaining -= n;
    if (b.remaining === 0) {
      // Every record of the batch is settled: no stage looks at its bodies any more.
      if (b.region) b.ring!.release(b.region);
      this.o.onReleased(b.bytes);
    }
  }

  private messageDone(r: RemoteMeta): void {
    if (--r.result.open === 0) this.shards[r.worker]!.done.push(r.result.id);
  }

  private flushDone(): void {
    for (const s of this.shards) {
      if (s.done.length === 0) continue;
      this.send(s, { t: 'done', results: s.done });
      s.done = [];
    }
  }

  private onMessage(shard: Shard, m: FromWorker): void {
    switch (m.t) {
      case 'settles': this.applySettles(m.settles); break;
      case 'result': {
        const msgs = this.unpackResult(shard, m);
        if (m.splitSeq) this.answer(m.splitSeq, msgs);
        else this.o.onMessages(msgs);
        break;
      }
      case 'split-failed': this.answer(m.seq, null); break;
      case 'flushed': this.answer(m.seq, undefined); break;
      case 'metrics': this.answer(m.seq, m.json); break;
      case 'discarded': this.o.events.discarded(m.n, m.reason, m.detail); break;
      case 'error':
        this.o.log.error('processing stage threw; the batch was shipped as read', { worker: shard.index, error: m.message });
        this.o.onFailure(`a processing stage threw: ${m.message.split('\n')[0]}`);
        break;
      case 'gc': this.o.onGc?.(m.pauses); break;
      case 'ready': break;
    }
  }

  private answer(seq: number, v: unknown): void {
    const f = this.waiting.get(seq);
    if (f) { this.waiting.delete(seq); f(v); }
  }

  private applySettles(s: Int32Array): void {
    for (let i = 0; i < s.length; i += 3) this.settle(s[i]!, s[i + 1]!, STATUS_CODES[s[i + 2]!]!);
  }

  private unpackResult(shard: Shard, w: WireResult): RemoteMessage[] {
    const entry: ResultEntry = { id: w.id, wire: w, open: w.count };
    // A view into the worker's output ring (freed when the result is done) or the transferred buffer.
    const values = w.values ? Buffer.from(w.values) : shard.outView.subarray(w.valuesOffset, w.valuesOffset + (w.count ? w.valueEnds[w.count - 1]! : 0));
    const keys = Buffer.from(w.keys);
    const out: RemoteMessage[] = new Array(w.count);
    let vp = 0;
    let kp = 0;
    let pp = 0;
    let op = 0;
    for (let i = 0; i < w.count; i++) {
      const ve = w.valueEnds[i]!;
      const kl = w.keyLens[i]!;
      const key = kl >= 0 ? keys.subarray(kp, kp + kl) : null;
      if (kl > 0) kp += kl;
      const n = w.records[i]!;
      const remote: RemoteMeta = { worker: shard.index, result: entry, index: i, partFrom: pp, partTo: w.partEnds[i]!, obsFrom: op, obsTo: op + n };
      // The records live in the worker: here only their count.
      out[i] = { key, value: values.subarray(vp, ve), headers: w.headers[w.headerIdx[i]!]!, records: NO_RECORDS, count: n, observedMs: w.observed.subarray(op, op + n), remote };
      vp = ve;
      pp = w.partEnds[i]!;
      op += n;
    }
    return out;
  }
}
