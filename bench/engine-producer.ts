// Child process of bench/engines.ts: produces pre-encoded OTLP messages with
// one Kafka client engine, the way the pipeline does (one request in flight,
// up to 4 messages per request, acks=all, idempotent, lz4), and reports
// records/s, CPU and per-request latency over IPC.
//
//   node bench/engine-producer.ts <kafkajs|platformatic> <bootstrap> <topic> <payload file> <requests> <records per message>

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

interface Engine { send(values: Buffer[]): Promise<void>; close(): Promise<void> }

async function kafkajsEngine(): Promise<Engine> {
  const { default: kafkajs } = await import('kafkajs');
  const { registerCodecs } = await import('../agent/sinks/kafka/codecs.ts');
  registerCodecs();
  const kafka = new kafkajs.Kafka({ brokers: [bootstrap!], clientId: 'bench-kafkajs', logLevel: kafkajs.logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  return {
    send: async (values) => { await producer.send({ topic: topic!, acks: -1, compression: kafkajs.CompressionTypes.LZ4, messages: values.map((value) => ({ value })) }); },
    close: () => producer.disconnect(),
  };
}

async function platformaticEngine(): Promise<Engine> {
  const mod = await import('@platformatic/kafka' as string) as {
    Producer: new (o: Record<string, unknown>) => { send(o: { messages: Array<{ topic: string; value: Buffer }> }): Promise<unknown>; close(): Promise<void> };
  };
  const producer = new mod.Producer({
    clientId: 'bench-platformatic', bootstrapBrokers: [bootstrap!], acks: -1, idempotent: true, compression: 'lz4', autocreateTopics: false,
  });
  return {
    send: async (values) => { await producer.send({ messages: values.map((value) => ({ topic: topic!, value })) }); },
    close: () => producer.close(),
  };
}

async function main(): Promise<void> {
  const payloads = loadPayloads(payloadFile!);
  const e = engine === 'kafkajs' ? await kafkajsEngine() : await platformaticEngine();
  // One warm-up request (connection, metadata, producer id) outside the measurement.
  await e.send(payloads.slice(0, 1));
  const lat = new Float64Array(requests);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let k = 0, bytes = 0;
  for (let i = 0; i < requests; i++) {
    const values: Buffer[] = [];
    for (let j = 0; j < PER_REQUEST; j++) { const v = payloads[k++ % payloads.length]!; values.push(v); bytes += v.length; }
    const s = performance.now();
    await e.send(values);
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
