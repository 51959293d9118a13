// Child processes of the bench: spawned in the foreground, tracked, and
// killed on every exit path (normal end, error, SIGINT/SIGTERM) so no tool
// outlives a run.

import { spawn, execFileSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';

const live = new Set<ChildProcess>();
/** Children spawned as their own process group (the tools); forks are killed by pid. */
const groupLeaders = new WeakSet<ChildProcess>();
let installed = false;

/** Signal a tool's whole process group (bash wrappers and their children), falling back to the pid. */
function signalTree(c: ChildProcess, sig: NodeJS.Signals): void {
  if (!c.pid) return;
  if (groupLeaders.has(c)) { try { process.kill(-c.pid, sig); return; } catch { /* group gone */ } }
  try { c.kill(sig); } catch { /* gone */ }
}

function killAll(): void {
  for (const c of live) signalTree(c, 'SIGKILL');
  live.clear();
  try { rmSync(groupsFile, { force: true }); } catch { /* best effort */ }
}

// When the bench itself is SIGKILLed no handler runs: a small bash watchdog
// polls our pid and kills the process groups listed in this file.
const groupsFile = join(tmpdir(), `edgelog-bench-groups-${process.pid}`);
const watchdog = `
parent=$1; list=$2
while kill -0 "$parent" 2>/dev/null; do sleep 1; done
[ -f "$list" ] && for e in $(cat "$list"); do
  case "$e" in g:*) kill -KILL -- "-\${e#g:}" 2>/dev/null;; p:*) kill -KILL "\${e#p:}" 2>/dev/null;; esac
done
rm -f "$list"
`;
function syncGroups(): void {
  const entries = [...live].filter((c) => c.pid).map((c) => `${groupLeaders.has(c) ? 'g' : 'p'}:${c.pid}`);
  try { writeFileSync(groupsFile, entries.join('\n') + '\n'); } catch { /* best effort */ }
}

function install(): void {
  if (installed) return;
  installed = true;
  writeFileSync(groupsFile, '');
  const w = spawn('bash', ['-c', watchdog, 'edgelog-bench-watchdog', String(process.pid), groupsFile], { stdio: 'ignore', detached: true });
  w.on('error', () => { /* no bash: the exit handlers still apply */ });
  w.unref();
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => { killAll(); process.exit(130); });
  }
}

export interface Spawned {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<void>;
  readonly logFile: string;
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
  logTail(lines?: number): string;
}

/** Spawns a tool with stdout/stderr into `logFile`. */
export function spawnTool(cmd: string, args: string[], logFile: string, opts: SpawnOptions = {}): Spawned {
  install();
  const fd = openSync(logFile, 'a');
  // Own process group: stop() and the exit handler reach a wrapper's children too.
  const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], detached: true, ...opts });
  closeSync(fd);
  live.add(child);
  groupLeaders.add(child);
  syncGroups();
  let done = false;
  const gone = () => { done = true; live.delete(child); syncGroups(); };
  const exited = once(child, 'exit').then(gone, gone);
  child.on('error', gone);
  if (!child.pid) throw new Error(`cannot start ${cmd}`);
  return {
    child, pid: child.pid, exited, logFile,
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000) {
      if (done) { signalTree(child, 'SIGKILL'); return; } // leftovers of an exited wrapper's group
      signalTree(child, signal);
      const t = setTimeout(() => signalTree(child, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
      signalTree(child, 'SIGKILL');
    },
    logTail(lines = 20) {
      try { return readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n'); } catch { return ''; }
    },
  };
}

/** Registers an already spawned child (e.g. a fork) for exit-time cleanup. */
export function track(child: ChildProcess): void {
  install();
  live.add(child);
  syncGroups();
  child.once('exit', () => { live.delete(child); syncGroups(); });
  child.on('error', () => { live.delete(child); syncGroups(); });
}

/**
 * Waits until the Node binary exists: a concurrent `npm ci` in the shared
 * tree replaces node_modules/node for a moment, and a fork in that moment
 * fails with ENOENT.
 */
export async function nodeBinaryReady(timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(process.execPath)) {
    if (Date.now() > deadline) throw new Error(`node binary ${process.execPath} missing`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
}

export function hasCmd(cmd: string): boolean {
  try { sh('sh', ['-c', `command -v ${cmd}`]); return true; } catch { return false; }
}

export function hasPkg(pkg: string): boolean {
  try { return sh('dpkg-query', ['-W', '-f=${Status}', pkg]).includes('install ok installed'); } catch { return false; }
}

/**
 * apt-get install of what is missing. Services never start: a policy-rc.d
 * that denies them is put in place for the call when none exists, and any
 * daemon the package started anyway is stopped afterwards by the caller.
 */
/** Returns true when it installed something. */
export function aptInstall(pkgs: string[], log: (s: string) => void): boolean {
  const missing = pkgs.filter((p) => !hasPkg(p));
  if (missing.length === 0) return false;
  if (process.getuid?.() !== 0) throw new Error(`missing Debian packages ${missing.join(' ')} (run the bench as root to install them)`);
  log(`apt-get install ${missing.join(' ')}`);
  try { sh('apt-get', ['update', '-qq']); } catch { /* offline mirror: try the install anyway */ }
  sh('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { DEBIAN_FRONTEND: 'noninteractive', RUNLEVEL: '1' });
  return true;
}

/** Kills system daemons by exact pid (from pgrep -x) that an install may have started. */
export function killSystemDaemon(name: string, log: (s: string) => void): void {
  let pids: number[] = [];
  try { pids = sh('pgrep', ['-x', name]).trim().split(/\s+/).filter(Boolean).map(Number); } catch { return; }
  const ours = new Set([...live].map((c) => c.pid));
  for (const p of pids) {
    if (ours.has(p)) continue;
    // Only a daemon whose parent is init (a service), never somebody's foreground run.
    let ppid = 0;
    try { ppid = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1]); } catch { continue; }
    if (ppid !== 1) continue;
    log(`stopping system ${name} (pid ${p}) started by its package`);
    try { process.kill(p, 'SIGTERM'); } catch { /* gone */ }
  }
  try { sh('systemctl', ['disable', '--now', name]); } catch { /* no systemd */ }
}
