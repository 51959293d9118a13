// lz4 for Kafka record batches: the system's liblz4 through ffi-rs (what the
// builtin engine uses where it loads) beside the WebAssembly build
// (@platformatic/wasm-utils, the fallback), on OTLP messages of the bench's
// workloads as the sink compresses them (otlp_proto values of up to 512 KiB
// of bodies and at most the sink's default max_message_bytes, 1,000,000).
//
//   node bench/stages/lz4-frame.ts [--reps 3] [--rounds 300]
//
// Per repetition and backend: CPU time for `rounds` compressions, so MB/s of
// input per CPU second, and the compressed size. Backends: liblz4 writing the
// frame in place into a pool slab (what the sink does: 1 MiB slabs, given
// back after each frame), liblz4 through its scratch with the frame copied
// out (no pool), WebAssembly. The backends alternate within a repetition. Writes
// bench/results/lz4-frame.{json,md}.

import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AckGroup } from '../../agent/core/ack.ts';
import { newRecord } from '../../agent/core/record.ts';
import { OtlpProtoEncoder, otlpProtoDefaults } from '../../agent/encoders/otlp/otlp-proto.ts';
import { ValuePool } from '../../agent/encoders/otlp/value-pool.ts';
import { openLz4Frame } from '../../agent/sinks/kafka/compress/lz4-frame.ts';
import { jsonLines, loghubLines } from './workload.ts';

const args = process.argv.slice(2);
const opt = (name: string, def: string): string => (args.includes(name) ? args[args.indexOf(name) + 1]! : def);
const reps = Number(opt('--reps', '3'));
const rounds = Number(opt('--rounds', '300'));
const wasm = createRequire(import.meta.url)('@platformatic/wasm-utils') as { lz4Compress(b: Buffer): Buffer; lz4Decompress(b: Buffer): Uint8Array };

/** One otlp_proto value of up to 512 KiB of bodies and at most 1,000,000 bytes, as the pipeline batches them. */
function message(lines: string[]): Buffer {
  for (let bodies = 512 * 1024; ; bodies = Math.floor(bodies * 0.9)) {
    const m = messageOf(lines, bodies);
    if (m.length <= 1_000_000) return m;
  }
}

function messageOf(lines: string[], bodies: number): Buffer {
  const enc = new OtlpProtoEncoder({ ...otlpProtoDefaults, key: 'none' }, { host: 'edge-1', service: 'bench', site: 'lab', agentId: 'a' });
  const g = new AckGroup(0, () => {});
  const recs = [];
  let bytes = 0;
  for (let i = 0; bytes < bodies; i++) {
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
const pool = new ValuePool({ slabBytes: 1024 * 1024, minBytes: 16 * 1024, maxOut: 16, maxFree: 4 });
const inPlace = (b: Buffer): Buffer => { const f = lz4.compress(b, pool); pool.give(f); return f; };
const backends: Array<[string, (b: Buffer) => Buffer]> = [['liblz4', inPlace], ['liblz4-copied', (b) => lz4.compress(b)], ['wasm', (b) => wasm.lz4Compress(b)]];
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
  `\`node bench/stages/lz4-frame.ts ${args.join(' ')}\`, ${new Date().toISOString()}, ${cpus().length} CPUs, load ${loadavg()[0]!.toFixed(2)}. ${rounds} compressions of one otlp_proto message per repetition and backend, ${reps} repetitions, backends alternating. MB of input per CPU second; median (and each repetition). liblz4: the frame written in place into a 1 MiB pool slab (the sink's path); liblz4 copied: through native scratch, the frame copied out.`,
  '',
  '| workload | message bytes | liblz4 MB/s | liblz4 copied MB/s | wasm MB/s | liblz4 / wasm | liblz4 / copied | liblz4 size | wasm size |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
];
for (const [wl, input] of workloads) {
  const of = (b: string) => rows.filter((r) => r.workload === wl && r.backend === b);
  const n = median(of('liblz4').map((r) => r.mb_per_cpu_s));
  const c = median(of('liblz4-copied').map((r) => r.mb_per_cpu_s));
  const w = median(of('wasm').map((r) => r.mb_per_cpu_s));
  const each = (b: string) => of(b).map((r) => r.mb_per_cpu_s.toFixed(0)).join(' / ');
  md.push(`| ${wl} | ${input.length} | ${n.toFixed(0)} (${each('liblz4')}) | ${c.toFixed(0)} (${each('liblz4-copied')}) | ${w.toFixed(0)} (${each('wasm')}) | ${(n / w).toFixed(2)}x | ${(n / c).toFixed(2)}x | ${(of('liblz4')[0]!.ratio * 100).toFixed(1)} % | ${(of('wasm')[0]!.ratio * 100).toFixed(1)} % |`);
}
md.push('');
const outDir = join(fileURLToPath(new URL('.', import.meta.url)), '../results');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'lz4-frame.json'), JSON.stringify({ args, rounds, reps, rows }, null, 2));
writeFileSync(join(outDir, 'lz4-frame.md'), md.join('\n'));
console.log(md.join('\n'));
