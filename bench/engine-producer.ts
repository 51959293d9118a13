// Child process of bench/engines.ts: produces pre-encoded OTLP messages with
// one of the Kafka sink's producer engines (agent/sinks/kafka/engines), the
// way the pipeline does (one request in flight, up to 4 messages per request,
// acks=all, idempotent, lz4, the sink's headers), and reports records/s, CPU
// and per-request latency over IPC.
//
//   node bench/engine-producer.ts <kafkajs|platformatic|builtin> <bootstrap> <topic> <payload file> <requests> <records per message>

import { readFileSync } from 'node:fs';

const [engine, bootstrap, topic, payloadFile, requestsArg, recordsArg] = process.argv.slice(2);
const requests = Number(requestsArg);
const recordsPerMessage = Number(recordsArg);
const PER_REQUEST = 4; // the pipeline's MAX_BATCHES_PER_REQUEST

/** Length-prefixed messages (u32 BE + bytes). */
function loadPayloads(file: string): Buffer[] {
  const buf = readFileSync(file);
  const out: Buffer[] = [];
  for (let off = 0; off < buf.length;) { const n = buf.readUInt32BE(off); out.push(buf.subarray(off + 4, off + 4 + n)); off += 4 + n; }
  return out;
}

/**
 * The sink's own engine module (agent/sinks/kafka/engines), built from a sink
 * config validated like the agent's (acks all, idempotent, lz4, the default
 * client_retry and timeouts), so what is measured is the code the sink runs.
 * Each request carries the sink's three headers in one shared object.
 */
async function sinkEngine(): Promise<{ send(values: Buffer[], seq: number): Promise<void>; close(): Promise<void> }> {
  const { validateKafkaSink } = await import('../agent/sinks/kafka/config.ts');
  const { createEngine } = await import('../agent/sinks/kafka/engines/create.ts');
  const cfg = validateKafkaSink({ engine, brokers: [bootstrap!], topic: topic!, client_id: `bench-${engine}`, acks: 'all', idempotent: true, compression: 'lz4' }, 'bench.sink');
  const e = createEngine(cfg, { onDisconnect: () => {}, debug: () => {} });
  await e.connect();
  const opts = { acks: cfg.acks, compression: cfg.compression, timeoutMs: cfg.requestTimeoutMs };
  return {
    send: async (values, seq) => {
      const headers = { 'edgelog.encoding': 'otlp_proto', 'edgelog.agent_id': 'bench', 'edgelog.batch_seq': String(seq) };
      await e.send(topic!, values.map((value) => ({ key: null, value, headers })), opts);
    },
    close: () => e.close(),
  };
}

async function main(): Promise<void> {
  const payloads = loadPayloads(payloadFile!);
  const e = await sinkEngine();
  // One warm-up request (connection, metadata, producer id) outside the measurement.
  await e.send(payloads.slice(0, 1), 0);
  const lat = new Float64Array(requests);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let k = 0, bytes = 0;
  for (let i = 0; i < requests; i++) {
    const values: Buffer[] = [];
    for (let j = 0; j < PER_REQUEST; j++) { const v = payloads[k++ % payloads.length]!; values.push(v); bytes += v.length; }
    const s = performance.now();
    await e.send(values, i + 1);
    lat[i] = performance.now() - s;
  }
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await e.close();
  lat.sort();
  process.send!({
    engine, wall_s: wallS, messages: requests * PER_REQUEST, records: requests * PER_REQUEST * recordsPerMessage, encoded_bytes: bytes,
    cpu_s: (cpu.user + cpu.system) / 1e6,
    request_p50_ms: lat[Math.floor(requests * 0.5)]!, request_p99_ms: lat[Math.min(requests - 1, Math.floor(requests * 0.99))]!,
  });
  process.disconnect();
}

main().catch((err) => { console.error(`engine ${engine} failed:`, err); process.exit(1); });
