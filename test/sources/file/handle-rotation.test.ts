// Thousands of files and a bounded number of handles (issue 14): files beyond
// max_open_files wait in a fair queue, idle acknowledged files are let go to
// make room, and the backlog is visible (waiting files, oldest age, the
// source's readiness check) until every file was read. The Kafka end of the
// same story is test/e2e/fleet-files.test.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Collector, makeCtx, makeSource, tempDir, testConfig, waitFor } from './helpers.ts';
import type { FileSource } from '../../../agent/sources/file/source.ts';

function lines(name: string, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += `${name} line ${i}\n`;
  return s;
}

/** Samples what an operator would look at, while the backlog drains. */
function watch(src: FileSource) {
  const seen = { maxOpen: 0, maxWaiting: 0, degraded: '' };
  const timer = setInterval(() => {
    seen.maxOpen = Math.max(seen.maxOpen, src.openFiles);
    seen.maxWaiting = Math.max(seen.maxWaiting, src.waitingFiles);
    const h = src.health().find((c) => c.check === 'waiting_files');
    if (h?.degraded && !seen.degraded) seen.degraded = h.degraded;
  }, 5);
  return { seen, stop: () => clearInterval(timer) };
}

test('5,000 files with 64 handles: every line read once, waiting files reported while draining, handles bounded', async (t) => {
  const dir = await tempDir(t);
  const FILES = 5000;
  const PER = 3;
  for (let i = 0; i < FILES; i++) writeFileSync(join(dir, `f${i}.log`), lines(`f${i}`, PER));
  const ctx = makeCtx(join(dir, 'data'));
  const src = makeSource(testConfig({ include: [join(dir, '*.log')], max_open_files: 64, close_idle: '20ms' }), ctx, t);
  const c = new Collector();
  const w = watch(src);
  t.after(w.stop);
  await src.start(c);
  await waitFor(() => c.records.length >= FILES * PER && src.waitingFiles === 0, 'every file read', 180_000);
  w.stop();
  // Once each: a file let go and opened again resumes at its checkpoint.
  const keys = new Set(c.records.map((r) => `${r.streamId}@${r.offset}`));
  assert.equal(keys.size, FILES * PER);
  assert.equal(c.records.length, FILES * PER, 'no line read twice');
  assert.equal(new Set(c.records.map((r) => r.stream)).size, FILES);
  assert.ok(w.seen.maxOpen <= 64, `open files stayed within max_open_files (max seen ${w.seen.maxOpen})`);
  assert.ok(w.seen.maxWaiting > 0, 'files were seen waiting');
  assert.match(w.seen.degraded, /^files wait for a handle \(max_open_files 64 open\); how many and for how long: edgelog_file_waiting_files, edgelog_file_oldest_waiting_seconds$/);
  const metrics = await ctx.metrics.metrics();
  assert.match(metrics, /edgelog_file_waiting_files\{component="files"\} 0/);
  assert.match(metrics, /edgelog_file_oldest_waiting_seconds\{component="files"\} 0/);
  assert.deepEqual(src.health().filter((h) => h.degraded), [], 'ready again once the queue is empty');
});

test('files arriving faster than handles free up: none starves, every line read', async (t) => {
  const dir = await tempDir(t);
  // One handle per 40 arrivals: files queue as soon as the writer starts.
  const src = makeSource(testConfig({ include: [join(dir, '*.log')], max_open_files: 8, close_idle: '20ms' }), makeCtx(join(dir, 'data')), t);
  const c = new Collector();
  const w = watch(src);
  t.after(w.stop);
  await src.start(c);
  const FILES = 1200;
  for (let i = 0; i < FILES; i++) {
    writeFileSync(join(dir, `a${i}.log`), lines(`a${i}`, 2));
    if (i % 40 === 39) await new Promise((r) => setImmediate(r));
  }
  // The first files grow again after they were let go: they rejoin the queue at the back and are read from their checkpoint.
  await waitFor(() => w.seen.maxWaiting > 0, 'a queue forms');
  for (let i = 0; i < 50; i++) appendFileSync(join(dir, `a${i}.log`), `a${i} late\n`);
  const total = FILES * 2 + 50;
  await waitFor(() => c.records.length >= total && src.waitingFiles === 0, 'every file read', 180_000);
  w.stop();
  assert.equal(c.records.length, total, 'no line read twice');
  assert.equal(new Set(c.records.map((r) => `${r.streamId}@${r.offset}`)).size, total);
  assert.equal(c.bodies().filter((b) => b.endsWith(' late')).length, 50);
  assert.ok(w.seen.maxOpen <= 8, `open files stayed within max_open_files (max seen ${w.seen.maxOpen})`);
  assert.ok(w.seen.degraded, 'the readiness check said files wait');
});

test('without waiting files an idle file keeps its handle', async (t) => {
  const dir = await tempDir(t);
  writeFileSync(join(dir, 'a.log'), 'a1\n');
  const src = makeSource(testConfig({ include: [join(dir, '*.log')], max_open_files: 4, close_idle: '20ms' }), makeCtx(join(dir, 'data')), t);
  const c = new Collector();
  await src.start(c);
  await waitFor(() => c.records.length === 1, 'a.log read');
  // Several glob intervals and close_idle periods pass: the handle stays (nobody needs it).
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(src.openFiles, 1);
  appendFileSync(join(dir, 'a.log'), 'a2\n');
  await waitFor(() => c.records.length === 2, 'appended line');
});

test('after a restart, files read to their end take no handle: the handles go to the files not yet read', async (t) => {
  const dir = await tempDir(t);
  for (let i = 0; i < 10; i++) writeFileSync(join(dir, `old${i}.log`), lines(`old${i}`, 2));
  const first = makeSource(testConfig({ include: [join(dir, '*.log')], max_open_files: 20 }), makeCtx(join(dir, 'data')), t);
  const c1 = new Collector();
  await first.start(c1);
  await waitFor(() => c1.records.length === 20, 'every old line');
  await first.stop();
  await first.drain(5000);
  for (let i = 0; i < 5; i++) writeFileSync(join(dir, `new${i}.log`), lines(`new${i}`, 2));
  // Five handles: were the ten read files opened again, the new ones would wait.
  const second = makeSource(testConfig({ include: [join(dir, '*.log')], max_open_files: 5, close_idle: '20ms' }), makeCtx(join(dir, 'data')), t);
  const c2 = new Collector();
  await second.start(c2);
  assert.equal(second.waitingFiles, 0);
  await waitFor(() => c2.records.length === 10, 'every new line');
  assert.ok(c2.bodies().every((b) => b.startsWith('new')), 'nothing read again');
  // A read file that grows is opened again from its checkpoint (an idle new file makes room for it).
  appendFileSync(join(dir, 'old3.log'), 'old3 grew\n');
  await waitFor(() => c2.records.length === 11, 'the appended line');
  assert.equal(c2.records[10]!.body.toString(), 'old3 grew');
});
