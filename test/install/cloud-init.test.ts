// renderCloudInit: deterministic user data that runs the shipped install.sh
// with the role; executed end to end against a staged root.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCloudInit, CloudInitError, type CloudInitOptions } from '../../agent/install/cloud-init.ts';
import { renderSecretsFetchScript, SECRETS_DROP_IN, SECRETS_FETCH_SCRIPT, SECRETS_FETCH_UNIT } from '../../agent/install/secrets-fetch.ts';
import { fakeRelease, hasCommand, signingKey, tarRelease, tempDir } from './helpers.ts';

const base: CloudInitOptions = {
  role: 'relay',
  version: '1.0.0',
  artifactUrl: 'https://artifacts.example.invalid/edgelog-1.0.0-linux-x64.tar.gz',
  artifactSha256: 'ab'.repeat(32),
  signingPublicKey: 'RWTsN7XZsXhxkn17BnGE4OszxDWnJ0+eqR9YWHMWZmMouhVsl0hyTFpN',
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
  // Verification is not optional: no checksum or no key, no user data.
  assert.throws(() => renderCloudInit({ ...base, artifactSha256: '' }), /artifactSha256: expected the 64 hex digits/);
  assert.throws(() => renderCloudInit({ ...base, signingPublicKey: '' }), /signingPublicKey: expected a minisign public key/);
  assert.throws(() => renderCloudInit({ ...base, signingPublicKey: "RW'; rm -rf /" }), CloudInitError);
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

test('the user data downloads, verifies sha256 and signature, unpacks and installs (staged root)', (t) => {
  if (!hasCommand('minisign')) return t.skip('minisign not installed (.ci/setup.sh installs it)');
  const dir = tempDir(t);
  const rel = fakeRelease(join(dir, 'rel'), '1.0.0');
  const key = signingKey(join(dir, 'key'));
  const other = signingKey(join(dir, 'other'), 'attacker');
  const tarball = join(dir, 'edgelog-1.0.0-linux-x64.tar.gz');
  tarRelease(rel, tarball, 'edgelog-1.0.0-linux-x64', key);
  const sha = createHash('sha256').update(readFileSync(tarball)).digest('hex');
  const config = "agent:\n  role: relay\n  site: 'eu-1'\n";
  const opts: CloudInitOptions = { role: 'relay', version: '1.0.0', artifactUrl: `file://${tarball}`, artifactSha256: sha, signingPublicKey: readFileSync(key.pub, 'utf8'), configYaml: config };
  const script = renderCloudInit(opts);
  const root = join(dir, 'root');
  mkdirSync(root);
  const run = (s: string, r = root) => spawnSync('bash', ['-c', s], { encoding: 'utf8', env: { ...process.env, EDGELOG_INSTALL_ROOT: r } });
  const r = run(script);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readlinkSync(join(root, 'opt/edgelog/current')), 'releases/1.0.0');
  assert.equal(readFileSync(join(root, 'etc/edgelog/edgelog.yaml'), 'utf8'), config);
  assert.match(readFileSync(join(root, 'etc/systemd/system/edgelog.service'), 'utf8'), /^Description=edgelog log shipper \(relay\)$/m);
  assert.match(readFileSync(join(root, 'opt/edgelog/install.env'), 'utf8'), /^ROLE=relay$/m);
  assert.equal(readFileSync(join(root, 'etc/edgelog/release.pub'), 'utf8').split('\n')[1], key.line, 'the release key is recorded for upgrades');

  // Re-running (a second boot script run, or a pre-baked image) keeps the node's config.
  writeFileSync(join(root, 'etc/edgelog/edgelog.yaml'), 'edited: true\n');
  assert.equal(run(script).status, 0);
  assert.equal(readFileSync(join(root, 'etc/edgelog/edgelog.yaml'), 'utf8'), 'edited: true\n');

  // Refused before anything is unpacked: each case leaves the root empty.
  const refused = (name: string, s: string, why: RegExp): void => {
    const r2 = join(dir, `root-${name}`);
    mkdirSync(r2);
    const rb = run(s, r2);
    assert.notEqual(rb.status, 0, name);
    assert.match(rb.stderr, why, name);
    assert.deepEqual(spawnSync('ls', ['-A', r2], { encoding: 'utf8' }).stdout, '', `${name}: nothing installed`);
  };
  refused('wrong-sha', renderCloudInit({ ...opts, artifactSha256: '0'.repeat(64) }), /refusing .*: sha256 mismatch/);
  refused('wrong-key', renderCloudInit({ ...opts, signingPublicKey: other.line }), /refusing .*: signature does not verify/);
  // A tarball tampered with after signing, with user data that carries its new sha256: the signature catches it.
  const bytes = readFileSync(tarball);
  bytes[bytes.length - 100] ^= 0xff;
  const tampered = join(dir, 'tampered', 'edgelog-1.0.0-linux-x64.tar.gz');
  mkdirSync(join(dir, 'tampered'));
  writeFileSync(tampered, bytes);
  cpSync(`${tarball}.minisig`, `${tampered}.minisig`);
  const tsha = createHash('sha256').update(bytes).digest('hex');
  refused('tampered', renderCloudInit({ ...opts, artifactUrl: `file://${tampered}`, artifactSha256: tsha }), /signature does not verify/);
  // Signed by someone else.
  const forged = join(dir, 'forged', 'edgelog-1.0.0-linux-x64.tar.gz');
  mkdirSync(join(dir, 'forged'));
  cpSync(tarball, forged);
  assert.equal(spawnSync('minisign', ['-S', '-s', other.sec, '-m', forged, '-x', `${forged}.minisig`]).status, 0);
  refused('forged', renderCloudInit({ ...opts, artifactUrl: `file://${forged}` }), /signature does not verify/);
});

