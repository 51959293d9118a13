// renderCloudInit: deterministic user data that runs the shipped install.sh
// with the role; executed end to end against a staged root.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCloudInit, CloudInitError, type CloudInitOptions } from '../../agent/install/cloud-init.ts';
import { fakeRelease, tarRelease, tempDir } from './helpers.ts';

const base: CloudInitOptions = {
  role: 'relay',
  version: '1.0.0',
  artifactUrl: 'https://artifacts.example.invalid/edgelog-1.0.0-linux-x64.tar.gz',
  artifactSha256: 'ab'.repeat(32),
  configYaml: 'agent:\n  role: relay\n',
};

test('renderCloudInit is deterministic and runs install.sh with the role', () => {
  const a = renderCloudInit(base);
  const b = renderCloudInit({ ...base });
  assert.equal(a, b);
  assert.ok(a.startsWith('#!/bin/bash\n'));
  assert.match(a, /^EDGELOG_ROLE='relay'$/m);
  assert.match(a, /^bash "\$work\/release\/install\.sh" install \\$/m);
  assert.match(a, /^ {2}--role "\$EDGELOG_ROLE" \\$/m);
  assert.match(a, /^ {2}--config "\$work\/edgelog\.yaml"$/m);
  assert.match(a, new RegExp(`^EDGELOG_SHA256='${'ab'.repeat(32)}'$`, 'm'));
  assert.doesNotMatch(a, /\d{4}-\d{2}-\d{2}T/, 'no timestamps');
  assert.notEqual(renderCloudInit({ ...base, role: 'edge' }), a);
  assert.match(renderCloudInit({ ...base, role: 'edge' }), /^EDGELOG_ROLE='edge'$/m);
  const syntax = spawnSync('bash', ['-n'], { input: a, encoding: 'utf8' });
  assert.equal(syntax.status, 0, syntax.stderr);
});

test('renderCloudInit rejects bad options and quotes hostile values', () => {
  assert.throws(() => renderCloudInit({ ...base, role: 'cloud' as 'edge' }), CloudInitError);
  assert.throws(() => renderCloudInit({ ...base, version: '1.0; rm -rf /' }), CloudInitError);
  assert.throws(() => renderCloudInit({ ...base, artifactSha256: 'xyz' }), CloudInitError);
  assert.throws(() => renderCloudInit({ ...base, artifactUrl: 'ftp://x/y' }), CloudInitError);
  const url = "https://x.invalid/a'b$(touch /tmp/pwned).tgz";
  const s = renderCloudInit({ ...base, artifactUrl: url });
  const echo = spawnSync('bash', ['-c', `${s.split('\n').find((l) => l.startsWith('EDGELOG_URL='))}; printf %s "$EDGELOG_URL"`], { encoding: 'utf8' });
  assert.equal(echo.stdout, url);
  // A config containing the heredoc delimiter as a line still round-trips.
  const cfg = 'a: 1\nEDGELOG_CONFIG_EOF\nb: 2';
  const out = renderCloudInit({ ...base, configYaml: cfg });
  assert.match(out, /<<'EDGELOG_CONFIG_EOF_1'/);
});

test('the user data downloads, verifies, unpacks and installs (staged root)', (t) => {
  const dir = tempDir(t);
  const rel = fakeRelease(join(dir, 'rel'), '1.0.0');
  const tarball = join(dir, 'edgelog-1.0.0-linux-x64.tar.gz');
  tarRelease(rel, tarball, 'edgelog-1.0.0-linux-x64');
  const sha = createHash('sha256').update(readFileSync(tarball)).digest('hex');
  const config = "agent:\n  role: relay\n  site: 'eu-1'\n";
  const script = renderCloudInit({ role: 'relay', version: '1.0.0', artifactUrl: `file://${tarball}`, artifactSha256: sha, configYaml: config });
  const root = join(dir, 'root');
  mkdirSync(root);
  const run = (s: string) => spawnSync('bash', ['-c', s], { encoding: 'utf8', env: { ...process.env, EDGELOG_INSTALL_ROOT: root } });
  const r = run(script);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readlinkSync(join(root, 'opt/edgelog/current')), 'releases/1.0.0');
  assert.equal(readFileSync(join(root, 'etc/edgelog/edgelog.yaml'), 'utf8'), config);
  assert.match(readFileSync(join(root, 'etc/systemd/system/edgelog.service'), 'utf8'), /^Description=edgelog log shipper \(relay\)$/m);
  assert.match(readFileSync(join(root, 'opt/edgelog/install.env'), 'utf8'), /^ROLE=relay$/m);

  // Re-running (a second boot script run, or a pre-baked image) keeps the node's config.
  writeFileSync(join(root, 'etc/edgelog/edgelog.yaml'), 'edited: true\n');
  assert.equal(run(script).status, 0);
  assert.equal(readFileSync(join(root, 'etc/edgelog/edgelog.yaml'), 'utf8'), 'edited: true\n');

  // A tarball that does not match the checksum is refused before anything is unpacked.
  const root2 = join(dir, 'root2');
  mkdirSync(root2);
  const bad = renderCloudInit({ role: 'relay', version: '1.0.0', artifactUrl: `file://${tarball}`, artifactSha256: '0'.repeat(64), configYaml: config });
  const rb = spawnSync('bash', ['-c', bad], { encoding: 'utf8', env: { ...process.env, EDGELOG_INSTALL_ROOT: root2 } });
  assert.notEqual(rb.status, 0);
  assert.match(rb.stderr, /sha256 mismatch/);
  assert.deepEqual(spawnSync('ls', ['-A', root2], { encoding: 'utf8' }).stdout, '');
});
