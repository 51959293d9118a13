// Config of the `file` source: which files to tail and how to frame, bound
// and checkpoint them. Every default says where it comes from or why.

import { ConfigError } from '../../core/errors.ts';
import {
  join, readBytes, readDuration, readEnum, readInt, readMap, readOptString, readStringList,
} from '../../config/schema.ts';

export type StartAt = 'beginning' | 'end';
export type OversizeAction = 'split' | 'truncate';

export interface FileSourceConfig {
  /** Absolute glob patterns (path.matchesGlob syntax: `*`, `**`, `?`, `[...]`, `{a,b}`). */
  include: string[];
  exclude: string[];
  /** Where to start a file found at startup that has no checkpoint. Files appearing later always start at the beginning. */
  start_at: StartAt;
  /** How often to re-run the globs and stat every open file: the safety net under inotify. */
  glob_interval_ms: number;
  read_chunk_bytes: number;
  max_line_bytes: number;
  oversize: OversizeAction;
  /** An unterminated last line is shipped after this long without new bytes. */
  idle_flush_ms: number;
  /** How long a rotated-away (renamed or deleted) file stays open after its last new byte before it is let go. */
  rotate_wait_ms: number;
  fingerprint_bytes: number;
  /** Checkpoint file; '' means `<dataDir>/checkpoints/<source id>.json`. */
  checkpoint_path: string;
  checkpoint_interval_ms: number;
  /** A checkpoint whose file has not been seen for this long is forgotten. */
  checkpoint_forget_after_ms: number;
  max_open_files: number;
  /**
   * While files wait for a handle (max_open_files reached), an open file idle
   * this long whose lines are all acknowledged is let go to make room; it is
   * opened again from its checkpoint when it grows (0 = never let go).
   */
  close_idle_ms: number;
  /** Skip files not modified for this long when they are discovered (0 = off). */
  ignore_older_ms: number;
  /** Delete a file once it is fully read, acknowledged and idle this long (0 = never). */
  remove_after_ms: number;
}

export const fileSourceDefaults: FileSourceConfig = {
  include: [],
  exclude: [],
  // Beginning: a fresh agent on a node ships what is already on disk, which is
  // what at-least-once asks for (Vector file source read_from default
  // `beginning`); `end` is for fleets that only want new lines (Fluent Bit tail
  // reads from the tail by default, Read_from_Head false).
  start_at: 'beginning',
  // Vector file source glob_minimum_cooldown_ms 1000. inotify wakes us at once;
  // this only bounds the delay when an event is lost (overflow, NFS, bind mounts).
  glob_interval_ms: 1000,
  // 64 KiB: one read syscall per chunk, large enough for hundreds of lines, small
  // enough that many files interleave (Fluent Bit tail Buffer_Chunk_Size is 32k;
  // Vector file source max_read_bytes 2048 favours fairness over syscalls).
  read_chunk_bytes: 64 * 1024,
  // Vector file source max_line_bytes 102400.
  max_line_bytes: 102400,
  // Split keeps every byte (at-least-once); truncate is opt-in data loss.
  oversize: 'split',
  // Fluent Bit's multiline flush_timeout (4 s in its source, long documented as
  // 5 s) plays the same role for an unfinished record. A lone unterminated line
  // is far more often a writer mid-write than a finished line, so we wait 5 s
  // rather than cut lines in two, which still bounds the latency of a truly
  // final line.
  idle_flush_ms: 5000,
  // Fluent Bit tail Rotate_Wait 5 (seconds).
  rotate_wait_ms: 5000,
  // Vector's default checksum fingerprint hashes the first line (its older
  // `fingerprint.bytes` option defaulted to 256); Fluent Bit tail trusts the
  // inode alone. We hash a fixed 256-byte prefix: about two log lines, enough
  // that two files rarely share it, independent of line length, and a 256-byte
  // pread is nearly free.
  fingerprint_bytes: 256,
  checkpoint_path: '',
  // One small fsynced write per second at most (only when an offset moved);
  // after a crash at most ~1 s of acknowledged lines is read again, which is
  // the duplicate bound at-least-once accepts.
  checkpoint_interval_ms: 1000,
  // One hour: long enough that a briefly missing mount or a slow rotation does
  // not lose its position, short enough that the file never grows without bound.
  checkpoint_forget_after_ms: 3_600_000,
  // Below the usual soft RLIMIT_NOFILE of 1024, leaving room for sockets
  // (Kafka, forward, /metrics) and the spool.
  max_open_files: 512,
  // Filebeat closes a file after close_inactive (5m) whatever the load; we let
  // go only while other files wait, and sooner: an acknowledged file costs
  // one open and one fingerprint read to resume, while a waiting file may be
  // deleted by retention before it is read. 10 s is two idle_flush periods, so
  // a writer pausing between bursts keeps its handle.
  close_idle_ms: 10_000,
  // Both off, as in Vector (ignore_older_secs and remove_after_secs unset):
  // skipping or deleting files is a choice the operator makes knowingly.
  ignore_older_ms: 0,
  remove_after_ms: 0,
};

