// kcat (librdkafka producer): raw lines into Kafka, the practical ceiling.
// Saturation: `-l FILE` (exits after the last line is acknowledged).
// Latency: `-l FIFO`, the writer appending to the FIFO. A bash wrapper prints `times`
// after kcat exits, so its CPU is exact even though it exits by itself.

import { join } from 'node:path';
import { aptInstall, hasCmd, sh, spawnTool } from './proc.ts';
import type { Peer, PeerProcess } from './types.ts';
import { writeTimeOf } from '../workload.ts';
import { readFileSync } from 'node:fs';

/** `times` output: line 2 is children's user and system, e.g. `0m1.234s 0m0.567s`. */
function parseTimes(out: string): number | null {
  const lines = out.trim().split('\n').filter((l) => /\d+m[\d.]+s\s+\d+m[\d.]+s/.test(l));
  const last = lines[lines.length - 1];
  if (!last) return null;
  let t = 0;
  for (const m of last.matchAll(/(\d+)m([\d.]+)s/g)) t += Number(m[1]) * 60 + Number(m[2]);
  return t;
}

export const kcat: Peer = {
  name: 'kcat',
  encoding: 'raw line per message, lz4',
  async ensureInstalled(log) {
    aptInstall(['kcat'], log);
    if (!hasCmd('kcat')) throw new Error('kcat not found after install');
  },
  version() {
    try {
      const v = sh('kcat', ['-V']);
      return `kcat ${/Version ([\d.]+)/.exec(v)?.[1] ?? '?'} (librdkafka ${/librdkafka ([\d.]+)/.exec(v)?.[1] ?? '?'})`;
    } catch { return 'unknown'; }
  },
  async start(o): Promise<PeerProcess> {
    const base = ['-P', '-b', o.kafka.bootstrap, '-t', o.topic, '-z', 'lz4', '-X', 'acks=all', '-c', '1000000000'];
    // -l FILE: kcat creates its producer (and connects) before it opens the
    // file, so in latency mode the FIFO's open does not delay the connection.
    const kargs = [...base, '-l', o.input];
    const script = 'kcat "$@"; echo "exit=$?"; times';
    const out = join(o.dir, 'kcat.out');
    const p = spawnTool('bash', ['-c', script, 'kcat-bench', ...kargs], out);
    return {
      pids: [p.pid], expandChildren: true,
      command: `kcat ${kargs.join(' ')}`,
      config: '(command line only)',
      delivered: () => o.kafka.endOffset(o.topic),
      exited: p.exited,
      finalCpu() {
        try { return parseTimes(readFileSync(out, 'utf8')); } catch { return null; }
      },
      stop: () => p.stop('SIGTERM', 10_000),
    };
  },
  writeTimes: (v) => [writeTimeOf(v.toString('latin1'))],
};
