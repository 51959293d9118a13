// lz4 for Kafka record batches: the system's liblz4 through ffi-rs (what the
// builtin engine uses where it loads) beside the WebAssembly build
// (@platformatic/wasm-utils, the fallback), on OTLP messages of the bench's
// workloads as the sink compresses them (otlp_proto values of ~0.9 MB, the
// 512 KiB batch of 200-byte JSON lines; loghub lines likewise).
//
//   node bench/stages/lz4-frame.ts [--reps 3] [--rounds 300]
//
// Per repetition and backend: CPU time for `rounds` compressions, so MB/s of
// input per CPU second (copies into and out of native memory included), and
// the compressed size. The backends alternate within a repetition. Writes
// bench/results/lz4-frame.{json,md}.

import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AckGroup } from '../../agent/core/ack.ts';
import { newRecord } from '../../agent/core/record.ts';
import { OtlpProtoEncoder, otlpProtoDefaults } from '../../agent/encoders/otlp/otlp-proto.ts';
import { openLz4Frame } from '../../agent/sinks/kafka/compress/lz4-frame.ts';
import { jsonLines, loghubLines } from './workload.ts';

const args = process.argv.slice(2);
const opt = (name: string, def: string): string => (args.includes(name) ? args[args.indexOf(name) + 1]! : def);
const reps = Number(opt('--reps', '3'));
const rounds = Number(opt('--rounds', '300'));
const wasm = createRequire(import.meta.url)('@platformatic/wasm-utils') as { lz4Compress(b: Buffer): Buffer; lz4Decompress(b: Buffer): Uint8Array };

/** One otlp_proto value of about 512 KiB of bodies, as the pipeline batches them. */
function message(lines: string[]): Buffer {
  const enc = new OtlpProtoEncoder({ ...otlpProtoDefaults, key: 'none' }, { host: 'edge-1', service: 'bench', site: 'lab', agentId: 'a' });
  const g = new AckGroup(0, () => {});
  const recs = [];
  let bytes = 0;
  for (let i = 0; bytes < 512 * 1024; i++) {
    const l = lines[i % lines.length]!;
    recs.push(newRecord(Buffer.from(l), 'file', '/var/log/app.log', 'dev:ino', i * 200, g, 1_733_390_000_000 + i));
    bytes += l.length;
  }
  return Buffer.from(enc.encode(recs)[0]!.value);
}

const { lz4, error } = openLz4Frame();
if (!lz4) { console.error(`lz4-frame bench: liblz4 not usable here: ${error}`); process.exit(1); }

const workloads: Array<[string, Buffer]> = [['json-200b', message(jsonLines(5000, 200))]];
const hub = loghubLines();
if (hub.length > 0) workloads.push(['loghub', message(hub)]);

type Row = { workload: string; backend: string; rep: number; mb_per_cpu_s: number; ratio: number };
const rows: Row[] = [];
const backends: Array<[string, (b: Buffer) => Buffer]> = [['liblz4', (b) => lz4.compress(b)], ['wasm', (b) => wasm.lz4Compress(b)]];
for (const [wl, input] of workloads) {
  for (const [name, fn] of backends) {
    if (!Buffer.from(wasm.lz4Decompress(fn(input))).equals(input)) throw new Error(`${name}: round trip differs`);
  }
  for (let rep = 0; rep < reps; rep++) {
    for (const [name, fn] of rep % 2 === 0 ? backends : [...backends].reverse()) {
      for (let i = 0; i < 10; i++) fn(input);
      const t0 = process.cpuUsage();
      let size = 0;
      for (let i = 0; i < rounds; i++) size = fn(input).length;
      const u = process.cpuUsage(t0);
      rows.push({ workload: wl, backend: name, rep, mb_per_cpu_s: (input.length * rounds) / ((u.user + u.system) / 1e6) / 1e6, ratio: size / input.length });
    }
  }
}
lz4.close();

const median = (xs: number[]) => { const a = [...xs].sort((x, y) => x - y); return a[(a.length - 1) >> 1]!; };
const md = [
  '# lz4 for Kafka batches: liblz4 (ffi-rs) vs WebAssembly',
  '',
  `\`node bench/stages/lz4-frame.ts ${args.join(' ')}\`, ${new Date().toISOString()}, ${cpus().length} CPUs, load ${loadavg()[0]!.toFixed(2)}. ${rounds} compressions of one otlp_proto message per repetition and backend, ${reps} repetitions, backends alternating. MB of input per CPU second, copies included; median (and each repetition).`,
  '',
  '| workload | message bytes | liblz4 MB/s | wasm MB/s | liblz4 / wasm | liblz4 size | wasm size |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
];
for (const [wl, input] of workloads) {
  const of = (b: string) => rows.filter((r) => r.workload === wl && r.backend === b);
  const n = median(of('liblz4').map((r) => r.mb_per_cpu_s));
  const w = median(of('wasm').map((r) => r.mb_per_cpu_s));
  md.push(`| ${wl} | ${input.length} | ${n.toFixed(0)} (${of('liblz4').map((r) => r.mb_per_cpu_s.toFixed(0)).join(' / ')}) | ${w.toFixed(0)} (${of('wasm').map((r) => r.mb_per_cpu_s.toFixed(0)).join(' / ')}) | ${(n / w).toFixed(2)}x | ${(of('liblz4')[0]!.ratio * 100).toFixed(1)} % | ${(of('wasm')[0]!.ratio * 100).toFixed(1)} % |`);
}
md.push('');
const outDir = join(fileURLToPath(new URL('.', import.meta.url)), '../results');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'lz4-frame.json'), JSON.stringify({ args, rounds, reps, rows }, null, 2));
writeFileSync(join(outDir, 'lz4-frame.md'), md.join('\n'));
console.log(md.join('\n'));
