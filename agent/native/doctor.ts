// `edgelog doctor` lines for the native paths: one structured line per
// feature with whether it works here, why, and how to fix it. Kafka
// reachability is the lead's part of doctor; this covers BPF, tc,
// io_uring, zero-copy send and capabilities.

import { capabilities, type Feature } from './capabilities.ts';
import { openLz4Frame } from '../sinks/kafka/compress/lz4-frame.ts';

export interface DoctorLine {
  feature: string;
  ok: boolean;
  reason: string;
  fix: string;
}

const labels: Record<Feature, string> = {
  native_lib: 'native library',
  kernel: 'kernel',
  cap_bpf: 'capability CAP_BPF',
  cap_net_admin: 'capability CAP_NET_ADMIN',
  cap_perfmon: 'capability CAP_PERFMON',
  bpf: 'BPF syscall',
  tc: 'tc clsact/cls_bpf',
  guard: 'eBPF ingress guard',
  io_uring: 'io_uring',
  send_zc: 'io_uring zero-copy send',
};

/** Probe the host afresh and return one line per native feature. */
export function doctorReport(): DoctorLine[] {
  const report = capabilities(true);
  const lines = (Object.keys(labels) as Feature[]).map((f) => ({
    feature: labels[f],
    ok: report[f].available,
    reason: report[f].reason,
    fix: report[f].fix,
  }));
  // Kafka lz4 through liblz4 (else WebAssembly, slower): not part of the native helper, but a host library.
  const { lz4, error } = openLz4Frame();
  lz4?.close();
  lines.push({
    feature: 'lz4 (liblz4)',
    ok: lz4 !== undefined,
    reason: lz4 ? 'liblz4 loads: Kafka lz4 batches are compressed natively' : `${error}; lz4 runs in WebAssembly (about 0.55x the speed)`,
    fix: 'install liblz4-1 (or point EDGELOG_LZ4_LIB at liblz4.so.1)',
  });
  return lines;
}

/** Plain-text rendering, e.g. for a terminal: "ok   io_uring  io_uring_setup works". */
export function formatDoctor(lines: readonly DoctorLine[]): string {
  const w = Math.max(...lines.map((l) => l.feature.length));
  return lines.map((l) => `${l.ok ? 'ok  ' : 'FAIL'}  ${l.feature.padEnd(w)}  ${l.reason}${l.ok ? '' : `\n      ${''.padEnd(w)}  fix: ${l.fix}`}`).join('\n');
}
