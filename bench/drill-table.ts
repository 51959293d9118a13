// The drill results table (markdown) from the reports in a directory: one row
// per run, then per mode and engine the median and worst of each figure.
// `node bench/drill-table.ts [DIR]` prints it; bench/drill.ts writes it to DIR/table.md.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface Report {
  fault: string; brokers_per_region: number; expected: string; detection_ms: number | null; detection_rule: string | null;
  failover_ms: number | null; failback_ms: number | null; max_latency_ms_during_event: number; p99_latency_ms_steady: number;
  duplicates: number; lost: number; lost_acknowledged?: number; written: number; verdict: string;
}

const order = ['kill', 'freeze', 'blackhole', 'flap', 'slow', 'broker', 'both', 'partition'];
const s = (v: number | null | undefined): string => (v === null || v === undefined ? 'none' : `${(v / 1000).toFixed(2)} s`);
const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const v = [...xs].sort((a, b) => a - b);
  return v[Math.floor((v.length - 1) / 2)]!;
};

export function drillTable(dir: string): string {
  const loads: Record<string, number> = existsSync(`${dir}/loads.json`) ? JSON.parse(readFileSync(`${dir}/loads.json`, 'utf8')) : {};
  const rows = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'loads.json')
    .map((f): [string, Report] => [f.replace(/\.json$/, ''), JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')) as Report])
    .sort((a, b) => order.indexOf(a[1].fault) - order.indexOf(b[1].fault) || a[0].localeCompare(b[0]));
  const out = [
    '| run | brokers/region | expected | detection (rule) | failover | failback | max latency | steady p99 | duplicates | lost (acked) | written | verdict | load 1m | chart |',
    `|${' --- |'.repeat(14)}`,
  ];
  for (const [name, r] of rows) {
    out.push(`| ${name} | ${r.brokers_per_region} | ${r.expected} | ${s(r.detection_ms)}${r.detection_rule ? ` (${r.detection_rule})` : ''} | ${s(r.failover_ms)} | ${s(r.failback_ms)} | ${s(r.max_latency_ms_during_event)} | ${s(r.p99_latency_ms_steady)} | ${r.duplicates} | ${r.lost} (${r.lost_acknowledged ?? 'n/a'}) | ${r.written} | ${r.verdict} | ${loads[name]?.toFixed(1) ?? 'n/a'} | [svg](${name}.svg) |`);
  }
  // Per mode and engine over the repetitions.
  const groups = new Map<string, Report[]>();
  for (const [name, r] of rows) {
    const key = name.replace(/-r\d+$/, '');
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  out.push('', '| mode | runs | PASS | lost (total) | detection median / worst | failover median / worst | max latency median / worst | duplicates median |', `|${' --- |'.repeat(8)}`);
  for (const [key, rs] of groups) {
    const nums = (f: (r: Report) => number | null): number[] => rs.map(f).filter((v): v is number => v !== null);
    const mw = (f: (r: Report) => number | null): string => { const v = nums(f); return v.length ? `${s(median(v))} / ${s(Math.max(...v))}` : 'none'; };
    out.push(`| ${key} | ${rs.length} | ${rs.filter((r) => r.verdict === 'PASS').length} | ${rs.reduce((a, r) => a + r.lost, 0)} | ${mw((r) => r.detection_ms)} | ${mw((r) => r.failover_ms)} | ${mw((r) => r.max_latency_ms_during_event)} | ${median(rs.map((r) => r.duplicates))} |`);
  }
  return out.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) console.log(drillTable(process.argv[2] ?? 'bench/results/drill'));
