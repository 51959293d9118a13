// `edgelog drill failover`: proves region failover with numbers. Two Kafka
// clusters stand in for regions A and B (each in its own network namespace
// when root, on loopback otherwise), the real agent tails a file that a writer
// fills with sequence-numbered lines at a steady rate, one fault is injected
// into region A and later repaired, and the drill reports detection,
// failover and failback times, records lost, duplicates and the worst
// end-to-end latency during the event. Lost records make it exit non-zero.
//
// Regions are single brokers or, with `brokers: 3`, production-shaped KRaft
// clusters (three nodes, RF 3, min.insync.replicas 2; see
// embedded-kafka/kraft-region.ts). Fault modes and what each must show:
//   kill, freeze, blackhole  region A crashes / hangs / vanishes: failover, 0 lost
//   flap       A stalls 1.5 s and answers 0.7 s, repeatedly (SIGSTOP/SIGCONT of
//              every node): the gray-failure budget fails over within 5 s
//   slow       A answers late: SIGSTOP/SIGCONT cycles of 800 ms stopped, 200 ms
//              running (this kernel has no netem): failover within 5 s
//   broker     one node of A (the partition leader) is SIGKILLed: a leader
//              election inside A, no failover, 0 lost
//   both       A and B frozen together, then resumed: the agent holds back
//              (file source paused by backpressure), recovers by itself, 0 lost
//   partition  A's bootstrap node answers but the nodes that lead its
//              partitions are cut off (their path blackholed): failover, 0 lost

import { mkdtempSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { countDelivery, type DeliveryCount, readBackUntilComplete, SEQ_WIDTH, seqsIn, waitForFileAcknowledged } from './count-delivery.ts';
import { tmpdir } from 'node:os';
import type { EngineName } from '../sinks/kafka/config.ts';
import { join } from 'node:path';
import { messageObserved, recordCount, type EncodedMessage } from '../core/component.ts';
import { parseConfig } from '../config/load.ts';
import { Agent } from '../pipeline/agent.ts';
import { createLogger, type Logger } from '../observe/log.ts';
import { createRegistry } from '../observe/metrics.ts';
import { FailoverSink, type FailoverEvent } from '../sinks/failover/failover-sink.ts';
import { startKafkaCluster, consumeAll, createTopic, type KafkaCluster } from '../embedded-kafka/cluster.ts';
import { startKafkaRegion, type KafkaRegion } from '../embedded-kafka/kraft-region.ts';
import { addNetPath, canUseNetns, createRegionNet, type NetPath, type RegionNet } from './netns.ts';

export const faults = ['kill', 'freeze', 'blackhole', 'flap', 'slow', 'broker', 'both', 'partition', 'manual'] as const;
export type Fault = (typeof faults)[number];

/** What each mode must show; the verdict compares the run against it. */
export interface Expectation {
  /** Must traffic move to B (true), must it stay on A (false), or either (null)? */
  readonly failover: boolean | null;
  /** Circuit of A opened within this long after the fault started, ms. */
  readonly detectWithinMs?: number;
  readonly text: string;
}

export const expectations: Record<Fault, Expectation> = {
  kill: { failover: true, text: 'failover to B, failback after repair, 0 lost' },
  freeze: { failover: true, text: 'failover to B, failback after repair, 0 lost' },
  blackhole: { failover: true, text: 'failover to B, failback after repair, 0 lost' },
  flap: { failover: true, detectWithinMs: 5000, text: 'detected (gray-failure budget) and failed over within 5 s, 0 lost' },
  slow: { failover: true, detectWithinMs: 5000, text: 'detected (gray-failure budget) and failed over within 5 s, 0 lost' },
  broker: { failover: false, text: 'leader election inside A, no failover, 0 lost' },
  // Both down: whichever region answers first may take the traffic for a while.
  both: { failover: null, text: 'backpressure while both regions are down, automatic recovery, 0 lost' },
  partition: { failover: true, text: 'failover to B (partition leaders unreachable), 0 lost' },
  manual: { failover: true, text: 'failover to B, 0 lost' },
};

/** Faults that need nodes besides the bootstrap one. */
const needsRegion: ReadonlySet<Fault> = new Set(['broker', 'partition']);

/** One region as the drill drives it: a single broker or a KRaft region. */
interface DrillRegion {
  readonly bootstrap: string;
  readonly startupMs: number;
  createTopic(topic: string): Promise<void>;
  signalAll(sig: NodeJS.Signals): void;
  stop(): Promise<void>;
  region: KafkaRegion | null;
  single: KafkaCluster | null;
}

function wrapSingle(c: KafkaCluster): DrillRegion {
  return {
    bootstrap: c.bootstrap, startupMs: c.startupMs, region: null, single: c,
    createTopic: (t) => createTopic(c.bootstrap, t),
    signalAll(sig) { this.single!.kill(sig); },
    stop() { return this.single!.stop(); },
  };
}

function wrapRegion(r: KafkaRegion): DrillRegion {
  return {
    bootstrap: r.bootstrap, startupMs: r.startupMs, region: r, single: null,
    // Partition leader on node 2, not the bootstrap node: `broker` kills the
    // leader while the bootstrap stays up, `partition` cuts the leader's path.
    createTopic: (t) => r.createTopic(t, 2),
    signalAll: (sig) => r.killAll(sig),
    stop: () => r.stop(),
  };
}

export interface DrillOptions {
  readonly fault: Fault;
  /** Lines per second the writer appends. */
  readonly rate: number;
  /** Steady load before the fault, ms. */
  readonly warmupMs: number;
  /** How long region A stays broken, ms. */
  readonly faultMs: number;
  /** Failback hold-down used by the agent during the drill, ms. */
  readonly holdDownMs: number;
  /** The kafka sink's client engine (unset: the sink's default). */
  readonly engine?: EngineName;
  /** Give up waiting for failback after this long past the repair, ms. */
  readonly failbackTimeoutMs: number;
  /** Existing clusters (no local brokers): bootstrap lists for A and B. */
  readonly clusters?: { a: string; b: string };
  /** Force loopback even when root. */
  readonly loopback?: boolean;
  /** Nodes per region: 1 (a single broker) or 3 (KRaft, RF 3, min ISR 2). */
  readonly brokers?: number;
  /** Heap per node, MB. */
  readonly heapMb?: number;
  readonly log: Logger;
  /** Progress lines for a person. */
  readonly say: (line: string) => void;
}

/** Delivery counts (lost, acknowledged or not, duplicates, missing ranges): count-delivery.ts. */
export interface DrillReport extends DeliveryCount {
  fault: Fault;
  network: 'netns' | 'loopback' | 'external';
  brokers_per_region: number;
  heap_mb_per_broker: number;
  expected: string;
  /** Each check of the expectation: what, and whether the run met it. */
  checks: Array<{ check: string; ok: boolean; detail: string }>;
  verdict: 'PASS' | 'FAIL';
  /** Which rule opened A's circuit first: gray budget, consecutive failures, slow probes (null: none). */
  detection_rule: 'gray-budget' | 'failures' | 'slow-probes' | 'stuck-request' | null;
  gray_trips: number;
  written: number;
  /** Bytes of the load file not acknowledged when the agent was stopped (0 unless delivery stalled past its deadline). */
  unacknowledged_bytes_at_stop: number;
  /** Read-back passes over both regions until every line was seen (or the deadline). */
  readback_passes: number;
  written_at_fault: number;
  written_at_repair: number;
  detection_ms: number | null;
  failover_ms: number | null;
  failback_ms: number | null;
  hold_down_ms: number;
  max_latency_ms_during_event: number;
  p99_latency_ms_steady: number;
  events: Array<{ t_ms: number; kind: string; detail: string; cluster?: string; to?: string }>;
  fault_window: [number, number];
  timeline: Array<{ t_s: number; acked_a: number; acked_b: number; max_latency_ms: number }>;
  settings: { rate: number; warmup_ms: number; fault_ms: number; probe_interval_ms: number; slow_ms: number; failure_threshold: number; stuck_request_ms: number };
}


export async function runFailoverDrill(o: DrillOptions): Promise<DrillReport> {
  const dir = mkdtempSync(join(tmpdir(), 'edgelog-drill-'));
  const nets: RegionNet[] = [];
  const clusters: { a: DrillRegion | null; b: DrillRegion | null } = { a: null, b: null };
  const brokers = o.brokers ?? 1;
  const heapMb = o.heapMb ?? (brokers > 1 ? 256 : 512);
  let leaderPath: NetPath | null = null;
  let agent: Agent | null = null;
  let writer: NodeJS.Timeout | null = null;
  const topic = 'edgelog-drill';
  try {
    // --- regions -----------------------------------------------------------------
    let network: DrillReport['network'] = 'loopback';
    let bootA: string, bootB: string;
    let aNet: RegionNet | null = null;
    if (o.clusters) {
      network = 'external';
      if (o.fault !== 'manual') throw new Error('with --clusters the drill cannot inject faults itself: use --fault manual and break region A by hand');
      bootA = o.clusters.a; bootB = o.clusters.b;
    } else {
      if (needsRegion.has(o.fault) && brokers < 3) throw new Error(`--fault ${o.fault} needs three-node regions (--brokers 3)`);
      const nsOk = canUseNetns();
      if (!o.loopback && nsOk.ok) {
        network = 'netns';
        const tag = String(process.pid % 100000);
        aNet = createRegionNet(`${tag}a`, 1 + (process.pid % 100) * 2);
        nets.push(aNet);
        const bNet = createRegionNet(`${tag}b`, 2 + (process.pid % 100) * 2);
        nets.push(bNet);
        o.say(`regions in network namespaces: A ${aNet.nsAddr} (${aNet.ns}), B ${bNet.nsAddr} (${bNet.ns})`);
        if (brokers > 1) {
          // Nodes 2.. of A listen on a second path into A's namespace, so `partition`
          // can cut them off while node 1 (the bootstrap) still answers.
          leaderPath = addNetPath(aNet, `${tag}p`, 201 + (process.pid % 50));
          const aPath = leaderPath;
          o.say(`region A nodes 2..${brokers} on ${aPath.nsAddr} (second path); ${brokers} nodes per region, ${heapMb} MB heap each`);
          [clusters.a, clusters.b] = (await Promise.all([
            startKafkaRegion({ name: 'A', nodes: brokers, hosts: [aNet.nsAddr, ...Array(brokers - 1).fill(aPath.nsAddr)], netns: aNet.ns, dataDir: join(dir, 'kafka-a'), heapMb, log: o.log }),
            startKafkaRegion({ name: 'B', nodes: brokers, host: bNet.nsAddr, netns: bNet.ns, dataDir: join(dir, 'kafka-b'), heapMb, log: o.log }),
          ])).map(wrapRegion);
        } else {
          [clusters.a, clusters.b] = (await Promise.all([
            startKafkaCluster({ name: 'A', host: aNet.nsAddr, port: 9092, netns: aNet.ns, dataDir: join(dir, 'kafka-a'), heapMb, log: o.log }),
            startKafkaCluster({ name: 'B', host: bNet.nsAddr, port: 9092, netns: bNet.ns, dataDir: join(dir, 'kafka-b'), heapMb, log: o.log }),
          ])).map(wrapSingle);
        }
      } else {
        if (o.fault === 'blackhole' || o.fault === 'partition') throw new Error(`${o.fault} needs network namespaces: ${nsOk.reason || 'loopback forced'}`);
        o.say(`regions on loopback (${nsOk.reason || 'loopback forced'})`);
        if (brokers > 1) {
          [clusters.a, clusters.b] = (await Promise.all([
            startKafkaRegion({ name: 'A', nodes: brokers, dataDir: join(dir, 'kafka-a'), heapMb, log: o.log }),
            startKafkaRegion({ name: 'B', nodes: brokers, dataDir: join(dir, 'kafka-b'), heapMb, log: o.log }),
          ])).map(wrapRegion);
        } else {
          [clusters.a, clusters.b] = (await Promise.all([
            startKafkaCluster({ name: 'A', dataDir: join(dir, 'kafka-a'), heapMb, log: o.log }),
            startKafkaCluster({ name: 'B', dataDir: join(dir, 'kafka-b'), heapMb, log: o.log }),
          ])).map(wrapSingle);
        }
      }
      bootA = clusters.a.bootstrap; bootB = clusters.b.bootstrap;
      o.say(`region A kafka ${bootA} ready in ${clusters.a.startupMs} ms, region B kafka ${bootB} ready in ${clusters.b.startupMs} ms`);
    }
    if (clusters.a && clusters.b) { await clusters.a.createTopic(topic); await clusters.b.createTopic(topic); }
    else { await createTopic(bootA, topic); await createTopic(bootB, topic); }

    // --- agent ---------------------------------------------------------------------
    const probeIntervalMs = 500, slowMs = 2000, failureThreshold = 5;
    // The drill's regions fence a dead node after 3 s (kraft-region.ts), so a
    // request stuck for 5 s is not an election; the agent's default (10 s)
    // assumes Kafka's default 9 s session timeout.
    const stuckRequestMs = 5000;
    const logFile = join(dir, 'load.log');
    writeFileSync(logFile, '');
    const cfg = parseConfig(`
agent: { id: drill, data_dir: ${JSON.stringify(join(dir, 'state'))}, shutdown_timeout: 20s }
sources:
  load: { type: file, include: [${JSON.stringify(logFile)}], glob_interval: 200ms }
sinks:
  kafka:
    type: kafka
    topic: ${topic}
${o.engine ? `    engine: ${o.engine}\n` : ''}    clusters:
      - { name: A, region: region-a, priority: 1, brokers: [${JSON.stringify(bootA)}] }
      - { name: B, region: region-b, priority: 2, brokers: [${JSON.stringify(bootB)}] }
    failover: { probe_interval: ${probeIntervalMs}ms, slow_threshold: ${slowMs}ms, failure_threshold: ${failureThreshold}, open_duration: 5s, failback_hold_down: ${o.holdDownMs}ms, stuck_request: ${stuckRequestMs}ms }
`);
    agent = new Agent(cfg, { log: o.log, registry: createRegistry(false) });
    await agent.start('127.0.0.1:0');
    const sink = agent.sinks.get('default');
    if (!(sink instanceof FailoverSink)) throw new Error('drill: the kafka sink did not build a failover sink from `clusters`');

    // --- measurement -------------------------------------------------------------
    const t0 = Date.now();
    const events: DrillReport['events'] = [];
    const perSecond = new Map<number, { a: number; b: number; maxLat: number }>();
    // Time of every acknowledged request, per cluster (one entry per request, not per record).
    const acks: Record<string, number[]> = { A: [], B: [] };
    // Sequence numbers some cluster acknowledged: tells a real loss from a line never delivered.
    const ackedSeqs = new Set<number>();
    const steadyLat: number[] = [];
    let faultAt = 0, repairedAt = 0, eventEnd = 0, maxEventLat = 0;
    sink.onEvent((e: FailoverEvent) => {
      events.push({ t_ms: e.ts - t0, kind: e.kind, cluster: e.cluster, to: e.to, detail: e.kind === 'breaker' ? `${e.cluster}: ${e.from} -> ${e.to} (${e.reason})` : `${e.from} -> ${e.to} (${e.reason})` });
      o.say(`  [${((e.ts - t0) / 1000).toFixed(1)} s] ${e.kind} ${events.at(-1)!.detail}`);
    });
    sink.onDelivery((cluster: string, messages: EncodedMessage[]) => {
      const now = Date.now();
      const sec = Math.floor((now - t0) / 1000);
      const b = perSecond.get(sec) ?? { a: 0, b: 0, maxLat: 0 };
      for (const m of messages) {
        // Records encoded on a processing thread come with their read times only.
        const obs = messageObserved(m);
        for (let k = 0; k < obs.length; k++) {
          const lat = now - obs[k]!;
          if (lat > b.maxLat) b.maxLat = lat;
          if (faultAt && (!eventEnd || now <= eventEnd)) { if (lat > maxEventLat) maxEventLat = lat; }
          else if (!faultAt) steadyLat.push(lat);
        }
        const k = recordCount(m); if (cluster === 'A') b.a += k; else b.b += k;
        seqsIn(m.value, (n) => ackedSeqs.add(n));
      }
      perSecond.set(sec, b);
      (acks[cluster] ??= []).push(now);
    });

    // --- load ----------------------------------------------------------------------
    let seq = 0;
    const fd = openSync(logFile, 'a');
    const pad = 'x'.repeat(120);
    const tickMs = 20;
    let carry = 0;
    writer = setInterval(() => {
      carry += (o.rate * tickMs) / 1000;
      let chunk = '';
      while (carry >= 1) { chunk += `${new Date().toISOString()} INFO drill-seq=${String(seq++).padStart(SEQ_WIDTH, '0')} ${pad}\n`; carry -= 1; }
      if (chunk) writeSync(fd, chunk);
    }, tickMs);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    o.say(`steady load at ${o.rate} lines/s for ${o.warmupMs / 1000} s`);
    await sleep(o.warmupMs);

    // --- fault -----------------------------------------------------------------------
    faultAt = Date.now();
    o.say(`[${((faultAt - t0) / 1000).toFixed(1)} s] fault: ${o.fault} region A`);
    events.push({ t_ms: faultAt - t0, kind: 'fault', detail: o.fault });
    let killedNode = 0;
    let cycling: Promise<void> | null = null;
    let cycleStop = false;
    /** Stop/continue every node of A in a cycle until the fault window ends (flap, slow). */
    const cycle = async (stoppedMs: number, runningMs: number): Promise<void> => {
      while (!cycleStop) {
        clusters.a!.signalAll('SIGSTOP');
        await sleep(stoppedMs);
        clusters.a!.signalAll('SIGCONT');
        if (cycleStop) break;
        await sleep(runningMs);
      }
    };
    if (o.fault === 'kill') clusters.a!.signalAll('SIGKILL');
    else if (o.fault === 'freeze') clusters.a!.signalAll('SIGSTOP');
    else if (o.fault === 'blackhole') aNet!.blackhole();
    else if (o.fault === 'flap') cycling = cycle(1500, 700);
    else if (o.fault === 'slow') cycling = cycle(800, 200);
    else if (o.fault === 'both') { clusters.a!.signalAll('SIGSTOP'); clusters.b!.signalAll('SIGSTOP'); }
    else if (o.fault === 'broker') {
      const r = clusters.a!.region!;
      killedNode = await r.leaderOf(topic).catch(() => 2);
      if (killedNode < 1) killedNode = 2;
      o.say(`  killing node ${killedNode} of A (leader of ${topic}/0)`);
      r.nodes[killedNode - 1]!.kill('SIGKILL');
    } else if (o.fault === 'partition') leaderPath!.blackhole();
    else o.say('manual fault: break region A now');
    await sleep(o.faultMs);
    cycleStop = true;
    if (cycling) await cycling;

    // --- repair ----------------------------------------------------------------------
    repairedAt = Date.now();
    events.push({ t_ms: repairedAt - t0, kind: 'repair', detail: o.fault });
    o.say(`[${((repairedAt - t0) / 1000).toFixed(1)} s] repair region A`);
    if (o.fault === 'kill' && clusters.a!.region) {
      await Promise.all(clusters.a!.region.nodes.map((_, i) => clusters.a!.region!.restart(i + 1)));
    } else if (o.fault === 'kill') {
      clusters.a = wrapSingle(await startKafkaCluster({
        name: 'A', log: o.log, dataDir: join(dir, 'kafka-a'), heapMb,
        ...(aNet ? { host: aNet.nsAddr, port: 9092, netns: aNet.ns } : { port: Number(bootA.split(':').pop()) }),
      }));
    } else if (o.fault === 'freeze') clusters.a!.signalAll('SIGCONT');
    else if (o.fault === 'blackhole') aNet!.restore();
    else if (o.fault === 'both') { clusters.a!.signalAll('SIGCONT'); clusters.b!.signalAll('SIGCONT'); }
    else if (o.fault === 'broker') await clusters.a!.region!.restart(killedNode);
    else if (o.fault === 'partition') leaderPath!.restore();
    // Recovered: traffic on A, and every failover since the fault answered by a failback.
    const recovered = (): boolean => {
      if (sink.activeCluster !== 'A') return false;
      const lastFailover = events.findLastIndex((e) => e.kind === 'failover');
      return lastFailover === -1 || events.slice(lastFailover).some((e) => e.kind === 'failback');
    };
    const failbackDeadline = Date.now() + o.failbackTimeoutMs;
    while (Date.now() < failbackDeadline && !recovered()) await sleep(100);
    await sleep(2000);
    // The event's latency counts every delivery up to here: records held back
    // during the fault (no failover) arrive after the repair.
    eventEnd = Date.now();

    // --- drain and count -------------------------------------------------------------
    clearInterval(writer);
    writer = null;
    closeSync(fd);
    const written = seq;
    o.say(`writer stopped at ${written} lines; waiting for delivery`);
    // Every line acknowledged before the agent stops: a stop while a line is
    // unread or still being retried would leave it for the next start, which
    // this drill does not make. Compared with the file's size on disk, not the
    // tailer's lag gauge (count-delivery.ts: that gauge read 0 with the last
    // chunk unread and made a run report 40 lines lost).
    const drained = await waitForFileAcknowledged(() => agent!.registry.metrics(), logFile, Date.now() + 90_000);
    if (!drained.ok) o.say(`  agent acknowledged ${drained.acked} of ${drained.size} bytes by the deadline; stopping anyway`);
    await agent.stop();
    agent = null;
    // Both regions, until every written line is seen (a request abandoned on a
    // hung region may still land there) or the deadline.
    const readBack = await readBackUntilComplete(async () => {
      const values: Buffer[] = [];
      for (const boot of [bootA, bootB]) {
        for (const m of await consumeAll(boot, topic, { idleMs: 15_000, timeoutMs: 60_000 })) if (m.value) values.push(m.value);
      }
      return values;
    }, written, Date.now() + 60_000);
    const count = countDelivery(written, readBack.seen, ackedSeqs);
    const { lost } = count;
    if (lost > 0) o.say(`  missing after ${readBack.passes} read-back passes: ${lost} (${count.lost_acknowledged} acknowledged by a cluster, ${count.lost_unacknowledged} never acknowledged), first ids ${count.missing_ids.slice(0, 10).join(', ')}`);

    const open = events.find((e) => e.kind === 'breaker' && e.cluster === 'A' && e.to === 'open' && e.t_ms >= faultAt - t0);
    const detectionRule: DrillReport['detection_rule'] = !open ? null : open.detail.includes('gray failure') ? 'gray-budget' : open.detail.includes('consecutive probes slower') ? 'slow-probes' : open.detail.includes('request outstanding') ? 'stuck-request' : 'failures';
    const grayTrips = events.filter((e) => e.kind === 'breaker' && e.to === 'open' && e.detail.includes('gray failure')).length;
    // Failover: the last ack region A gave before region B's first ack after the fault.
    const firstB = acks.B!.find((x) => x >= faultAt);
    const lastA = firstB === undefined ? undefined : acks.A!.filter((x) => x <= firstB).at(-1);
    // Failback: from the repair to region A's first ack after the failback event.
    const failback = events.find((e) => e.kind === 'failback');
    const firstAAfterFailback = failback ? acks.A!.find((x) => x >= t0 + failback.t_ms) : undefined;
    steadyLat.sort((x, y) => x - y);
    const secs = [...perSecond.keys()].sort((x, y) => x - y);
    const exp = expectations[o.fault];
    const detectionMs = open ? open.t_ms - (faultAt - t0) : null;
    const failedOver = events.some((e) => e.kind === 'failover' && e.t_ms >= faultAt - t0);
    const checks: DrillReport['checks'] = [
      { check: '0 lost', ok: lost === 0, detail: lost === 0 ? '0 lost' : `${lost} lost (${count.lost_acknowledged} acknowledged by a cluster, ${count.lost_unacknowledged} never acknowledged; first ids ${count.missing_ids.slice(0, 10).join(', ')})` },
      { check: 'every written line acknowledged before the agent stopped', ok: drained.ok, detail: `${drained.acked} of ${drained.size} bytes` },
      ...(exp.failover === null ? [] : [{ check: exp.failover ? 'failed over to B' : 'no failover', ok: failedOver === exp.failover, detail: failedOver ? 'failed over' : 'stayed on A' }]),
      { check: 'recovered without an operator (traffic back on A)', ok: recovered(), detail: `active ${sink.activeCluster}` },
    ];
    if (exp.detectWithinMs !== undefined) {
      checks.push({ check: `detected within ${exp.detectWithinMs / 1000} s`, ok: detectionMs !== null && detectionMs <= exp.detectWithinMs, detail: detectionMs === null ? 'not detected' : `${detectionMs} ms (${detectionRule})` });
    }
    return {
      fault: o.fault, network, brokers_per_region: o.clusters ? 0 : brokers, heap_mb_per_broker: o.clusters ? 0 : heapMb,
      expected: exp.text, checks, verdict: checks.every((c) => c.ok) ? 'PASS' : 'FAIL', detection_rule: detectionRule, gray_trips: grayTrips,
      fault_window: [(faultAt - t0) / 1000, (repairedAt - t0) / 1000],
      written, delivered_unique: count.delivered_unique, lost, lost_acknowledged: count.lost_acknowledged, lost_unacknowledged: count.lost_unacknowledged,
      duplicates: count.duplicates, lost_ranges: count.lost_ranges, missing_ids: count.missing_ids,
      unacknowledged_bytes_at_stop: Math.max(0, drained.size - drained.acked), readback_passes: readBack.passes,
      // Sequence numbers written per second give the time of any lost range.
      written_at_fault: Math.round(((faultAt - t0) / 1000) * o.rate), written_at_repair: Math.round(((repairedAt - t0) / 1000) * o.rate),
      detection_ms: detectionMs,
      failover_ms: firstB !== undefined && lastA !== undefined ? firstB - lastA : null,
      failback_ms: firstAAfterFailback !== undefined ? firstAAfterFailback - repairedAt : null,
      hold_down_ms: o.holdDownMs,
      max_latency_ms_during_event: maxEventLat,
      p99_latency_ms_steady: steadyLat.length ? steadyLat[Math.min(steadyLat.length - 1, Math.floor(steadyLat.length * 0.99))]! : 0,
      events,
      timeline: secs.map((s) => ({ t_s: s, acked_a: perSecond.get(s)!.a, acked_b: perSecond.get(s)!.b, max_latency_ms: perSecond.get(s)!.maxLat })),
      settings: { rate: o.rate, warmup_ms: o.warmupMs, fault_ms: o.faultMs, probe_interval_ms: probeIntervalMs, slow_ms: slowMs, failure_threshold: failureThreshold, stuck_request_ms: stuckRequestMs },
    };
  } finally {
    if (writer) clearInterval(writer);
    if (agent) await agent.stop().catch(() => undefined);
    for (const c of [clusters.a, clusters.b]) { try { c?.signalAll('SIGCONT'); } catch { /* gone */ } }
    await Promise.all([clusters.a?.stop(), clusters.b?.stop()].map((p) => p?.catch(() => undefined)));
    leaderPath?.destroy();
    for (const n of nets) n.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function summarize(r: DrillReport): string {
  const ms = (v: number | null) => (v === null ? 'n/a' : `${(v / 1000).toFixed(2)} s`);
  return [
    `drill failover --fault ${r.fault} (${r.network}, ${r.brokers_per_region} broker(s) per region)`,
    `  expected: ${r.expected}`,
    `  written ${r.written}, delivered ${r.delivered_unique} unique, lost ${r.lost}${r.lost ? ` (${r.lost_acknowledged} acknowledged, ${r.lost_unacknowledged} never acknowledged; ids ${r.missing_ids.slice(0, 10).join(', ')})` : ''}, duplicates ${r.duplicates} (read back in ${r.readback_passes} pass(es))`,
    `  detection ${ms(r.detection_ms)}${r.detection_rule ? ` by ${r.detection_rule}` : ''} (gray-budget trips ${r.gray_trips}), failover ${ms(r.failover_ms)} (last ack on A -> first ack on B), failback ${ms(r.failback_ms)} (repair -> first ack on A, hold-down ${ms(r.hold_down_ms)})`,
    `  max end-to-end latency during the event ${r.max_latency_ms_during_event} ms; steady p99 ${r.p99_latency_ms_steady} ms`,
    ...r.checks.map((c) => `  ${c.ok ? 'ok  ' : 'MISS'} ${c.check}: ${c.detail}`),
    `  verdict: ${r.verdict}${r.lost === 0 ? '' : ` (${r.lost} records lost)`}`,
  ].join('\n');
}
