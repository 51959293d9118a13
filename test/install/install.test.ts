// install.sh into temporary roots: layout, modes and owners, the systemd unit
// (verify + security exposure), upgrade/rollback keeping config and state
// byte-identical, uninstall with and without --purge, --dry-run.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fakeRelease, hasCommand, mustRun, runInstaller, signingKey, snapshotTree, tarRelease, tempDir } from './helpers.ts';

const isRoot = process.getuid?.() === 0;

function modeOf(p: string): string {
  return (lstatSync(p).mode & 0o7777).toString(8).padStart(4, '0');
}

function subtree(snap: Map<string, string>, prefix: string): Map<string, string> {
  return new Map([...snap].filter(([k]) => k === prefix || k.startsWith(`${prefix}/`)));
}

test('install into a temporary root puts every file in place with its mode', (t) => {
  const dir = tempDir(t);
  const rel = fakeRelease(join(dir, 'rel'), '1.0.0');
  const root = join(dir, 'root');
  mkdirSync(root);
  const r = mustRun(['install', '--root', root, '--role', 'edge', '--from', rel, '--user', 'edgelog-nosuchuser']);
  assert.match(r.stderr, /installed edgelog 1\.0\.0 \(role edge, guard off\)/);

  const expect: Array<[string, string, string]> = [
    // path, kind, mode
    ['opt/edgelog/releases/1.0.0', 'dir', '0755'],
    ['opt/edgelog/releases/1.0.0/bin/edgelog', 'file', '0755'],
    ['opt/edgelog/releases/1.0.0/VERSION', 'file', '0644'],
    ['opt/edgelog/install.env', 'file', '0644'],
    ['etc/edgelog', 'dir', '0750'],
    ['etc/edgelog/edgelog.yaml', 'file', '0640'],
    ['etc/edgelog/edgelog.yaml.dist', 'file', '0640'],
    ['var/lib/edgelog', 'dir', '0750'],
    ['var/lib/edgelog/checkpoints', 'dir', '0750'],
    ['var/lib/edgelog/spool', 'dir', '0750'],
    ['etc/systemd/system/edgelog.service', 'file', '0644'],
  ];
  for (const [p, kind, mode] of expect) {
    const abs = join(root, p);
    assert.ok(existsSync(abs), `${p} exists`);
    const st = lstatSync(abs);
    assert.equal(kind === 'dir' ? st.isDirectory() : st.isFile(), true, `${p} is a ${kind}`);
    assert.equal(modeOf(abs), mode, `${p} mode`);
  }
  assert.equal(readlinkSync(join(root, 'opt/edgelog/current')), 'releases/1.0.0');
  assert.equal(readlinkSync(join(root, 'usr/local/bin/edgelog')), '/opt/edgelog/current/bin/edgelog');
  assert.ok(!existsSync(join(root, 'opt/edgelog/previous')), 'no previous after a first install');
  // The staged release is not writable by group/others.
  for (const [p, v] of snapshotTree(join(root, 'opt/edgelog/releases/1.0.0'))) {
    if (v.startsWith('link')) continue;
    const mode = parseInt(v.split(' ')[1]!, 8);
    assert.equal(mode & 0o022, 0, `${p} not group/other writable`);
  }
  // The config is the role's defaults; .dist is the same file.
  assert.equal(readFileSync(join(root, 'etc/edgelog/edgelog.yaml'), 'utf8'), readFileSync(join(rel, 'agent/install/defaults/edge.yaml'), 'utf8'));
  assert.match(readFileSync(join(root, 'opt/edgelog/install.env'), 'utf8'), /^ROLE=edge\nGUARD=0\nSVC_USER=edgelog-nosuchuser\n$/);

  // The user does not exist here: intended owners are recorded, files stay ours.
  const pending = readFileSync(join(root, 'opt/edgelog/ownership.pending'), 'utf8').trim().split('\n').sort();
  assert.deepEqual(pending, [
    'edgelog-nosuchuser:edgelog-nosuchuser 0750 /var/lib/edgelog',
    'edgelog-nosuchuser:edgelog-nosuchuser 0750 /var/lib/edgelog/checkpoints',
    'edgelog-nosuchuser:edgelog-nosuchuser 0750 /var/lib/edgelog/spool',
    'root:edgelog-nosuchuser 0640 /etc/edgelog/edgelog.yaml',
    'root:edgelog-nosuchuser 0640 /etc/edgelog/edgelog.yaml.dist',
    'root:edgelog-nosuchuser 0750 /etc/edgelog',
  ]);
  if (isRoot) {
    for (const p of ['opt/edgelog/releases/1.0.0/bin/edgelog', 'etc/systemd/system/edgelog.service', 'etc/edgelog/edgelog.yaml']) {
      assert.equal(statSync(join(root, p)).uid, 0, `${p} owned by root`);
    }
  }

  // Installing again is harmless and keeps everything.
  const before = snapshotTree(root);
  mustRun(['install', '--root', root, '--from', rel]);
  assert.deepEqual(snapshotTree(root), before);
});

