// Finding files: the include globs minus the exclude globs, regular files only.
// Uses Node's own fs.glob / path.matchesGlob (Node 22+), no dependency.

import { glob, stat } from 'node:fs/promises';
import { dirname, matchesGlob } from 'node:path';
import type { BigIntStats } from 'node:fs';

export interface Found {
  path: string;
  st: BigIntStats;
}

/** Paths matching any include and no exclude, with their stat; files that vanish mid-scan are skipped. */
export async function findFiles(include: readonly string[], exclude: readonly string[]): Promise<Found[]> {
  const seen = new Set<string>();
  const out: Found[] = [];
  for await (const p of glob(include as string[], { exclude: exclude as string[] })) {
    if (seen.has(p)) continue;
    seen.add(p);
    if (isExcluded(p, exclude)) continue;
    let st: BigIntStats;
    try {
      st = await stat(p, { bigint: true });
    } catch {
      continue; // deleted between readdir and stat
    }
    if (st.isFile()) out.push({ path: p, st });
  }
  return out;
}

export function isExcluded(p: string, exclude: readonly string[]): boolean {
  for (const g of exclude) if (matchesGlob(p, g)) return true;
  return false;
}

export function isIncluded(p: string, include: readonly string[], exclude: readonly string[]): boolean {
  let inc = false;
  for (const g of include) if (matchesGlob(p, g)) { inc = true; break; }
  return inc && !isExcluded(p, exclude);
}

/**
 * The deepest directory of a glob without wildcards: watching it tells us
 * about new files at once even before the first one exists
 * (`/var/log/app/*.log` -> `/var/log/app`, `/var/log/**\/x.log` -> `/var/log`).
 */
export function staticDir(pattern: string): string {
  const parts = pattern.split('/');
  const fixed: string[] = [];
  for (const part of parts.slice(0, -1)) {
    if (/[*?[\]{}!]/.test(part)) break;
    fixed.push(part);
  }
  if (fixed.length === parts.length - 1) return dirname(pattern);
  return fixed.join('/') || '/';
}
