// A region shaped like production: three KRaft nodes (each broker and
// controller in one JVM, a three-voter quorum), replication factor 3 and
// min.insync.replicas=2 for every topic, so losing one node is a leader
// election inside the region, not an outage. Built from startKafkaCluster
// (one JVM each); only what a multi-node cluster needs differs: the shared
// cluster id written at format time, node ids, the voter list and the
// replication settings.
//
// Memory: 256 MB heap per node by default (three nodes = 768 MB of heap per
// region, about 1.2 GB resident with metaspace and buffers), so two regions
// fit next to the rest of a 24 GB machine that runs eight engineers' tests.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { silentLogger, type Logger } from '../observe/log.ts';
import { filterKafkajsTimerWarning } from '../sinks/kafka/warnings.ts';
import { createTopicWithLeaders, defaultJarsDir, freePort, startKafkaCluster, type KafkaCluster } from './cluster.ts';

const { Kafka, logLevel } = kafkajs;

export interface KafkaRegionOptions {
  /** Label (`A`, `B`); node n is named `<name><n>`. */
  name: string;
  /** Nodes in the region (3 unless told). */
  nodes?: number;
  /** Listener host (an address of `netns` when given); loopback by default. */
  host?: string;
  /**
   * Listener host per node (node id - 1), overriding `host`: e.g. nodes 2 and 3
   * on a second path into the namespace, so that path can fail on its own.
   */
  hosts?: string[];
  /** Start every node inside this network namespace (the caller owns it). */
  netns?: string;
  /** Parent directory of the nodes' data dirs (kept, so a node can be restarted on its data). */
  dataDir: string;
  /** Heap per node, MB (256). */
  heapMb?: number;
  log?: Logger;
}

