// otlp_proto encoder micro-benchmark: the two-pass encoder
// (agent/encoders/otlp/otlp-proto.ts) against the previous protobufjs Writer
// one (test/encoders/otlp-proto-reference.ts), on 10k-record batches of
// 200-byte JSON bodies with 0, 2 and 8 attributes, key=stream, one stream.
//
//   node bench/stages/otlp-encode.ts [--seconds 2] [--batch 10000]
//
// Each case runs in its own child process, twice:
// - speed: default heap flags, 3 untimed warm-up batches, then batches until
//   --seconds of timed work; reports the median batch as records/s and MB/s
//   out, records per CPU-second of the process over all timed batches
//   (steadier when the machine is shared; GC threads included), plus GC count and GC pause (PerformanceObserver 'gc') per million
//   records encoded in the timed batches;
// - alloc: --expose-gc and a 256 MB young generation so no GC runs inside a
//   batch; after a forced GC, heapUsed + arrayBuffers growth across one
//   encode() is what that batch allocated (median of 9), given per record.
// Prints a markdown table; nothing is written.

import { spawnSync } from 'node:child_process';
import { PerformanceObserver } from 'node:perf_hooks';
import { cpus } from 'node:os';
import { AckGroup } from '../../agent/core/ack.ts';
import { newRecord, type AttrValue, type LogRecord } from '../../agent/core/record.ts';
import type { Encoder } from '../../agent/core/component.ts';
import { OtlpProtoEncoder, otlpProtoDefaults } from '../../agent/encoders/otlp/otlp-proto.ts';
import { ReferenceOtlpProtoEncoder } from '../../test/encoders/otlp-proto-reference.ts';
import { jsonLines } from './workload.ts';

const args = process.argv.slice(2);
const arg = (name: string, def: string): string => (args.includes(name) ? args[args.indexOf(name) + 1]! : def);
const seconds = Number(arg('--seconds', '2'));
const batchSize = Number(arg('--batch', '10000'));
const ctx = { host: 'edge-01', service: 'checkout', site: 'shop-42', agentId: 'agent-7' };

function records(n: number, nAttrs: number): LogRecord[] {
  const ack = new AckGroup(0, () => {});
  const lines = jsonLines(n, 200);
  const levels = ['info', 'warn', 'error', 'debug'];
  return lines.map((l, i) => {
    const r = newRecord(Buffer.from(l), 'app_logs', '/var/log/app/checkout.log', '2049:131:9f3a2c', i * 201, ack, 1_795_254_195_000 + (i >> 8));
    r.timeUnixNano = BigInt(1_795_254_195_000 + i) * 1_000_000n + 123_456n;
    r.severityNumber = 9; r.severityText = 'INFO';
    if (nAttrs > 0) {
      // what the json decoder leaves: short strings and integers
      const all: Array<[string, AttrValue]> = [
        ['level', levels[i & 3]!], ['status', i % 13 === 0 ? 500 : 200], ['service', 'checkout'], ['path', '/api/v1/orders'],
        ['latency_ms', i % 97], ['user', `user${i % 1000}@example.com`], ['method', 'GET'], ['bytes', 1000 + i],
      ];
      r.attributes = Object.fromEntries(all.slice(0, nAttrs));
    }
    return r;
  });
}

