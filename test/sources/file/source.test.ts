// The file source end to end on temp files: discovery while running, exclude,
// start_at, oversize lines, binary bytes, a 10 MB line beside other files,
// metrics with bounded labels, config validation.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, statSync, writeFileSync, unlinkSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Collector, expectedLines, makeCtx, makeSource, tempDir, testConfig, waitFor } from './helpers.ts';
import { afterScans } from './progress.ts';
import { fileSource } from '../../../agent/sources/file/index.ts';
import { ConfigError } from '../../../agent/core/errors.ts';
import { DirWatchSet } from '../../../agent/sources/file/watcher.ts';

test('new files matching the glob are discovered while running; exclude is honoured', async (t) => {
  const dir = await tempDir(t);
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'a.log'), 'a1\n');
  const src = makeSource(testConfig({ include: [join(dir, '**/*.log')], exclude: [join(dir, '**/skip-*.log')] }), makeCtx(join(dir, 'data')), t);
  const c = new Collector();
  await src.start(c);
  await waitFor(() => c.records.length === 1, 'a.log');
  writeFileSync(join(dir, 'b.log'), 'b1\nb2\n');
  writeFileSync(join(dir, 'skip-me.log'), 'nope\n');
  writeFileSync(join(dir, 'sub', 'c.log'), 'c1\n');
  writeFileSync(join(dir, 'other.txt'), 'not matched\n');
  await waitFor(() => c.records.length === 4, 'new files');
  await afterScans(src); // full glob scans ran: excluded files stay out
  assert.deepEqual(c.bodies().sort(), ['a1', 'b1', 'b2', 'c1']);
  assert.equal(src.openFiles, 3);
});

test('start_at end: existing content skipped, appends and new files read', async (t) => {
  const dir = await tempDir(t);
  writeFileSync(join(dir, 'old.log'), 'history 1\nhistory 2\n');
  writeFileSync(join(dir, 'empty.log'), '');
  const src = makeSource(testConfig({ include: [join(dir, '*.log')], start_at: 'end' }), makeCtx(join(dir, 'data')), t);
  const c = new Collector();
  await src.start(c);
  await waitFor(() => src.openFiles === 2, 'files open');
  appendFileSync(join(dir, 'old.log'), 'fresh\n');
  appendFileSync(join(dir, 'empty.log'), 'first\n');
  writeFileSync(join(dir, 'new.log'), 'n1\nn2\n');
  await waitFor(() => c.records.length === 4, 'new lines');
  assert.deepEqual(c.bodies().sort(), ['first', 'fresh', 'n1', 'n2']);
  assert.equal(c.records.find((r) => r.body.toString() === 'fresh')!.offset, 20);
});

for (const oversize of ['split', 'truncate'] as const) {
  test(`long lines (${oversize}) are counted and never stall the lines after them`, async (t) => {
    const dir = await tempDir(t);
    const log = join(dir, 'a.log');
    const long = 'L'.repeat(5000);
    writeFileSync(log, `before\n${long}\r\nafter\n`);
    const ctx = makeCtx(join(dir, 'data'));
    const src = makeSource(testConfig({ include: [log], max_line_bytes: 1024, oversize, read_chunk_bytes: 700 }), ctx, t);
    const c = new Collector();
    await src.start(c);
    await waitFor(() => c.bodies().includes('after'), 'line after the long one');
    const b = c.bodies();
    if (oversize === 'split') {
      assert.deepEqual(b, ['before', ...Array.from({ length: 4 }, () => 'L'.repeat(1024)), 'L'.repeat(904), 'after']);
      assert.deepEqual(c.records.slice(1, 6).map((r) => r.offset), [7, 1031, 2055, 3079, 4103]);
    } else {
      assert.deepEqual(b, ['before', 'L'.repeat(1024), 'after']);
    }
    assert.equal(src.telemetry.counts.oversize, 1);
    const text = await ctx.metrics.metrics();
    assert.match(text, new RegExp(`edgelog_file_lines_oversize_total\\{component="files",action="${oversize}"\\} 1`));
  });
}

test('binary garbage and invalid UTF-8 pass through byte-exact', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'bin.log');
  const data = Buffer.concat([
    Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x0a]), // invalid UTF-8 + NUL
    Buffer.from([0xed, 0xa0, 0x80, 0x0d, 0x0a]), // lone surrogate, CRLF
    randomBytes(50_000), Buffer.from([0x0a]),
    Buffer.from('plain text\n'),
  ]);
  writeFileSync(log, data);
  const src = makeSource(testConfig({ include: [log] }), makeCtx(join(dir, 'data')), t);
  const c = new Collector();
  await src.start(c);
  const want = expectedLines(data);
  await waitFor(() => c.records.length === want.length, `${want.length} records`);
  c.records.forEach((r, i) => assert.ok(r.body.equals(want[i]!), `record ${i}`));
});

