import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readdir, open, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, execFileSync } from 'node:child_process';
import { Registry } from '../../agent/observe/prometheus.ts';
import { DiskSpool, appendedBefore } from '../../agent/pipeline/spool/disk-spool.ts';
import { DiskFullError } from '../../agent/core/errors.ts';
import { HEADER_BYTES, encodeHeader } from '../../agent/pipeline/spool/format.ts';
import { defer, removeDir } from '../helpers/cleanup.ts';

const rec = (i: number, pad = 0) => Buffer.from(`r${i}:` + 'p'.repeat(pad));
const idOf = (b: Buffer) => Number(/^r(\d+):/.exec(b.toString('latin1'))![1]);

const opened: DiskSpool[] = [];
/** A temp dir removed after the test, once every spool opened through openSpool() is closed. */
async function tmp(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'edgelog-spool-'));
  // Deferred first (test/helpers/cleanup.ts): runs after a writer child is killed, and never fails the cleanup.
  defer(t, `close spools, remove ${d}`, async () => {
    try { for (const s of opened.splice(0)) await s.close(); } finally { await removeDir(d); }
  });
  return d;
}
async function openSpool(dir: string, opts: Parameters<typeof DiskSpool.open>[1]): Promise<DiskSpool> {
  const s = await DiskSpool.open(dir, opts);
  opened.push(s);
  return s;
}

/** Reads everything unread, acking each batch when `ack`. */
async function readAll(s: DiskSpool, ack = true, max = 100): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (;;) {
    const b = await s.read(max);
    if (!b) return out;
    out.push(...b.payloads);
    if (ack) s.ack(b.id);
  }
}

test('append then replay keeps order across segments and reopen resumes at the ack', async (t) => {
  const dir = await tmp(t);
  const reg = new Registry();
  let s = await openSpool(dir, { maxBytes: 1 << 20, segmentBytes: 8192, metrics: reg, name: 't' });
  for (let i = 0; i < 2000; i += 100) await s.append(Array.from({ length: 100 }, (_, k) => rec(i + k, (i + k) % 50)));
  assert.ok((await readdir(dir)).filter((n) => n.endsWith('.seg')).length > 5, 'several segments');
  // read 700 records, ack only the first 500
  const got: Buffer[] = [];
  const ids: number[] = [];
  while (got.length < 700) { const b = (await s.read(100))!; got.push(...b.payloads); ids.push(b.id); }
  const ackTo = Math.max(...ids.filter((id) => id <= 500));
  for (const id of ids) if (id <= ackTo) s.ack(id);
  assert.deepEqual(got.map(idOf), Array.from({ length: got.length }, (_, i) => i));
  assert.equal(s.ackedSeq, ackTo);
  await s.close();
  s = await openSpool(dir, { maxBytes: 1 << 20, segmentBytes: 8192 });
  assert.equal(s.unacked, 2000 - ackTo);
  const rest = await readAll(s);
  assert.deepEqual(rest.map(idOf), Array.from({ length: 2000 - ackTo }, (_, i) => ackTo + i));
  assert.equal(s.unacked, 0);
  // acked segments are deleted (only the active one may stay)
  await s.append([rec(2000)]);
  await s.close();
  const segs = (await readdir(dir)).filter((n) => n.endsWith('.seg'));
  assert.ok(segs.length <= 2, `acked segments deleted, left ${segs.join(',')}`);
  const text = await reg.metrics();
  assert.match(text, /edgelog_spool_records_total\{spool="t",op="append"\} 2000/);
  assert.match(text, new RegExp(`edgelog_spool_records_total\\{spool="t",op="replay"\\} ${got.length}`));
});

test('acks out of order only move the acked position over the acked prefix', async (t) => {
  const dir = await tmp(t);
  const s = await openSpool(dir, { maxBytes: 1 << 20, segmentBytes: 8192 });
  await s.append(Array.from({ length: 30 }, (_, i) => rec(i)));
  const a = (await s.read(10))!, b = (await s.read(10))!, c = (await s.read(10))!;
  s.ack(c.id); s.ack(b.id);
  assert.equal(s.ackedSeq, 0);
  s.ack(a.id);
  assert.equal(s.ackedSeq, 30);
});