const keys = [
  'include', 'exclude', 'start_at', 'glob_interval', 'read_chunk_bytes', 'max_line_bytes', 'oversize',
  'idle_flush', 'rotate_wait', 'fingerprint_bytes', 'checkpoint_path', 'checkpoint_interval',
  'checkpoint_forget_after', 'max_open_files', 'close_idle', 'ignore_older', 'remove_after',
] as const;

export function validateFileSourceConfig(raw: unknown, path: string): FileSourceConfig {
  const m = readMap(raw, path, keys);
  const d = fileSourceDefaults;
  const include = readStringList(m, 'include', path, []);
  if (include.length === 0) throw new ConfigError(join(path, 'include'), 'at least one glob pattern (required)');
  include.forEach((g, i) => checkGlob(g, join(join(path, 'include'), i)));
  const exclude = readStringList(m, 'exclude', path, []);
  exclude.forEach((g, i) => checkGlob(g, join(join(path, 'exclude'), i)));
  const cfg: FileSourceConfig = {
    include,
    exclude,
    start_at: readEnum(m, 'start_at', path, ['beginning', 'end'] as const, d.start_at),
    glob_interval_ms: readDuration(m, 'glob_interval', path, d.glob_interval_ms),
    read_chunk_bytes: readBytes(m, 'read_chunk_bytes', path, d.read_chunk_bytes, 512),
    max_line_bytes: readBytes(m, 'max_line_bytes', path, d.max_line_bytes, 16),
    oversize: readEnum(m, 'oversize', path, ['split', 'truncate'] as const, d.oversize),
    idle_flush_ms: readDuration(m, 'idle_flush', path, d.idle_flush_ms),
    rotate_wait_ms: readDuration(m, 'rotate_wait', path, d.rotate_wait_ms),
    fingerprint_bytes: readInt(m, 'fingerprint_bytes', path, d.fingerprint_bytes, 16, 1 << 20),
    checkpoint_path: readOptString(m, 'checkpoint_path', path) ?? d.checkpoint_path,
    checkpoint_interval_ms: readDuration(m, 'checkpoint_interval', path, d.checkpoint_interval_ms),
    checkpoint_forget_after_ms: readDuration(m, 'checkpoint_forget_after', path, d.checkpoint_forget_after_ms),
    max_open_files: readInt(m, 'max_open_files', path, d.max_open_files, 1, 1 << 20),
    close_idle_ms: readDuration(m, 'close_idle', path, d.close_idle_ms),
    ignore_older_ms: readDuration(m, 'ignore_older', path, d.ignore_older_ms),
    remove_after_ms: readDuration(m, 'remove_after', path, d.remove_after_ms),
  };
  if (cfg.glob_interval_ms < 10) throw new ConfigError(join(path, 'glob_interval'), 'a duration of at least 10ms', m.glob_interval);
  if (cfg.checkpoint_interval_ms < 10) throw new ConfigError(join(path, 'checkpoint_interval'), 'a duration of at least 10ms', m.checkpoint_interval);
  return cfg;
}

function checkGlob(g: string, path: string): void {
  // Globs are matched against absolute paths; a relative glob would depend on
  // the daemon's working directory, which an init system does not promise.
  if (!g.startsWith('/')) throw new ConfigError(path, 'an absolute glob pattern (starting with /)', g);
}
