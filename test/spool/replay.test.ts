import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckGroup } from '../../agent/core/ack.ts';
import { newRecord, type LogRecord } from '../../agent/core/record.ts';
import { DiskSpool } from '../../agent/pipeline/spool/disk-spool.ts';
import { serializeRecord, deserializeRecord } from '../../agent/pipeline/spool/record-codec.ts';
import { SpoolReplayer } from '../../agent/pipeline/spool/replay.ts';

const noAck = new AckGroup(0, () => {});

test('record codec round-trips every field except ack', () => {
  const r = newRecord(Buffer.from([0, 255, 10, 13, 0xc3]), 'src', '10.0.0.1:514', 'id@x', 2 ** 40 + 7, noAck, 1700000000123);
  r.timeUnixNano = 1700000000123456789n;
  r.severityNumber = 17;
  r.severityText = 'err';
  r.attributes = { 'app.name': 'sshd', pid: 42, ok: true, no: false, 'ünï': 'cödé', f: 1.5 };
  r.traceId = '0af7651916cd43dd8448eb211c80319c';
  r.spanId = 'b7ad6b7169203331';
  const g = new AckGroup(9, () => {});
  const back = deserializeRecord(serializeRecord(r), g);
  assert.deepEqual({ ...back, body: Buffer.from(back.body) }, { ...r, ack: g });
  const bare = newRecord(Buffer.alloc(0), '', '', '', 0, noAck, 0);
  assert.deepEqual(deserializeRecord(serializeRecord(bare), noAck), bare);
  assert.throws(() => deserializeRecord(Buffer.from('garbage!'), noAck), /spooled record/);
  assert.throws(() => deserializeRecord(serializeRecord(r).subarray(0, 60), noAck), /spooled record/);
});

test('replayer pushes spooled records in order and acks settle the spool', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'edgelog-replay-'));
  const spool = await DiskSpool.open(dir, { maxBytes: 1 << 20, segmentBytes: 16 * 1024 });
  t.after(async () => { await spool.close(); await rm(dir, { recursive: true, force: true }); });
  const n = 3000;
  for (let i = 0; i < n; i += 100) {
    await spool.append(Array.from({ length: 100 }, (_, k) => serializeRecord(newRecord(Buffer.from(`line ${i + k}`), 's', 'peer', 'sid', i + k, noAck))));
  }
  const seen: LogRecord[] = [];
  const held: LogRecord[] = [];
  const rp = new SpoolReplayer(spool, {
    async push(batch) {
      for (const r of batch) seen.push(r);
      // settle every other batch at once, hold the rest until later: acks arrive out of order
      if (seen.length % 2 === 0) for (const r of batch) r.ack.settle(); else held.push(...batch);
    },
  }, { batchRecords: 64 });
  rp.start();
  while (seen.length < n) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(seen.map((r) => r.offset), Array.from({ length: n }, (_, i) => i));
  assert.equal(seen[5]!.body.toString(), 'line 5');
  assert.ok(spool.unacked > 0);
  for (const r of held) r.ack.settle(1, 'dropped');
  assert.equal(await rp.drain(5000), true);
  assert.equal(spool.unacked, 0);
  await rp.stop();
  assert.equal(spool.stats.replayed, n);
});