test('a torn tail (short frame, CRC mismatch) is cut on open and counted', async (t) => {
  const dir = await tmp(t);
  let s = await openSpool(dir, { maxBytes: 1 << 20, segmentBytes: 64 * 1024 });
  await s.append(Array.from({ length: 50 }, (_, i) => rec(i, 20)));
  await s.close();
  const seg = join(dir, (await readdir(dir)).find((n) => n.endsWith('.seg'))!);
  const good = (await stat(seg)).size;
  // a frame whose length promises more than was written (torn write)
  const fh = await open(seg, 'a');
  await fh.write(Buffer.from([0, 0, 1, 0, 1, 2, 3, 4, 9, 9, 9]));
  await fh.close();
  const reg = new Registry();
  s = await openSpool(dir, { maxBytes: 1 << 20, segmentBytes: 64 * 1024, metrics: reg, name: 'torn' });
  assert.equal(s.stats.tornTails, 1);
  assert.equal((await stat(seg)).size, good, 'cut back to the last good frame');
  assert.match(await reg.metrics(), /edgelog_spool_torn_tail_total\{spool="torn"\} 1/);
  await s.close();
  // flip a byte inside the last record: CRC mismatch, that record is cut, the others stay
  const buf = Buffer.alloc(1);
  const fh2 = await open(seg, 'r+');
  await fh2.read(buf, 0, 1, good - 3);
  buf[0] = buf[0]! ^ 0xff;
  await fh2.write(buf, 0, 1, good - 3);
  await fh2.close();
  s = await openSpool(dir, { maxBytes: 1 << 20, segmentBytes: 64 * 1024 });
  assert.equal(s.stats.tornTails, 1);
  const all = await readAll(s);
  assert.deepEqual(all.map(idOf), Array.from({ length: 49 }, (_, i) => i));
  // appending after the cut continues cleanly
  await s.append([rec(49)]);
  assert.deepEqual((await readAll(s)).map(idOf), [49]);
});

test('kill -9 during appends: every resolved append survives, in order, tail cut if torn', { timeout: 60_000 }, async (t) => {
  const dir = await tmp(t);
  for (let round = 0; round < 5; round++) {
    const child = spawn(process.execPath, [join(import.meta.dirname, 'fixtures', 'spool-writer.ts'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    defer(t, 'kill the spool writer', () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
    let lastOk = -1;
    let buf = '';
    let lines = 0;
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', () => resolve());
      child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        const parts = buf.split('\n');
        buf = parts.pop()!;
        for (const p of parts) if (p.startsWith('ok ')) { lastOk = Number(p.slice(3)); lines++; }
        // kill at a different point each round, mid-stream
        if (lines >= 100 + round * 37 && child.exitCode === null && !child.killed) child.kill('SIGKILL');
      });
    });
    assert.equal(child.signalCode, 'SIGKILL');
    const s = await openSpool(dir, { maxBytes: 256 * 1024 * 1024, segmentBytes: 4 * 1024 * 1024 });
    const all = await readAll(s, false, 1000);
    const seqs = all.map((b) => Number(/^rec-(\d+)-/.exec(b.toString('latin1'))![1]));
    // one writer process per round restarts numbering at 0: records of this round follow the previous ones
    const start = seqs.lastIndexOf(0);
    const mine = seqs.slice(start);
    assert.deepEqual(mine, Array.from({ length: mine.length }, (_, i) => i), 'contiguous and in order');
    assert.ok(mine.length - 1 >= lastOk, `record ${lastOk} (resolved before the kill) is present; have ${mine.length}`);
    t.diagnostic(`round ${round}: ${mine.length} records survived, last resolved ${lastOk}, torn tails cut ${s.stats.tornTails}`);
    await s.close();
  }
});

test('drop_oldest deletes the oldest segment when full and counts the records', async (t) => {
  const dir = await tmp(t);
  const reg = new Registry();
  const s = await openSpool(dir, { maxBytes: 64 * 1024, segmentBytes: 8 * 1024, whenFull: 'drop_oldest', metrics: reg, name: 'd' });
  const n = 3000;
  for (let i = 0; i < n; i += 50) await s.append(Array.from({ length: 50 }, (_, k) => rec(i + k, 80)));
  assert.ok(s.sizeBytes <= 64 * 1024, `size ${s.sizeBytes} under the cap`);
  const dropped = s.stats.droppedOldest;
  assert.ok(dropped > 0);
  const left = (await readAll(s)).map(idOf);
  assert.equal(dropped + left.length, n, 'every record is either replayed or counted as dropped');
  assert.deepEqual(left, Array.from({ length: left.length }, (_, i) => dropped + i), 'the newest survive, in order');
  assert.match(await reg.metrics(), new RegExp(`edgelog_spool_records_total\\{spool="d",op="drop_oldest"\\} ${dropped}`));
});

