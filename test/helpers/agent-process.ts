// Runs `edgelog run` as a child process (the real CLI, real signals) and
// waits for it to report its HTTP address over IPC.

import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const mainTs = fileURLToPath(new URL('../../agent/cli/main.ts', import.meta.url));

export interface AgentProcess {
  readonly child: ChildProcess;
  readonly http: string;
  stderr(): string;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  metrics(): Promise<string>;
}

export async function startAgent(configFile: string, env: NodeJS.ProcessEnv = {}): Promise<AgentProcess> {
  const child = fork(mainTs, ['run', '--config', configFile, '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // The flags the launchers use (agent/cli/edgelog), not the test runner's.
    execArgv: ['--max-semi-space-size=8', '--initial-old-space-size=64', '--no-parallel-scavenge', '--preserve-symlinks', '--disable-warning=TimeoutNegativeWarning'],
    env: { ...process.env, EDGELOG_LOG_FORMAT: 'json', ...env },
  });
  let err = '';
  child.stderr!.on('data', (d) => { err += d; if (err.length > 2_000_000) err = err.slice(-1_000_000); });
  child.stdout!.resume();
  // Not events.once: it rejects on an 'error' event (e.g. the IPC channel of a
  // SIGKILLed child), which nobody awaits after startup -> an unhandled rejection.
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (code, sig) => resolve([code, sig])));
  child.on('error', (e) => { err += `\n[child process error] ${e.message}`; });
  const ready = new Promise<string>((resolve, reject) => {
    child.on('message', (m: { ready?: boolean; http?: string }) => { if (m?.ready) resolve(m.http!); });
    exited.then(([code]) => reject(new Error(`agent exited with ${code} before ready:\n${err.slice(-4000)}`)));
  });
  const http = await ready;
  return {
    child, http,
    stderr: () => err,
    async stop(timeoutMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const [code] = await exited;
      clearTimeout(t);
      return code as number | null;
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
    async metrics() {
      const r = await fetch(`http://${http}/metrics`);
      return r.text();
    },
  };
}

/** Sum of all samples of a metric (optionally filtered by a label substring) in Prometheus text. */
export function metricSum(text: string, name: string, labelFilter = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || line.startsWith('#')) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    if (labelFilter && !line.includes(labelFilter)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
