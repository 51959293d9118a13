// One agent per data_dir. Two agents sharing checkpoints both tail every file
// and both ship every line (100 % duplicates), and their checkpoint writes
// race; so the agent takes an exclusive lock on `<data_dir>/edgelog.lock`
// before it reads anything, and a second agent exits naming the holder.
//
// The lock is flock(2) (LOCK_EX|LOCK_NB) through ffi-rs on libc: the kernel
// drops it when the holder dies, even by SIGKILL, so a crash never leaves a
// stale lock and pid reuse cannot fool it. The file also carries the holder's
// pid, host and start time, for the message. Where libc cannot be reached
// through ffi-rs (a platform without its prebuilt addon) the fallback is the
// pid in that file checked with kill(pid, 0): good enough to catch the
// operator's mistake, though two agents starting in the same instant could
// both pass it.

import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { EdgelogError } from '../core/errors.ts';

const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK = 11;

type Ffi = typeof import('ffi-rs');
let ffi: Ffi | null | undefined;

function libc(): Ffi | null {
  if (ffi !== undefined) return ffi;
  try {
    const f = createRequire(import.meta.url)('ffi-rs') as Ffi;
    f.open({ library: 'edgelog-libc', path: 'libc.so.6' });
    ffi = f;
  } catch {
    ffi = null;
  }
  return ffi;
}

/** 0, or the errno of a failed flock. */
function flock(fd: number, op: number): number {
  const f = libc()!;
  const r = f.load({
    library: 'edgelog-libc', funcName: 'flock', retType: f.DataType.I32,
    paramsType: [f.DataType.I32, f.DataType.I32], paramsValue: [fd, op], errno: true,
  } as never) as unknown as { errnoCode: number; value: number };
  return r.value === 0 ? 0 : r.errnoCode || EWOULDBLOCK;
}

interface Holder { pid?: number; host?: string; since?: string }

function readHolder(file: string): Holder {
  try { return JSON.parse(readFileSync(file, 'utf8')) as Holder; } catch { return {}; }
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM'; }
}

export class DataDirLockedError extends EdgelogError {
  readonly holderPid: number | undefined;
  constructor(dir: string, holder: Holder) {
    const who = holder.pid ? `pid ${holder.pid}${holder.host && holder.host !== hostname() ? ` on ${holder.host}` : ''}${holder.since ? `, started ${holder.since}` : ''}` : 'a process whose pid could not be read';
    super('EDGELOG_DATA_DIR_LOCKED',
      `agent.data_dir ${dir} is in use by another edgelog agent (${who}); two agents on one data_dir would both ship every line. Stop that agent, or give this one its own agent.data_dir`);
    this.holderPid = holder.pid;
  }
}

export class DataDirLock {
  readonly dir: string;
  readonly file: string;
  private fd: number | null;

  private constructor(dir: string, file: string, fd: number) {
    this.dir = dir;
    this.file = file;
    this.fd = fd;
  }

  /** Creates data_dir if needed and locks it, or throws DataDirLockedError naming the holder. */
  static acquire(dir: string): DataDirLock {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'edgelog.lock');
    const fd = openSync(file, 'a+', 0o644);
    try {
      if (libc()) {
        const err = flock(fd, LOCK_EX | LOCK_NB);
        if (err === EWOULDBLOCK) throw new DataDirLockedError(dir, readHolder(file));
        if (err !== 0) throw new EdgelogError('EDGELOG_DATA_DIR_LOCK', `cannot lock agent.data_dir ${dir}: flock failed with errno ${err}`);
      } else {
        const h = readHolder(file);
        if (h.pid && h.pid !== process.pid && (!h.host || h.host === hostname()) && alive(h.pid)) throw new DataDirLockedError(dir, h);
      }
      ftruncateSync(fd, 0);
      writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }) + '\n', 0);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return new DataDirLock(dir, file, fd);
  }

  /** Closing the descriptor drops the flock. The file stays: removing it could race with the next agent taking it. */
  release(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    try { ftruncateSync(fd, 0); } catch { /* best effort: a stale pid in the file is harmless under flock */ }
    closeSync(fd);
  }
}