test('install applies the service user and group when the user exists', (t) => {
  if (!isRoot) return t.skip('needs root to create a system user');
  if (!hasCommand('useradd') || !hasCommand('unshare')) return t.skip('useradd/unshare not available');
  if (spawnSync('unshare', ['-m', 'true']).status !== 0) return t.skip('cannot create a mount namespace here');
  const dir = tempDir(t);
  const rel = fakeRelease(join(dir, 'rel'), '1.0.0');
  const root = join(dir, 'root');
  mkdirSync(root);
  // The user is created in a private copy of /etc (mount namespace), never on the host.
  cpSync('/etc', join(dir, 'etc'), { recursive: true, verbatimSymlinks: true });
  const user = 'edgelogsvc';
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'bash', '-c', `set -eu
    mount --bind '${dir}/etc' /etc
    useradd --system --user-group --no-create-home --shell /usr/sbin/nologin ${user}
    echo "ids=$(id -u ${user}):$(id -g ${user})"
    bash '${join(rel, 'install.sh')}' install --root '${root}' --from '${rel}' --user ${user}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [uid, gid] = /^ids=(\d+):(\d+)$/m.exec(r.stdout)!.slice(1).map(Number) as [number, number];
  const owners: Array<[string, number, number]> = [
    ['var/lib/edgelog', uid, gid],
    ['var/lib/edgelog/checkpoints', uid, gid],
    ['var/lib/edgelog/spool', uid, gid],
    ['etc/edgelog', 0, gid],
    ['etc/edgelog/edgelog.yaml', 0, gid],
    ['etc/systemd/system/edgelog.service', 0, 0],
    ['opt/edgelog/releases/1.0.0/bin/edgelog', 0, 0],
  ];
  for (const [p, u, g] of owners) {
    const st = statSync(join(root, p));
    assert.equal(`${st.uid}:${st.gid}`, `${u}:${g}`, `${p} owner`);
  }
  assert.ok(!existsSync(join(root, 'opt/edgelog/ownership.pending')), 'nothing pending when the user exists');
  assert.match(readFileSync(join(root, 'etc/systemd/system/edgelog.service'), 'utf8'), new RegExp(`^User=${user}$`, 'm'));
});

test('an existing config is never overwritten; new defaults go beside it', (t) => {
  const dir = tempDir(t);
  const rel = fakeRelease(join(dir, 'rel'), '1.0.0');
  const root = join(dir, 'root');
  mkdirSync(join(root, 'etc/edgelog'), { recursive: true });
  writeFileSync(join(root, 'etc/edgelog/edgelog.yaml'), 'mine: true\n', { mode: 0o600 });
  const given = join(dir, 'given.yaml');
  writeFileSync(given, 'given: true\n');
  const r = mustRun(['install', '--root', root, '--from', rel, '--config', given]);
  assert.match(r.stderr, /keeping existing \/etc\/edgelog\/edgelog\.yaml/);
  assert.equal(readFileSync(join(root, 'etc/edgelog/edgelog.yaml'), 'utf8'), 'mine: true\n');
  assert.equal(readFileSync(join(root, 'etc/edgelog/edgelog.yaml.dist'), 'utf8'), readFileSync(join(rel, 'agent/install/defaults/edge.yaml'), 'utf8'));

  // Without an existing config, --config is what gets installed.
  const root2 = join(dir, 'root2');
  mkdirSync(root2);
  mustRun(['install', '--root', root2, '--from', rel, '--config', given, '--role', 'relay']);
  assert.equal(readFileSync(join(root2, 'etc/edgelog/edgelog.yaml'), 'utf8'), 'given: true\n');
  assert.equal(readFileSync(join(root2, 'etc/edgelog/edgelog.yaml.dist'), 'utf8'), readFileSync(join(rel, 'agent/install/defaults/relay.yaml'), 'utf8'));
});

test('systemd-analyze verify accepts the rendered unit', (t) => {
  if (!hasCommand('systemd-analyze')) return t.skip('systemd-analyze not installed (Debian package systemd)');
  const dir = tempDir(t);
  const rel = fakeRelease(join(dir, 'rel'), '1.0.0');
  for (const [role, extra] of [['edge', []], ['relay', []], ['edge', ['--guard']]] as const) {
    const root = join(dir, `root-${role}-${extra.length}`);
    mkdirSync(root);
    mustRun(['install', '--root', root, '--from', rel, '--role', role, ...extra]);
    // verify checks that ExecStart is an executable file. The unit names the
    // real path /opt/edgelog/current/bin/edgelog; here the release is staged
    // under `root`, so verify a copy whose /opt/edgelog/ points into the
    // staging root (`--root=` would also need /bin/kill and the system targets
    // inside the staging root). Everything else is verified as rendered.
    const unit = readFileSync(join(root, 'etc/systemd/system/edgelog.service'), 'utf8');
    const vdir = join(dir, `verify-${role}-${extra.length}`);
    mkdirSync(vdir);
    const vunit = join(vdir, 'edgelog.service');
    writeFileSync(vunit, unit.replaceAll('/opt/edgelog/', `${root}/opt/edgelog/`));
    const r = spawnSync('systemd-analyze', ['verify', vunit], { encoding: 'utf8' });
    assert.equal(r.status, 0, `systemd-analyze verify (${role} ${extra.join(' ')}):\n${r.stdout}${r.stderr}`);
    assert.equal(r.stderr.trim(), '', 'no warnings');
  }
});

test('systemd-analyze security rates the unit 4.0 or lower (OK band)', (t) => {
  if (!hasCommand('systemd-analyze')) return t.skip('systemd-analyze not installed (Debian package systemd)');
  const dir = tempDir(t);
  const rel = fakeRelease(join(dir, 'rel'), '1.0.0');
  for (const [role, extra] of [['edge', []], ['relay', []], ['edge', ['--guard']]] as const) {
    const root = join(dir, `root-${role}-${extra.length}`);
    mkdirSync(root);
    mustRun(['install', '--root', root, '--from', rel, '--role', role, ...extra]);
    const unit = join(root, 'etc/systemd/system/edgelog.service');
    const r = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', unit], { encoding: 'utf8' });
    const m = /Overall exposure level for edgelog\.service: (\d+(?:\.\d+)?) (\S+)/.exec(r.stdout + r.stderr);
    assert.ok(m, `exposure level in output:\n${r.stdout}${r.stderr}`);
    const level = Number(m[1]);
    t.diagnostic(`exposure ${role}${extra.length ? ' +guard' : ''}: ${level} ${m[2]}`);
    console.log(`# systemd-analyze security exposure (${role}${extra.length ? ', guard on' : ''}): ${level} ${m[2]}`);
    assert.ok(level <= 4.0, `exposure ${level} > 4.0`);
    assert.equal(m[2], 'OK');
  }
});

