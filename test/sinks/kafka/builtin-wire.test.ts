// Engine builtin's pure parts: CRC32C (against a bit-at-a-time computation and
// the standard check value), zigzag varints at their byte boundaries, Java's
// murmur2 (Kafka's own test vectors, and kafkajs's partitioner on random keys),
// record batch v2 bytes decoded back field by field, and a connection that
// refuses a garbled or oversized response size without allocating it;
// version choice, and the error mapping shared with the other engines.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { crc32c, crc32cJs } from '../../../agent/sinks/kafka/engines/builtin/crc32c.ts';
import { tryLoadNative } from '../../../agent/native/lib.ts';
import { keyPartition, murmur2 } from '../../../agent/sinks/kafka/engines/builtin/murmur2.ts';
import { readVarint, varintSize, writeVarint } from '../../../agent/sinks/kafka/engines/builtin/wire.ts';
import { batchHeader, buildRecords, HeaderCache, SectionScratch } from '../../../agent/sinks/kafka/engines/builtin/record-batch.ts';
import { Connection } from '../../../agent/sinks/kafka/engines/builtin/connection.ts';
import type { ProducerMessage } from '../../../agent/sinks/kafka/producer.ts';
import { Api, pickVersion } from '../../../agent/sinks/kafka/engines/builtin/protocol.ts';
import { KafkaNetworkError, KafkaProtocolError } from '../../../agent/sinks/kafka/engines/builtin/error-codes.ts';
import { createEngine } from '../../../agent/sinks/kafka/engines/create.ts';
import { kafkaSink } from '../../../agent/sinks/kafka/sink.ts';
import type { KafkaSendError } from '../../../agent/sinks/kafka/errors.ts';
import { RecordTooLargeError } from '../../../agent/core/errors.ts';

const require = createRequire(import.meta.url);

/** CRC32C one bit at a time, straight from the polynomial (no tables). */
function crcBitwise(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

test('crc32c: the standard check value, and equal to a bitwise computation at every length and split', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(0)), 0);
  const data = randomBytes(300);
  for (let n = 0; n <= 64; n++) assert.equal(crc32c(data, 0, n), crcBitwise(data.subarray(0, n)), `length ${n}`);
  assert.equal(crc32c(data), crcBitwise(data));
  for (const cut of [1, 7, 8, 13, 150]) assert.equal(crc32c(data, cut, data.length, crc32c(data, 0, cut)), crcBitwise(data), `split at ${cut}`);
});

test('crc32c from 16 KiB on (the native helper where it loads) equals the table loop, at odd offsets and continued', (t) => {
  const data = randomBytes(300_000);
  const bitwise = crcBitwise(data);
  assert.equal(crc32c(data), bitwise);
  assert.equal(crc32cJs(data), bitwise);
  assert.equal(crc32c(data, 3, data.length - 5), crcBitwise(data.subarray(3, data.length - 5)), 'a view at an odd offset');
  for (const n of [16_383, 16_384, 16_391]) assert.equal(crc32c(data, 1, 1 + n), crcBitwise(data.subarray(1, 1 + n)), `${n} bytes, at the threshold`);
  const head = crc32c(data, 0, 100_001);
  assert.equal(crc32c(data, 100_001, data.length, head), bitwise, 'continued from an earlier crc with the high bit set or not');
  const { lib, error } = tryLoadNative();
  if (lib) assert.equal((lib.fn.edgelog_crc32c([0, data, data.length]) as number) >>> 0, bitwise, 'the native function itself');
  else t.diagnostic(`native library not loaded (${error?.message}): the table loop was checked twice`);
});

test('varints: zigzag sizes and bytes at every 7-bit boundary, round trip, truncation refused', () => {
  const cases: [number, number][] = [[0, 1], [-1, 1], [1, 1], [63, 1], [-64, 1], [64, 2], [-65, 2], [8191, 2], [-8192, 2], [8192, 3], [1048575, 3], [1048576, 4], [134217727, 4], [134217728, 5], [2147483647, 5], [-2147483648, 5]];
  for (const [v, size] of cases) {
    assert.equal(varintSize(v), size, `size of ${v}`);
    const b = new Uint8Array(5);
    assert.equal(writeVarint(b, 0, v), size);
    assert.deepEqual(readVarint(b, 0), [v, size], `round trip ${v}`);
  }
  const b = new Uint8Array(2);
  writeVarint(b, 0, 300); // zigzag 600 = 0x258 -> d8 04
  assert.deepEqual([...b], [0xd8, 0x04]);
  assert.throws(() => readVarint(new Uint8Array([0x80, 0x80]), 0), /truncated/);
  assert.throws(() => readVarint(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), 0), /longer than 5/);
});

