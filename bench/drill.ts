// Every failover drill mode, repeated, with the results table (issue 16).
// The suite (test/e2e/drill.test.ts) keeps the four modes that prove distinct
// guarantees; this runs all of them, the hung-region mode with both Kafka
// engines, each `--reps` times (default 3), one at a time (each starts its own
// JVMs), with the suite's short phases. Writes per run
// `<mode>-<engine>-<N>b-r<rep>.json` and `.svg`, and `table.md` (every run,
// then per mode the median and worst of each figure) into `--out`.
//
//   node bench/drill.ts [--reps 3] [--only flap,slow] [--out bench/results/drill]
//
// The 1-minute load average at each run's start is recorded: this machine is
// shared and a loaded host stretches latencies (see the table's load column).

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { drillTable } from './drill-table.ts';

interface Case { fault: string; engine: string; brokers: number }
const all: Case[] = [
  { fault: 'kill', engine: 'platformatic', brokers: 1 },
  { fault: 'freeze', engine: 'platformatic', brokers: 1 },
  { fault: 'freeze', engine: 'kafkajs', brokers: 1 },
  { fault: 'blackhole', engine: 'platformatic', brokers: 1 },
  { fault: 'flap', engine: 'platformatic', brokers: 3 },
  { fault: 'slow', engine: 'platformatic', brokers: 3 },
  { fault: 'broker', engine: 'platformatic', brokers: 3 },
  { fault: 'both', engine: 'platformatic', brokers: 3 },
  { fault: 'partition', engine: 'platformatic', brokers: 3 },
];

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}
const reps = Number(flag('reps') ?? 3);
if (!Number.isInteger(reps) || reps < 1) throw new Error('--reps must be a positive whole number');
const only = flag('only')?.split(',');
const out = flag('out') ?? join(import.meta.dirname, 'results/drill');
const cases = all.filter((c) => !only || only.includes(c.fault));
if (cases.length === 0) throw new Error(`--only matched no mode (modes: ${[...new Set(all.map((c) => c.fault))].join(', ')})`);
mkdirSync(out, { recursive: true });
const cli = join(import.meta.dirname, '../agent/cli/main.ts');
const loads: Record<string, number> = {};

// Repetition by repetition, so a burst of load on the host spreads over the modes.
for (let rep = 1; rep <= reps; rep++) {
  for (const c of cases) {
    const name = `${c.fault}-${c.engine}-${c.brokers}b-r${rep}`;
    loads[name] = loadavg()[0]!;
    console.log(`=== ${name} (load ${loads[name]!.toFixed(1)})`);
    const r = spawnSync(process.execPath, [cli, 'drill', 'failover', '--fault', c.fault, '--warmup', '5s', '--fault-duration', '10s', '--hold-down', '3s',
      '--engine', c.engine, '--brokers', String(c.brokers), '--json', join(out, `${name}.json`), '--chart', join(out, `${name}.svg`)], {
      stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, EDGELOG_LOG_LEVEL: 'error' }, timeout: 15 * 60_000, killSignal: 'SIGINT',
    });
    console.log(`=== ${name}: exit ${r.status ?? r.signal}`);
  }
}
writeFileSync(join(out, 'loads.json'), JSON.stringify(loads, null, 2) + '\n');
const table = drillTable(out);
writeFileSync(join(out, 'table.md'), table + '\n');
console.log(table);
