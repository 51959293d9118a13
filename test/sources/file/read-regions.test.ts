// Read regions (agent/sources/file/read-regions.ts): with a pipeline that
// allows it, the tailer reads each chunk into a region its records' bodies are
// views of, and the region is reused only once every record of the chunk is
// settled. What a user relies on: every line arrives byte for byte whatever
// the chunking, a region is never reused while a record of it is unsettled,
// and settled chunks' memory is reused instead of allocated again.

import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, testConfig } from './helpers.ts';
import { Recorder, TestHost, openTailer, steps } from './tailer-harness.ts';
import { ReadRegions } from '../../../agent/sources/file/read-regions.ts';
import { Pipeline } from '../../../agent/pipeline/pipeline.ts';

const HOUR = 3_600_000;
const CHUNK = 512;

/** Lines of varied length (some longer than a chunk, some empty, some CRLF), deterministic. */
function lines(n: number, seed: number): string[] {
  const out: string[] = [];
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const len = i % 97 === 0 ? 700 + (x % 300) : x % 180;
    out.push(`${seed}:${i}:${'abcdefghijklmnopqrstuvwxyz'.repeat(40).slice(0, len)}${i % 13 === 0 ? '\r' : ''}`);
  }
  return out;
}

async function setup(t: TestContext, text: string) {
  const dir = await tempDir(t);
  const path = join(dir, 'app.log');
  writeFileSync(path, text);
  const c = new Recorder('hold');
  const host = new TestHost(testConfig({ include: [path], glob_interval: HOUR, idle_flush: HOUR, rotate_wait: 0, read_chunk_bytes: CHUNK, max_line_bytes: 65536 }), dir, c);
  host.regions = new ReadRegions(CHUNK, 8);
  const tailer = await openTailer(host, path);
  t.after(async () => { await tailer.release('test end').catch(() => {}); });
  await steps(tailer).establish();
  return { host, tailer, c, path };
}

/** Read chunks until EOF; returns how many reads returned data. */
async function readAll(tailer: Parameters<typeof steps>[0]): Promise<number> {
  let reads = 0;
  while ((await steps(tailer).readChunk()) > 0) reads++;
  return reads;
}

const expectBody = (l: string): string => (l.endsWith('\r') ? l.slice(0, -1) : l);

test('read regions: bodies are views of lent regions, byte for byte, and a region comes back only when its whole chunk is settled', async (t) => {
  const first = lines(400, 7);
  const { host, tailer, c, path } = await setup(t, `${first.join('\n')}\n`);
  const regions = host.regions!;
  const reads = await readAll(tailer);
  assert.ok(reads > 20, `the file spans many chunks (${reads})`);
  assert.deepEqual(c.records.map((r) => r.body.toString('latin1')), first.map(expectBody));
  // Nothing settled yet: every chunk that framed a complete line holds its own region
  // (chunks holding only part of a long line, and the read at EOF, gave theirs back at once).
  // Regions are CHUNK-byte ArrayBuffers of their own; carried lines live in Node's shared pool.
  const lentBuffers = new Set(c.records.map((r) => r.body.buffer).filter((b) => b.byteLength === CHUNK));
  assert.ok(lentBuffers.size > 1 && regions.lent === lentBuffers.size, `lent ${regions.lent}, distinct buffers behind bodies ${lentBuffers.size}`);

  // Settle all but the last record of the first chunk's group: that chunk's region must stay lent.
  const firstGroup = c.held[0]!.ack;
  const ofFirst = c.held.filter((r) => r.ack === firstGroup);
  const rest = c.held.filter((r) => r.ack !== firstGroup);
  for (const r of ofFirst.slice(0, -1)) r.ack.settle(1);
  for (const r of rest) r.ack.settle(1);
  assert.equal(regions.lent, 1, 'the chunk with an unsettled record keeps its region');
  const kept = ofFirst.at(-1)!;
  const keptText = kept.body.toString('latin1');

  // More lines: they are read into reused regions, and the unsettled record's bytes are untouched.
  const second = lines(300, 11);
  appendFileSync(path, `${second.join('\n')}\n`);
  const before = c.records.length;
  await readAll(tailer);
  const got = c.records.slice(before);
  assert.deepEqual(got.map((r) => r.body.toString('latin1')), second.map(expectBody));
  assert.equal(kept.body.toString('latin1'), keptText, 'an unsettled record never sees its region reused');
  const reused = got.filter((r) => lentBuffers.has(r.body.buffer)).length;
  assert.ok(reused > 0, 'settled chunks\' regions are reused for new reads');
  assert.ok(!got.some((r) => r.body.buffer === kept.body.buffer), 'the region of the unsettled record is not among them');

  kept.ack.settle(1);
  for (const r of c.held.slice(before)) r.ack.settle(1);
  assert.equal(regions.lent, 0, 'every region came back once everything was settled');
});

test('read regions: a chunk with no complete line lends nothing (its bytes are carried, the region is reused at once)', async (t) => {
  const long = 'x'.repeat(CHUNK * 3);
  const { host, tailer, c } = await setup(t, `${long}\nshort\n`);
  const regions = host.regions!;
  await readAll(tailer);
  assert.deepEqual(c.records.map((r) => r.body.toString()), [long, 'short']);
  // The long line was carried (own memory); only the chunk that framed `short` lent its region.
  assert.equal(regions.lent, 1);
  assert.notEqual(c.records[0]!.body.buffer, c.records[1]!.body.buffer);
  for (const r of c.held) r.ack.settle(1);
  assert.equal(regions.lent, 0);
});

test('read regions: the pipeline allows them only on the plain path (no processors, in-thread encoding that recycles, a sink that keeps no value)', () => {
  const sinkReleasing = { name: 'k', maxMessageBytes: 1e6, releasesValuesAfterSend: true as const, send: async () => {}, close: async () => {} };
  const sinkKeeping = { ...sinkReleasing, releasesValuesAfterSend: undefined };
  const recyclingEncoder = { encode: () => [], recycle: () => {} };
  const plainEncoder = { encode: () => [] };
  const make = (o: { processors?: unknown[]; encoder?: unknown; sink?: unknown }) => new Pipeline({
    id: 'p', processors: (o.processors ?? []) as never, encoder: (o.encoder ?? recyclingEncoder) as never, sink: (o.sink ?? sinkReleasing) as never,
    delivery: { batch: { maxBytes: 1024, maxEvents: 10, timeoutMs: 5 }, buffer: { maxBytes: 65536, lowBytes: 32768 }, retry: { initialBackoffMs: 10, maxBackoffMs: 100 } },
    deadLetter: { path: '/nonexistent', write: async () => {} } as never,
    events: { received() {}, bufferBytes() {}, delivered() {}, sendFailed() {}, discarded() {} } as never,
    log: { info() {}, warn() {}, error() {}, debug() {}, child() { return this; } } as never,
  });
  const ps = [make({}), make({ processors: [{ process() {} }] }), make({ encoder: plainEncoder }), make({ sink: sinkKeeping })];
  try {
    assert.deepEqual(ps.map((p) => p.bodiesReleasedOnSettle), [true, false, false, false]);
  } finally {
    for (const p of ps) void p.stop(0);
  }
});
