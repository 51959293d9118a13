// The file -> otlp_proto path with and without the columnar lane, without
// Kafka: a file read in 64 KiB chunks through the line framer and the
// tailer's ChunkColumns into a Pipeline with the otlp_proto encoder and a
// sink that lz4-compresses every message with the Kafka sink's compressor
// and answers on the next event-loop turn (a stand-in for the broker, so the
// figure is the agent's own work). `runs` is the lane as shipped; `records`
// is the same pipeline with an encoder that only has encode(), so every run
// becomes LogRecords at the pipeline's door (the path before the lane).
//
//   node bench/stages/columnar-lane.ts [--lines 1500000] [--reps 3] [--workload json-200b|loghub]
//
// Each repetition is its own child process with the launchers' flags
// (--max-semi-space-size=8, MALLOC_MMAP_THRESHOLD_=65536), the modes
// alternating. Reported per mode: median lines/s, CPU s per GB, GC time
// (PerformanceObserver 'gc') as a share of the run, GC count by kind, peak
// RSS. Writes bench/results/columnar-lane.{json,md}.

import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { AckGroup } from '../../agent/core/ack.ts';
import type { EncodedMessage, Encoder, Sink } from '../../agent/core/component.ts';
import { ChunkColumns } from '../../agent/sources/file/chunk-columns.ts';
import { LineFramer, type LineSink } from '../../agent/sources/file/line-framer.ts';
import { Pipeline } from '../../agent/pipeline/pipeline.ts';
import { deliveryDefaults } from '../../agent/pipeline/config.ts';
import { DeadLetterFile } from '../../agent/pipeline/dead-letter.ts';
import { PipelineEvents } from '../../agent/pipeline/events.ts';
import { createRegistry } from '../../agent/observe/metrics.ts';
import { silentLogger } from '../../agent/observe/log.ts';
import { OtlpProtoEncoder, otlpProtoDefaults } from '../../agent/encoders/otlp/otlp-proto.ts';
import { createBatchCompressor } from '../../agent/sinks/kafka/compress/index.ts';
import { jsonLines, loghubLines } from './workload.ts';

const args = process.argv.slice(2);
const opt = (name: string, def: string): string => (args.includes(name) ? args[args.indexOf(name) + 1]! : def);

interface RunResult { mode: string; lines: number; bytes: number; wallMs: number; cpuS: number; gcMs: number; gcByKind: Record<string, number>; rssMaxMB: number }

async function child(mode: 'runs' | 'records', file: string): Promise<RunResult> {
  const gcByKind: Record<string, number> = {};
  let gcMs = 0;
  const kinds: Record<number, string> = { 1: 'scavenge', 2: 'minor_ms', 4: 'mark_compact', 8: 'incremental', 16: 'weak_cb' };
  new PerformanceObserver((l) => {
    for (const e of l.getEntries()) {
      const k = kinds[((e as PerformanceEntry & { detail?: { kind?: number } }).detail)?.kind ?? 0] ?? 'other';
      gcByKind[k] = (gcByKind[k] ?? 0) + 1;
      gcMs += e.duration;
    }
  }).observe({ entryTypes: ['gc'] });
  const compressor = createBatchCompressor();
  const sink: Sink & { releasesValuesAfterSend: true } = {
    releasesValuesAfterSend: true, maxMessageBytes: 1_000_000,
    async send(ms: EncodedMessage[]) { for (const m of ms) await compressor.compress('lz4', m.value); await new Promise((r) => setImmediate(r)); },
    async close() {},
  };
  const real = new OtlpProtoEncoder(otlpProtoDefaults, { host: 'h', service: 's', site: 'x', agentId: 'a' });
  // Without encodeRuns the pipeline turns each run into LogRecords (the path before the lane).
  const encoder = mode === 'runs' ? real : ({ name: real.name, encode: (r) => real.encode(r), recycle: (m: EncodedMessage[]) => real.recycle(m) } as Encoder);
  const dir = mkdtempSync(join(tmpdir(), 'edgelog-lane-'));
  const p = new Pipeline({
    id: 'p', processors: [], encoder, sink, delivery: deliveryDefaults, deadLetter: new DeadLetterFile(join(dir, 'dl.jsonl')),
    events: new PipelineEvents('p', createRegistry(false), silentLogger), log: silentLogger,
  });
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafeSlow(65536);
  const cols = new ChunkColumns();
  const framer = new LineFramer(1 << 20, 'split', 0);
  const ls: LineSink = { line: (b, s, e, o) => cols.add(b, s, e, o), oversize: () => {} };
  let rssMax = 0;
  const probe = setInterval(() => { rssMax = Math.max(rssMax, process.memoryUsage.rss()); }, 50);
  let off = 0, lines = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (;;) {
    const held = framer.pending;
    const n = readSync(fd, buf, 0, held === 0 ? 65536 : Math.max(65536 - held, 32768), off);
    if (n === 0) break;
    framer.push(buf, n, off, ls);
    off += n;
    if (cols.n === 0) continue;
    const g = new AckGroup(framer.consumed, () => {});
    g.add(cols.n);
    lines += cols.n;
    await p.pushRun(cols.take('bench', file, 'id', Date.now(), g, null));
    g.seal();
  }
  await p.idle();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  clearInterval(probe);
  closeSync(fd);
  await p.stop(1000);
  await compressor.close();
  rmSync(dir, { recursive: true, force: true });
  return { mode, lines, bytes: off, wallMs, cpuS: (cpu.user + cpu.system) / 1e6, gcMs, gcByKind, rssMaxMB: rssMax / 1e6 };
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };

