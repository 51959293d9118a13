import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { tcpSource } from '../../../agent/sources/tcp/tcp-source.ts';
import { Collector, makeCtx, waitFor, connect, closed } from './helpers.ts';
import { defer } from '../../helpers/cleanup.ts';

test('tcp source with spool: SIGKILL with the destination down loses nothing the spool took; restart replays in order', { timeout: 60_000 }, async (t) => {
  const tc = await makeCtx(t, 'crashy');
  const child = spawn(process.execPath, [join(import.meta.dirname, 'fixtures', 'spooled-tcp-agent.ts'), tc.dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const childExited = new Promise((r) => child.once('exit', r));
  // Before the temp dir goes (deferred first by makeCtx): the child writes its spool there.
  defer(t, 'kill the spooling child', async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await childExited;
  }, 10_000);
  let port = 0;
  let spooled = 0;
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const l of lines) {
      if (l.startsWith('port ')) port = Number(l.slice(5));
      if (l.startsWith('spooled ')) spooled = Number(l.slice(8));
    }
  });
  await waitFor(() => port > 0, 'child listening');
  const n = 50_000;
  const s = await connect(port);
  s.end(Array.from({ length: n }, (_, i) => `event ${i} ${'p'.repeat(i % 64)}`).join('\n') + '\n');
  await closed(s);
  // every line went through the spool (the child saw it replayed) but the destination never acked
  await waitFor(() => spooled === n, `child spooled ${n} (has ${spooled})`);
  child.kill('SIGKILL');
  await childExited;
  // the same source id and data dir in this process: the spool replays everything unacked, in order
  const out = new Collector();
  const src = tcpSource.create(tcpSource.validate({ address: '127.0.0.1:0', spool: { dir: 'spool', max_bytes: '64MiB' } }, 'sources.crashy'), tc.ctx);
  // Deferred before start resolves, so a start that fails half-way is stopped too; runs before the temp dir goes.
  defer(t, 'stop the restarted source', async () => { await src.stop(); await src.drain!(1000); }, 15_000);
  await src.start(out);
  await waitFor(() => out.records.length === n, 'replay after restart');
  assert.deepEqual(out.records.map((r) => r.offset).slice(0, 3), [0, 9, 19]);
  const bodies = out.bodies();
  for (let i = 0; i < n; i++) if (bodies[i] !== `event ${i} ${'p'.repeat(i % 64)}`) assert.fail(`record ${i} is ${bodies[i]}`);
  t.diagnostic(`${n} lines spooled, SIGKILL, ${out.records.length} replayed after restart, 0 lost`);
});
