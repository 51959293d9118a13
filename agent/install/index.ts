// `edgelog install` and friends. The installer itself is the plain bash script
// next to this file (install.sh): the same script runs from cloud-init user
// data and by hand, so there is exactly one implementation of the layout, the
// ownership rules and the systemd unit. This module only execs it.

import { spawn, spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { EdgelogError } from '../core/errors.ts';
import type { InstallRole } from './cloud-init.ts';

export { renderCloudInit, type CloudInitOptions, type InstallRole } from './cloud-init.ts';

/** Absolute path of the installer script (inside the repo or an unpacked release). */
export const installScript: string = fileURLToPath(new URL('./install.sh', import.meta.url));

export const installHelp = `usage: edgelog install [install|upgrade|rollback|uninstall|status|unit] [options]

Installs this edgelog release as a hardened systemd service:
  /opt/edgelog/releases/<version>/ with /opt/edgelog/current -> it (atomic swap),
  /etc/edgelog/edgelog.yaml (never overwritten; new defaults go to edgelog.yaml.dist),
  /var/lib/edgelog/{checkpoints,spool} owned by the system user edgelog,
  /etc/systemd/system/edgelog.service (reload = SIGHUP = config hot reload).

commands:
  install     install a release (default); safe to run again
  upgrade     install a new release beside the current one, swap, restart; keeps config and state
  rollback    go back to the previous release and restart
  uninstall   remove the service and binaries; keep config and state unless --purge
  status      show installed versions, role and service state
  unit        print the systemd unit that would be installed
  guard       (root; the unit's ExecStartPre=+) attach the eBPF guard from --config and pin
              its maps for the service user, so the agent itself needs no capability

options:
  --root DIR          stage under DIR instead of / (no systemctl, no useradd)
  --role edge|relay   edge reads local log files; relay forwards to Kafka
  --guard             enable the tc/eBPF ingress guard (attached by a privileged ExecStartPre=+ step;
                      the agent itself keeps no capability)
  --no-guard          turn the guard off again on upgrade
  --from DIR|TARBALL  release to install (default: this release); a tarball is unpacked only when
                      TARBALL.sha256 and TARBALL.minisig beside it verify
  --pubkey FILE       minisign public key of the release signer (recorded in /etc/edgelog/release.pub;
                      upgrades verify with the recorded key)
  --version V         release version (default: the release's VERSION)
  --config FILE       initial /etc/edgelog/edgelog.yaml when none exists
  --user NAME         service user (default edgelog)
  --no-start          do not enable/start/restart the service
  --purge             with uninstall: also remove /etc/edgelog, /var/lib/edgelog and the user
  --dry-run           print each action, change nothing
`;

export class InstallError extends EdgelogError {
  constructor(message: string, cause?: unknown) {
    super('EDGELOG_INSTALL', message, { retriable: false, cause });
  }
}

/** Run install.sh with `argv` (everything after `edgelog install`); resolves to its exit code. */
export function runInstall(argv: readonly string[]): Promise<number> {
  // The privileged guard step runs in-process (it needs the native helper, not bash).
  if (argv[0] === 'guard') return import('./guard-step.ts').then((m) => m.runGuardStep(argv.slice(1)));
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(installHelp);
    return Promise.resolve(0);
  }
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [installScript, ...argv], { stdio: 'inherit' });
    child.once('error', (err) => reject(new InstallError(`cannot run ${installScript}: ${err.message}`, err)));
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}

/** The systemd unit install.sh would write for these options (rendered by the script itself). */
export function renderUnit(opts: { role: InstallRole; guard?: boolean; user?: string }): string {
  // --root to an empty path under /nonexistent so no previous install.env is read.
  const args = [installScript, 'unit', '--root', '/nonexistent/edgelog-unit', '--role', opts.role, opts.guard ? '--guard' : '--no-guard'];
  if (opts.user) args.push('--user', opts.user);
  const r = spawnSync('bash', args, { encoding: 'utf8' });
  if (r.error) throw new InstallError(`cannot run ${installScript}: ${r.error.message}`, r.error);
  if (r.status !== 0) throw new InstallError(`install.sh unit failed: ${r.stderr.trim()}`);
  return r.stdout;
}