test('the unit grants only the capabilities the enabled features need', (t) => {
  const dir = tempDir(t);
  const rel = fakeRelease(join(dir, 'rel'), '1.0.0');
  const unitFor = (role: string, extra: string[]): string => {
    const root = join(dir, `root-${role}-${extra.length}`);
    mkdirSync(root);
    mustRun(['install', '--root', root, '--from', rel, '--role', role, ...extra]);
    return readFileSync(join(root, 'etc/systemd/system/edgelog.service'), 'utf8');
  };
  const line = (unit: string, key: string): string[] =>
    unit.split('\n').filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));
  const edge = unitFor('edge', []);
  const relay = unitFor('relay', []);
  const guard = unitFor('edge', ['--guard']);
  // The long-running agent holds no capability in any role; the guard's
  // privileged work is one ExecStartPre=+ step that attaches and pins.
  for (const unit of [edge, relay, guard]) {
    assert.deepEqual(line(unit, 'CapabilityBoundingSet'), ['']);
    assert.deepEqual(line(unit, 'AmbientCapabilities'), ['']);
  }
  assert.deepEqual(line(edge, 'ExecStartPre'), []);
  assert.deepEqual(line(guard, 'ExecStartPre'), ['+-/opt/edgelog/current/bin/edgelog install guard --config /etc/edgelog/edgelog.yaml --user edgelog']);
  assert.deepEqual(line(guard, 'SystemCallFilter')[0], '@system-service bpf');
  assert.deepEqual(line(edge, 'RestrictAddressFamilies'), ['AF_INET AF_INET6 AF_UNIX']);
  assert.deepEqual(line(guard, 'RestrictAddressFamilies'), ['AF_INET AF_INET6 AF_UNIX AF_NETLINK']);
  for (const unit of [edge, relay, guard]) {
    for (const want of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes', 'PrivateDevices=yes',
      'ReadWritePaths=/var/lib/edgelog', 'StateDirectory=edgelog', 'Restart=on-failure', 'ExecReload=/bin/kill -HUP $MAINPID',
      'MemoryDenyWriteExecute=no', 'SystemCallArchitectures=native', 'User=edgelog']) {
      assert.ok(unit.split('\n').includes(want), `unit has ${want}`);
    }
    assert.match(unit, /^TimeoutStopSec=\d+s$/m);
    assert.match(unit, /^ExecStart=\/opt\/edgelog\/current\/bin\/edgelog run --config \/etc\/edgelog\/edgelog\.yaml$/m);
  }
  // The unit subcommand prints exactly what install writes.
  const printed = spawnSync('bash', [join(rel, 'install.sh'), 'unit', '--root', join(dir, 'none'), '--role', 'edge', '--guard'], { encoding: 'utf8' });
  assert.equal(printed.stdout, guard);
});

