// Spool options as they appear in YAML (`spool: {dir, max_bytes, ...}` under a
// network source, or the pipeline's own spool) and their defaults.

import { ConfigError } from '../../core/errors.ts';
import { join } from '../../config/schema.ts';
import { choice, duration, type Infer, section, size, text } from '../../config/declare.ts';

/**
 * The spool's keys, declared once (agent/config/declare.ts): its type, reader,
 * defaults and reference rows (COMPONENTS.md, under `spool.` of tcp and syslog).
 */
export const spoolSection = section({
  /** Relative paths resolve under the agent's data_dir. */
  dir: text('dir', 'spool', 'segment directory; relative: `<data_dir>/<dir>/<source id>`'),
  // Vector's disk buffer refuses a max_size below 256 MiB; the same floor suits an edge node's disk.
  max_bytes: size('max_bytes', 256 * 1024 * 1024, 'cap on all segments together', 64 * 1024),
  // Our choice: 16 MiB keeps the open-time scan of the last segment short (<~50 ms) and frees space in steps of ~6% of the default cap.
  segment_bytes: size('segment_bytes', 16 * 1024 * 1024, 'a segment is sealed at this size (at most half of max_bytes; default shrinks to max_bytes/4)', 4096),
  // Fluent Bit's filesystem storage and Vector's disk buffer both block producers when full by default.
  when_full: choice('when_full', ['block', 'drop_oldest'], 'block', 'at the cap: pause reading until acks free a segment, or delete the oldest segment (counted)'),
  // Vector disk buffer (v2) flushes its data files every 500 ms.
  fsync_interval_ms: duration('fsync_interval', 500, 'fsync the active segment at least this often while it has unsynced bytes'),
  // Our choice: bounds what a power cut can take to 1 MiB between interval flushes at high rates.
  fsync_bytes: size('fsync_bytes', 1024 * 1024, '...and as soon as this many bytes are unsynced (0: after every append)'),
  // Kafka's message.max.bytes default (1 MB) plus headroom: nothing larger could be delivered anyway.
  max_record_bytes: size('max_record_bytes', 2 * 1024 * 1024, 'largest serialized record (at most segment_bytes - 64)', 16),
  // Our choice: a duplicate window of at most 1 s of replay after a crash, one small atomic write per second.
  ack_persist_interval_ms: duration('ack_persist_interval', 1000, 'how often the acknowledged position is persisted'),
}, (cfg, m, path) => {
  if (m.segment_bytes === undefined || m.segment_bytes === null) cfg.segment_bytes = Math.min(cfg.segment_bytes, Math.floor(cfg.max_bytes / 4));
  if (m.max_record_bytes !== undefined && cfg.max_record_bytes + 64 > cfg.segment_bytes) {
    throw new ConfigError(join(path, 'max_record_bytes'), `at most segment_bytes - 64 (${cfg.segment_bytes - 64})`, cfg.max_record_bytes);
  }
  checkSpoolConfig(cfg, path);
});

export type SpoolConfig = Infer<typeof spoolSection>;
export type SpoolFullPolicy = SpoolConfig['when_full'];
export const spoolDefaults: SpoolConfig = spoolSection.defaults;

export function readSpoolConfig(raw: unknown, path: string): SpoolConfig {
  return spoolSection.read(raw, path);
}

/** Cross-field rules: a segment must fit at least two in the cap, a record must fit in a segment. */
export function checkSpoolConfig(cfg: SpoolConfig, path: string): SpoolConfig {
  if (cfg.segment_bytes * 2 > cfg.max_bytes) throw new ConfigError(join(path, 'segment_bytes'), `at most half of max_bytes (${Math.floor(cfg.max_bytes / 2)})`, cfg.segment_bytes);
  if (cfg.max_record_bytes + 64 > cfg.segment_bytes) {
    // Only the default can get here (an explicit value was checked above): shrink it to fit a small spool.
    cfg.max_record_bytes = cfg.segment_bytes - 64;
  }
  return cfg;
}
