// Decode/transform/encode on worker threads (agent.worker_threads): real
// worker threads running the real decoders, transforms and encoders, with an
// in-memory sink recording what it was sent. What a user relies on: no record
// of a stream is reordered, every record is delivered or counted as dropped
// exactly once (its source's acknowledgement settles), oversize answers from
// the destination are split or dead-lettered, the stages' counters show on the
// agent's /metrics registry, and held multiline groups leave at end of stream.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckGroup } from '../../agent/core/ack.ts';
import { newRecord, type LogRecord } from '../../agent/core/record.ts';
import { recordCount, type EncodedMessage, type Sink } from '../../agent/core/component.ts';
import { RecordTooLargeError } from '../../agent/core/errors.ts';
import { Pipeline } from '../../agent/pipeline/pipeline.ts';
import { deliveryDefaults, type DeliveryConfig } from '../../agent/pipeline/config.ts';
import { DeadLetterFile } from '../../agent/pipeline/dead-letter.ts';
import { PipelineEvents } from '../../agent/pipeline/events.ts';
import { WorkerMetricsHub } from '../../agent/pipeline/workers/metrics-mirror.ts';
import type { WorkerComponent } from '../../agent/pipeline/workers/protocol.ts';
import { createRegistry } from '../../agent/observe/metrics.ts';
import { silentLogger } from '../../agent/observe/log.ts';
import { decodeLogsData } from '../../agent/forward/logs-decode.ts';
import { rawEncoder } from '../../agent/encoders/raw.ts';
import { readWorkerThreads } from '../../agent/config/load.ts';

/** Records what was sent: for `raw` the value is the body; for otlp_proto the bodies are decoded back. */
class RecordingSink implements Sink {
  maxMessageBytes = 1_000_000;
  /** Destination's own limit (below maxMessageBytes: it answers "too large"). */
  brokerLimit = Infinity;
  bodies: string[] = [];
  keys: string[] = [];
  requests = 0;
  private readonly codec: 'raw' | 'otlp_proto';
  constructor(codec: 'raw' | 'otlp_proto') { this.codec = codec; }
  async send(messages: EncodedMessage[]): Promise<void> {
    this.requests++;
    for (const m of messages) if (m.value.length > this.brokerLimit) throw new RecordTooLargeError(m.value.length, this.brokerLimit);
    for (const m of messages) {
      if (this.codec === 'raw') { this.bodies.push(m.value.toString()); this.keys.push(m.key?.toString() ?? ''); continue; }
      const g = new AckGroup(0, () => {});
      const out: LogRecord[] = [];
      decodeLogsData(m.value, g, out);
      assert.equal(out.length, recordCount(m), 'records count travels with the message');
      for (const r of out) this.bodies.push(r.body.toString());
    }
  }
  async close(): Promise<void> {}
}

function comp(id: string, type: string, raw: unknown = {}): WorkerComponent {
  return { id, path: `transforms.${id}`, type, raw };
}