test("murmur2: Kafka's test vectors, and kafkajs's partitioner on random keys", () => {
  const vectors: [string, number][] = [
    ['21', -973932308], ['foobar', -790332482], ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829], ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971], ['abc', 479470107],
  ];
  for (const [k, h] of vectors) assert.equal(murmur2(Buffer.from(k)), h, k);
  const theirs = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (k: Buffer) => number;
  for (let i = 0; i < 300; i++) {
    const key = randomBytes(i % 37);
    assert.equal(murmur2(key), theirs(key), key.toString('hex'));
    assert.equal(keyPartition(key, 7), (theirs(key) & 0x7fffffff) % 7);
  }
});

/** Decodes one record batch v2 (uncompressed) field by field. */
function decodeBatch(b: Buffer) {
  let p = 61;
  const records: { attributes: number; tsDelta: number; offsetDelta: number; key: Buffer | null; value: Buffer | null; headers: [string, string][] }[] = [];
  const v = (): number => { const [x, n] = readVarint(b, p); p = n; return x; };
  const bytes = (): Buffer | null => { const n = v(); if (n < 0) return null; const out = b.subarray(p, p + n); p += n; return out; };
  const count = b.readInt32BE(57);
  for (let i = 0; i < count; i++) {
    const len = v();
    const start = p;
    const attributes = b.readInt8(p++);
    const tsDelta = v();
    const offsetDelta = v();
    const key = bytes();
    const value = bytes();
    const hn = v();
    const headers: [string, string][] = [];
    for (let j = 0; j < hn; j++) headers.push([bytes()!.toString(), bytes()!.toString()]);
    assert.equal(p - start, len, `record ${i} length`);
    records.push({ attributes, tsDelta, offsetDelta, key, value, headers });
  }
  assert.equal(p, b.length, 'no bytes after the last record');
  return {
    baseOffset: b.readBigInt64BE(0), batchLength: b.readInt32BE(8), leaderEpoch: b.readInt32BE(12), magic: b.readInt8(16), crc: b.readUInt32BE(17),
    attributes: b.readInt16BE(21), lastOffsetDelta: b.readInt32BE(23), baseTs: b.readBigInt64BE(27), maxTs: b.readBigInt64BE(35),
    producerId: b.readBigInt64BE(43), epoch: b.readInt16BE(51), baseSequence: b.readInt32BE(53), count, records,
  };
}

test('record batch v2: every field decodes back, CRC32C over attributes..end checks independently', () => {
  const h1 = { 'edgelog.encoding': 'otlp', 'x-ü': 'wert' };
  const msgs: ProducerMessage[] = [
    { key: Buffer.from('k1'), value: randomBytes(200), headers: h1 },
    { key: null, value: Buffer.alloc(0), headers: undefined },
    { key: Buffer.alloc(0), value: randomBytes(70_000), headers: h1 },
    { key: Buffer.from('skipped'), value: Buffer.from('not in idx'), headers: undefined },
  ];
  const idx = [0, 1, 2];
  const records = buildRecords(msgs, idx, new HeaderCache());
  const header = batchHeader({ codec: 'none', count: 3, timestamp: 1_764_900_000_123, producerId: 4242n, producerEpoch: 3, baseSequence: 17 }, records);
  const b = Buffer.concat([header, records]);
  const d = decodeBatch(b);
  assert.deepEqual(
    [d.baseOffset, d.batchLength, d.leaderEpoch, d.magic, d.attributes, d.lastOffsetDelta, d.baseTs, d.maxTs, d.producerId, d.epoch, d.baseSequence, d.count],
    [0n, b.length - 12, -1, 2, 0, 2, 1_764_900_000_123n, 1_764_900_000_123n, 4242n, 3, 17, 3],
  );
  assert.equal(d.crc, crcBitwise(b.subarray(21)));
  for (let i = 0; i < idx.length; i++) {
    const m = msgs[idx[i]!]!;
    const r = d.records[i]!;
    assert.deepEqual([r.attributes, r.tsDelta, r.offsetDelta], [0, 0, i]);
    assert.deepEqual(r.key, m.key);
    assert.ok(r.value!.equals(m.value), `value ${i}`);
    assert.deepEqual(r.headers, m.headers ? Object.entries(m.headers) : []);
  }
  // the codec goes into the attributes' low bits; the records are copied (the caller may recycle its buffers)
  assert.equal(batchHeader({ codec: 'zstd', count: 1, timestamp: 0, producerId: -1n, producerEpoch: -1, baseSequence: -1 }, records).readInt16BE(21), 4);
  msgs[0]!.value.fill(0);
  assert.ok(!records.subarray(0, 300).includes(Buffer.alloc(200)));
});

