// Durable read positions, one entry per file identity (stream id).
//
// Written atomically: the whole set goes to a temp file which is fsynced,
// renamed over the old file, and the directory fsynced so the rename itself
// survives a power cut. A reader therefore sees either the old or the new
// set, never a torn one. Offsets only ever come from OrderedAcks (acknowledged
// prefixes), so a checkpoint never points past a record that was not delivered.
//
// Entries are matched by identity (dev, ino, fingerprint), not path: a file
// renamed while the agent was down is found again under its new name.

import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CheckpointError } from '../../core/errors.ts';
import type { Logger } from '../../observe/log.ts';

export interface CheckpointEntry {
  /** Last path the file was seen under (informational; matching uses identity). */
  path: string;
  /** st_dev / st_ino as decimal strings: inode numbers can exceed 2^53. */
  dev: string;
  ino: string;
  /** Fingerprint hex over the first `fp_len` bytes. */
  fingerprint: string;
  fp_len: number;
  /** Stream id records carry (fixed when the file was first fingerprinted, so dedupe keys survive re-fingerprinting). */
  stream_id: string;
  /** Every byte before this offset was acknowledged downstream. */
  offset: number;
  /** Last time (ms) the file was present; entries unseen for long are forgotten. */
  seen_ms: number;
}

interface FileFormat {
  version: 1;
  checkpoints: CheckpointEntry[];
}

export class CheckpointStore {
  readonly file: string;
  private readonly log: Logger;
  private readonly entries = new Map<string, CheckpointEntry>();
  /** `dev:ino` -> stream ids: discovery asks once per matched file per scan, which must not cost O(entries) at thousands of files. */
  private readonly inodes = new Map<string, Set<string>>();
  private dirty = false;
  private writing: Promise<void> | null = null;
  /** Count of successful writes (tests and metrics). */
  writes = 0;

  constructor(file: string, log: Logger) {
    this.file = file;
    this.log = log;
  }

  /** Read the store. Missing file: empty. Unreadable or corrupt: empty (re-reading means duplicates, never loss) and kept aside. */
  async load(nowMs: number): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new CheckpointError(`cannot read checkpoint file ${this.file}`, err);
    }
    try {
      const parsed = JSON.parse(text) as FileFormat;
      if (parsed.version !== 1 || !Array.isArray(parsed.checkpoints)) throw new Error('unknown format');
      for (const e of parsed.checkpoints) {
        if (!isEntry(e)) continue;
        // Give every loaded entry a full grace period from now: the agent was down, not the file gone.
        this.put({ ...e, seen_ms: nowMs });
      }
    } catch (err) {
      const aside = `${this.file}.corrupt-${nowMs}`;
      this.log.warn('checkpoint file unreadable, starting without checkpoints (files are re-read: duplicates, not loss)', { file: this.file, aside, error: err });
      await rename(this.file, aside).catch(() => undefined);
    }
  }

  get size(): number { return this.entries.size; }
  get(streamId: string): CheckpointEntry | undefined { return this.entries.get(streamId); }
  all(): IterableIterator<CheckpointEntry> { return this.entries.values(); }

  /** Entries for a device+inode (usually 0 or 1). */
  byInode(dev: string, ino: string): CheckpointEntry[] {
    const ids = this.inodes.get(`${dev}:${ino}`);
    if (!ids) return [];
    const out: CheckpointEntry[] = [];
    for (const id of ids) { const e = this.entries.get(id); if (e) out.push(e); }
    return out;
  }

  set(e: CheckpointEntry): void {
    this.put(e);
    this.dirty = true;
  }

  delete(streamId: string): void {
    if (this.remove(streamId)) this.dirty = true;
  }

  private put(e: CheckpointEntry): void {
    const old = this.entries.get(e.stream_id);
    if (old && (old.dev !== e.dev || old.ino !== e.ino)) this.remove(e.stream_id);
    this.entries.set(e.stream_id, e);
    const k = `${e.dev}:${e.ino}`;
    let ids = this.inodes.get(k);
    if (!ids) { ids = new Set(); this.inodes.set(k, ids); }
    ids.add(e.stream_id);
  }

  private remove(streamId: string): boolean {
    const e = this.entries.get(streamId);
    if (!e) return false;
    this.entries.delete(streamId);
    const k = `${e.dev}:${e.ino}`;
    const ids = this.inodes.get(k);
    if (ids) { ids.delete(streamId); if (ids.size === 0) this.inodes.delete(k); }
    return true;
  }

  markDirty(): void { this.dirty = true; }

  /** Drop entries whose file has not been seen for `afterMs`; returns how many. */
  forget(nowMs: number, afterMs: number): number {
    let n = 0;
    for (const [id, e] of this.entries) {
      if (nowMs - e.seen_ms > afterMs) { this.remove(id); n++; }
    }
    if (n > 0) this.dirty = true;
    return n;
  }

  /** Write if anything changed. Concurrent calls share one write and a change made meanwhile triggers one more. */
  async flush(): Promise<boolean> {
    while (this.writing) await this.writing.catch(() => undefined);
    if (!this.dirty) return false;
    this.dirty = false;
    const body: FileFormat = { version: 1, checkpoints: [...this.entries.values()] };
    this.writing = writeAtomic(this.file, JSON.stringify(body) + '\n');
    try {
      await this.writing;
      this.writes++;
      return true;
    } catch (err) {
      this.dirty = true; // try again next interval
      // The cause goes into the message: "cannot write" alone leaves an operator guessing (full disk? permissions? read-only?).
      const code = (err as NodeJS.ErrnoException).code;
      throw new CheckpointError(`cannot write checkpoint file ${this.file}: ${code ? `${code} (${(err as Error).message.replace(/^[A-Z]+: /, '').replace(/,.*$/, '')})` : (err as Error).message}`, err);
    } finally {
      this.writing = null;
    }
  }
}

async function writeAtomic(file: string, text: string): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  await rename(tmp, file);
  // fsync the directory so the rename is durable too.
  const dh = await open(dir, 'r');
  try { await dh.sync(); } catch { /* some filesystems refuse fsync on a directory; the rename is still atomic */ } finally { await dh.close(); }
}

function isEntry(e: unknown): e is CheckpointEntry {
  if (typeof e !== 'object' || e === null) return false;
  const x = e as Record<string, unknown>;
  return typeof x.path === 'string' && typeof x.dev === 'string' && typeof x.ino === 'string'
    && typeof x.fingerprint === 'string' && typeof x.fp_len === 'number' && typeof x.stream_id === 'string'
    && typeof x.offset === 'number' && x.offset >= 0;
}
