import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tcpSource } from '../../../agent/sources/tcp/tcp-source.ts';
import { Collector, makeCtx, waitFor, connect, closed } from './helpers.ts';

test('tcp source with its spool on a full disk: reading pauses and retries, nothing lost once space frees', { timeout: 60_000 }, async (t) => {
  if (process.getuid?.() !== 0) { t.skip('needs root to mount a tmpfs'); return; }
  const tc = await makeCtx(t, 'full_in');
  const mnt = join(tc.dir, 'mnt');
  mkdirSync(mnt);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
  } catch (e) {
    t.skip(`cannot mount tmpfs: ${(e as Error).message}`);
    return;
  }
  const out = new Collector();
  out.settle = false; // destination down: the spool fills the disk
  const src = tcpSource.create(tcpSource.validate({ address: '127.0.0.1:0', spool: { dir: join(mnt, 'spool'), max_bytes: '64MiB', segment_bytes: '128KiB' } }, 'sources.full_in'), tc.ctx);
  try {
    await src.start(out);
    const n = 20_000; // ~4.2 MB: more than the 1 MiB disk plus the 1 MiB per-connection append window
    const lines = Array.from({ length: n }, (_, i) => `line ${i} ${'d'.repeat(200)}`);
    const s = await connect(src.address!.port);
    s.on('error', () => {});
    s.end(lines.join('\n') + '\n');
    await waitFor(() => src.stats.spoolRetries > 0, 'disk full hit');
    assert.ok(out.records.length < n, 'not everything fit');
    await waitFor(() => src.stats.pauses > 0 && src.stats.spoolRetries > 1, 'connection paused while the disk is full');
    assert.ok(src.stats.records < n, `reading paused: ${src.stats.records} of ${n} lines read`);
    assert.equal(s.destroyed, false, 'the connection stays open (paused), nothing crashed');
    assert.match(await tc.reg.metrics(), /edgelog_spool_errors_total\{spool="full_in",code="ENOSPC"\} [1-9]/);
    // destination back: acks free segments, the retries go through
    for (const r of out.records) r.ack.settle();
    out.settle = true;
    await waitFor(() => out.records.length === n, `all ${n} lines (have ${out.records.length})`, 30_000);
    const got = out.bodies();
    const firstBad = got.findIndex((b, i) => b !== lines[i]);
    assert.equal(firstBad, -1, `record ${firstBad}: got ${got[firstBad]?.slice(0, 12)}, want ${lines[firstBad]?.slice(0, 12)}; ${got.length} records, ${new Set(got).size} distinct`);
    await closed(s);
    t.diagnostic(`${n} lines through a 1 MiB disk: ${src.stats.spoolRetries} append retries on ENOSPC, 0 lost`);
  } finally {
    await src.stop();
    await src.drain!(1000);
    execFileSync('umount', [mnt]);
  }
});
