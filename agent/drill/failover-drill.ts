// `edgelog drill failover`: proves region failover with numbers. Two Kafka
// clusters stand in for regions A and B (each in its own network namespace
// when root, on loopback otherwise), the real agent tails a file that a writer
// fills with sequence-numbered lines at a steady rate, one fault is injected
// into region A and later repaired, and the drill reports detection,
// failover and failback times, records lost, duplicates and the worst
// end-to-end latency during the event. Lost records make it exit non-zero.

import { mkdtempSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EncodedMessage } from '../core/component.ts';
import { parseConfig } from '../config/load.ts';
import { Agent } from '../pipeline/agent.ts';
import { createLogger, type Logger } from '../observe/log.ts';
import { createRegistry } from '../observe/metrics.ts';
import { FailoverSink, type FailoverEvent } from '../sinks/failover/failover-sink.ts';
import { startKafkaCluster, consumeAll, createTopic, type KafkaCluster } from '../embedded-kafka/cluster.ts';
import { canUseNetns, createRegionNet, type RegionNet } from './netns.ts';

export type Fault = 'kill' | 'freeze' | 'blackhole' | 'manual';

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
  readonly engine?: 'kafkajs' | 'platformatic';
  /** Give up waiting for failback after this long past the repair, ms. */
  readonly failbackTimeoutMs: number;
  /** Existing clusters (no local brokers): bootstrap lists for A and B. */
  readonly clusters?: { a: string; b: string };
  /** Force loopback even when root. */
  readonly loopback?: boolean;
  readonly log: Logger;
  /** Progress lines for a person. */
  readonly say: (line: string) => void;
}

export interface DrillReport {
  fault: Fault;
  network: 'netns' | 'loopback' | 'external';
  written: number;
  delivered_unique: number;
  lost: number;
  duplicates: number;
  /** Sequence ranges that never arrived (at most 20), to place a loss on the timeline. */
  lost_ranges: Array<[number, number]>;
  written_at_fault: number;
  written_at_repair: number;
  detection_ms: number | null;
  failover_ms: number | null;
  failback_ms: number | null;
  hold_down_ms: number;
  max_latency_ms_during_event: number;
  p99_latency_ms_steady: number;
  events: Array<{ t_ms: number; kind: string; detail: string }>;
  timeline: Array<{ t_s: number; acked_a: number; acked_b: number; max_latency_ms: number }>;
  settings: { rate: number; warmup_ms: number; fault_ms: number; probe_interval_ms: number; slow_ms: number; failure_threshold: number };
}

const SEQ_WIDTH = 9;
const seqRe = new RegExp(`drill-seq=(\\d{${SEQ_WIDTH}})`, 'g');

