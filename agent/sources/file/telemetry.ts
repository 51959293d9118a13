// Logs and metrics of the file source. Each event is one method so the log
// line and the counter can never disagree. Per-path series are removed when a
// file is let go, so label cardinality is bounded by max_open_files.

import type { Counter, Gauge, Registry } from '../../observe/prometheus.ts';
import type { Logger } from '../../observe/log.ts';
import { counter, gauge } from '../../observe/metrics.ts';
import type { OversizeAction } from './config.ts';

export type RotationKind = 'rename' | 'delete';

export class FileSourceTelemetry {
  private readonly component: string;
  private readonly log: Logger;
  private readonly recordsTotal: Counter<'component'>;
  private readonly bytesTotal: Counter<'component'>;
  private readonly readBytes: Counter<'component' | 'path'>;
  private readonly ackedBytes: Counter<'component' | 'path'>;
  private readonly lagBytes: Gauge<'component' | 'path'>;
  private readonly oversizeTotal: Counter<'component' | 'action'>;
  private readonly rotationsTotal: Counter<'component' | 'kind'>;
  private readonly truncationsTotal: Counter<'component'>;
  private readonly openFiles: Gauge<'component'>;
  private readonly errorsTotal: Counter<'component' | 'op'>;
  private readonly checkpointWrites: Counter<'component'>;
  private readonly waitingFiles: Gauge<'component'>;
  private readonly oldestWaiting: Gauge<'component'>;
  /** While files wait for a handle: when it started and when we last said so (one line a minute at most). */
  private waitingSince = 0;
  private waitingLoggedMs = 0;
  private waitingPeak = 0;
  /** Plain counters for tests and the demo summary (no registry scrape needed). */
  readonly counts = { records: 0, bytes: 0, oversize: 0, rotations: 0, truncations: 0, errors: 0 };

  constructor(reg: Registry, component: string, log: Logger) {
    this.component = component;
    this.log = log;
    this.recordsTotal = counter(reg, 'edgelog_source_records_total', 'Records emitted by a source.', ['component']);
    this.bytesTotal = counter(reg, 'edgelog_source_bytes_total', 'Body bytes of records emitted by a source.', ['component']);
    this.readBytes = counter(reg, 'edgelog_file_read_bytes_total', 'Bytes read from a file.', ['component', 'path']);
    this.ackedBytes = counter(reg, 'edgelog_file_acked_bytes_total', 'Bytes of a file acknowledged downstream (checkpoint advanced).', ['component', 'path']);
    this.lagBytes = gauge(reg, 'edgelog_file_checkpoint_lag_bytes', 'File size minus acknowledged offset.', ['component', 'path']);
    this.oversizeTotal = counter(reg, 'edgelog_file_lines_oversize_total', 'Lines longer than max_line_bytes, by action taken.', ['component', 'action']);
    this.rotationsTotal = counter(reg, 'edgelog_file_rotations_total', 'Rotations seen: rename (new file at the path) or delete.', ['component', 'kind']);
    this.truncationsTotal = counter(reg, 'edgelog_file_truncations_total', 'Files found shorter than the read offset (copytruncate); reading restarted at 0.', ['component']);
    this.openFiles = gauge(reg, 'edgelog_file_open_files', 'Files held open by the file source.', ['component']);
    this.errorsTotal = counter(reg, 'edgelog_file_errors_total', 'File source errors by operation (the source retries).', ['component', 'op']);
    this.checkpointWrites = counter(reg, 'edgelog_file_checkpoint_writes_total', 'Checkpoint file writes.', ['component']);
    this.waitingFiles = gauge(reg, 'edgelog_file_waiting_files', 'Files matched by the globs that wait for a handle because max_open_files are open.', ['component']);
    this.oldestWaiting = gauge(reg, 'edgelog_file_oldest_waiting_seconds', 'How long the file waiting longest for a handle has waited (0 when none waits).', ['component']);
    this.waitingFiles.set({ component }, 0);
    this.oldestWaiting.set({ component }, 0);
  }

  emitted(records: number, bytes: number): void {
    this.counts.records += records;
    this.counts.bytes += bytes;
    this.recordsTotal.inc({ component: this.component }, records);
    this.bytesTotal.inc({ component: this.component }, bytes);
  }

  read(path: string, bytes: number): void {
    this.readBytes.inc({ component: this.component, path }, bytes);
  }