test('upgrade then rollback keeps config, checkpoints and spool byte-identical', (t) => {
  const dir = tempDir(t);
  const rel1 = fakeRelease(join(dir, 'rel1'), '1.0.0');
  const rel2 = fakeRelease(join(dir, 'rel2'), '2.0.0', '2.0.0', { restartSec: 7 });
  const tar2 = join(dir, 'edgelog-2.0.0-linux-x64.tar.gz');
  const key = signingKey(join(dir, 'key'));
  tarRelease(rel2, tar2, 'edgelog-2.0.0-linux-x64', key);
  const root = join(dir, 'root');
  mkdirSync(root);
  // The operator's release key is recorded at install; the upgrade below verifies with it.
  mustRun(['install', '--root', root, '--from', rel1, '--role', 'edge', '--guard', '--pubkey', key.pub]);

  // An operator edited the config; the agent wrote checkpoints and spool segments.
  writeFileSync(join(root, 'etc/edgelog/edgelog.yaml'), 'agent:\n  site: shop-17\n');
  writeFileSync(join(root, 'var/lib/edgelog/checkpoints/files.json'), JSON.stringify({ '/var/log/syslog': { ino: 42, offset: 123456 } }));
  mkdirSync(join(root, 'var/lib/edgelog/spool/kafka'));
  writeFileSync(join(root, 'var/lib/edgelog/spool/kafka/00000000000000000001.seg'), Buffer.alloc(4096, 7));
  const keep = (): Map<string, string> => {
    const s = snapshotTree(root);
    return new Map([...subtree(s, 'var/lib/edgelog'), ['etc/edgelog/edgelog.yaml', s.get('etc/edgelog/edgelog.yaml')!]]);
  };
  const before = keep();
  const unit1 = readFileSync(join(root, 'etc/systemd/system/edgelog.service'), 'utf8');

  // Upgrade from the tarball (the artifact form), run by the installed (older) installer.
  mustRun(['upgrade', '--root', root, '--from', tar2]);
  assert.equal(readlinkSync(join(root, 'opt/edgelog/current')), 'releases/2.0.0');
  assert.equal(readlinkSync(join(root, 'opt/edgelog/previous')), 'releases/1.0.0');
  assert.ok(lstatSync(join(root, 'opt/edgelog/current')).isSymbolicLink());
  assert.match(readFileSync(join(root, 'opt/edgelog/current/bin/edgelog'), 'utf8'), /edgelog 2\.0\.0/);
  assert.match(readFileSync(join(root, 'etc/edgelog/edgelog.yaml.dist'), 'utf8'), /# release 2\.0\.0/);
  // Role and guard chosen at install time survive the upgrade.
  assert.match(readFileSync(join(root, 'etc/systemd/system/edgelog.service'), 'utf8'), /^ExecStartPre=\+-\/opt\/edgelog\/current\/bin\/edgelog install guard /m);
  assert.deepEqual(keep(), before);
  // The unit is the new release's rendering, not the running installer's.
  assert.match(readFileSync(join(root, 'etc/systemd/system/edgelog.service'), 'utf8'), /^RestartSec=7s$/m);

  const rb = mustRun(['rollback', '--root', root]);
  assert.match(rb.stderr, /rolled back from 2\.0\.0 to 1\.0\.0/);
  assert.equal(readlinkSync(join(root, 'opt/edgelog/current')), 'releases/1.0.0');
  assert.equal(readlinkSync(join(root, 'opt/edgelog/previous')), 'releases/2.0.0');
  assert.match(readFileSync(join(root, 'opt/edgelog/current/bin/edgelog'), 'utf8'), /edgelog 1\.0\.0/);
  assert.deepEqual(keep(), before);
  assert.equal(readFileSync(join(root, 'etc/systemd/system/edgelog.service'), 'utf8'), unit1, 'rollback restores the old unit');

  const st = mustRun(['status', '--root', root]);
  assert.match(st.stdout, /^current: 1\.0\.0$/m);
  assert.match(st.stdout, /^previous: 2\.0\.0$/m);
  assert.match(st.stdout, /^guard: on$/m);

  // A third release prunes what is neither current nor previous.
  const rel3 = fakeRelease(join(dir, 'rel3'), '3.0.0');
  mustRun(['upgrade', '--root', root, '--from', rel3]);
  assert.equal(readlinkSync(join(root, 'opt/edgelog/previous')), 'releases/1.0.0');
  assert.ok(!existsSync(join(root, 'opt/edgelog/releases/2.0.0')), '2.0.0 pruned');
  assert.deepEqual(keep(), before);
});

test('upgrade and rollback refuse when there is nothing to act on', (t) => {
  const dir = tempDir(t);
  const rel = fakeRelease(join(dir, 'rel'), '1.0.0');
  const root = join(dir, 'root');
  mkdirSync(root);
  const up = runInstaller(['upgrade', '--root', root, '--from', rel]);
  assert.notEqual(up.status, 0);
  assert.match(up.stderr, /nothing installed/);
  mustRun(['install', '--root', root, '--from', rel]);
  const rb = runInstaller(['rollback', '--root', root]);
  assert.notEqual(rb.status, 0);
  assert.match(rb.stderr, /no previous release/);
  const bad = runInstaller(['install', '--root', root, '--from', rel, '--version', '9.9.9']);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /does not match/);
  const role = runInstaller(['install', '--root', root, '--role', 'cloud']);
  assert.notEqual(role.status, 0);
  assert.match(role.stderr, /--role: expected edge or relay/);
});

