// Summarizes V8 .cpuprofile files (node --cpu-prof): self time per function
// (and per source file), top N, as shares of all samples.

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from './workload.ts';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; startTime: number; endTime: number; samples?: number[]; timeDeltas?: number[] }

export interface ProfileRow { fn: string; where: string; self_ms: number; share: number }
export interface ProfileSummary { total_ms: number; functions: ProfileRow[]; files: ProfileRow[] }

function shortUrl(url: string): string {
  if (!url) return '(native)';
  const p = url.startsWith('file://') ? url.slice(7) : url;
  return p.startsWith(repoRoot) ? relative(repoRoot, p) : p;
}

export function summarizeProfiles(dir: string, top = 20): ProfileSummary {
  const byFn = new Map<string, ProfileRow>();
  const byFile = new Map<string, ProfileRow>();
  let total = 0;
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'))) {
    const prof = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile;
    // Self time: each sample's time delta goes to the node it landed in.
    const selfUs = new Map<number, number>();
    const samples = prof.samples ?? [];
    const deltas = prof.timeDeltas ?? [];
    for (let i = 0; i < samples.length; i++) selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + Math.max(0, deltas[i] ?? 0));
    for (const n of prof.nodes) {
      const us = selfUs.get(n.id) ?? 0;
      if (us === 0) continue;
      const name = n.callFrame.functionName || '(anonymous)';
      // A thread waiting for work is not a cost: (idle) stays out of the shares.
      if (name === '(idle)') continue;
      total += us;
      const where = `${shortUrl(n.callFrame.url)}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
      const key = `${name}@${where}`;
      const row = byFn.get(key) ?? { fn: name, where, self_ms: 0, share: 0 };
      row.self_ms += us / 1000;
      byFn.set(key, row);
      const file = shortUrl(n.callFrame.url);
      const fr = byFile.get(file) ?? { fn: '', where: file, self_ms: 0, share: 0 };
      fr.self_ms += us / 1000;
      byFile.set(file, fr);
    }
  }
  const fin = (rows: Iterable<ProfileRow>) => [...rows].map((r) => ({ ...r, share: total ? r.self_ms / (total / 1000) : 0 }))
    .sort((a, b) => b.self_ms - a.self_ms).slice(0, top);
  return { total_ms: total / 1000, functions: fin(byFn.values()), files: fin(byFile.values()) };
}
