// Spool options as they appear in YAML (`spool: {dir, max_bytes, ...}` under a
// network source, or the pipeline's own spool) and their defaults.

import { ConfigError } from '../../core/errors.ts';
import { readMap, readString, readBytes, readDuration, readEnum, join } from '../../config/schema.ts';

export type SpoolFullPolicy = 'block' | 'drop_oldest';

export interface SpoolConfig {
  /** Directory holding the segments; relative paths resolve under the agent's data_dir. */
  dir: string;
  /** Cap on the bytes of all segment files together. */
  max_bytes: number;
  /** Size at which the active segment is sealed and a new one started. */
  segment_bytes: number;
  /** What append does when the cap is reached: wait for acks to free a segment, or delete the oldest segment (counted). */
  when_full: SpoolFullPolicy;
  /** fsync the active segment at least this often (ms) while it has unsynced bytes. */
  fsync_interval_ms: number;
  /** ...and as soon as this many bytes are unsynced. 0 = fsync after every append. */
  fsync_bytes: number;
  /** Largest single serialized record. */
  max_record_bytes: number;
  /** How often the acked position is persisted (it is also persisted before any segment is deleted and on close). */
  ack_persist_interval_ms: number;
}

export const spoolDefaults: SpoolConfig = {
  dir: 'spool',
  // Vector's disk buffer refuses a max_size below 256 MiB; the same floor suits an edge node's disk.
  max_bytes: 256 * 1024 * 1024,
  // Our choice: 16 MiB keeps the open-time scan of the last segment short (<~50 ms) and frees space in steps of ~6% of the default cap.
  segment_bytes: 16 * 1024 * 1024,
  // Fluent Bit's filesystem storage and Vector's disk buffer both block producers when full by default.
  when_full: 'block',
  // Vector disk buffer (v2) flushes its data files every 500 ms.
  fsync_interval_ms: 500,
  // Our choice: bounds what a power cut can take to 1 MiB between interval flushes at high rates.
  fsync_bytes: 1024 * 1024,
  // Kafka's message.max.bytes default (1 MB) plus headroom: nothing larger could be delivered anyway.
  max_record_bytes: 2 * 1024 * 1024,
  // Our choice: a duplicate window of at most 1 s of replay after a crash, one small atomic write per second.
  ack_persist_interval_ms: 1000,
};

const keys = ['dir', 'max_bytes', 'segment_bytes', 'when_full', 'fsync_interval', 'fsync_bytes', 'max_record_bytes', 'ack_persist_interval'] as const;

export function readSpoolConfig(raw: unknown, path: string): SpoolConfig {
  const m = readMap(raw, path, keys);
  const d = spoolDefaults;
  const maxBytes = readBytes(m, 'max_bytes', path, d.max_bytes, 64 * 1024);
  const cfg: SpoolConfig = {
    dir: readString(m, 'dir', path, d.dir),
    max_bytes: maxBytes,
    segment_bytes: readBytes(m, 'segment_bytes', path, Math.min(d.segment_bytes, Math.floor(maxBytes / 4)), 4096),
    when_full: readEnum(m, 'when_full', path, ['block', 'drop_oldest'] as const, d.when_full),
    fsync_interval_ms: readDuration(m, 'fsync_interval', path, d.fsync_interval_ms),
    fsync_bytes: readBytes(m, 'fsync_bytes', path, d.fsync_bytes),
    max_record_bytes: readBytes(m, 'max_record_bytes', path, d.max_record_bytes, 16),
    ack_persist_interval_ms: readDuration(m, 'ack_persist_interval', path, d.ack_persist_interval_ms),
  };
  if (m.max_record_bytes !== undefined && cfg.max_record_bytes + 64 > cfg.segment_bytes) {
    throw new ConfigError(join(path, 'max_record_bytes'), `at most segment_bytes - 64 (${cfg.segment_bytes - 64})`, cfg.max_record_bytes);
  }
  return checkSpoolConfig(cfg, path);
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