async function server(reply: (s: Socket) => void): Promise<{ port: number; close: () => Promise<void> }> {
  const socks = new Set<Socket>();
  const srv = createServer((s) => { socks.add(s); s.on('error', () => {}); reply(s); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { port: (srv.address() as { port: number }).port, close: () => { for (const s of socks) s.destroy(); return new Promise((r) => srv.close(() => r())); } };
}

test('connection: an oversized, negative or too-small size prefix fails the request and closes, without allocating it', async (t) => {
  for (const size of [0x7fffffff, 100 * 1024 * 1024 + 1, -5, 2]) {
    const srv = await server((s) => s.once('data', () => { const b = Buffer.alloc(4); b.writeInt32BE(size); s.write(b); }));
    t.after(srv.close);
    const c = await Connection.open({ host: '127.0.0.1', port: srv.port, connectTimeoutMs: 5000, requestTimeoutMs: 60_000, clientId: 't' });
    const before = process.memoryUsage().arrayBuffers;
    await assert.rejects(c.request(18, 0, [], () => 'never'), (e: Error & { type?: string }) => e.type === 'NETWORK_EXCEPTION' && /garbled/.test(e.message));
    assert.equal(c.closed, true);
    // nothing near the announced size was allocated (a 2 GiB Buffer would show here)
    assert.ok(process.memoryUsage().arrayBuffers - before < 50 * 1024 * 1024, `size ${size}`);
  }
});

test('connection: a socket that dies fails every pending request; a closed connection refuses new ones', async (t) => {
  const srv = await server((s) => s.once('data', () => s.destroy()));
  t.after(srv.close);
  const c = await Connection.open({ host: '127.0.0.1', port: srv.port, connectTimeoutMs: 5000, requestTimeoutMs: 60_000, clientId: 't' });
  let closedWith: Error | null = null;
  c.onClose((e) => { closedWith = e; });
  const all = await Promise.allSettled([1, 2, 3].map(() => c.request(18, 0, [], () => 'never')));
  assert.deepEqual(all.map((r) => r.status), ['rejected', 'rejected', 'rejected']);
  assert.ok(closedWith);
  await assert.rejects(c.request(18, 0, [], () => 'x'), /closed|failed/);
});

test('connection: a response split over many chunks and pipelined requests resolve to their own answers', async (t) => {
  // Answers request n with correlation id n and one int32 n*10, byte by byte, in reverse order.
  const srv = await server((s) => {
    let got = Buffer.alloc(0);
    const ids: number[] = [];
    const onData = (d: Buffer) => {
      got = Buffer.concat([got, d]);
      while (got.length >= 4 && got.length >= 4 + got.readInt32BE(0)) {
        ids.push(got.readInt32BE(8));
        got = got.subarray(4 + got.readInt32BE(0));
      }
      if (ids.length === 3) {
        for (const id of ids.reverse()) {
          const f = Buffer.alloc(12);
          f.writeInt32BE(8, 0); f.writeInt32BE(id, 4); f.writeInt32BE(id * 10, 8);
          for (const byte of f) s.write(Buffer.from([byte]));
        }
      }
    };
    s.on('data', onData);
  });
  t.after(srv.close);
  const c = await Connection.open({ host: '127.0.0.1', port: srv.port, connectTimeoutMs: 5000, requestTimeoutMs: 60_000, clientId: 't' });
  t.after(() => c.close());
  const answers = await Promise.all([0, 1, 2].map(() => c.request(18, 0, [Buffer.from('x')], (r) => r.i32())));
  assert.deepEqual(answers, [10, 20, 30]);
});

test('versions: the highest version both sides speak; no overlap is refused naming both ranges', () => {
  const broker = new Map<number, [number, number]>([[0, [3, 12]], [3, [0, 13]], [19, [5, 7]]]);
  assert.equal(pickVersion(Api.Produce, broker), 8);
  assert.equal(pickVersion(Api.Metadata, broker), 8);
  assert.throws(() => pickVersion(Api.CreateTopics, broker), (e: Error & { type?: string }) => e.type === 'UNSUPPORTED_VERSION' && /v5-v7.*v2-v4/.test(e.message));
  assert.throws(() => pickVersion(Api.InitProducerId, broker), /does not offer InitProducerId/);
});

test('errors: broker codes and connection failures map like the other engines (reasons are Kafka error names)', () => {
  const cfg = kafkaSink.validate({ engine: 'builtin', brokers: ['127.0.0.1:9'], topic: 't' }, 'sinks.k');
  const engine = createEngine(cfg, { onDisconnect() {}, debug() {} });
  const map = (e: unknown) => engine.mapError(e, 2_000_000, 1_000_000);
  assert.ok(map(new KafkaProtocolError(10, '')).error instanceof RecordTooLargeError);
  assert.ok(map(new KafkaProtocolError(18, '')).error instanceof RecordTooLargeError);
  const cases: [unknown, string, boolean, boolean][] = [
    [new KafkaProtocolError(6, 'x'), 'NOT_LEADER_OR_FOLLOWER', true, false],
    [new KafkaProtocolError(45, 'x'), 'OUT_OF_ORDER_SEQUENCE_NUMBER', true, true],
    [new KafkaProtocolError(29, 'x'), 'TOPIC_AUTHORIZATION_FAILED', false, false],
    [new KafkaProtocolError(58, 'x'), 'SASL_AUTHENTICATION_FAILED', false, false],
    [new KafkaProtocolError(87, 'x'), 'INVALID_RECORD', false, false],
    [new KafkaNetworkError('NETWORK_EXCEPTION', 'connection to 127.0.0.1:9 failed: ECONNREFUSED'), 'NETWORK_EXCEPTION', true, false],
    [new KafkaNetworkError('REQUEST_TIMED_OUT', 'no answer'), 'REQUEST_TIMED_OUT', true, false],
  ];
  for (const [err, reason, retriable, reset] of cases) {
    const m = map(err);
    assert.deepEqual([(m.error as KafkaSendError).reason, m.error.retriable, m.resetProducer], [reason, retriable, reset], reason);
  }
  assert.match(map(cases[5]![0]).error.message, /ECONNREFUSED/);
  return engine.close();
});

test('records sections in the reused scratch: the same bytes as a fresh section; each valid until the next; over 4 MiB a buffer of its own', () => {
  const scratch = new SectionScratch();
  try {
    const msgs: ProducerMessage[] = Array.from({ length: 50 }, (_, i) => ({ key: i % 2 ? Buffer.from(`k${i}`) : null, value: randomBytes(100 + i * 37), headers: { h: String(i) } }));
    const idx = msgs.map((_, i) => i);
    const fresh = buildRecords(msgs, idx, new HeaderCache());
    const inScratch = buildRecords(msgs, idx, new HeaderCache(), scratch);
    assert.ok(inScratch.equals(fresh));
    const copy = Buffer.from(inScratch);
    const second = buildRecords(msgs.slice(10, 15), [0, 1, 2, 3, 4], new HeaderCache(), scratch);
    assert.equal(second.buffer, inScratch.buffer, 'the next section reuses the memory');
    assert.ok(buildRecords(msgs.slice(10, 15), [0, 1, 2, 3, 4], new HeaderCache()).equals(second));
    assert.ok(!inScratch.equals(copy), 'the earlier section was overwritten: callers must be done with it');
    const huge: ProducerMessage[] = [{ key: null, value: Buffer.alloc(5 << 20, 1), headers: undefined }];
    const big = buildRecords(huge, [0], new HeaderCache(), scratch);
    assert.notEqual(big.buffer, inScratch.buffer);
    assert.ok(big.length > 5 << 20);
  } finally { scratch.close(); }
});
