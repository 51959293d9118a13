// edgelog itself: `edgelog run --config` as a child (through
// edgelog-entry.ts, or the plain CLI for idle runs), file source -> otlp_proto -> kafka with lz4. Delivery
// is polled from its own metrics (one Kafka message carries many records):
// records acknowledged by Kafka (edgelog_component_sent_records_total); the
// runner recounts them from Kafka after the run, as it does for every tool.

import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readLogsData } from '../../agent/verify/otlp-readback.ts';
import { histogramQuantile, metricSum, parseHistogram, percentile } from '../measure.ts';
import { nodeBinaryReady, sh, track } from './proc.ts';
import type { Peer, PeerProcess, PeerRunOptions } from './types.ts';
import { repoRoot, writeTimeOf } from '../workload.ts';


/** The engine variant under test (the bench can add others, e.g. another Kafka client). */
export interface EdgelogVariant {
  name: string;
  compression: 'lz4' | 'zstd' | 'snappy' | 'gzip' | 'none';
  /** Extra YAML lines under the sink (indented by 4). */
  sinkExtra?: string;
  /** Extra options of the file source, inside its flow mapping (e.g. `read_chunk_bytes: 256KiB`). */
  sourceExtra?: string;
  /** agent.worker_threads (unset: the product's default, auto). */
  workerThreads?: number;
  /** Another checkout of the repository to run (bench/idle-rss.ts: the code before a change); default this one. */
  root?: string;
  /** Node/V8 flags instead of the launcher's (agent/cli/edgelog), for tuning runs side by side. */
  nodeFlags?: string[];
  /** Environment added to the agent's, e.g. glibc malloc tunables; an empty value removes the variable (e.g. one the launcher sets). */
  env?: Record<string, string>;
}

/**
 * What the product's launcher (agent/cli/edgelog, agent/install/release/launcher.sh)
 * starts Node with; the bench forks the entry directly, so it repeats them here.
 */
export const launcherNodeFlags = ['--max-semi-space-size=8', '--initial-old-space-size=64', '--no-parallel-scavenge', '--preserve-symlinks'];
export const launcherEnv: Record<string, string> = { NODE_COMPILE_CACHE: join(repoRoot, '.cache/node-compile-cache'), MALLOC_MMAP_THRESHOLD_: '65536' };

/** The environment without the variables a variant cleared (empty value). */
function withoutEmpty<T extends Record<string, string | undefined>>(env: T): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(env)) if (x !== undefined && x !== '') out[k] = x;
  return out;
}

function config(o: PeerRunOptions, v: EdgelogVariant): string {
  return `# edgelog bench: file -> otlp_proto -> kafka (${v.compression})
agent: { id: bench, site: bench, service: bench, data_dir: ${JSON.stringify(join(o.dir, 'state'))}${v.workerThreads === undefined ? '' : `, worker_threads: ${v.workerThreads}`} }
observe: { log_level: warn, log_format: json }
sources:
  bench: { type: file, include: [${JSON.stringify(o.input)}]${v.sourceExtra ? `, ${v.sourceExtra}` : ''} }
sinks:
  kafka:
    type: kafka
    brokers: [${JSON.stringify(o.kafka.bootstrap)}]
    topic: ${o.topic}
    compression: ${v.compression}
    encoding: { codec: otlp_proto }
${v.sinkExtra ?? ''}`;
}

