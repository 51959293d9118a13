// The checkpoint store on its own: what load accepts and sets aside, when a
// flush writes (only when something changed; concurrent flushes share one
// write), that a failed write is retried once possible, that forget and delete
// mark the set dirty only when they change it, and that no file descriptor
// is left open per write.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointStore, type CheckpointEntry } from '../../../agent/sources/file/checkpoint-store.ts';
import { CheckpointError } from '../../../agent/core/errors.ts';
import type { Logger } from '../../../agent/observe/log.ts';
import { tempDir } from './helpers.ts';

function capture(): { log: Logger; warnings: Array<[string, Record<string, unknown> | undefined]> } {
  const warnings: Array<[string, Record<string, unknown> | undefined]> = [];
  const log: Logger = { debug() {}, info() {}, warn(m, f) { warnings.push([m, f]); }, error() {}, child() { return log; } };
  return { log, warnings };
}

const entry = (id: string, offset: number, seen = 0, ino = '2'): CheckpointEntry =>
  ({ path: `/var/log/${id}.log`, dev: '1', ino, fingerprint: 'abcd', fp_len: 64, stream_id: id, offset, seen_ms: seen });

const onDisk = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as { version: number; checkpoints: CheckpointEntry[] };

test('flush writes only when something changed, atomically, mode 0600, and counts its writes', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'sub', 'ck.json');
  const s = new CheckpointStore(file, capture().log);
  assert.equal(s.writes, 0);
  assert.equal(await s.flush(), false, 'nothing to write yet');
  assert.equal(existsSync(file), false);
  s.set(entry('a', 10));
  assert.equal(await s.flush(), true);
  assert.equal(s.writes, 1);
  assert.deepEqual(onDisk(file), { version: 1, checkpoints: [entry('a', 10)] });
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(join(dir, 'sub')), ['ck.json'], 'no temp file left');
  assert.equal(await s.flush(), false, 'unchanged: no second write');
  assert.equal(s.writes, 1);
  s.markDirty();
  assert.equal(await s.flush(), true);
  assert.equal(s.writes, 2);
});

test('concurrent flushes share one write; a change made meanwhile is written by one more', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'ck.json');
  const s = new CheckpointStore(file, capture().log);
  s.set(entry('a', 1));
  const [x, y] = await Promise.all([s.flush(), s.flush()]);
  assert.deepEqual([x, y], [true, false]);
  assert.equal(s.writes, 1);
  s.set(entry('a', 2));
  const first = s.flush();
  s.set(entry('a', 3)); // changed while the first write is in flight
  const second = s.flush();
  assert.deepEqual(await Promise.all([first, second]), [true, true]);
  assert.equal(s.writes, 3);
  assert.equal(onDisk(file).checkpoints[0]!.offset, 3);
});

test('a failed write throws CheckpointError, keeps the change, and is written once the directory is usable', async (t) => {
  const dir = await tempDir(t);
  writeFileSync(join(dir, 'blocker'), 'a file where the directory should be');
  const file = join(dir, 'blocker', 'ck.json');
  const s = new CheckpointStore(file, capture().log);
  s.set(entry('a', 5));
  await assert.rejects(s.flush(), (e: unknown) => e instanceof CheckpointError && e.code === 'EDGELOG_CHECKPOINT' && e.retriable && e.message.includes(file));
  assert.equal(s.writes, 0);
  rmSync(join(dir, 'blocker'));
  assert.equal(await s.flush(), true, 'still dirty: retried');
  assert.equal(onDisk(file).checkpoints[0]!.offset, 5);
});

/** Counts FileHandles Node had to close on garbage collection (each one a descriptor the code leaked). */
function gcClosedHandles(t: { after: (fn: () => void) => void }): () => number {
  let n = 0;
  const on = (w: Error) => { if (/Closing file descriptor \d+ on garbage collection/.test(w.message)) n++; };
  process.on('warning', on);
  t.after(() => { process.off('warning', on); });
  return () => n;
}

test('no file descriptor is left open per write', async (t) => {
  const dir = await tempDir(t);
  const s = new CheckpointStore(join(dir, 'ck.json'), capture().log);
  const leaked = gcClosedHandles(t);
  const fds = () => readdirSync('/proc/self/fd').length;
  s.set(entry('a', 0));
  await s.flush();
  const before = fds();
  let most = before;
  for (let i = 1; i <= 30; i++) { s.set(entry('a', i)); await s.flush(); most = Math.max(most, fds()); }
  assert.ok(most <= before + 1, `fds ${before} -> up to ${most}`);
  assert.equal(leaked(), 0);
});

