// Config of the `file` source: which files to tail and how to frame, bound
// and checkpoint them. Every default says where it comes from or why.

import { ConfigError } from '../../core/errors.ts';
import { join, readStringList, type Raw } from '../../config/schema.ts';
import { choice, duration, field, type Infer, int, section, size, text } from '../../config/declare.ts';

export type StartAt = 'beginning' | 'end';
export type OversizeAction = 'split' | 'truncate';

/** Absolute globs (`include` requires at least one): a relative glob would depend on the daemon's working directory, which an init system does not promise. */
function globs(key: string, required: boolean, meaning: string) {
  return field<string[]>(key, 'list of absolute globs', [], required ? '(required)' : '`[]`', meaning, (m: Raw, path: string) => {
    const list = readStringList(m, key, path, []);
    if (required && list.length === 0) throw new ConfigError(join(path, key), 'at least one glob pattern (required)');
    list.forEach((g, i) => {
      if (!g.startsWith('/')) throw new ConfigError(join(join(path, key), i), 'an absolute glob pattern (starting with /)', g);
    });
    return list;
  }, { anyOf: [absolute, { type: 'array', ...(required ? { minItems: 1 } : {}), items: absolute }] });
}

const absolute = { type: 'string', pattern: '^/' };

/**
 * The file source's keys, declared once (agent/config/declare.ts): the type,
 * the reader, the defaults and its COMPONENTS.md rows. Every default says
 * where it comes from or why.
 */
