// The OpenTelemetry Collector: filelog receiver -> batch processor -> kafka
// exporter with `encoding: otlp_proto`, the same Kafka messages (OTLP
// LogsData) edgelog writes. Built once per machine by otelcol-build.sh (the
// OpenTelemetry Collector Builder from the Go module proxy; only the four
// components used here) and cached under .cache/otelcol/.
//
// Two configurations:
//   - otelcol: its defaults (in-memory sending queue, no receiver offsets
//     kept): NOT at least once — whatever sits in the queue or the batch
//     processor at a crash is lost, and a restart re-reads or skips by
//     start_at;
//   - otelcol-persistent: the sending queue and the filelog offsets in the
//     file_storage extension, its at-least-once configuration across a crash.
// Delivered records come from its own telemetry
// (otelcol_exporter_sent_log_records, records the exporter got acknowledged);
// the runner recounts them from Kafka after the run like every tool.

import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readSync, writeFileSync, fstatSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../agent/embedded-kafka/cluster.ts';
import { readLogsData } from '../../agent/verify/otlp-readback.ts';
import { repoRoot, writeTimeOf } from '../workload.ts';
import { spawnTool } from './proc.ts';
import type { Peer, PeerProcess, PeerRunOptions } from './types.ts';

const buildScript = join(repoRoot, 'bench/peers/otelcol-build.sh');
let binary: string | null = null;

/**
 * Records per batch so one Kafka message stays under the broker's 1 MB,
 * from the longest average line of 32 windows of 64 KiB spread over the
 * input: the loghub workload mixes twelve logs whose line lengths differ
 * several-fold, and a size from its first window alone (85 B/line) made
 * batches of longer lines too large for the broker (the exporter then
 * retried one message forever).
 */
function batchSizeFor(input: string): number {
  let avg = 200;
  try {
    const fd = openSync(input, 'r');
    try {
      const size = fstatSync(fd).size;
      const buf = Buffer.alloc(65536);
      let worst = 0;
      for (let w = 0; w < 32; w++) {
        const n = readSync(fd, buf, 0, buf.length, Math.floor((size * w) / 32));
        const lines = buf.subarray(0, n).toString('latin1').split('\n').length - 1;
        if (lines > 0) worst = Math.max(worst, n / lines);
      }
      if (worst > 0) avg = worst;
    } finally { closeSync(fd); }
  } catch { /* a FIFO or an empty file: the default */ }
  // ~40 B of OTLP framing and observed time per record; keep 20 % headroom.
  return Math.max(64, Math.min(8192, Math.floor(800_000 / (avg + 40))));
}

function config(o: PeerRunOptions, persistent: boolean, metricsPort: number): string {
  const storage = join(o.dir, 'storage');
  const batch = batchSizeFor(o.input);
  return `# edgelog bench: OpenTelemetry Collector filelog -> batch -> kafka (otlp_proto, lz4)${persistent ? ', persistent queue (at least once)' : ', defaults (in-memory queue)'}
${persistent ? `extensions:\n  file_storage:\n    directory: ${JSON.stringify(storage)}\n` : ''}receivers:
  filelog:
    include: [${JSON.stringify(o.input)}]
    start_at: beginning
${persistent ? '    storage: file_storage\n' : ''}processors:
  batch:
    send_batch_size: ${batch}
    send_batch_max_size: ${batch}
exporters:
  kafka:
    brokers: [${JSON.stringify(o.kafka.bootstrap)}]
    logs:
      topic: ${o.topic}
      encoding: otlp_proto
    producer:
      compression: lz4
      required_acks: -1
      max_message_bytes: 1000000
${persistent ? '    sending_queue:\n      enabled: true\n      storage: file_storage\n' : ''}service:
${persistent ? '  extensions: [file_storage]\n' : ''}  telemetry:
    logs: { level: warn }
    metrics:
      level: basic
      readers:
        - pull:
            exporter:
              prometheus: { host: 127.0.0.1, port: ${metricsPort} }
  pipelines:
    logs: { receivers: [filelog], processors: [batch], exporters: [kafka] }
`;
}

/** Sum of a counter whatever suffix the collector's Prometheus exporter gives it. */
function counterSum(text: string, base: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
    if (name !== base && name !== `${base}_total`) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export function otelcolPeer(variant: { name: string; persistent: boolean }): Peer {
  return {
    name: variant.name,
    encoding: `otlp_proto LogsData batches, lz4${variant.persistent ? ', persistent queue' : ''}`,
    atLeastOnce: variant.persistent,
    batched: true,
    pollMs: 100,
    async ensureInstalled(log) {
      if (binary) return;
      log(`${variant.name}: building (once per machine, cached under .cache/otelcol): bench/peers/otelcol-build.sh`);
      binary = execFileSync('bash', [buildScript], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 45 * 60_000 }).trim().split('\n').pop()!;
      if (!existsSync(binary)) throw new Error(`otelcol-build.sh printed no binary (${binary})`);
    },
    version() {
      // The built distribution has no version of its own: name the builder release and its components.
      const v = /otelcol\/([^/]+)\//.exec(binary ?? '')?.[1] ?? '?';
      return `OpenTelemetry Collector ${v} (ocb build: filelog, batch, kafka, file_storage)${variant.persistent ? ', file_storage sending queue and filelog offsets' : ', defaults (in-memory queue)'}`;
    },
    async start(o): Promise<PeerProcess> {
      const port = await freePort();
      const text = config(o, variant.persistent, port);
      mkdirSync(join(o.dir, 'storage'), { recursive: true });
      const conf = join(o.dir, 'otelcol.yaml');
      writeFileSync(conf, text);
      const args = ['--config', conf];
      const p = spawnTool(binary!, args, join(o.dir, 'otelcol.out'));
      const sent = async (): Promise<number> => {
        try {
          return counterSum(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(), 'otelcol_exporter_sent_log_records');
        } catch { return 0; } // not listening yet
      };
      return {
        pids: [p.pid], expandChildren: false,
        command: `otelcol-edgelog-bench ${args.join(' ')}`, config: text,
        delivered: sent,
        exited: p.exited,
        stop: () => p.stop(),
      };
    },
    writeTimes(value) {
      return readLogsData(value).map((r) => writeTimeOf(r.body.toString('latin1')));
    },
  };
}