function make(impl: string): Encoder {
  return impl === 'old' ? new ReferenceOtlpProtoEncoder(otlpProtoDefaults, ctx) : new OtlpProtoEncoder(otlpProtoDefaults, ctx);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

interface Result { recPerSec: number; recPerCpuSec: number; mbPerSec: number; gcs: number; gcMs: number; bytesPerRec: number; outBytesPerRec: number }

function child(impl: string, nAttrs: number, phase: string): Partial<Result> {
  const recs = records(batchSize, nAttrs);
  const enc = make(impl);
  let out = 0;
  for (let i = 0; i < 3; i++) out = enc.encode(recs)[0]!.value.length;
  if (phase === 'alloc') {
    const gc = (globalThis as { gc?: () => void }).gc!;
    const samples: number[] = [];
    for (let i = 0; i < 9; i++) {
      gc();
      const a = process.memoryUsage();
      const msgs = enc.encode(recs);
      const b = process.memoryUsage();
      samples.push(b.heapUsed - a.heapUsed + (b.arrayBuffers - a.arrayBuffers));
      if (msgs.length !== 1) throw new Error('one message expected');
    }
    return { bytesPerRec: median(samples) / batchSize, outBytesPerRec: out / batchSize };
  }
  let gcs = 0;
  let gcMs = 0;
  let timing = false;
  const obs = new PerformanceObserver((list) => {
    if (!timing) return;
    for (const e of list.getEntries()) { gcs++; gcMs += e.duration; }
  });
  obs.observe({ entryTypes: ['gc'] });
  const times: number[] = [];
  let done = 0;
  timing = true;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000 || times.length < 5) {
    const s = performance.now();
    enc.encode(recs);
    times.push(performance.now() - s);
    done += batchSize;
  }
  const cpu = process.cpuUsage(c0);
  const cpuSec = (cpu.user + cpu.system) / 1e6;
  // gc entries are delivered asynchronously: collect them before reporting
  return new Promise((resolve) => setTimeout(() => {
    timing = false; obs.disconnect();
    const ms = median(times);
    resolve({ recPerSec: batchSize / (ms / 1000), recPerCpuSec: done / cpuSec, mbPerSec: out / (ms / 1000) / 1e6, gcs: gcs / done * 1e6, gcMs: gcMs / done * 1e6 });
  }, 50)) as unknown as Partial<Result>;
}

const self = new URL(import.meta.url).pathname;
if (args[0] === '--child') {
  const [, impl, nAttrs, phase] = args;
  const r = await child(impl!, Number(nAttrs), phase!);
  process.stdout.write(JSON.stringify(r));
} else {
  const rows: string[] = [];
  rows.push(`otlp_proto encode, ${batchSize}-record batches of 200-byte JSON bodies, key=stream, ${seconds}s per case, ${cpus()[0]?.model ?? '?'} x${cpus().length}, Node ${process.version}`);
  rows.push('');
  rows.push('| attrs | encoder | records/s (median batch) | records/CPU-s | MB/s out | GCs per 1M records | GC pause ms per 1M records | heap+buffer bytes allocated/record | output bytes/record |');
  rows.push('|---|---|---|---|---|---|---|---|---|');
  const extra = ['--seconds', String(seconds), '--batch', String(batchSize)];
  for (const nAttrs of [0, 2, 8]) {
    for (const impl of ['old', 'new']) {
      const run = (flags: string[], phase: string): Result => {
        const p = spawnSync(process.execPath, [...flags, self, '--child', impl, String(nAttrs), phase, ...extra], { encoding: 'utf8' });
        if (p.status !== 0) throw new Error(`child ${impl} ${nAttrs} ${phase} failed: ${p.stderr}`);
        return JSON.parse(p.stdout) as Result;
      };
      const s = run([], 'speed');
      const a = run(['--expose-gc', '--min-semi-space-size=256', '--max-semi-space-size=256'], 'alloc');
      rows.push(`| ${nAttrs} | ${impl === 'old' ? 'protobufjs Writer (old)' : 'two-pass (new)'} | ${Math.round(s.recPerSec).toLocaleString('en')} | ${Math.round(s.recPerCpuSec).toLocaleString('en')} | ${s.mbPerSec.toFixed(0)} | ${s.gcs.toFixed(0)} | ${s.gcMs.toFixed(0)} | ${Math.round(a.bytesPerRec)} | ${Math.round(a.outBytesPerRec)} |`);
    }
  }
  console.log(rows.join('\n'));
}
