// Checkpoint writes that fail, typically because data_dir is full (ENOSPC) or
// read-only. The store keeps its offsets in memory and retries every
// checkpoint_interval, so shipping goes on; what grows during the outage is
// the number of lines read again after a restart. An operator must see that at
// once and without a log line per second: the first failure is logged with its
// cause, then at most one summary per LOG_EVERY_MS; every failure counts in
// `edgelog_file_checkpoint_write_failures_total{code}`; the source reports a
// degraded /readyz reason until a write succeeds, which is logged as recovered.

import type { Counter } from '../../observe/prometheus.ts';
import type { Registry } from '../../observe/prometheus.ts';
import { counter } from '../../observe/metrics.ts';
import type { Logger } from '../../observe/log.ts';

/** One summary line per minute while the failure lasts: enough to see it continues, not enough to flood a disk that is already full. */
const LOG_EVERY_MS = 60_000;

const hints: Record<string, string> = {
  ENOSPC: 'no space left on the device holding data_dir',
  EDQUOT: 'disk quota of the agent user exceeded on data_dir',
  EROFS: 'data_dir is on a read-only filesystem',
  EACCES: 'the agent user may not write in data_dir',
  EPERM: 'the agent user may not write in data_dir',
  EIO: 'I/O error on the device holding data_dir',
};

export class CheckpointFailures {
  private readonly component: string;
  private readonly file: string;
  private readonly log: Logger;
  private readonly failures: Counter<'component' | 'code'>;
  private failing: { since: number; code: string; count: number; lastLogMs: number; message: string } | null = null;

  constructor(reg: Registry, component: string, file: string, log: Logger) {
    this.component = component;
    this.file = file;
    this.log = log;
    this.failures = counter(reg, 'edgelog_file_checkpoint_write_failures_total',
      'Checkpoint writes that failed, by errno code (ENOSPC: data_dir full). Offsets stay in memory and the write is retried.', ['component', 'code']);
  }

  /** The errno code of a failed write ('' when there is none). */
  static codeOf(err: unknown): string {
    let e: unknown = err;
    for (let i = 0; i < 4 && e; i++) {
      const code = (e as NodeJS.ErrnoException).code;
      if (typeof code === 'string' && /^E[A-Z]+$/.test(code) && !code.startsWith('EDGELOG')) return code;
      e = (e as { cause?: unknown }).cause;
    }
    return '';
  }

  failed(err: unknown, nowMs = Date.now()): void {
    const code = CheckpointFailures.codeOf(err) || 'UNKNOWN';
    this.failures.inc({ component: this.component, code });
    const message = (err as Error)?.message ?? String(err);
    const f = this.failing;
    if (!f || f.code !== code) {
      this.failing = { since: nowMs, code, count: 1, lastLogMs: nowMs, message };
      this.log.error('cannot write checkpoints; offsets are kept in memory and the write is retried (lines acknowledged since the last good write are read again after a restart)',
        { file: this.file, code, cause: hints[code] ?? message, error: message });
      return;
    }
    f.count++;
    f.message = message;
    if (nowMs - f.lastLogMs >= LOG_EVERY_MS) {
      f.lastLogMs = nowMs;
      this.log.error('checkpoint writes still failing', { file: this.file, code, cause: hints[code] ?? message, failures: f.count, since: new Date(f.since).toISOString() });
    }
  }

  succeeded(nowMs = Date.now()): void {
    const f = this.failing;
    if (!f) return;
    this.failing = null;
    this.log.info('checkpoint writes recovered', { file: this.file, code: f.code, failures: f.count, outage_ms: nowMs - f.since });
  }

  /**
   * The /readyz reason while writes fail, '' otherwise. Stable while the
   * failure lasts (a changing text would be a health event and a log line
   * per attempt); the count is in the metric, the start in the first log line.
   */
  degraded(): string {
    const f = this.failing;
    if (!f) return '';
    return `cannot write checkpoints to ${this.file} since ${new Date(f.since).toISOString()}: ${f.code}${hints[f.code] ? ` (${hints[f.code]})` : ''}; retried every checkpoint_interval, and a restart now reads again what was acknowledged since`;
  }
}
