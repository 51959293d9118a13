// The `file` source: discovers files by glob, runs one Tailer per file
// identity, wakes tailers from inotify (with a periodic stat and glob as the
// safety net), and persists acknowledged positions in the checkpoint store.

import { open } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { ComponentContext, ComponentSpec, Downstream, Source, SourceCheck } from '../../core/component.ts';
import type { Logger } from '../../observe/log.ts';
import { fileSourceDefaults, validateFileSourceConfig } from './config.ts';
import type { FileSourceConfig } from './config.ts';
import { CheckpointStore } from './checkpoint-store.ts';
import type { CheckpointEntry } from './checkpoint-store.ts';
import { findFiles, isIncluded, staticDir } from './discovery.ts';
import { fingerprintMatches } from './fingerprint.ts';
import { FileSourceTelemetry } from './telemetry.ts';
import { Tailer, resolvedOf } from './tailer.ts';
import type { StartFrom, TailerHost } from './tailer.ts';
import { ChunkSlabs } from './chunk-slabs.ts';
import { ReadAheadBudget } from './read-ahead-budget.ts';
import { DirWatchSet } from './watcher.ts';
import { WaitingQueue } from './waiting-queue.ts';
import { CheckpointFailures } from './checkpoint-failures.ts';

/** How long stop() waits for reads blocked by a full downstream before it lets them finish on their own. */
const STOP_WAIT_MS = 2000;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => { setTimeout(resolve, ms).unref(); });
}

export class FileSource implements Source, TailerHost {
  readonly cfg: FileSourceConfig;
  readonly sourceId: string;
  readonly store: CheckpointStore;
  readonly telemetry: FileSourceTelemetry;
  out: Downstream = { push: async () => { throw new Error('file source not started'); } };
  /** Chunk copies of every tailer of this source, reused once acknowledged (chunk-slabs.ts). */
  readonly slabs = new ChunkSlabs();
  /** Second read buffers held by this source's files at once (read-ahead-budget.ts). */
  readonly readAhead = new ReadAheadBudget();
  stopping = false;
  private readonly log: Logger;
  /** Open files by identity (dev:ino). */
  private readonly tailers = new Map<string, Tailer>();
  /** The same tailers by current path, for inotify events. */
  private readonly byPath = new Map<string, Tailer>();
  private readonly watches: DirWatchSet;
  private scanTimer: NodeJS.Timeout | null = null;
  private ckptTimer: NodeJS.Timeout | null = null;
  private scanning: Promise<void> | null = null;
  private filling: Promise<void> | null = null;
  /** Opens under way (reserved handles). */
  private opening = 0;
  private rescanAgain = false;
  private inflight = 0;
  private drainWaiters: (() => void)[] = [];
  /** Files matched but not opened because max_open_files was reached, longest-waiting first. */
  private readonly waiting = new WaitingQueue();
  private readonly ckptFailures: CheckpointFailures;
  /** Paths whose open failed (e.g. EACCES): logged once, counted on every retry. */
  private readonly openFailed = new Set<string>();

  constructor(cfg: FileSourceConfig, ctx: ComponentContext) {
    this.cfg = cfg;
    this.sourceId = ctx.id;
    this.log = ctx.log.child({ component: ctx.id, type: 'file' });
    const file = cfg.checkpoint_path || join(ctx.dataDir, 'checkpoints', `${ctx.id.replace(/[^A-Za-z0-9._-]/g, '_')}.json`);
    this.store = new CheckpointStore(file, this.log);
    this.telemetry = new FileSourceTelemetry(ctx.metrics, ctx.id, this.log);
    this.ckptFailures = new CheckpointFailures(ctx.metrics, ctx.id, file, this.log);
    this.watches = new DirWatchSet((dir, event, name) => this.onDirEvent(dir, event, name));
  }

  get checkpointFile(): string { return this.store.file; }
  get openFiles(): number { return this.tailers.size; }
  get inFlightGroups(): number { return this.inflight; }
  /** Files waiting for a handle (TailerHost: an idle tailer lets go only when someone waits). */
  get waitingFiles(): number { return this.waiting.size; }

