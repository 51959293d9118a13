// The tailer's time-based decisions at their exact boundaries: close_idle
// (let an idle, acknowledged file go while others wait for a handle),
// remove_after, idle_flush, rotate_wait and the fingerprint check once per
// glob_interval. The clock is the test's (Date mocked, timers real), the
// tailer is driven step by step (tailer-harness.ts), so "at 999 ms not yet, at
// 1000 ms yes" is exact however loaded the machine is. glob_interval is an
// hour, so the wait atEof returns is the deadline it computed, not the poll.

import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir, testConfig } from './helpers.ts';
import { Recorder, TestHost, openTailer, readToEof, recordingLogger, steps } from './tailer-harness.ts';
import type { Tailer } from '../../../agent/sources/file/tailer.ts';

const HOUR = 3_600_000;
const T0 = 1_700_000_000_000;

interface Setup { host: TestHost; tailer: Tailer; log: string; c: Recorder }

/** A file with `content`, its tailer read to EOF at T0 (clock frozen there); `raw` overrides the config. */
async function setup(t: TestContext, content: string, raw: Record<string, unknown>, mode: 'immediate' | 'hold' = 'immediate', logger?: Parameters<typeof recordingLogger>[0]): Promise<Setup> {
  // Once per test (a second setup in the same test goes on from the clock's current time).
  try { t.mock.timers.enable({ apis: ['Date'], now: T0 }); } catch { /* already enabled */ }
  const dir = await tempDir(t);
  const log = join(dir, 'app.log');
  writeFileSync(log, content);
  const c = new Recorder(mode);
  const cfg = testConfig({ include: [log], glob_interval: HOUR, idle_flush: HOUR, rotate_wait: HOUR, close_idle: 0, ...raw });
  const host = new TestHost(cfg, dir, c, logger ? recordingLogger(logger) : undefined);
  const tailer = await openTailer(host, log);
  t.after(() => tailer.release('test end'));
  await readToEof(tailer);
  return { host, tailer, log, c };
}

const atEof = (s: Setup) => steps(s.tailer).atEof();
const tick = (t: TestContext, ms: number) => t.mock.timers.tick(ms);

test('close_idle: an idle, acknowledged file is let go exactly at close_idle when a file waits, and not before', async (t) => {
  const s = await setup(t, 'a\nb\n', { close_idle: 1000 });
  s.host.waitingFiles = 1;
  assert.deepEqual(s.c.bodies(), ['a', 'b']);
  tick(t, 400);
  assert.equal(await atEof(s), 600, 'it looks again when close_idle falls due');
  assert.deepEqual(s.host.releases, []);
  tick(t, 599);
  assert.equal(await atEof(s), 1);
  assert.deepEqual(s.host.releases, []);
  tick(t, 1);
  assert.equal(await atEof(s), 0);
  assert.deepEqual(s.host.releases, ['idle']);
  assert.ok(s.tailer.isReleased);
});

test('close_idle: without a waiting file, or with close_idle 0, an idle file keeps its handle', async (t) => {
  const s = await setup(t, 'a\n', { close_idle: 1000 });
  tick(t, 10 * 1000);
  assert.equal(await atEof(s), HOUR, 'nothing due: it sleeps a glob interval');
  assert.deepEqual(s.host.releases, [], 'nobody waits');

  const off = await setup(t, 'a\n', { close_idle: 0 });
  off.host.waitingFiles = 1;
  tick(t, 10 * 1000);
  assert.equal(await atEof(off), HOUR);
  assert.deepEqual(off.host.releases, [], 'close_idle 0 is off');
});

test('close_idle: a file with unacknowledged records keeps its handle while files wait (letting it go would re-read them)', async (t) => {
  const s = await setup(t, 'a\nb\n', { close_idle: 1000 }, 'hold');
  s.host.waitingFiles = 1;
  tick(t, 10 * 1000);
  assert.equal(await atEof(s), HOUR);
  assert.deepEqual(s.host.releases, []);
  s.c.ackAll();
  assert.equal(await atEof(s), 0, 'acknowledged and long idle: let go at once');
  assert.deepEqual(s.host.releases, ['idle']);
});

