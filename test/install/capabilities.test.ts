// The edge unit's capability set is enough to read log files the service user
// does not own, and grants no write access. The unit's User=/AmbientCapabilities=
// are reproduced with setpriv (no systemd as PID 1 here): uid nobody, the unit's
// ambient and bounding sets, no_new_privs, running the bundled Node.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { renderUnit } from '../../agent/install/index.ts';
import { hasCommand, repoRoot, tempDir } from './helpers.ts';

const node = join(repoRoot, 'node_modules/node/bin/node');

/** Can uid nobody reach and execute the bundled Node (every parent dir o+x, the binary o+x)? */
function nodeReachableByOthers(): boolean {
  if (!(statSync(node).mode & 0o001)) return false;
  for (let d = dirname(node); d !== '/'; d = dirname(d)) if (!(statSync(d).mode & 0o001)) return false;
  return true;
}

function unitCaps(role: 'edge' | 'relay'): string[] {
  const line = renderUnit({ role }).split('\n').find((l) => l.startsWith('AmbientCapabilities='))!;
  return line.slice('AmbientCapabilities='.length).split(' ').filter(Boolean).map((c) => c.replace(/^CAP_/, '').toLowerCase());
}

function asService(caps: string[], script: string): { status: number | null; stdout: string; stderr: string } {
  const set = caps.map((c) => `+${c}`).join(',');
  const args = ['--reuid=65534', '--regid=65534', '--clear-groups', '--no-new-privs',
    caps.length ? `--inh-caps=-all,${set}` : '--inh-caps=-all',
    ...(caps.length ? [`--ambient-caps=${set}`] : []),
    caps.length ? `--bounding-set=-all,${set}` : '--bounding-set=-all',
    node, '-e', script];
  return spawnSync('setpriv', args, { encoding: 'utf8' });
}

test('edge capabilities read root-only logs and nothing more; relay reads none', (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to switch to the service identity');
  if (!hasCommand('setpriv')) return t.skip('setpriv (util-linux) not available');
  if (!nodeReachableByOthers()) return t.skip(`${node} is not executable by other users (a parent directory lacks o+x)`);
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  const logs = join(dir, 'log');
  mkdirSync(logs, { mode: 0o700 });
  writeFileSync(join(logs, 'auth.log'), 'Nov 21 sshd[1]: Accepted publickey\n', { mode: 0o600 });
  const probe = `
    const fs = require('node:fs');
    const out = {};
    try { out.list = fs.readdirSync(${JSON.stringify(logs)}); } catch (e) { out.list = e.code; }
    try { out.read = fs.readFileSync(${JSON.stringify(join(logs, 'auth.log'))}, 'utf8'); } catch (e) { out.read = e.code; }
    try { fs.writeFileSync(${JSON.stringify(join(logs, 'x'))}, 'x'); out.write = 'ok'; } catch (e) { out.write = e.code; }
    try { fs.appendFileSync(${JSON.stringify(join(logs, 'auth.log'))}, 'x'); out.append = 'ok'; } catch (e) { out.append = e.code; }
    console.log(JSON.stringify(out));`;

  const edgeCaps = unitCaps('edge');
  assert.deepEqual(edgeCaps, ['dac_read_search']);
  const edge = asService(edgeCaps, probe);
  assert.equal(edge.status, 0, edge.stderr);
  assert.deepEqual(JSON.parse(edge.stdout), { list: ['auth.log'], read: 'Nov 21 sshd[1]: Accepted publickey\n', write: 'EACCES', append: 'EACCES' });

  const relayCaps = unitCaps('relay');
  assert.deepEqual(relayCaps, []);
  const relay = asService(relayCaps, probe);
  assert.equal(relay.status, 0, relay.stderr);
  assert.deepEqual(JSON.parse(relay.stdout), { list: 'EACCES', read: 'EACCES', write: 'EACCES', append: 'EACCES' });
});
