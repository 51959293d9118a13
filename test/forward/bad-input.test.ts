// Bad input on the forward source: truncated frames, wrong lengths, random
// bytes, unknown types, frames before HELLO, wrong and out-of-window
// sequences, a silent peer, too many connections. Each is rejected and
// counted by reason, answered with GOAWAY and its connection closed, while a
// concurrent good agent keeps delivering on its own connection.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Registry } from '../../agent/observe/prometheus.ts';
import { encodeAck, encodeBatch, encodeHello, type GoawayFrame } from '../../agent/forward/codec.ts';
import { ErrorCode, FrameType } from '../../agent/forward/constants.ts';
import { forwardSink, type ForwardSink } from '../../agent/sinks/forward/index.ts';
import { forwardSource, type ForwardSource } from '../../agent/sources/forward/index.ts';
import { CollectingDownstream, RawClient, encode, makeCtx, makeRecords, metricValue, until } from './helpers.ts';

async function setup(t: import('node:test').TestContext, opts: Record<string, unknown> = {}) {
  const registry = new Registry();
  const ctx = makeCtx(t, 'fwd_in', 'relay-1', registry);
  const src = forwardSource.create(forwardSource.validate({ address: '127.0.0.1:0', window: 4, max_frame_bytes: '1MiB', ...opts }, 'sources.fwd_in'), ctx) as ForwardSource;
  const down = new CollectingDownstream();
  await src.start(down);
  t.after(async () => { await src.stop(); await src.drain(1000); });
  const good = forwardSink.create(forwardSink.validate({ endpoints: [`127.0.0.1:${src.address!.port}`] }, 'sinks.out'), makeCtx(t, 'out')) as ForwardSink;
  t.after(() => good.close());
  return { src, down, registry, port: src.address!.port, good };
}

function batch(seq: bigint, records = makeRecords(3).records): Buffer {
  const [m] = encode(records);
  return encodeBatch({ sequence: seq, compression: 0, recordCount: m!.records.length, rawLength: m!.value.length, payload: m!.value });
}

interface Case { name: string; reason: string; code: number; feed(c: RawClient): void }

const cases: Case[] = [
  { name: 'random bytes', reason: 'frame_too_large', code: ErrorCode.FRAME_TOO_LARGE, feed: (c) => c.write(Buffer.concat([Buffer.from([0xde, 0xad, 0xbe, 0xef]), randomBytes(256)])) },
  { name: 'zero length', reason: 'zero_length', code: ErrorCode.PROTOCOL, feed: (c) => c.write(Buffer.from('00000000', 'hex')) },
  { name: 'length above max_frame_bytes', reason: 'frame_too_large', code: ErrorCode.FRAME_TOO_LARGE, feed: (c) => c.write(Buffer.from('0100000103', 'hex')) },
  { name: 'unknown frame type', reason: 'unknown_type', code: ErrorCode.UNKNOWN_TYPE, feed: (c) => { c.hello(); c.write(Buffer.from('00000005ee00000000', 'hex')); } },
  { name: 'wrong length for the type', reason: 'bad_length', code: ErrorCode.PROTOCOL, feed: (c) => { c.hello(); c.write(Buffer.from('0000000606' + '0000000000', 'hex')); } },
  { name: 'HELLO length disagrees with its contents', reason: 'bad_length', code: ErrorCode.PROTOCOL, feed: (c) => { const h = encodeHello({ minVersion: 1, maxVersion: 1, flags: 0, maxFrameBytes: 1 << 20, compressions: [0], sessionId: 1n, agentId: 'x' }); h.writeUInt32BE(h.readUInt32BE(0) + 3, 0); c.write(Buffer.concat([h, Buffer.from('000000', 'hex')])); } },
  { name: 'BATCH before HELLO', reason: 'no_hello', code: ErrorCode.UNEXPECTED_FRAME, feed: (c) => c.write(batch(1n)) },
  { name: 'agent sends an ACK', reason: 'unexpected_frame', code: ErrorCode.UNEXPECTED_FRAME, feed: (c) => { c.hello(); c.write(encodeAck(1n)); } },
  { name: 'unsupported version', reason: 'unsupported_version', code: ErrorCode.UNSUPPORTED_VERSION, feed: (c) => c.write(encodeHello({ minVersion: 7, maxVersion: 9, flags: 0, maxFrameBytes: 1 << 20, compressions: [0], sessionId: 1n, agentId: 'x' })) },
  { name: 'sequence 0', reason: 'bad_sequence', code: ErrorCode.BAD_SEQUENCE, feed: (c) => { c.hello(); c.write(batch(0n)); } },
  { name: 'sequence going backwards', reason: 'bad_sequence', code: ErrorCode.BAD_SEQUENCE, feed: (c) => { c.hello(); c.write(Buffer.concat([batch(5n), batch(4n)])); } },
  { name: 'duplicate sequence', reason: 'bad_sequence', code: ErrorCode.BAD_SEQUENCE, feed: (c) => { c.hello(); c.write(Buffer.concat([batch(9n), batch(9n)])); } },
];

