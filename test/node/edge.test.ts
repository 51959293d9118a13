// An edge node under a real systemd (see rig.ts), driven as an operator
// would: verify and install the signed release tarball that build.sh made,
// ship the twelve loghub samples and a live writer to a Kafka broker on the
// host over the veth, reload with a changed config, upgrade to a second
// build and roll back, restart under load, uninstall and purge; then the
// same node with the eBPF guard. After each step a real consumer checks that
// every written line arrived (duplicates allowed after a restart, as the
// delivery contract says) and journald is checked for the step's lines.
// The capability sets of the running agent come from /proc/<pid>/status
// inside the container, and `systemd-analyze security` runs there too.
//
// Run time: two release builds in parallel (~25 s), container boot (<1 s
// after the cached debootstrap; the first run debootstraps ~40 s), broker
// start and the steps; t.diagnostic prints the total.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { appendFileSync, chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { startKafkaCluster, type KafkaCluster } from '../../agent/embedded-kafka/cluster.ts';
import { signingKey } from '../install/helpers.ts';
import { NodeContainer, rigSkipReason } from './rig.ts';
import { buildRelease, findLoghub, StepChecks } from './checks.ts';

const loghub = findLoghub();
const skip = rigSkipReason() ?? (existsSync(loghub) ? false : `no samples at ${loghub}`);
test('edge node under systemd: verified install, ship, reload, upgrade, rollback, restart under load, uninstall, purge; guard with no capability', { skip, timeout: 1_200_000 }, async (t: TestContext) => {
  const t0 = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'edgelog-node-'));
  let container: NodeContainer | undefined;
  let kafka: KafkaCluster | undefined;
  let writer: NodeJS.Timeout | undefined;
  t.after(async () => {
    if (writer) clearInterval(writer);
    await kafka?.stop().catch(() => undefined);
    await container?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  const log = (s: string) => t.diagnostic(s);

  // --- the two releases, signed by a key only this test holds ---------------------------
  const key = signingKey(join(dir, 'key'));
  const [tarA, tarB] = await Promise.all([buildRelease(join(dir, 'dist-a'), '0.1.0-rig.1', key), buildRelease(join(dir, 'dist-b'), '0.1.0-rig.2', key)]);
  log(`releases built at +${Math.round((Date.now() - t0) / 1000)} s`);

  const c = (container = await NodeContainer.boot(join(dir, 'node'), 'e', log));
  kafka = await startKafkaCluster({ name: `node-${process.pid}`, host: c.hostAddr });
  const topic = `node-edge-${process.pid}`;
  await kafka.createTopic(topic, 1);
  log(`kafka on ${kafka.bootstrap} at +${Math.round((Date.now() - t0) / 1000)} s`);

  // What the operator received: the tarballs with .sha256 and .minisig beside them, and the project's public key.
  for (const tar of [tarA, tarB]) for (const f of [tar, `${tar}.sha256`, `${tar}.minisig`]) copyFileSync(f, join(c.root, 'root', f.split('/').pop()!));
  copyFileSync(key.pub, join(c.root, 'root/release.pub'));
  const inNode = (tar: string) => `/root/${tar.split('/').pop()}`;

  // The logs: Debian's layout (root:adm 0640 in a root:adm 0750 dir), read by the service through its group.
  const appDir = join(c.root, 'var/log/app');
  mkdirSync(appDir, { recursive: true });
  const adm = Number(c.mustExec(['getent', 'group', 'adm']).stdout.split(':')[2]);
  chownSync(appDir, 0, adm);
  chmodSync(appDir, 0o750);
  const samples = readdirSync(loghub).filter((f) => f.endsWith('_2k.log')).sort();
  assert.equal(samples.length, 12);
  for (const f of samples) {
    copyFileSync(join(loghub, f), join(appDir, f));
    chownSync(join(appDir, f), 0, adm);
    chmodSync(join(appDir, f), 0o640);
  }
  const live = join(appDir, 'live.log');
  writeFileSync(live, '');
  chownSync(live, 0, adm);
  chmodSync(live, 0o640);
  let seq = 0;
  const startWriter = (linesPerTick: number) => {
    if (writer) clearInterval(writer);
    writer = setInterval(() => {
      let s = '';
      for (let i = 0; i < linesPerTick; i++) s += `live ${++seq} ${new Date().toISOString()} edge node rig line\n`;
      appendFileSync(live, s);
    }, 20);
  };

  const config = (extra: string) => `
agent:
  role: edge
  id: ${c.name}
  data_dir: /var/lib/edgelog
  shutdown_timeout: 20s
observe:
  listen: 127.0.0.1:9700
  log_level: info
sources:
  app:
    type: file
    include: [/var/log/app/*.log]
    glob_interval: 200ms
    idle_flush: 500ms
${extra}
sinks:
  kafka:
    type: kafka
    brokers: ["${kafka!.bootstrap}"]
    topic: ${topic}
`;
  writeFileSync(join(c.root, 'root/edge.yaml'), config(''));

  const samplesNow = (): Map<string, Buffer> => {
    const files = new Map<string, Buffer>();
    for (const f of [...samples, 'live.log']) {
      let b = readFileSync(join(appDir, f));
      if (f === 'live.log') b = b.subarray(0, b.lastIndexOf(10) + 1);
      files.set(`/var/log/app/${f}`, b);
    }
    return files;
  };
  const k = new StepChecks(c, kafka, topic, samplesNow, log);
  const readAll = () => k.readAll();
  const delivered = (step: string, expect: RegExp[], opts: { duplicatesAllowed?: boolean } = {}) => k.delivered(step, expect, opts);
  const caps = (label: string) => k.caps(label);
  const exposure = (label: string) => k.exposure(label);
  const active = () => k.active();
  const waitActive = (what: string) => k.waitActive(what);

  // --- 1. install, as an operator: check the signature, unpack, `edgelog install` ----------
  startWriter(5);
  c.mustExec(['minisign', '-V', '-q', '-m', inNode(tarA), '-p', '/root/release.pub']);
  c.mustExec(['mkdir', '-p', '/root/unpacked']);
  c.mustExec(['tar', '-xzf', inNode(tarA), '-C', '/root/unpacked']);
  const relA = `/root/unpacked/${tarA.split('/').pop()!.replace(/\.tar\.gz$/, '')}`;
  // Refused before anything is unpacked: a tampered copy (with the original .sha256, then with
  // a .sha256 rewritten to match it) and the genuine tarball with someone else's key.
  const other = signingKey(join(dir, 'other'), 'attacker');
  copyFileSync(other.pub, join(c.root, 'root/attacker.pub'));
  const name = tarA.split('/').pop()!;
  mkdirSync(join(c.root, 'root/mirror'));
  const bad = Buffer.from(readFileSync(tarA));
  bad[bad.length - 100] ^= 0xff;
  writeFileSync(join(c.root, 'root/mirror', name), bad);
  copyFileSync(`${tarA}.sha256`, join(c.root, 'root/mirror', `${name}.sha256`));
  copyFileSync(`${tarA}.minisig`, join(c.root, 'root/mirror', `${name}.minisig`));
  const refuse = (what: string, from: string, pub: string, why: RegExp) => {
    const r = c.exec([`${relA}/bin/edgelog`, 'install', '--from', from, '--pubkey', pub, '--role', 'edge', '--config', '/root/edge.yaml']);
    assert.notEqual(r.status, 0, `${what} refused`);
    assert.match(r.stderr, why, what);
    assert.notEqual(c.exec(['test', '-e', '/opt/edgelog']).status, 0, `${what}: nothing installed`);
    log(`edgelog install, ${what}: refused (${r.stderr.trim().split('\n').pop()})`);
  };
  refuse('tampered tarball', `/root/mirror/${name}`, '/root/release.pub', /sha256 mismatch/);
  writeFileSync(join(c.root, 'root/mirror', `${name}.sha256`), `${createHash('sha256').update(bad).digest('hex')}  ${name}\n`);
  refuse('tampered tarball with a matching .sha256', `/root/mirror/${name}`, '/root/release.pub', /signature .* does not verify/);
  refuse('wrong public key', inNode(tarA), '/root/attacker.pub', /signature .* does not verify/);
  const inst = c.mustExec([`${relA}/bin/edgelog`, 'install', '--from', inNode(tarA), '--pubkey', '/root/release.pub', '--role', 'edge', '--config', '/root/edge.yaml']);
  assert.match(inst.stderr, /verified \/root\/edgelog-0\.1\.0-rig\.1-linux-\w+\.tar\.gz: sha256 [0-9a-f]{64}/);
  assert.match(c.mustExec(['getent', 'passwd', 'edgelog']).stdout, /^edgelog:x:\d+:\d+:.*:\/var\/lib\/edgelog:\/usr\/sbin\/nologin$/m, 'real useradd');
  assert.match(c.mustExec(['id', '-nG', 'edgelog']).stdout, /\badm\b/);
  assert.equal(c.mustExec(['systemctl', 'is-enabled', 'edgelog.service']).stdout.trim(), 'enabled');
  await waitActive('install');
  await delivered('install --role edge', [/Started edgelog\.service/, /"msg":"agent started".*"role":"edge"/]);
  const st = await caps('edge, no guard');
  assert.match(st.Groups!, new RegExp(`\\b${adm}\\b`), 'the agent runs with the adm group');
  const exposureEdge = exposure('edge');

  // --- 2. reload with a changed config (SIGHUP) -------------------------------------------
  const pidBefore = c.mainPid();
  writeFileSync(join(c.root, 'etc/edgelog/edgelog.yaml'), config(`transforms:
  step:
    type: enrich
    labels: { rig.step: reloaded }
`));
  c.mustExec(['systemctl', 'reload', 'edgelog.service']);
  let records = await delivered('systemctl reload', [/Reload(ing|ed) edgelog\.service/, /"msg":"config reloaded"/]);
  const reloadedAt = seq;
  const endReload = Date.now() + 60_000;
  while (!records.some((r) => r.attributes['rig.step'] === 'reloaded') && Date.now() < endReload) records = await readAll();
  assert.ok(records.some((r) => r.attributes['rig.step'] === 'reloaded'), `records after the reload carry the new label (writer at ${reloadedAt})`);
  assert.equal(c.mainPid(), pidBefore, 'reload kept the process');

  // --- 3. upgrade to the second build, 4. rollback -------------------------------------------
  const up = c.mustExec(['edgelog', 'install', 'upgrade', '--from', inNode(tarB)]);
  assert.match(up.stderr, /verified .* with|verified /, 'the upgrade verified the tarball with the recorded key');
  await waitActive('upgrade');
  assert.equal(c.mustExec(['edgelog', '--version']).stdout.trim(), '0.1.0-rig.2');
  await delivered('install upgrade', [/Stopping edgelog\.service|Stopped edgelog\.service/, /"msg":"agent started"/], { duplicatesAllowed: true });
  c.mustExec(['edgelog', 'install', 'rollback']);
  await waitActive('rollback');
  assert.equal(c.mustExec(['edgelog', '--version']).stdout.trim(), '0.1.0-rig.1');
  await delivered('install rollback', [/"msg":"agent started"/], { duplicatesAllowed: true });

  // --- 5. restart under load -------------------------------------------------------------------
  startWriter(40); // ~2000 lines/s while systemd stops and starts the agent
  await new Promise((r) => setTimeout(r, 1000)); // let load build up before the restart (not a condition wait)
  c.mustExec(['systemctl', 'restart', 'edgelog.service']);
  await waitActive('restart');
  await new Promise((r) => setTimeout(r, 1000));
  clearInterval(writer!);
  writer = undefined;
  await delivered('systemctl restart under load', [/"msg":"agent stopping"/, /"msg":"agent stopped"/, /"msg":"agent started"/], { duplicatesAllowed: true });
  // The release launcher's compile cache (CacheDirectory=edgelog), written when the agent stopped:
  // filled, and private to the service user.
  assert.equal(c.mustExec(['stat', '-c', '%U %a', '/var/cache/edgelog']).stdout.trim(), 'edgelog 700');
  const cached = Number(c.mustExec(['sh', '-c', 'find /var/cache/edgelog/node-compile-cache -type f | wc -l']).stdout.trim());
  assert.ok(cached > 0, 'the compile cache holds the compiled modules after a clean stop');
  assert.equal(c.mustExec(['sh', '-c', 'find /var/cache/edgelog ! -user edgelog | wc -l']).stdout.trim(), '0', 'every cache file belongs to the service user');

  // --- 6. uninstall, 7. uninstall --purge ----------------------------------------------------------
  c.mustExec(['edgelog', 'install', 'uninstall']);
  assert.notEqual(active(), 'active');
  assert.equal(c.exec(['test', '-e', '/etc/systemd/system/edgelog.service']).status, 1, 'unit removed');
  assert.equal(c.exec(['test', '-e', '/opt/edgelog']).status, 1);
  assert.equal(c.exec(['test', '-e', '/var/cache/edgelog']).status, 1, 'compile cache removed with the releases');
  assert.equal(c.exec(['test', '-f', '/etc/edgelog/edgelog.yaml']).status, 0, 'config kept');
  assert.equal(c.exec(['test', '-d', '/var/lib/edgelog/checkpoints']).status, 0, 'state kept');
  await delivered('uninstall', [/Stopped edgelog\.service|Deactivated successfully/], { duplicatesAllowed: true });
  c.mustExec(['bash', `${relA}/install.sh`, 'uninstall', '--purge']);
  assert.notEqual(c.exec(['getent', 'passwd', 'edgelog']).status, 0, 'user removed');
  for (const p of ['/etc/edgelog', '/var/lib/edgelog', '/usr/local/bin/edgelog']) assert.notEqual(c.exec(['test', '-e', p]).status, 0, `${p} removed`);

  // --- 8. the guard: attached by the privileged ExecStartPre=+, the agent holds no capability ---
  const port = 5140;
  const guardCfg = (deny: string[]) => config(`  udp_in:
    type: syslog
    mode: udp
    address: "${c.nodeAddr}:${port}"
    # UDP syslog cannot carry TLS: off loopback it is accepted on purpose, and the guard filters it.
    insecure: true
guard:
  interface: host0
  deny: ${JSON.stringify(deny)}
  ports: [${port}]
`);
  writeFileSync(join(c.root, 'root/edge-guard.yaml'), guardCfg([`${c.hostAddr}/32`]));
  c.mustExec([`${relA}/bin/edgelog`, 'install', '--from', inNode(tarA), '--pubkey', '/root/release.pub', '--role', 'edge', '--guard', '--config', '/root/edge-guard.yaml']);
  await waitActive('install --guard');
  await k.journal('install --guard', [/edgelog-guard: attached on host0/, /edgelog-guard: \/sys\/fs\/bpf\/edgelog handed to edgelog/, /"msg":"guard rules applied"/]);
  const pins = c.mustExec(['stat', '-c', '%U %a', '/sys/fs/bpf/edgelog/host0', '/sys/fs/bpf/edgelog/host0/cfg']).stdout.trim().split('\n');
  assert.deepEqual(pins, ['edgelog 700', 'edgelog 600'], 'the pins belong to the service user');
  const capsGuard = await caps('edge + guard');
  const exposureGuard = exposure('edge + guard');
  const metrics = () => c.mustExec(['/opt/edgelog/current/bin/node', '-e', 'fetch("http://127.0.0.1:9700/metrics").then((r) => r.text()).then((t) => process.stdout.write(t))']).stdout;
  const dropped = () => [...metrics().matchAll(/^edgelog_guard_dropped_packets_total\{[^}]*reason="deny"[^}]*\} (\d+)/gm)].reduce((a, m) => a + Number(m[1]), 0);
  const send = async (tag: string, n: number) => {
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, c.hostAddr, () => r()));
    for (let i = 0; i < n; i++) await new Promise<void>((r, j) => sock.send(`<14>${tag} ${i}`, port, c.nodeAddr, (e) => (e ? j(e) : r())));
    sock.close();
  };
  const waitGuard = async (what: string, cond: () => boolean) => {
    const end = Date.now() + 60_000;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`guard: timed out waiting for ${what}\n${metrics().split('\n').filter((l) => l.startsWith('edgelog_guard')).join('\n')}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  await waitGuard('the agent serving /metrics', () => c.exec(['/opt/edgelog/current/bin/node', '-e', 'fetch("http://127.0.0.1:9700/readyz").then(() => process.exit(0), () => process.exit(1))']).status === 0);
  await send('guard-denied', 50);
  await waitGuard('50 deny drops on /metrics', () => dropped() >= 50);
  assert.ok(!(await readAll()).some((r) => r.body.toString().includes('guard-denied')), 'denied datagrams never reached Kafka');
  // A reload lifts the rule through the pinned maps (the agent has no CAP_BPF/CAP_NET_ADMIN).
  writeFileSync(join(c.root, 'etc/edgelog/edgelog.yaml'), guardCfg([]));
  c.mustExec(['systemctl', 'reload', 'edgelog.service']);
  const lifted = await k.journal('reload lifting the deny rule', [/Reloaded edgelog\.service/, /"msg":"guard rules applied".*"removed":\["deny/]);
  const before = dropped();
  await send('guard-passed', 50);
  let passed = 0;
  const endPass = Date.now() + 60_000;
  while (passed < 50 && Date.now() < endPass) passed = (await readAll()).filter((r) => r.body.toString().includes('guard-passed')).length;
  assert.equal(passed, 50, 'after the reload lifted the deny rule every datagram arrived');
  assert.equal(dropped(), before, 'no drops after the rule was lifted');
  await caps('edge + guard after reload');
  log(`guard: 50 denied datagrams dropped and counted, 50 passed after reload; journald ${lifted.length} lines since the reload`);
  assert.match(c.mustExec(['tc', 'filter', 'show', 'dev', 'host0', 'ingress']).stdout, /\S/, 'the guard filter is on host0');

  // --- 9. upgrade --no-guard: the pinned filter comes off the interface (it would outlive the agent otherwise) ---
  const upNoGuard = c.mustExec(['edgelog', 'install', 'upgrade', '--from', inNode(tarB), '--no-guard']);
  assert.match(upNoGuard.stderr, /edgelog-guard: detached from host0/);
  await waitActive('upgrade --no-guard');
  assert.equal(c.mustExec(['tc', 'filter', 'show', 'dev', 'host0', 'ingress']).stdout.trim(), '', 'upgrade --no-guard took the guard off the interface');
  assert.notEqual(c.exec(['test', '-e', '/sys/fs/bpf/edgelog/host0']).status, 0, 'pins removed');
  assert.match(c.mustExec(['edgelog', 'install', 'status']).stdout, /guard: off/);
  log('upgrade --no-guard: filter detached, pins removed, service active');
  const un = c.mustExec(['edgelog', 'install', 'uninstall', '--purge']);
  assert.doesNotMatch(un.stderr, /could not be detached/);
  assert.equal(c.mustExec(['tc', 'filter', 'show', 'dev', 'host0', 'ingress']).stdout.trim(), '', 'nothing on the interface after uninstall');

  const seconds = Math.round((Date.now() - t0) / 1000);
  log(`rig total ${seconds} s; exposure edge ${exposureEdge}, edge+guard ${exposureGuard}; caps with guard ${JSON.stringify(capsGuard)}`);
  k.rows.push({ step: 'uninstall --purge', written: 0, consumed: 0, lost: 0, duplicates: 0, journal: '(no service)' });
  for (const line of k.table()) log(line);
});
