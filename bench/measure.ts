// Process measurements from /proc: CPU seconds (utime + stime, optionally
// with reaped children) and peak resident memory (VmHWM, with VmRSS samples
// as a fallback for processes that exit between samples).

import { readFileSync } from 'node:fs';

const CLK_TCK = 100; // USER_HZ on Linux is 100 on every mainstream architecture

/** CPU seconds of a live process: utime+stime (+ cutime+cstime when children is set). null when gone. */
export function cpuSeconds(pid: number, children = true): number | null {
  let s: string;
  try { s = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { return null; }
  // The comm field may contain spaces and parentheses: fields start after the last ')'.
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state); utime is field 14 -> f[11], stime f[12], cutime f[13], cstime f[14].
  const t = Number(f[11]) + Number(f[12]) + (children ? Number(f[13]) + Number(f[14]) : 0);
  return t / CLK_TCK;
}

/** VmHWM and VmRSS in bytes; null when the process is gone. */
export function memory(pid: number): { hwm: number; rss: number } | null {
  let s: string;
  try { s = readFileSync(`/proc/${pid}/status`, 'utf8'); } catch { return null; }
  const kb = (k: string): number => { const m = new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s); return m ? Number(m[1]) * 1024 : 0; };
  return { hwm: kb('VmHWM'), rss: kb('VmRSS') };
}

/** Direct children of a process (from /proc/<pid>/task/<pid>/children). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch { return []; }
}

/**
 * Samples a set of pids every `intervalMs`: the last CPU reading per pid and
 * the peak memory seen. The set can grow (a wrapper's child appears later).
 */
export class ProcSampler {
  private readonly pids = new Set<number>();
  private timer: NodeJS.Timeout | null = null;
  readonly lastCpu = new Map<number, number>();
  peakBytes = 0;
  private readonly expand: boolean;

  constructor(pids: number[], opts: { intervalMs?: number; expandChildren?: boolean } = {}) {
    for (const p of pids) this.pids.add(p);
    this.expand = opts.expandChildren ?? false;
    this.sample();
    this.timer = setInterval(() => this.sample(), opts.intervalMs ?? 50);
  }

  sample(): void {
    if (this.expand) for (const p of [...this.pids]) for (const c of childPids(p)) this.pids.add(c);
    let rss = 0;
    for (const p of this.pids) {
      const c = cpuSeconds(p);
      if (c !== null) this.lastCpu.set(p, c);
      const m = memory(p);
      if (m) rss += Math.max(m.hwm, m.rss);
    }
    // Sum over the set: a wrapper shell adds ~3 MB, noted in the report.
    if (rss > this.peakBytes) this.peakBytes = rss;
  }

  /** Sum of the last CPU readings (seconds). */
  cpu(): number {
    let t = 0;
    for (const v of this.lastCpu.values()) t += v;
    return t;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

/** Percentile by nearest rank on a sorted copy. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/** Quantile from a Prometheus histogram's cumulative buckets (linear inside the bucket). */
export function histogramQuantile(buckets: Array<[number, number]>, q: number): number {
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const total = sorted.length ? sorted[sorted.length - 1]![1] : 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let prevLe = 0, prevCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (!Number.isFinite(le)) return prevLe;
      return prevLe + (le - prevLe) * ((rank - prevCount) / Math.max(1, count - prevCount));
    }
    prevLe = le; prevCount = count;
  }
  return prevLe;
}

/** Cumulative buckets of one histogram (summed over label sets) from Prometheus text. */
export function parseHistogram(text: string, name: string): Array<[number, number]> {
  const byLe = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}_bucket{`)) continue;
    const m = /le="([^"]+)"/.exec(line);
    if (!m) continue;
    const le = m[1] === '+Inf' ? Infinity : Number(m[1]);
    byLe.set(le, (byLe.get(le) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return [...byLe.entries()];
}

/** Sum of all samples of a metric (optionally filtered by a label substring) in Prometheus text. */
export function metricSum(text: string, name: string, labelFilter = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    if (labelFilter && !line.includes(labelFilter)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