export interface KafkaRegion {
  readonly name: string;
  /** Node 1's listener: the bootstrap address clients are given. */
  readonly bootstrap: string;
  /** Every node's listener, by node id - 1. */
  readonly addresses: readonly string[];
  /** Node ids (1-based) and their JVMs; an entry is replaced by restart(). */
  readonly nodes: KafkaCluster[];
  readonly startupMs: number;
  readonly heapMb: number;
  /** Creates a topic with every partition on all nodes (RF = nodes), preferred leader `leader` (a node id). */
  createTopic(topic: string, leader?: number): Promise<void>;
  /** Node id currently leading partition 0 of `topic` (-1 when none). */
  leaderOf(topic: string): Promise<number>;
  /** Signal every node (SIGSTOP / SIGCONT a whole region). */
  killAll(signal: NodeJS.Signals): void;
  /** Start node `id` again on its data after it was killed. */
  restart(id: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Replication settings for a production-shaped region. The session timeout is
 * the one deliberate change from Kafka's defaults: a crashed node is fenced
 * (and its partitions get new leaders) after 3 s instead of 9 s, as operators
 * of latency-sensitive clusters commonly set it.
 */
function regionProps(id: number, voters: string, nodes: number): Record<string, string | number | boolean> {
  const rf = nodes;
  const isr = Math.min(2, nodes);
  return {
    'node.id': id,
    'controller.quorum.voters': voters,
    'default.replication.factor': rf,
    'min.insync.replicas': isr,
    'offsets.topic.replication.factor': rf,
    'transaction.state.log.replication.factor': rf,
    'transaction.state.log.min.isr': isr,
    'share.coordinator.state.topic.replication.factor': rf,
    'share.coordinator.state.topic.min.isr': isr,
    'broker.session.timeout.ms': 3000,
    'broker.heartbeat.interval.ms': 500,
    'unclean.leader.election.enable': false,
  };
}

/** Format one node's storage with the region's shared cluster id (startKafkaCluster then skips its own format). */
function formatNode(dataDir: string, id: number, clusterId: string, host: string, port: number, controllerPort: number, voters: string, jarsDir: string): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  if (existsSync(join(dataDir, 'data', 'meta.properties'))) return Promise.resolve();
  const cfg = join(dataDir, 'format.properties');
  writeFileSync(cfg, [
    'process.roles=broker,controller', `node.id=${id}`, `controller.quorum.voters=${voters}`,
    `listeners=PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`, 'controller.listener.names=CONTROLLER',
    `log.dirs=${join(dataDir, 'data')}`,
  ].join('\n') + '\n');
  return new Promise((res, rej) => {
    const fd = openSync(join(dataDir, 'format.log'), 'a');
    const p = spawn('java', ['-Xmx128m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-cp', `${jarsDir}/*`, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', cfg, '--ignore-formatted'], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    p.on('error', rej);
    p.on('exit', (code) => (code === 0 ? res() : rej(new Error(`formatting node ${id} failed (exit ${code}); see ${join(dataDir, 'format.log')}`))));
  });
}

export async function startKafkaRegion(o: KafkaRegionOptions): Promise<KafkaRegion> {
  const n = o.nodes ?? 3;
  const host = o.host ?? '127.0.0.1';
  const heapMb = o.heapMb ?? 256;
  const log = o.log ?? silentLogger;
  const jarsDir = process.env.EDGELOG_KAFKA_JARS ?? defaultJarsDir;
  const hostOf = (i: number): string => o.hosts?.[i] ?? host;
  const ports: Array<{ port: number; controllerPort: number }> = [];
  for (let i = 0; i < n; i++) {
    // Inside a namespace every address is ours: fixed ports 9092, 9094, ... (controller +1).
    if (o.netns) ports.push({ port: 9092 + 2 * i, controllerPort: 9093 + 2 * i });
    else ports.push({ port: await freePort(hostOf(i)), controllerPort: await freePort(hostOf(i)) });
  }
  const voters = ports.map((p, i) => `${i + 1}@${hostOf(i)}:${p.controllerPort}`).join(',');
  let clusterId = randomBytes(16).toString('base64url');
  while (clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url');
  const dirOf = (id: number) => join(o.dataDir, `node-${id}`);
  await Promise.all(ports.map((p, i) => formatNode(dirOf(i + 1), i + 1, clusterId, hostOf(i), p.port, p.controllerPort, voters, jarsDir)));
  const startNode = (id: number) => startKafkaCluster({
    name: `${o.name}${id}`, host: hostOf(id - 1), port: ports[id - 1]!.port, controllerPort: ports[id - 1]!.controllerPort,
    netns: o.netns, dataDir: dirOf(id), heapMb, log, props: regionProps(id, voters, n),
  });
  const t0 = performance.now();
  // All at once: no node can finish starting before a majority of voters is up.
  const started = await Promise.allSettled(ports.map((_, i) => startNode(i + 1)));
  const nodes: KafkaCluster[] = [];
  const failed = started.filter((s) => s.status === 'rejected') as PromiseRejectedResult[];
  for (const s of started) if (s.status === 'fulfilled') nodes.push(s.value);
  if (failed.length > 0) {
    await Promise.all(nodes.map((x) => x.stop().catch(() => undefined)));
    throw failed[0]!.reason;
  }
  const addresses = ports.map((p, i) => `${hostOf(i)}:${p.port}`);
  const bootstrap = addresses[0]!;
  const client = () => {
    filterKafkajsTimerWarning();
    return new Kafka({ brokers: [...addresses], clientId: 'edgelog-kraft-region', logLevel: logLevel.NOTHING, connectionTimeout: 3000, retry: { retries: 5 } });
  };
  const startupMs = Math.round(performance.now() - t0);
  log.info('kafka region started', { region: o.name, nodes: n, bootstrap, heap_mb: heapMb, startup_ms: startupMs });
  return {
    name: o.name, bootstrap, addresses, nodes, startupMs, heapMb,
    async createTopic(topic: string, leader = 1): Promise<void> {
      const replicas = [leader, ...Array.from({ length: n }, (_, i) => i + 1).filter((x) => x !== leader)];
      const admin = client().admin();
      await admin.connect();
      try {
        await createTopicWithLeaders(admin, { topic, replicaAssignment: [{ partition: 0, replicas }] });
      } finally { await admin.disconnect().catch(() => {}); }
    },
    async leaderOf(topic: string): Promise<number> {
      const admin = client().admin();
      await admin.connect();
      try {
        const md = await admin.fetchTopicMetadata({ topics: [topic] });
        return md.topics[0]?.partitions.find((p) => p.partitionId === 0)?.leader ?? -1;
      } finally { await admin.disconnect().catch(() => {}); }
    },
    killAll(signal: NodeJS.Signals): void { for (const x of nodes) x.kill(signal); },
    async restart(id: number): Promise<void> {
      await nodes[id - 1]!.stop().catch(() => undefined);
      nodes[id - 1] = await startNode(id);
    },
    async stop(): Promise<void> {
      for (const x of nodes) { try { x.kill('SIGCONT'); } catch { /* gone */ } }
      await Promise.all(nodes.map((x) => x.stop().catch(() => undefined)));
    },
  };
}
