// Failure paths the happy-path suites never reach: a dead-letter file that
// cannot be written (on the main thread and on a processing worker), and a
// processing worker that dies. In each the agent must go on: oversize
// records are still settled as rejected (the checkpoint moves on; the count
// of discarded records says what was lost), other records are delivered, and
// a dead worker is reported rather than crashing the process.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Registry } from '../../agent/observe/prometheus.ts';
import { AckGroup } from '../../agent/core/ack.ts';
import { newRecord, type LogRecord } from '../../agent/core/record.ts';
import type { EncodedMessage, Sink } from '../../agent/core/component.ts';
import { Pipeline } from '../../agent/pipeline/pipeline.ts';
import { deliveryDefaults, type DeliveryConfig } from '../../agent/pipeline/config.ts';
import { DeadLetterFile } from '../../agent/pipeline/dead-letter.ts';
import { PipelineEvents } from '../../agent/pipeline/events.ts';
import { WorkerMetricsHub } from '../../agent/pipeline/workers/metrics-mirror.ts';
import { createRegistry } from '../../agent/observe/metrics.ts';
import { silentLogger } from '../../agent/observe/log.ts';
import { rawEncoder } from '../../agent/encoders/raw.ts';

class CollectingSink implements Sink {
  maxMessageBytes = 100;
  values: string[] = [];
  async send(messages: EncodedMessage[]): Promise<void> { for (const m of messages) this.values.push(m.value.toString()); }
  async close(): Promise<void> {}
}

async function setup(t: { after: (fn: () => unknown) => void }, workers: number, deadLetterPath: (dir: string) => string) {
  const dir = mkdtempSync(join(tmpdir(), `edgelog-failure-paths-${process.pid}-`));
  const registry = createRegistry(false);
  const sink = new CollectingSink();
  const d: DeliveryConfig = {
    batch: { ...deliveryDefaults.batch, timeoutMs: 1 },
    buffer: { ...deliveryDefaults.buffer },
    retry: { initialBackoffMs: 1, maxBackoffMs: 5 },
  };
  const pipeline = new Pipeline({
    id: 'p', processors: [], encoder: rawEncoder.create(rawEncoder.defaults, null as never), sink, delivery: d,
    deadLetter: new DeadLetterFile(deadLetterPath(dir)),
    events: new PipelineEvents('p', registry, silentLogger), log: silentLogger,
  });
  if (workers > 0) {
    await pipeline.useWorkers({
      workers, processors: [], encoder: { id: 'enc', path: 'encoders.enc', type: 'raw', raw: {} }, hub: new WorkerMetricsHub(registry),
      ctx: { dataDir: dir, agentId: 'test', host: 'h', service: 's', site: 'x' }, logLevel: 'error', logFormat: 'json',
    });
  }
  t.after(async () => { await pipeline.stop(2000); rmSync(dir, { recursive: true, force: true }); });
  return { pipeline, registry, sink, dir };
}

function batchOf(lines: string[], stream: string, offset: number): { recs: LogRecord[]; done: Promise<string> } {
  let resolve!: (s: string) => void;
  const done = new Promise<string>((r) => { resolve = r; });
  const group = new AckGroup(offset, (g) => resolve(g.status));
  const recs = lines.map((l, i) => newRecord(Buffer.from(l), 'src', stream, `id-${stream}`, offset + i, group));
  group.add(recs.length);
  group.seal();
  return { recs, done };
}

async function discarded(registry: Registry, reason: string): Promise<number> {
  const m = await registry.getSingleMetric('edgelog_component_discarded_records_total')?.get();
  return (m?.values ?? []).filter((v) => v.labels.reason === reason).reduce((a, v) => a + v.value, 0);
}

for (const workers of [0, 1]) {
  test(`dead-letter write fails (worker_threads ${workers}): the oversize record is still settled as rejected and counted, the rest delivered; writes resume once possible`, async (t) => {
    // The dead-letter file's directory is a regular file: mkdir fails with ENOTDIR, even for root.
    const { pipeline, registry, sink, dir } = await setup(t, workers, (d) => join(d, 'blocker', 'dl.jsonl'));
    writeFileSync(join(dir, 'blocker'), 'not a directory');
    const big = 'x'.repeat(500);
    const a = batchOf(['ok 1', big, 'ok 2'], 's', 0);
    await pipeline.push(a.recs);
    assert.equal(await a.done, 'rejected', 'the group settles (checkpoint moves on) with the worst status');
    assert.deepEqual(sink.values.sort(), ['ok 1', 'ok 2']);
    assert.equal(await discarded(registry, 'too_large'), 1);
    assert.equal(existsSync(join(dir, 'blocker', 'dl.jsonl')), false);
    const b = batchOf(['ok 3'], 's', 3);
    await pipeline.push(b.recs);
    assert.equal(await b.done, 'delivered', 'delivery goes on after the failed write');

    // The disk problem is fixed: the next dead letter is written (a failed mkdir is not remembered forever).
    rmSync(join(dir, 'blocker'));
    const c = batchOf([big + 'y'], 's', 4);
    await pipeline.push(c.recs);
    assert.equal(await c.done, 'rejected');
    const lines = readFileSync(join(dir, 'blocker', 'dl.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { bytes: number; reason: string });
    assert.deepEqual(lines.map((l) => [l.bytes, l.reason]), [[501, 'EDGELOG_RECORD_TOO_LARGE']]);
  });
}

test('a processing worker that dies is reported (workerFailure), the process goes on, and stop still completes', async (t) => {
  const { pipeline, sink } = await setup(t, 1, (d) => join(d, 'dl.jsonl'));
  const a = batchOf(['before 1', 'before 2'], 's', 0);
  await pipeline.push(a.recs);
  assert.equal(await a.done, 'delivered');
  assert.equal(pipeline.workerFailure, null);
  // Kill the worker thread from outside, as a crash would end it.
  const pool = (pipeline as unknown as { pool: { shards: Array<{ worker: { terminate(): Promise<number> } }> } }).pool;
  await pool.shards[0]!.worker.terminate();
  const end = Date.now() + 10_000;
  while (pipeline.workerFailure === null && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  assert.match(pipeline.workerFailure ?? '', /processing worker 0 exited with code/);
  assert.deepEqual(sink.values.sort(), ['before 1', 'before 2']);
  // Records pushed after the crash are never acknowledged as delivered (their source re-reads them after a restart).
  const b = batchOf(['after'], 's', 2);
  let settled: string | null = null;
  void b.done.then((s) => { settled = s; });
  void pipeline.push(b.recs).catch(() => {});
  const stopped = await Promise.race([pipeline.stop(2000).then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 30_000))]);
  assert.equal(stopped, true, 'stop completes with a dead worker');
  assert.notEqual(settled, 'delivered');
  assert.deepEqual(sink.values.sort(), ['before 1', 'before 2']);
});
