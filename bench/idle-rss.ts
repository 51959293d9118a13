// Idle footprint: each tool tails one quiet file with its Kafka sink
// connected (one line delivered and acknowledged first), then sits idle; its
// resident memory (VmRSS) is read after it settled. edgelog at HEAD beside
// edgelog at an earlier commit (--before REV, e.g. the commit before the
// Kafka engines were loaded lazily) and beside the peers.
//
//   node bench/idle-rss.ts [--before REV] [--only edgelog,rsyslog,syslog-ng,otelcol] [--settle-seconds 10] [--reps 3] [--out bench/results/idle-rss.md]
//
// The earlier commit's agent/ and bench/ are extracted with `git archive`
// into a temp dir (node_modules linked), never checked out here.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKafkaCluster, type KafkaCluster } from '../agent/embedded-kafka/cluster.ts';
import { BenchKafka } from './kafka.ts';
import { idleRss } from './idle.ts';
import { edgelogPeer } from './peers/edgelog.ts';
import { otelcolPeer } from './peers/otelcol.ts';
import { rsyslog } from './peers/rsyslog.ts';
import { syslogNg } from './peers/syslog-ng.ts';
import type { Peer } from './peers/types.ts';
import { repoRoot } from './workload.ts';

const argv = process.argv.slice(2);
const opt = (k: string): string | undefined => { const i = argv.indexOf(k); return i >= 0 ? argv[i + 1] : undefined; };
const before = opt('--before');
const only = opt('--only')?.split(',');
const settleMs = Number(opt('--settle-seconds') ?? 10) * 1000;
const reps = Number(opt('--reps') ?? 3);
const out = opt('--out') ?? join(repoRoot, 'bench/results/idle-rss.md');
const log = (s: string) => console.log(`[idle-rss] ${s}`);

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), `edgelog-idle-rss-${process.pid}-`));
  let cluster: KafkaCluster | null = null, kafka: BenchKafka | null = null;
  // edgelog on its default engine and on engine builtin (its own producer, no client library loaded).
  const peers: Peer[] = [edgelogPeer({ name: 'edgelog', compression: 'lz4' }), edgelogPeer({ name: 'edgelog-platformatic', compression: 'lz4', sinkExtra: '    engine: platformatic\n' })];
  if (before) {
    const rev = execFileSync('git', ['-C', repoRoot, 'rev-parse', '--short', before], { encoding: 'utf8' }).trim();
    const root = join(tmp, `before-${rev}`);
    mkdirSync(root);
    execFileSync('bash', ['-c', `git -C "${repoRoot}" archive ${rev} agent bench package.json | tar -x -C "${root}"`]);
    symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
    peers.push(edgelogPeer({ name: `edgelog@${rev}`, compression: 'lz4', root }));
  }
  peers.push(rsyslog, syslogNg, otelcolPeer({ name: 'otelcol', persistent: false }));
  const rows: string[] = [];
  try {
    cluster = await startKafkaCluster({ name: 'idle', heapMb: 512 });
    kafka = new BenchKafka(cluster.bootstrap);
    for (const peer of peers) {
      if (only && !only.some((o) => peer.name.startsWith(o))) continue;
      try { await peer.ensureInstalled(log); } catch (e) { rows.push(`| ${peer.name} | skipped: ${(e as Error).message.split('\n')[0]} | | |`); continue; }
      const { median_mb: med, runs_mb: figures } = await idleRss(peer, kafka, tmp, { settleMs, reps });
      log(`${peer.name}: idle RSS ${med.toFixed(1)} MB (runs ${figures.map((f) => f.toFixed(1)).join(' / ')})`);
      rows.push(`| ${peer.name} | ${med.toFixed(1)} | ${figures.map((f) => f.toFixed(1)).join(' / ')} | ${peer.version()} |`);
    }
  } finally {
    await kafka?.close();
    await cluster?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
  const md = [
    '# Idle RSS: one quiet file, Kafka sink connected',
    '',
    `Generated ${new Date().toISOString()} by \`node bench/idle-rss.ts ${argv.join(' ')}\`. Each tool tails one file; one line is written and acknowledged by Kafka (the sink is connected), then the tool idles ${settleMs / 1000} s and its VmRSS is read. Median of ${reps} runs. Taken on the shared 2-core machine while other work ran.`,
    '',
    '| tool | idle RSS MB (median) | runs | version |',
    '| --- | ---: | --- | --- |',
    ...rows,
    '',
  ].join('\n');
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, md);
  console.log(md);
}

main().catch((e) => { console.error('idle-rss failed:', e); process.exitCode = 1; });
