// otlp_proto's reusable output buffers (agent/encoders/otlp/value-pool.ts):
// the pool's rules, and the pipeline handing acknowledged values back only to
// a sink that holds no reference after a send, with every delivered message
// byte-identical to what a fresh encoder writes (no message ever sees bytes
// of another). Pure logic: the Kafka path is covered end to end by
// test/e2e (loghub byte-exact).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckGroup } from '../../agent/core/ack.ts';
import type { EncodedMessage, Sink } from '../../agent/core/component.ts';
import { newRecord, type LogRecord } from '../../agent/core/record.ts';
import { OtlpProtoEncoder } from '../../agent/encoders/otlp/otlp-proto.ts';
import { ValuePool } from '../../agent/encoders/otlp/value-pool.ts';
import { deliveryDefaults } from '../../agent/pipeline/config.ts';
import { DeadLetterFile } from '../../agent/pipeline/dead-letter.ts';
import { PipelineEvents } from '../../agent/pipeline/events.ts';
import { Pipeline } from '../../agent/pipeline/pipeline.ts';
import { createRegistry } from '../../agent/observe/metrics.ts';
import { silentLogger } from '../../agent/observe/log.ts';

test('value pool: a slab handed back is written again; given back once only; small, large and excess sizes are plain allocations', () => {
  const pool = new ValuePool({ slabBytes: 1024, minBytes: 100, maxOut: 3, maxFree: 1 });
  const a = pool.take(500);
  assert.equal(a.length, 500);
  const b = pool.take(600);
  assert.notEqual(a.buffer, b.buffer, 'two values out at once never share memory');
  pool.give(a);
  pool.give(a); // a second give of the same value is ignored
  pool.give(Buffer.alloc(500)); // not from the pool: ignored
  assert.deepEqual(pool.stats, { out: 1, free: 1 });
  const d = pool.take(800);
  assert.equal(d.buffer, a.buffer, 'the slab of a is reused');
  assert.equal(d.length, 800);
  const e = pool.take(800);
  assert.notEqual(e.buffer, d.buffer, 'the double give did not put the slab in the free list twice');
  assert.notEqual(e.buffer, b.buffer);
  assert.deepEqual(pool.stats, { out: 3, free: 0 });
  const f = pool.take(900);
  assert.deepEqual(pool.stats, { out: 3, free: 0 }, 'maxOut: a fourth value is a plain allocation');
  pool.give(f);
  assert.deepEqual(pool.stats, { out: 3, free: 0 }, 'a plain allocation is not taken back');
  pool.take(50);
  pool.take(2000);
  assert.deepEqual(pool.stats, { out: 3, free: 0 }, 'sizes below minBytes or above the slab are plain allocations');
  pool.give(b);
  pool.give(d);
  assert.deepEqual(pool.stats, { out: 1, free: 1 }, 'maxFree: one slab kept');
});

const ctx = { host: 'h', service: 's', site: 'x', agentId: 'a' };
const ack = new AckGroup(0, () => {});
const body = (i: number) => Buffer.from(`{"ts":"2026-12-04T23:00:00Z","seq":${i},"msg":"${'x'.repeat(150 + (i % 97))}"}`);

/** A sink that copies what it gets (as a Kafka client copies values into its request). */
class CopyingSink implements Sink {
  readonly maxMessageBytes = 1_000_000;
  readonly got: { bytes: Buffer; first: number; n: number }[] = [];
  readonly slabs = new Set<ArrayBufferLike>();
  reused = false;
  trims = 0;
  private readonly releases: boolean;
  constructor(releases: boolean) { this.releases = releases; }
  get releasesValuesAfterSend(): true | undefined { return this.releases ? true : undefined; }
  async send(messages: EncodedMessage[]): Promise<void> {
    await new Promise((r) => setImmediate(r));
    for (const m of messages) {
      if (this.slabs.has(m.value.buffer)) this.reused = true;
      this.slabs.add(m.value.buffer);
      this.got.push({ bytes: Buffer.from(m.value), first: m.records[0]!.offset, n: m.records.length });
    }
  }
  trim(): void { this.trims++; }
  async close(): Promise<void> {}
}

