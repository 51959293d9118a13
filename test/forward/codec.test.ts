// Forward protocol codec: every frame type round-trips, a stream split at
// every byte boundary decodes the same, and every malformed input is
// rejected with its reason (never thrown, never buffered past the header).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  FrameDecoder, encodeAck, encodeBatch, encodeBatchHeader, encodeGoaway, encodeHeartbeat, encodeHello, encodeHelloAck, encodeNack,
  parseFrame, type Frame,
} from '../../agent/forward/codec.ts';
import { BATCH_HEADER_BYTES, Compression, ErrorCode, FrameType } from '../../agent/forward/constants.ts';
import { compress, decompress, DecompressError } from '../../agent/forward/compression.ts';
import { AckGroup } from '../../agent/core/ack.ts';
import { decodeLogsData, PayloadError, RESOURCE_ATTR_PREFIX } from '../../agent/forward/logs-decode.ts';
import type { LogRecord } from '../../agent/core/record.ts';
import { encode, makeRecords } from './helpers.ts';

const samples: Buffer[] = [
  encodeHello({ minVersion: 1, maxVersion: 3, flags: 5, maxFrameBytes: 1 << 20, compressions: [2, 3, 1, 0], sessionId: 0x0123456789abcdefn, agentId: 'edge-äö-1' }),
  encodeHelloAck({ version: 1, flags: 0, maxFrameBytes: 8 << 20, window: 16, compressions: [0, 1, 2], relayId: 'relay-a' }),
  encodeBatch({ sequence: 2n ** 64n - 1n, compression: Compression.ZSTD, recordCount: 7, rawLength: 1234, payload: Buffer.from('payload bytes') }),
  encodeBatch({ sequence: 1n, compression: 0, recordCount: 0, rawLength: 0, payload: Buffer.alloc(0) }),
  encodeAck(42n),
  encodeNack(43n, ErrorCode.OVERLOADED, true, 'busy'),
  encodeNack(44n, ErrorCode.BAD_PAYLOAD, false, ''),
  encodeHeartbeat(123456789n),
  encodeHeartbeat(987654321n, true),
  encodeGoaway(ErrorCode.SHUTTING_DOWN, 'bye'),
];

function decodeAll(buf: Buffer, split: number[] = []): { frames: Frame[]; err: string | null } {
  const d = new FrameDecoder(1 << 20);
  const frames: Frame[] = [];
  let prev = 0;
  for (const at of [...split, buf.length]) {
    const e = d.push(buf.subarray(prev, at), frames);
    prev = at;
    if (e) return { frames, err: e.reason };
  }
  const e = d.end();
  return { frames, err: e ? e.reason : null };
}

test('every frame type round-trips with exact fields', () => {
  const { frames, err } = decodeAll(Buffer.concat(samples));
  assert.equal(err, null);
  assert.equal(frames.length, samples.length);
  const [hello, ack, batch, empty, a, n1, n2, hb, hba, ga] = frames as any[];
  assert.deepEqual(hello, { type: FrameType.HELLO, minVersion: 1, maxVersion: 3, flags: 5, maxFrameBytes: 1 << 20, compressions: [2, 3, 1, 0], sessionId: 0x0123456789abcdefn, agentId: 'edge-äö-1' });
  assert.deepEqual(ack, { type: FrameType.HELLO_ACK, version: 1, flags: 0, maxFrameBytes: 8 << 20, window: 16, compressions: [0, 1, 2], relayId: 'relay-a' });
  assert.equal(batch.sequence, 2n ** 64n - 1n);
  assert.equal(batch.compression, Compression.ZSTD);
  assert.equal(batch.recordCount, 7);
  assert.equal(batch.rawLength, 1234);
  assert.equal(batch.payload.toString(), 'payload bytes');
  assert.equal(empty.payload.length, 0);
  assert.deepEqual(a, { type: FrameType.ACK, sequence: 42n });
  assert.deepEqual(n1, { type: FrameType.NACK, sequence: 43n, code: ErrorCode.OVERLOADED, retriable: true, message: 'busy' });
  assert.deepEqual(n2, { type: FrameType.NACK, sequence: 44n, code: ErrorCode.BAD_PAYLOAD, retriable: false, message: '' });
  assert.deepEqual(hb, { type: FrameType.HEARTBEAT, timestamp: 123456789n });
  assert.deepEqual(hba, { type: FrameType.HEARTBEAT_ACK, timestamp: 987654321n });
  assert.deepEqual(ga, { type: FrameType.GOAWAY, code: ErrorCode.SHUTTING_DOWN, message: 'bye' });
});

