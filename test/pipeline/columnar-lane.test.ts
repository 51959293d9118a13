// The pipeline's columnar lane: file lines pushed as RecordRuns stay in
// columns up to the otlp_proto encoder. What a user relies on is the same as
// for LogRecords: every record delivered once and in order, batches closed at
// batch.max_events / max_bytes, each chunk's AckGroup settled exactly when all
// its records are acknowledged, a record too large for the destination
// dead-lettered (and only that one), and stages that need fields still
// getting LogRecords.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import otelRoot from '@opentelemetry/otlp-proto-exporter-base/build/src/generated/root.js';
import { AckGroup } from '../../agent/core/ack.ts';
import { RecordRun } from '../../agent/core/record-run.ts';
import type { LogRecord } from '../../agent/core/record.ts';
import { recordCount, type EncodedMessage, type Processor, type Sink } from '../../agent/core/component.ts';
import { RecordTooLargeError } from '../../agent/core/errors.ts';
import { Pipeline } from '../../agent/pipeline/pipeline.ts';
import { deliveryDefaults, type DeliveryConfig } from '../../agent/pipeline/config.ts';
import { DeadLetterFile } from '../../agent/pipeline/dead-letter.ts';
import { PipelineEvents } from '../../agent/pipeline/events.ts';
import { createRegistry } from '../../agent/observe/metrics.ts';
import { silentLogger } from '../../agent/observe/log.ts';
import { OtlpProtoEncoder, otlpProtoDefaults } from '../../agent/encoders/otlp/otlp-proto.ts';

type Obj = any;
const LogsData = (otelRoot as Obj).opentelemetry.proto.logs.v1.LogsData as { decode(b: Uint8Array): unknown; toObject(m: unknown, o: object): Obj };
const bodiesOf = (m: EncodedMessage): string[] =>
  (LogsData.toObject(LogsData.decode(m.value), { longs: String, bytes: Buffer, defaults: false }) as Obj).resourceLogs
    .flatMap((rl: Obj) => rl.scopeLogs.flatMap((sl: Obj) => sl.logRecords.map((r: Obj) => r.body.stringValue ?? String(r.body.bytesValue))));

class CapturingSink implements Sink {
  maxMessageBytes = 1_000_000;
  messages: EncodedMessage[] = [];
  failures: Error[] = [];
  async send(messages: EncodedMessage[]): Promise<void> {
    const f = this.failures.shift();
    if (f) throw f;
    // The values are reused once acknowledged: keep copies.
    for (const m of messages) this.messages.push({ ...m, value: Buffer.from(m.value) });
  }
  async close(): Promise<void> {}
  get bodies(): string[] { return this.messages.flatMap(bodiesOf); }
}

function setup(sink: Sink, delivery: Partial<DeliveryConfig['batch']> = {}, processors: Processor[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'edgelog-lane-'));
  const d: DeliveryConfig = {
    batch: { ...deliveryDefaults.batch, timeoutMs: 1, ...delivery },
    buffer: { ...deliveryDefaults.buffer },
    retry: { initialBackoffMs: 1, maxBackoffMs: 5 },
  };
  const pipeline = new Pipeline({
    id: 'p', processors, encoder: new OtlpProtoEncoder({ ...otlpProtoDefaults, key: 'none' }, { host: 'h', service: 's', site: 'x', agentId: 'a' }),
    sink, delivery: d, deadLetter: new DeadLetterFile(join(dir, 'dl.jsonl')),
    events: new PipelineEvents('p', createRegistry(false), silentLogger), log: silentLogger,
  });
  return { pipeline, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A chunk of lines `from..from+n` as the tailer hands it over, with its settled count and completion. */
function chunk(from: number, n: number, bodyOf = (i: number) => `line-${i}`) {
  const lines = Array.from({ length: n }, (_, k) => Buffer.from(bodyOf(from + k)));
  const starts: number[] = []; const ends: number[] = []; const offs: number[] = [];
  let pos = 0;
  for (const l of lines) { starts.push(pos); ends.push(pos + l.length); offs.push(pos); pos += l.length + 1; }
  let settled = 0;
  let resolve!: () => void;
  const done = new Promise<void>((r) => { resolve = r; });
  const group = new AckGroup(pos, () => resolve());
  const origSettle = group.settle.bind(group);
  group.settle = (k = 1, status = 'delivered') => { settled += k; origSettle(k, status); };
  const run = new RecordRun(Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])), Uint32Array.from(starts), Uint32Array.from(ends),
    Float64Array.from(offs), 'src', '/f.log', 'id', Date.now(), group, null);
  group.add(n);
  return { run, group, done, settled: () => settled, seal: () => group.seal() };
}

