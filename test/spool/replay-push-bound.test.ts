// The replayer's default push bound is 1 MiB of spooled frames, and the bound
// is tight: records sized so that 13 frames take 1 MiB plus a few bytes must
// come 12 to a push (13 would put more than 1 MiB of bodies downstream).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckGroup } from '../../agent/core/ack.ts';
import { newRecord } from '../../agent/core/record.ts';
import { DiskSpool } from '../../agent/pipeline/spool/disk-spool.ts';
import { FRAME_HEADER_BYTES } from '../../agent/pipeline/spool/format.ts';
import { serializeRecord } from '../../agent/pipeline/spool/record-codec.ts';
import { SpoolReplayer } from '../../agent/pipeline/spool/replay.ts';

const noAck = new AckGroup(0, () => {});
const MiB = 1024 * 1024;

test('default push bound: at most 1 MiB of frames, exactly as many as fit', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), `edgelog-replay-bound-${process.pid}-`));
  const spool = await DiskSpool.open(dir, { maxBytes: 256 << 20, segmentBytes: 16 << 20 });
  t.after(async () => { await spool.close(); await rm(dir, { recursive: true, force: true }); });
  // Frame overhead of one record (codec fields + frame header), measured, not assumed.
  const probe = Buffer.alloc(80_000, 0x70);
  const overhead = serializeRecord(newRecord(probe, 's', 'peer', 'sid', 0, noAck)).length - probe.length + FRAME_HEADER_BYTES;
  // The smallest body for which 13 frames no longer fit in 1 MiB: 13 bodies are then over 1 MiB too.
  const body = Math.floor(MiB / 13) - overhead + 1;
  assert.ok(13 * (body + overhead) > MiB && 13 * body > MiB - 13 * overhead, 'sizes as intended');
  const n = 48;
  for (let i = 0; i < n; i += 12) await spool.append(Array.from({ length: 12 }, (_, k) => serializeRecord(newRecord(Buffer.alloc(body, 0x61 + ((i + k) % 26)), 's', 'peer', 'sid', i + k, noAck))));
  const pushes: number[][] = [];
  const rp = new SpoolReplayer(spool, { async push(b) { pushes.push(b.map((r) => r.offset)); for (const r of b) r.ack.settle(); } });
  rp.start();
  const end = Date.now() + 30_000;
  while (spool.unacked > 0) {
    if (Date.now() > end) assert.fail(`replay did not finish: ${JSON.stringify(pushes.map((p) => p.length))}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  await rp.stop();
  assert.deepEqual(pushes.flat(), Array.from({ length: n }, (_, i) => i), 'every record once, in order');
  for (const p of pushes) assert.ok(p.length * (body + overhead) <= MiB, `push of ${p.length} frames over 1 MiB`);
  assert.ok(pushes.some((p) => p.length === 12), `full pushes of 12 (${pushes.map((p) => p.length).join(',')})`);
});
