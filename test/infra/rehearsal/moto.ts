// The AWS API emulator for the deploy rehearsal: moto's server from the venv
// .ci/setup.sh builds under .cache/moto-venv, on a free loopback port,
// stopped by pid (SIGTERM, then SIGKILL) when the test ends.
//
// Its output goes to a file, never to a pipe: moto writes one access-log line
// per request, and a pipe nobody drains fills after about a thousand requests
// (64 KiB), after which moto blocks mid-request and every Terraform call times
// out and retries. That, not the emulator's speed, is what stalled the first
// rehearsal (the test ran terraform through spawnSync, so the event loop never
// read the pipe).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../../agent/embedded-kafka/cluster.ts';

export const MOTO_VENV = join(import.meta.dirname, '..', '..', '..', '.cache', 'moto-venv');
// moto runs as `python -m moto.server`, not through the venv's `moto_server`
// script: the script's #! line names the directory the venv was built in,
// so a copied .cache/ would start another tree's python; bin/python finds its
// venv from where it is.
export const VENV_PYTHON = join(MOTO_VENV, 'bin', 'python');

export interface Moto {
  readonly endpoint: string;
  readonly pid: number;
  /** The last lines of moto's log (for failure messages). */
  logTail(chars?: number): string;
  stop(): Promise<void>;
}

/** Why moto cannot run here, or null. */
export function motoMissing(): string | null {
  if (!existsSync(VENV_PYTHON)) return `moto not installed: no venv at ${MOTO_VENV} (.ci/setup.sh builds it from PyPI with python3 -m venv)`;
  const r = spawnSync(VENV_PYTHON, ['-c', 'import moto.server, boto3'], { encoding: 'utf8', timeout: 60_000 });
  return r.status === 0 ? null : `moto not installed: ${VENV_PYTHON} cannot import moto.server and boto3 (${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`;
}

/** Starts moto on 127.0.0.1 (a free port), logging to `logFile`; resolves once it answers. */
export async function startMoto(logFile: string, deadlineMs = 60_000): Promise<Moto> {
  const port = await freePort('127.0.0.1');
  const fd = openSync(logFile, 'a');
  // AWS managed policies (AmazonSSMManagedInstanceCore, attached to the relay
  // role) exist in moto only when it is asked to load them.
  const env = { ...process.env, MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' };
  const proc: ChildProcess = spawn(VENV_PYTHON, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', fd, fd], env });
  closeSync(fd);
  const logTail = (chars = 4000): string => {
    try { return readFileSync(logFile, 'utf8').slice(-chars); } catch { return ''; }
  };
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(t);
  };
  const until = Date.now() + deadlineMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`moto server exited (${proc.exitCode}): ${logTail()}`);
    try {
      const r = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(2_000) });
      if (r.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > until) { await stop(); throw new Error(`moto server not ready within ${deadlineMs} ms: ${logTail()}`); }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { endpoint, pid: proc.pid!, logTail, stop };
}