test('runs are delivered once, in order, in batches of batch.max_events across run boundaries; each group settles when all its records are acknowledged', async () => {
  const sink = new CapturingSink();
  const { pipeline, cleanup } = setup(sink, { maxEvents: 7, maxBytes: 1_000_000 });
  try {
    const chunks = [chunk(0, 5), chunk(5, 9), chunk(14, 3), chunk(17, 11)];
    for (const c of chunks) { await pipeline.pushRun(c.run); c.seal(); }
    await Promise.all(chunks.map((c) => c.done));
    await pipeline.idle();
    assert.deepEqual(sink.bodies, Array.from({ length: 28 }, (_, i) => `line-${i}`));
    assert.deepEqual(sink.messages.map(recordCount), [7, 7, 7, 7]);
    assert.deepEqual(chunks.map((c) => c.settled()), [5, 9, 3, 11], 'every record settled exactly once');
    for (const c of chunks) assert.equal(c.group.status, 'delivered');
    assert.equal(pipeline.bufferedBytes, 0);
  } finally { await pipeline.stop(1000); cleanup(); }
});

test('a batch closes after the record that reaches batch.max_bytes, also inside a run', async () => {
  const sink = new CapturingSink();
  // 10-byte bodies: the batch closes at the 4th record (40 >= 35).
  const { pipeline, cleanup } = setup(sink, { maxEvents: 1000, maxBytes: 35 });
  try {
    const c = chunk(0, 10, (i) => `body-${String(i).padStart(5, '0')}`);
    await pipeline.pushRun(c.run); c.seal();
    await c.done;
    assert.deepEqual(sink.messages.map(recordCount), [4, 4, 2]);
    assert.equal(sink.bodies.length, 10);
  } finally { await pipeline.stop(1000); cleanup(); }
});

