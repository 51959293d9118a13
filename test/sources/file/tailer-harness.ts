// One Tailer on a real file, driven step by step instead of by its read loop:
// the tests decide when it reads, when it looks at the path (atEof) and what
// the clock says, so decisions that depend on time (close_idle, remove_after,
// idle_flush, rotate_wait, the fingerprint check rate) are checked at their
// exact boundaries without a single timed assertion.
//
// The host is the part of FileSource a tailer talks to: checkpoint store and
// telemetry are the real ones, the rest records what the tailer asked for
// (rescans, releases, open groups).

import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Registry } from '../../../agent/observe/prometheus.ts';
import { silentLogger } from '../../../agent/observe/log.ts';
import type { Logger } from '../../../agent/observe/log.ts';
import { CheckpointStore } from '../../../agent/sources/file/checkpoint-store.ts';
import type { FileSourceConfig } from '../../../agent/sources/file/config.ts';
import { FileSourceTelemetry } from '../../../agent/sources/file/telemetry.ts';
import type { ReadAheadBudget } from '../../../agent/sources/file/read-ahead-budget.ts';
import { Tailer } from '../../../agent/sources/file/tailer.ts';
import type { StartFrom, TailerHost } from '../../../agent/sources/file/tailer.ts';
import { Collector } from './helpers.ts';

/** A Collector that also records the end-of-stream calls a stage like multiline gets. */
export class Recorder extends Collector {
  readonly ended: string[] = [];
  endStream(streamId: string): void { this.ended.push(streamId); }
}

export class TestHost implements TailerHost {
  readonly cfg: FileSourceConfig;
  readonly sourceId = 'files';
  readonly store: CheckpointStore;
  readonly telemetry: FileSourceTelemetry;
  readonly metrics = new Registry();
  readonly out: Collector;
  /** Absent: every file may read ahead (as if the source had no budget). */
  readAhead?: ReadAheadBudget;
  stopping = false;
  waitingFiles = 0;
  rescans = 0;
  readonly releases: string[] = [];
  openGroups = 0;

  constructor(cfg: FileSourceConfig, dir: string, out: Collector, log: Logger = silentLogger) {
    this.cfg = cfg;
    this.out = out;
    this.store = new CheckpointStore(join(dir, 'checkpoints.json'), log);
    this.telemetry = new FileSourceTelemetry(this.metrics, this.sourceId, log);
  }

  rescanSoon(): void { this.rescans++; }
  /** As FileSource does: the file's metric series go with it. */
  released(t: Tailer, reason: string): void { this.releases.push(reason); this.telemetry.released(t.path, reason, 0); }
  groupOpened(): void { this.openGroups++; }
  groupDone(): void { this.openGroups--; }

  /** Value of a per-path metric series, undefined when the series does not exist. */
  async metric(name: string, path: string): Promise<number | undefined> {
    return (await this.metrics.getSingleMetric(name)?.get())?.values.find((v) => v.labels.path === path)?.value;
  }
}

/** The tailer's steps, as its read loop runs them. */
interface Steps {
  fh: FileHandle;
  establish(): Promise<void>;
  readChunk(): Promise<number>;
  atEof(): Promise<number>;
  waitWake(ms: number): Promise<void>;
}

export function steps(t: Tailer): Steps {
  return t as unknown as Steps;
}

/** Opens `path` as the source does (identity from the opened handle) and makes its tailer; not started. */
export async function openTailer(host: TestHost, path: string, from: StartFrom = { kind: 'beginning' }, nowMs = Date.now()): Promise<Tailer> {
  const fh = await open(path, 'r');
  const st = await fh.stat({ bigint: true });
  return new Tailer(host, path, String(st.dev), String(st.ino), fh, from, nowMs);
}

/** One pass of the read loop up to EOF: establish the stream if needed, read chunks until a read returns nothing. */
export async function readToEof(t: Tailer): Promise<void> {
  const s = steps(t);
  for (;;) {
    if (t.gen === null) await s.establish();
    const n = t.gen === null ? 0 : await s.readChunk();
    if (n === 0) return;
  }
}

/** Rejects when `p` has not settled within `ms` (a deadline, not a measurement). */
export function withDeadline<T>(p: Promise<T>, what: string, ms = 15_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms); });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

/** A logger that keeps what was logged. */
export function recordingLogger(into: Array<{ msg: string; fields: Record<string, unknown> }>): Logger {
  const log: Logger = {
    debug: (msg, fields = {}) => { into.push({ msg, fields }); },
    info: (msg, fields = {}) => { into.push({ msg, fields }); },
    warn: (msg, fields = {}) => { into.push({ msg, fields }); },
    error: (msg, fields = {}) => { into.push({ msg, fields }); },
    child: () => log,
  };
  return log;
}