test('a stream cut at every byte boundary decodes to the same frames', () => {
  const all = Buffer.concat(samples);
  const whole = decodeAll(all).frames;
  for (let cut = 1; cut < all.length; cut++) {
    const { frames, err } = decodeAll(all, [cut]);
    assert.equal(err, null, `cut at ${cut}`);
    assert.deepEqual(frames, whole, `cut at ${cut}`);
  }
  // one byte at a time
  const bytes = Array.from({ length: all.length - 1 }, (_, i) => i + 1);
  assert.deepEqual(decodeAll(all, bytes).frames, whole);
});

test('batch header encodes the documented layout', () => {
  const h = encodeBatchHeader(0x0102030405060708n, 1, 3, 0x0a0b0c0d, 100);
  assert.equal(h.length, BATCH_HEADER_BYTES);
  assert.equal(h.toString('hex'), '00000076' + '03' + '0102030405060708' + '01' + '00000003' + '0a0b0c0d');
});

test('malformed input is rejected with a reason', () => {
  const cases: Array<[string, Buffer, string]> = [
    ['zero length', Buffer.from('0000000003', 'hex'), 'zero_length'],
    ['zero length without a type byte', Buffer.from('00000000', 'hex'), 'zero_length'],
    ['length above the limit', Buffer.from('7fffffff03', 'hex'), 'frame_too_large'],
    ['unknown type', Buffer.from('0000000942' + '00'.repeat(8), 'hex'), 'unknown_type'],
    ['type 0', Buffer.from('0000000100', 'hex'), 'unknown_type'],
    ['ACK with 7-byte body', Buffer.from('0000000804' + '00'.repeat(7), 'hex'), 'bad_length'],
    ['ACK with 9-byte body', Buffer.from('0000000a04' + '00'.repeat(9), 'hex'), 'bad_length'],
    ['BATCH shorter than its header', Buffer.from('0000000503' + '00'.repeat(4), 'hex'), 'bad_length'],
    ['HELLO with trailing bytes', Buffer.concat([lengthBump(samples[0]!, 2), Buffer.from('0000', 'hex')]), 'bad_length'],
    ['HELLO whose id length overruns', helloWithIdLen(500), 'bad_length'],
    ['GOAWAY message not UTF-8', goawayRaw(Buffer.from([0xff, 0xfe])), 'bad_string'],
    ['truncated frame at end of stream', samples[2]!.subarray(0, 20), 'truncated'],
    ['truncated length prefix', Buffer.from('0000', 'hex'), 'truncated'],
  ];
  for (const [name, buf, reason] of cases) {
    assert.equal(decodeAll(buf).err, reason, name);
  }
});

test('a frame too large is rejected from its header alone (nothing buffered)', () => {
  const d = new FrameDecoder(1024);
  const frames: Frame[] = [];
  const e = d.push(Buffer.from('0000100103', 'hex'), frames);
  assert.equal(e?.reason, 'frame_too_large');
  assert.equal(e?.code, ErrorCode.FRAME_TOO_LARGE);
  assert.equal(d.buffered, 0);
  // once failed, the decoder stays failed
  assert.equal(d.push(encodeAck(1n), frames)?.reason, 'frame_too_large');
  assert.equal(frames.length, 0);
});

test('random bytes never throw: every outcome is frames or a reason', () => {
  for (let i = 0; i < 2000; i++) {
    const buf = randomBytes(1 + (i % 64));
    const d = new FrameDecoder(4096);
    const frames: Frame[] = [];
    const e = d.push(buf, frames) ?? d.end();
    if (e) assert.match(e.reason, /^(zero_length|frame_too_large|unknown_type|bad_length|bad_string|truncated)$/);
  }
});