if (args[0] === '--child') {
  const r = await child(args[1] as 'runs' | 'records', args[2]!);
  process.stdout.write(JSON.stringify(r));
} else {
  const lines = Number(opt('--lines', '1500000'));
  const reps = Math.max(3, Number(opt('--reps', '3')));
  const workload = opt('--workload', 'json-200b');
  const tmp = mkdtempSync(join(tmpdir(), 'edgelog-lane-data-'));
  try {
    const file = join(tmp, `${workload}.log`);
    const source = workload === 'loghub' ? loghubLines() : jsonLines(10_000, 200);
    if (source.length === 0) throw new Error('loghub samples not found (EDGELOG_LOGHUB_DIR)');
    const fd = openSync(file, 'w');
    for (let i = 0; i < lines; i += source.length) writeFileSync(fd, `${source.slice(0, Math.min(source.length, lines - i)).join('\n')}\n`);
    closeSync(fd);
    const self = fileURLToPath(import.meta.url);
    const results: RunResult[] = [];
    for (let r = 0; r < reps; r++) {
      for (const mode of ['runs', 'records'] as const) {
        const out = spawnSync(process.execPath, ['--max-semi-space-size=8', self, '--child', mode, file], {
          env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '65536' }, encoding: 'utf8', timeout: 600_000,
        });
        if (out.status !== 0) throw new Error(`${mode} child failed: ${out.stderr}`);
        const res = JSON.parse(out.stdout) as RunResult;
        results.push(res);
        console.log(`${mode} rep ${r + 1}: ${Math.round(res.lines / (res.wallMs / 1000)).toLocaleString('en-US')} lines/s, GC ${(100 * res.gcMs / res.wallMs).toFixed(1)} %`);
      }
    }
    const rows = (['runs', 'records'] as const).map((mode) => {
      const rs = results.filter((x) => x.mode === mode);
      return {
        mode,
        lines_per_s: median(rs.map((x) => x.lines / (x.wallMs / 1000))),
        cpu_s_per_gb: median(rs.map((x) => x.cpuS / (x.bytes / 1e9))),
        gc_share: median(rs.map((x) => x.gcMs / x.wallMs)),
        gc_count: median(rs.map((x) => Object.values(x.gcByKind).reduce((a, b) => a + b, 0))),
        rss_max_mb: median(rs.map((x) => x.rssMaxMB)),
        reps: rs.map((x) => Math.round(x.lines / (x.wallMs / 1000))),
      };
    });
    const [a, b] = rows as [typeof rows[0], typeof rows[0]];
    const command = `node bench/stages/columnar-lane.ts --lines ${lines} --reps ${reps} --workload ${workload}`;
    const md = [
      `# Columnar lane: file -> otlp_proto -> lz4, no Kafka (${workload}, ${lines.toLocaleString('en-US')} lines)`,
      '',
      `\`${command}\`; ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}, Node ${process.version}; median of ${reps}, modes alternating.`,
      '',
      '| mode | lines/s | CPU s/GB | GC share | GCs | peak RSS MB | repetitions (lines/s) |',
      '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
      ...rows.map((r) => `| ${r.mode} | ${Math.round(r.lines_per_s).toLocaleString('en-US')} | ${r.cpu_s_per_gb.toFixed(2)} | ${(100 * r.gc_share).toFixed(1)} % | ${r.gc_count} | ${Math.round(r.rss_max_mb)} | ${r.reps.map((x) => x.toLocaleString('en-US')).join(' / ')} |`),
      '',
      `runs / records: ${(a.lines_per_s / b.lines_per_s).toFixed(2)}x lines/s, ${(a.cpu_s_per_gb / b.cpu_s_per_gb).toFixed(2)}x CPU per GB.`,
      '',
    ].join('\n');
    const outDir = join(fileURLToPath(new URL('.', import.meta.url)), '../results');
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, `columnar-lane-${workload}.json`), JSON.stringify({ command, workload, lines, rows, results }, null, 2));
    writeFileSync(join(outDir, `columnar-lane-${workload}.md`), md);
    console.log(md);
  } finally { rmSync(tmp, { recursive: true, force: true }); }
}
