// Checkpoints: advance only over the acknowledged prefix, survive restart
// (by identity, even after a rename), reject a reused inode, write atomically.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Collector, makeCtx, makeSource, tempDir, testConfig, waitFor } from './helpers.ts';
import { afterCheckpointFlushes, afterScans } from './progress.ts';
import type { AckGroup } from '../../../agent/core/ack.ts';
import { CheckpointStore } from '../../../agent/sources/file/checkpoint-store.ts';
import { silentLogger } from '../../../agent/observe/log.ts';

interface Ck { path: string; dev: string; ino: string; fingerprint: string; fp_len: number; stream_id: string; offset: number }
function readCk(file: string): Ck[] {
  if (!existsSync(file)) return [];
  return (JSON.parse(readFileSync(file, 'utf8')) as { checkpoints: Ck[] }).checkpoints;
}

function lines(from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += `line ${String(i).padStart(5, '0')} ${'x'.repeat(i % 30)}\n`;
  return s;
}

test('checkpoint advances only over the acknowledged prefix of groups', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'a.log');
  writeFileSync(log, lines(0, 400));
  const size = statSync(log).size;
  const src = makeSource(testConfig({ include: [log], read_chunk_bytes: 512 }), makeCtx(join(dir, 'data')), t);
  const c = new Collector('hold');
  await src.start(c);
  await waitFor(() => c.records.length === 400, 'all records');
  const groups: AckGroup[] = [];
  for (const r of c.records) if (groups.at(-1) !== r.ack) groups.push(r.ack);
  assert.ok(groups.length >= 10, `many chunks (${groups.length})`);
  // ack everything except group 3, out of order (last groups first)
  const hole = groups[3]!;
  for (const g of [...groups].reverse()) if (g !== hole) c.ackWhere((r) => r.ack === g);
  await waitFor(() => readCk(src.checkpointFile)[0]?.offset === groups[2]!.token, 'checkpoint at the end of group 2');
  // it must stay there while group 3 is pending, across checkpoint flushes
  await afterCheckpointFlushes(src);
  assert.equal(readCk(src.checkpointFile)[0]!.offset, groups[2]!.token);
  // the token of a group is the offset just after its last line
  const lastOf2 = c.records.filter((r) => r.ack === groups[2]).at(-1)!;
  assert.equal(groups[2]!.token, lastOf2.offset + lastOf2.body.length + 1);
  c.ackAll();
  await waitFor(() => readCk(src.checkpointFile)[0]?.offset === size, 'checkpoint at EOF');
});

test('restart resumes exactly from the checkpoint: no loss, duplicates only for unacked records', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'a.log');
  writeFileSync(log, lines(0, 300));
  const cfg = testConfig({ include: [join(dir, '*.log')], read_chunk_bytes: 1024 });
  const dataDir = join(dir, 'data');

  const a = makeSource(cfg, makeCtx(dataDir), t);
  const ca = new Collector('hold');
  await a.start(ca);
  await waitFor(() => ca.records.length === 300, 'first run reads all');
  // acknowledge the first 5 groups only, then "crash" (stop without the rest acked)
  const groups: AckGroup[] = [];
  for (const r of ca.records) if (groups.at(-1) !== r.ack) groups.push(r.ack);
  const acked = new Set(groups.slice(0, 5));
  ca.ackWhere((r) => acked.has(r.ack));
  await a.stop();
  await a.drain(50); // the rest never gets acked
  const committed = readCk(a.checkpointFile)[0]!.offset;
  assert.equal(committed, groups[4]!.token);
  appendFileSync(log, lines(300, 350)); // written while the agent was down

  const b = makeSource(cfg, makeCtx(dataDir), t);
  const cb = new Collector();
  await b.start(cb);
  const ackedCount = ca.records.filter((r) => acked.has(r.ack)).length;
  await waitFor(() => cb.records.length === 350 - ackedCount, 'second run reads the rest');
  assert.equal(cb.records[0]!.offset, committed);
  assert.equal(cb.records[0]!.streamId, ca.records[0]!.streamId);
  const delivered = [...ca.records.filter((r) => acked.has(r.ack)), ...cb.records].map((r) => r.body.toString());
  assert.deepEqual(delivered, lines(0, 350).split('\n').slice(0, -1));
  // duplicates: exactly the records the first run emitted but never got acked
  const dup = ca.records.filter((r) => !acked.has(r.ack)).length;
  assert.equal(ca.records.length + cb.records.length - 350, dup);
});