test('close_idle: a file still empty is let go exactly at close_idle when a file waits, kept otherwise', async (t) => {
  const s = await setup(t, '', { close_idle: 1000, idle_flush: 200 });
  assert.equal(s.tailer.gen, null, 'nothing to fingerprint yet');
  s.host.waitingFiles = 1;
  tick(t, 400);
  assert.equal(await atEof(s), 600);
  assert.deepEqual(s.host.releases, []);
  tick(t, 600);
  assert.equal(await atEof(s), 0);
  assert.deepEqual(s.host.releases, ['idle']);

  // Nobody waits (or close_idle is off): the empty file stays open, past idle_flush too, without an error.
  for (const [closeIdle, waiting] of [[1000, 0], [0, 1]] as const) {
    const keep = await setup(t, '', { close_idle: closeIdle, idle_flush: 200 });
    keep.host.waitingFiles = waiting;
    tick(t, 10 * 1000);
    assert.equal(await atEof(keep), HOUR, `close_idle ${closeIdle}, ${waiting} waiting`);
    assert.deepEqual(keep.host.releases, []);
    assert.equal(keep.host.telemetry.counts.errors, 0);
  }
});

test('remove_after: a read and acknowledged file is deleted exactly at remove_after, and not before', async (t) => {
  const logged: Array<{ msg: string; fields: Record<string, unknown> }> = [];
  const s = await setup(t, 'a\nb\n', { remove_after: 1000 }, 'immediate', logged);
  tick(t, 400);
  assert.equal(await atEof(s), 600);
  assert.ok(existsSync(s.log));
  tick(t, 600);
  assert.equal(await atEof(s), 0);
  assert.equal(existsSync(s.log), false, 'removed');
  assert.deepEqual(s.host.releases, ['removed']);
  assert.ok(logged.some((l) => l.msg.startsWith('removed fully read file') && l.fields.path === s.log), 'the removal is logged');
  assert.deepEqual(s.c.ended, [s.c.records[0]!.streamId], 'its stream ended');
});

test('the shortest settings work: close_idle and remove_after of 1 ms', async (t) => {
  const idle = await setup(t, 'a\n', { close_idle: 1 });
  idle.host.waitingFiles = 1;
  const empty = await setup(t, '', { close_idle: 1 });
  empty.host.waitingFiles = 1;
  const removed = await setup(t, 'a\n', { remove_after: 1 });
  tick(t, 1);
  for (const s of [idle, empty, removed]) assert.equal(await atEof(s), 0);
  assert.deepEqual([idle.host.releases, empty.host.releases, removed.host.releases], [['idle'], ['idle'], ['removed']]);
});

test('a file truncated to empty is not let go at once: the truncation counts as activity', async (t) => {
  const s = await setup(t, 'a\n', { close_idle: 1000 });
  tick(t, 5000);
  writeFileSync(s.log, '');
  assert.equal(await atEof(s), 0);
  assert.equal(s.host.telemetry.counts.truncations, 1);
  await readToEof(s.tailer);
  s.host.waitingFiles = 1;
  assert.equal(await atEof(s), 1000);
  assert.deepEqual(s.host.releases, []);
});

test('idle_flush: an unterminated last line ships exactly at idle_flush; with nothing held the tailer sleeps a glob interval', async (t) => {
  const s = await setup(t, 'a\npartial', { idle_flush: 1000 });
  assert.deepEqual(s.c.bodies(), ['a']);
  tick(t, 400);
  assert.equal(await atEof(s), 600);
  assert.deepEqual(s.c.bodies(), ['a']);
  tick(t, 600);
  await atEof(s);
  assert.deepEqual(s.c.bodies(), ['a', 'partial']);
  // A complete line read since, nothing held: no idle_flush deadline, the tailer sleeps a glob interval.
  writeFileSync(s.log, 'b\n', { flag: 'a' });
  await readToEof(s.tailer);
  assert.deepEqual(s.c.bodies(), ['a', 'partial', 'b']);
  tick(t, 400);
  assert.equal(await atEof(s), HOUR);
  // A one-byte partial line, read now: idle counts from this read, not from the first.
  writeFileSync(s.log, 'c', { flag: 'a' });
  await readToEof(s.tailer);
  tick(t, 400);
  assert.equal(await atEof(s), 600);
  assert.deepEqual(s.c.bodies(), ['a', 'partial', 'b']);
  tick(t, 600);
  await atEof(s);
  assert.deepEqual(s.c.bodies(), ['a', 'partial', 'b', 'c']);
});

