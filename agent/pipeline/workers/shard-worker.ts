// A processing worker: decoders, transforms, batching and the encoder of one
// pipeline, for the streams hashed to it. Records of one stream always come
// to the same worker and leave it in the order they came, and the main thread
// sends results strictly in the order they arrive, so a stream is never
// reordered. The worker builds its components from the same validated YAML
// the main thread read (plain data crosses; compiled regexes and closures are
// rebuilt here), counts into its own metrics registry (the main thread
// mirrors it on /metrics), and keeps the records of every message it produced
// until the main thread reports the message acknowledged, so an oversize
// answer from the destination can still be split.

import { appendFileSync } from 'node:fs';
import { basename } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { Registry } from '../../observe/prometheus.ts';
import { AckGroup } from '../../core/ack.ts';
import { discardReason } from '../dead-letter.ts';
import type { AckStatus } from '../../core/ack.ts';
import type { ComponentContext, EncodedMessage, Encoder, Processor } from '../../core/component.ts';
import { newRecord, type LogRecord } from '../../core/record.ts';
import { findSpec } from '../../registry.ts';
import { createLogger } from '../../observe/log.ts';
import { deadLetterFor } from '../dead-letter.ts';
import { StageChain, encodeFitting as fitMessages } from '../stage-chain.ts';
import { batchColumns, tight, type WireBatch, type WireResult } from './wire.ts';
import { BodyRing, type RingRegion } from './body-ring.ts';
import type { ToWorker, WorkerInit } from './protocol.ts';

const init = workerData as WorkerInit;
const port = parentPort!;
const TICK_MS = 100; // as the in-thread pipeline ticks its time-based stages

/** Drops and dead letters settled here, reported to the main thread in batches. */
let settles: number[] = [];
let settleScheduled = false;
const statusCode: Record<AckStatus, number> = { delivered: 0, dropped: 1, rejected: 2 };

class RemoteAck extends AckGroup {
  readonly id: number;
  constructor(id: number) { super(0, noop); this.id = id; this.sealed = true; this.pending = 0x3fffffff; }
  override settle(n = 1, status: AckStatus = 'delivered'): void {
    settles.push(this.id, n, statusCode[status]);
    if (!settleScheduled) { settleScheduled = true; setImmediate(postSettles); }
  }
}
function noop(): void {}

function postSettles(): void {
  settleScheduled = false;
  if (settles.length === 0) return;
  const s = Int32Array.from(settles);
  settles = [];
  port.postMessage({ t: 'settles', settles: s }, [s.buffer]);
}

const registry = new Registry();
const log = createLogger({ level: init.logLevel, format: init.logFormat }, { pipeline: init.pipelineId, worker: init.index });
const ctx = (id: string): ComponentContext => ({
  id, log: log.child({ component: id }), metrics: registry, dataDir: init.dataDir, deadLetterMaxBytes: init.deadLetterMaxBytes,
  agentId: init.agentId, host: init.host, service: init.service, site: init.site,
});
function build<T>(c: { id: string; path: string; kind: 'processor' | 'encoder'; type: string; raw: unknown }): T {
  const spec = findSpec(c.kind, c.type);
  if (!spec) throw new Error(`unknown ${c.kind} type ${c.type}`);
  return spec.create(spec.validate(c.raw, c.path), ctx(c.id)) as T;
}
const processors: Processor[] = init.processors.map((c) => build<Processor>({ ...c, kind: 'processor' }));
const encoder: Encoder = build<Encoder>({ ...init.encoder, kind: 'encoder' });
// The worker writes to the pipeline's file (deadLetterPath names the same file).
const deadLetter = deadLetterFor(ctx(init.pipelineId), basename(init.deadLetterPath, '.jsonl'), init.deadLetterPath);
const outRing = new BodyRing(init.outRing);
const outRegions = new Map<number, RingRegion>();
const { maxBytes, maxEvents, timeoutMs } = init.batch;

let open: LogRecord[] = [];
let openBytes = 0;
let linger: NodeJS.Timeout | null = null;
let nextResult = 1;
const retained = new Map<number, EncodedMessage[]>();
let pendingWrites: Promise<unknown> = Promise.resolve();

const chain = new StageChain(processors, accept);

function accept(recs: LogRecord[]): void {
  for (let i = 0; i < recs.length; i++) {
    const r = recs[i]!;
    open.push(r);
    openBytes += r.body.length;
    if (openBytes >= maxBytes || open.length >= maxEvents) closeBatch();
  }
  if (open.length > 0 && linger === null) linger = setTimeout(() => { linger = null; closeBatch(); }, timeoutMs);
}

