// install.sh on "/" (the path cloud-init takes: useradd, chown, adm group,
// systemctl skipped without a running systemd) inside a private mount
// namespace: /etc is a copy, /opt, /var/lib and /usr/local are empty tmpfs,
// so the host's users and files are never touched.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fakeRelease, hasCommand, tempDir } from './helpers.ts';

test('live install, upgrade, rollback and purge on / in a private mount namespace', (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root (mount namespace, useradd)');
  if (!hasCommand('unshare') || !hasCommand('useradd')) return t.skip('unshare or useradd not available');
  const dir = tempDir(t, 'edgelog-live-');
  const rel1 = fakeRelease(join(dir, 'rel1'), '1.0.0');
  const rel2 = fakeRelease(join(dir, 'rel2'), '2.0.0');
  cpSync('/etc', join(dir, 'etc'), { recursive: true, verbatimSymlinks: true });
  const script = join(dir, 'live.sh');
  writeFileSync(script, `set -eu
mount --bind ${dir}/etc /etc
mount -t tmpfs none /opt
mount -t tmpfs none /var/lib
mount -t tmpfs none /usr/local
getent passwd edgelog >/dev/null && { echo "edgelog user exists in the copied /etc"; exit 3; }
bash ${rel1}/install.sh install --role edge
echo "user=$(id -un edgelog) groups=$(id -Gn edgelog | tr ' ' ',') shell=$(getent passwd edgelog | cut -d: -f7)"
stat -c 'stat %U:%G %a %n' /var/lib/edgelog /var/lib/edgelog/spool /var/lib/edgelog/checkpoints /etc/edgelog /etc/edgelog/edgelog.yaml /etc/systemd/system/edgelog.service /opt/edgelog/releases/1.0.0/bin/edgelog
echo "run=$(/usr/local/bin/edgelog)"
test ! -e /opt/edgelog/ownership.pending && echo "pending=none"
echo 'spool' > /var/lib/edgelog/spool/seg && chown edgelog:edgelog /var/lib/edgelog/spool/seg
bash ${rel2}/install.sh upgrade
echo "run=$(/usr/local/bin/edgelog)"
bash ${rel2}/install.sh rollback
echo "run=$(/usr/local/bin/edgelog)"
echo "seg=$(cat /var/lib/edgelog/spool/seg) $(stat -c %U /var/lib/edgelog/spool/seg)"
bash /opt/edgelog/current/install.sh uninstall
echo "after-uninstall user=$(id -un edgelog) state=$(test -d /var/lib/edgelog && echo kept) config=$(test -f /etc/edgelog/edgelog.yaml && echo kept)"
bash ${rel1}/install.sh uninstall --purge
echo "after-purge user=$(getent passwd edgelog >/dev/null && echo present || echo gone) state=$(test -e /var/lib/edgelog && echo present || echo gone) config=$(test -e /etc/edgelog && echo present || echo gone)"
`);
  const probe = spawnSync('unshare', ['-m', 'true']);
  if (probe.status !== 0) return t.skip('cannot create a mount namespace here');
  const passwdBefore = readFileSync('/etc/passwd');
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'bash', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const out = r.stdout;
  assert.match(out, /^user=edgelog groups=edgelog,adm shell=\/usr\/sbin\/nologin$/m);
  const stats = out.split('\n').filter((l) => l.startsWith('stat ')).map((l) => l.slice(5));
  assert.deepEqual(stats, [
    'edgelog:edgelog 750 /var/lib/edgelog',
    'edgelog:edgelog 750 /var/lib/edgelog/spool',
    'edgelog:edgelog 750 /var/lib/edgelog/checkpoints',
    'root:edgelog 750 /etc/edgelog',
    'root:edgelog 640 /etc/edgelog/edgelog.yaml',
    'root:root 644 /etc/systemd/system/edgelog.service',
    'root:root 755 /opt/edgelog/releases/1.0.0/bin/edgelog',
  ]);
  assert.deepEqual(out.split('\n').filter((l) => l.startsWith('run=')), ['run=edgelog 1.0.0', 'run=edgelog 2.0.0', 'run=edgelog 1.0.0']);
  assert.match(out, /^pending=none$/m);
  assert.match(out, /^seg=spool edgelog$/m);
  assert.match(out, /^after-uninstall user=edgelog state=kept config=kept$/m);
  assert.match(out, /^after-purge user=gone state=gone config=gone$/m);
  assert.match(r.stderr, /systemd is not running here; skipped: systemctl enable edgelog\.service/);
  // The host's user database was not touched.
  assert.deepEqual(readFileSync('/etc/passwd'), passwdBefore);
});
