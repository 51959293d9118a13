// A TCP peer closing its connection ends its stream: a stack trace it sent
// last is shipped as one record at once (multiline timeout 60 s; waits give
// up after 15 s), while another peer's held group stays held. Through the
// spool the end is not signalled (the records reach the pipeline later, on
// replay; an end now would cut the group), so the timeout ships it there.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Downstream } from '../../../agent/core/component.ts';
import type { LogRecord } from '../../../agent/core/record.ts';
import { Pipeline } from '../../../agent/pipeline/pipeline.ts';
import { tcpSource } from '../../../agent/sources/tcp/tcp-source.ts';
import { makeCtx, waitFor, connect, closed } from './helpers.ts';
import { multilinePipeline } from '../../transforms/multiline-pipeline.ts';

// A log4j-style header line and frames (our own text).
const header = '2024-05-01 12:00:01,002 ERROR [worker-3] c.e.OrderService: request failed';
const frames = [
  'java.lang.IllegalStateException: order 42 has no lines',
  '\tat c.e.OrderService.total(OrderService.java:88)',
  '\tat c.e.Handler.handle(Handler.java:31)',
  '\t... 7 more',
];
const joined = [header, ...frames].join('\n');

/** Records the ends it is told about, and passes everything on. */
class Spy implements Downstream {
  readonly ended: string[] = [];
  readonly streamIds = new Set<string>();
  private readonly next: Pipeline;
  constructor(next: Pipeline) { this.next = next; }
  push(batch: LogRecord[]): Promise<void> {
    for (const r of batch) this.streamIds.add(r.streamId);
    return this.next.push(batch);
  }
  endStream(streamId: string): void {
    this.ended.push(streamId);
    this.next.endStream(streamId);
  }
}

async function rig(t: { after(fn: () => unknown): void }, raw: Record<string, unknown>) {
  const tc = await makeCtx(t);
  const { pipeline, ml, sink, cleanup } = multilinePipeline();
  const spy = new Spy(pipeline);
  const src = tcpSource.create(tcpSource.validate({ address: '127.0.0.1:0', ...raw }, 'sources.net_in'), tc.ctx);
  await src.start(spy);
  t.after(async () => {
    await src.stop();
    await cleanup();
    await src.drain!(1000);
  });
  return { sink, ml, spy, src, port: src.address!.port };
}

test('a closed connection ends its stream: its trailing trace ships whole, another peer\'s group stays held', async (t) => {
  const r = await rig(t, {});
  const other = await connect(r.port);
  t.after(() => { other.destroy(); });
  other.write(`${header} (other peer)\n${frames[0]}\n`);
  await waitFor(() => r.ml.held === 1, 'the other peer\'s group held');
  const s = await connect(r.port);
  s.end(`2024-05-01 12:00:00,001 INFO [main] c.e.App: started\n${header}\n${frames.join('\n')}\n`);
  await closed(s);
  await waitFor(() => r.sink.sent.some((x) => x.body === joined), 'the joined trace after the peer closed');
  const mine = r.sink.sent.filter((x) => x.streamId === r.sink.sent.find((y) => y.body === joined)!.streamId);
  assert.deepEqual(mine.map((x) => x.body), ['2024-05-01 12:00:00,001 INFO [main] c.e.App: started', joined]);
  assert.equal(r.spy.ended.length, 1);
  assert.equal(r.spy.ended[0], mine[0]!.streamId, 'endStream names the streamId the records carry');
  assert.equal(r.ml.held, 1, 'the open connection\'s group is still held');
  assert.ok(!r.sink.sent.some((x) => x.body.includes('(other peer)')));
});

test('with the spool the end is not signalled (records reach the pipeline later, on replay)', async (t) => {
  const r = await rig(t, { spool: { max_bytes: '8MiB' } });
  const s = await connect(r.port);
  s.end(`${header}\n${frames.join('\n')}\n`);
  await closed(s);
  await waitFor(() => r.src.stats.closed.peer === 1, 'the server side saw the close');
  await waitFor(() => r.spy.streamIds.size === 1 && r.ml.held === 1, 'the replayed group held');
  assert.deepEqual(r.spy.ended, []);
  assert.equal(r.sink.sent.length, 0);
});
