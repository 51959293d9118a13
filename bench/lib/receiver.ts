// A byte-counting TCP receiver in its own process (optionally inside a network
// namespace) for the send-path benchmarks. The child prints JSON lines on
// stdout: first {port}, then {bytes} when a connection ends.

import { spawn } from 'node:child_process';

export interface Receiver { port: number; next(): Promise<number>; stop(): void }

/** `args` are the node arguments of the receiver (a script and its options, or -e source). */
export async function startReceiver(args: readonly string[], netns?: string): Promise<Receiver> {
  const child = netns
    ? spawn('ip', ['netns', 'exec', netns, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(process.execPath, [...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  let buf = '';
  child.stdout!.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const l = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiters.shift();
      if (w) w(l); else lines.push(l);
    }
  });
  const nextLine = () => new Promise<string>((r) => { const l = lines.shift(); if (l !== undefined) r(l); else waiters.push(r); });
  const { port } = JSON.parse(await nextLine());
  return { port, next: async () => JSON.parse(await nextLine()).bytes, stop: () => child.kill() };
}
