// `npm run bench`: files -> Kafka end to end, edgelog beside rsyslog,
// syslog-ng and kcat on the same machine, broker and workload files.
//
//   node bench/run.ts [--quick] [--only edgelog,kcat] [--workloads json-200b,loghub]
//                     [--reps 3] [--latency-seconds 20] [--no-latency] [--no-profile] [--no-engines] [--out bench/results]
//                     [--before REV]   (also runs edgelog as of git REV, `edgelog@REV`, in the same interleaved runs)
//                     [--idle-seconds 20] [--no-idle]   (idle RSS: one quiet file, sink connected, beside the peers)
//
// Per tool and workload: saturation throughput (events/s, MB/s), CPU s/GB,
// peak RSS, GC p99 (edgelog), then end-to-end latency p50/p99/p99.9 at half
// of that tool's saturation rate. Writes bench/results/{latest.json,
// results.md,chart.svg} and prints the tables. See bench/README.md.

import { cpus, totalmem, release, availableParallelism } from 'node:os';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, readdirSync, symlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKafkaCluster, type KafkaCluster } from '../agent/embedded-kafka/cluster.ts';
import { BenchKafka } from './kafka.ts';
import { edgelogPeer } from './peers/edgelog.ts';
import { rsyslog } from './peers/rsyslog.ts';
import { syslogNg } from './peers/syslog-ng.ts';
import { kcat } from './peers/kcat.ts';
import { otelcolPeer } from './peers/otelcol.ts';
import type { Peer } from './peers/types.ts';
import { latency, saturation, type SaturationResult, type ScenarioContext } from './scenarios.ts';
import { summarizeProfiles } from './profile.ts';
import { bareNodeIdle, idleRss } from './idle.ts';
import { runEngines } from './engines.ts';
import { renderMarkdown, tableFor, writeResults, type BenchResults } from './report.ts';
import { ensureWorkloadFile, loghubDir, repoRoot, workloads } from './workload.ts';

const argv = process.argv.slice(2);
const flag = (k: string) => argv.includes(k);
const opt = (k: string): string | undefined => { const i = argv.indexOf(k); return i >= 0 ? argv[i + 1] : undefined; };
if (flag('--help')) {
  console.log('usage: node bench/run.ts [--quick] [--only edgelog,edgelog-worker,edgelog-kafkajs,edgelog-platformatic,rsyslog,syslog-ng,kcat,otelcol,otelcol-persistent,edgelog-zstd] [--workloads json-200b,json-1kb,loghub] [--reps N] [--lines N] [--latency-seconds N] [--no-latency] [--no-profile] [--no-engines] [--out DIR]');
  process.exit(0);
}
const quick = flag('--quick');
const only = opt('--only')?.split(',').map((s) => s.trim()).filter(Boolean);
const onlyWl = opt('--workloads')?.split(',').map((s) => s.trim()).filter(Boolean);
const latencySeconds = Number(opt('--latency-seconds') ?? (quick ? 4 : 20));
const outDir = opt('--out') ?? join(repoRoot, 'bench/results');
const reps = Number(opt('--reps') ?? (quick ? 1 : 3));
const idleSeconds = Number(opt('--idle-seconds') ?? (quick ? 5 : 20));
/** Lines/s above which the latency writer, not the tool, becomes the limit on two cores. */
const LATENCY_RATE_CAP = 150_000;

/** Fisher-Yates on a copy. */
function shuffled<T>(xs: readonly T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) { const j = Math.floor(Math.random() * (i + 1)); [a[i], a[j]] = [a[j]!, a[i]!]; }
  return a;
}

