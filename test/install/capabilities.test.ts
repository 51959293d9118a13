// No role holds a capability: the edge agent reads Debian's /var/log through
// its group (adm), a root-only log through an ACL for its user, and nothing
// else; the relay reads none of them. The unit's User=/capability sets are
// reproduced with setpriv (no systemd as PID 1 here): uid nobody, the groups
// the unit's user has, the unit's (empty) ambient and bounding sets,
// no_new_privs, running the bundled Node. test/node/ checks the same under a
// real systemd.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
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

function asService(caps: string[], groups: string[], script: string): { status: number | null; stdout: string; stderr: string } {
  const set = caps.map((c) => `+${c}`).join(',');
  const args = ['--reuid=65534', '--regid=65534', groups.length ? `--groups=${groups.join(',')}` : '--clear-groups', '--no-new-privs',
    caps.length ? `--inh-caps=-all,${set}` : '--inh-caps=-all',
    ...(caps.length ? [`--ambient-caps=${set}`] : []),
    caps.length ? `--bounding-set=-all,${set}` : '--bounding-set=-all',
    node, '-e', script];
  return spawnSync('setpriv', args, { encoding: 'utf8' });
}

test('edge reads group-adm logs and ACL-granted root-only logs with no capability; relay reads none', (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to switch to the service identity');
  if (!hasCommand('setpriv')) return t.skip('setpriv (util-linux) not available');
  if (!nodeReachableByOthers()) return t.skip(`${node} is not executable by other users (a parent directory lacks o+x)`);
  const adm = spawnSync('getent', ['group', 'adm'], { encoding: 'utf8' });
  if (adm.status !== 0) return t.skip('no adm group on this host');
  const admGid = Number(adm.stdout.split(':')[2]);
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  const logs = join(dir, 'log');
  mkdirSync(logs, { mode: 0o750 });
  chownSync(logs, 0, admGid);
  // Debian's layout: syslog is root:adm 0640; a root-only log is 0600.
  writeFileSync(join(logs, 'syslog'), 'Nov 21 host kernel: up\n', { mode: 0o640 });
  chownSync(join(logs, 'syslog'), 0, admGid);
  writeFileSync(join(logs, 'auth.log'), 'Nov 21 sshd[1]: Accepted publickey\n', { mode: 0o600 });
  const probe = (file: string) => `
    const fs = require('node:fs');
    const out = {};
    try { out.list = fs.readdirSync(${JSON.stringify(logs)}).sort(); } catch (e) { out.list = e.code; }
    try { out.read = fs.readFileSync(${JSON.stringify(join(logs, file))}, 'utf8'); } catch (e) { out.read = e.code; }
    try { fs.writeFileSync(${JSON.stringify(join(logs, 'x'))}, 'x'); out.write = 'ok'; } catch (e) { out.write = e.code; }
    try { fs.appendFileSync(${JSON.stringify(join(logs, file))}, 'x'); out.append = 'ok'; } catch (e) { out.append = e.code; }
    console.log(JSON.stringify(out));`;

  assert.deepEqual(unitCaps('edge'), []);
  assert.deepEqual(unitCaps('relay'), []);
  const run = (groups: string[], file: string) => {
    const r = asService([], groups, probe(file));
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };
  // edge: the installer puts the user in adm.
  assert.deepEqual(run(['adm'], 'syslog'), { list: ['auth.log', 'syslog'], read: 'Nov 21 host kernel: up\n', write: 'EACCES', append: 'EACCES' });
  assert.deepEqual(run(['adm'], 'auth.log').read, 'EACCES', 'a root-only log needs the operator to grant it');
  if (hasCommand('setfacl')) {
    // What the README tells an operator to do for a root-only log.
    const acl = spawnSync('setfacl', ['-m', 'u:nobody:r', join(logs, 'auth.log')], { encoding: 'utf8' });
    if (acl.status === 0) {
      assert.deepEqual(run(['adm'], 'auth.log'), { list: ['auth.log', 'syslog'], read: 'Nov 21 sshd[1]: Accepted publickey\n', write: 'EACCES', append: 'EACCES' });
    } else {
      t.diagnostic(`setfacl failed here (${acl.stderr.trim()}); ACL step not checked`);
    }
  } else {
    t.diagnostic('setfacl (acl package) not installed; ACL step not checked');
  }
  // relay: no adm, nothing readable.
  assert.deepEqual(run([], 'syslog'), { list: 'EACCES', read: 'EACCES', write: 'EACCES', append: 'EACCES' });
});
