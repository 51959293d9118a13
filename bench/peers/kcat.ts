// kcat (librdkafka producer): raw lines into Kafka, the practical ceiling.
// Saturation: `-l FILE` (exits after the last line is acknowledged).
// Latency: `-l FIFO`, the writer appending to the FIFO. Its CPU is sampled
// over the same window as every other tool's (first record in Kafka to the
// last), so its start-up is not counted; the bash wrapper only reports its exit.

import { join } from 'node:path';
import { aptInstall, hasCmd, sh, spawnTool } from './proc.ts';
import type { Peer, PeerProcess } from './types.ts';
import { writeTimeOf } from '../workload.ts';

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
    const script = 'kcat "$@"; echo "exit=$?"';
    const out = join(o.dir, 'kcat.out');
    const p = spawnTool('bash', ['-c', script, 'kcat-bench', ...kargs], out);
    return {
      pids: [p.pid], expandChildren: true,
      command: `kcat ${kargs.join(' ')}`,
      config: '(command line only)',
      delivered: () => o.kafka.endOffset(o.topic),
      exited: p.exited,
      stop: () => p.stop('SIGTERM', 10_000),
    };
  },
  writeTimes: (v) => [writeTimeOf(v.toString('latin1'))],
};
