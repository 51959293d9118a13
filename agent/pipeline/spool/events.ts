// Every spool event that an operator may care about is one function here:
// it bumps the in-process stats (read by tests and /readyz), the Prometheus
// metric and writes the log line, so the three never disagree.

import type { Counter, Gauge, Registry } from '../../observe/prometheus.ts';
import type { Logger } from '../../observe/log.ts';
import { counter, gauge } from '../../observe/metrics.ts';

export interface SpoolStats {
  appended: number;
  replayed: number;
  droppedOldest: number;
  tornTails: number;
  tornBytes: number;
  errors: Record<string, number>;
}

interface Metrics {
  size: Gauge<'spool'>;
  records: Counter<'spool' | 'op'>;
  torn: Counter<'spool'>;
  errors: Counter<'spool' | 'code'>;
}

function metricsOn(reg: Registry): Metrics {
  return {
    size: gauge(reg, 'edgelog_spool_size_bytes', 'Bytes of spool segment files on disk.', ['spool']),
    records: counter(reg, 'edgelog_spool_records_total', 'Records through the spool by operation (append, replay, drop_oldest).', ['spool', 'op']),
    torn: counter(reg, 'edgelog_spool_torn_tail_total', 'Torn segment tails found and cut when opening the spool.', ['spool']),
    errors: counter(reg, 'edgelog_spool_errors_total', 'Spool I/O errors by code (ENOSPC, crc, ...).', ['spool', 'code']),
  };
}

export class SpoolEvents {
  readonly stats: SpoolStats = { appended: 0, replayed: 0, droppedOldest: 0, tornTails: 0, tornBytes: 0, errors: {} };
  private readonly m: Metrics | null;
  private readonly log: Logger;
  private readonly name: string;
  private diskFullLogged = false;

  constructor(name: string, log: Logger, reg: Registry | undefined) {
    this.name = name;
    this.log = log;
    this.m = reg ? metricsOn(reg) : null;
  }

  size(bytes: number): void { this.m?.size.set({ spool: this.name }, bytes); }

  appended(n: number): void {
    this.stats.appended += n;
    this.m?.records.inc({ spool: this.name, op: 'append' }, n);
    if (this.diskFullLogged) {
      this.diskFullLogged = false;
      this.log.info('spool writable again', { spool: this.name });
    }
  }

  replayed(n: number): void {
    this.stats.replayed += n;
    this.m?.records.inc({ spool: this.name, op: 'replay' }, n);
  }

  droppedOldest(records: number, segment: string): void {
    this.stats.droppedOldest += records;
    this.m?.records.inc({ spool: this.name, op: 'drop_oldest' }, records);
    this.log.warn('spool full: dropped oldest segment', { spool: this.name, segment, records });
  }

  tornTail(segment: string, reason: string, cutBytes: number, keptRecords: number): void {
    this.stats.tornTails++;
    this.stats.tornBytes += cutBytes;
    this.m?.torn.inc({ spool: this.name });
    this.log.warn('spool: torn tail cut', { spool: this.name, segment, reason, cut_bytes: cutBytes, kept_records: keptRecords });
  }

  error(code: string, msg: string, fields: Record<string, unknown> = {}): void {
    this.stats.errors[code] = (this.stats.errors[code] ?? 0) + 1;
    this.m?.errors.inc({ spool: this.name, code });
    // A full disk repeats on every retry: log the first and the recovery, count all.
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      if (this.diskFullLogged) return;
      this.diskFullLogged = true;
    }
    this.log.error(msg, { spool: this.name, code, ...fields });
  }
}