test('a 10 MB line does not block lines of other files or the lines after it', async (t) => {
  const dir = await tempDir(t);
  const big = join(dir, 'big.log');
  const small = join(dir, 'small.log');
  writeFileSync(big, Buffer.concat([Buffer.alloc(10 * 1024 * 1024, 0x41), Buffer.from('\nafter big\n')]));
  writeFileSync(small, 'small 1\n');
  const src = makeSource(testConfig({ include: [join(dir, '*.log')] }), makeCtx(join(dir, 'data')), t);
  // a slow downstream: every batch takes a tick, so the big file cannot read ahead in one go
  const c = new Collector();
  const slow = { push: async (b: Parameters<Collector['push']>[0]) => { await new Promise((r) => setImmediate(r)); await c.push(b); } };
  await src.start(slow);
  await waitFor(() => c.bodies(small).includes('small 1'), 'small file line');
  appendFileSync(small, 'small 2\n');
  await waitFor(() => c.bodies(small).includes('small 2'), 'small file keeps flowing');
  await waitFor(() => c.bodies(big).includes('after big'), 'line after the 10 MB line');
  const pieces = c.records.filter((r) => r.stream === big).slice(0, -1);
  assert.equal(pieces.reduce((n, r) => n + r.body.length, 0), 10 * 1024 * 1024);
  assert.ok(pieces.every((r) => r.body.length <= 102400));
});

test('metrics: read vs acked bytes, checkpoint lag, series removed when a file is let go', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'a.log');
  writeFileSync(log, 'x1\nx2\nx3\n');
  const ctx = makeCtx(join(dir, 'data'));
  const src = makeSource(testConfig({ include: [log], rotate_wait: '50ms' }), ctx, t);
  const c = new Collector('hold');
  await src.start(c);
  await waitFor(() => c.records.length === 3, 'records');
  const label = `component="files",path="${log}"`;
  await waitFor(async () => (await ctx.metrics.metrics()).includes(`edgelog_file_checkpoint_lag_bytes{${label}} 9`), 'lag 9 before acks');
  let text = await ctx.metrics.metrics();
  assert.match(text, new RegExp(`edgelog_file_read_bytes_total\\{${escape(label)}\\} 9`));
  assert.match(text, /edgelog_source_records_total\{component="files"\} 3/);
  assert.match(text, /edgelog_source_bytes_total\{component="files"\} 6/);
  c.ackAll();
  await waitFor(async () => (await ctx.metrics.metrics()).includes(`edgelog_file_checkpoint_lag_bytes{${label}} 0`), 'lag 0 after acks');
  text = await ctx.metrics.metrics();
  assert.match(text, new RegExp(`edgelog_file_acked_bytes_total\\{${escape(label)}\\} 9`));
  unlinkSync(log);
  await waitFor(() => src.openFiles === 0, 'file let go');
  text = await ctx.metrics.metrics();
  assert.ok(!text.includes(`path="${log}"`), 'per-path series removed');
  assert.match(text, /edgelog_file_rotations_total\{component="files",kind="delete"\} 1/);
});

test('max_open_files defers extra files until one is let go', async (t) => {
  const dir = await tempDir(t);
  for (const n of ['a', 'b', 'c']) writeFileSync(join(dir, `${n}.log`), `${n}\n`);
  const src = makeSource(testConfig({ include: [join(dir, '*.log')], max_open_files: 2, rotate_wait: '50ms' }), makeCtx(join(dir, 'data')), t);
  const c = new Collector();
  await src.start(c);
  await waitFor(() => c.records.length === 2, 'two files');
  assert.equal(src.openFiles, 2);
  const first = c.records[0]!.stream;
  unlinkSync(first);
  await waitFor(() => c.records.length === 3, 'third file after one was let go');
  assert.deepEqual(c.bodies().sort(), ['a', 'b', 'c']);
});

test('remove_after deletes a file once read, acknowledged and idle', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'a.log');
  writeFileSync(log, 'r1\nr2\n');
  const src = makeSource(testConfig({ include: [log], remove_after: '100ms' }), makeCtx(join(dir, 'data')), t);
  const c = new Collector();
  await src.start(c);
  await waitFor(() => c.records.length === 2, 'records');
  await waitFor(() => { try { statSync(log); return false; } catch { return true; } }, 'file removed');
});

