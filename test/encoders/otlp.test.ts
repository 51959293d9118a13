// otlp_proto bytes decoded with the official OpenTelemetry protobuf code (the
// static module generated from the opentelemetry-proto files, shipped in
// @opentelemetry/otlp-proto-exporter-base), not with our own generated code.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import otelRoot from '@opentelemetry/otlp-proto-exporter-base/build/src/generated/root.js';
import { AckGroup } from '../../agent/core/ack.ts';
import { newRecord, Severity, type LogRecord } from '../../agent/core/record.ts';
import { OtlpProtoEncoder, otlpProtoEncoder, msToNanoBits } from '../../agent/encoders/otlp/otlp-proto.ts';
import { ConfigError } from '../../agent/core/errors.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;

// The official static message opentelemetry.proto.logs.v1.LogsData (its .d.ts types the root loosely).
const LogsData = (otelRoot as Obj).opentelemetry.proto.logs.v1.LogsData as {
  decode(b: Uint8Array): unknown;
  toObject(m: unknown, o: object): Obj;
};

const ctx = { host: 'edge-01', service: 'edgelog', site: 'shop-42', agentId: 'agent-7' };
const ack = new AckGroup(0, () => {});

function decode(buf: Buffer): Obj {
  const msg = LogsData.decode(buf);
  return LogsData.toObject(msg, { longs: String, bytes: Buffer, defaults: false, oneofs: false });
}

function attrs(list: Obj[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list ?? []) {
    const v = kv.value;
    out[kv.key] = v.stringValue ?? v.boolValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined) ?? v.doubleValue ?? v.bytesValue;
  }
  return out;
}

function rec(body: Buffer | string, stream: string, offset: number, fill: Partial<LogRecord> = {}): LogRecord {
  const r = newRecord(Buffer.isBuffer(body) ? body : Buffer.from(body), 'app_logs', stream, `2049:${1000 + stream.length}:abcd`, offset, ack, 1_795_254_195_568);
  return Object.assign(r, fill);
}

test('otlp_proto: every field decodes with the official OpenTelemetry definitions', () => {
  const enc = new OtlpProtoEncoder({ key: 'stream', resourceAttributes: { 'deployment.environment': 'prod' }, scopeName: 'edgelog' }, ctx);
  const records = [
    rec('2026-11-21 INFO started ✓ ünïcode', '/var/log/app.log', 0, {
      timeUnixNano: 1_795_254_195_123_456_789n, severityNumber: Severity.INFO, severityText: 'INFO',
      attributes: { user: 'bob', status: 200, ratio: 0.25, ok: true },
      traceId: '0102030405060708090a0b0c0d0e0f10', spanId: 'a1a2a3a4a5a6a7a8',
    }),
    rec(Buffer.from([0x66, 0x6f, 0xff, 0xfe, 0x00, 0x80]), '/var/log/app.log', 37),
    rec('', '/var/log/app.log', 44),
  ];
  const msgs = enc.encode(records);
  assert.equal(msgs.length, 1);
  const m = msgs[0]!;
  assert.equal(m.key!.toString(), '/var/log/app.log');
  assert.equal(m.records, records);
  assert.equal(m.headers['edgelog.encoding'], 'otlp_proto');

  const d = decode(m.value);
  assert.equal(d.resourceLogs.length, 1);
  const rl = d.resourceLogs[0];
  assert.deepEqual(attrs(rl.resource.attributes), {
    'host.name': 'edge-01', 'service.name': 'edgelog', 'edgelog.site': 'shop-42', 'edgelog.agent.id': 'agent-7', 'deployment.environment': 'prod',
  });
  assert.equal(rl.scopeLogs.length, 1);
  assert.equal(rl.scopeLogs[0].scope.name, 'edgelog');
  const lr = rl.scopeLogs[0].logRecords;
  assert.equal(lr.length, 3);

  // record 0: everything set
  assert.equal(lr[0].body.stringValue, '2026-11-21 INFO started ✓ ünïcode');
  assert.equal(lr[0].body.bytesValue, undefined);
  assert.equal(lr[0].timeUnixNano, '1795254195123456789');
  assert.equal(lr[0].observedTimeUnixNano, '1795254195568000000');
  assert.equal(lr[0].severityNumber, 9); // SEVERITY_NUMBER_INFO
  assert.equal(lr[0].severityText, 'INFO');
  assert.deepEqual(attrs(lr[0].attributes), {
    'log.file.path': '/var/log/app.log', 'edgelog.stream_id': `2049:${1000 + 16}:abcd`, 'edgelog.offset': 0, 'edgelog.source': 'app_logs',
    user: 'bob', status: 200, ratio: 0.25, ok: true,
  });
  // ints travel as int_value, fractions as double_value
  const kv = Object.fromEntries(lr[0].attributes.map((x: Obj) => [x.key, x.value]));
  assert.equal(kv.status.intValue, '200');
  assert.equal(kv.ratio.doubleValue, 0.25);
  assert.equal(kv['edgelog.offset'].intValue, '0');
  assert.deepEqual(lr[0].traceId, Buffer.from('0102030405060708090a0b0c0d0e0f10', 'hex'));
  assert.deepEqual(lr[0].spanId, Buffer.from('a1a2a3a4a5a6a7a8', 'hex'));

  // record 1: invalid UTF-8 travels as bytes, byte-exact; unknown fields stay unset
  assert.equal(lr[1].body.stringValue, undefined);
  assert.deepEqual(lr[1].body.bytesValue, Buffer.from([0x66, 0x6f, 0xff, 0xfe, 0x00, 0x80]));
  assert.equal(lr[1].timeUnixNano, undefined);
  assert.equal(lr[1].severityNumber, undefined);
  assert.equal(lr[1].severityText, undefined);
  assert.equal(lr[1].traceId, undefined);
  assert.equal(attrs(lr[1].attributes)['edgelog.offset'], 37);

  // record 2: an empty line is an empty string body, not a missing one
  assert.equal(lr[2].body.stringValue, '');
  assert.equal(attrs(lr[2].attributes)['edgelog.offset'], 44);
});