export const fileSourceSection = section({
  /** Absolute glob patterns (path.matchesGlob syntax: `*`, `**`, `?`, `[...]`, `{a,b}`). */
  include: globs('include', true, 'files to tail (`*`, `**`, `?`, `[...]`, `{a,b}`)'),
  exclude: globs('exclude', false, 'matched files to skip'),
  // Beginning: a fresh agent on a node ships what is already on disk, which is
  // what at-least-once asks for (Vector file source read_from default
  // `beginning`); `end` is for fleets that only want new lines (Fluent Bit tail
  // reads from the tail by default, Read_from_Head false).
  start_at: choice<StartAt>('start_at', ['beginning', 'end'], 'beginning', 'where to start a file already there at startup without a checkpoint; files appearing later always start at the beginning'),
  // Vector file source glob_minimum_cooldown_ms 1000. inotify wakes us at once;
  // this only bounds the delay when an event is lost (overflow, NFS, bind mounts).
  glob_interval_ms: duration('glob_interval', 1000, "how often the globs are re-run and open files stat'ed (the safety net under inotify; at least 10ms)"),
  // 128 KiB: one read per chunk, large enough for hundreds of lines, small
  // enough that many files interleave (Fluent Bit tail Buffer_Chunk_Size is 32k;
  // Vector file source max_read_bytes 2048 favours fairness over syscalls).
  // Each chunk costs a thread-pool round trip, an acknowledgement group and a
  // run through the pipeline: against 64 KiB, json-200b went from 703K / 983K
  // / 946K to 992K / 1,095K / 1,046K events/s, interleaved, peak RSS 106-110
  // MB both; 256 KiB was faster again but held 134-148 MB (bench/results/read-chunk).
  // The buffer is allocated past glibc's mmap threshold (the launchers set 64
  // KiB), so a file that only ever gets a few lines touches a few pages of it.
  read_chunk_bytes: size('read_chunk_bytes', 128 * 1024, 'one read per chunk; one batch and one acknowledgement group per chunk', 512),
  // Vector file source max_line_bytes 102400.
  max_line_bytes: size('max_line_bytes', 102400, 'longest line; longer ones are handled per `oversize`', 16),
  // Split keeps every byte (at-least-once); truncate is opt-in data loss.
  oversize: choice<OversizeAction>('oversize', ['split', 'truncate'], 'split', '`split` keeps every byte in several records; `truncate` drops the rest of the line'),
  // Fluent Bit's multiline flush_timeout (4 s in its source, long documented as
  // 5 s) plays the same role for an unfinished record. A lone unterminated line
  // is far more often a writer mid-write than a finished line, so we wait 5 s
  // rather than cut lines in two, which still bounds the latency of a truly
  // final line.
  idle_flush_ms: duration('idle_flush', 5000, 'an unterminated last line is shipped after this long without new bytes'),
  // Fluent Bit tail Rotate_Wait 5 (seconds).
  rotate_wait_ms: duration('rotate_wait', 5000, 'a rotated-away (renamed or deleted) file stays open this long after its last new byte'),
  // Vector's default checksum fingerprint hashes the first line (its older
  // `fingerprint.bytes` option defaulted to 256); Fluent Bit tail trusts the
  // inode alone. We hash a fixed 256-byte prefix: about two log lines, enough
  // that two files rarely share it, independent of line length, and a 256-byte
  // pread is nearly free.
  fingerprint_bytes: int('fingerprint_bytes', 256, 'bytes hashed to recognise a file (identity with dev+inode)', 16, 1 << 20),
  /** Checkpoint file; '' means `<dataDir>/checkpoints/<source id>.json`. */
  checkpoint_path: text('checkpoint_path', '', 'checkpoint file; `\'\'`: `<data_dir>/checkpoints/<source id>.json`'),
  // One small fsynced write per second at most (only when an offset moved);
  // after a crash at most ~1 s of acknowledged lines is read again, which is
  // the duplicate bound at-least-once accepts.
  checkpoint_interval_ms: duration('checkpoint_interval', 1000, 'how often moved offsets are written (at least 10ms)'),
  // One hour: long enough that a briefly missing mount or a slow rotation does
  // not lose its position, short enough that the file never grows without bound.
  checkpoint_forget_after_ms: duration('checkpoint_forget_after', 3_600_000, 'a checkpoint whose file has not been seen for this long is dropped'),
  // Below the usual soft RLIMIT_NOFILE of 1024, leaving room for sockets
  // (Kafka, forward, /metrics) and the spool.
  max_open_files: int('max_open_files', 512, 'files open at once; more wait in a fair queue (longest-waiting first) for a handle, shown as `edgelog_file_waiting_files`, `edgelog_file_oldest_waiting_seconds` and a `/readyz` degraded reason', 1, 1 << 20),
  // Filebeat closes a file after close_inactive (5m) whatever the load; we let
  // go only while other files wait, and sooner: an acknowledged file costs
  // one open and one fingerprint read to resume, while a waiting file may be
  // deleted by retention before it is read. 10 s is two idle_flush periods, so
  // a writer pausing between bursts keeps its handle.
  close_idle_ms: duration('close_idle', 10_000, 'while files wait for a handle, an open file idle this long with every line acknowledged is let go; it is opened again from its checkpoint when it grows (0: never)'),
  // Both off, as in Vector (ignore_older_secs and remove_after_secs unset):
  // skipping or deleting files is a choice the operator makes knowingly.
  ignore_older_ms: duration('ignore_older', 0, 'skip files not modified for this long when discovered (0: off)'),
  remove_after_ms: duration('remove_after', 0, 'delete a file once fully read, acknowledged and idle this long (0: never)'),
}, (cfg, m, path) => {
  if (cfg.glob_interval_ms < 10) throw new ConfigError(join(path, 'glob_interval'), 'a duration of at least 10ms', m.glob_interval);
  if (cfg.checkpoint_interval_ms < 10) throw new ConfigError(join(path, 'checkpoint_interval'), 'a duration of at least 10ms', m.checkpoint_interval);
});

export type FileSourceConfig = Infer<typeof fileSourceSection>;
export const fileSourceDefaults: FileSourceConfig = fileSourceSection.defaults;

export function validateFileSourceConfig(raw: unknown, path: string): FileSourceConfig {
  return fileSourceSection.read(raw, path);
}
