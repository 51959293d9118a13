// Least privilege for the guard: a privileged step (`edgelog install guard`,
// the unit's ExecStartPre=+) attaches and pins; a process with no capability
// at all, as another user, then changes the rules and reads the counters
// through the pinned maps, and the kernel enforces what it set. Traffic comes
// from a network namespace this test creates; the bpffs is a private mount
// in a temp dir. Everything is torn down in t.after.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capabilities, kernelVersion } from '../../agent/native/capabilities.ts';
import { canUseNetns, createRegionNet } from '../../agent/drill/netns.ts';

const repo = join(import.meta.dirname, '../..');
const client = join(import.meta.dirname, 'helpers/pinned-guard-client.ts');
const ns = canUseNetns();
const guard = capabilities().guard;
const [maj, min] = kernelVersion();
const skip = !ns.ok ? ns.reason
  : !guard.available ? `guard unavailable: ${guard.reason}`
  : maj < 6 || (maj === 6 && min < 5) ? `Linux ${maj}.${min}: map operations on pinned maps need CAP_BPF before 6.5`
  : spawnSync('setpriv', ['--version']).status !== 0 ? 'setpriv (util-linux) not installed'
  : false;

interface ClientOut { uid: number; caps: Record<string, string>; usesPins: boolean; attached: boolean; counters: { reasons: Record<string, { packets: number }> } }

test('guard attached by a privileged step; an agent with no capability updates rules through the pinned maps', { skip }, (t) => {
  const net = createRegionNet(`p${process.pid % 10000}`, 230 + (process.pid % 10));
  t.after(() => net.destroy());
  const dir = mkdtempSync(join(tmpdir(), 'edgelog-pinned-'));
  chmodSync(dir, 0o755); // the unprivileged client walks into it
  const bpffs = join(dir, 'bpffs');
  mkdirSync(bpffs);
  execFileSync('mount', ['-t', 'bpf', 'bpf', bpffs]);
  // one hook, in order: the mount goes before the directory holding it
  t.after(() => { spawnSync('umount', ['-l', bpffs]); rmSync(dir, { recursive: true, force: true }); });
  const pinRoot = join(bpffs, 'edgelog');
  const port = 21000 + (process.pid % 20000);
  const cfg = join(dir, 'edgelog.yaml');
  writeFileSync(cfg, `
agent: { id: pinned-guard, data_dir: ${JSON.stringify(join(dir, 'state'))} }
guard: { interface: ${net.hostIf}, deny: [], ports: [${port}], pin_root: ${JSON.stringify(pinRoot)} }
sources:
  udp_in: { type: syslog, mode: udp, address: "${net.hostAddr}:${port}", insecure: true }
sinks:
  out: { type: kafka, brokers: ["127.0.0.1:9"], topic: t }
`);
  // The privileged step, as the unit runs it (here for the user nobody).
  const step = spawnSync(process.execPath, [join(repo, 'agent/cli/main.ts'), 'install', 'guard', '--config', cfg, '--user', 'nobody'], { encoding: 'utf8' });
  assert.equal(step.status, 0, step.stderr);
  assert.match(step.stderr, /edgelog-guard: attached on /);
  t.after(() => { spawnSync('tc', ['qdisc', 'del', 'dev', net.hostIf, 'clsact']); });
  const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
  const st = statSync(join(pinRoot, net.hostIf, 'cfg'));
  assert.equal(st.uid, nobody, 'the pins belong to the service user');
  assert.equal(st.mode & 0o777, 0o600);

  const asNobody = (...args: string[]): ClientOut => {
    const r = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all',
      process.execPath, client, pinRoot, net.hostIf, ...args], { encoding: 'utf8', cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as ClientOut;
  };
  const a = asNobody('apply', `${net.nsAddr}/32`);
  t.diagnostic(`unprivileged client: uid ${a.uid} ${JSON.stringify(a.caps)}`);
  assert.equal(a.uid, nobody);
  for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) assert.equal(BigInt(`0x${a.caps[set]}`), 0n, `${set} is empty`);
  assert.equal(a.usesPins, true);
  assert.equal(a.attached, true, 'the filter the privileged step attached is seen (unprivileged rtnetlink query)');

  // The deny rule the unprivileged process set is enforced by the kernel.
  for (let i = 0; i < 10; i++) execFileSync('ip', ['netns', 'exec', net.ns, 'bash', '-c', `echo '<14>denied ${i}' > /dev/udp/${net.hostAddr}/${port}`]);
  const b = asNobody('read');
  assert.ok(b.counters.reasons.deny!.packets >= 10, `deny drops counted: ${JSON.stringify(b.counters.reasons)}`);
  // Lifting the rule works the same way.
  const c = asNobody('apply');
  for (let i = 0; i < 5; i++) execFileSync('ip', ['netns', 'exec', net.ns, 'bash', '-c', `echo '<14>passed ${i}' > /dev/udp/${net.hostAddr}/${port}`]);
  const d = asNobody('read');
  assert.equal(d.counters.reasons.deny!.packets, c.counters.reasons.deny!.packets, 'no drops after the rule was lifted');

  // What uninstall runs: the privileged step takes the filter off and removes the pins.
  assert.match(execFileSync('tc', ['filter', 'show', 'dev', net.hostIf, 'ingress'], { encoding: 'utf8' }), /\S/);
  const off = spawnSync(process.execPath, [join(repo, 'agent/cli/main.ts'), 'install', 'guard', '--detach', '--config', cfg], { encoding: 'utf8' });
  assert.equal(off.status, 0, off.stderr);
  assert.equal(execFileSync('tc', ['filter', 'show', 'dev', net.hostIf, 'ingress'], { encoding: 'utf8' }).trim(), '', 'no filter left');
  assert.equal(existsSync(join(pinRoot, net.hostIf)), false, 'pins removed');
});
