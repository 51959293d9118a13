// Where a network source's records go. Peers cannot replay, so there are two
// ways to keep at-least-once within what the agent controls:
//  - spool: records are serialized into the disk spool first; a connection
//    reads on once the append resolved (written), and a SpoolReplayer feeds
//    the pipeline from the spool, whose acks delete spooled segments. A crash
//    after the append loses nothing; a full spool (block) or full disk pauses
//    reading, so the peer's own buffer and TCP window take the backlog.
//  - direct: records are pushed downstream; the connection stays paused until
//    the push promise resolves (backpressure to the peer through TCP).
// deliver() resolves when the caller may read more.

import { AckGroup } from '../../core/ack.ts';
import type { Downstream } from '../../core/component.ts';
import type { EdgelogError } from '../../core/errors.ts';
import type { LogRecord } from '../../core/record.ts';
import type { Logger } from '../../observe/log.ts';
import { DiskSpool, appendedBefore } from '../../pipeline/spool/disk-spool.ts';
import type { SpoolConfig } from '../../pipeline/spool/config.ts';
import type { Registry } from '../../observe/prometheus.ts';
import { serializeRecord } from '../../pipeline/spool/record-codec.ts';
import { SpoolReplayer } from '../../pipeline/spool/replay.ts';
import type { NetEvents } from './events.ts';

const noop = () => {};
/** How long stop waits for deliveries in progress before it moves on. */
const STOP_GRACE_MS = 5000;
/** Queued batches are merged into one spool append up to about this many bytes. */
const COALESCE_BYTES = 256 * 1024;
/** A group for records that are acknowledged by the spool, not by the pipeline. */
const spooledGroup = new AckGroup(0, noop);

export class Delivery {
  private readonly out: Downstream;
  private readonly spool: DiskSpool | null;
  private readonly replayer: SpoolReplayer | null;
  private readonly ev: NetEvents;
  private readonly log: Logger;
  private outstanding = 0;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private unackedGroups = 0;
  private ackWaiters: (() => void)[] = [];
  private token = 0;
  private stopping = false;
  private replaying = true;
  /** Serialized batches waiting for the spool, in arrival order; one pump appends them. */
  private spoolPending: { payloads: Buffer[]; done: () => void }[] = [];
  private pumping = false;
  /** Set when the spool closes: appends still retrying give up (counted) instead of looping. */
  private giveUp = false;
  private readonly onGroupDone = () => {
    if (--this.unackedGroups === 0) this.wake(this.ackWaiters);
  };

  constructor(out: Downstream, spool: DiskSpool | null, ev: NetEvents, log: Logger) {
    this.out = out;
    this.spool = spool;
    this.ev = ev;
    this.log = log;
    this.replayer = spool ? new SpoolReplayer(spool, out, { log, onUndecodable: () => ev.malformed('spool_rejected', 'spool') }) : null;
    this.replayer?.start();
  }

  /**
   * How many bytes one connection may have in flight before it is paused:
   * 0 for direct pushes (the Downstream contract: await each push), 1 MiB of
   * queued spool appends (our choice: hides the write latency, ~16 socket reads).
   */
  get windowBytes(): number { return this.spool ? 1024 * 1024 : 0; }

  /** Bytes of batches handed to deliver() that have not resolved yet. */
  get outstandingBytes(): number { return this.outstanding; }

  /** The AckGroup records of the next batch belong to. */
  group(): AckGroup {
    if (this.spool) return spooledGroup;
    this.unackedGroups++;
    return new AckGroup(++this.token, this.onGroupDone);
  }

  async deliver(records: LogRecord[], bytes: number, group: AckGroup): Promise<void> {
    this.outstanding += bytes;
    this.inFlight++;
    try {
      if (this.spool) await this.toSpool(records);
      else {
        group.add(records.length);
        group.seal();
        await this.out.push(records);
      }
    } finally {
      this.outstanding -= bytes;
      if (--this.inFlight === 0) this.wake(this.idleWaiters);
    }
  }

  /**
   * A connection closed: its stream ended. Direct delivery calls push()
   * synchronously in deliver(), so the end is sent after the stream's last
   * records. Through the spool the records reach the pipeline later
   * (replay), so an end now would overtake them and cut a held group in two:
   * there the stage's own timeout (or the pipeline's flush at stop) ships it.
   */
  endStream(streamId: string): void {
    if (this.spool) return;
    try {
      this.out.endStream?.(streamId);
    } catch (e) {
      this.log.error('end of stream failed downstream', { err: e, stream_id: streamId });
    }
  }

  private toSpool(records: LogRecord[]): Promise<void> {
    const spool = this.spool!;
    let payloads = records.map(serializeRecord);
    if (payloads.some((p) => p.length > spool.maxRecordSize)) {
      // Framing caps should prevent this; a record the spool cannot hold is counted, the rest kept.
      const fit = payloads.filter((p) => p.length <= spool.maxRecordSize);
      this.ev.malformed('spool_rejected', 'spool', payloads.length - fit.length);
      payloads = fit;
      if (fit.length === 0) return Promise.resolve();
    }
    return new Promise((done) => {
      this.spoolPending.push({ payloads, done });
      if (!this.pumping) void this.pump();
    });
  }