test('otlp_proto: key=stream gives one message per stream in order; key=none one message', () => {
  const batch = [rec('a1', '/a', 0), rec('b1', '/b', 0), rec('a2', '/a', 3), rec('c1', '/c', 0), rec('b2', '/b', 3)];
  const byStream = new OtlpProtoEncoder({ key: 'stream', resourceAttributes: {}, scopeName: 'edgelog' }, ctx).encode(batch);
  assert.deepEqual(byStream.map((m) => m.key!.toString()), ['/a', '/b', '/c']);
  const bodies = byStream.map((m) => decode(m.value).resourceLogs[0].scopeLogs[0].logRecords.map((r: Obj) => r.body.stringValue));
  assert.deepEqual(bodies, [['a1', 'a2'], ['b1', 'b2'], ['c1']]);
  assert.deepEqual(byStream.map((m) => m.records.length), [2, 2, 1]);

  const one = new OtlpProtoEncoder({ key: 'none', resourceAttributes: {}, scopeName: 'edgelog' }, ctx).encode(batch);
  assert.equal(one.length, 1);
  assert.equal(one[0]!.key, null);
  assert.deepEqual(decode(one[0]!.value).resourceLogs[0].scopeLogs[0].logRecords.map((r: Obj) => r.body.stringValue), ['a1', 'b1', 'a2', 'c1', 'b2']);
  assert.deepEqual(new OtlpProtoEncoder(otlpProtoEncoder.defaults, ctx).encode([]), []);
});

test('otlp_proto: a reused encoder keeps no state between records or batches', () => {
  const enc = new OtlpProtoEncoder(otlpProtoEncoder.defaults, ctx);
  const first = enc.encode([rec('x', '/s', 0, { attributes: { a: 1, b: 'two', c: false }, severityNumber: 17, severityText: 'ERROR' })]);
  const second = enc.encode([rec('y', '/s', 2)]);
  const r1 = decode(first[0]!.value).resourceLogs[0].scopeLogs[0].logRecords[0];
  const r2 = decode(second[0]!.value).resourceLogs[0].scopeLogs[0].logRecords[0];
  assert.deepEqual(attrs(r1.attributes), { 'log.file.path': '/s', 'edgelog.stream_id': '2049:1002:abcd', 'edgelog.offset': 0, 'edgelog.source': 'app_logs', a: 1, b: 'two', c: false });
  assert.deepEqual(attrs(r2.attributes), { 'log.file.path': '/s', 'edgelog.stream_id': '2049:1002:abcd', 'edgelog.offset': 2, 'edgelog.source': 'app_logs' });
  assert.equal(r2.severityNumber, undefined);
  assert.equal(r2.body.stringValue, 'y');
  // many records and a large body in one message
  const big = Buffer.alloc(300_000, 0x61);
  const many = Array.from({ length: 2000 }, (_, i) => rec(i === 1000 ? big : `line ${i}`, '/s', i * 10));
  const d = decode(enc.encode(many)[0]!.value).resourceLogs[0].scopeLogs[0].logRecords;
  assert.equal(d.length, 2000);
  assert.equal(d[1999].body.stringValue, 'line 1999');
  assert.equal(d[1000].body.stringValue.length, 300_000);
});

