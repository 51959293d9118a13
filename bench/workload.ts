// Workloads: 200-byte and 1 KB JSON lines, and the loghub samples replicated
// to volume. Saturation files are pre-written once per size into bench/work/
// (gitignored) and reused; the latency writer builds lines with their write
// time embedded (`"wt":<ms>` in JSON, `wt=<ms> ` in front of a loghub line).

import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Real samples, outside the repository (never copied into it). */
// EDGELOG_LOGHUB_DIR: a checkout whose ../shared is elsewhere (a git worktree).
export const loghubDir = process.env.EDGELOG_LOGHUB_DIR ?? resolve(repoRoot, '../shared/data/loghub');

export type WorkloadName = 'json-200b' | 'json-1kb' | 'loghub';

export interface Workload {
  name: WorkloadName;
  title: string;
  /** Lines in the pre-written saturation file. */
  lines: number;
}

/**
 * Line counts per workload. Full runs are sized so a saturation window (first
 * to last record in Kafka) lasts at least ~10 s for the tools measured here
 * (edgelog ~550K lines/s on 200 B, less on 1 KB), so a scheduler hiccup on a
 * shared machine is a small part of it; --quick is a smoke run.
 */
export function workloads(quick: boolean): Workload[] {
  return [
    { name: 'json-200b', title: '200-byte JSON lines', lines: quick ? 100_000 : 6_000_000 },
    { name: 'json-1kb', title: '1 KB JSON lines', lines: quick ? 30_000 : 1_500_000 },
    { name: 'loghub', title: 'loghub samples (12 systems) replicated', lines: quick ? 48_000 : 6_000_000 },
  ];
}

const levels = ['info', 'info', 'info', 'debug', 'warn', 'info', 'error', 'info'];
const services = ['checkout', 'payments', 'inventory', 'edge-gw', 'auth', 'search'];
const paths = ['/api/v1/items', '/api/v1/cart', '/api/v1/orders', '/healthz', '/api/v2/search', '/login'];
const hex = '0123456789abcdef';

function traceId(i: number): string {
  let s = '';
  let x = (i * 2654435761) >>> 0;
  for (let k = 0; k < 32; k++) { x = (x * 1103515245 + 12345) >>> 0; s += hex[(x >>> 16) & 15]; }
  return s;
}

const baseMs = Date.UTC(2026, 10, 21, 8, 0, 0);

/**
 * One JSON line of exactly `size` bytes including its LF. `wt` (write time,
 * ms since the epoch with a fraction) is embedded for latency runs.
 */
export function jsonLine(i: number, size: number, wt?: number): string {
  const ts = new Date(baseMs + i).toISOString();
  const status = [200, 200, 200, 201, 404, 500][i % 6]!;
  let s = `{"ts":"${ts}","level":"${levels[i % levels.length]}","service":"${services[i % services.length]}","trace_id":"${traceId(i)}",` +
    `"msg":"GET ${paths[i % paths.length]}/${i % 9973} ${status}","dur_ms":${(i * 37) % 900}`;
  if (wt !== undefined) s += `,"wt":${wt.toFixed(3)}`;
  s += ',"pad":"';
  const pad = size - 1 - s.length - 2; // the closing `"}` and the LF
  if (pad > 0) s += 'x'.repeat(pad);
  return s + '"}\n';
}

let loghubCache: string[] | null = null;

/** Every non-empty line of the *_2k.log samples, CR stripped, in file order. */
export function loghubLines(): string[] {
  if (loghubCache) return loghubCache;
  const out: string[] = [];
  const files = existsSync(loghubDir) ? readdirSync(loghubDir).filter((f) => f.endsWith('_2k.log')).sort() : [];
  for (const f of files) {
    for (const l of readFileSync(join(loghubDir, f), 'utf8').split('\n')) {
      const line = l.endsWith('\r') ? l.slice(0, -1) : l;
      if (line.trim().length > 0) out.push(line);
    }
  }
  if (out.length === 0) throw new Error(`no loghub samples in ${loghubDir}`);
  loghubCache = out;
  return out;
}

/** Line i of a workload (with LF), optionally carrying its write time. */
export function makeLine(w: WorkloadName, i: number, wt?: number): string {
  switch (w) {
    case 'json-200b': return jsonLine(i, 200, wt);
    case 'json-1kb': return jsonLine(i, 1024, wt);
    case 'loghub': {
      const pool = loghubLines();
      const l = pool[i % pool.length]!;
      return wt === undefined ? l + '\n' : `wt=${wt.toFixed(3)} ${l}\n`;
    }
  }
}

/** Width of the write time as the writer formats it (ms since the epoch, 3 decimals: 13 + 1 + 3). */
export const WT_WIDTH = 17;

/**
 * Lines split around their write-time field, so the latency writer only
 * concatenates (prefix + time + suffix) per line: generating JSON per line
 * would cost the writer as much CPU as some tools under test spend.
 */
export function splitTemplates(w: WorkloadName, count: number): Array<[string, string]> {
  const marker = 9999999999999.999; // WT_WIDTH characters
  const out: Array<[string, string]> = [];
  for (let i = 0; i < count; i++) {
    const line = makeLine(w, i, marker);
    const k = line.indexOf(marker.toFixed(3));
    out.push([line.slice(0, k), line.slice(k + WT_WIDTH)]);
  }
  return out;
}

/** Pulls the embedded write time back out of a line (NaN when absent). */
export function writeTimeOf(line: string): number {
  let k = line.indexOf('"wt":');
  if (k >= 0) return parseFloat(line.slice(k + 5, k + 25));
  k = line.indexOf('wt=');
  if (k >= 0) return parseFloat(line.slice(k + 3, k + 23));
  return NaN;
}

export interface WorkloadFile { path: string; lines: number; bytes: number }

/** Writes (or reuses) the saturation file of a workload under `dir`. */
export function ensureWorkloadFile(w: Workload, dir: string): WorkloadFile {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${w.name}-${w.lines}.log`);
  if (existsSync(path)) return { path, lines: w.lines, bytes: statSync(path).size };
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  let bytes = 0;
  try {
    const chunk: string[] = [];
    for (let i = 0; i < w.lines; i++) {
      chunk.push(makeLine(w.name, i));
      if (chunk.length === 8192 || i === w.lines - 1) {
        const b = Buffer.from(chunk.join(''));
        writeSync(fd, b);
        bytes += b.length;
        chunk.length = 0;
      }
    }
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  return { path, lines: w.lines, bytes };
}