test('a message over the destination limit is halved; the one record that cannot fit is dead-lettered and its group settles as rejected', async () => {
  const sink = new CapturingSink();
  sink.maxMessageBytes = 1500;
  const { pipeline, dir, cleanup } = setup(sink, { maxEvents: 1000, maxBytes: 1_000_000 });
  try {
    const small = chunk(0, 40);
    const big = chunk(40, 3, (i) => (i === 41 ? 'x'.repeat(4000) : `line-${i}`));
    await pipeline.pushRun(small.run); small.seal();
    await pipeline.pushRun(big.run); big.seal();
    await Promise.all([small.done, big.done]);
    assert.deepEqual(sink.bodies, [...Array.from({ length: 40 }, (_, i) => `line-${i}`), 'line-40', 'line-42']);
    for (const m of sink.messages) assert.ok(m.value.length <= 1500);
    assert.equal(small.group.status, 'delivered');
    assert.equal(big.group.status, 'rejected');
    assert.equal(small.settled() + big.settled(), 43);
    const dl = readFileSync(join(dir, 'dl.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(dl.length, 1);
    assert.equal(Buffer.from(dl[0].body_b64, 'base64').length, 4000);
    assert.equal(dl[0].offset, big.run.offsets[1]);
  } finally { await pipeline.stop(1000); cleanup(); }
});

test('a broker refusing a run message as too large: it is split down to the refused record', async () => {
  const sink = new CapturingSink();
  const { pipeline, cleanup } = setup(sink, { maxEvents: 1000, maxBytes: 1_000_000 });
  try {
    sink.failures = [new RecordTooLargeError(500, 100)];
    const c = chunk(0, 6);
    await pipeline.pushRun(c.run); c.seal();
    await c.done;
    assert.deepEqual(sink.bodies, Array.from({ length: 6 }, (_, i) => `line-${i}`));
    assert.equal(c.settled(), 6);
  } finally { await pipeline.stop(1000); cleanup(); }
});

test('with a processor in the pipeline, runs reach it as LogRecords with their fields', async () => {
  const sink = new CapturingSink();
  const seen: LogRecord[] = [];
  const upper: Processor = { process(batch, out) { for (const r of batch) { seen.push(r); r.body = Buffer.from(r.body.toString().toUpperCase()); out.push(r); } } };
  const { pipeline, cleanup } = setup(sink, {}, [upper]);
  try {
    const c = chunk(0, 3);
    await pipeline.pushRun(c.run); c.seal();
    await c.done;
    assert.deepEqual(sink.bodies, ['LINE-0', 'LINE-1', 'LINE-2']);
    assert.deepEqual(seen.map((r) => [r.stream, r.streamId, r.offset]), [['/f.log', 'id', 0], ['/f.log', 'id', 7], ['/f.log', 'id', 14]]);
  } finally { await pipeline.stop(1000); cleanup(); }
});

test('values of messages over the limit go back to the encoder pool; later batches close before reaching the limit', async () => {
  const sink = new CapturingSink() as CapturingSink & { releasesValuesAfterSend: true };
  (sink as { releasesValuesAfterSend: boolean }).releasesValuesAfterSend = true;
  sink.maxMessageBytes = 200_000;
  const encoder = new OtlpProtoEncoder({ ...otlpProtoDefaults, key: 'none' }, { host: 'h', service: 's', site: 'x', agentId: 'a' });
  const dir = mkdtempSync(join(tmpdir(), 'edgelog-lane-'));
  const pipeline = new Pipeline({
    id: 'p', processors: [], encoder, sink,
    delivery: { batch: { ...deliveryDefaults.batch, maxBytes: 1 << 20, timeoutMs: 1 }, buffer: { ...deliveryDefaults.buffer }, retry: { initialBackoffMs: 1, maxBackoffMs: 5 } },
    deadLetter: new DeadLetterFile(join(dir, 'dl.jsonl')), events: new PipelineEvents('p', createRegistry(false), silentLogger), log: silentLogger,
  });
  try {
    // 400 records of 1000 bytes in one run: ~450 KB encoded, split twice to fit 200 KB.
    const big = (i: number) => `${String(i).padStart(6, '0')}${'y'.repeat(994)}`;
    const first = chunk(0, 400, big);
    await pipeline.pushRun(first.run); first.seal();
    await first.done;
    await pipeline.idle();
    assert.equal(encoder.valuePoolStats.out, 0, 'every pooled value came back, the discarded oversize ones included');
    const before = sink.messages.length;
    // The next batch is cut by the estimate: no message is encoded over the limit and discarded.
    const second = chunk(400, 400, big);
    await pipeline.pushRun(second.run); second.seal();
    await second.done;
    await pipeline.idle();
    assert.equal(encoder.valuePoolStats.out, 0);
    assert.deepEqual(sink.bodies, Array.from({ length: 800 }, (_, i) => big(i)));
    for (const m of sink.messages) assert.ok(m.value.length <= 200_000);
    assert.ok(sink.messages.length - before <= 3, `second run: ${sink.messages.length - before} messages of up to 180 KB`);
  } finally { await pipeline.stop(1000); rmSync(dir, { recursive: true, force: true }); }
});