test('parseFrame rejects unknown types', () => {
  assert.throws(() => parseFrame(0x99, Buffer.alloc(0)), /unknown frame type/);
});

test('compression codecs round-trip and refuse lies about the raw length', async () => {
  const raw = Buffer.from('2026-11-21 10:00:00 INFO something happened\n'.repeat(500));
  for (const id of [Compression.NONE, Compression.GZIP, Compression.ZSTD, Compression.LZ4]) {
    const c = await compress(id, raw);
    if (id !== Compression.NONE) assert.ok(c.length < raw.length / 4, `codec ${id} compresses`);
    assert.deepEqual(await decompress(id, c, raw.length), raw);
    // declared smaller than real: stopped at the limit (zip-bomb guard) or refused
    await assert.rejects(decompress(id, c, raw.length - 1), DecompressError);
    await assert.rejects(decompress(id, c, raw.length + 1), DecompressError);
  }
  await assert.rejects(decompress(Compression.GZIP, randomBytes(100), 1000), DecompressError);
  await assert.rejects(decompress(Compression.ZSTD, randomBytes(100), 1000), DecompressError);
  await assert.rejects(decompress(Compression.LZ4, Buffer.from([1, 0, 0]), 1), DecompressError);
  await assert.rejects(decompress(9, raw, raw.length), DecompressError);
});

test('LogsData decode restores record fields, attributes and resource', () => {
  const bodies = [Buffer.from('plain text'), Buffer.from([0xff, 0x00, 0xfe, 0x41]), Buffer.from('ünïcode ✓'), Buffer.alloc(0)];
  const { records } = makeRecords(bodies.length, { stream: '/var/log/x.log', streamId: '1:2:abc', start: 100, body: (i) => bodies[i]! });
  records[0]!.attributes = { 'http.status': 200, ok: true, ratio: 0.5, user: 'bob' };
  records[1]!.severityNumber = 17; records[1]!.severityText = 'ERROR';
  records[2]!.timeUnixNano = 1_700_000_000_123_456_789n;
  records[3]!.traceId = '0123456789abcdef0123456789abcdef'; records[3]!.spanId = '0123456789abcdef';
  const [msg] = encode(records);
  const group = new AckGroup(0, () => {});
  const out: LogRecord[] = [];
  assert.equal(decodeLogsData(msg!.value, group, out), 4);
  assert.equal(group.pending, 4);
  for (let i = 0; i < 4; i++) {
    const a = records[i]!, b = out[i]!;
    assert.ok(b.body.equals(a.body), `body ${i} byte-exact`);
    assert.equal(b.stream, a.stream);
    assert.equal(b.streamId, a.streamId);
    assert.equal(b.offset, a.offset);
    assert.equal(b.source, a.source);
    assert.equal(b.observedMs, a.observedMs);
    assert.equal(b.timeUnixNano, a.timeUnixNano);
    assert.equal(b.severityNumber, a.severityNumber);
    assert.equal(b.severityText, a.severityText);
    assert.equal(b.traceId, a.traceId);
    assert.equal(b.spanId, a.spanId);
    assert.equal(b.ack, group);
    assert.equal(b.attributes![`${RESOURCE_ATTR_PREFIX}host.name`], 'host-a');
    assert.equal(b.attributes![`${RESOURCE_ATTR_PREFIX}edgelog.agent.id`], 'edge-1');
  }
  const { [`${RESOURCE_ATTR_PREFIX}host.name`]: _h, [`${RESOURCE_ATTR_PREFIX}service.name`]: _s, [`${RESOURCE_ATTR_PREFIX}edgelog.site`]: _x, [`${RESOURCE_ATTR_PREFIX}edgelog.agent.id`]: _y, ...own } = out[0]!.attributes!;
  assert.deepEqual(own, { 'http.status': 200, ok: true, ratio: 0.5, user: 'bob' });

  // without keep_resource the relay's own resource applies
  const out2: LogRecord[] = [];
  decodeLogsData(msg!.value, new AckGroup(0, () => {}), out2, { keepResource: false });
  assert.equal(out2[3]!.attributes, null);
});