test('block: append waits while full and resolves once acks free a segment', async (t) => {
  const dir = await tmp(t);
  const s = await openSpool(dir, { maxBytes: 64 * 1024, segmentBytes: 8 * 1024 });
  let i = 0;
  let blocked: Promise<void> | null = null;
  let resolved = false;
  while (!blocked) {
    const p = s.append(Array.from({ length: 20 }, () => rec(i++, 100)));
    let done = false;
    p.then(() => { done = true; }, () => { done = true; });
    while (!done && !s.waitingForSpace) await new Promise((r) => setImmediate(r));
    if (!done) { blocked = p; p.then(() => { resolved = true; }); }
    assert.ok(i < 10_000, 'spool never blocked');
  }
  assert.ok(s.sizeBytes <= 64 * 1024);
  // The append is parked on the space waiters (only an ack, a drop or a recycle wakes them);
  // reading without acknowledging does disk I/O on the same spool and must not release it.
  assert.equal(s.waitingForSpace, true);
  const first = (await s.read(200))!;
  await new Promise((r) => setImmediate(r));
  assert.equal(resolved, false, 'still waiting without acks');
  assert.equal(s.waitingForSpace, true);
  s.ack(first.id);
  await blocked;
  const all = [...first.payloads, ...(await readAll(s))].map(idOf);
  assert.deepEqual(all, Array.from({ length: i }, (_, k) => k), 'nothing lost or reordered while blocked');
});

test('disk full (1 MiB tmpfs): DiskFullError, no corrupt segment, recovery after space frees', { timeout: 60_000 }, async (t) => {
  if (process.getuid?.() !== 0) { t.skip('needs root to mount a tmpfs'); return; }
  const dir = await tmp(t);
  const mnt = join(dir, 'mnt');
  execFileSync('mkdir', [mnt]);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
  } catch (e) {
    t.skip(`cannot mount tmpfs: ${(e as Error).message}`);
    return;
  }
  try {
    const spoolDir = join(mnt, 'spool');
    const reg = new Registry();
    // the cap is far above the filesystem size, so the disk fills before the cap
    let s = await openSpool(spoolDir, { maxBytes: 64 << 20, segmentBytes: 128 * 1024, metrics: reg, name: 'full' });
    await writeFile(join(mnt, 'filler'), Buffer.alloc(300 * 1024));
    let ok = 0;
    let err: unknown = null;
    while (!err) {
      try {
        await s.append(Array.from({ length: 10 }, (_, k) => rec(ok + k, 300)));
        ok += 10;
      } catch (e) { err = e; ok += appendedBefore(e); /* runs written before the failure stay */ }
    }
    assert.ok(err instanceof DiskFullError, `got ${String(err)}`);
    assert.equal((err as DiskFullError).code, 'EDGELOG_DISK_FULL');
    assert.equal((err as DiskFullError).retriable, true);
    assert.ok((s.stats.errors.ENOSPC ?? 0) >= 1);
    assert.match(await reg.metrics(), /edgelog_spool_errors_total\{spool="full",code="ENOSPC"\} [1-9]/);
    // retrying while still full fails the same way, no crash
    await assert.rejects(s.append(Array.from({ length: 40 }, (_, k) => rec(ok + k, 300))).catch((e: unknown) => { ok += appendedBefore(e); throw e; }), DiskFullError);
    // free space: the retry goes through
    await rm(join(mnt, 'filler'));
    await s.append(Array.from({ length: 10 }, (_, k) => rec(ok + k, 300)));
    ok += 10;
    await s.close();
    // reopen: no torn tail (writes were rolled back to frame boundaries), every record's CRC checks out, order kept
    s = await openSpool(spoolDir, { maxBytes: 64 << 20, segmentBytes: 128 * 1024 });
    assert.equal(s.stats.tornTails, 0);
    const all = (await readAll(s)).map(idOf);
    assert.deepEqual(all, Array.from({ length: ok }, (_, i) => i));
    assert.equal(s.stats.errors.crc ?? 0, 0);
    t.diagnostic(`${ok} records of ~310 B spooled on a 1 MiB tmpfs before and after ENOSPC`);
    await s.close();
    for (const n of await readdir(spoolDir)) {
      if (!n.endsWith('.seg')) continue;
      const st = await stat(join(spoolDir, n));
      assert.ok(st.size >= HEADER_BYTES);
    }
  } finally {
    for (const s of opened.splice(0)) await s.close().catch(() => {});
    execFileSync('umount', [mnt]);
  }
});