function closeBatch(): void {
  if (linger) { clearTimeout(linger); linger = null; }
  if (open.length === 0) return;
  const batch = open;
  open = [];
  openBytes = 0;
  const out: EncodedMessage[] = [];
  const rejects: LogRecord[] = [];
  encodeFitting(batch, out, rejects);
  if (rejects.length) rejectTooLarge(rejects);
  if (out.length) postResult(out, 0);
}

function encodeFitting(batch: LogRecord[], out: EncodedMessage[], rejects: LogRecord[]): void {
  fitMessages(encoder, init.maxMessageBytes, batch, out, rejects);
}

/** Dead letter, written before the records are settled so a crash cannot lose one without a trace. */
function rejectTooLarge(recs: LogRecord[]): void {
  rejectRecords(recs, 'EDGELOG_RECORD_TOO_LARGE', `record of ${recs[0]!.body.length} bytes is larger than the destination accepts`);
}

function rejectRecords(recs: LogRecord[], code: string, detail: string): void {
  port.postMessage({ t: 'discarded', n: recs.length, reason: discardReason(code), detail });
  pendingWrites = pendingWrites.then(() => deadLetter.write(recs, code, detail)).catch((e) => {
    log.error('dead-letter write failed', { path: deadLetter.path, error: (e as Error).message });
  }).then(() => { for (const r of recs) r.ack.settle(1, 'rejected'); });
}

/** The (ack id, count) runs of one record's acknowledgement; runs never reach back before `from` (the message's first). */
function ackParts(ack: AckGroup, n: number, ids: number[], counts: number[], from: number): void {
  partIds = ids; partCounts = counts; partFrom = from;
  ack.eachPart(n, addPart);
}

// addPart's target arrays, set by ackParts (one module-level callback: no closure per record).
let partIds: number[] = [];
let partCounts: number[] = [];
let partFrom = 0;
function addPart(part: AckGroup, count: number): void {
  if (!(part instanceof RemoteAck)) throw new Error('record with an acknowledgement the worker did not hand out');
  const last = partIds.length - 1;
  if (last >= partFrom && partIds[last] === part.id) partCounts[last]! += count;
  else { partIds.push(part.id); partCounts.push(count); }
}

function postResult(msgs: EncodedMessage[], splitSeq: number): void {
  const id = nextResult++;
  retained.set(id, msgs);
  const count = msgs.length;
  let vTotal = 0;
  let kTotal = 0;
  let nRecs = 0;
  for (const m of msgs) { vTotal += m.value.length; kTotal += m.key?.length ?? 0; nRecs += m.records.length; }
  // Values go into the shared output ring (no external memory adopted by the
  // main thread); when it is full, one message (otlp_proto) usually is a whole
  // ArrayBuffer already and is transferred as is.
  const region = outRing.alloc(vTotal);
  if (region) outRegions.set(id, region);
  const vBase = region ? region.start : 0;
  const values = region ? outRing.view : count === 1 ? tight(msgs[0]!.value) : Buffer.allocUnsafeSlow(vTotal);
  const copyValues = region !== null || count !== 1;
  const keys = Buffer.allocUnsafeSlow(kTotal);
  const valueEnds = new Uint32Array(count);
  const keyLens = new Int32Array(count);
  const headerIdx = new Uint16Array(count);
  const records = new Uint32Array(count);
  const partEnds = new Uint32Array(count);
  const observed = new Float64Array(nRecs);
  const headers: Array<Record<string, string>> = [];
  const ids: number[] = [];
  const counts: number[] = [];
  let vp = vBase;
  let kp = 0;
  let op = 0;
  for (let i = 0; i < count; i++) {
    const m = msgs[i]!;
    if (copyValues) m.value.copy(values, vp);
    vp += m.value.length;
    valueEnds[i] = vp - vBase;
    if (m.key) { kp += m.key.copy(keys, kp); keyLens[i] = m.key.length; } else keyLens[i] = -1;
    let h = headers.indexOf(m.headers);
    if (h < 0) { h = headers.length; headers.push(m.headers); }
    headerIdx[i] = h;
    records[i] = m.records.length;
    const from = ids.length;
    for (let r = 0; r < m.records.length; r++) {
      const rec = m.records[r]!;
      observed[op++] = rec.observedMs;
      ackParts(rec.ack, 1, ids, counts, from);
    }
    partEnds[i] = ids.length;
  }
  if (settles.length) postSettles(); // drops first: they free buffer space sooner
  const ackIds = Int32Array.from(ids);
  const ackCounts = Int32Array.from(counts);
  const res: WireResult = {
    t: 'result', id, count, values: region ? null : values.buffer as ArrayBuffer, valuesOffset: vBase, valueEnds, keys: keys.buffer as ArrayBuffer, keyLens,
    headers, headerIdx, records, partEnds, ackIds, ackCounts, observed, settles: new Int32Array(0), splitSeq,
  };
  port.postMessage(res, [...(res.values ? [res.values] : []), res.keys, valueEnds.buffer, keyLens.buffer, headerIdx.buffer, records.buffer, partEnds.buffer, ackIds.buffer, ackCounts.buffer, observed.buffer] as ArrayBuffer[]);
}

