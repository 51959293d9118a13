// DiskSpool: a segmented append-only log of opaque records on local disk,
// used by sources that cannot replay (network) and by the pipeline when no
// region can take data. Records come back in append order; the consumer acks
// whole read batches (in any order) and the acked position only moves over the
// longest acked prefix, so a crash replays from the first unacked record
// (at-least-once; duplicates bounded by what was read but not yet acked,
// plus at most ack_persist_interval of acks).
//
// API
//   const s = await DiskSpool.open(dir, opts)  // creates dir, cuts a torn tail, resumes at the persisted ack
//   await s.append(payloads)   // resolves once the frames are written (write(2): they survive a crash of
//                              // this process; fsync follows by fsync_interval_ms / fsync_bytes for power loss).
//                              // Rejects with DiskFullError (retriable; nothing half-written stays on disk),
//                              // RecordTooLargeError, or SpoolClosedError. An append larger than what is left of the
//                              // active segment is written in runs: a rejection after some runs carries
//                              // `appended` (leading records written), see appendedBefore(). A caller that retries sends
//                              // the rest and holds later appends back to keep order. With when_full=block it waits for
//                              // acks to free a segment; with drop_oldest it deletes the oldest segment (counted).
//   await s.readable()         // resolves when unread records exist (or the spool closed)
//   const b = await s.read(maxRecords, maxBytes)  // next batch {id, firstSeq, payloads} or null when nothing unread
//   s.ack(b.id)                // batch delivered (or deliberately dropped) downstream
//   s.sizeBytes, s.unacked, s.unread, s.stats
//   await s.close()            // fsync, persist the acked position, release the lock
//
// Files in `dir`: <base seq, 20 digits>.seg segments (format.ts), ACKED (the
// acked sequence, replaced atomically: write tmp, fsync, rename, fsync dir) and
// LOCK (the owner's pid, so two agents never share a spool).
// Appends are serialized through one promise chain; reads are serialized by
// the caller (one reader). Sequence numbers are plain numbers (safe to 2^53).

import { open, readdir, readFile, rename, unlink, mkdir, writeFile, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Registry } from '../../observe/prometheus.ts';
import { DiskFullError, EdgelogError, RecordTooLargeError } from '../../core/errors.ts';
import { silentLogger, type Logger } from '../../observe/log.ts';
import { spoolDefaults, type SpoolFullPolicy } from './config.ts';
import { SpoolEvents, type SpoolStats } from './events.ts';
import {
  HEADER_BYTES, FRAME_HEADER_BYTES, decodeHeader, encodeFrames, encodeHeader,
  parseSegmentName, scanFrames, segmentName,
} from './format.ts';

export interface DiskSpoolOptions {
  maxBytes?: number;
  segmentBytes?: number;
  whenFull?: SpoolFullPolicy;
  fsyncIntervalMs?: number;
  fsyncBytes?: number;
  maxRecordBytes?: number;
  ackPersistIntervalMs?: number;
  /** Label for metrics and logs (e.g. the source id). */
  name?: string;
  log?: Logger;
  metrics?: Registry;
}

export interface SpoolBatch {
  /** Pass to ack(). The sequence number just past the batch's last record. */
  id: number;
  /** Sequence number of payloads[0]: with the spool name, a stable dedupe key. */
  firstSeq: number;
  payloads: Buffer[];
}

/** How many leading records of a rejected append were written anyway (0 for most failures). */
export function appendedBefore(err: unknown): number {
  const n = (err as { appended?: unknown }).appended;
  return typeof n === 'number' ? n : 0;
}

export class SpoolClosedError extends EdgelogError {
  constructor() { super('EDGELOG_SPOOL_CLOSED', 'spool is closed', { retriable: false }); }
}

export class SpoolLockedError extends EdgelogError {
  constructor(dir: string, pid: number) { super('EDGELOG_SPOOL_LOCKED', `spool ${dir} is in use by process ${pid}`, { retriable: false }); }
}