export function edgelogPeer(v: EdgelogVariant = { name: 'edgelog', compression: 'lz4' }): Peer {
  return {
    name: v.name,
    encoding: `otlp_proto LogsData batches, ${v.compression}`,
    // Each poll renders the agent's /metrics (CPU inside the agent): 100 ms keeps that under 1%.
    pollMs: 100,
    batched: true,
    // Acknowledged only once Kafka has the record; the checkpoint follows the acknowledgements.
    atLeastOnce: true,
    async ensureInstalled() {
      if (!existsSync(join(repoRoot, 'node_modules/kafkajs'))) throw new Error('npm dependencies missing: run bash .ci/setup.sh');
    },
    version() {
      let rev = '';
      try { rev = ` @ ${v.root ? `${v.name.split('@')[1] ?? 'another tree'}` : sh('git', ['-C', repoRoot, 'rev-parse', '--short', 'HEAD']).trim()}`; } catch { /* not a git checkout */ }
      // The sink's engine: the product default unless the variant names one.
      const engine = v.sinkExtra?.includes('engine: kafkajs') ? 'kafkajs' : v.sinkExtra?.includes('engine: platformatic') ? '@platformatic/kafka' : 'builtin';
      const engineVersion = engine === 'builtin' ? 'engine builtin' : `${engine} ${JSON.parse(readFileSync(join(repoRoot, 'node_modules', engine, 'package.json'), 'utf8')).version}`;
      try { return `edgelog ${JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version}${rev} (node ${process.version}, ${engineVersion}${v.workerThreads !== undefined ? `, worker_threads ${v.workerThreads}` : ''})`; } catch { return 'edgelog'; }
    },
    async start(o): Promise<PeerProcess> {
      mkdirSync(join(o.dir, 'state'), { recursive: true });
      const conf = join(o.dir, 'edgelog.yaml');
      const text = config(o, v);
      writeFileSync(conf, text);
      const gcFile = join(o.dir, 'gc.json');
      // EDGELOG_BENCH_NODE_FLAGS: extra V8/Node flags for diagnosis (e.g. --trace-gc).
      // The product's own runtime flag (agent/cli/edgelog launcher), then any diagnosis flags.
      const execArgv = [...(v.nodeFlags ?? launcherNodeFlags), ...(process.env.EDGELOG_BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
        ...(o.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfileDir}`] : [])];
      // Started as the launchers start it: no IPC channel (a forked child with
      // one loads node:child_process and node:dgram at startup, ~1-3 MB RSS
      // the product never spends). So the harness picks the endpoint's port
      // and waits for it to answer.
      const http = `127.0.0.1:${await freePort()}`;
      const args = ['run', '--config', conf, '--listen', http];
      await nodeBinaryReady();
      const outFd = openSync(join(o.dir, 'edgelog.out'), 'a');
      const probes = o.probes ?? true;
      const root = v.root ?? repoRoot;
      const script = probes ? join(root, 'bench/peers/edgelog-entry.ts') : join(root, 'agent/cli/main.ts');
      const child = spawn(process.execPath, [...execArgv, script, ...args], {
        stdio: ['ignore', outFd, outFd],
        // --before trees get today's launcher environment too: the comparison is of the code.
        env: withoutEmpty({ ...process.env, ...launcherEnv, ...v.env, ...(probes ? { EDGELOG_BENCH_GC_FILE: gcFile, EDGELOG_BENCH_MEM_FILE: join(o.dir, 'memory.json') } : {}) }),
      });
      closeSync(outFd);
      track(child);
      const exited = new Promise<void>((resolve) => { child.once('exit', () => resolve()); child.once('error', () => resolve()); });
      let gone = false;
      void exited.then(() => { gone = true; });
      for (const deadline = performance.now() + 120_000; ;) {
        if (gone) throw new Error(`edgelog exited before ready: ${readFileSync(join(o.dir, 'edgelog.out'), 'utf8').slice(-2000)}`);
        if (performance.now() > deadline) { child.kill('SIGKILL'); throw new Error('edgelog: its endpoint did not answer within 120 s'); }
        try { if ((await fetch(`http://${http}/healthz`, { signal: AbortSignal.timeout(2000) })).status > 0) break; } catch { /* not listening yet */ }
        await new Promise((r) => setTimeout(r, 50));
      }
      const metrics = async (): Promise<string> => (await fetch(`http://${http}/metrics`)).text();
      let stopped = false;
      return {
        pids: [child.pid!], expandChildren: false,
        // edgelog-entry.ts = agent/cli/main.ts plus the GC and memory probes.
        command: `${Object.entries(withoutEmpty({ ...launcherEnv, ...v.env })).map(([k, x]) => `${k}=${x} `).join('')}node ${execArgv.join(' ')} ${probes ? 'bench/peers/edgelog-entry.ts' : 'agent/cli/main.ts'} ${args.join(' ')}`.replace(/ +/g, ' '),
        config: text,
        async delivered() {
          return metricSum(await metrics(), 'edgelog_component_sent_records_total');
        },
        exited,
        async extra() {
          const text = await metrics();
          const h = parseHistogram(text, 'edgelog_runtime_gc_pause_seconds');
          const mb = (n: string) => metricSum(text, n) / (1024 * 1024);
          return {
            gc_p99_hist_ms: histogramQuantile(h, 0.99) * 1000,
            // Where the memory is at the end of the run (the agent's process metrics).
            heap_used_mb: mb('edgelog_process_nodejs_heap_size_used_bytes'),
            external_mb: mb('edgelog_process_nodejs_external_memory_bytes'),
          };
        },
        async stop() {
          if (stopped) return;
          stopped = true;
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
            await exited;
            clearTimeout(t);
          }
        },
      };
    },
    writeTimes(value: Buffer): number[] {
      const recs = readLogsData(value);
      const out = new Array<number>(recs.length);
      for (let i = 0; i < recs.length; i++) out[i] = writeTimeOf(recs[i]!.body.toString('latin1'));
      return out;
    },
  };
}

