// A relay node under a real systemd (see rig.ts), fed by an edge agent: the
// relay is installed in the container from the signed release by the
// cloud-init user data the relay fleet boots with (a tampered tarball and a
// wrong key are refused first), and driven by an operator from there; the
// edge agent runs on the host side (the repository's
// CLI) and forwards the twelve loghub samples and a live writer's lines
// over the veth. The relay writes to a Kafka broker on the host. After each
// step (install, reload, upgrade, rollback, restart under load, uninstall,
// purge) a real consumer checks that every line the edge read arrived: the
// edge keeps what the relay has not acknowledged and resends it when the
// relay is back, so a relay restart loses nothing.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKafkaCluster, type KafkaCluster } from '../../agent/embedded-kafka/cluster.ts';
import { signingKey } from '../install/helpers.ts';
import { renderCloudInit, type CloudInitOptions } from '../../agent/install/cloud-init.ts';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { startAgent, type AgentProcess } from '../helpers/agent-process.ts';
import { NodeContainer, rigSkipReason } from './rig.ts';
import { buildRelease, findLoghub, pause, StepChecks } from './checks.ts';

const loghub = findLoghub();
const skip = rigSkipReason() ?? (existsSync(loghub) ? false : `no samples at ${loghub}`);

test('relay node under systemd fed by an edge agent: cloud-init install (tampered/wrong key refused), reload, upgrade, rollback, restart under load, uninstall, purge', { skip, timeout: 1_200_000 }, async (t: TestContext) => {
  const t0 = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'edgelog-relay-node-'));
  let container: NodeContainer | undefined;
  let kafka: KafkaCluster | undefined;
  let edge: AgentProcess | undefined;
  let writer: NodeJS.Timeout | undefined;
  t.after(async () => {
    if (writer) clearInterval(writer);
    await edge?.kill().catch(() => undefined);
    await kafka?.stop().catch(() => undefined);
    await container?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  const log = (s: string) => t.diagnostic(s);

  const key = signingKey(join(dir, 'key'));
  const [tarA, tarB] = await Promise.all([buildRelease(join(dir, 'dist-a'), '0.1.0-rig.1', key), buildRelease(join(dir, 'dist-b'), '0.1.0-rig.2', key)]);
  log(`releases built at +${Math.round((Date.now() - t0) / 1000)} s`);
  const c = (container = await NodeContainer.boot(join(dir, 'node'), 'r', log));
  kafka = await startKafkaCluster({ name: `node-relay-${process.pid}`, host: c.hostAddr });
  const topic = `node-relay-${process.pid}`;
  await kafka.createTopic(topic, 1);
  for (const tar of [tarA, tarB]) for (const f of [tar, `${tar}.sha256`, `${tar}.minisig`]) copyFileSync(f, join(c.root, 'root', f.split('/').pop()!));
  copyFileSync(key.pub, join(c.root, 'root/release.pub'));
  const inNode = (tar: string) => `/root/${tar.split('/').pop()}`;
  // The relay listens off loopback, so TLS and agent authentication are required
  // (`validate` refuses it otherwise). The certificate (IP SAN: the node's veth
  // address) and the secrets file sit where the infra delivers them; here they are
  // written before the installer creates the service user, so they are 0644
  // (the infra writes them root:edgelog 0640).
  const edgeId = `edge-for-${c.name}`;
  const edgeSecret = randomBytes(24).toString('hex');
  mkdirSync(join(c.root, 'etc/edgelog/tls'), { recursive: true });
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=relay.rig',
    '-addext', `subjectAltName=IP:${c.nodeAddr}`, '-keyout', join(c.root, 'etc/edgelog/tls/relay.key'), '-out', join(c.root, 'etc/edgelog/tls/relay.pem')], { stdio: 'ignore' });
  chmodSync(join(c.root, 'etc/edgelog/tls/relay.key'), 0o644);
  writeFileSync(join(c.root, 'etc/edgelog/agents.secrets'), `${edgeId} ${edgeSecret}\n`, { mode: 0o644 });
  copyFileSync(join(c.root, 'etc/edgelog/tls/relay.pem'), join(dir, 'relay-ca.pem'));

  const relayPort = 24240;
  const relayConfig = (extra: string) => `
agent:
  role: relay
  id: ${c.name}
  data_dir: /var/lib/edgelog
  shutdown_timeout: 20s
observe:
  listen: 127.0.0.1:9700
  log_level: info
sources:
  edges:
    type: forward
    address: ${c.nodeAddr}:${relayPort}
    tls: { cert_file: /etc/edgelog/tls/relay.pem, key_file: /etc/edgelog/tls/relay.key }
    auth: { secrets_file: /etc/edgelog/agents.secrets }
${extra}
sinks:
  kafka:
    type: kafka
    brokers: ["${kafka!.bootstrap}"]
    topic: ${topic}
    encoding:
      codec: otlp_proto
`;
  writeFileSync(join(c.root, 'root/relay.yaml'), relayConfig(''));

  // The edge agent on the host side, with its own files.
  const logs = join(dir, 'edge-logs');
  mkdirSync(logs);
  const samples = readdirSync(loghub).filter((f) => f.endsWith('_2k.log')).sort();
  assert.equal(samples.length, 12);
  for (const f of samples) copyFileSync(join(loghub, f), join(logs, f));
  const live = join(logs, 'live.log');
  writeFileSync(live, '');
  let seq = 0;
  const startWriter = (linesPerTick: number) => {
    if (writer) clearInterval(writer);
    writer = setInterval(() => {
      let s = '';
      for (let i = 0; i < linesPerTick; i++) s += `live ${++seq} ${new Date().toISOString()} relay rig line\n`;
      appendFileSync(live, s);
    }, 20);
  };
  const edgeYaml = join(dir, 'edge.yaml');
  writeFileSync(edgeYaml, `
agent:
  id: ${edgeId}
  data_dir: ${JSON.stringify(join(dir, 'edge-state'))}
  shutdown_timeout: 20s
observe:
  log_level: warn
sources:
  files:
    type: file
    include: [${JSON.stringify(join(logs, '*.log'))}]
    glob_interval: 100ms
    idle_flush: 500ms
sinks:
  relay:
    type: forward
    endpoints: ["${c.nodeAddr}:${relayPort}"]
    tls: { ca_file: ${JSON.stringify(join(dir, 'relay-ca.pem'))} }
    auth: { secret: ${JSON.stringify(edgeSecret)} }
    ack_timeout: 10s
    encoding:
      codec: otlp_proto
    retry:
      initial_backoff: 100ms
      max_backoff: 1s
`);
  const filesNow = (): Map<string, Buffer> => {
    const files = new Map<string, Buffer>();
    for (const f of [...samples, 'live.log']) {
      let b = readFileSync(join(logs, f));
      if (f === 'live.log') b = b.subarray(0, b.lastIndexOf(10) + 1);
      files.set(join(logs, f), b);
    }
    return files;
  };
  const k = new StepChecks(c, kafka, topic, filesNow, log);

  // 1. install the relay the way the relay fleet does: the cloud-init user data from
  // renderCloudInit (the infra ships it byte for byte), run as root by the node. A tampered
  // tarball or a wrong key is refused before anything is unpacked; then the genuine one installs.
  const userData = (over: Partial<CloudInitOptions>): string => renderCloudInit({
    role: 'relay', version: '0.1.0-rig.1', artifactUrl: `file://${inNode(tarA)}`,
    artifactSha256: createHash('sha256').update(readFileSync(tarA)).digest('hex'),
    signingPublicKey: readFileSync(key.pub, 'utf8'), configYaml: relayConfig(''), ...over,
  });
  const other = signingKey(join(dir, 'other'), 'attacker');
  const tampered = Buffer.from(readFileSync(tarA));
  tampered[tampered.length - 100] ^= 0xff;
  mkdirSync(join(c.root, 'root/mirror'));
  writeFileSync(join(c.root, 'root/mirror', tarA.split('/').pop()!), tampered);
  copyFileSync(`${tarA}.minisig`, join(c.root, 'root/mirror', `${tarA.split('/').pop()!}.minisig`));
  const refusals: [string, string, RegExp][] = [
    ['wrong sha256', userData({ artifactSha256: '0'.repeat(64) }), /refusing .*: sha256 mismatch/],
    ['wrong key', userData({ signingPublicKey: other.line }), /refusing .*: signature does not verify/],
    ['tampered tarball', userData({ artifactUrl: `file:///root/mirror/${tarA.split('/').pop()}`, artifactSha256: createHash('sha256').update(tampered).digest('hex') }), /refusing .*: signature does not verify/],
  ];
  for (const [what, script, why] of refusals) {
    const r = c.exec(['bash', '-s'], { input: script });
    assert.notEqual(r.status, 0, `cloud-init user data with a ${what} is refused`);
    assert.match(r.stderr, why, what);
    assert.notEqual(c.exec(['test', '-e', '/opt/edgelog']).status, 0, `${what}: nothing installed`);
    log(`cloud-init, ${what}: refused (${r.stderr.trim().split('\n').pop()})`);
  }
  const boot = c.exec(['bash', '-s'], { input: userData({}) });
  assert.equal(boot.status, 0, `cloud-init user data installs the relay:\n${boot.stderr}`);
  assert.equal(c.mustExec(['cat', '/etc/edgelog/release.pub']).stdout.split('\n')[1], key.line, 'the release key is recorded for upgrades');
  const relA = `/root/unpacked/${tarA.split('/').pop()!.replace(/\.tar\.gz$/, '')}`;
  c.mustExec(['mkdir', '-p', '/root/unpacked']);
  c.mustExec(['tar', '-xzf', inNode(tarA), '-C', '/root/unpacked']); // the operator's copy of the installer, for the purge at the end
  assert.doesNotMatch(c.mustExec(['id', '-nG', 'edgelog']).stdout, /\badm\b/, 'a relay reads no local logs');
  await k.waitActive('install');
  edge = await startAgent(edgeYaml);
  startWriter(5);
  await k.delivered('install --role relay', [/Started edgelog\.service/, /"msg":"agent started".*"role":"relay"/]);
  const st = await k.caps('relay');
  const exposureRelay = k.exposure('relay');

  // 2. reload with a changed config.
  const pid = c.mainPid();
  writeFileSync(join(c.root, 'etc/edgelog/edgelog.yaml'), relayConfig(`transforms:
  step:
    type: enrich
    labels: { rig.step: reloaded }
`));
  c.mustExec(['systemctl', 'reload', 'edgelog.service']);
  let records = await k.delivered('systemctl reload', [/Reloaded edgelog\.service/, /"msg":"config reloaded"/]);
  const endReload = Date.now() + 60_000;
  while (!records.some((r) => r.attributes['rig.step'] === 'reloaded') && Date.now() < endReload) records = await k.readAll();
  assert.ok(records.some((r) => r.attributes['rig.step'] === 'reloaded'), 'records after the reload carry the new label');
  assert.equal(c.mainPid(), pid, 'reload kept the process');

  // 3. upgrade, 4. rollback: the edge resends what the stopped relay had not acknowledged.
  c.mustExec(['edgelog', 'install', 'upgrade', '--from', inNode(tarB)]);
  await k.waitActive('upgrade');
  assert.equal(c.mustExec(['edgelog', '--version']).stdout.trim(), '0.1.0-rig.2');
  await k.delivered('install upgrade', [/Stopped edgelog\.service/, /"msg":"agent started".*"role":"relay"/], { duplicatesAllowed: true });
  c.mustExec(['edgelog', 'install', 'rollback']);
  await k.waitActive('rollback');
  assert.equal(c.mustExec(['edgelog', '--version']).stdout.trim(), '0.1.0-rig.1');
  await k.delivered('install rollback', [/"msg":"agent started".*"role":"relay"/], { duplicatesAllowed: true });

  // 5. restart under load.
  startWriter(40);
  await pause(1000); // let load build up before the restart (not a condition wait)
  c.mustExec(['systemctl', 'restart', 'edgelog.service']);
  await k.waitActive('restart');
  await pause(1000);
  clearInterval(writer!);
  writer = undefined;
  await k.delivered('systemctl restart under load', [/"msg":"agent stopping"/, /"msg":"agent started"/], { duplicatesAllowed: true });
  await k.caps('relay after restart');

  // 6. uninstall (config and state kept), 7. purge.
  c.mustExec(['edgelog', 'install', 'uninstall']);
  assert.notEqual(k.active(), 'active');
  assert.equal(c.exec(['test', '-f', '/etc/edgelog/edgelog.yaml']).status, 0, 'config kept');
  await k.journal('uninstall', [/Stopped edgelog\.service/]);
  c.mustExec(['bash', `${relA}/install.sh`, 'uninstall', '--purge']);
  assert.notEqual(c.exec(['getent', 'passwd', 'edgelog']).status, 0, 'user removed');
  for (const p of ['/etc/edgelog', '/var/lib/edgelog', '/opt/edgelog']) assert.notEqual(c.exec(['test', '-e', p]).status, 0, `${p} removed`);
  k.rows.push({ step: 'uninstall, uninstall --purge', written: 0, consumed: 0, lost: 0, duplicates: 0, journal: 'Stopped edgelog.service' });

  log(`rig total ${Math.round((Date.now() - t0) / 1000)} s; exposure relay ${exposureRelay}; caps ${JSON.stringify(st)}`);
  for (const line of k.table()) log(line);
});