  /**
   * One append at a time, in arrival order, taking every batch queued
   * meanwhile into the same append (one write for many socket reads). A batch
   * retrying on a full disk holds back the ones read after it: order holds.
   */
  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.spoolPending.length > 0) {
        // Up to ~256 KiB per append: a smaller write fits again sooner once a full disk frees space.
        let n = 0;
        let bytes = 0;
        while (n < this.spoolPending.length && (n === 0 || bytes < COALESCE_BYTES)) {
          for (const p of this.spoolPending[n]!.payloads) bytes += p.length;
          n++;
        }
        const items = this.spoolPending.splice(0, n);
        await this.appendWithRetry(items.length === 1 ? items[0]!.payloads : items.flatMap((i) => i.payloads));
        for (const i of items) i.done();
      }
    } finally {
      this.pumping = false;
    }
  }

  private async appendWithRetry(batch: Buffer[]): Promise<void> {
    let payloads = batch;
    const spool = this.spool!;
    let backoff = 100;
    for (;;) {
      try {
        await spool.append(payloads);
        return;
      } catch (e) {
        const err = e as EdgelogError;
        const done = appendedBefore(e);
        if (done > 0) payloads = payloads.slice(done); // never append a record twice
        if (!err.retriable || spool.isClosed || this.giveUp) {
          this.ev.malformed('spool_rejected', 'spool', payloads.length);
          this.log.error('spool refused records, dropped', { err, records: payloads.length });
          return;
        }
        // Disk full or I/O error: wait and retry; the connections stay paused meanwhile.
        this.ev.spoolRetry(e);
        if (this.stopping) backoff = Math.min(backoff, 200);
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }

  /** Resolves once every deliver() call so far has resolved (true), or after timeoutMs (false). */
  idle(timeoutMs = Infinity): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(true);
    return new Promise((r) => {
      const timer = Number.isFinite(timeoutMs) ? setTimeout(() => r(false), timeoutMs) : undefined;
      this.idleWaiters.push(() => { clearTimeout(timer); r(true); });
    });
  }

  /** Records pushed downstream (from the spool) and not yet acknowledged. */
  get inFlightDownstream(): number {
    return this.spool ? this.spool.unacked - this.spool.unread : this.unackedGroups;
  }

  /**
   * Waits until everything delivered is acknowledged downstream. With a spool:
   * while replaying, until the spool is empty; once replay stopped, until what
   * was already pushed is acked (the rest replays after restart).
   */
  async drain(timeoutMs: number): Promise<boolean> {
    if (!(await this.idle(timeoutMs))) return false;
    if (this.spool) {
      const until = Date.now() + timeoutMs;
      const left = () => (this.replaying ? this.spool!.unacked : this.inFlightDownstream);
      while (left() > 0 && !this.spool.isClosed) {
        if (Date.now() >= until) return false;
        await new Promise((r) => setTimeout(r, 20));
      }
      return true;
    }
    if (this.unackedGroups === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const ok = await Promise.race([
      new Promise<boolean>((r) => this.ackWaiters.push(() => r(true))),
      new Promise<boolean>((r) => { timer = setTimeout(() => r(false), timeoutMs); }),
    ]);
    clearTimeout(timer);
    return ok;
  }

  /** No more pushes downstream (records pushed earlier keep settling into the spool). */
  async stopReplay(): Promise<void> {
    this.stopping = true;
    // Bounded: an append blocked on a full spool, or a push into a stalled pipeline, must not hang shutdown.
    await this.idle(STOP_GRACE_MS);
    this.replaying = false;
    await this.replayer?.stop();
  }

  /** Persists the acked position and closes the spool (idempotent). */
  async closeSpool(): Promise<void> {
    this.giveUp = true;
    await this.spool?.close();
  }

  // The source lifecycle around the listeners, the same for every network source.

  /** start() failed after the spool opened: undo it. */
  async abort(): Promise<void> {
    await this.stopReplay();
    await this.closeSpool();
  }

  /** Input has stopped: no more pushes; with nothing in flight the spool closes now, else finish() closes it. */
  async stopInput(): Promise<void> {
    this.inputStopped = true;
    await this.stopReplay();
    if (this.inFlightDownstream === 0) await this.closeSpool();
  }

  /** Wait for in-flight records to settle into the spool, then close it if input has stopped. */
  async finish(timeoutMs: number): Promise<void> {
    await this.drain(timeoutMs);
    if (this.inputStopped) await this.closeSpool();
  }

  private inputStopped = false;

  private wake(list: (() => void)[]): void {
    for (const f of list.splice(0)) f();
  }
}

export async function openSpoolFor(cfg: SpoolConfig, dir: string, name: string, log: Logger, metrics: Registry): Promise<DiskSpool> {
  return DiskSpool.open(dir, {
    maxBytes: cfg.max_bytes, segmentBytes: cfg.segment_bytes, whenFull: cfg.when_full,
    fsyncIntervalMs: cfg.fsync_interval_ms, fsyncBytes: cfg.fsync_bytes, maxRecordBytes: cfg.max_record_bytes,
    ackPersistIntervalMs: cfg.ack_persist_interval_ms, name, log, metrics,
  });
}