const started = performance.now();
const log = (s: string) => console.log(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)}s] ${s}`);

// The order is the table's order. Beside the default agent (engine
// @platformatic/kafka, worker_threads auto) run the choices its defaults were
// made against: edgelog-worker (one processing thread: what auto picks from
// four cores) and edgelog-kafkajs (the other Kafka engine). edgelog-zstd is
// opt-in (--only).
// glibc malloc: two arenas instead of 8 per core, and buffers from 128 KiB up
// always mmap'd (returned to the kernel when freed) instead of the dynamic
// threshold, which after the first large free keeps such buffers in the arenas.
const glibcTuned = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_TRIM_THRESHOLD_: '131072' };
const optIn = ['edgelog-chunk256k', 'edgelog-chunk1m', 'edgelog-zstd', 'edgelog-semi4', 'edgelog-semi16', 'edgelog-malloc', 'edgelog-semi16-malloc', 'edgelog-buf4', 'edgelog-buf2', 'edgelog-glibc-default'];
const allPeers: Peer[] = [
  edgelogPeer({ name: 'edgelog', compression: 'lz4' }),
  edgelogPeer({ name: 'edgelog-worker', compression: 'lz4', workerThreads: 1 }),
  edgelogPeer({ name: 'edgelog-kafkajs', compression: 'lz4', sinkExtra: '    engine: kafkajs\n' }),
  edgelogPeer({ name: 'edgelog-platformatic', compression: 'lz4', sinkExtra: '    engine: platformatic\n' }),
  rsyslog, syslogNg, kcat,
  // The OpenTelemetry Collector writes the same OTLP messages: its defaults
  // (in-memory queue) and its at-least-once configuration (file_storage).
  otelcolPeer({ name: 'otelcol', persistent: false }),
  otelcolPeer({ name: 'otelcol-persistent', persistent: true }),
  edgelogPeer({ name: 'edgelog-zstd', compression: 'zstd' }),
  // Runtime tuning beside the launcher's choice (opt-in): V8's young generation, glibc's allocator.
  edgelogPeer({ name: 'edgelog-semi4', compression: 'lz4', nodeFlags: ['--max-semi-space-size=4'] }),
  edgelogPeer({ name: 'edgelog-semi16', compression: 'lz4', nodeFlags: ['--max-semi-space-size=16'] }),
  edgelogPeer({ name: 'edgelog-malloc', compression: 'lz4', env: glibcTuned }),
  // The pipeline's buffer (body bytes buffered or in flight) below its 8 MiB default.
  // glibc's own mmap threshold (dynamic) instead of the launchers' fixed 64 KiB.
  edgelogPeer({ name: 'edgelog-glibc-default', compression: 'lz4', env: { MALLOC_MMAP_THRESHOLD_: '' } }),
  edgelogPeer({ name: 'edgelog-chunk256k', compression: 'lz4', sourceExtra: 'read_chunk_bytes: 256KiB' }),
  edgelogPeer({ name: 'edgelog-chunk1m', compression: 'lz4', sourceExtra: 'read_chunk_bytes: 1MiB' }),
  edgelogPeer({ name: 'edgelog-buf4', compression: 'lz4', sinkExtra: '    buffer: { max_bytes: 4MiB }\n' }),
  edgelogPeer({ name: 'edgelog-buf2', compression: 'lz4', sinkExtra: '    buffer: { max_bytes: 2MiB }\n' }),
  edgelogPeer({ name: 'edgelog-semi16-malloc', compression: 'lz4', nodeFlags: ['--max-semi-space-size=16'], env: glibcTuned }),
];
const peers = allPeers.filter((p) => (only ? only.includes(p.name) : !optIn.includes(p.name)));
// --before REV: the code before a change beside it, same broker, files and
// interleaving (ratios within one run hold on a shared machine; absolute
// figures across runs do not). Extracted with git archive; same node_modules.
const before = opt('--before');
let beforeTmp: string | null = null;
if (before) {
  const rev = execFileSync('git', ['-C', repoRoot, 'rev-parse', '--short', before], { encoding: 'utf8' }).trim();
  beforeTmp = mkdtempSync(join(tmpdir(), `edgelog-bench-before-${process.pid}-`));
  const root = join(beforeTmp, rev);
  mkdirSync(root);
  execFileSync('bash', ['-c', `git -C "${repoRoot}" archive ${rev} agent bench package.json | tar -x -C "${root}"`]);
  symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
  // The measuring entry (GC pauses, memory split) is this tree's, so both sides are measured alike.
  copyFileSync(join(repoRoot, 'bench/peers/edgelog-entry.ts'), join(root, 'bench/peers/edgelog-entry.ts'));
  peers.splice(1, 0, edgelogPeer({ name: `edgelog@${rev}`, compression: 'lz4', root }));
}
// --lines N: every selected workload at N lines (a shorter run than the default sizes; say so beside its figures).
const linesOverride = opt('--lines') ? Number(opt('--lines')) : undefined;
const wls = workloads(quick).filter((w) => !onlyWl || onlyWl.includes(w.name)).map((w) => (linesOverride ? { ...w, lines: linesOverride } : w));

async function main(): Promise<number> {
  const res: BenchResults = {
    generated_at: new Date().toISOString(), quick, duration_s: 0,
    command: `npm run bench${argv.length ? ' -- ' + argv.join(' ') : ''}`,
    machine: {
      nproc: availableParallelism(), memory_gb: totalmem() / 2 ** 30, kernel: release(), cpu_model: cpus()[0]?.model ?? 'unknown',
      node: process.version, broker: 'unknown',
    },
    versions: {}, encodings: {}, at_least_once: {}, workloads: [], tools: [], skipped: {}, results: {}, latency_seconds: latencySeconds,
    notes: [
      'Saturation: the workload file is complete before the tool starts; the run ends when every line is in Kafka. Throughput = records after the first Kafka message / (broker LogAppendTime of the last message - that of the first), i.e. the steady rate with the tool\'s start-up excluded; `events_per_s_wall` in latest.json counts from the spawn of the tool instead (edgelog pays ~0.5-1 s of Node start-up there).',
      'Delivered, counted alike for every tool: after the tool stopped, the runner reads its topic back: the raw-line tools write one line per message (the topic end offset), edgelog and the OTel Collector write OTLP LogsData with many records per message, decoded record by record. A run with fewer records than lines fails. While the run is in progress, its end is detected from the end offset (raw-line tools), `edgelog_component_sent_records_total` (edgelog) and `otelcol_exporter_sent_log_records` (collector).',
      'Kafka records/s: Kafka messages per second over the same window; edgelog and the collector pack hundreds to thousands of lines into one message, the raw-line tools one line each, so lines/s (events/s) compares delivery and Kafka records/s shows the broker\'s work. Broker CPU s/GB: the broker JVM\'s utime+stime over the same window per GB of input.',
      'CPU s/GB: utime+stime from /proc/<pid>/stat (and children for wrappers) between the first poll that sees a record in Kafka and the poll that sees the last (every 50 ms; edgelog and the collector 100 ms, as each poll renders their /metrics), per GB (1e9 B) of input lines; the same window for every tool, kcat included (its start-up is not counted). The broker\'s CPU is not included (its own column).',
      'Startup: seconds from the spawn of the tool to the broker\'s LogAppendTime of its first record (process start, config, connection, first batch acknowledged).',
      'At least once: whether the configuration keeps every line it took until Kafka acknowledged it across a crash of the tool (edgelog: checkpoints follow acknowledgements; otelcol-persistent: file_storage for the sending queue and the filelog offsets). rsyslog (in-memory FixedArray queues), syslog-ng (no disk buffer), otelcol (in-memory queue) and kcat (no checkpoint) are not.',
      'Peak RSS: max of VmHWM/VmRSS from /proc/<pid>/status sampled every 50 ms (kcat: plus its 3 MB bash wrapper).',
      'Saturation runs are repeated (3 times; --quick once) with the tools interleaved in a new random order each repetition, and the median run (by events/s) is reported with all its figures; every run\'s events/s is in latest.json (`runs_events_per_s`).',
      'Latency: at min(half of the tool\'s median saturation rate, 150,000 lines/s): above that the writer process itself needs most of a core of the two. A separate writer process appends lines carrying their write time (ms, performance.timeOrigin + now) in 5 ms ticks; topics use message.timestamp.type=LogAppendTime, so the broker stamps arrival; latency = arrival - write time for every line read back (edgelog: each record of each decoded OTLP message). kcat reads a FIFO the writer appends to (`-l FIFO`).',
      'GC p99 (edgelog): every GC pause seen by a perf_hooks observer in the agent process during the saturation run (also exported as edgelog_runtime_gc_pause_seconds).',
      'Peers use their defaults except: lz4 and acks=all (like edgelog), rsyslog main/action queues FixedArray 100k with dequeue batches of 1024 and imfile in inotify mode, syslog-ng follow-freq(0.1) (default 1 s would add up to a second of latency) and flow-control.',
    ],
  };
  let cluster: KafkaCluster | null = null;
  let kafka: BenchKafka | null = null;
  try {
    // --- peers ---------------------------------------------------------------
    for (const p of peers) {
      try {
        await p.ensureInstalled(log);
        res.versions[p.name] = p.version();
        res.encodings[p.name] = p.encoding;
        res.at_least_once[p.name] = p.atLeastOnce === true;
        res.tools.push(p.name);
        res.results[p.name] = {};
        log(`${p.name}: ${res.versions[p.name]}`);
      } catch (err) {
        res.skipped[p.name] = (err as Error).message.split('\n')[0]!;
        log(`${p.name}: SKIPPED (${res.skipped[p.name]})`);
      }
    }
    const runnable = peers.filter((p) => res.tools.includes(p.name));

    // --- workloads ---------------------------------------------------------------
    const dataDir = join(repoRoot, 'bench/work/data');
    const files = wls.map((w) => {
      const f = ensureWorkloadFile(w, dataDir);
      res.workloads.push({ name: w.name, title: w.title, lines: f.lines, bytes: f.bytes, avg_line_bytes: f.bytes / f.lines,
        source: w.name === 'loghub' ? `${loghubDir.replace(repoRoot + '/', '')}/*_2k.log, CR stripped, empty lines dropped, repeated` : 'generated by bench/workload.ts' });
      log(`workload ${w.name}: ${f.lines} lines, ${(f.bytes / 1e6).toFixed(1)} MB (${f.path.replace(repoRoot + '/', '')})`);
      return f;
    });

    // --- broker ---------------------------------------------------------------------
    cluster = await startKafkaCluster({ name: 'bench', heapMb: 512 });
    const jar = readdirSync(join(repoRoot, '.cache/kafka/libs')).find((f) => /^kafka_2\.13-.*\.jar$/.test(f));
    res.machine.broker = `Apache Kafka ${jar?.replace(/^kafka_2\.13-|\.jar$/g, '') ?? '?'} (KRaft, 1 node, -Xmx512m)`;
    log(`broker ${cluster.bootstrap} ready in ${(cluster.startupMs / 1000).toFixed(1)} s`);
    kafka = new BenchKafka(cluster.bootstrap);
    const ctx: ScenarioContext = { kafka, brokerPid: cluster.pid, log };
    // A fresh JVM runs interpreted code for its first seconds: one untimed run
    // (kcat when present) warms the broker so the first tool measured is not penalized.
    const warm = runnable.find((p) => p.name === 'kcat') ?? runnable[0];
    if (warm && files[0]) {
      log(`warm-up: ${warm.name} on ${wls[0]!.name} (not recorded)`);
      await saturation(ctx, warm, wls[0]!, files[0]).catch((err) => log(`  warm-up failed: ${(err as Error).message.split('\n')[0]}`));
    }

    // --- runs -----------------------------------------------------------------------
    for (let wi = 0; wi < wls.length; wi++) {
      const w = wls[wi]!, f = files[wi]!;
      // Saturation `reps` times, tools interleaved in a new random order each
      // repetition (a burst of other work on the machine, or a broker that
      // warms up, then favours no tool); the median run is reported.
      const runs = new Map<string, SaturationResult[]>();
      for (let rep = 0; rep < reps; rep++) {
        const order = shuffled(runnable);
        log(`${w.name}: repetition ${rep + 1}/${reps}, order ${order.map((p) => p.name).join(', ')}`);
        for (const p of order) {
          const cell = (res.results[p.name]![w.name] ??= {});
          try {
            log(`${w.name} / ${p.name}: saturation ${rep + 1}/${reps} (${f.lines} lines)`);
            const s = await saturation(ctx, p, w, f);
            if (!runs.has(p.name)) runs.set(p.name, []);
            runs.get(p.name)!.push(s);
            log(`  ${Math.round(s.events_per_s).toLocaleString('en-US')} events/s, ${Math.round(s.kafka_records_per_s).toLocaleString('en-US')} Kafka records/s, window ${s.window_s.toFixed(1)} s, startup ${s.startup_s.toFixed(2)} s, ${s.mb_per_s.toFixed(1)} MB/s, ${s.cpu_s_per_gb.toFixed(1)} CPU s/GB, RSS ${s.rss_mb.toFixed(0)} MB${s.gc_p99_ms !== undefined ? `, GC p99 ${s.gc_p99_ms.toFixed(2)} ms of ${s.gc_count} (longest: ${s.gc_top?.map((g) => `${g.ms} ${g.kind} at ${g.at_s} s`).join(', ')})` : ''}, load ${s.load[0]}`);
          } catch (err) {
            cell.error = (err as Error).message;
            log(`  FAILED: ${cell.error.split('\n')[0]}`);
          }
        }
      }
      for (const p of runnable) {
        const rs = runs.get(p.name);
        if (!rs?.length) continue;
        const sorted = [...rs].sort((a, b) => a.events_per_s - b.events_per_s);
        const med = sorted[(sorted.length - 1) >> 1]!;
        med.runs_events_per_s = rs.map((r) => Math.round(r.events_per_s));
        res.results[p.name]![w.name]!.saturation = med;
      }
      if (flag('--no-latency')) continue;
      for (const p of runnable) {
        const cell = res.results[p.name]![w.name]!;
        if (!cell.saturation) continue;
        // Half of the tool's saturation rate, capped where the writer process
        // itself would need most of a core (it shares the two cores).
        const rate = Math.min(cell.saturation.events_per_s / 2, LATENCY_RATE_CAP);
        try {
          log(`${w.name} / ${p.name}: latency at ${Math.round(rate).toLocaleString('en-US')} lines/s for ${latencySeconds} s`);
          const l = await latency(ctx, p, w, rate, latencySeconds);
          cell.latency = l;
          log(`  p50 ${l.p50_ms.toFixed(1)} ms, p99 ${l.p99_ms.toFixed(1)} ms, p99.9 ${l.p999_ms.toFixed(1)} ms (${l.received}/${l.written} lines)`);
        } catch (err) {
          cell.error = (err as Error).message;
          log(`  latency FAILED: ${cell.error.split('\n')[0]}`);
        }
      }
    }

    // --- idle: one quiet file, sink connected, RSS after idleSeconds (issue 15: <= 70 MB) -------
    if (!flag('--no-idle')) {
      const idleTmp = mkdtempSync(join(tmpdir(), `edgelog-bench-idle-${process.pid}-`));
      res.idle = {};
      try {
        // kcat does not tail a file; every other selected tool idles the same way.
        for (const p of runnable.filter((x) => x.name !== 'kcat')) {
          try {
            log(`idle: ${p.name}, one quiet file, ${idleSeconds} s after its first line was acknowledged (${Math.min(reps, 3)} runs)`);
            const r = await idleRss(p, kafka, idleTmp, { settleMs: idleSeconds * 1000, reps: Math.min(reps, 3) });
            res.idle[p.name] = r;
            log(`  idle RSS ${r.median_mb.toFixed(1)} MB (runs ${r.runs_mb.map((x) => x.toFixed(1)).join(' / ')})`);
          } catch (err) {
            log(`  idle FAILED: ${(err as Error).message.split('\n')[0]}`);
          }
        }
        res.idle['node (bare)'] = await bareNodeIdle(join(repoRoot, 'node_modules/node/bin/node'), { settleMs: Math.min(idleSeconds, 5) * 1000, reps: Math.min(reps, 3) });
      } finally {
        rmSync(idleTmp, { recursive: true, force: true });
      }
    }

    // --- profile: one more edgelog saturation run under --cpu-prof ------------------------
    const ep = runnable.find((p) => p.name === 'edgelog');
    const pw = wls.find((w) => w.name === 'json-200b') ?? wls[0];
    if (ep && pw && !flag('--no-profile')) {
      const profDir = mkdtempSync(join(tmpdir(), 'edgelog-bench-prof-'));
      try {
        log(`profile: edgelog on ${pw.name} with --cpu-prof`);
        const s = await saturation(ctx, ep, pw, files[wls.indexOf(pw)]!, { cpuProfileDir: profDir });
        res.profile = { ...summarizeProfiles(profDir), tool: 'edgelog', workload: pw.name, command: s.command };
        log(`  (profiled run: ${Math.round(s.events_per_s).toLocaleString('en-US')} events/s)`);
      } catch (err) {
        log(`  profile FAILED: ${(err as Error).message.split('\n')[0]}`);
      } finally {
        rmSync(profDir, { recursive: true, force: true });
      }
    }

    // --- Kafka client engines (same OTLP messages, client only) ------------------------
    if (kafka && !flag('--no-engines')) {
      try {
        res.engines = await runEngines(kafka, quick ? 100_000 : 1_000_000, log);
      } catch (err) {
        log(`engines FAILED: ${(err as Error).message.split('\n')[0]}`);
      }
    }
  } finally {
    await kafka?.close();
    await cluster?.stop();
    if (beforeTmp) rmSync(beforeTmp, { recursive: true, force: true });
  }

  res.duration_s = (performance.now() - started) / 1000;
  writeResults(outDir, res);
  console.log('');
  for (const w of res.workloads) { console.log(`${w.title} (${w.name})`); console.log(tableFor(res, w.name)); console.log(''); }
  const md = renderMarkdown(res);
  const targets = md.slice(md.indexOf('## Targets'), md.indexOf('\n## ', md.indexOf('## Targets') + 5));
  console.log(targets.trim());
  console.log(`\nwrote ${outDir.replace(repoRoot + '/', '')}/{results.md,latest.json,chart.svg} in ${(res.duration_s / 60).toFixed(1)} min`);
  return Object.values(res.results).some((r) => Object.values(r).some((c) => c.saturation)) ? 0 : 1;
}

main().then((code) => { process.exitCode = code; }, (err) => { console.error('bench failed:', err); process.exitCode = 1; });