async function setup(sink: Sink, o: { workers: number; processors: WorkerComponent[]; encoder: WorkerComponent; delivery?: Partial<DeliveryConfig> }) {
  const dir = mkdtempSync(join(tmpdir(), 'edgelog-workers-'));
  const registry = createRegistry(false);
  const d: DeliveryConfig = {
    batch: { ...deliveryDefaults.batch, timeoutMs: 1, ...o.delivery?.batch },
    buffer: { ...deliveryDefaults.buffer, ...o.delivery?.buffer },
    retry: { initialBackoffMs: 1, maxBackoffMs: 5 },
  };
  const pipeline = new Pipeline({
    id: 'p', processors: [], encoder: rawEncoder.create(rawEncoder.defaults, null as never), sink, delivery: d,
    deadLetter: new DeadLetterFile(join(dir, 'dl.jsonl')),
    events: new PipelineEvents('p', registry, silentLogger), log: silentLogger,
  });
  await pipeline.useWorkers({
    workers: o.workers, processors: o.processors, encoder: o.encoder, hub: new WorkerMetricsHub(registry),
    ctx: { dataDir: dir, agentId: 'test', host: 'h', service: 's', site: 'x' }, logLevel: 'error', logFormat: 'json',
  });
  return { pipeline, registry, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One AckGroup per pushed batch, as the file source hands out one per chunk. */
function batchOf(lines: string[], stream: string, firstOffset: number): { recs: LogRecord[]; done: Promise<string> } {
  let resolve!: (s: string) => void;
  const done = new Promise<string>((r) => { resolve = r; });
  const group = new AckGroup(firstOffset, (g) => resolve(g.status));
  const recs = lines.map((l, i) => newRecord(Buffer.from(l), 'src', stream, `id-${stream}`, firstOffset + i, group));
  group.add(recs.length);
  group.seal();
  return { recs, done };
}

test('two workers: streams keep their order, every record delivered once, acks settle', async () => {
  const sink = new RecordingSink('raw');
  const { pipeline, cleanup } = await setup(sink, { workers: 2, processors: [comp('dec', 'json')], encoder: comp('enc', 'raw'), delivery: { batch: { maxEvents: 37 } as never } });
  try {
    assert.equal(pipeline.workerThreads, 2);
    const streams = Array.from({ length: 8 }, (_, i) => `/var/log/s${i}.log`);
    const acks: Promise<string>[] = [];
    const next = new Map<string, number>(streams.map((s) => [s, 0]));
    // Interleave small batches of the 8 streams (and one mixed batch per round).
    for (let round = 0; round < 40; round++) {
      for (const s of streams) {
        const n = 1 + ((round * 7 + s.length) % 25);
        const from = next.get(s)!;
        next.set(s, from + n);
        const b = batchOf(Array.from({ length: n }, (_, i) => JSON.stringify({ level: 'info', msg: `${s}#${from + i}` })), s, from);
        acks.push(b.done);
        await pipeline.push(b.recs);
      }
    }
    const statuses = await Promise.all(acks);
    assert.ok(statuses.every((s) => s === 'delivered'));
    const total = [...next.values()].reduce((a, b) => a + b, 0);
    assert.equal(sink.bodies.length, total, 'each record once');
    for (const s of streams) {
      // The json decoder made `msg` the body.
      const seen = sink.bodies.filter((m) => m.startsWith(`${s}#`)).map((m) => Number(m.split('#')[1]));
      assert.deepEqual(seen, Array.from({ length: next.get(s)! }, (_, i) => i), `order of ${s}`);
    }
    assert.equal(pipeline.bufferedBytes, 0);
  } finally { await pipeline.stop(2000); cleanup(); }
});

test('drops in a worker settle the source acks and show on the main registry', async () => {
  const sink = new RecordingSink('raw');
  const { pipeline, registry, cleanup } = await setup(sink, {
    workers: 1,
    processors: [comp('dec', 'json'), comp('warn_up', 'filter', { min_level: 'warn' })],
    encoder: comp('enc', 'raw'),
  });
  try {
    const lines = Array.from({ length: 300 }, (_, i) => JSON.stringify({ level: ['debug', 'info', 'warn'][i % 3], msg: `m${i}` }));
    const b = batchOf(lines, 'a', 0);
    await pipeline.push(b.recs);
    assert.equal(await b.done, 'dropped', 'the group settles; dropped records mark it');
    assert.equal(sink.bodies.length, 100);
    const text = await registry.metrics();
    assert.match(text, /edgelog_transform_dropped_records_total\{component="warn_up",reason="below_min_level"\} 200/);
  } finally { await pipeline.stop(2000); cleanup(); }
});

test('destination says too large: the worker re-encodes halves; a single oversize record is dead-lettered', async () => {
  const sink = new RecordingSink('otlp_proto');
  sink.brokerLimit = 6000;
  const { pipeline, registry, dir, cleanup } = await setup(sink, { workers: 1, processors: [], encoder: comp('enc', 'otlp_proto') });
  try {
    const lines = Array.from({ length: 200 }, (_, i) => `line ${i} ${'x'.repeat(80)}`);
    lines[150] = 'big ' + 'y'.repeat(7000);
    const b = batchOf(lines, 'a', 0);
    await pipeline.push(b.recs);
    assert.equal(await b.done, 'rejected');
    const expected = lines.filter((_, i) => i !== 150);
    assert.deepEqual(sink.bodies, expected, 'everything else delivered once, in order');
    const dl = join(dir, 'dl.jsonl');
    assert.ok(existsSync(dl));
    const dead = readFileSync(dl, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { body_b64: string; reason: string });
    assert.equal(dead.length, 1);
    assert.equal(Buffer.from(dead[0]!.body_b64, 'base64').toString(), lines[150]);
    assert.match(await registry.metrics(), /edgelog_component_discarded_records_total\{component="p",reason="too_large"\} 1/);
  } finally { await pipeline.stop(2000); cleanup(); }
});

test('multiline in a worker: a group spanning batches is joined; endStream releases it before the timeout', async () => {
  const sink = new RecordingSink('raw');
  const { pipeline, cleanup } = await setup(sink, {
    workers: 1,
    processors: [comp('ml', 'multiline', { preset: 'java', timeout: '60s' })],
    encoder: comp('enc', 'raw'),
  });
  try {
    const head = '2015-10-18 18:01:47,978 WARN [main] org.apache.hadoop.Foo: failed';
    const b1 = batchOf(['first line', head, '\tat a.b.C.d(C.java:1)'], 's', 0);
    const b2 = batchOf(['\tat a.b.C.e(C.java:2)', 'Caused by: java.io.IOException: x'], 's', 3);
    await pipeline.push(b1.recs);
    await pipeline.push(b2.recs);
    // One worker takes batches in order: once a later batch's first group is out, b2 was processed too.
    const marker = batchOf(['marker 1', 'marker 2'], 't', 0);
    await pipeline.push(marker.recs);
    const end = Date.now() + 30_000;
    while (!sink.bodies.includes('marker 1')) {
      if (Date.now() > end) assert.fail(`marker never delivered: ${JSON.stringify(sink.bodies)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.deepEqual(sink.bodies, ['first line', 'marker 1'], 'the group is held (timeout 60 s)');
    pipeline.endStream('id-s');
    pipeline.endStream('id-t');
    await Promise.all([b1.done, b2.done, marker.done]);
    assert.deepEqual(sink.bodies.filter((b) => !b.startsWith('marker')), ['first line', [head, '\tat a.b.C.d(C.java:1)', '\tat a.b.C.e(C.java:2)', 'Caused by: java.io.IOException: x'].join('\n')]);
    assert.deepEqual(sink.bodies.filter((b) => b.startsWith('marker')), ['marker 1', 'marker 2']);
  } finally { await pipeline.stop(2000); cleanup(); }
});

test('agent.worker_threads: auto, a number, or a clear error naming the key', () => {
  assert.equal(readWorkerThreads(0), 0);
  assert.equal(readWorkerThreads(3), 3);
  // auto (also the default when unset): one thread from four cores up, none below (README, agent.worker_threads).
  const auto = availableParallelism() >= 4 ? 1 : 0;
  assert.equal(readWorkerThreads('auto'), auto);
  assert.equal(readWorkerThreads(undefined), auto);
  assert.equal(readWorkerThreads(16), 16);
  assert.throws(() => readWorkerThreads(17), /agent\.worker_threads/);
  assert.throws(() => readWorkerThreads(1.5), /agent\.worker_threads/);
  assert.throws(() => readWorkerThreads(-1), /agent\.worker_threads: expected auto or a whole number from 0 to 16/);
  assert.throws(() => readWorkerThreads('two'), /agent\.worker_threads/);
});

test('body ring: regions are 8-aligned, wrap, are reused only after release (out of order too), and a full ring says so', async () => {
  const { BodyRing } = await import('../../agent/pipeline/workers/body-ring.ts');
  const ring = new BodyRing(100);
  const a = ring.alloc(37)!;
  const b = ring.alloc(40)!;
  assert.deepEqual([a.start, a.end, b.start], [0, 40, 40], 'sizes round up to 8');
  assert.equal(ring.alloc(24), null, 'only 20 bytes left at the end and the start of the ring is in use');
  ring.release(b); // out of order: a still holds the tail
  assert.equal(ring.alloc(24), null);
  ring.release(a);
  const c = ring.alloc(24)!;
  assert.equal(c.start, 0, 'an empty ring starts over');
  const d = ring.alloc(56)!;
  assert.equal(d.start, 24);
  ring.release(c);
  assert.equal(ring.alloc(16)!.start, 80, 'fits at the end');
  assert.equal(ring.alloc(16)!.start, 0, 'wraps below the tail');
  assert.equal(ring.alloc(8), null, 'the head would reach the tail');
  assert.equal(ring.alloc(101), null);
});
