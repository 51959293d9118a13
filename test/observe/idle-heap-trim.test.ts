// The heap trim when the agent goes quiet (agent/observe/idle-heap-trim.ts):
// one full GC per quiet period, none while records flow, and the gc()
// function it needs really is obtainable on this runtime without a flag, and
// really gives memory back; in a running agent (real broker) the buffers kept
// for reuse are dropped before that collection.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdleHeapTrim, QUIET_RECORDS } from '../../agent/observe/idle-heap-trim.ts';
import { parseConfig } from '../../agent/config/load.ts';
import { Agent } from '../../agent/pipeline/agent.ts';
import { createRegistry } from '../../agent/observe/metrics.ts';
import { silentLogger } from '../../agent/observe/log.ts';
import type { FileSource } from '../../agent/sources/file/source.ts';
import { sharedKafka, uniqueTopic } from '../helpers/kafka.ts';
import { tempDir, waitFor } from '../helpers/e2e.ts';
import { defer } from '../helpers/cleanup.ts';

test('idle heap trim: one collection per quiet window, none while records flow, re-armed by activity', () => {
  let records = 0;
  let collections = 0;
  const trim = new IdleHeapTrim(() => records, 10_000, () => { collections++; }, 0);
  // Busy: a window with QUIET_RECORDS or more records never collects.
  records += QUIET_RECORDS;
  assert.equal(trim.tick(5_000), false, 'inside the first window nothing is decided');
  assert.equal(trim.tick(10_000), false);
  assert.equal(collections, 0);
  // Quiet window (a trickle): one collection.
  records += QUIET_RECORDS - 1;
  assert.equal(trim.tick(20_000), true);
  assert.equal(collections, 1);
  // Still quiet: no second collection.
  assert.equal(trim.tick(30_000), false);
  assert.equal(trim.tick(40_000), false);
  assert.equal(collections, 1);
  // Activity, then quiet again: collected once more.
  records += 5 * QUIET_RECORDS;
  assert.equal(trim.tick(50_000), false);
  assert.equal(trim.tick(60_000), true);
  assert.equal(collections, 2);
  assert.equal(trim.trims, 2);
});

test('idle heap trim: gc() is available without --expose-gc and shrinks the young generation a burst grew (a process started as the launchers start the agent)', (t) => {
  // A child with the launchers' young-generation flag (agent/cli/edgelog): the test runner's own flags differ.
  const mod = new URL('../../agent/observe/idle-heap-trim.ts', import.meta.url).href;
  const code = `
    import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
    const { gcFunction } = await import(${JSON.stringify(mod)});
    const gc = gcFunction();
    const ns = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
    const keep = [];
    for (let i = 0; i < 400000; i++) { const o = { i, s: 'x' + i }; if (i % 4 === 0) keep.push(o); }
    const grown = ns();
    keep.length = 0;
    await new Promise((r) => setTimeout(r, 1500)); // quiet, as the agent is when it trims
    if (gc) gc({ type: 'major', execution: 'sync' });
    console.log(JSON.stringify({ gc: typeof gc, grown, after: ns() }));`;
  // And with a compile cache, as the launchers run it: with the type stripper loaded (no cache) V8 kept
  // the young generation at its size through the collection. The first run fills the cache.
  const cache = mkdtempSync(join(tmpdir(), 'edgelog-idle-trim-'));
  t.after(() => rmSync(cache, { recursive: true, force: true }));
  const run = () => execFileSync(process.execPath, ['--max-semi-space-size=8', '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NODE_COMPILE_CACHE: cache } });
  run();
  const r = JSON.parse(run().trim().split('\n').pop()!) as { gc: string; grown: number; after: number };
  assert.equal(r.gc, 'function', 'gc() obtained at run time on this Node');
  assert.ok(r.after < r.grown / 2, `new space ${r.grown} -> ${r.after} bytes`);
});

test('an agent that went quiet drops the buffers it kept for reuse, then collects: free chunk slabs gone, counted once', async (t) => {
  const kafka = await sharedKafka('A');
  const topic = uniqueTopic('idle-trim');
  await kafka.createTopic(topic);
  const dir = tempDir(t);
  const lines = 30_000;
  writeFileSync(join(dir, 'app.log'), Array.from({ length: lines }, (_, i) => `{"i":${i},"msg":"${'x'.repeat(120)}"}\n`).join(''));
  const registry = createRegistry(false);
  const agent = new Agent(parseConfig(`
agent: { id: idle-trim, data_dir: ${JSON.stringify(join(dir, 'state'))}, shutdown_timeout: 5s }
sources:
  app: { type: file, include: [${JSON.stringify(join(dir, '*.log'))}] }
sinks:
  kafka: { type: kafka, topic: ${topic}, brokers: [${JSON.stringify(kafka.bootstrap)}], compression: lz4, encoding: { codec: otlp_proto } }
`), { log: silentLogger, registry, idleTrimWindowMs: 3000 });
  await agent.start('127.0.0.1:0');
  defer(t, 'stop the agent', () => agent.stop());
  const metric = async (name: string): Promise<number> => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(await registry.metrics());
    return m ? Number(m[1]) : 0;
  };
  const src = agent.sources.get('default')![0] as FileSource;
  await waitFor(`${lines} records sent`, async () => (await metric('edgelog_component_sent_records_total')) >= lines, 60_000, 20);
  // Acknowledged chunks handed their slabs back for reuse (unless the quiet window already passed on a slow machine).
  const trimmedEarly = await metric('edgelog_runtime_idle_gc_total');
  const freeBefore = src.slabs.stats.free;
  if (trimmedEarly === 0) assert.ok(freeBefore > 0, 'free slabs after the burst');
  await waitFor('the quiet-time collection', async () => (await metric('edgelog_runtime_idle_gc_total')) >= 1, 30_000);
  assert.equal(src.slabs.stats.free, 0, 'the free chunk slabs were dropped before the collection');
  await new Promise((r) => setTimeout(r, 4000));
  assert.equal(await metric('edgelog_runtime_idle_gc_total'), 1, 'once per quiet period');
});
