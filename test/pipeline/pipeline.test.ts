// Pipeline behaviour with a scripted in-memory sink (pure logic: batching,
// backpressure, retry, splitting, dead letters, acknowledgement order).
// The real broker is exercised by the end-to-end suites.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckGroup } from '../../agent/core/ack.ts';
import { newRecord, type LogRecord } from '../../agent/core/record.ts';
import type { EncodedMessage, Encoder, Sink } from '../../agent/core/component.ts';
import { SinkSendError, RecordTooLargeError } from '../../agent/core/errors.ts';
import { Pipeline } from '../../agent/pipeline/pipeline.ts';
import { deliveryDefaults, type DeliveryConfig } from '../../agent/pipeline/config.ts';
import { DeadLetterFile } from '../../agent/pipeline/dead-letter.ts';
import { PipelineEvents } from '../../agent/pipeline/events.ts';
import { createRegistry } from '../../agent/observe/metrics.ts';
import { silentLogger } from '../../agent/observe/log.ts';

/** One message per batch, value = bodies joined by \n (enough to test sizes and order). */
const joinEncoder: Encoder = {
  name: 'test',
  encode(records) {
    return [{ key: null, value: Buffer.concat(records.flatMap((r) => [r.body, Buffer.from('\n')])), headers: {}, records }];
  },
};

class ScriptedSink implements Sink {
  maxMessageBytes = 1_000_000;
  sent: string[] = [];
  failures: Array<Error> = [];
  calls = 0;
  gate: Promise<void> | null = null;
  async send(messages: EncodedMessage[]): Promise<void> {
    this.calls++;
    if (this.gate) await this.gate;
    const f = this.failures.shift();
    if (f) throw f;
    for (const m of messages) for (const r of m.records) this.sent.push(r.body.toString());
  }
  async close(): Promise<void> {}
}

function setup(sink: Sink, delivery: Partial<DeliveryConfig> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'edgelog-pipe-'));
  const registry = createRegistry(false);
  const d: DeliveryConfig = {
    batch: { ...deliveryDefaults.batch, ...delivery.batch },
    buffer: { ...deliveryDefaults.buffer, ...delivery.buffer },
    retry: { initialBackoffMs: 1, maxBackoffMs: 5, ...delivery.retry },
  };
  const pipeline = new Pipeline({
    id: 'p', processors: [], encoder: joinEncoder, sink, delivery: d,
    deadLetter: new DeadLetterFile(join(dir, 'dl.jsonl')),
    events: new PipelineEvents('p', registry, silentLogger), log: silentLogger,
  });
  return { pipeline, registry, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function records(n: number, from = 0, size = 10): { recs: LogRecord[]; group: AckGroup; done: Promise<void> } {
  let resolve!: () => void;
  const done = new Promise<void>((r) => { resolve = r; });
  const group = new AckGroup(from + n, () => resolve());
  const recs: LogRecord[] = [];
  for (let i = from; i < from + n; i++) recs.push(newRecord(Buffer.from(String(i).padStart(size, '0')), 's', 'f', 'id', i, group));
  group.add(n);
  group.seal();
  return { recs, group, done };
}

test('delivers every record once, in order, and acks the group', async () => {
  const sink = new ScriptedSink();
  const { pipeline, cleanup } = setup(sink, { batch: { maxBytes: 1000, maxEvents: 7, timeoutMs: 1 } });
  try {
    const a = records(50, 0);
    const b = records(50, 50);
    await pipeline.push(a.recs);
    await pipeline.push(b.recs);
    await Promise.all([a.done, b.done]);
    assert.deepEqual(sink.sent, Array.from({ length: 100 }, (_, i) => String(i).padStart(10, '0')));
    assert.equal(pipeline.bufferedBytes, 0);
  } finally { await pipeline.stop(1000); cleanup(); }
});

test('retriable failures are retried until delivered; nothing is lost or acked early', async () => {
  const sink = new ScriptedSink();
  sink.failures = [new SinkSendError('down', true), new SinkSendError('down', true), new SinkSendError('down', true)];
  const { pipeline, registry, cleanup } = setup(sink);
  try {
    const a = records(20);
    let acked = false;
    a.done.then(() => { acked = true; });
    await pipeline.push(a.recs);
    await a.done;
    assert.equal(acked, true);
    assert.equal(sink.sent.length, 20);
    assert.equal(sink.calls, 4);
    const text = await registry.metrics();
    assert.match(text, /edgelog_sink_send_errors_total\{component="p",code="EDGELOG_SINK_SEND",retriable="true"\} 3/);
  } finally { await pipeline.stop(1000); cleanup(); }
});

test('a batch the destination refuses as too large is split; a single oversize record is dead-lettered and acked as rejected', async () => {
  const sink = new ScriptedSink();
  sink.maxMessageBytes = 120; // 11 bytes per record with the separator: at most 10 records per message
  const { pipeline, dir, cleanup } = setup(sink, { batch: { maxBytes: 100_000, maxEvents: 1000, timeoutMs: 1 } });
  try {
    const a = records(25);
    const big = records(1, 1000, 500);
    await pipeline.push(a.recs);
    await pipeline.push(big.recs);
    await Promise.all([a.done, big.done]);
    assert.equal(sink.sent.length, 25, 'all normal records delivered after splitting');
    assert.equal(big.group.status, 'rejected');
    const dl = readFileSync(join(dir, 'dl.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(dl.length, 1);
    assert.equal(Buffer.from(dl[0].body_b64, 'base64').length, 500);
    // Broker-side refusal (limit below ours): split again on RecordTooLargeError.
    sink.maxMessageBytes = 1_000_000;
    sink.failures = [new RecordTooLargeError(500, 100)];
    const c = records(4, 2000);
    await pipeline.push(c.recs);
    await c.done;
    assert.equal(sink.sent.length, 29);
  } finally { await pipeline.stop(1000); cleanup(); }
});

test('push waits while the buffer is above its high watermark and resumes below the low one', async () => {
  const sink = new ScriptedSink();
  let open!: () => void;
  sink.gate = new Promise((r) => { open = r; });
  const { pipeline, cleanup } = setup(sink, { buffer: { maxBytes: 100, lowBytes: 50 }, batch: { maxBytes: 40, maxEvents: 100, timeoutMs: 1 } });
  try {
    const first = records(12);            // 120 bytes >= high watermark
    let released = false;
    const p = pipeline.push(first.recs).then(() => { released = true; });
    // Not a sleep: once the sink holds a send, the data has gone through the pipeline and still must not release the source.
    const end = Date.now() + 15_000;
    while (sink.calls === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    assert.ok(sink.calls > 0, 'the sink was called');
    assert.equal(released, false, 'source must wait while the sink holds the data');
    assert.ok(pipeline.bufferedBytes >= 100);
    sink.gate = null;
    open();
    await p;
    await first.done;
    assert.equal(released, true);
  } finally { await pipeline.stop(1000); cleanup(); }
});

test('stop() gives up retrying at its deadline and leaves the records unacknowledged', async () => {
  const sink = new ScriptedSink();
  sink.failures = Array.from({ length: 10_000 }, () => new SinkSendError('down', true));
  const { pipeline, cleanup } = setup(sink, { retry: { initialBackoffMs: 5, maxBackoffMs: 20 } });
  try {
    const a = records(5);
    await pipeline.push(a.recs);
    await pipeline.stop(200);
    assert.equal(a.group.pending, 5, 'nothing acknowledged, so a restart re-reads them');
  } finally { cleanup(); }
});