async function ship(sink: CopyingSink, n: number, encoder = new OtlpProtoEncoder({ key: 'none', resourceAttributes: {}, scopeName: 'edgelog' }, ctx), beforeStop?: (p: Pipeline) => void): Promise<LogRecord[][]> {
  const dir = mkdtempSync(join(tmpdir(), `edgelog-value-pool-${process.pid}-`));
  const batches: LogRecord[][] = [];
  try {
    const pipeline = new Pipeline({
      id: 'p', processors: [], encoder, sink,
      delivery: { ...deliveryDefaults, batch: { maxBytes: 128 * 1024, maxEvents: 100_000, timeoutMs: 5 } },
      deadLetter: new DeadLetterFile(join(dir, 'dl.jsonl')),
      events: new PipelineEvents('p', createRegistry(false), silentLogger), log: silentLogger,
    });
    for (let i = 0; i < n; i += 1000) {
      const group = new AckGroup(i, () => {});
      group.add(1000);
      group.seal();
      const batch = Array.from({ length: 1000 }, (_, k) => newRecord(body(i + k), 'app', 'f.log', '1:2:3', i + k, group, 1_795_254_195_568));
      batches.push(batch);
      await pipeline.push(batch);
    }
    await pipeline.idle();
    beforeStop?.(pipeline);
    await pipeline.stop(30_000);
    assert.ok(batches.every((b) => b[0]!.ack.pending === 0), 'every record acknowledged');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return batches;
}

test('pipeline + otlp_proto: acknowledged values are reused only for a sink that releases them; every message byte-identical', async () => {
  const releasing = new CopyingSink(true);
  const encoder = new OtlpProtoEncoder({ key: 'none', resourceAttributes: {}, scopeName: 'edgelog' }, ctx);
  await ship(releasing, 40_000, encoder);
  assert.ok(releasing.reused, 'a releasing sink saw the same memory carry a later message');
  assert.equal(encoder.valuePoolStats.out, 0, 'every value handed out came back once acknowledged (none held, none leaked)');
  const holding = new CopyingSink(false);
  await ship(holding, 40_000);
  assert.equal(holding.reused, false, 'a sink that may keep references never sees memory reused');
  // The same records through a fresh encoder per message, compared with what each sink got.
  const records = Array.from({ length: 40_000 }, (_, i) => newRecord(body(i), 'app', 'f.log', '1:2:3', i, ack, 1_795_254_195_568));
  for (const sink of [releasing, holding]) {
    let at = 0;
    for (const got of sink.got) {
      assert.equal(got.first, at, 'messages arrive in order, each record once');
      const want = new OtlpProtoEncoder({ key: 'none', resourceAttributes: {}, scopeName: 'edgelog' }, ctx).encode(records.slice(at, at + got.n))[0]!.value;
      assert.ok(want.equals(got.bytes), `message at record ${at} is byte-identical to a fresh encode`);
      at += got.n;
    }
    assert.equal(at, records.length, 'every record delivered once');
  }
});

test('value pool: minBytes and slabBytes themselves are pooled, one byte outside is not; the defaults (1 MiB slabs from 64 KiB, 16 out, all 16 kept)', () => {
  const pool = new ValuePool({ slabBytes: 1024, minBytes: 100, maxOut: 8, maxFree: 8 });
  pool.take(99);
  pool.take(1025);
  assert.deepEqual(pool.stats, { out: 0, free: 0 }, 'one byte below minBytes or above the slab: plain allocations');
  const lo = pool.take(100);
  const hi = pool.take(1024);
  assert.deepEqual(pool.stats, { out: 2, free: 0 }, 'exactly minBytes and exactly slabBytes come from slabs');
  assert.notEqual(lo.buffer, hi.buffer);
  const d = new ValuePool();
  assert.deepEqual({ slabBytes: d.slabBytes, minBytes: d.minBytes, maxOut: d.maxOut, maxFree: d.maxFree }, { slabBytes: 1024 * 1024, minBytes: 64 * 1024, maxOut: 16, maxFree: 16 });
});

test('value pool: trim() forgets the free slabs; a slab still out is taken back as usual afterwards', () => {
  const pool = new ValuePool({ slabBytes: 4096, minBytes: 1024, maxOut: 4, maxFree: 4 });
  const a = pool.take(2000);
  const b = pool.take(2000);
  pool.give(a);
  assert.deepEqual(pool.stats, { out: 1, free: 1 });
  pool.trim();
  assert.deepEqual(pool.stats, { out: 1, free: 0 }, 'the free slab is left to the GC');
  assert.notEqual(pool.take(2000).buffer, a.buffer, 'a trimmed slab is not handed out again');
  pool.give(b);
  assert.equal(pool.stats.free, 1, 'the slab that was out comes back after the trim');
});

test('pipeline.trim() (the agent went quiet): the encoder forgets its free value slabs and the sink is asked to trim', async () => {
  const sink = new CopyingSink(true);
  const encoder = new OtlpProtoEncoder({ key: 'none', resourceAttributes: {}, scopeName: 'edgelog' }, ctx);
  let before = -1;
  await ship(sink, 40_000, encoder, (p) => {
    before = encoder.valuePoolStats.free;
    p.trim();
  });
  assert.ok(before > 0, `free value slabs before the trim: ${before}`);
  assert.deepEqual(encoder.valuePoolStats, { out: 0, free: 0 });
  assert.equal(sink.trims, 1);
});
