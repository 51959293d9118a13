import { writeFileSync } from 'node:fs';
import { parseArgs, UsageError } from './args.ts';
import { createLogger } from '../observe/log.ts';
import { readDuration } from '../config/schema.ts';
import { runFailoverDrill, summarize, type Fault, type DrillReport } from '../drill/failover-drill.ts';
import { renderChart } from '../drill/svg-chart.ts';

export const help = `usage: edgelog drill failover --fault kill|freeze|blackhole|manual [options]

Starts two local Kafka clusters as regions A and B (each in its own network
namespace when root, on loopback otherwise), runs steady load with sequence
numbers through the real agent, breaks region A, repairs it, and reports
detection, failover and failback times, records lost and duplicates.
Exits 1 if a single record was lost.

  --fault MODE          kill (SIGKILL the broker), freeze (SIGSTOP: a hung region),
                        blackhole (drop its packets; needs root), manual (you break A)
  --rate N              lines per second (default 2000)
  --warmup DUR          steady load before the fault (default 8s)
  --fault-duration DUR  how long A stays broken (default 15s)
  --hold-down DUR       failback hold-down for the drill (default 5s; the agent's default is 30s)
  --clusters A,B        existing clusters' bootstrap servers (no local brokers; --fault manual)
  --engine NAME         the kafka sink's client engine: platformatic (the sink's default) or kafkajs
  --loopback            keep brokers on loopback even when root
  --json FILE           write the report as JSON
  --chart FILE          write throughput and latency over time as SVG`;

export async function main(argv: string[]): Promise<number> {
  const { flags, rest } = parseArgs(argv, {
    fault: 'string', rate: 'string', warmup: 'string', 'fault-duration': 'string', 'hold-down': 'string',
    clusters: 'string', loopback: 'boolean', json: 'string', chart: 'string', 'failback-timeout': 'string', engine: 'string',
  });
  if (flags.help) { console.log(help); return 0; }
  if (rest[0] !== 'failover') throw new UsageError(`drill: expected 'failover' (got ${rest[0] ?? 'nothing'})\n\n${help}`);
  const fault = flags.fault as Fault | undefined;
  if (!fault || !['kill', 'freeze', 'blackhole', 'manual'].includes(fault)) throw new UsageError('drill failover: --fault must be kill, freeze, blackhole or manual');
  const d = (k: string, def: number) => readDuration(flags, k, 'drill', def);
  const rate = flags.rate === undefined ? 2000 : Number(flags.rate);
  if (!Number.isFinite(rate) || rate <= 0) throw new UsageError('--rate must be a positive number');
  let clusters: { a: string; b: string } | undefined;
  if (flags.clusters) {
    const [a, b] = String(flags.clusters).split(',');
    if (!a || !b) throw new UsageError('--clusters takes two bootstrap addresses: A,B');
    clusters = { a, b };
  }
  const engine = flags.engine === undefined ? undefined : String(flags.engine);
  if (engine !== undefined && engine !== 'kafkajs' && engine !== 'platformatic') throw new UsageError('--engine must be platformatic or kafkajs');
  const log = createLogger({ level: (process.env.EDGELOG_LOG_LEVEL as 'warn' | undefined) ?? 'warn', format: 'text' });
  const report = await runFailoverDrill({
    fault, rate, warmupMs: d('warmup', 8000), faultMs: d('fault-duration', 15_000), holdDownMs: d('hold-down', 5000),
    failbackTimeoutMs: d('failback-timeout', 60_000), clusters, loopback: flags.loopback === true, log, engine,
    say: (l) => console.log(l),
  });
  console.log('\n' + summarize(report));
  if (flags.json) writeFileSync(String(flags.json), JSON.stringify(report, null, 2) + '\n');
  if (flags.chart) writeFileSync(String(flags.chart), chartOf(report));
  return report.lost === 0 ? 0 : 1;
}

export function chartOf(r: DrillReport): string {
  const tl = r.timeline;
  const markers = r.events.filter((e) => e.kind !== 'breaker' || e.detail.includes('-> open')).map((e) => ({ x: e.t_ms / 1000, label: e.kind, color: e.kind === 'fault' ? '#c00' : e.kind === 'repair' ? '#080' : '#06c' }));
  return renderChart(`edgelog drill failover --fault ${r.fault}: lost ${r.lost}, duplicates ${r.duplicates}`, 'seconds since start', [
    { title: 'acknowledged records per second', unit: 'records/s', series: [
      { name: 'region A', color: '#1f77b4', points: tl.map((p) => [p.t_s, p.acked_a]) },
      { name: 'region B', color: '#ff7f0e', points: tl.map((p) => [p.t_s, p.acked_b]) },
    ] },
    { title: 'max end-to-end latency', unit: 'ms, log scale', logScale: true, series: [
      { name: 'max latency', color: '#d62728', points: tl.map((p) => [p.t_s, Math.max(1, p.max_latency_ms)]) },
    ] },
  ], markers);
}