test('config: defaults, durations and sizes, errors name the key path', () => {
  const cfg = fileSource.validate({ include: ['/var/log/*.log'], idle_flush: '2s', read_chunk_bytes: '128KiB' }, 'sources.app');
  assert.equal(cfg.idle_flush_ms, 2000);
  assert.equal(cfg.read_chunk_bytes, 131072);
  assert.equal(cfg.max_line_bytes, 102400);
  assert.equal(cfg.start_at, 'beginning');
  assert.equal(cfg.oversize, 'split');
  assert.equal(cfg.fingerprint_bytes, 256);
  const bad: [unknown, string][] = [
    [{}, 'sources.app.include'],
    [{ include: ['relative/*.log'] }, 'sources.app.include[0]'],
    [{ include: ['/x'], start_at: 'middle' }, 'sources.app.start_at'],
    [{ include: ['/x'], oversize: 'drop' }, 'sources.app.oversize'],
    [{ include: ['/x'], max_line_bytes: 'huge' }, 'sources.app.max_line_bytes'],
    [{ include: ['/x'], globb: 1 }, 'sources.app.globb'],
  ];
  for (const [raw, path] of bad) {
    assert.throws(() => fileSource.validate(raw, 'sources.app'), (e: unknown) => e instanceof ConfigError && e.path === path, path);
  }
  assert.equal(fileSource.kind, 'source');
  assert.equal(fileSource.type, 'file');
});

function escape(s: string): string { return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'); }

test('stop() returns while the downstream is blocked; the next run re-reads what was not acknowledged', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'a.log');
  writeFileSync(log, 'b1\nb2\npartial');
  const cfg = testConfig({ include: [log], idle_flush: '1h' });
  let release: () => void = () => {};
  const got: string[] = [];
  const blocked = { push: (b: { body: Buffer }[]) => { for (const r of b) got.push(r.body.toString()); return new Promise<void>((r) => { release = r; }); } };
  const a = makeSource(cfg, makeCtx(join(dir, 'data')), t);
  await a.start(blocked as never);
  await waitFor(() => got.length === 2, 'first batch');
  await a.stop(); // must not hang on the blocked push
  release();
  await a.drain(0);
  const b = makeSource(cfg, makeCtx(join(dir, 'data')), t);
  const c = new Collector();
  await b.start(c);
  await waitFor(() => c.records.length === 2, 'terminated lines again');
  await b.stop(); // ships the unterminated last line
  await waitFor(() => c.records.length === 3, 'all lines again');
  assert.deepEqual(c.bodies(), ['b1', 'b2', 'partial']);
});

test('without inotify events the periodic glob and stat still find new files and new lines', async (t) => {
  const dir = await tempDir(t);
  // Simulate a filesystem where inotify says nothing (NFS, some bind mounts): no directory watches at all.
  const sync = DirWatchSet.prototype.sync;
  DirWatchSet.prototype.sync = function () {};
  t.after(() => { DirWatchSet.prototype.sync = sync; });
  writeFileSync(join(dir, 'a.log'), 'a1\n');
  const src = makeSource(testConfig({ include: [join(dir, '*.log')], glob_interval: '100ms' }), makeCtx(join(dir, 'data')), t);
  const c = new Collector();
  await src.start(c);
  await waitFor(() => c.records.length === 1, 'initial line');
  appendFileSync(join(dir, 'a.log'), 'a2\n');
  writeFileSync(join(dir, 'b.log'), 'b1\n');
  await waitFor(() => c.records.length === 3, 'lines found by polling');
  assert.deepEqual(c.bodies().sort(), ['a1', 'a2', 'b1']);
});

test('ignore_older skips files not modified recently', async (t) => {
  const dir = await tempDir(t);
  writeFileSync(join(dir, 'old.log'), 'stale\n');
  const past = new Date(Date.now() - 3_600_000);
  utimesSync(join(dir, 'old.log'), past, past);
  writeFileSync(join(dir, 'new.log'), 'fresh\n');
  const src = makeSource(testConfig({ include: [join(dir, '*.log')], ignore_older: '10m' }), makeCtx(join(dir, 'data')), t);
  const c = new Collector();
  await src.start(c);
  await waitFor(() => c.records.length === 1, 'fresh file');
  await afterScans(src);
  assert.deepEqual(c.bodies(), ['fresh']);
});
