// Entry the bench forks for edgelog: the real CLI (`edgelog run --config`),
// plus bench-only probes in the same process: every GC pause (perf_hooks) is
// kept and written to $EDGELOG_BENCH_GC_FILE at exit, so the GC p99 is exact
// rather than read from histogram buckets; the memory split at the RSS peak
// ($EDGELOG_BENCH_MEM_FILE). It loads no component: the agent's registry
// loads those the config names, as in production.

import { readFileSync, writeFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';

const gcFile = process.env.EDGELOG_BENCH_GC_FILE;
if (gcFile) {
  // Each pause with its kind (perf_hooks' NODE_PERFORMANCE_GC_*: 1 minor, 4
  // major, 8 incremental step, 16 weak callbacks) and its start (ms since the
  // process started), so the report can tell a startup mark-compact from one
  // at saturation.
  const pauses: number[] = [], kinds: number[] = [], starts: number[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) { pauses.push(e.duration); kinds.push(((e as { detail?: { kind?: number } }).detail)?.kind ?? 0); starts.push(Math.round(e.startTime)); }
  });
  obs.observe({ entryTypes: ['gc'] });
  process.on('exit', () => { try { writeFileSync(gcFile, JSON.stringify({ pauses, kinds, starts })); } catch { /* best effort */ } });
}

// Where the resident memory is: process.memoryUsage() every 50 ms (the RSS
// sampler's period), the split at the sample with the highest RSS and each
// part's own maximum, written to $EDGELOG_BENCH_MEM_FILE at exit. "other" is
// RSS minus heap and external: code, stacks, the allocator's retained pages,
// WebAssembly memories (not counted as external).
const memFile = process.env.EDGELOG_BENCH_MEM_FILE;
if (memFile) {
  const mb = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;
  let atPeak: NodeJS.MemoryUsage | null = null;
  let mapsAtPeak: Record<string, number> = {};
  const max = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  // The probe must not weigh on what it measures: reading smaps was 2.5 % and
  // memoryUsage() 1 % of the agent's main-thread samples at saturation. So:
  // the cheap RSS every 50 ms, the full split when RSS passes its peak and
  // every 250 ms (each part's own maximum), the mapping walk only every 16 MB
  // of new peak.
  let mapsRss = 0;
  let tick = 0;
  const t = setInterval(() => {
    const rss = process.memoryUsage.rss();
    if (atPeak && rss <= atPeak.rss && ++tick % 5 !== 0) return;
    const m = process.memoryUsage();
    if (!atPeak || m.rss > atPeak.rss) {
      if (m.rss > mapsRss + 16 * 2 ** 20) { mapsAtPeak = residentByMapping(); mapsRss = m.rss; }
      atPeak = m;
    }
    for (const k of Object.keys(max) as (keyof typeof max)[]) if (m[k] > max[k]) max[k] = m[k];
  }, 50);
  t.unref();
  process.on('exit', () => {
    if (!atPeak) return;
    const p = atPeak;
    const split = { rss: mb(p.rss), heap_total: mb(p.heapTotal), heap_used: mb(p.heapUsed), external: mb(p.external), array_buffers: mb(p.arrayBuffers), other: mb(p.rss - p.heapTotal - p.external) };
    const maxima = { rss: mb(max.rss), heap_total: mb(max.heapTotal), heap_used: mb(max.heapUsed), external: mb(max.external), array_buffers: mb(max.arrayBuffers) };
    try { writeFileSync(memFile, JSON.stringify({ at_peak_rss: split, max: maxima, mappings_at_peak: mapsAtPeak })); } catch { /* best effort */ }
  });
}

await import('../../agent/cli/main.ts');

/**
 * Resident MB by kind of mapping (/proc/self/smaps): files (the node binary,
 * addons), the main malloc arena ([heap]), anonymous mappings of 32 MB and
 * more (glibc's per-thread arenas reserve 64 MB each; V8's heap reserves
 * its cage), and the smaller anonymous ones (V8 pages, mmap'd buffers, stacks).
 */
function residentByMapping(): Record<string, number> {
  const out: Record<string, number> = { file: 0, brk_heap: 0, anon_large: 0, anon_small: 0 };
  try {
    let kind = 'anon_small';
    for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
      const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ (\d+)\s*(.*)$/.exec(line);
      if (head) {
        const size = Number.parseInt(head[2]!, 16) - Number.parseInt(head[1]!, 16);
        const name = head[4] ?? '';
        kind = name === '[heap]' ? 'brk_heap' : name.startsWith('/') ? 'file' : size >= 32 * 2 ** 20 ? 'anon_large' : 'anon_small';
        continue;
      }
      if (line.startsWith('Rss:')) out[kind]! += Number(line.split(/\s+/)[1]) / 1024;
    }
  } catch { /* not Linux */ }
  for (const k of Object.keys(out)) out[k] = Math.round(out[k]! * 10) / 10;
  return out;
}