test('with secrets: the user data installs the fetch script, its unit and the drop-in, and installs without starting (staged root)', (t) => {
  if (!hasCommand('minisign')) return t.skip('minisign not installed (.ci/setup.sh installs it)');
  const dir = tempDir(t);
  const rel = fakeRelease(join(dir, 'rel'), '1.0.0');
  const key = signingKey(join(dir, 'key'));
  const tarball = join(dir, 'edgelog-1.0.0-linux-x64.tar.gz');
  tarRelease(rel, tarball, 'edgelog-1.0.0-linux-x64', key);
  const sha = createHash('sha256').update(readFileSync(tarball)).digest('hex');
  const secrets = { store: 'aws-secretsmanager' as const, region: 'us-east-1', files: [{ secretId: 'edgelog/relay/tls-cert', path: '/etc/edgelog/tls/relay.pem' }] };
  const script = renderCloudInit({ role: 'relay', version: '1.0.0', artifactUrl: `file://${tarball}`, artifactSha256: sha, signingPublicKey: readFileSync(key.pub, 'utf8'), configYaml: 'agent:\n  role: relay\n', secrets });
  const root = join(dir, 'root');
  mkdirSync(root);
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, EDGELOG_INSTALL_ROOT: root } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(join(root, SECRETS_FETCH_SCRIPT.slice(1)), 'utf8'), renderSecretsFetchScript(secrets));
  assert.equal(statSync(join(root, SECRETS_FETCH_SCRIPT.slice(1))).mode & 0o777, 0o755);
  const unit = readFileSync(join(root, 'etc/systemd/system', SECRETS_FETCH_UNIT), 'utf8');
  assert.match(unit, /^Type=oneshot$/m);
  assert.match(unit, /^TimeoutStartSec=infinity$/m, 'waiting for the operator is not a failure');
  assert.match(unit, new RegExp(`^ExecStart=${SECRETS_FETCH_SCRIPT}$`, 'm'));
  const dropIn = readFileSync(join(root, SECRETS_DROP_IN.slice(1)), 'utf8');
  assert.match(dropIn, /^Requires=edgelog-secrets\.service$/m);
  assert.match(dropIn, /^After=edgelog-secrets\.service$/m);
  // install.sh ran with --no-start: the boot script starts the service itself, without waiting.
  assert.ok(script.endsWith([
    '  --no-start', '', 'if [ -z "${EDGELOG_INSTALL_ROOT:-}" ] && [ -d /run/systemd/system ]; then', '  systemctl daemon-reload',
    '  systemctl enable edgelog-secrets.service edgelog.service', '  systemctl start --no-block edgelog.service', 'fi', '',
  ].join('\n')), script.slice(-400));
  assert.equal(readlinkSync(join(root, 'opt/edgelog/current')), 'releases/1.0.0');
});

test('secrets fetch options are validated; hostile ids and paths never reach the script', () => {
  const ok = { store: 'aws-secretsmanager' as const, region: 'us-east-1', files: [{ secretId: 'a/b', path: '/etc/edgelog/x' }] };
  assert.throws(() => renderSecretsFetchScript({ ...ok, region: 'nowhere' }), /secrets\.region/);
  assert.throws(() => renderSecretsFetchScript({ ...ok, files: [] }), /secrets\.files/);
  assert.throws(() => renderSecretsFetchScript({ ...ok, files: [{ secretId: "a'; rm -rf /", path: '/etc/x' }] }), /secrets\.files\.0\.secretId/);
  assert.throws(() => renderSecretsFetchScript({ ...ok, files: [{ secretId: 'a', path: '/etc/../root/x' }] }), /secrets\.files\.0\.path/);
  assert.throws(() => renderSecretsFetchScript({ store: 'gcp-secretmanager', files: ok.files }), /secrets\.project/);
  assert.match(renderSecretsFetchScript({ store: 'gcp-secretmanager', project: 'edgelog-prod', files: ok.files }), /gcloud secrets versions access latest --project 'edgelog-prod'/);
});