export async function runFailoverDrill(o: DrillOptions): Promise<DrillReport> {
  const dir = mkdtempSync(join(tmpdir(), 'edgelog-drill-'));
  const nets: RegionNet[] = [];
  const clusters: { a: KafkaCluster | null; b: KafkaCluster | null } = { a: null, b: null };
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
      const nsOk = canUseNetns();
      if (!o.loopback && nsOk.ok) {
        network = 'netns';
        const tag = String(process.pid % 100000);
        aNet = createRegionNet(`${tag}a`, 1 + (process.pid % 100) * 2);
        nets.push(aNet);
        const bNet = createRegionNet(`${tag}b`, 2 + (process.pid % 100) * 2);
        nets.push(bNet);
        o.say(`regions in network namespaces: A ${aNet.nsAddr} (${aNet.ns}), B ${bNet.nsAddr} (${bNet.ns})`);
        [clusters.a, clusters.b] = await Promise.all([
          startKafkaCluster({ name: 'A', host: aNet.nsAddr, port: 9092, netns: aNet.ns, dataDir: join(dir, 'kafka-a'), log: o.log }),
          startKafkaCluster({ name: 'B', host: bNet.nsAddr, port: 9092, netns: bNet.ns, dataDir: join(dir, 'kafka-b'), log: o.log }),
        ]);
      } else {
        if (o.fault === 'blackhole') throw new Error(`blackhole needs network namespaces: ${nsOk.reason || 'loopback forced'}`);
        o.say(`regions on loopback (${nsOk.reason || 'loopback forced'})`);
        [clusters.a, clusters.b] = await Promise.all([
          startKafkaCluster({ name: 'A', dataDir: join(dir, 'kafka-a'), log: o.log }),
          startKafkaCluster({ name: 'B', dataDir: join(dir, 'kafka-b'), log: o.log }),
        ]);
      }
      bootA = clusters.a.bootstrap; bootB = clusters.b.bootstrap;
      o.say(`region A kafka ${bootA} ready in ${clusters.a.startupMs} ms, region B kafka ${bootB} ready in ${clusters.b.startupMs} ms`);
    }
    await createTopic(bootA, topic);
    await createTopic(bootB, topic);

    // --- agent ---------------------------------------------------------------------
    const probeIntervalMs = 500, slowMs = 2000, failureThreshold = 5;
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
    failover: { probe_interval: ${probeIntervalMs}ms, slow_threshold: ${slowMs}ms, failure_threshold: ${failureThreshold}, open_duration: 5s, failback_hold_down: ${o.holdDownMs}ms }
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
    const steadyLat: number[] = [];
    let faultAt = 0, repairedAt = 0, eventEnd = 0, maxEventLat = 0;
    sink.onEvent((e: FailoverEvent) => {
      events.push({ t_ms: e.ts - t0, kind: e.kind, detail: e.kind === 'breaker' ? `${e.cluster}: ${e.from} -> ${e.to} (${e.reason})` : `${e.from} -> ${e.to} (${e.reason})` });
      o.say(`  [${((e.ts - t0) / 1000).toFixed(1)} s] ${e.kind} ${events.at(-1)!.detail}`);
    });
    sink.onDelivery((cluster: string, messages: EncodedMessage[]) => {
      const now = Date.now();
      const sec = Math.floor((now - t0) / 1000);
      const b = perSecond.get(sec) ?? { a: 0, b: 0, maxLat: 0 };
      for (const m of messages) {
        // Records encoded on a processing thread come with their read times only.
        const obs: ArrayLike<number> = m.observedMs ?? m.records.map((r) => r.observedMs);
        for (let k = 0; k < obs.length; k++) {
          const lat = now - obs[k]!;
          if (lat > b.maxLat) b.maxLat = lat;
          if (faultAt && (!eventEnd || now <= eventEnd)) { if (lat > maxEventLat) maxEventLat = lat; }
          else if (!faultAt) steadyLat.push(lat);
        }
        if (cluster === 'A') b.a += m.records.length; else b.b += m.records.length;
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
    if (o.fault === 'kill') clusters.a!.kill('SIGKILL');
    else if (o.fault === 'freeze') clusters.a!.kill('SIGSTOP');
    else if (o.fault === 'blackhole') aNet!.blackhole();
    else o.say('manual fault: break region A now');
    await sleep(o.faultMs);

    // --- repair ----------------------------------------------------------------------
    repairedAt = Date.now();
    events.push({ t_ms: repairedAt - t0, kind: 'repair', detail: o.fault });
    o.say(`[${((repairedAt - t0) / 1000).toFixed(1)} s] repair region A`);
    if (o.fault === 'kill') {
      clusters.a = await startKafkaCluster({
        name: 'A', log: o.log, dataDir: join(dir, 'kafka-a'),
        ...(aNet ? { host: aNet.nsAddr, port: 9092, netns: aNet.ns } : { port: Number(bootA.split(':').pop()) }),
      });
    } else if (o.fault === 'freeze') clusters.a!.kill('SIGCONT');
    else if (o.fault === 'blackhole') aNet!.restore();
    const failbackDeadline = Date.now() + o.failbackTimeoutMs;
    while (Date.now() < failbackDeadline && !(sink.activeCluster === 'A' && events.some((e) => e.kind === 'failback'))) await sleep(100);
    eventEnd = Date.now();
    await sleep(2000);

    // --- drain and count -------------------------------------------------------------
    clearInterval(writer);
    writer = null;
    closeSync(fd);
    const written = seq;
    o.say(`writer stopped at ${written} lines; waiting for delivery`);
    // Every line acknowledged (checkpoint at end of file) before the agent stops:
    // a stop while a request is still being retried would leave records for the
    // next start, which this drill does not make.
    const deliverDeadline = Date.now() + 60_000;
    while (Date.now() < deliverDeadline) {
      const text = await agent.registry.metrics();
      const lag = sumMetric(text, 'edgelog_file_checkpoint_lag_bytes');
      if (lag === 0 && sumMetric(text, 'edgelog_file_acked_bytes_total') > 0) break;
      await sleep(200);
    }
    await agent.stop();
    agent = null;
    const seen = new Map<number, number>();
    for (const boot of [bootA, bootB]) {
      const msgs = await consumeAll(boot, topic, { idleMs: 15_000, timeoutMs: 60_000 });
      for (const m of msgs) {
        if (!m.value) continue;
        // Bodies are plain strings inside the OTLP message; sequence tokens are unique.
        for (const x of m.value.toString('latin1').matchAll(seqRe)) { const n = Number(x[1]); seen.set(n, (seen.get(n) ?? 0) + 1); }
      }
    }
    let lost = 0, dups = 0;
    const lostRanges: Array<[number, number]> = [];
    for (let i = 0; i < written; i++) {
      const c = seen.get(i) ?? 0;
      if (c === 0) {
        lost++;
        const last = lostRanges.at(-1);
        if (last && last[1] === i - 1) last[1] = i; else if (lostRanges.length < 20) lostRanges.push([i, i]);
      } else dups += c - 1;
    }

    const open = events.find((e) => e.kind === 'breaker' && e.detail.startsWith('A:') && e.detail.includes('-> open'));
    // Failover: the last ack region A gave before region B's first ack after the fault.
    const firstB = acks.B!.find((x) => x >= faultAt);
    const lastA = firstB === undefined ? undefined : acks.A!.filter((x) => x <= firstB).at(-1);
    // Failback: from the repair to region A's first ack after the failback event.
    const failback = events.find((e) => e.kind === 'failback');
    const firstAAfterFailback = failback ? acks.A!.find((x) => x >= t0 + failback.t_ms) : undefined;
    steadyLat.sort((x, y) => x - y);
    const secs = [...perSecond.keys()].sort((x, y) => x - y);
    return {
      fault: o.fault, network, written, delivered_unique: seen.size, lost, duplicates: dups, lost_ranges: lostRanges,
      // Sequence numbers written per second give the time of any lost range.
      written_at_fault: Math.round(((faultAt - t0) / 1000) * o.rate), written_at_repair: Math.round(((repairedAt - t0) / 1000) * o.rate),
      detection_ms: open ? open.t_ms - (faultAt - t0) : null,
      failover_ms: firstB !== undefined && lastA !== undefined ? firstB - lastA : null,
      failback_ms: firstAAfterFailback !== undefined ? firstAAfterFailback - repairedAt : null,
      hold_down_ms: o.holdDownMs,
      max_latency_ms_during_event: maxEventLat,
      p99_latency_ms_steady: steadyLat.length ? steadyLat[Math.min(steadyLat.length - 1, Math.floor(steadyLat.length * 0.99))]! : 0,
      events,
      timeline: secs.map((s) => ({ t_s: s, acked_a: perSecond.get(s)!.a, acked_b: perSecond.get(s)!.b, max_latency_ms: perSecond.get(s)!.maxLat })),
      settings: { rate: o.rate, warmup_ms: o.warmupMs, fault_ms: o.faultMs, probe_interval_ms: probeIntervalMs, slow_ms: slowMs, failure_threshold: failureThreshold },
    };
  } finally {
    if (writer) clearInterval(writer);
    if (agent) await agent.stop().catch(() => undefined);
    if (clusters.a) { try { clusters.a.kill('SIGCONT'); } catch { /* gone */ } }
    await Promise.all([clusters.a?.stop(), clusters.b?.stop()].map((p) => p?.catch(() => undefined)));
    for (const n of nets) n.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function summarize(r: DrillReport): string {
  const ms = (v: number | null) => (v === null ? 'n/a' : `${(v / 1000).toFixed(2)} s`);
  return [
    `drill failover --fault ${r.fault} (${r.network})`,
    `  written ${r.written}, delivered ${r.delivered_unique} unique, lost ${r.lost}, duplicates ${r.duplicates}`,
    `  detection ${ms(r.detection_ms)}, failover ${ms(r.failover_ms)} (last ack on A -> first ack on B), failback ${ms(r.failback_ms)} (repair -> first ack on A, hold-down ${ms(r.hold_down_ms)})`,
    `  max end-to-end latency during the event ${r.max_latency_ms_during_event} ms; steady p99 ${r.p99_latency_ms_steady} ms`,
    `  verdict: ${r.lost === 0 ? 'PASS (no record lost)' : `FAIL (${r.lost} records lost)`}`,
  ].join('\n');
}

function sumMetric(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