/** An I/O failure other than a full disk; the write was rolled back. */
export class SpoolIoError extends EdgelogError {
  constructor(message: string, cause: unknown) { super('EDGELOG_SPOOL_IO', message, { retriable: true, cause }); }
}

interface Segment {
  base: number;
  count: number;
  /** Bytes of the file that hold complete frames (the file is never longer once a write returned). */
  bytes: number;
  path: string;
}

const isDiskFull = (e: unknown) => { const c = (e as { code?: string }).code; return c === 'ENOSPC' || c === 'EDQUOT'; };
const errCode = (e: unknown) => (e as { code?: string }).code ?? 'EIO';
/** Roll the active segment once fully acked and at least this big, so acked bytes are given back without a file per batch. */
const ROLL_ACKED_BYTES = 64 * 1024;

export class DiskSpool {
  readonly dir: string;
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly whenFull: SpoolFullPolicy;
  private readonly fsyncBytes: number;
  private readonly maxRecordBytes: number;
  private readonly ev: SpoolEvents;
  private readonly log: Logger;
  private readonly name: string;

  private segments: Segment[] = [];
  private writeFd: FileHandle | null = null;
  private nextSeq = 0;
  private acked = 0;
  private persistedAck = -1;
  private readSeq = 0;
  private readSeg: Segment | null = null;
  private readOff = 0;
  private readFd: FileHandle | null = null;
  private readFdSeg: Segment | null = null;
  /** Batches handed out and not yet acked, in read order. */
  private inflight: { end: number; done: boolean }[] = [];
  private inflightHead = 0;
  private unsynced = 0;
  private total = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private spaceWaiters: (() => void)[] = [];
  private dataWaiters: (() => void)[] = [];
  private persisting: Promise<void> | null = null;
  private timers: NodeJS.Timeout[] = [];
  private closed = false;
  private syncQueued = false;
  /** Running average of frame size seen by read(), to size its disk reads. */
  private avgFrame = 256;

  private constructor(dir: string, o: DiskSpoolOptions) {
    this.dir = dir;
    this.maxBytes = o.maxBytes ?? spoolDefaults.max_bytes;
    this.segmentBytes = o.segmentBytes ?? Math.min(spoolDefaults.segment_bytes, Math.floor(this.maxBytes / 4));
    this.whenFull = o.whenFull ?? spoolDefaults.when_full;
    this.fsyncBytes = o.fsyncBytes ?? spoolDefaults.fsync_bytes;
    this.maxRecordBytes = Math.min(o.maxRecordBytes ?? spoolDefaults.max_record_bytes, this.segmentBytes - HEADER_BYTES - FRAME_HEADER_BYTES);
    this.name = o.name ?? dir;
    this.log = (o.log ?? silentLogger).child({ component: 'spool' });
    this.ev = new SpoolEvents(this.name, this.log, o.metrics);
    if (this.segmentBytes * 2 > this.maxBytes) throw new EdgelogError('EDGELOG_SPOOL_CONFIG', `segment size ${this.segmentBytes} must be at most half of max ${this.maxBytes}`);
  }

  static async open(dir: string, opts: DiskSpoolOptions = {}): Promise<DiskSpool> {
    const s = new DiskSpool(dir, opts);
    const key = resolve(dir);
    if (openDirs.has(key)) throw new SpoolLockedError(dir, process.pid);
    openDirs.add(key);
    try {
      await mkdir(dir, { recursive: true });
      await s.lock();
      try {
        await s.recover();
      } catch (e) {
        await unlink(join(dir, 'LOCK')).catch(() => {});
        throw e;
      }
    } catch (e) {
      openDirs.delete(key);
      throw e;
    }
    const syncEvery = opts.fsyncIntervalMs ?? spoolDefaults.fsync_interval_ms;
    if (syncEvery > 0) {
      s.timers.push(setInterval(() => {
        if (s.unsynced === 0 || s.syncQueued) return;
        s.syncQueued = true; // one queued fsync at most, even while an append waits for space
        s.enqueue(() => { s.syncQueued = false; return s.sync(); }).catch(() => {});
      }, syncEvery).unref());
    }
    const persistEvery = opts.ackPersistIntervalMs ?? spoolDefaults.ack_persist_interval_ms;
    s.timers.push(setInterval(() => { if (s.persistedAck !== s.acked) s.persistAck().catch(() => {}); }, Math.max(10, persistEvery)).unref());
    return s;
  }