  acked(path: string, bytes: number, lag: number): void {
    if (bytes > 0) this.ackedBytes.inc({ component: this.component, path }, bytes);
    this.lagBytes.set({ component: this.component, path }, Math.max(0, lag));
  }

  lag(path: string, lag: number): void {
    this.lagBytes.set({ component: this.component, path }, Math.max(0, lag));
  }

  oversize(action: OversizeAction, path: string, offset: number): void {
    this.counts.oversize++;
    this.oversizeTotal.inc({ component: this.component, action });
    this.log.debug('line longer than max_line_bytes', { path, offset, action });
  }

  rotation(kind: RotationKind, path: string): void {
    this.counts.rotations++;
    this.rotationsTotal.inc({ component: this.component, kind });
    this.log.info('file rotated; draining the old file to EOF', { path, kind });
  }

  truncation(path: string, offset: number, size: number): void {
    this.counts.truncations++;
    this.truncationsTotal.inc({ component: this.component });
    this.log.info('file truncated; reading again from offset 0', { path, offset, size });
  }

  /** `busy`: files wait for handles, so files come and go by the thousand; one info line each would drown the rest. */
  opened(path: string, offset: number, how: string, open: number, busy = false): void {
    this.openFiles.set({ component: this.component }, open);
    if (busy) this.log.debug('tailing file', { path, offset, from: how });
    else this.log.info('tailing file', { path, offset, from: how });
  }

  /** The file was let go: drop its per-path series. */
  released(path: string, reason: string, open: number): void {
    this.openFiles.set({ component: this.component }, open);
    this.readBytes.remove({ component: this.component, path });
    this.ackedBytes.remove({ component: this.component, path });
    this.lagBytes.remove({ component: this.component, path });
    // Idle files are let go by the thousand when many wait: one line each would drown the rest.
    if (reason === 'idle') this.log.debug('released idle file to make room for a waiting one', { path });
    else this.log.info('released file', { path, reason });
  }

  /** A tailed file changed its name (same identity): move its series. */
  renamed(from: string, to: string): void {
    this.readBytes.remove({ component: this.component, path: from });
    this.ackedBytes.remove({ component: this.component, path: from });
    this.lagBytes.remove({ component: this.component, path: from });
    this.log.info('tailed file renamed', { from, to });
  }

  /**
   * After each scan: how many files wait for a handle. Said once when waiting
   * starts, then at most once a minute, and once when the queue is empty again.
   */
  waiting(count: number, oldestMs: number, open: number, maxOpen: number, nowMs: number): void {
    this.waitingFiles.set({ component: this.component }, count);
    this.oldestWaiting.set({ component: this.component }, oldestMs / 1000);
    if (count > 0) {
      this.waitingPeak = Math.max(this.waitingPeak, count);
      if (this.waitingSince === 0) {
        this.waitingSince = nowMs;
        this.waitingLoggedMs = nowMs;
        this.log.warn('max_open_files reached: files wait for a handle (idle, acknowledged files are let go after close_idle to make room)', { waiting: count, open, max_open_files: maxOpen });
      } else if (nowMs - this.waitingLoggedMs >= 60_000) {
        this.waitingLoggedMs = nowMs;
        this.log.warn('files still waiting for a handle', { waiting: count, oldest_waiting_s: Math.round(oldestMs / 1000), open, max_open_files: maxOpen });
      }
    } else if (this.waitingSince !== 0) {
      this.log.info('every waiting file got a handle', { waited_ms: nowMs - this.waitingSince, peak_waiting: this.waitingPeak });
      this.waitingSince = 0;
      this.waitingPeak = 0;
    }
  }

  removedAfterRead(path: string): void {
    this.log.info('removed fully read file (remove_after)', { path });
  }

  error(op: string, path: string, err: unknown): void {
    this.counts.errors++;
    this.errorsTotal.inc({ component: this.component, op });
    this.log.warn('file source error; will retry', { op, path, error: err });
  }

  /** The same failure again (e.g. a file we may not open, retried every scan): counted, not logged again. */
  errorRepeated(op: string): void {
    this.counts.errors++;
    this.errorsTotal.inc({ component: this.component, op });
  }

  checkpointWritten(): void {
    this.checkpointWrites.inc({ component: this.component });
  }

  checkpointsForgotten(n: number): void {
    this.log.info('forgot checkpoints of files gone for a while', { count: n });
  }
}