test('a sealed segment with a damaged header is set aside; the others replay', async (t) => {
  const dir = await tmp(t);
  let s = await openSpool(dir, { maxBytes: 1 << 20, segmentBytes: 4096 });
  for (let i = 0; i < 300; i += 10) await s.append(Array.from({ length: 10 }, (_, k) => rec(i + k, 40)));
  await s.close();
  const segs = (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort();
  assert.ok(segs.length >= 4);
  const victim = join(dir, segs[1]!);
  const lost = Number(segs[2]!.slice(0, 20)) - Number(segs[1]!.slice(0, 20));
  const fh = await open(victim, 'r+');
  await fh.write(Buffer.from('XXXX'), 0, 4, 0);
  await fh.close();
  s = await openSpool(dir, { maxBytes: 1 << 20, segmentBytes: 4096 });
  assert.equal(s.stats.errors.bad_header, 1);
  const ids = (await readAll(s)).map(idOf);
  assert.equal(ids.length, 300 - lost);
  assert.deepEqual(ids, [...Array.from({ length: 300 }, (_, i) => i)].filter((i) => i < Number(segs[1]!.slice(0, 20)) || i >= Number(segs[2]!.slice(0, 20))));
  assert.equal(s.unacked, 0, 'the gap does not hold the ack position back');
  assert.ok((await readdir(dir)).includes(segs[1] + '.corrupt'), 'kept for inspection');
});

test('a fully acked active segment is recycled in place (no new file needed), and a crash mid-recycle is repaired on open', async (t) => {
  const dir = await tmp(t);
  let s = await openSpool(dir, { maxBytes: 4 << 20, segmentBytes: 1 << 20 });
  await s.append(Array.from({ length: 1000 }, (_, i) => rec(i, 100)));
  const b = (await s.read(1000))!;
  s.ack(b.id);
  await s.append([rec(1000)]); // runs after the recycle queued by the ack
  let segs = (await readdir(dir)).filter((n) => n.endsWith('.seg'));
  assert.deepEqual(segs, ['00000000000000001000.seg']);
  assert.ok(s.sizeBytes < 200, `space given back (${s.sizeBytes} bytes)`);
  assert.deepEqual((await readAll(s)).map(idOf), [1000]);
  await s.close();
  // crash window: header rewritten to a new base, file not yet renamed
  const fh = await open(join(dir, segs[0]!), 'r+');
  await fh.write(encodeHeader(5000), 0, HEADER_BYTES, 0);
  await fh.truncate(HEADER_BYTES);
  await fh.close();
  s = await openSpool(dir, { maxBytes: 4 << 20, segmentBytes: 1 << 20 });
  segs = (await readdir(dir)).filter((n) => n.endsWith('.seg'));
  assert.deepEqual(segs, ['00000000000000005000.seg']);
  assert.equal(s.stats.errors.bad_header ?? 0, 0);
  await s.append([rec(1), rec(2)]);
  const got = (await s.read(10))!;
  assert.equal(got.firstSeq, 5000);
  assert.deepEqual(got.payloads.map(idOf), [1, 2]);
});

test('an append split over segments that fails midway reports how many records it wrote', async (t) => {
  if (process.getuid?.() !== 0) { t.skip('needs root to mount a tmpfs'); return; }
  const dir = await tmp(t);
  const mnt = join(dir, 'mnt');
  execFileSync('mkdir', [mnt]);
  try { execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]); } catch (e) { t.skip(`cannot mount tmpfs: ${(e as Error).message}`); return; }
  try {
    const s = await openSpool(join(mnt, 'spool'), { maxBytes: 64 << 20, segmentBytes: 32 * 1024 });
    // ~600 KB in one append: several 32 KiB segments fit, then the 256 KiB disk is full
    const err = await s.append(Array.from({ length: 2000 }, (_, i) => rec(i, 300))).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof DiskFullError);
    const n = appendedBefore(err);
    assert.ok(n > 0 && n < 2000, `partial: ${n}`);
    assert.deepEqual((await readAll(s)).map(idOf), Array.from({ length: n }, (_, i) => i), 'exactly the reported records are in the spool');
  } finally {
    for (const s of opened.splice(0)) await s.close().catch(() => {});
    execFileSync('umount', [mnt]);
  }
});