function unpack(b: WireBatch): LogRecord[] {
  const n = b.n;
  const c = batchColumns(b.buf ?? init.ring, b.at, n, b.room);
  const recs: LogRecord[] = new Array(n);
  let lastId = -1;
  let ack: RemoteAck | null = null;
  const e = b.extra;
  for (let i = 0; i < n; i++) {
    const id = c.ackIds[i]!;
    if (id !== lastId) { ack = new RemoteAck(id); lastId = id; }
    const s = c.streamIdx[i]! * 3;
    const r = newRecord(c.bodies.subarray(c.starts[i]!, c.ends[i]!), b.streams[s]!, b.streams[s + 1]!, b.streams[s + 2]!, c.offsets[i]!, ack!, c.observed[i]!);
    if (e) {
      r.timeUnixNano = e.time[i]!;
      r.severityNumber = e.severity[i]!;
      r.severityText = e.severityText[i]!;
      r.attributes = e.attributes[i]!;
      r.traceId = e.traceId[i]!;
      r.spanId = e.spanId[i]!;
    }
    recs[i] = r;
  }
  return recs;
}

const ticker = setInterval(() => chain.tick(Date.now()), TICK_MS);
ticker.unref();

port.on('message', (m: ToWorker) => {
  try {
    switch (m.t) {
      case 'batch': {
        const recs = unpack(m);
        let out: LogRecord[];
        try {
          out = chain.run(0, recs);
        } catch (err) {
          // A stage that throws is a bug. Ship the batch as read rather than strand
          // its acknowledgements (duplicates are possible, loss is not).
          port.postMessage({ t: 'error', message: (err as Error).stack ?? String(err) });
          out = recs;
        }
        accept(out);
        break;
      }
      case 'end': chain.endStream(m.streamId); break;
      case 'done':
        for (const id of m.results) {
          retained.delete(id);
          const r = outRegions.get(id);
          if (r) { outRegions.delete(id); outRing.release(r); }
        }
        break;
      case 'split': {
        const recs = retained.get(m.result)?.[m.index]?.records;
        if (!recs || recs.length < 2) { port.postMessage({ t: 'split-failed', seq: m.seq }); break; }
        const half = recs.length >> 1;
        const out: EncodedMessage[] = [];
        const rejects: LogRecord[] = [];
        encodeFitting(recs.slice(0, half), out, rejects);
        encodeFitting(recs.slice(half), out, rejects);
        if (rejects.length) rejectTooLarge(rejects);
        postResult(out, m.seq);
        break;
      }
      case 'reject': {
        const rec = retained.get(m.result)?.[m.index]?.records[0];
        if (rec) rejectRecords([rec], m.code, m.detail);
        break;
      }
      case 'flush':
        chain.flush();
        closeBatch();
        void pendingWrites.then(() => { postSettles(); port.postMessage({ t: 'flushed', seq: m.seq }); });
        break;
      case 'metrics':
        void registry.getMetricsAsJSON().then((json) => {
          // Label names too: a counter nobody incremented yet has no values to show them.
          const withLabels = json.map((x) => ({
            name: x.name, help: x.help, type: String(x.type), values: x.values,
            labelNames: (registry.getSingleMetric(x.name) as unknown as { labelNames?: string[] })?.labelNames ?? [],
          }));
          port.postMessage({ t: 'metrics', seq: m.seq, json: withLabels });
        });
        break;
    }
  } catch (err) {
    // A stage that throws is a bug; report it (the main thread logs it and marks the pipeline degraded) and go on.
    port.postMessage({ t: 'error', message: (err as Error).stack ?? String(err) });
  }
});
// GC pauses of this thread go to the agent's pause histogram (thread="worker"),
// reported once a second rather than per pause.
const gcKinds: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb' };
let gcPauses: Array<[string, number]> = [];
const gcFile = process.env.EDGELOG_BENCH_GC_FILE; // the bench's exact pause list (bench/peers/edgelog-entry.ts)
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcPauses.push([gcKinds[(e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0] ?? 'other', e.duration]);
}).observe({ entryTypes: ['gc'] });
setInterval(() => {
  if (gcPauses.length === 0) return;
  port.postMessage({ t: 'gc', pauses: gcPauses });
  if (gcFile) { try { appendFileSync(`${gcFile}.worker-${init.index}`, gcPauses.map((p) => p[1]).join('\n') + '\n'); } catch { /* diagnostics only */ } }
  gcPauses = [];
}, 1000).unref();

port.postMessage({ t: 'ready' });
