// The AWS API emulator for the deploy rehearsal: moto's server from the venv
// .ci/setup.sh builds under .cache/moto-venv, on a free loopback port,
// stopped by pid (SIGTERM, then SIGKILL) when the test ends.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../../agent/embedded-kafka/cluster.ts';

export const MOTO_VENV = join(import.meta.dirname, '..', '..', '..', '.cache', 'moto-venv');
export const MOTO_SERVER = join(MOTO_VENV, 'bin', 'moto_server');
export const VENV_PYTHON = join(MOTO_VENV, 'bin', 'python');

export interface Moto {
  readonly endpoint: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Why moto cannot run here, or null. */
export function motoMissing(): string | null {
  return existsSync(MOTO_SERVER) ? null : `moto server not found at ${MOTO_SERVER} (run bash .ci/setup.sh)`;
}

export async function startMoto(deadlineMs = 60_000): Promise<Moto> {
  const port = await freePort('127.0.0.1');
  const proc: ChildProcess = spawn(MOTO_SERVER, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
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
    if (proc.exitCode !== null) throw new Error(`moto server exited (${proc.exitCode}): ${stderr}`);
    try {
      const r = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(2_000) });
      if (r.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > until) { await stop(); throw new Error(`moto server not ready within ${deadlineMs} ms: ${stderr}`); }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { endpoint, pid: proc.pid!, stop };
}
