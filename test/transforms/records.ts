// Test helper for processor golden tests: records built with real AckGroups
// (one group per record unless told otherwise) and an OrderedAcks checkpoint
// per stream, so tests can assert what a source would checkpoint.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from '../../agent/observe/prometheus.ts';
import { AckGroup, OrderedAcks } from '../../agent/core/ack.ts';
import type { AckStatus } from '../../agent/core/ack.ts';
import type { ComponentContext } from '../../agent/core/component.ts';
import { newRecord } from '../../agent/core/record.ts';
import type { LogRecord } from '../../agent/core/record.ts';
import { silentLogger } from '../../agent/observe/log.ts';

export interface TestCtx extends ComponentContext { cleanup(): void }

export function makeCtx(id = 'test'): TestCtx {
  const dataDir = mkdtempSync(join(tmpdir(), 'edgelog-proc-'));
  return {
    id, log: silentLogger, metrics: new Registry(), dataDir, agentId: 'agent-test', host: 'edge-1', service: 'edgelog', site: 'test-site',
    cleanup() { rmSync(dataDir, { recursive: true, force: true }); },
  };
}

/** One stream of a simulated file source: byte offsets, one AckGroup per line, an OrderedAcks checkpoint. */
export class FakeStream {
  readonly name: string;
  readonly streamId: string;
  readonly checkpoint: OrderedAcks;
  offset: number;
  readonly settled: { offset: number; status: AckStatus }[] = [];
  readonly groups: AckGroup[] = [];
  constructor(name = '/var/log/app.log', streamId = 'dev:ino:fp', start = 0) {
    this.name = name; this.streamId = streamId; this.offset = start;
    this.checkpoint = new OrderedAcks(start);
  }
  /** Records for these lines, each with its own sealed AckGroup whose token is the line's end offset. */
  records(lines: string[]): LogRecord[] {
    const out: LogRecord[] = [];
    for (const line of lines) {
      const body = Buffer.from(line, 'utf8');
      const start = this.offset;
      const end = start + body.length + 1;
      this.offset = end;
      const g = new AckGroup(end, (grp) => { this.settled.push({ offset: start, status: grp.status }); this.checkpoint.complete(grp.token); });
      g.add(1);
      this.checkpoint.push(end);
      this.groups.push(g);
      out.push(newRecord(body, 'test', this.name, this.streamId, start, g, 1_700_000_000_000));
      g.seal();
    }
    return out;
  }
  /** Unsettled line groups. */
  get pending(): number { return this.groups.filter((g) => g.pending > 0).length; }
}

/** Quick records without checkpoint bookkeeping. */
export function recs(lines: string[], stream?: FakeStream): LogRecord[] {
  return (stream ?? new FakeStream()).records(lines);
}

/** Settle every record as the sink would after Kafka acknowledged it. */
export function deliver(records: LogRecord[]): void {
  for (const r of records) r.ack.settle(1, 'delivered');
}

export function bodies(records: LogRecord[]): string[] {
  return records.map((r) => r.body.toString('utf8'));
}

/** The value of a counter with these labels ('' when absent -> 0). */
export async function metricValue(ctx: ComponentContext, name: string, labels: Record<string, string>): Promise<number> {
  const m = ctx.metrics.getSingleMetric(name);
  if (!m) return 0;
  const data = await m.get();
  let sum = 0;
  for (const v of data.values) {
    if (Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want)) sum += v.value;
  }
  return sum;
}

/** The decoded view of a record, for golden comparisons. */
export function view(r: LogRecord): { body: string; time: string; sev: number; sevText: string; attrs: Record<string, unknown> | null; traceId: string; spanId: string } {
  return { body: r.body.toString('utf8'), time: r.timeUnixNano.toString(), sev: r.severityNumber, sevText: r.severityText, attrs: r.attributes, traceId: r.traceId, spanId: r.spanId };
}