  /** The agent went quiet: the free chunk slabs are left to the GC (regions of unacknowledged chunks stay). */
  trim(): void { this.slabs.trim(); }

  health(): SourceCheck[] {
    const n = this.waiting.size;
    return [
      {
        check: 'waiting_files',
        // Stable while it lasts (a changing count would be a health event and a log line every second); the numbers are in the metrics.
        degraded: n === 0 ? '' : `files wait for a handle (max_open_files ${this.cfg.max_open_files} open); how many and for how long: edgelog_file_waiting_files, edgelog_file_oldest_waiting_seconds`,
      },
      { check: 'checkpoints', degraded: this.ckptFailures.degraded() },
    ];
  }

  async start(out: Downstream): Promise<void> {
    this.out = out;
    await this.store.load(Date.now());
    await this.scan(true);
    this.scanTimer = setInterval(() => this.rescanSoon(), this.cfg.glob_interval_ms);
    // Unref'd: after stop() late acks keep being persisted, but this timer alone must not hold the process.
    this.ckptTimer = setInterval(() => { void this.flushCheckpoints(); }, this.cfg.checkpoint_interval_ms);
    this.ckptTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.scanTimer) { clearInterval(this.scanTimer); this.scanTimer = null; }
    this.watches.close();
    for (const t of this.tailers.values()) t.wake();
    if (this.scanning) await this.scanning;
    if (this.filling) await this.filling;
    const all = [...this.tailers.values()];
    // A tailer waiting in out.push() (downstream full, sink down) cannot finish
    // until the pipeline moves; the agent stops sources before it flushes the
    // pipeline, so waiting for it here could deadlock shutdown. Such a tailer
    // is let go when its push returns; its unterminated line is not
    // checkpointed, so the next run reads it again (nothing lost).
    const done = new Set<Tailer>();
    await Promise.race([
      Promise.all(all.map((t) => t.finished().then(() => { done.add(t); }))),
      delay(STOP_WAIT_MS),
    ]);
    const flushes: Promise<void>[] = [];
    for (const t of all) {
      if (!done.has(t)) {
        this.log.warn('file still waiting for the downstream at stop; its last partial line is left for the next run', { path: t.path });
        void t.finished().then(() => t.release('shutdown'));
        continue;
      }
      // Ship unterminated last lines: at shutdown they are as complete as they will get.
      flushes.push(t.flushAtStop()
        .catch((err) => this.telemetry.error('flush', t.path, err))
        .then(() => t.release('shutdown')));
    }
    await Promise.race([Promise.all(flushes), delay(STOP_WAIT_MS)]);
    await this.flushCheckpoints();
  }

  async drain(timeoutMs: number): Promise<void> {
    if (this.inflight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.drainWaiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
    await this.flushCheckpoints();
    if (this.stopping && this.ckptTimer) { clearInterval(this.ckptTimer); this.ckptTimer = null; }
  }

  // TailerHost
  groupOpened(): void { this.inflight++; }
  groupDone(): void {
    if (--this.inflight === 0 && this.drainWaiters.length > 0) {
      const ws = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of ws) w();
    }
  }

  rescanSoon(): void {
    if (this.stopping) return;
    if (this.scanning) { this.rescanAgain = true; return; }
    this.scanning = (async () => {
      try {
        do {
          this.rescanAgain = false;
          await this.scan(false);
        } while (this.rescanAgain && !this.stopping);
      } finally {
        this.scanning = null;
      }
    })();
  }

  released(t: Tailer, reason: string): void {
    if (this.tailers.get(t.key) === t) this.tailers.delete(t.key);
    if (this.byPath.get(t.path) === t) this.byPath.delete(t.path);
    this.telemetry.released(t.path, reason, this.tailers.size);
    if (this.waiting.size > 0) this.fillFromQueue();
  }

  /**
   * A handle was freed: give it to the file waiting longest at once, without
   * waiting for the next glob over thousands of paths (the queue holds what
   * the last scan found; a file gone since is simply skipped by openFile).
   */
  private fillFromQueue(): void {
    if (this.filling || this.stopping) return;
    this.filling = (async () => {
      try {
        while (!this.stopping && this.hasRoom()) {
          const path = this.waiting.first();
          if (path === undefined) break;
          const atStartup = this.waiting.leave(path);
          await this.openReserved(path, atStartup, Date.now());
          this.reportWaiting();
        }
      } catch (err) {
        this.telemetry.error('open', '(waiting queue)', err);
      } finally {
        this.filling = null;
      }
      this.reportWaiting();
      this.syncWatches();
    })();
  }

  async flushCheckpoints(): Promise<void> {
    try {
      if (await this.store.flush()) this.telemetry.checkpointWritten();
      this.ckptFailures.succeeded();
    } catch (err) {
      this.telemetry.errorRepeated('checkpoint');
      this.ckptFailures.failed(err);
    }
  }

  private async scan(startup: boolean): Promise<void> {
    let found;
    try {
      found = await findFiles(this.cfg.include, this.cfg.exclude);
    } catch (err) {
      this.telemetry.error('glob', this.cfg.include.join(','), err);
      return;
    }
    const now = Date.now();
    const keyAt = new Map<string, string>();
    for (const f of found) keyAt.set(f.path, `${f.st.dev}:${f.st.ino}`);
    const wanted = new Set<string>();
    for (const f of found) {
      if (this.stopping) return;
      const key = keyAt.get(f.path)!;
      const t = this.tailers.get(key);
      if (t) {
        // Same file under another matched name: follow it, unless its current name still leads to it (hard link).
        if (t.path !== f.path && keyAt.get(t.path) !== key) this.renameTailer(t, f.path);
        t.touch(now);
        continue;
      }
      if (this.cfg.ignore_older_ms > 0 && now - Number(f.st.mtimeMs) > this.cfg.ignore_older_ms) continue;
      if (this.nothingToRead(String(f.st.dev), String(f.st.ino), Number(f.st.size), now)) continue;
      wanted.add(f.path);
      this.waiting.join(f.path, now, startup);
    }
    // Free handles go to the files waiting longest, whatever the glob order.
    this.waiting.keepOnly(wanted);
    // Only the handles free now: handles freed while this runs go through
    // fillFromQueue, so a scan (and start()) never waits for a backlog to drain.
    let free = this.cfg.max_open_files - this.tailers.size - this.opening;
    // Said before the opens below (each awaits the disk): a scrape meanwhile
    // sees the files this scan found that no free handle will take.
    if (this.waiting.size > free) this.reportWaiting(this.waiting.size - Math.max(0, free));
    for (const path of this.waiting.inOrder()) {
      if (this.stopping) return;
      if (free-- <= 0 || !this.hasRoom()) break;
      if (!this.waiting.has(path)) continue; // taken meanwhile by fillFromQueue
      const atStartup = this.waiting.leave(path);
      await this.openReserved(path, atStartup, now);
    }
    this.reportWaiting();
    if (this.waiting.size > 0 && this.hasRoom()) this.fillFromQueue();
    if (this.openFailed.size > 0) for (const p of this.openFailed) if (!keyAt.has(p)) this.openFailed.delete(p);
    const forgotten = this.store.forget(now, this.cfg.checkpoint_forget_after_ms);
    if (forgotten > 0) this.telemetry.checkpointsForgotten(forgotten);
    this.syncWatches();
  }

  /**
   * A closed file needs no handle when every byte of it is acknowledged (its
   * checkpoint is at its size: let go while idle, or read before a restart)
   * or, while handles are short, when it is empty and unknown. It is opened again once it grows. Its
   * checkpoint is kept alive meanwhile (the file is still here).
   */
  private nothingToRead(dev: string, ino: string, size: number, now: number): boolean {
    const entries = this.store.byInode(dev, ino);
    // An empty file is opened while there is room (it holds its place and start_at applies); under pressure it waits for bytes.
    if (entries.length === 0) return size === 0 && !this.hasRoom();
    let done = false;
    for (const e of entries) { e.seen_ms = now; if (e.offset === size) done = true; }
    if (!done || entries.length !== 1) return false;
    // remove_after needs the file open to delete it once idle: opened while there is room.
    return this.cfg.remove_after_ms > 0 ? !this.hasRoom() : true;
  }

  /** Gauges and the rate-limited log line: after every change of the queue, so a scrape sees the backlog as it drains. */
  private reportWaiting(count = this.waiting.size): void {
    const now = Date.now();
    this.telemetry.waiting(count, this.waiting.oldestAgeMs(now), this.tailers.size, this.cfg.max_open_files, now);
  }

  /** Scan and fillFromQueue open files concurrently: a handle being opened counts before it exists. */
  private hasRoom(): boolean { return this.tailers.size + this.opening < this.cfg.max_open_files; }

  private async openReserved(path: string, startup: boolean, now: number): Promise<void> {
    this.opening++;
    try { await this.openFile(path, startup, now); } finally { this.opening--; }
  }

  private renameTailer(t: Tailer, to: string): void {
    if (this.byPath.get(t.path) === t) this.byPath.delete(t.path);
    t.renameTo(to);
    this.byPath.set(to, t);
  }

  private async openFile(path: string, startup: boolean, now: number): Promise<void> {
    let fh;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      if (this.openFailed.has(path)) this.telemetry.errorRepeated('open');
      else { this.openFailed.add(path); this.telemetry.error('open', path, err); }
      return;
    }
    this.openFailed.delete(path);
    let st: BigIntStats;
    try {
      // Identity of what we actually opened (the path may have changed since the glob).
      st = await fh.stat({ bigint: true });
    } catch (err) {
      await fh.close().catch(() => undefined);
      this.telemetry.error('open', path, err);
      return;
    }
    const dev = String(st.dev);
    const ino = String(st.ino);
    const key = `${dev}:${ino}`;
    if (this.tailers.has(key) || !st.isFile()) { await fh.close(); return; }
    const size = Number(st.size);
    let match: CheckpointEntry | undefined;
    const candidates = this.store.byInode(dev, ino);
    for (const e of candidates) {
      if (!match && e.offset <= size && await fingerprintMatches(fh, { hex: e.fingerprint, len: e.fp_len })) {
        match = e;
      } else {
        // Same inode, other content: the inode was reused, or the file was truncated while we were away.
        this.store.delete(e.stream_id);
      }
    }
    let from: StartFrom;
    if (match) from = { kind: 'checkpoint', entry: match };
    // start_at applies only to files already there when the agent starts and
    // never seen before; a file we knew whose content changed is read from 0.
    else if (startup && candidates.length === 0) from = this.cfg.start_at === 'end' ? { kind: 'end', size } : { kind: 'beginning' };
    else from = { kind: 'beginning' };
    const t = new Tailer(this, path, dev, ino, fh, from, now, resolvedOf(path));
    this.tailers.set(key, t);
    this.byPath.set(path, t);
    this.telemetry.opened(path, match ? match.offset : from.kind === 'end' ? size : 0, from.kind, this.tailers.size, this.waiting.size > 0);
    t.start();
  }

  private syncWatches(): void {
    if (this.stopping) return;
    const dirs = new Set<string>();
    for (const g of this.cfg.include) dirs.add(staticDir(g));
    for (const t of this.tailers.values()) dirs.add(dirname(t.path));
    this.watches.sync(dirs);
  }

  private onDirEvent(dir: string, event: string, name: string | null): void {
    if (this.stopping) return;
    if (name === null) {
      for (const t of this.tailers.values()) if (dirname(t.path) === dir) t.wake();
      this.rescanSoon();
      return;
    }
    const full = join(dir, basename(name));
    const t = this.byPath.get(full);
    if (t) t.wake();
    // Creates, deletes and renames arrive as 'rename'; a 'change' of a name we
    // do not tail may be a file that appeared between two scans.
    if ((event === 'rename' || !t) && isIncluded(full, this.cfg.include, this.cfg.exclude)) this.rescanSoon();
    else if (event === 'rename' && t) this.rescanSoon();
  }
}

export const fileSource: ComponentSpec<FileSourceConfig, Source> = {
  kind: 'source',
  type: 'file',
  summary: 'Tail files matching globs (inotify + stat polling), surviving rotation, with acknowledged checkpoints.',
  defaults: fileSourceDefaults,
  validate: validateFileSourceConfig,
  create: (cfg, ctx) => new FileSource(cfg, ctx),
};
