// json (one object per message) and raw (one line per message) encoders.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AckGroup } from '../../agent/core/ack.ts';
import { newRecord, type LogRecord } from '../../agent/core/record.ts';
import { JsonEncoder, jsonEncoder, type JsonLogLine } from '../../agent/encoders/json.ts';
import { RawEncoder, rawEncoder } from '../../agent/encoders/raw.ts';
import { ConfigError } from '../../agent/core/errors.ts';

const ctx = { host: 'edge-01', service: 'edgelog', site: 'shop-42', agentId: 'agent-7' };
const ack = new AckGroup(0, () => {});
function rec(body: Buffer | string, stream: string, offset: number, fill: Partial<LogRecord> = {}): LogRecord {
  return Object.assign(newRecord(Buffer.isBuffer(body) ? body : Buffer.from(body), 'app', stream, 'dev:ino:fp', offset, ack, 1_795_254_195_568), fill);
}

test('json: one object per record with body, times, severity, attributes, stream and offset', () => {
  const enc = new JsonEncoder(jsonEncoder.defaults, ctx);
  const records = [
    rec('hello "world" ✓', '/var/log/a.log', 10, { timeUnixNano: 1_795_254_195_123_456_789n, severityNumber: 13, attributes: { code: 7, ok: false } }),
    rec(Buffer.from([0xff, 0x00, 0x41]), '/var/log/b.log', 20, { severityText: 'err', traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8) }),
  ];
  const msgs = enc.encode(records);
  assert.equal(msgs.length, 2);
  assert.deepEqual(msgs.map((m) => m.key!.toString()), ['/var/log/a.log', '/var/log/b.log']);
  assert.deepEqual(msgs.map((m) => m.records), [[records[0]], [records[1]]]);
  assert.equal(msgs[0]!.headers['edgelog.encoding'], 'json');
  const [a, b] = msgs.map((m) => JSON.parse(m.value.toString('utf8')) as JsonLogLine);
  assert.deepEqual(a, {
    body: 'hello "world" ✓', observed_time_unix_nano: '1795254195568000000',
    time_unix_nano: '1795254195123456789', time: '2026-11-21T09:43:15.123456789Z',
    severity_number: 13, severity: 'WARN', attributes: { code: 7, ok: false },
    source: 'app', stream: '/var/log/a.log', stream_id: 'dev:ino:fp', offset: 10,
    host: 'edge-01', service: 'edgelog', site: 'shop-42', agent_id: 'agent-7',
  });
  assert.equal(b!.body_encoding, 'base64');
  assert.deepEqual(Buffer.from(b!.body, 'base64'), Buffer.from([0xff, 0x00, 0x41]));
  assert.equal(b!.severity, 'err');
  assert.equal(b!.trace_id, 'ab'.repeat(16));
  assert.equal(b!.span_id, 'cd'.repeat(8));
  assert.equal(b!.time, undefined);

  const none = new JsonEncoder({ key: 'none' }, ctx).encode(records);
  assert.ok(none.every((m) => m.key === null));
});

test('json: a BigInt attribute (outside the declared types) is written as text, not thrown', () => {
  const r = rec('x', '/s', 0, { attributes: { n: 2n ** 70n } as unknown as Record<string, number> });
  const o = JSON.parse(new JsonEncoder(jsonEncoder.defaults, ctx).encode([r])[0]!.value.toString()) as JsonLogLine;
  assert.equal(o.attributes!.n, (2n ** 70n).toString());
});

test('raw: one message per line, body bytes exact, key per stream', () => {
  const records = [rec('line one', '/x', 0), rec(Buffer.from([0xc3, 0x28]), '/x', 9), rec('', '/y', 0)];
  const msgs = new RawEncoder(rawEncoder.defaults).encode(records);
  assert.equal(msgs.length, 3);
  assert.deepEqual(msgs.map((m) => m.value), records.map((r) => r.body));
  assert.deepEqual(msgs.map((m) => m.key!.toString()), ['/x', '/x', '/y']);
  assert.equal(msgs[0]!.headers['edgelog.encoding'], 'raw');
  assert.ok(new RawEncoder({ key: 'none' }).encode(records).every((m) => m.key === null));
});

test('json/raw config errors name the key path', () => {
  assert.deepEqual(jsonEncoder.validate(null, 'p'), { key: 'stream' });
  assert.deepEqual(rawEncoder.validate({ key: 'none' }, 'p'), { key: 'none' });
  assert.throws(() => jsonEncoder.validate({ key: 1 }, 'sinks.s.encoding'), (e: unknown) => e instanceof ConfigError && e.path === 'sinks.s.encoding.key');
  assert.throws(() => rawEncoder.validate({ other: 1 }, 'sinks.s.encoding'), (e: unknown) => e instanceof ConfigError && e.path === 'sinks.s.encoding.other');
});
