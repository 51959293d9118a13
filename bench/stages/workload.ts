// Workloads for the per-stage micro-benchmarks: 200-byte and 1 KB JSON lines
// (the same shapes the end-to-end benchmark ships), logfmt lines with the
// same fields, and the real loghub samples (read in place, never copied).

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const levels = ['info', 'info', 'info', 'info', 'debug', 'warn', 'error'];
const paths = ['/api/v1/orders', '/api/v1/users/42', '/healthz', '/api/v1/cart', '/static/app.js'];

function hex(n: number, len: number): string { return (n >>> 0).toString(16).padStart(8, '0').repeat(Math.ceil(len / 8)).slice(0, len); }

/** JSON line padded to about `size` bytes with a realistic message. */
export function jsonLine(i: number, size: number): string {
  const base = {
    time: new Date(1_714_564_800_000 + i).toISOString(), level: levels[i % levels.length], service: 'checkout',
    trace_id: hex(i * 2654435761, 32), span_id: hex(i * 40503, 16), path: paths[i % paths.length], status: i % 13 === 0 ? 500 : 200,
    latency_ms: i % 97, user: `user${i % 1000}@example.com`, msg: '',
  };
  const empty = JSON.stringify(base).length;
  let msg = `request ${i} handled`;
  while (empty + msg.length < size) msg += ' lorem ipsum dolor sit amet';
  base.msg = msg.slice(0, Math.max(10, size - empty));
  return JSON.stringify(base);
}

export function jsonLines(n: number, size: number): string[] {
  return Array.from({ length: n }, (_, i) => jsonLine(i, size));
}

export function logfmtLines(n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const o = JSON.parse(jsonLine(i, 200)) as Record<string, unknown>;
    return Object.entries(o).map(([k, v]) => (typeof v === 'string' && /\s/.test(v) ? `${k}="${v}"` : `${k}=${String(v)}`)).join(' ');
  });
}

export function loghubDir(): string | undefined {
  return [join(import.meta.dirname, '../../../shared/data/loghub'), '/work/shared/data/loghub'].find((d) => existsSync(join(d, 'Hadoop_2k.log')));
}

export function loghubLines(file?: string): string[] {
  const dir = loghubDir();
  if (!dir) return [];
  const files = file ? [file] : readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
  const out: string[] = [];
  for (const f of files) for (const l of readFileSync(join(dir, f), 'utf8').split(/\r?\n/)) if (l !== '') out.push(l);
  return out;
}

/** Hadoop lines with a hand-written 7-line Java trace after every 50th line (the samples hold the headers, not the frames). */
export function javaTraceLines(): string[] {
  const base = loghubLines('Hadoop_2k.log');
  const frames = ['java.io.IOException: connection reset', '\tat org.example.net.Conn.read(Conn.java:120)', '\tat org.example.net.Conn.fill(Conn.java:88)',
    'Caused by: java.net.SocketException: reset', '\tat java.base/sun.nio.ch.Net.poll(Native Method)', '\t... 14 more'];
  const out: string[] = [];
  base.forEach((l, i) => { out.push(l); if (i % 50 === 49) out.push(...frames); });
  return out;
}
