// One open file: reads chunks into a reused buffer, frames lines, pushes one
// batch (one AckGroup) per chunk and waits for the downstream before reading
// more, so a slow sink simply leaves the bytes in the file.
//
// Lifecycle of the identity under the fd we hold:
// - rename+create / delete: the path no longer leads to our inode. We keep the
//   fd (the inode cannot be reused while it is open), read to EOF, and let go
//   only after `rotate_wait` without new bytes, so a writer that still has the
//   old file open loses nothing.
// - copytruncate: same inode, size below our offset (or the first bytes no
//   longer match the fingerprint): the content was replaced. The old stream is
//   retired and reading starts again at 0 as a new stream (new fingerprint).
//   copytruncate itself loses what the reader had not read when the truncate
//   happened. If the writer refills the file past our offset before we look,
//   the fingerprint check at the next EOF catches it: the bytes read from the
//   old offset are re-read from 0 (duplicates, not loss).
//
// End of a stream: when a generation's content can get no more lines (rotated
// away or deleted and drained, truncated, removed, or the source stops after
// its last unterminated line), the tailer tells the downstream
// (`out.endStream(streamId)`), so stages holding lines of that stream
// (multiline) ship them now instead of at their timeout.

import { realpathSync } from 'node:fs';
import { stat, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { AckGroup, OrderedAcks } from '../../core/ack.ts';
import type { Downstream } from '../../core/component.ts';
import type { FileSourceConfig, OversizeAction } from './config.ts';
import { LineFramer } from './line-framer.ts';
import { ChunkColumns } from './chunk-columns.ts';
import type { ChunkSlab, ChunkSlabs } from './chunk-slabs.ts';
import type { ReadAheadBudget } from './read-ahead-budget.ts';
import type { LineSink } from './line-framer.ts';
import { fingerprintFile, fingerprintMatches, widenFingerprint } from './fingerprint.ts';
import type { Fingerprint } from './fingerprint.ts';
import type { CheckpointEntry, CheckpointStore } from './checkpoint-store.ts';
import type { FileSourceTelemetry } from './telemetry.ts';

/** What the tailer needs from the source that owns it. */
export interface TailerHost {
  readonly cfg: FileSourceConfig;
  readonly sourceId: string;
  readonly store: CheckpointStore;
  readonly telemetry: FileSourceTelemetry;
  readonly out: Downstream;
  /** Where chunk copies come from; absent: a fresh buffer per chunk. */
  readonly slabs?: ChunkSlabs;
  /** Slots for a second read buffer (read-ahead-budget.ts); absent: every file may read ahead. */
  readonly readAhead?: ReadAheadBudget;
  readonly stopping: boolean;
  /** Files waiting for a handle: while there are any, an idle, acknowledged file lets go of its own. */
  readonly waitingFiles: number;
  /** Something changed at a path (rotation seen): re-run discovery now. */
  rescanSoon(): void;
  /** The tailer let its file go. */
  released(t: Tailer, reason: string): void;
  groupOpened(): void;
  groupDone(): void;
}

/** Where to begin a file. */
export type StartFrom =
  | { kind: 'checkpoint'; entry: CheckpointEntry }
  | { kind: 'beginning' }
  /** `start_at: end`: the size when the file was opened (appends after that are new lines). */
  | { kind: 'end'; size: number };

/**
 * One generation of a file's content: identity, ordered acks and its
 * checkpoint entry. A truncation starts a new generation; the old one keeps
 * counting its late acks but no longer writes the checkpoint.
 */
export class StreamGen {
  readonly streamId: string;
  readonly acks: OrderedAcks;
  readonly entry: CheckpointEntry;
  committed: number;
  /** Token of the last group handed out (tokens must increase). */
  lastToken: number;
  retired = false;
  private readonly tailer: Tailer;
  /** One closure per stream, shared by all its groups (no per-record closures). */
  readonly onDone: (g: AckGroup) => void;

  constructor(tailer: Tailer, entry: CheckpointEntry) {
    this.tailer = tailer;
    this.entry = entry;
    this.streamId = entry.stream_id;
    this.committed = entry.offset;
    this.lastToken = entry.offset;
    this.acks = new OrderedAcks(entry.offset);
    this.onDone = (g) => this.groupDone(g);
  }

  private groupDone(g: AckGroup): void {
    const cg = g as ChunkGroup;
    if (cg.slab) { this.tailer.host.slabs?.release(cg.slab); cg.slab = null; }
    if (cg.columns) { this.tailer.host.slabs?.release(cg.columns); cg.columns = null; }
    // Any settled status moves on: 'dropped' was deliberate, 'rejected' was dead-lettered.
    if (this.acks.complete(g.token)) {
      const moved = this.acks.committed - this.committed;
      this.committed = this.acks.committed;
      if (!this.retired) {
        this.entry.offset = this.committed;
        this.tailer.committedMoved(moved);
      }
    }
    this.tailer.host.groupDone();
  }
}

/** A chunk's AckGroup with the slabs its bytes and its columns were put in (released when the group completes). */
class ChunkGroup extends AckGroup {
  slab: ChunkSlab | null = null;
  columns: ChunkSlab | null = null;
}

export class Tailer implements LineSink {
  readonly host: TailerHost;
  path: string;
  /** The real path when `path` leads through a symlink (records carry it as log.file.path_resolved), else null. */
  resolvedPath: string | null;
  readonly dev: string;
  readonly ino: string;
  readonly key: string;
  private readonly fh: FileHandle;
  /** The chunk being read or framed; swapped with `spare` when a read ahead is used. */
  private buf: Buffer;
  /** Second read buffer, made at the first full chunk (a file read at speed), for the read ahead. */
  private spare: Buffer | null = null;
  /** The next chunk's read, started before this one is framed (see readChunk). */
  private ahead: ReadAhead | null = null;
  /** This file holds one of the source's read-ahead slots (kept while it reads at speed). */
  private aheadSlot = false;
  private framer: LineFramer;
  gen: StreamGen | null = null;
  /** How the first generation starts (later generations, after truncation, start at 0). */
  private startFrom: StartFrom | null;
  private readOffset = 0;
  private knownSize = 0;
  private lastDataMs: number;
  private lastFpCheckMs = 0;
  detached = false;
  private released = false;
  private truncations = 0;
  // Lines of the current chunk, framed before the chunk's AckGroup (whose token is the chunk end) exists. Reused.
  private readonly cols = new ChunkColumns();
  /** The framer's chunk copies: from the source's slabs when it has them. */
  private readonly copyAlloc: (n: number) => Buffer;
  /** Where a run's columns go: the same slabs (undefined: a fresh ArrayBuffer each). */
  private readonly columnsAlloc: ((n: number) => Buffer) | undefined;
  // Wake-up: inotify events and timers resolve the wait.
  private waiter: (() => void) | null = null;
  private waitTimer: NodeJS.Timeout | null = null;
  private woken = false;
  private loop: Promise<void> | null = null;

  constructor(host: TailerHost, path: string, dev: string, ino: string, fh: FileHandle, startFrom: StartFrom, nowMs: number, resolvedPath: string | null = null) {
    this.host = host;
    this.path = path;
    this.resolvedPath = resolvedPath;
    this.dev = dev;
    this.ino = ino;
    this.key = `${dev}:${ino}`;
    this.fh = fh;
    this.buf = Buffer.allocUnsafeSlow(host.cfg.read_chunk_bytes);
    this.startFrom = startFrom;
    const slabs = host.slabs;
    this.copyAlloc = slabs ? (n) => slabs.take(n) : Buffer.allocUnsafe;
    this.columnsAlloc = slabs ? this.copyAlloc : undefined;
    this.framer = new LineFramer(host.cfg.max_line_bytes, host.cfg.oversize, 0, this.copyAlloc);
    this.lastDataMs = nowMs;
  }

  start(): void {
    this.loop = this.run();
  }

  /** Resolves when the read loop has exited (stop or release). */
  async finished(): Promise<void> {
    if (this.loop) await this.loop;
  }

  get isReleased(): boolean { return this.released; }

  wake(): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      if (this.waitTimer) { clearTimeout(this.waitTimer); this.waitTimer = null; }
      w();
    } else {
      this.woken = true;
    }
  }

  /** The same file (dev+ino) was found under another path that discovery matches. */
  renameTo(path: string): void {
    if (path === this.path) return;
    this.host.telemetry.renamed(this.path, path);
    this.path = path;
    this.resolvedPath = resolvedOf(path);
    if (this.gen) this.gen.entry.path = path;
    this.detached = false;
    this.host.store.markDirty();
  }

  /** Called by the stream generation when its acknowledged offset moved. */
  committedMoved(bytes: number): void {
    this.host.store.markDirty();
    const g = this.gen;
    // A released file's late acks still move its checkpoint, but its metric series are gone and must stay gone.
    if (g && !this.released) this.host.telemetry.acked(this.path, bytes, Math.max(this.knownSize, this.readOffset) - g.committed);
  }

  private async run(): Promise<void> {
    const cfg = this.host.cfg;
    while (!this.host.stopping && !this.released) {
      try {
        if (this.gen === null) await this.establish();
        const n = this.gen === null ? 0 : await this.readChunk();
        if (n > 0) continue;
        const waitMs = await this.atEof();
        if (this.released || this.host.stopping) break;
        await this.waitWake(waitMs);
      } catch (err) {
        this.host.telemetry.error('read', this.path, err);
        await this.waitWake(cfg.glob_interval_ms);
      }
    }
  }

  /** First bytes are there: fix the identity (fingerprint, stream id) and the start offset. */
  private async establish(): Promise<void> {
    const cfg = this.host.cfg;
    const st = await this.fh.stat();
    this.knownSize = st.size;
    const from = this.startFrom ?? { kind: 'beginning' as const };
    if (from.kind === 'checkpoint') {
      const e = from.entry;
      e.path = this.path;
      this.gen = new StreamGen(this, e);
      this.host.store.set(e);
      this.seek(e.offset);
      this.startFrom = null;
      return;
    }
    const fp = await fingerprintFile(this.fh, st.size, cfg.fingerprint_bytes);
    if (fp === null) {
      // Empty: nothing identifies it yet and nothing to read.
      return;
    }
    // The end as it was at open: lines appended since then are new and must be read.
    const start = from.kind === 'end' ? Math.min(from.size, st.size) : 0;
    let streamId = `${this.dev}:${this.ino}:${fp.hex}`;
    // After a copytruncate the new content may begin with the very same bytes;
    // salt the id so a consumer's dedupe never merges two generations.
    if (this.truncations > 0) streamId += `~${this.truncations}`;
    const entry: CheckpointEntry = {
      path: this.path, dev: this.dev, ino: this.ino, fingerprint: fp.hex, fp_len: fp.len,
      stream_id: streamId, offset: start, seen_ms: Date.now(),
    };
    this.gen = new StreamGen(this, entry);
    this.host.store.set(entry);
    this.seek(start);
    this.startFrom = null;
  }

  private seek(offset: number): void {
    // A read ahead belongs to the offsets before the seek (an older generation
    // after a truncation may have reached the same offset): never use it.
    if (this.ahead) this.ahead.at = -1;
    this.readOffset = offset;
    this.framer = new LineFramer(this.host.cfg.max_line_bytes, this.host.cfg.oversize, offset, this.copyAlloc);
    this.host.telemetry.lag(this.path, Math.max(this.knownSize, offset) - offset);
  }

  /**
   * One chunk: read, frame, ship. When the chunk filled the buffer (more is
   * likely there), the read of the next one starts before this one is framed,
   * into the spare buffer, so the thread-pool round trip of the read overlaps
   * the framing and encoding instead of following them (when the source has
   * a read-ahead slot free: read-ahead-budget.ts). Only a read ahead made at
   * exactly the offset wanted is used; any other (the offset moved back on a
   * truncation) is dropped with its buffer, so no byte is taken twice or
   * skipped. Interleaved against the same tree without it: json-200b
   * 875,709 / 1,053,771 / 1,250,150 against 815,868 / 994,721 / 1,130,547
   * events/s, loghub 1,916,316 / 1,982,800 / 2,062,455 against 1,656,662 /
   * 1,938,191 / 1,776,267, peak RSS 107-111 MB both (bench/results/read-ahead).
   */
  private async readChunk(): Promise<number> {
    const want = this.readOffset;
    const bytesRead = await this.takeRead(want);
    if (bytesRead === this.buf.length) {
      if (!this.host.stopping && this.holdAheadSlot()) this.readAhead(want + bytesRead);
    } else {
      // Caught up with the writer: a file appended to slowly reads part chunks and needs no second buffer.
      this.letAheadGo();
    }
    if (bytesRead === 0) return 0;
    const base = this.readOffset;
    this.readOffset += bytesRead;
    if (this.readOffset > this.knownSize) this.knownSize = this.readOffset;
    this.lastDataMs = Date.now();
    this.host.telemetry.read(this.path, bytesRead);
    const gen = this.gen!;
    if (gen.entry.fp_len < this.host.cfg.fingerprint_bytes && this.readOffset > gen.entry.fp_len) {
      if (await this.widenFingerprint(gen) === 'replaced') {
        // Truncated and refilled past our offset: this chunk is not the continuation of what we read.
        this.readOffset = base;
        await this.truncated(bytesRead + base);
        return bytesRead;
      }
    }
    this.framer.push(this.buf, bytesRead, base, this);
    await this.ship();
    return bytesRead;
  }

  /** Bytes of the chunk at `at`, in this.buf: the read ahead when it was made there, else a read now. */
  private async takeRead(at: number): Promise<number> {
    const a = this.ahead;
    this.ahead = null;
    // A read ahead made for another offset is left to finish on its own
    // buffer, which is then dropped (rare: a truncation moved the offset back).
    if (a !== null && a.at === at) {
      const n = await a.bytes;
      this.spare = this.buf;
      this.buf = a.buf;
      return n;
    }
    const { bytesRead } = await this.fh.read(this.buf, 0, this.buf.length, at);
    return bytesRead;
  }

  private readAhead(at: number): void {
    const buf = this.spare ?? Buffer.allocUnsafeSlow(this.buf.length);
    this.spare = null;
    const bytes = this.fh.read(buf, 0, buf.length, at).then((r) => r.bytesRead);
    // Not awaited when the tailer stops first: a failed read ahead must not be an unhandled rejection.
    bytes.catch(noop);
    this.ahead = { at, buf, bytes };
  }

  /** Waits for a read ahead still out, so the handle closes with no read on it; then lets the slot go. */
  private async dropAhead(): Promise<void> {
    const a = this.ahead;
    this.ahead = null;
    if (a !== null) await a.bytes.catch(noop);
    this.letAheadGo();
  }

  private holdAheadSlot(): boolean {
    if (!this.aheadSlot) this.aheadSlot = this.host.readAhead?.take() ?? true;
    return this.aheadSlot;
  }

  /** No read ahead is out: the second buffer and the slot go (another file may read ahead). */
  private letAheadGo(): void {
    this.spare = null;
    if (this.aheadSlot) {
      this.aheadSlot = false;
      this.host.readAhead?.give();
    }
  }

  /** The file was shorter than fingerprint_bytes when first seen: hash more of it now that it grew (stream id unchanged). */
  private async widenFingerprint(gen: StreamGen): Promise<'replaced' | void> {
    // Best effort: the chunk is already read, a read failure here must not lose it (we try again next chunk).
    const fp = await widenFingerprint(this.fh, { hex: gen.entry.fingerprint, len: gen.entry.fp_len }, this.readOffset, this.host.cfg.fingerprint_bytes).catch(() => null);
    if (fp === 'replaced') return fp;
    if (fp) {
      gen.entry.fingerprint = fp.hex;
      gen.entry.fp_len = fp.len;
      this.host.store.markDirty();
    }
  }

  // LineSink: called by the framer for each line of the chunk.
  line(buf: Buffer, start: number, end: number, offset: number): void {
    this.cols.add(buf, start, end, offset);
  }

  oversize(action: OversizeAction): void {
    this.host.telemetry.oversize(action, this.path, this.framer.consumed);
  }

  /** Turn the framed lines into one batch with one AckGroup whose token is the safe resume offset, and push it. */
  private async ship(): Promise<void> {
    const gen = this.gen!;
    const n = this.cols.n;
    const end = this.framer.consumed;
    if (n === 0 && end <= gen.lastToken) return;
    let group: AckGroup;
    let chunk: ChunkGroup | null = null;
    const slab = this.host.slabs?.lease() ?? null;
    if (end > gen.lastToken) {
      chunk = new ChunkGroup(end, gen.onDone);
      chunk.slab = slab;
      group = chunk;
      gen.acks.push(end);
      gen.lastToken = end;
      this.host.groupOpened();
    } else {
      // Cannot happen with the framer's rules (every emitted line moves `consumed`); never let a bookkeeping slip stop data.
      this.host.telemetry.error('ack-token', this.path, new Error(`chunk end ${end} not after ${gen.lastToken}`));
      group = new AckGroup(end, noop);
    }
    group.add(n);
    try {
      if (n > 0) {
        this.host.telemetry.emitted(n, this.cols.bytes);
        const resolved = this.resolvedPath;
        const run = this.cols.take(this.host.sourceId, this.path, gen.streamId, Date.now(), group, resolved === null ? null : { [ATTR_PATH_RESOLVED]: resolved }, chunk ? this.columnsAlloc : undefined);
        if (chunk) chunk.columns = this.host.slabs?.lease() ?? null;
        const out = this.host.out;
        await (out.pushRun ? out.pushRun(run) : out.push(run.toRecords()));
      }
    } finally {
      group.seal();
    }
  }

  /**
   * Nothing more to read right now: look at the path (rotation, truncation),
   * flush an unterminated line that has been idle, decide whether to let go.
   * Returns how long to sleep before looking again (unless woken).
   */
  private async atEof(): Promise<number> {
    const cfg = this.host.cfg;
    const now = Date.now();
    let wait = cfg.glob_interval_ms;
    if (!this.detached) {
      let st: BigIntStats | null = null;
      try {
        st = await stat(this.path, { bigint: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      if (st === null || String(st.dev) !== this.dev || String(st.ino) !== this.ino) {
        this.detached = true;
        this.host.telemetry.rotation(st === null ? 'delete' : 'rename', this.path);
        this.host.rescanSoon();
        return 0; // read again at once: the writer may have appended just before rotating
      }
      const size = Number(st.size);
      this.knownSize = size;
      const gen = this.gen;
      if (gen) {
        let replaced = size < this.readOffset;
        if (!replaced && now - this.lastFpCheckMs >= cfg.glob_interval_ms) {
          // Same inode, same or larger size, but maybe new content (truncated then
          // rewritten past our offset before we looked): the first bytes tell.
          this.lastFpCheckMs = now;
          replaced = !(await fingerprintMatches(this.fh, { hex: gen.entry.fingerprint, len: gen.entry.fp_len } satisfies Fingerprint));
        }
        if (replaced) {
          await this.truncated(size);
          return 0;
        }
        this.host.telemetry.lag(this.path, size - gen.committed);
        if (cfg.remove_after_ms > 0 && gen.committed >= size && this.framer.pending === 0 && gen.acks.inFlight === 0) {
          const idle = now - this.lastDataMs;
          if (idle >= cfg.remove_after_ms) {
            await unlink(this.path).catch((err) => this.host.telemetry.error('remove', this.path, err));
            this.host.telemetry.removedAfterRead(this.path);
            this.endStream(gen);
            await this.release('removed');
            return 0;
          }
          wait = Math.min(wait, cfg.remove_after_ms - idle);
        }
        // Make room for a waiting file: everything read here is acknowledged
        // (the checkpoint is at the end) and nothing new came for close_idle.
        // The file is opened again from that checkpoint when it grows.
        if (cfg.close_idle_ms > 0 && this.host.waitingFiles > 0 && gen.committed >= size && this.readOffset >= size
          && this.framer.pending === 0 && gen.acks.inFlight === 0) {
          const idle = now - this.lastDataMs;
          if (idle >= cfg.close_idle_ms) {
            await this.release('idle');
            return 0;
          }
          wait = Math.min(wait, cfg.close_idle_ms - idle);
        }
      } else if (size === 0 && cfg.close_idle_ms > 0 && this.host.waitingFiles > 0) {
        // Still empty: nothing to lose by letting go; discovery opens it again once it has bytes.
        const idle = now - this.lastDataMs;
        if (idle >= cfg.close_idle_ms) {
          await this.release('idle');
          return 0;
        }
        wait = Math.min(wait, cfg.close_idle_ms - idle);
      }
    }
    if (this.gen && this.framer.pending > 0) {
      const idle = now - this.lastDataMs;
      if (idle >= cfg.idle_flush_ms) {
        this.framer.flush(this.readOffset, this);
        await this.ship();
      } else {
        wait = Math.min(wait, cfg.idle_flush_ms - idle);
      }
    }
    if (this.detached) {
      const idle = now - this.lastDataMs;
      if (idle >= cfg.rotate_wait_ms) {
        if (this.gen) { this.framer.flush(this.readOffset, this); await this.ship(); this.endStream(this.gen); }
        await this.release('rotated');
        return 0;
      }
      wait = Math.min(wait, cfg.rotate_wait_ms - idle);
    }
    return Math.max(1, wait);
  }

  /** The content under our inode was replaced (copytruncate): ship what we hold, retire the stream, start over at 0. */
  private async truncated(size: number): Promise<void> {
    const old = this.gen!;
    this.host.telemetry.truncation(this.path, this.readOffset, size);
    // The partial line we hold was real data of the old content.
    this.framer.flush(this.readOffset, this);
    await this.ship();
    // Nothing can follow in the old content: its held lines (multiline) go now.
    this.endStream(old);
    old.retired = true;
    this.host.store.delete(old.streamId);
    this.truncations++;
    this.gen = null;
    this.startFrom = { kind: 'beginning' };
    this.readOffset = 0;
    this.framer = new LineFramer(this.host.cfg.max_line_bytes, this.host.cfg.oversize, 0, this.copyAlloc);
    this.lastDataMs = Date.now();
  }

  private waitWake(ms: number): Promise<void> {
    if (this.woken || this.host.stopping) { this.woken = false; return Promise.resolve(); }
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.waitTimer = setTimeout(() => { this.waitTimer = null; this.wake(); }, ms);
    });
  }

  /** Shutdown: the read loop has exited; ship the unterminated last line. */
  async flushAtStop(): Promise<void> {
    if (this.released || !this.gen) return;
    // The held bytes are the file's unterminated last line only when the last
    // read reached the end. Stopped mid-backlog they are the head of a line the
    // next chunk would have finished: shipped, the next run would deliver its
    // rest as a second record. Left unshipped, the checkpoint stays before them.
    const size = await this.fh.stat().then((st) => st.size, () => this.readOffset);
    if (size <= this.readOffset) this.framer.flush(this.readOffset, this);
    await this.ship();
    // Before the pipeline's own flush: the stream's held group ships now, whole.
    this.endStream(this.gen);
  }

  /**
   * The stream can get no more lines: tell the downstream. Called after the
   * stream's last push, so the end reaches the stages behind its last lines
   * (the pipeline runs or queues a push when it is called). A throwing stage
   * must not stop the tailer.
   */
  private endStream(gen: StreamGen): void {
    try {
      this.host.out.endStream?.(gen.streamId);
    } catch (err) {
      this.host.telemetry.error('end-stream', this.path, err);
    }
  }

  /** Let the file go (rotated away and drained, removed, or shutdown). */
  async release(reason: string): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (this.waitTimer) { clearTimeout(this.waitTimer); this.waitTimer = null; }
    // A deleted file (no names left) can never be found again: drop its
    // checkpoint now rather than after checkpoint_forget_after, so a new file
    // that gets the freed inode cannot be matched against it at all.
    const st = await this.fh.stat().catch(() => null);
    if (st && st.nlink === 0 && this.gen) {
      this.gen.retired = true;
      this.host.store.delete(this.gen.streamId);
    }
    await this.dropAhead();
    await this.fh.close().catch(() => undefined);
    this.host.released(this, reason);
  }

  /** For the checkpoint forget clock: this file is still here. */
  touch(nowMs: number): void {
    if (this.gen) this.gen.entry.seen_ms = nowMs;
  }
}

function noop(): void {}

/** A read started before its chunk was wanted (Tailer.readAhead). */
interface ReadAhead { at: number; readonly buf: Buffer; readonly bytes: Promise<number> }

/** OpenTelemetry semantic convention for the path of a file log after resolving symlinks. */
export const ATTR_PATH_RESOLVED = 'log.file.path_resolved';

/** The real path of `path` when it differs (a symlink on the way), else null. */
export function resolvedOf(path: string): string | null {
  try {
    const real = realpathSync(path);
    return real === path ? null : real;
  } catch {
    return null;
  }
}
