// Idle footprint of one tool: it tails one quiet file with its Kafka sink
// connected (one line delivered and acknowledged first), then sits idle for
// `settleMs`; its resident memory (VmRSS, children included) is read then.
// Used by `npm run bench` (bench/run.ts, beside the saturation runs) and by
// `node bench/idle-rss.ts`. A bare Node 24 process (`bareNodeIdle`) shows
// what the runtime alone costs on this host.

import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchKafka } from './kafka.ts';
import { memory } from './measure.ts';
import type { Peer } from './peers/types.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** RSS (MB) of processes. */
function rssMb(pids: number[]): number {
  let b = 0;
  for (const p of pids) b += memory(p)?.rss ?? 0;
  return b / 2 ** 20;
}

export interface IdleResult { median_mb: number; runs_mb: number[]; settle_s: number }

const median = (xs: number[]) => { const a = [...xs].sort((x, y) => x - y); return a[(a.length - 1) >> 1]!; };

/** `reps` idle runs of one tool, each in its own temp dir under `tmp` and on its own topic. */
export async function idleRss(peer: Peer, kafka: BenchKafka, tmp: string, o: { settleMs: number; reps: number }): Promise<IdleResult> {
  const figures: number[] = [];
  for (let r = 0; r < o.reps; r++) {
    const dir = mkdtempSync(join(tmp, `idle-${peer.name.replace(/[^a-z0-9-]/gi, '_')}-`));
    const input = join(dir, 'quiet.log');
    writeFileSync(input, '');
    const topic = `idle-${peer.name.replace(/[^a-zA-Z0-9-]/g, '_')}-${process.pid}-${r}-${Date.now()}`;
    await kafka.createTopic(topic);
    const p = await peer.start({ kafka, topic, input, dir, mode: 'latency', probes: false });
    try {
      // One line through to Kafka: the sink is connected and has sent; then nothing more.
      const deadline = performance.now() + 120_000;
      appendFileSync(input, '{"msg":"the one line"}\n');
      while ((await p.delivered()) < 1) {
        if (performance.now() > deadline) throw new Error(`${peer.name}: the line did not reach Kafka in 120 s`);
        await sleep(100);
      }
      await sleep(o.settleMs);
      figures.push(rssMb(p.pids));
      // EDGELOG_BENCH_SMAPS_DIR: where the resident memory is, mapping by mapping, at the moment it was read (diagnosis).
      const smapsDir = process.env.EDGELOG_BENCH_SMAPS_DIR;
      if (smapsDir) for (const pid of p.pids) { try { writeFileSync(join(smapsDir, `${peer.name}-${r}-${pid}.smaps`), readFileSync(`/proc/${pid}/smaps`)); } catch { /* gone */ } }
    } finally {
      await p.stop();
      await kafka.deleteTopic(topic);
    }
  }
  return { median_mb: median(figures), runs_mb: figures, settle_s: o.settleMs / 1000 };
}

/** A Node process that does nothing (`node -e` with a timer), read after the same settle time. */
export async function bareNodeIdle(nodeBin: string, o: { settleMs: number; reps: number }): Promise<IdleResult> {
  const figures: number[] = [];
  for (let r = 0; r < o.reps; r++) {
    const child = spawn(nodeBin, ['-e', 'setInterval(() => {}, 60_000)'], { stdio: 'ignore' });
    try {
      await sleep(o.settleMs);
      figures.push(rssMb([child.pid!]));
    } finally {
      child.kill('SIGKILL');
    }
  }
  return { median_mb: median(figures), runs_mb: figures, settle_s: o.settleMs / 1000 };
}
