// `edgelog install guard`: the privileged half of the eBPF guard under
// systemd. The unit runs it as `ExecStartPre=+` (full privileges, before the
// agent): it loads the guard, applies the config's rules, attaches the tc
// filter and pins the maps under guard.pin_root, then hands the pin directory
// to the service user and exits. The long-running agent, which parses
// untrusted input, starts with no capability at all and changes rules and
// reads counters through the pinned maps (GuardController.usesPins; map
// operations on a pin are checked against its file mode on Linux >= 6.5).

import { chownSync, chmodSync, readdirSync, rmSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loadConfigFile } from '../config/load.ts';
import { GuardController } from '../native/guard.ts';

export const guardStepHelp = `usage: edgelog install guard --config FILE [--user NAME] [--detach]

Loads and attaches the tc/eBPF ingress guard configured in FILE's guard:
section, pins its maps under guard.pin_root/<interface>/ and makes that
directory the service user's (default edgelog), so the agent can change rules
without CAP_BPF or CAP_NET_ADMIN. Run as root; the systemd unit runs it as
ExecStartPre=+. Exit 0 also when the config has no guard (nothing to do).
--detach takes the filter off the interface and removes the pins (uninstall).
`;

function say(msg: string): void {
  process.stderr.write(`edgelog-guard: ${msg}\n`);
}

function ids(user: string): { uid: number; gid: number } {
  const r = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', user], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) throw new Error(`no such user: ${user}`);
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** chown -R for a bpffs tree: directories 0700, pins 0600, all owned by the service user. */
function handOver(dir: string, uid: number, gid: number): void {
  chownSync(dir, uid, gid);
  chmodSync(dir, 0o700);
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) handOver(p, uid, gid);
    else { chownSync(p, uid, gid); chmodSync(p, 0o600); }
  }
}

export function runGuardStep(argv: readonly string[]): number {
  let config = '';
  let user = 'edgelog';
  let detach = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h' || a === '--help') { process.stdout.write(guardStepHelp); return 0; }
    if (a === '--detach') { detach = true; continue; }
    if (a === '--config') config = argv[++i] ?? '';
    else if (a === '--user') user = argv[++i] ?? '';
    else { say(`unknown argument ${a}`); return 2; }
  }
  if (!config) { say('--config FILE is required'); return 2; }
  let cfg: ReturnType<typeof loadConfigFile>;
  try { cfg = loadConfigFile(config); } catch (err) { say(`config ${config}: ${(err as Error).message}`); return 2; }
  const g = cfg.guard;
  if (!g.enabled) { say('no guard section enabled in the config; nothing to attach'); return 0; }
  if (!g.pinRoot) {
    say('guard.pin_maps is false: the agent runs without capabilities and can only reach the guard through pinned maps; set guard.pin_maps: true');
    return 2;
  }
  if (detach) {
    try {
      const guard = GuardController.open(g.interface, { pinRoot: g.pinRoot, fromPins: false });
      try { guard.detach(); } finally { guard.close(); }
      rmSync(join(g.pinRoot, g.interface), { recursive: true, force: true });
      say(`detached from ${g.interface}; pins in ${g.pinRoot}/${g.interface} removed`);
      return 0;
    } catch (err) {
      say(`guard not detached: ${(err as Error).message}`);
      return 1;
    }
  }
  try {
    const { uid, gid } = ids(user);
    const guard = GuardController.open(g.interface, { pinRoot: g.pinRoot, fromPins: false });
    try {
      const r = guard.applyRules(g.rules);
      if (!guard.attached) guard.attach();
      say(`attached on ${g.interface}: ${r.added.length} rules added, ${r.removed.length} removed; maps pinned in ${g.pinRoot}/${g.interface}`);
    } finally {
      guard.close(); // pinned: the filter stays attached
    }
    handOver(g.pinRoot, uid, gid);
    say(`${g.pinRoot} handed to ${user} (${uid}:${gid}); the agent needs no capability for rule updates`);
    return 0;
  } catch (err) {
    say(`guard not attached: ${(err as Error).message}`);
    return 1;
  }
}
