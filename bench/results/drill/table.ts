// Writes the drill results table (markdown) from the reports the drill test
// keeps: EDGELOG_DRILL_RESULTS=bench/results/drill node test/run.ts test/e2e/drill.test.ts
// then: node bench/results/drill/table.ts bench/results/drill > bench/results/drill/table.md
import { readdirSync, readFileSync } from 'node:fs';

interface Report {
  fault: string; brokers_per_region: number; expected: string; detection_ms: number | null; detection_rule: string | null;
  failover_ms: number | null; failback_ms: number | null; max_latency_ms_during_event: number; duplicates: number; lost: number; written: number; verdict: string;
}
const dir = process.argv[2] ?? 'bench/results/drill';
const s = (v: number | null): string => (v === null ? 'none' : `${(v / 1000).toFixed(2)} s`);
const order = ['kill', 'freeze', 'blackhole', 'flap', 'slow', 'broker', 'both', 'partition'];
const rows = readdirSync(dir).filter((f) => f.endsWith('.json')).map((f): [string, Report] => [f, JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')) as Report])
  .sort((a, b) => order.indexOf(a[1].fault) - order.indexOf(b[1].fault));
const out = ['| mode | engine | brokers/region | expected | detection (rule) | failover | failback | max latency | duplicates | lost | written | verdict | chart |', `|${' --- |'.repeat(13)}`];
for (const [f, r] of rows) {
  out.push(`| ${r.fault} | ${f.split('-')[1]} | ${r.brokers_per_region} | ${r.expected} | ${s(r.detection_ms)}${r.detection_rule ? ` (${r.detection_rule})` : ''} | ${s(r.failover_ms)} | ${s(r.failback_ms)} | ${(r.max_latency_ms_during_event / 1000).toFixed(2)} s | ${r.duplicates} | ${r.lost} | ${r.written} | ${r.verdict} | [svg](${f.replace('.json', '.svg')}) |`);
}
console.log(out.join('\n'));