test('LogsData decode refuses garbage without adding records', () => {
  const group = new AckGroup(0, () => {});
  const out: LogRecord[] = [];
  const [msg] = encode(makeRecords(3).records);
  assert.throws(() => decodeLogsData(msg!.value.subarray(0, msg!.value.length - 5), group, out), PayloadError);
  assert.throws(() => decodeLogsData(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]), group, out), PayloadError);
  assert.equal(out.length, 0);
  assert.equal(group.pending, 0);
});

function lengthBump(frame: Buffer, extra: number): Buffer {
  const b = Buffer.from(frame);
  b.writeUInt32BE(b.readUInt32BE(0) + extra, 0);
  return b;
}

function helloWithIdLen(idLen: number): Buffer {
  const h = Buffer.from(encodeHello({ minVersion: 1, maxVersion: 1, flags: 0, maxFrameBytes: 1024, compressions: [], sessionId: 1n, agentId: 'ab' }));
  h.writeUInt16BE(idLen, h.length - 4);
  return h;
}

function goawayRaw(msg: Buffer): Buffer {
  const b = Buffer.alloc(4 + 1 + 4 + msg.length);
  b.writeUInt32BE(1 + 4 + msg.length, 0);
  b[4] = FrameType.GOAWAY;
  b.writeUInt16BE(1, 5);
  b.writeUInt16BE(msg.length, 7);
  msg.copy(b, 9);
  return b;
}

test('the worked example in PROTOCOL.md is what the codec writes', async () => {
  const { readFileSync } = await import('node:fs');
  const doc = readFileSync(new URL('../../agent/forward/PROTOCOL.md', import.meta.url), 'utf8');
  const hexOf = (name: string) => {
    // example lines are indented code: four spaces, the frame name, then hex
    const line = doc.split('\n').find((l) => new RegExp(`^ {4}${name} +[0-9a-f]{8} `).test(l))!;
    return line.trim().slice(name.length).replace(/<[^>]*>/g, '').replace(/\s+/g, '');
  };
  assert.equal(hexOf('HELLO'), encodeHello({ minVersion: 1, maxVersion: 1, flags: 0, maxFrameBytes: 8 << 20, compressions: [0], sessionId: 0x1122334455667788n, agentId: 'e1' }).toString('hex'));
  assert.equal(hexOf('HELLO_ACK'), encodeHelloAck({ version: 1, flags: 0, maxFrameBytes: 8 << 20, window: 16, compressions: [0], relayId: 'r1' }).toString('hex'));
  assert.equal(hexOf('BATCH'), encodeBatchHeader(1n, 0, 2, 180, 180).toString('hex'));
  assert.equal(hexOf('ACK'), encodeAck(1n).toString('hex'));
});

test('resourceRuns groups relayed records by their sender resource', async () => {
  const { resourceRuns, isRelayedResourceKey } = await import('../../agent/core/relayed-resource.ts');
  const a = makeRecords(3).records, b = makeRecords(2).records;
  assert.equal(resourceRuns(a), null, 'edge records: no relayed resource');
  for (const r of a) r.attributes = { x: 1, 'edgelog.resource.host.name': 'h1', 'edgelog.resource.edgelog.agent.id': 'e1' };
  for (const r of b) r.attributes = { 'edgelog.resource.host.name': 'h2' };
  const runs = resourceRuns([...a, ...b])!;
  assert.deepEqual(runs.map((r) => [r.start, r.end, r.attributes]), [[0, 3, [['host.name', 'h1'], ['edgelog.agent.id', 'e1']]], [3, 5, [['host.name', 'h2']]]]);
  assert.notEqual(runs[0]!.key, runs[1]!.key);
  assert.equal(isRelayedResourceKey('edgelog.resource.host.name'), true);
  assert.equal(isRelayedResourceKey('edgelog.resource.'), false);
  assert.equal(isRelayedResourceKey('edgelog.stream_id'), false);
});