  get stats(): Readonly<SpoolStats> { return this.ev.stats; }
  get sizeBytes(): number { return this.total; }
  /** Records appended and not yet acked. */
  get unacked(): number { return this.nextSeq - this.acked; }
  /** Records appended and not yet handed out by read(). */
  get unread(): number { return this.nextSeq - this.readSeq; }
  get ackedSeq(): number { return this.acked; }
  get isClosed(): boolean { return this.closed; }
  /** Largest payload append() accepts. */
  get maxRecordSize(): number { return this.maxRecordBytes; }
  /** True while an append waits for acks to free space (when_full: block). */
  get waitingForSpace(): boolean { return this.spaceWaiters.length > 0; }

  // ---------------------------------------------------------------- open

  /** LOCK holds `pid starttime`: a dead owner, or a live process that merely reuses its pid (container restart), does not count. */
  private async lock(): Promise<void> {
    const p = join(this.dir, 'LOCK');
    try {
      const [pidText, start] = (await readFile(p, 'utf8')).trim().split(' ');
      const pid = Number(pidText);
      if (pid && pid !== process.pid && pidAlive(pid) && (start === undefined || start === (await procStart(pid)))) throw new SpoolLockedError(this.dir, pid);
    } catch (e) {
      if (e instanceof SpoolLockedError) throw e;
    }
    await writeFile(p, `${process.pid} ${await procStart(process.pid)}`);
  }

  private async recover(): Promise<void> {
    const names = (await readdir(this.dir)).sort();
    for (const n of names) if (n.endsWith('.tmp')) await unlink(join(this.dir, n)).catch(() => {});
    const found: Segment[] = [];
    for (const n of names) {
      const base = parseSegmentName(n);
      if (base !== null) found.push({ base, count: 0, bytes: 0, path: join(this.dir, n) });
    }
    for (let i = 0; i < found.length; i++) {
      const seg = found[i]!;
      const last = i === found.length - 1;
      const fd = await open(seg.path, 'r+');
      try {
        const size = (await fd.stat()).size;
        const head = Buffer.alloc(HEADER_BYTES);
        await fd.read(head, 0, HEADER_BYTES, 0);
        const base = size >= HEADER_BYTES ? decodeHeader(head) : null;
        if (last && base !== null && base !== seg.base && base > (found[i - 1]?.base ?? -1)) {
          // Crashed between recycleActive's header rewrite and its rename: the header is authoritative.
          const path = join(this.dir, segmentName(base));
          await rename(seg.path, path);
          seg.path = path;
          seg.base = base;
        }
        if (base !== seg.base) {
          await fd.close();
          if (last && size < HEADER_BYTES) {
            // Crashed while creating the segment: nothing in it was ever acknowledged to a writer.
            this.ev.tornTail(seg.path, 'short header', size, 0);
            await unlink(seg.path);
          } else {
            this.ev.error('bad_header', 'spool: segment header damaged, set aside', { segment: seg.path });
            await rename(seg.path, seg.path + '.corrupt');
          }
          continue;
        }
        if (!last) {
          seg.bytes = size;
          seg.count = found[i + 1]!.base - seg.base;
        } else {
          const buf = Buffer.allocUnsafe(size);
          await fd.read(buf, 0, size, 0);
          const r = scanFrames(buf, HEADER_BYTES, this.maxRecordBytes);
          seg.count = r.count;
          seg.bytes = r.end;
          if (r.damage) {
            await fd.truncate(r.end);
            await fd.sync();
            this.ev.tornTail(seg.path, r.damage, size - r.end, r.count);
          }
        }
      } finally {
        await fd.close().catch(() => {});
      }
      this.segments.push(seg);
    }
    const end = this.segments.length ? this.segments.at(-1)!.base + this.segments.at(-1)!.count : 0;
    const first = this.segments.length ? this.segments[0]!.base : 0;
    let acked = await this.readAckFile();
    if (acked === null) acked = first;
    if (acked < first) acked = first; // segments were dropped (drop_oldest) after the last persist
    if (acked > end) {
      // Acked records were lost from an unsynced tail (power cut): restart numbering after them so
      // new records are never mistaken for acked ones.
      for (const s of this.segments) await unlink(s.path).catch(() => {});
      this.segments = [];
    }
    this.acked = acked;
    this.persistedAck = acked;
    // Delete what is fully acked; keep the last segment to append to.
    while (this.segments.length > 1 && this.segments[0]!.base + this.segments[0]!.count <= acked) {
      await unlink(this.segments.shift()!.path);
    }
    if (this.segments.length === 0) {
      this.nextSeq = Math.max(acked, end);
      await this.newSegment(this.nextSeq);
    } else {
      const last = this.segments.at(-1)!;
      this.nextSeq = last.base + last.count;
      this.writeFd = await open(last.path, 'r+');
    }
    this.total = this.segments.reduce((a, s) => a + s.bytes, 0);
    this.ev.size(this.total);
    // Position the reader at the first unacked record.
    this.readSeq = acked;
    const seg = this.segments.find((s) => acked < s.base + s.count) ?? this.segments.at(-1)!;
    this.readSeg = seg;
    this.readOff = await this.offsetOf(seg, acked);
    this.inflight = [];
    this.inflightHead = 0;
    this.log.info('spool opened', { spool: this.name, dir: this.dir, segments: this.segments.length, unacked: this.unacked, bytes: this.total });
  }