/** process.memoryUsage() at the peak-RSS sample (MB), as the entry wrote it at exit, or null. */
export function memorySplit(dir: string): Record<string, number> | null {
  try {
    const m = JSON.parse(readFileSync(join(dir, 'memory.json'), 'utf8')) as { at_peak_rss: Record<string, number>; mappings_at_peak?: Record<string, number> };
    const maps = Object.fromEntries(Object.entries(m.mappings_at_peak ?? {}).map(([k, v]) => [`resident_${k}`, v]));
    return { ...m.at_peak_rss, ...maps };
  } catch { return null; }
}

/**
 * Pauses of the main thread (gc.json, written by the entry) and, separately,
 * of the processing worker threads (gc.json.worker-N, appended by each worker):
 * a worker's pause stalls only its own stages, not reading or the Kafka client.
 */
export interface GcPause { ms: number; kind: 'minor' | 'major' | 'incremental' | 'weakcb' | 'other'; at_s: number }

export function gcPauses(dir: string): { count: number; p99: number; max: number; top: GcPause[]; worker: { count: number; p99: number; max: number } | null } | null {
  const stats = (a: number[]) => { a.sort((x, y) => x - y); return { count: a.length, p99: percentile(a, 0.99), max: a.length ? a[a.length - 1]! : NaN }; };
  const kindName = (k: number): GcPause['kind'] => (k === 1 ? 'minor' : k === 4 ? 'major' : k === 8 ? 'incremental' : k === 16 ? 'weakcb' : 'other');
  try {
    // An array of durations (trees before kinds were recorded) or { pauses, kinds, starts }.
    const raw = JSON.parse(readFileSync(join(dir, 'gc.json'), 'utf8')) as number[] | { pauses: number[]; kinds: number[]; starts: number[] };
    const all = Array.isArray(raw) ? raw.map((ms) => ({ ms, kind: 'other' as const, at_s: NaN })) : raw.pauses.map((ms, i) => ({ ms, kind: kindName(raw.kinds[i]!), at_s: raw.starts[i]! / 1000 }));
    const top = [...all].sort((a, b) => b.ms - a.ms).slice(0, 3).map((p) => ({ ms: +p.ms.toFixed(2), kind: p.kind, at_s: +p.at_s.toFixed(1) }));
    const main = { ...stats(all.map((p) => p.ms)), top };
    const w: number[] = [];
    for (const f of readdirSync(dir).filter((x) => x.startsWith('gc.json.worker-'))) {
      for (const l of readFileSync(join(dir, f), 'utf8').split('\n')) if (l) w.push(Number(l));
    }
    return { ...main, worker: w.length ? stats(w) : null };
  } catch { return null; }
}

/** A loopback port free at the moment of asking (the agent binds it right after). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}