test('uninstall keeps config and state; --purge removes them', (t) => {
  const dir = tempDir(t);
  const rel = fakeRelease(join(dir, 'rel'), '1.0.0');
  const root = join(dir, 'root');
  mkdirSync(root);
  mustRun(['install', '--root', root, '--from', rel]);
  writeFileSync(join(root, 'var/lib/edgelog/checkpoints/files.json'), '{"a":1}');
  const kept = subtree(snapshotTree(root), 'var/lib/edgelog');
  const cfg = readFileSync(join(root, 'etc/edgelog/edgelog.yaml'));

  mustRun(['uninstall', '--root', root]);
  for (const gone of ['opt/edgelog', 'etc/systemd/system/edgelog.service', 'usr/local/bin/edgelog']) {
    assert.ok(!existsSync(join(root, gone)) && !isLink(join(root, gone)), `${gone} removed`);
  }
  assert.deepEqual(subtree(snapshotTree(root), 'var/lib/edgelog'), kept);
  assert.deepEqual(readFileSync(join(root, 'etc/edgelog/edgelog.yaml')), cfg);
  assert.equal(runInstaller(['status', '--root', root]).status, 1, 'status fails when nothing is installed');

  // Reinstall finds the kept config and state and leaves them alone.
  mustRun(['install', '--root', root, '--from', rel]);
  assert.deepEqual(subtree(snapshotTree(root), 'var/lib/edgelog'), kept);
  assert.deepEqual(readFileSync(join(root, 'etc/edgelog/edgelog.yaml')), cfg);

  mustRun(['uninstall', '--root', root, '--purge']);
  for (const gone of ['opt/edgelog', 'etc/edgelog', 'var/lib/edgelog', 'etc/systemd/system/edgelog.service']) {
    assert.ok(!existsSync(join(root, gone)), `${gone} purged`);
  }
});