test('rotate_wait: a file renamed away is drained and let go exactly at rotate_wait, and not before', async (t) => {
  const s = await setup(t, 'a\n', { rotate_wait: 1000 });
  renameSync(s.log, `${s.log}.1`);
  assert.equal(await atEof(s), 0, 'rotation seen: read once more at once');
  assert.equal(s.host.rescans, 1);
  assert.equal(s.host.telemetry.counts.rotations, 1);
  tick(t, 400);
  assert.equal(await atEof(s), 600);
  assert.deepEqual(s.host.releases, []);
  tick(t, 600);
  assert.equal(await atEof(s), 0);
  assert.deepEqual(s.host.releases, ['rotated']);
});

test('content rewritten in place is found by the fingerprint check, made once per glob_interval exactly', async (t) => {
  // Longer than fingerprint_bytes: the identity is the full 256-byte prefix.
  const s = await setup(t, `${'a'.repeat(299)}\n`, { glob_interval: 1000 });
  await atEof(s); // first look: fingerprint checked (matches)
  const fh = await open(s.log, 'r+');
  await fh.write(Buffer.from('b'.repeat(10)), 0, 10, 0); // same inode, same size, other first bytes
  await fh.close();
  tick(t, 999);
  await atEof(s);
  assert.equal(s.host.telemetry.counts.truncations, 0, 'not checked again within the interval');
  tick(t, 1);
  assert.equal(await atEof(s), 0);
  assert.equal(s.host.telemetry.counts.truncations, 1, 'checked at the interval: replaced');
});

test('a file truncated to fewer bytes than were read is a truncation even when its first bytes are the same', async (t) => {
  const header = `${'h'.repeat(299)}\n`;
  const s = await setup(t, `${header}old 1\nold 2\n`, { glob_interval: 1000 });
  await atEof(s);
  writeFileSync(s.log, `${header}n\n`);
  tick(t, 1000); // a fingerprint check is due, and it would match
  assert.equal(await atEof(s), 0);
  assert.equal(s.host.telemetry.counts.truncations, 1);
  await readToEof(s.tailer);
  assert.deepEqual(s.c.bodies().slice(3), [header.slice(0, -1), 'n']);
});

test('a short file replaced by longer content before the next read: the truncation is reported with the size read, the new content read whole', async (t) => {
  const logged: Array<{ msg: string; fields: Record<string, unknown> }> = [];
  const s = await setup(t, 'short\n', {}, 'immediate', logged);
  const next = 'other content, longer than the first\n';
  writeFileSync(s.log, next);
  await readToEof(s.tailer);
  assert.equal(s.host.telemetry.counts.truncations, 1);
  const line = logged.find((l) => l.msg.startsWith('file truncated'));
  assert.deepEqual(line?.fields, { path: s.log, offset: 'short\n'.length, size: statSync(s.log).size });
  assert.deepEqual(s.c.bodies(), ['short', next.slice(0, -1)]);
});

test('a deleted file is let go after rotate_wait; its checkpoint is dropped at once', async (t) => {
  const s = await setup(t, 'a\n', { rotate_wait: 1000 });
  assert.equal(s.host.store.size, 1);
  unlinkSync(s.log);
  assert.equal(await atEof(s), 0);
  tick(t, 1000);
  assert.equal(await atEof(s), 0);
  assert.deepEqual(s.host.releases, ['rotated']);
  assert.equal(s.host.store.size, 0);
});