test('each kind of bad input is rejected, counted and its connection closed; a good agent is unaffected', async (t) => {
  const { registry, port, good, down } = await setup(t);
  // a good agent keeps sending through all of it
  let stop = false;
  let sent = 0;
  const goodLoop = (async () => {
    while (!stop) {
      const { records } = makeRecords(20, { start: sent * 1000, streamId: 'good-agent' });
      await good.send(encode(records));
      sent += 20;
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  try {
    // Its session is up and delivering before the first bad client connects (on a
    // loaded machine the twelve cases could otherwise all finish before its first send).
    await until('the good agent delivering', () => sent > 0);
    for (const c of cases) {
      const before = await metricValue(registry, 'edgelog_forward_rejected_total', { reason: c.reason });
      const client = await RawClient.connect(port);
      c.feed(client);
      await client.closed;
      const ga = client.frames.find((f) => f.type === FrameType.GOAWAY) as GoawayFrame | undefined;
      assert.ok(ga, `${c.name}: GOAWAY sent before closing`);
      assert.equal(ga.code, c.code, `${c.name}: GOAWAY code`);
      assert.equal(await metricValue(registry, 'edgelog_forward_rejected_total', { reason: c.reason }), before + 1, `${c.name}: counted as ${c.reason}`);
    }
    // and keeps delivering afterwards on the same connection
    const after = sent;
    await until('more good batches', () => sent >= after + 100);
  } finally {
    stop = true;
    await goodLoop;
  }
  // every record of the good agent arrived (bad clients' valid batches before their violation count too)
  assert.equal(down.records.filter((r) => r.streamId === 'good-agent').length, sent);
});

test('a frame truncated at end of stream is counted as truncated', async (t) => {
  const { registry, port } = await setup(t);
  const client = await RawClient.connect(port);
  client.hello();
  await client.waitFrame(FrameType.HELLO_ACK);
  const b = batch(1n);
  client.write(b.subarray(0, b.length - 7));
  client.socket.end();
  await client.closed;
  await until('truncated counted', async () => (await metricValue(registry, 'edgelog_forward_rejected_total', { reason: 'truncated' })) === 1);
});

test('more unacknowledged batches than the window is rejected', async (t) => {
  const { registry, port, down } = await setup(t, { window: 2 });
  down.hold = true; // nothing gets acknowledged
  const client = await RawClient.connect(port);
  client.hello();
  client.write(Buffer.concat([batch(1n), batch(2n), batch(3n)]));
  await client.closed;
  assert.equal(await metricValue(registry, 'edgelog_forward_rejected_total', { reason: 'window_exceeded' }), 1);
  assert.equal((client.frames.find((f) => f.type === FrameType.GOAWAY) as GoawayFrame).code, ErrorCode.WINDOW_EXCEEDED);
  down.release();
});

test('valid frames with a bad payload are NACKed, the connection stays', async (t) => {
  const { registry, port, down } = await setup(t);
  const client = await RawClient.connect(port);
  client.hello();
  const [m] = encode(makeRecords(4).records);
  // record count lies
  client.write(encodeBatch({ sequence: 1n, compression: 0, recordCount: 5, rawLength: m!.value.length, payload: m!.value }));
  // payload is not protobuf
  client.write(encodeBatch({ sequence: 2n, compression: 0, recordCount: 1, rawLength: 4, payload: Buffer.from([0x0a, 0xff, 0xff, 0x7f]) }));
  // compressed payload that is not zstd
  client.write(encodeBatch({ sequence: 3n, compression: 2, recordCount: 1, rawLength: 100, payload: randomBytes(40) }));
  // unknown codec
  client.write(encodeBatch({ sequence: 4n, compression: 77, recordCount: 1, rawLength: 4, payload: randomBytes(4) }));
  // and a good one still goes through
  client.write(batch(5n, makeRecords(2).records));
  await until('ack for 5', () => client.frames.some((f) => f.type === FrameType.ACK && f.sequence === 5n));
  const nacks = client.frames.filter((f) => f.type === FrameType.NACK).map((f) => f.type === FrameType.NACK ? [Number(f.sequence), f.code, f.retriable] : []);
  assert.deepEqual(nacks, [[1, ErrorCode.RECORD_COUNT_MISMATCH, false], [2, ErrorCode.BAD_PAYLOAD, false], [3, ErrorCode.BAD_PAYLOAD, false], [4, ErrorCode.UNSUPPORTED_COMPRESSION, false]]);
  assert.equal(down.records.length, 2);
  assert.equal(await metricValue(registry, 'edgelog_forward_nacks_total'), 4);
  assert.equal(client.socket.destroyed, false);
  client.destroy();
});

test('silent peers: no HELLO within the handshake timeout, idle after it', async (t) => {
  const { registry, port } = await setup(t, { handshake_timeout: '200ms', idle_timeout: '300ms' });
  const silent = await RawClient.connect(port);
  await silent.closed;
  assert.equal(await metricValue(registry, 'edgelog_forward_rejected_total', { reason: 'handshake_timeout' }), 1);
  const idle = await RawClient.connect(port);
  idle.hello();
  await idle.closed;
  assert.equal(await metricValue(registry, 'edgelog_forward_rejected_total', { reason: 'idle_timeout' }), 1);
  assert.equal((idle.frames.find((f) => f.type === FrameType.GOAWAY) as GoawayFrame).code, ErrorCode.IDLE_TIMEOUT);
});

test('connections above max_connections are refused and counted', async (t) => {
  const { registry, port } = await setup(t, { max_connections: 2 });
  const a = await RawClient.connect(port);
  const b = await RawClient.connect(port);
  a.hello(); b.hello();
  await a.waitFrame(FrameType.HELLO_ACK); await b.waitFrame(FrameType.HELLO_ACK);
  const c = await RawClient.connect(port);
  await c.closed;
  assert.equal(await metricValue(registry, 'edgelog_forward_rejected_total', { reason: 'max_connections' }), 1);
  a.destroy(); b.destroy();
});

test('relay shutdown: GOAWAY(shutting_down), pending batches still ACKed before close', async (t) => {
  const registry = new Registry();
  const ctx = makeCtx(t, 'fwd_in', 'relay-1', registry);
  const src = forwardSource.create(forwardSource.validate({ address: '127.0.0.1:0' }, 'sources.fwd_in'), ctx) as ForwardSource;
  const down = new CollectingDownstream();
  down.hold = true;
  await src.start(down);
  const client = await RawClient.connect(src.address!.port);
  client.hello();
  client.write(batch(1n));
  await until('batch pushed', () => down.records.length === 3);
  await src.stop();
  const ga = await client.waitFrame(FrameType.GOAWAY) as GoawayFrame;
  assert.equal(ga.code, ErrorCode.SHUTTING_DOWN);
  const drained = src.drain(5000);
  down.release();
  await drained;
  assert.ok(client.frames.some((f) => f.type === FrameType.ACK && f.sequence === 1n), 'ACK after GOAWAY for the pending batch');
  await client.closed;
});
