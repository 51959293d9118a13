// Process and runtime metrics, read at scrape time: the names and meanings of
// the "default metrics" Prometheus client libraries export
// (process_cpu_seconds_total, process_resident_memory_bytes,
// process_open_fds, nodejs_heap_size_used_bytes, ...), so dashboards built for
// them keep working, under the agent's prefix (edgelog_process_).
//
// Not exported: GC durations (the agent has edgelog_runtime_gc_pause_seconds
// by kind and thread) and the per-type handle and request counts, which need
// Node's private process._getActiveHandles(); nodejs_active_resources covers
// them through the public getActiveResourcesInfo().

import { readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { Counter, Gauge, type Registry } from './prometheus.ts';

/** Fields of /proc/self/status in bytes (VmRSS, VmSize, VmData), or null off Linux. */
function procStatus(): { rss: number; vsize: number; data: number } | null {
  let text: string;
  try { text = readFileSync('/proc/self/status', 'utf8'); } catch { return null; }
  const kb = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  };
  return { rss: kb('VmRSS'), vsize: kb('VmSize'), data: kb('VmData') };
}

/** The soft limit on open files (/proc/self/limits), or null. */
function maxFds(): number | null {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch { return null; }
}

function openFds(): number | null {
  try { return readdirSync('/proc/self/fd').length - 1; } catch { return null; } // minus the directory handle readdir held
}

let eldMonitor: ReturnType<typeof monitorEventLoopDelay> | undefined;
/** One sampler per process (an agent has one registry with these metrics; tests make many). */
function loopDelay(): ReturnType<typeof monitorEventLoopDelay> {
  if (!eldMonitor) { eldMonitor = monitorEventLoopDelay({ resolution: 10 }); eldMonitor.enable(); }
  return eldMonitor;
}

/** Register the process and runtime metrics on `r`, names prefixed with `prefix`. */
export function registerProcessMetrics(r: Registry, prefix: string): void {
  const registers = [r];
  const cpu = (name: string, help: string, pick: (u: NodeJS.CpuUsage) => number) => new Counter({
    name: `${prefix}${name}`, help, registers,
    collect() { this.reset(); this.inc(pick(process.cpuUsage()) / 1e6); },
  });
  cpu('process_cpu_user_seconds_total', 'User CPU time spent, in seconds.', (u) => u.user);
  cpu('process_cpu_system_seconds_total', 'System CPU time spent, in seconds.', (u) => u.system);
  cpu('process_cpu_seconds_total', 'User and system CPU time spent, in seconds.', (u) => u.user + u.system);

  const start = new Gauge({ name: `${prefix}process_start_time_seconds`, help: 'Start time of the process since the Unix epoch, in seconds.', registers });
  start.set(Math.round((Date.now() - process.uptime() * 1000) / 1000));

  const status = (name: string, help: string, pick: (s: NonNullable<ReturnType<typeof procStatus>>) => number, fallback?: () => number) => new Gauge({
    name: `${prefix}${name}`, help, registers,
    collect() {
      const s = procStatus();
      if (s) this.set(pick(s)); else if (fallback) this.set(fallback());
    },
  });
  status('process_resident_memory_bytes', 'Resident memory size, in bytes.', (s) => s.rss, () => process.memoryUsage.rss());
  status('process_virtual_memory_bytes', 'Virtual memory size, in bytes.', (s) => s.vsize);
  status('process_heap_bytes', 'Process heap (data segment) size, in bytes.', (s) => s.data);

  new Gauge({ name: `${prefix}process_open_fds`, help: 'Open file descriptors.', registers, collect() { const n = openFds(); if (n !== null) this.set(n); } });
  const max = maxFds();
  if (max !== null) new Gauge({ name: `${prefix}process_max_fds`, help: 'Maximum number of open file descriptors.', registers }).set(max);

  // Event loop delay: sampled every 10 ms by libuv; the distribution since the last scrape.
  const eld = loopDelay();
  new Gauge({
    name: `${prefix}nodejs_eventloop_lag_seconds`, help: 'Event loop lag, in seconds: how late a callback queued at scrape time ran.', registers,
    collect() {
      const t0 = process.hrtime.bigint();
      return new Promise<void>((resolve) => setImmediate(() => { this.set(Number(process.hrtime.bigint() - t0) / 1e9); resolve(); }));
    },
  });
  const stats: Array<[string, string, () => number]> = [
    ['min', 'The minimum', () => eld.min],
    ['max', 'The maximum', () => eld.max],
    ['mean', 'The mean', () => eld.mean],
    ['stddev', 'The standard deviation of', () => eld.stddev],
    ['p50', 'The 50th percentile of', () => eld.percentile(50)],
    ['p90', 'The 90th percentile of', () => eld.percentile(90)],
    ['p99', 'The 99th percentile of', () => eld.percentile(99)],
  ];
  const last = stats.length - 1;
  stats.forEach(([suffix, what, read], i) => new Gauge({
    name: `${prefix}nodejs_eventloop_lag_${suffix}_seconds`, help: `${what} event loop delay since the last scrape, in seconds.`, registers,
    collect() {
      const ns = read();
      this.set(Number.isFinite(ns) ? ns / 1e9 : 0);
      // The last of the set starts the next interval (the registry reads them in this order).
      if (i === last) eld.reset();
    },
  }));

  new Gauge<'type'>({
    name: `${prefix}nodejs_active_resources`, help: 'Resources keeping the event loop alive, by type (process.getActiveResourcesInfo).', labelNames: ['type'], registers,
    collect() {
      this.reset();
      for (const t of process.getActiveResourcesInfo()) this.inc({ type: t });
    },
  });
  new Gauge({ name: `${prefix}nodejs_active_resources_total`, help: 'Resources keeping the event loop alive.', registers, collect() { this.set(process.getActiveResourcesInfo().length); } });

  const mem = (name: string, help: string, pick: (m: NodeJS.MemoryUsage) => number) => new Gauge({
    name: `${prefix}${name}`, help, registers, collect() { this.set(pick(process.memoryUsage())); },
  });
  mem('nodejs_heap_size_total_bytes', 'V8 heap size, in bytes.', (m) => m.heapTotal);
  mem('nodejs_heap_size_used_bytes', 'V8 heap in use, in bytes.', (m) => m.heapUsed);
  mem('nodejs_external_memory_bytes', 'Memory outside the V8 heap held by JavaScript objects (Buffers), in bytes.', (m) => m.external);

  const space = (what: 'total' | 'used' | 'available', help: string, pick: (s: ReturnType<typeof getHeapSpaceStatistics>[number]) => number) => new Gauge<'space'>({
    name: `${prefix}nodejs_heap_space_size_${what}_bytes`, help, labelNames: ['space'], registers,
    collect() { for (const s of getHeapSpaceStatistics()) this.set({ space: s.space_name.replace(/_space$/, '') }, pick(s)); },
  });
  space('total', 'V8 heap space size, in bytes.', (s) => s.space_size);
  space('used', 'V8 heap space in use, in bytes.', (s) => s.space_used_size);
  space('available', 'V8 heap space available, in bytes.', (s) => s.space_available_size);

  const [major, minor, patch] = process.versions.node.split('.');
  new Gauge<'version' | 'major' | 'minor' | 'patch'>({
    name: `${prefix}nodejs_version_info`, help: 'Node.js version.', labelNames: ['version', 'major', 'minor', 'patch'], registers,
  }).set({ version: process.version, major: major!, minor: minor!, patch: patch! }, 1);
}