test('a write that fails midway (disk full, 64 KiB tmpfs) leaves no temp file and no open descriptor, and succeeds once space frees', { timeout: 60_000 }, async (t) => {
  if (process.getuid?.() !== 0) { t.skip('needs root to mount a tmpfs'); return; }
  const dir = await tempDir(t);
  const mnt = join(dir, `mnt-${process.pid}`);
  mkdirSync(mnt);
  try { execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]); } catch (e) { t.skip(`cannot mount tmpfs: ${(e as Error).message}`); return; }
  try {
    const leaked = gcClosedHandles(t);
    const s = new CheckpointStore(join(mnt, 'ck.json'), capture().log);
    for (let i = 0; i < 1500; i++) s.set(entry(`stream-${i}`, i)); // about 200 KB of JSON
    const fds = readdirSync('/proc/self/fd').length;
    await assert.rejects(s.flush(), (e: unknown) => e instanceof CheckpointError && /ENOSPC/.test(String((e as Error & { cause?: unknown }).cause)));
    assert.deepEqual(readdirSync(mnt), [], 'the temp file was removed');
    assert.equal(readdirSync('/proc/self/fd').length, fds, 'its descriptor was closed');
    for (let i = 100; i < 1500; i++) s.delete(`stream-${i}`);
    assert.equal(await s.flush(), true);
    assert.equal(onDisk(join(mnt, 'ck.json')).checkpoints.length, 100);
    assert.equal(leaked(), 0);
  } finally {
    execFileSync('umount', [mnt]);
  }
});

test('load: missing file is empty; entries get a fresh seen time; malformed entries are skipped', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'ck.json');
  const s = new CheckpointStore(file, capture().log);
  await s.load(5);
  assert.equal(s.size, 0);
  const good = entry('good', 42, 1);
  const bad: unknown[] = [
    null, 'x', { ...good, stream_id: 'neg', offset: -1 }, { ...good, stream_id: 'str-offset', offset: '1' },
    { ...good, stream_id: 'no-path', path: 1 }, { ...good, stream_id: 'no-dev', dev: 1 }, { ...good, stream_id: 'no-ino', ino: 2 },
    { ...good, stream_id: 'no-fp', fingerprint: null }, { ...good, stream_id: 'no-fplen', fp_len: '64' }, { ...good, stream_id: 7 },
  ];
  writeFileSync(file, JSON.stringify({ version: 1, checkpoints: [good, ...bad, { ...good, stream_id: 'zero', offset: 0 }] }));
  const r = new CheckpointStore(file, capture().log);
  await r.load(1000);
  assert.deepEqual([...r.all()].map((e) => e.stream_id).sort(), ['good', 'zero']);
  assert.deepEqual(r.get('good'), { ...good, seen_ms: 1000 });
  assert.deepEqual(r.byInode('1', '2').map((e) => e.stream_id).sort(), ['good', 'zero']);
  assert.deepEqual(r.byInode('1', '3'), []);
  assert.equal(await r.flush(), false, 'loading does not make the set dirty');
});

test('load: an unreadable or foreign file is set aside with a warning, never fatal; a file that cannot be read at all is a CheckpointError', async (t) => {
  const dir = await tempDir(t);
  for (const [name, text] of [['garbage', '{not json'], ['version', JSON.stringify({ version: 2, checkpoints: [] })], ['shape', JSON.stringify({ version: 1, checkpoints: {} })]] as const) {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, text);
    const { log, warnings } = capture();
    const s = new CheckpointStore(file, log);
    await s.load(77);
    assert.equal(s.size, 0, name);
    assert.equal(existsSync(file), false, `${name}: moved away`);
    assert.equal(readFileSync(`${file}.corrupt-77`, 'utf8'), text, `${name}: kept for inspection`);
    assert.equal(warnings.length, 1, name);
    assert.match(warnings[0]![0], /checkpoint file unreadable/);
    assert.equal(warnings[0]![1]!.aside, `${file}.corrupt-77`);
  }
  const asDir = join(dir, 'dir.json');
  mkdirSync(asDir);
  await assert.rejects(new CheckpointStore(asDir, capture().log).load(1), (e: unknown) => e instanceof CheckpointError && /cannot read checkpoint file/.test((e as Error).message));
});

test('forget drops entries unseen for longer than the limit (not exactly at it) and marks dirty only when it dropped one; delete likewise', async (t) => {
  const dir = await tempDir(t);
  const s = new CheckpointStore(join(dir, 'ck.json'), capture().log);
  s.set(entry('old', 1, 0));
  s.set(entry('edge', 2, 100));
  s.set(entry('new', 3, 500));
  await s.flush();
  assert.equal(s.forget(1100, 1000), 1);
  assert.deepEqual([...s.all()].map((e) => e.stream_id).sort(), ['edge', 'new']);
  assert.equal(await s.flush(), true);
  assert.equal(s.forget(1100, 1000), 0);
  assert.equal(await s.flush(), false, 'nothing forgotten: not dirty');
  s.delete('missing');
  assert.equal(await s.flush(), false, 'deleting an unknown id: not dirty');
  s.delete('edge');
  assert.equal(await s.flush(), true);
  assert.deepEqual(onDisk(join(dir, 'ck.json')).checkpoints.map((e) => e.stream_id), ['new']);
});