function isLink(p: string): boolean {
  try { return lstatSync(p).isSymbolicLink(); } catch { return false; }
}

test('--dry-run prints the actions and changes nothing', (t) => {
  const dir = tempDir(t);
  const rel1 = fakeRelease(join(dir, 'rel1'), '1.0.0');
  const rel2 = fakeRelease(join(dir, 'rel2'), '2.0.0');
  const root = join(dir, 'root');
  mkdirSync(root);

  let before = snapshotTree(root);
  const r = mustRun(['install', '--root', root, '--from', rel1, '--dry-run']);
  assert.deepEqual(snapshotTree(root), before, 'dry-run install changed nothing');
  assert.match(r.stdout, /^\+ mv -T .*\/opt\/edgelog\/releases\/1\.0\.0$/m);
  assert.match(r.stdout, /^\+ write .*\/etc\/systemd\/system\/edgelog\.service \(mode 0644\)$/m);
  assert.match(r.stdout, /^\+ write .*\/etc\/edgelog\/edgelog\.yaml \(mode 0640\)$/m);
  assert.match(r.stdout, /^\+ ln -s releases\/1\.0\.0 .*\/opt\/edgelog\/current \(atomic rename\)$/m);
  assert.ok(r.stdout.split('\n').filter(Boolean).every((l) => l.startsWith('+ ')), 'every stdout line is an action');

  mustRun(['install', '--root', root, '--from', rel1]);
  for (const args of [
    ['upgrade', '--root', root, '--from', rel2, '--dry-run'],
    ['uninstall', '--root', root, '--dry-run'],
    ['uninstall', '--root', root, '--purge', '--dry-run'],
  ]) {
    before = snapshotTree(root);
    const d = mustRun(args);
    assert.deepEqual(snapshotTree(root), before, `${args[0]} --dry-run changed nothing`);
    assert.match(d.stdout, /^\+ /m, `${args.join(' ')} printed actions`);
  }
  mustRun(['upgrade', '--root', root, '--from', rel2]);
  before = snapshotTree(root);
  const d = mustRun(['rollback', '--root', root, '--dry-run']);
  assert.deepEqual(snapshotTree(root), before, 'rollback --dry-run changed nothing');
  assert.match(d.stdout, /releases\/1\.0\.0/);
});

test('a live install on / without root is refused unless --dry-run', (t) => {
  // As root, drop to nobody for this check (setpriv, util-linux).
  const asUser = isRoot ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
  if (isRoot && !hasCommand('setpriv')) return t.skip('running as root and setpriv is not available to drop privileges');
  const dir = tempDir(t);
  const rel = fakeRelease(join(dir, 'rel'), '1.0.0');
  spawnSync('chmod', ['-R', 'a+rX', dir]);
  const run = (args: string[]) => {
    const argv = [...asUser, 'bash', join(rel, 'install.sh'), ...args];
    return spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  };
  const r = run(['install']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /install on \/ needs root/);
  const d = run(['install', '--dry-run']);
  assert.equal(d.status, 0, d.stderr);
  assert.match(d.stdout, /^\+ useradd --system .* edgelog$/m);
  assert.match(d.stdout, /^\+ chown edgelog:edgelog \/var\/lib\/edgelog$/m);
  assert.match(d.stdout, /^\+ write \/etc\/systemd\/system\/edgelog\.service \(mode 0644\)$/m);
  assert.match(d.stderr, /dry run, would have installed edgelog 1\.0\.0/);
});

