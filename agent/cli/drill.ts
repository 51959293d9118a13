import { writeFileSync } from 'node:fs';
import { parseArgs, UsageError } from './args.ts';
import { createLogger } from '../observe/log.ts';
import { readDuration } from '../config/schema.ts';
import { faults, runFailoverDrill, summarize, type Fault, type DrillReport } from '../drill/failover-drill.ts';
import { renderChart } from '../drill/svg-chart.ts';

export const help = `usage: edgelog drill failover --fault ${faults.join('|')} [options]

Starts two local Kafka clusters as regions A and B (each in its own network
namespace when root, on loopback otherwise), runs steady load with sequence
numbers through the real agent, breaks region A, repairs it, and reports
detection, failover and failback times, records lost and duplicates.
Exits 1 if a single record was lost.

  --fault MODE          kill (SIGKILL the broker), freeze (SIGSTOP: a hung region),
                        blackhole (drop its packets; needs root), manual (you break A),
                        flap (A stopped 1.5 s / running 0.7 s, repeatedly: SIGSTOP/SIGCONT),
                        slow (A answers late: SIGSTOP 800 ms / SIGCONT 200 ms cycles; no netem here),
                        broker (SIGKILL A's partition leader: election in A, no failover; 3 brokers),
                        both (A and B frozen together, then resumed: backpressure, recovery),
                        partition (A's bootstrap reachable, its leaders' path blackholed; root, 3 brokers)
  --brokers N           nodes per region: 3 (KRaft, RF 3, min.insync.replicas 2; default) or 1
  --heap MB             heap per broker (default 256 with 3 nodes, 512 with 1)
  --rate N              lines per second (default 2000)
  --warmup DUR          steady load before the fault (default 8s)
  --fault-duration DUR  how long A stays broken (default 15s)
  --hold-down DUR       failback hold-down for the drill (default 5s; the agent's default is 30s)
  --clusters A,B        existing clusters' bootstrap servers (no local brokers; --fault manual)
  --engine NAME         the kafka sink's client engine: builtin (the sink's default), platformatic or kafkajs
  --loopback            keep brokers on loopback even when root
  --json FILE           write the report as JSON
  --chart FILE          write throughput and latency over time as SVG`;

export async function main(argv: string[]): Promise<number> {
  const { flags, rest } = parseArgs(argv, {
    fault: 'string', rate: 'string', warmup: 'string', 'fault-duration': 'string', 'hold-down': 'string',
    clusters: 'string', loopback: 'boolean', brokers: 'string', heap: 'string', json: 'string', chart: 'string', 'failback-timeout': 'string', engine: 'string',
  });
  if (flags.help) { console.log(help); return 0; }
  if (rest[0] !== 'failover') throw new UsageError(`drill: expected 'failover' (got ${rest[0] ?? 'nothing'})\n\n${help}`);
  const fault = flags.fault as Fault | undefined;
  if (!fault || !(faults as readonly string[]).includes(fault)) throw new UsageError(`drill failover: --fault must be one of ${faults.join(', ')}`);
  const brokers = flags.brokers === undefined ? 3 : Number(flags.brokers);
  if (brokers !== 1 && brokers !== 3) throw new UsageError('--brokers must be 1 or 3');
  const heapMb = flags.heap === undefined ? undefined : Number(flags.heap);
  if (heapMb !== undefined && !(Number.isInteger(heapMb) && heapMb >= 128)) throw new UsageError('--heap must be a whole number of MB, at least 128');
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
  if (engine !== undefined && engine !== 'kafkajs' && engine !== 'platformatic' && engine !== 'builtin') throw new UsageError('--engine must be builtin, platformatic or kafkajs');
  const log = createLogger({ level: (process.env.EDGELOG_LOG_LEVEL as 'warn' | undefined) ?? 'warn', format: 'text' });
  const report = await runFailoverDrill({
    fault, rate, warmupMs: d('warmup', 8000), faultMs: d('fault-duration', 15_000), holdDownMs: d('hold-down', 5000),
    failbackTimeoutMs: d('failback-timeout', 60_000), clusters, loopback: flags.loopback === true, log, engine, brokers, heapMb,
    say: (l) => console.log(l),
  });
  console.log('\n' + summarize(report));
  if (flags.json) writeFileSync(String(flags.json), JSON.stringify(report, null, 2) + '\n');
  if (flags.chart) writeFileSync(String(flags.chart), chartOf(report));
  return report.verdict === 'PASS' ? 0 : 1;
}

export function chartOf(r: DrillReport): string {
  const tl = r.timeline;
  // Every breaker transition and route change is marked; the fault window is shaded.
  const colors: Record<string, string> = { open: '#c00', half_open: '#e69500', closed: '#080' };
  const markers = r.events.filter((e) => e.kind !== 'fault' && e.kind !== 'repair').map((e) => ({
    x: e.t_ms / 1000,
    label: e.kind === 'breaker' ? `${e.cluster} ${e.to}${e.detail.includes('gray failure') ? ' (gray)' : ''}` : `${e.kind} -> ${e.to}`,
    color: e.kind === 'breaker' ? colors[e.to ?? ''] ?? '#06c' : '#06c',
  }));
  const [f1, f2] = r.fault_window ?? [0, 0];
  return renderChart(`drill --fault ${r.fault} (${r.brokers_per_region}/region): ${r.verdict}, lost ${r.lost}, dups ${r.duplicates}, detect ${r.detection_ms ?? 'n/a'} ms`, 'seconds since start', [
    { title: 'acknowledged records per second', unit: 'records/s', series: [
      { name: 'region A', color: '#1f77b4', points: tl.map((p) => [p.t_s, p.acked_a]) },
      { name: 'region B', color: '#ff7f0e', points: tl.map((p) => [p.t_s, p.acked_b]) },
    ] },
    { title: 'max end-to-end latency', unit: 'ms, log scale', logScale: true, series: [
      { name: 'max latency', color: '#d62728', points: tl.map((p) => [p.t_s, Math.max(1, p.max_latency_ms)]) },
    ] },
  ], markers, 900, [{ x1: f1, x2: f2, label: `fault: ${r.fault}` }]);
}
