// Shared pieces of the forward tests: a component context, a Downstream that
// acknowledges what it receives (optionally holding it), OTLP messages built
// by the real encoder, a raw protocol client for malformed-input tests.

import net from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from '../../agent/observe/prometheus.ts';
import type { TestContext } from 'node:test';
import { AckGroup } from '../../agent/core/ack.ts';
import type { ComponentContext, Downstream, EncodedMessage } from '../../agent/core/component.ts';
import { newRecord, type LogRecord } from '../../agent/core/record.ts';
import { silentLogger, createLogger } from '../../agent/observe/log.ts';
import { OtlpProtoEncoder, otlpProtoDefaults } from '../../agent/encoders/otlp/otlp-proto.ts';
import { FrameDecoder, encodeHello, type Frame } from '../../agent/forward/codec.ts';
import { MAX_VERSION, MIN_VERSION } from '../../agent/forward/constants.ts';
import { defer, removeDir } from '../helpers/cleanup.ts';

export function makeCtx(t: TestContext, id: string, agentId = 'edge-1', registry = new Registry()): ComponentContext {
  const dataDir = mkdtempSync(join(tmpdir(), 'edgelog-fwd-'));
  // Deferred first: runs after the sinks and sources a test defers (test/helpers/cleanup.ts), and never fails the cleanup.
  defer(t, `remove ${dataDir}`, () => removeDir(dataDir));
  const log = process.env.FORWARD_TEST_LOG ? createLogger({ level: 'debug' }) : silentLogger;
  return { id, log, metrics: registry, dataDir, agentId, host: 'host-a', service: 'svc', site: 'site-1' };
}

/** Downstream that collects records and settles them (after `holdMs`, or when release() is called if hold). */
export class CollectingDownstream implements Downstream {
  readonly records: LogRecord[] = [];
  held: LogRecord[][] = [];
  hold = false;
  pushes = 0;
  async push(batch: LogRecord[]): Promise<void> {
    this.pushes++;
    this.records.push(...batch);
    if (this.hold) { this.held.push(batch); return; }
    setImmediate(() => { for (const r of batch) r.ack.settle(1, 'delivered'); });
  }
  release(): void {
    const h = this.held;
    this.held = [];
    for (const b of h) for (const r of b) r.ack.settle(1, 'delivered');
  }
}

/** Records of one fake file stream; `acked` counts settled records. */
export function makeRecords(n: number, opts: { stream?: string; streamId?: string; start?: number; body?: (i: number) => Buffer } = {}): { records: LogRecord[]; acked: () => number } {
  let acked = 0;
  const group = new AckGroup(0, () => {});
  const records: LogRecord[] = [];
  let off = opts.start ?? 0;
  for (let i = 0; i < n; i++) {
    const body = opts.body ? opts.body(i) : Buffer.from(`line ${i} ${'x'.repeat(i % 50)}`);
    const r = newRecord(body, 'files', opts.stream ?? '/var/log/app.log', opts.streamId ?? 'dev:ino:fp', off, group, 1_700_000_000_000 + i);
    r.ack = { settle: () => { acked++; } } as unknown as AckGroup;
    records.push(r);
    off += body.length + 1;
  }
  return { records, acked: () => acked };
}

export function encoder(agentId = 'edge-1'): OtlpProtoEncoder {
  return new OtlpProtoEncoder({ ...otlpProtoDefaults, key: 'none' }, { host: 'host-a', service: 'svc', site: 'site-1', agentId });
}

export function encode(records: LogRecord[], perMessage = records.length): EncodedMessage[] {
  const enc = encoder();
  const out: EncodedMessage[] = [];
  for (let i = 0; i < records.length; i += perMessage) out.push(...enc.encode(records.slice(i, i + perMessage)));
  return out;
}

/** A bare protocol client for feeding the source whatever bytes a test wants. */
export class RawClient {
  readonly socket: net.Socket;
  readonly frames: Frame[] = [];
  private readonly decoder = new FrameDecoder(64 << 20);
  readonly closed: Promise<void>;
  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => { this.decoder.push(d, this.frames); });
    socket.on('error', () => {});
    this.closed = new Promise((r) => socket.once('close', () => r()));
  }
  static async connect(port: number): Promise<RawClient> {
    const s = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => { s.once('connect', () => resolve()); s.once('error', reject); });
    return new RawClient(s);
  }
  // edge-1: the agent id encoder() writes into the records' resource (the relay refuses records claiming another id)
  hello(agentId = 'edge-1'): void {
    this.socket.write(encodeHello({ minVersion: MIN_VERSION, maxVersion: MAX_VERSION, flags: 0, maxFrameBytes: 1 << 20, compressions: [0], sessionId: 1n, agentId }));
  }
  write(b: Buffer): void { this.socket.write(b); }
  async waitFrame(type: number, timeoutMs = 5000): Promise<Frame> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const f = this.frames.find((x) => x.type === type);
      if (f) return f;
      if (Date.now() > end) throw new Error(`no frame of type ${type} within ${timeoutMs} ms (got ${this.frames.map((x) => x.type).join(',')})`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  destroy(): void { this.socket.destroy(); }
}

export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (!m) return 0;
  const v = await m.get();
  let sum = 0;
  for (const s of v.values) {
    if (Object.entries(labels).every(([k, x]) => String((s.labels as Record<string, unknown>)[k]) === x)) sum += s.value;
  }
  return sum;
}

export async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