test('a file renamed while the agent was down is found again by identity', async (t) => {
  const dir = await tempDir(t);
  writeFileSync(join(dir, 'a.log'), lines(0, 20));
  const cfg = testConfig({ include: [join(dir, '*.log')] });
  const dataDir = join(dir, 'data');
  const a = makeSource(cfg, makeCtx(dataDir), t);
  const ca = new Collector();
  await a.start(ca);
  await waitFor(() => ca.records.length === 20, 'first run');
  await a.stop();
  await a.drain(1000);
  renameSync(join(dir, 'a.log'), join(dir, 'b.log'));
  appendFileSync(join(dir, 'b.log'), lines(20, 25));
  const b = makeSource(cfg, makeCtx(dataDir), t);
  const cb = new Collector();
  await b.start(cb);
  await waitFor(() => cb.records.length >= 5, 'second run');
  await afterScans(b); // rescans ran: nothing re-read under the old or new name
  assert.deepEqual(cb.bodies(), lines(20, 25).split('\n').slice(0, -1));
  assert.equal(cb.records[0]!.stream, join(dir, 'b.log'));
  assert.equal(cb.records[0]!.streamId, ca.records[0]!.streamId);
});

test('a checkpoint for the same dev+inode but other content (inode reuse) is not applied', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'a.log');
  writeFileSync(log, lines(0, 10));
  const st = statSync(log, { bigint: true });
  const ckFile = join(dir, 'ck.json');
  // a checkpoint left by an earlier file that had this inode: offset 100, other first bytes
  writeFileSync(ckFile, JSON.stringify({ version: 1, checkpoints: [{
    path: join(dir, 'gone.log'), dev: String(st.dev), ino: String(st.ino), fingerprint: '0123456789abcdef', fp_len: 64,
    stream_id: `${st.dev}:${st.ino}:0123456789abcdef`, offset: 100, seen_ms: 0,
  }] }));
  const src = makeSource(testConfig({ include: [log], checkpoint_path: ckFile }), makeCtx(join(dir, 'data')), t);
  const c = new Collector();
  await src.start(c);
  await waitFor(() => c.records.length === 10, 'all lines from 0');
  assert.equal(c.records[0]!.offset, 0);
  assert.notEqual(c.records[0]!.streamId, `${st.dev}:${st.ino}:0123456789abcdef`);
  await waitFor(() => readCk(ckFile).length === 1 && readCk(ckFile)[0]!.offset === statSync(log).size, 'stale entry replaced');
});

test('a file shorter than fingerprint_bytes keeps its checkpoint as it grows', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'a.log');
  writeFileSync(log, 'hi\n');
  const cfg = testConfig({ include: [log] });
  const dataDir = join(dir, 'data');
  const a = makeSource(cfg, makeCtx(dataDir), t);
  const ca = new Collector();
  await a.start(ca);
  await waitFor(() => ca.records.length === 1, 'first line');
  await a.stop();
  await a.drain(1000);
  assert.equal(readCk(a.checkpointFile)[0]!.fp_len, 3);
  appendFileSync(log, lines(0, 20)); // now longer than 256 bytes
  const b = makeSource(cfg, makeCtx(dataDir), t);
  const cb = new Collector();
  await b.start(cb);
  await waitFor(() => cb.records.length === 20, 'appended lines');
  assert.equal(cb.records[0]!.offset, 3);
  assert.equal(cb.records[0]!.streamId, ca.records[0]!.streamId);
  // re-fingerprinted over the full 256 bytes, same stream id
  await waitFor(() => readCk(b.checkpointFile)[0]?.fp_len === 256, 'fingerprint widened');
  assert.equal(readCk(b.checkpointFile)[0]!.stream_id, ca.records[0]!.streamId);
});

test('checkpoint store writes atomically and survives a corrupt file', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'ck', 'x.json');
  const s = new CheckpointStore(file, silentLogger);
  await s.load(Date.now());
  s.set({ path: '/p', dev: '1', ino: '2', fingerprint: 'ab', fp_len: 2, stream_id: '1:2:ab', offset: 7, seen_ms: 0 });
  await Promise.all([s.flush(), s.flush(), s.flush()]);
  assert.deepEqual(readdirSync(join(dir, 'ck')), ['x.json']); // no temp file left behind
  assert.equal(readCk(file)[0]!.offset, 7);
  writeFileSync(file, '{"version":1,"checkp');
  const s2 = new CheckpointStore(file, silentLogger);
  await s2.load(Date.now());
  assert.equal(s2.size, 0);
  assert.equal(readdirSync(join(dir, 'ck')).filter((f) => f.includes('.corrupt-')).length, 1);
});

test('checkpoints of files gone for a while are forgotten', async (t) => {
  const dir = await tempDir(t);
  const s = new CheckpointStore(join(dir, 'x.json'), silentLogger);
  s.set({ path: '/p', dev: '1', ino: '2', fingerprint: 'ab', fp_len: 2, stream_id: 'old', offset: 7, seen_ms: 1000 });
  s.set({ path: '/q', dev: '1', ino: '3', fingerprint: 'cd', fp_len: 2, stream_id: 'fresh', offset: 7, seen_ms: 9000 });
  assert.equal(s.forget(10_000, 5000), 1);
  assert.equal(s.get('old'), undefined);
  assert.ok(s.get('fresh'));
});