test('otlp_proto: attribute values outside the declared types never fail the batch', () => {
  const enc = new OtlpProtoEncoder(otlpProtoEncoder.defaults, ctx);
  const odd = { big: 12345678901234567890n, neg: -5n, obj: { a: [1, 2] }, nan: Number.NaN } as unknown as Record<string, string>;
  const d = decode(enc.encode([rec('x', '/s', 0, { attributes: odd })])[0]!.value).resourceLogs[0].scopeLogs[0].logRecords[0];
  const kv = Object.fromEntries(d.attributes.map((x: Obj) => [x.key, x.value]));
  assert.equal(kv.neg.intValue, '-5');
  assert.equal(kv.big.stringValue, '12345678901234567890'); // beyond int64: kept as text
  assert.equal(kv.obj.stringValue, '{"a":[1,2]}');
  assert.ok(Number.isNaN(kv.nan.doubleValue));
});

test('otlp_proto in the relay role: each sender keeps its own Resource; its attributes are not repeated per record', () => {
  const enc = new OtlpProtoEncoder({ key: 'none', resourceAttributes: {}, scopeName: 'edgelog' }, { ...ctx, host: 'relay-1' });
  const fromA = { 'edgelog.resource.host.name': 'edge-a', 'edgelog.resource.edgelog.site': 'shop-1', level: 'info' };
  const fromB = { 'edgelog.resource.host.name': 'edge-b', 'edgelog.resource.edgelog.site': 'shop-2' };
  const batch = [rec('a1', '/a', 0, { attributes: fromA }), rec('a2', '/a', 3, { attributes: { ...fromA } }), rec('b1', '/b', 0, { attributes: fromB }), rec('local', '/l', 0)];
  const d = decode(enc.encode(batch)[0]!.value);
  assert.equal(d.resourceLogs.length, 3);
  const [ra, rb, rl] = d.resourceLogs;
  assert.deepEqual(attrs(ra.resource.attributes), { 'host.name': 'edge-a', 'edgelog.site': 'shop-1' });
  assert.deepEqual(ra.scopeLogs[0].logRecords.map((r: Obj) => r.body.stringValue), ['a1', 'a2']);
  assert.deepEqual(attrs(ra.scopeLogs[0].logRecords[0].attributes), { 'log.file.path': '/a', 'edgelog.stream_id': '2049:1002:abcd', 'edgelog.offset': 0, 'edgelog.source': 'app_logs', level: 'info' });
  assert.deepEqual(attrs(rb.resource.attributes), { 'host.name': 'edge-b', 'edgelog.site': 'shop-2' });
  assert.deepEqual(rb.scopeLogs[0].logRecords.map((r: Obj) => r.body.stringValue), ['b1']);
  // a record without a relayed resource gets the relay's own
  assert.equal(attrs(rl.resource.attributes)['host.name'], 'relay-1');
  assert.deepEqual(rl.scopeLogs[0].logRecords.map((r: Obj) => r.body.stringValue), ['local']);
  // an edge batch afterwards: one resource again, attributes untouched
  const edge = decode(enc.encode([rec('e', '/e', 0, { attributes: { k: 'v' } })])[0]!.value);
  assert.equal(edge.resourceLogs.length, 1);
  assert.equal(attrs(edge.resourceLogs[0].scopeLogs[0].logRecords[0].attributes).k, 'v');
});

test('msToNanoBits is exact over the whole ms range (checked against BigInt)', () => {
  const samples = [0, 1, 999, 65535, 65536, 4_294_967_295, 4_294_967_296, 1_795_254_195_568, 2 ** 43 - 1];
  for (let i = 0; i < 2000; i++) samples.push(Math.floor(Math.random() * 2 ** 43));
  const out = { low: 0, high: 0 };
  for (const ms of samples) {
    msToNanoBits(ms, out);
    const ns = BigInt(ms) * 1_000_000n;
    assert.equal(out.low, Number(ns & 0xffffffffn), `low for ${ms}`);
    assert.equal(out.high, Number(ns >> 32n), `high for ${ms}`);
  }
});

test('otlp_proto config: defaults and errors naming the key path', () => {
  assert.deepEqual(otlpProtoEncoder.validate(undefined, 'sinks.k.encoding'), { key: 'stream', resourceAttributes: {}, scopeName: 'edgelog' });
  assert.deepEqual(otlpProtoEncoder.validate({ key: 'none', resource_attributes: { region: 'eu' } }, 'sinks.k.encoding').resourceAttributes, { region: 'eu' });
  assert.throws(() => otlpProtoEncoder.validate({ key: 'file' }, 'sinks.k.encoding'), (e: unknown) => e instanceof ConfigError && e.path === 'sinks.k.encoding.key');
  assert.throws(() => otlpProtoEncoder.validate({ keyy: 'none' }, 'sinks.k.encoding'), (e: unknown) => e instanceof ConfigError && e.path === 'sinks.k.encoding.keyy');
  assert.throws(() => otlpProtoEncoder.validate({ resource_attributes: { a: [1] } }, 'sinks.k.encoding'), (e: unknown) => e instanceof ConfigError && e.path === 'sinks.k.encoding.resource_attributes.a');
});
