// The demo's live writer, in a worker thread so that writing at the target
// rate does not compete with the agent's event loop (on a 2-core edge box the
// agent owns one core, the writer and the broker share the other).

import { closeSync, openSync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

interface Job { files: string[]; rate: number; durationMs: number; pool: Uint8Array[] }

const { files, rate, durationMs, pool } = workerData as Job;
const fds = files.map((f) => openSync(f, 'a'));
const NL = Buffer.from('\n');
const tickMs = 10;
let written = 0, bytes = 0, k = 0;
const started = Date.now();
const parts: Buffer[][] = files.map(() => []);
const timer = setInterval(() => {
  const elapsed = Date.now() - started;
  // Catch up to the schedule rather than counting ticks, so a late timer does not lower the rate.
  const due = Math.min(Math.floor((Math.min(elapsed, durationMs) * rate) / 1000), Number.MAX_SAFE_INTEGER) - written;
  for (let i = 0; i < due; i++) {
    const line = pool[k++ % pool.length]!;
    parts[i % files.length]!.push(Buffer.from(line.buffer, line.byteOffset, line.length), NL);
    bytes += line.length + 1;
  }
  written += Math.max(0, due);
  for (let f = 0; f < files.length; f++) {
    if (parts[f]!.length) { writeSync(fds[f]!, Buffer.concat(parts[f]!)); parts[f]!.length = 0; }
  }
  if (elapsed >= durationMs) {
    clearInterval(timer);
    for (const fd of fds) closeSync(fd);
    parentPort!.postMessage({ written, bytes, done: true });
  } else parentPort!.postMessage({ written, bytes, done: false });
}, tickMs);