test('runInstall and renderUnit from TypeScript run the same script', async (t) => {
  const { runInstall, renderUnit, installHelp, installScript } = await import('../../agent/install/index.ts');
  assert.ok(existsSync(installScript));
  assert.match(installHelp, /--dry-run/);
  const dir = tempDir(t);
  const rel = fakeRelease(join(dir, 'rel'), '1.0.0');
  const root = join(dir, 'root');
  mkdirSync(root);
  assert.equal(await runInstall(['install', '--root', root, '--from', rel, '--role', 'relay', '--dry-run']), 0);
  assert.equal(await runInstall(['install', '--root', root, '--from', rel, '--role', 'relay']), 0);
  assert.equal(renderUnit({ role: 'relay' }), readFileSync(join(root, 'etc/systemd/system/edgelog.service'), 'utf8'));
  assert.notEqual(await runInstall(['bogus-option-x']), 0);
});

test('a tarball is installed only when its sha256 file and its signature beside it verify', (t) => {
  if (!hasCommand('minisign')) return t.skip('minisign not installed (.ci/setup.sh installs it)');
  const dir = tempDir(t);
  const rel = fakeRelease(join(dir, 'rel'), '1.0.0');
  const key = signingKey(join(dir, 'key'));
  const other = signingKey(join(dir, 'other'), 'attacker');
  const tar = join(dir, 'edgelog-1.0.0-linux-x64.tar.gz');
  tarRelease(rel, tar, 'edgelog-1.0.0-linux-x64', key);
  const fresh = (name: string): string => { const r = join(dir, name); mkdirSync(r); return r; };
  const refused = (root: string, args: string[], why: RegExp): void => {
    const r = runInstaller(['install', '--root', root, '--from', tar, ...args]);
    assert.notEqual(r.status, 0, `refused: ${args.join(' ')}`);
    assert.match(r.stderr, why);
    assert.deepEqual(readdirSync(root), [], 'nothing changed: no user files, no directories');
  };

  // The genuine tarball with the right key installs.
  const ok = fresh('ok');
  const good = mustRun(['install', '--root', ok, '--from', tar, '--pubkey', key.pub]);
  assert.match(good.stderr, /verified .*edgelog-1\.0\.0-linux-x64\.tar\.gz: sha256 [0-9a-f]{64}/);
  assert.equal(readFileSync(join(ok, 'etc/edgelog/release.pub'), 'utf8'), readFileSync(key.pub, 'utf8'), 'the key is recorded for upgrades');

  // No key at all, or the wrong key.
  refused(fresh('nokey'), [], /no release public key/);
  refused(fresh('wrongkey'), ['--pubkey', other.pub], /signature .* does not verify with public key/);

  // A signature made by someone else's key.
  const sig = readFileSync(`${tar}.minisig`);
  const forged = spawnSync('minisign', ['-S', '-s', other.sec, '-m', tar, '-x', `${tar}.minisig`], { encoding: 'utf8' });
  assert.equal(forged.status, 0, forged.stderr);
  refused(fresh('forged'), ['--pubkey', key.pub], /does not verify/);
  writeFileSync(`${tar}.minisig`, sig);

  // Tampered bytes with the original checksum file: the sha256 check fails first.
  const orig = readFileSync(tar);
  const bytes = Buffer.from(orig);
  bytes[bytes.length - 100] ^= 0xff;
  writeFileSync(tar, bytes);
  refused(fresh('tampered'), ['--pubkey', key.pub], /sha256 mismatch/);
  // ... and with a checksum file rewritten to match, the signature still fails.
  writeFileSync(`${tar}.sha256`, `${createHash('sha256').update(bytes).digest('hex')}  x\n`);
  refused(fresh('tampered2'), ['--pubkey', key.pub], /does not verify/);
  writeFileSync(tar, orig);

  // Checksum or signature missing.
  rmSync(`${tar}.minisig`);
  refused(fresh('nosig'), ['--pubkey', key.pub], /no signature .*\.minisig beside it/);
  rmSync(`${tar}.sha256`);
  refused(fresh('nosum'), ['--pubkey', key.pub], /no checksum file .*\.sha256 beside it/);
});
