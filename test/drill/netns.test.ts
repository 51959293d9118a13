// A drill namespace must be reachable even when another namespace (a drill
// running beside it, or one killed before it could clean up) already holds the
// /30 the drill would prefer: the host would otherwise have two routes to the
// broker's address and the drill would wait out its broker start. Happened on
// a loaded CI machine with a namespace left by a killed run.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { canUseNetns, createRegionNet, type RegionNet } from '../../agent/drill/netns.ts';
import { defer } from '../helpers/cleanup.ts';

const ns = canUseNetns();

/** Connects to addr:port from the host; true when the TCP handshake completes within 5 s. */
function reachable(addr: string, port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect({ host: addr, port });
    const timer = setTimeout(() => { s.destroy(); res(false); }, 5000);
    s.once('connect', () => { clearTimeout(timer); s.destroy(); res(true); });
    s.once('error', () => { clearTimeout(timer); res(false); });
  });
}

test('a namespace whose preferred /30 is already held on the host gets a free one and is reachable', { skip: ns.ok ? false : ns.reason }, async (t) => {
  const tag = String(process.pid % 10000);
  const preferred = 150 + (process.pid % 40);
  const nets: RegionNet[] = [];
  defer(t, 'remove the namespaces', () => { for (const n of nets) n.destroy(); });
  // The stale one: created and never destroyed by its (here: simulated) crashed owner.
  nets.push(createRegionNet(`${tag}s`, preferred));
  const net = createRegionNet(`${tag}d`, preferred);
  nets.push(net);
  assert.notEqual(net.nsAddr, nets[0]!.nsAddr, 'a different /30 than the one already on the host');
  assert.match(net.nsAddr, /^10\.213\.\d+\.2$/);

  // A listener inside the new namespace, reached from the host through its veth.
  const port = 9000 + (process.pid % 1000);
  const server = spawn('ip', ['netns', 'exec', net.ns, process.execPath, '-e',
    `require('node:net').createServer((c) => c.end()).listen(${port}, '${net.nsAddr}', () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  defer(t, 'stop the listener', () => { server.kill('SIGKILL'); });
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error('listener did not start within 30 s')), 30_000);
    server.stdout!.once('data', () => { clearTimeout(timer); res(); });
    server.once('exit', (code) => { clearTimeout(timer); rej(new Error(`listener exited ${code}`)); });
  });
  assert.ok(await reachable(net.nsAddr, port), `${net.nsAddr}:${port} reachable from the host`);
});