  private async readAckFile(): Promise<number | null> {
    try {
      const j = JSON.parse(await readFile(join(this.dir, 'ACKED'), 'utf8')) as { acked?: unknown };
      return typeof j.acked === 'number' && Number.isSafeInteger(j.acked) && j.acked >= 0 ? j.acked : null;
    } catch {
      return null;
    }
  }

  /** Byte offset of record `seq` in `seg` (or the segment end when seq is past it). */
  private async offsetOf(seg: Segment, seq: number): Promise<number> {
    if (seq <= seg.base) return HEADER_BYTES;
    if (seq >= seg.base + seg.count) return seg.bytes;
    const buf = await readFile(seg.path);
    return scanFrames(buf.subarray(0, seg.bytes), HEADER_BYTES, this.maxRecordBytes, seq - seg.base).end;
  }

  // ---------------------------------------------------------------- append

  append(payloads: Buffer[]): Promise<void> {
    return this.enqueue(() => this.doAppend(payloads));
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn);
    this.chain = p.catch(() => {});
    return p;
  }

  private async doAppend(payloads: Buffer[]): Promise<void> {
    if (this.closed) throw new SpoolClosedError();
    for (const p of payloads) if (p.length > this.maxRecordBytes) throw new RecordTooLargeError(p.length, this.maxRecordBytes);
    let i = 0;
    try {
      await this.appendRuns(payloads, (n) => { i = n; });
    } catch (e) {
      // Runs written before the failure stay (a reader may already have them): say how many, so a retry sends only the rest.
      if (e instanceof EdgelogError && i > 0) (e as EdgelogError & { appended?: number }).appended = i;
      throw e;
    }
  }

  private async appendRuns(payloads: Buffer[], progress: (written: number) => void): Promise<void> {
    let i = 0;
    while (i < payloads.length) {
      // The longest run that fits in the active segment (or a fresh one).
      let active = this.segments.at(-1)!;
      let room = this.segmentBytes - active.bytes;
      if (active.count > 0 && room < FRAME_HEADER_BYTES + payloads[i]!.length) {
        await this.makeRoom(HEADER_BYTES + FRAME_HEADER_BYTES + payloads[i]!.length);
        await this.roll();
        active = this.segments.at(-1)!;
        room = this.segmentBytes - active.bytes;
      }
      let j = i;
      let bytes = 0;
      while (j < payloads.length && (j === i || bytes + FRAME_HEADER_BYTES + payloads[j]!.length <= room)) {
        bytes += FRAME_HEADER_BYTES + payloads[j]!.length;
        j++;
      }
      await this.makeRoom(bytes);
      active = this.segments.at(-1)!;
      await this.writeFrames(active, encodeFrames(payloads, i, j), j - i);
      i = j;
      progress(i);
    }
  }

  /** Waits (block) or drops old segments (drop_oldest) until `need` more bytes fit under the cap. */
  private async makeRoom(need: number): Promise<void> {
    while (this.total + need > this.maxBytes) {
      if (this.closed) throw new SpoolClosedError();
      if (this.whenFull === 'drop_oldest') {
        if (this.segments.length === 1) await this.roll();
        await this.dropOldest();
      } else {
        // Acks cannot free space through the chain while this append holds it: free it here.
        await this.deleteAcked();
        if (this.total + need <= this.maxBytes) break;
        if (this.acked === this.nextSeq && this.segments.at(-1)!.count > 0) {
          const before = this.total;
          await this.recycleActive();
          if (this.total < before) continue;
          // Everything is acked yet nothing could be freed: waiting for acks would wait forever.
          throw new SpoolIoError(`spool ${this.dir}: cannot free space`, null);
        }
        await new Promise<void>((r) => this.spaceWaiters.push(r));
      }
    }
  }

  private async writeFrames(seg: Segment, buf: Buffer, n: number): Promise<void> {
    const fd = this.writeFd!;
    let off = 0;
    try {
      while (off < buf.length) {
        const { bytesWritten } = await fd.write(buf, off, buf.length - off, seg.bytes + off);
        if (bytesWritten === 0) throw Object.assign(new Error('write returned 0 bytes'), { code: 'ENOSPC' });
        off += bytesWritten;
      }
    } catch (e) {
      // Cut the partial frames so the segment ends on a frame boundary: a reopen finds no damage.
      await fd.truncate(seg.bytes).catch((te: unknown) => this.ev.error(errCode(te), 'spool: rollback truncate failed', { segment: seg.path, err: te }));
      this.ev.error(errCode(e), isDiskFull(e) ? 'spool: disk full, append refused' : 'spool: write failed, append refused', { segment: seg.path, err: e });
      if (isDiskFull(e)) throw new DiskFullError(seg.path, e);
      throw new SpoolIoError(`spool write to ${seg.path} failed: ${(e as Error).message}`, e);
    }
    seg.bytes += buf.length;
    seg.count += n;
    this.nextSeq += n;
    this.total += buf.length;
    this.unsynced += buf.length;
    this.ev.size(this.total);
    this.ev.appended(n);
    if (this.unsynced >= this.fsyncBytes) await this.sync();
    this.wake(this.dataWaiters);
  }

  private async sync(): Promise<void> {
    if (!this.writeFd || this.unsynced === 0) return;
    this.unsynced = 0;
    try {
      await this.writeFd.sync();
    } catch (e) {
      this.ev.error(errCode(e), 'spool: fsync failed', { err: e });
    }
  }

  /** Seal the active segment and start a new one at nextSeq. Runs inside the append chain. */
  private async roll(): Promise<void> {
    if (this.segments.at(-1)!.count === 0) return; // an empty segment is already fresh
    await this.sync();
    await this.writeFd?.close().catch(() => {});
    this.writeFd = null;
    await this.newSegment(this.nextSeq);
    await this.deleteAcked();
  }

  /**
   * Empties a fully acked active segment in place: truncate to the header,
   * rewrite the header with the next base, rename to match. Needs no free
   * space (a new file would, and the disk may be full). Runs inside the chain.
   * A crash between the header rewrite and the rename leaves a name that
   * disagrees with a valid header; open() trusts the header (CRC-checked).
   */
  private async recycleActive(): Promise<void> {
    const seg = this.segments.at(-1)!;
    if (seg.count === 0 || this.acked < this.nextSeq || !this.writeFd) return;
    await this.deleteAcked();
    const base = this.nextSeq;
    const path = join(this.dir, segmentName(base));
    if (this.readFdSeg === seg) { await this.readFd?.close().catch(() => {}); this.readFd = null; this.readFdSeg = null; }
    // 1. New header first: a crash right after it only renumbers acked records (replayed: duplicates, never loss).
    try {
      await this.writeFd.write(encodeHeader(base), 0, HEADER_BYTES, 0);
    } catch (e) {
      this.ev.error(errCode(e), 'spool: cannot recycle the acked active segment', { segment: seg.path, err: e });
      return;
    }
    seg.base = base;
    // The old frames now carry numbers from `base` on; they are acked, so the pointers move past them.
    this.nextSeq = this.acked = this.readSeq = base + seg.count;
    this.readSeg = seg;
    this.readOff = seg.bytes;
    try {
      // 2. Drop the frames, 3. rename to match the header.
      await this.writeFd.truncate(HEADER_BYTES);
      await this.writeFd.sync();
      this.unsynced = 0;
      this.total -= seg.bytes - HEADER_BYTES;
      seg.bytes = HEADER_BYTES;
      this.nextSeq = this.acked = this.readSeq = base;
      seg.count = 0;
      this.readOff = HEADER_BYTES;
      await rename(seg.path, path);
      seg.path = path;
      await syncDir(this.dir);
    } catch (e) {
      this.ev.error(errCode(e), 'spool: cannot recycle the acked active segment', { segment: seg.path, err: e });
    } finally {
      this.ev.size(this.total);
    }
    this.wake(this.spaceWaiters);
  }

  private async newSegment(base: number): Promise<void> {
    const path = join(this.dir, segmentName(base));
    let fd: FileHandle | null = null;
    try {
      fd = await open(path, 'w+');
      const head = encodeHeader(base);
      const { bytesWritten } = await fd.write(head, 0, HEADER_BYTES, 0);
      if (bytesWritten !== HEADER_BYTES) throw Object.assign(new Error('short header write'), { code: 'ENOSPC' });
      await fd.sync();
      await syncDir(this.dir);
    } catch (e) {
      await fd?.close().catch(() => {});
      await unlink(path).catch(() => {});
      // Keep appending to the old segment next time: reopen it.
      const prev = this.segments.at(-1);
      if (prev && !this.writeFd) this.writeFd = await open(prev.path, 'r+');
      this.ev.error(errCode(e), 'spool: cannot create segment', { segment: path, err: e });
      if (isDiskFull(e)) throw new DiskFullError(path, e);
      throw new SpoolIoError(`cannot create spool segment ${path}: ${(e as Error).message}`, e);
    }
    this.segments.push({ base, count: 0, bytes: HEADER_BYTES, path });
    this.writeFd = fd;
    this.total += HEADER_BYTES;
    this.ev.size(this.total);
  }

  private async dropOldest(): Promise<void> {
    const seg = this.segments.shift()!;
    const end = seg.base + seg.count;
    const lost = end - Math.max(this.acked, seg.base);
    if (this.acked < end) this.acked = end;
    if (this.readFdSeg === seg) { await this.readFd?.close().catch(() => {}); this.readFd = null; this.readFdSeg = null; }
    if (this.readSeq < end) {
      this.readSeq = end;
      this.readSeg = this.segments[0]!;
      this.readOff = HEADER_BYTES;
    }
    this.advanceAcks();
    await unlink(seg.path).catch((e: unknown) => this.ev.error(errCode(e), 'spool: cannot delete segment', { segment: seg.path, err: e }));
    this.total -= seg.bytes;
    this.ev.size(this.total);
    if (lost > 0) this.ev.droppedOldest(lost, seg.path);
  }

  // ---------------------------------------------------------------- read / ack

  readable(): Promise<void> {
    if (this.closed || this.readSeq < this.nextSeq) return Promise.resolve();
    return new Promise((r) => this.dataWaiters.push(r));
  }

  async read(maxRecords = 1024, maxBytes = 4 * 1024 * 1024): Promise<SpoolBatch | null> {
    while (!this.closed && this.readSeq < this.nextSeq) {
      let seg = this.readSeg!;
      if (this.readSeq >= seg.base + seg.count || this.readOff >= seg.bytes) {
        // Past this segment: the next one holds readSeq.
        const next = this.segments.find((s) => s.base + s.count > this.readSeq);
        if (!next || next === seg) return null;
        if (next.base > this.readSeq) {
          // A gap (a damaged segment was set aside on open): pass over it as if read and acked.
          this.inflight.push({ end: next.base, done: true });
          this.readSeq = next.base;
          this.advanceAcks();
        }
        seg = this.readSeg = next;
        this.readOff = await this.offsetOf(next, this.readSeq);
        continue;
      }
      const fd = await this.readHandle(seg);
      if (!fd) { this.skipSegment(seg, 'ENOENT'); continue; }
      // Read about what maxRecords frames take (running average), not maxBytes: no 4 MiB read for 1024 small records.
      const guess = Math.max(64 * 1024, Math.ceil(maxRecords * this.avgFrame * 1.25));
      const want = Math.max(FRAME_HEADER_BYTES, Math.min(maxBytes, seg.bytes - this.readOff, guess));
      let buf = Buffer.allocUnsafe(want);
      let got = (await fd.read(buf, 0, want, this.readOff)).bytesRead;
      if (got >= FRAME_HEADER_BYTES) {
        const len = buf.readUInt32BE(4);
        if (len + FRAME_HEADER_BYTES > got && len <= this.maxRecordBytes && this.readOff + FRAME_HEADER_BYTES + len <= seg.bytes) {
          buf = Buffer.allocUnsafe(FRAME_HEADER_BYTES + len); // one frame larger than maxBytes
          got = (await fd.read(buf, 0, buf.length, this.readOff)).bytesRead;
        }
      }
      const payloads: Buffer[] = [];
      const view = buf.subarray(0, got);
      // Payloads are views into `buf`, a fresh buffer per read: no copy per record.
      const r = scanFrames(view, 0, this.maxRecordBytes, Math.min(maxRecords, seg.base + seg.count - this.readSeq), (p) => payloads.push(p));
      if (r.count === 0) {
        // Damage inside a segment that was good when written (bit rot, foreign writes): skip the rest of it, counted.
        this.skipSegment(seg, r.damage ?? 'short');
        continue;
      }
      const first = this.readSeq;
      this.avgFrame = this.avgFrame * 0.75 + (r.end / r.count) * 0.25;
      this.readOff += r.end;
      this.readSeq += r.count;
      this.inflight.push({ end: this.readSeq, done: false });
      this.ev.replayed(r.count);
      return { id: this.readSeq, firstSeq: first, payloads };
    }
    return null;
  }

  private skipSegment(seg: Segment, why: string): void {
    const end = seg.base + seg.count;
    this.ev.error(why === 'ENOENT' ? 'ENOENT' : 'crc', 'spool: damaged segment, skipping its remaining records', { segment: seg.path, reason: why, records: end - this.readSeq });
    // Treat skipped records as a read-and-acked batch so the ack pointer can pass them.
    this.inflight.push({ end, done: true });
    this.readSeq = end;
    this.readOff = seg.bytes;
    this.advanceAcks();
  }

  private async readHandle(seg: Segment): Promise<FileHandle | null> {
    if (this.readFdSeg === seg && this.readFd) return this.readFd;
    await this.readFd?.close().catch(() => {});
    this.readFd = null;
    this.readFdSeg = null;
    try {
      this.readFd = await open(seg.path, 'r');
      this.readFdSeg = seg;
      return this.readFd;
    } catch {
      return null;
    }
  }

  /** Acknowledge a batch returned by read(). Unknown or repeated ids are ignored. */
  ack(id: number): void {
    for (let i = this.inflightHead; i < this.inflight.length; i++) {
      const b = this.inflight[i]!;
      if (b.end === id) { b.done = true; break; }
      if (b.end > id) break;
    }
    if (this.advanceAcks() && !this.closed) {
      // An append blocked on space frees segments itself (it holds the chain).
      if (this.spaceWaiters.length > 0) { this.wake(this.spaceWaiters); return; }
      // Otherwise free whole segments now; roll a fully acked active segment once it is big.
      const active = this.segments.at(-1)!;
      const recycle = this.acked === this.nextSeq && active.count > 0 && active.bytes >= ROLL_ACKED_BYTES;
      if (this.segments.length > 1 && this.segments[0]!.base + this.segments[0]!.count <= this.acked) {
        this.enqueue(() => this.deleteAcked()).catch(() => {});
      }
      if (recycle) this.enqueue(() => this.recycleActive()).catch(() => {});
    }
  }

  private advanceAcks(): boolean {
    let moved = false;
    while (this.inflightHead < this.inflight.length) {
      const b = this.inflight[this.inflightHead]!;
      if (!b.done && b.end > this.acked) break;
      if (b.end > this.acked) { this.acked = b.end; moved = true; }
      this.inflightHead++;
    }
    if (this.inflightHead > 1024) { this.inflight.splice(0, this.inflightHead); this.inflightHead = 0; }
    return moved;
  }

  /** Deletes sealed segments wholly below the acked position (after persisting it). Runs inside the chain. */
  private async deleteAcked(): Promise<void> {
    const dead: Segment[] = [];
    while (this.segments.length > 1 && this.segments[0]!.base + this.segments[0]!.count <= this.acked) dead.push(this.segments.shift()!);
    if (dead.length === 0) return;
    // Persist first, so a crash between the two never leaves an ack file older than the oldest segment
    // (harmless anyway: open() clamps to the first segment).
    await this.persistAck().catch(() => {});
    for (const s of dead) {
      if (this.readFdSeg === s) { await this.readFd?.close().catch(() => {}); this.readFd = null; this.readFdSeg = null; }
      await unlink(s.path).catch((e: unknown) => this.ev.error(errCode(e), 'spool: cannot delete segment', { segment: s.path, err: e }));
      this.total -= s.bytes;
    }
    this.ev.size(this.total);
    this.wake(this.spaceWaiters);
  }

  /** Writes ACKED atomically. Concurrent callers share one write. */
  persistAck(): Promise<void> {
    if (this.persisting) return this.persisting;
    const value = this.acked;
    this.persisting = (async () => {
      const tmp = join(this.dir, 'ACKED.tmp');
      try {
        const fd = await open(tmp, 'w');
        try {
          await fd.writeFile(JSON.stringify({ acked: value }) + '\n');
          await fd.sync();
        } finally {
          await fd.close();
        }
        await rename(tmp, join(this.dir, 'ACKED'));
        await syncDir(this.dir);
        this.persistedAck = value;
      } catch (e) {
        await unlink(tmp).catch(() => {});
        this.ev.error(errCode(e), 'spool: cannot persist acked position (will retry)', { err: e });
        throw e;
      } finally {
        this.persisting = null;
      }
    })();
    return this.persisting;
  }

  private wake(list: (() => void)[]): void {
    const l = list.splice(0);
    for (const f of l) f();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.wake(this.spaceWaiters);
    this.wake(this.dataWaiters);
    await this.chain;
    await this.sync();
    await this.persistAck().catch(() => {});
    await this.writeFd?.close().catch(() => {});
    await this.readFd?.close().catch(() => {});
    this.writeFd = this.readFd = null;
    await unlink(join(this.dir, 'LOCK')).catch(() => {});
    openDirs.delete(resolve(this.dir));
  }
}

/** Spool directories open in this process (the LOCK file guards against other processes). */
const openDirs = new Set<string>();

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

/** Start time of a process (clock ticks since boot, /proc/<pid>/stat field 22), '' where /proc is unavailable. */
async function procStart(pid: number): Promise<string> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try { await d.sync(); } finally { await d.close(); }
}
