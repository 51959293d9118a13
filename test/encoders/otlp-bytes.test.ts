// The two-pass otlp_proto encoder writes exactly the bytes the previous
// protobufjs Writer encoder wrote (kept in otlp-proto-reference.ts), over
// hand-picked edge cases and seeded random batches, in every key mode and in
// the relay role. otlp.test.ts checks what those bytes mean with the official
// OpenTelemetry decoder; this file pins the wire layout.
//
// One deliberate difference is left out: a lone UTF-16 surrogate in a string
// shorter than 40 chars. protobufjs wrote it as 3 invalid UTF-8 bytes; the new
// encoder writes U+FFFD (Buffer.write), which decoders accept.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import otelRoot from '@opentelemetry/otlp-proto-exporter-base/build/src/generated/root.js';
import { AckGroup } from '../../agent/core/ack.ts';
import { newRecord, type AttrValue, type LogRecord } from '../../agent/core/record.ts';
import { OtlpProtoEncoder, type OtlpProtoConfig } from '../../agent/encoders/otlp/otlp-proto.ts';
import { utf8Len } from '../../agent/encoders/otlp/wire.ts';
import { ReferenceOtlpProtoEncoder } from './otlp-proto-reference.ts';

const ctx = { host: 'edge-01', service: 'edgelog', site: 'shop-42', agentId: 'agent-7' };
const ack = new AckGroup(0, () => {});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const LogsData = (otelRoot as any).opentelemetry.proto.logs.v1.LogsData as { decode(b: Uint8Array): unknown; toObject(m: unknown, o: object): unknown };

function rec(body: Buffer | string, stream: string, offset: number, fill: Partial<LogRecord> = {}): LogRecord {
  const r = newRecord(Buffer.isBuffer(body) ? body : Buffer.from(body), 'app_logs', stream, `2049:${1000 + stream.length}:abcd`, offset, ack, 1_795_254_195_568);
  return Object.assign(r, fill);
}

function same(cfg: OtlpProtoConfig, batches: LogRecord[][], label: string): void {
  const neu = new OtlpProtoEncoder(cfg, ctx);
  const old = new ReferenceOtlpProtoEncoder(cfg, ctx);
  for (const [b, batch] of batches.entries()) {
    const a = neu.encode(batch);
    const e = old.encode(batch);
    assert.equal(a.length, e.length, `${label} batch ${b}: message count`);
    for (let m = 0; m < a.length; m++) {
      assert.deepEqual(a[m]!.key, e[m]!.key, `${label} batch ${b} message ${m}: key`);
      assert.equal(a[m]!.records.length, e[m]!.records.length);
      const got = Buffer.from(a[m]!.value);
      const want = Buffer.from(e[m]!.value);
      if (!got.equals(want)) assert.fail(`${label} batch ${b} message ${m}: ${got.length} bytes, reference ${want.length}\n${got.toString('hex')}\n${want.toString('hex')}`);
      LogsData.decode(got); // and the official decoder reads it
    }
  }
}

const configs: OtlpProtoConfig[] = [
  { key: 'stream', resourceAttributes: {}, scopeName: 'edgelog' },
  { key: 'none', resourceAttributes: { 'deployment.environment': 'prod', 'host.name': 'override-ü' }, scopeName: '' },
];

test('otlp_proto bytes: edge cases equal the reference encoder', () => {
  const long = 'x'.repeat(40);
  const longUni = 'ü✓'.repeat(30);
  const odd = { big: 12345678901234567890n, neg: -5n, max: 2n ** 63n - 1n, min: -(2n ** 63n), obj: { a: [1, 2] }, nan: Number.NaN, sym: 'ok' } as unknown as Record<string, AttrValue>;
  const batch = [
    rec('plain', '/var/log/a.log', 0),
    rec('', '/var/log/a.log', 1),
    rec(Buffer.from([0x66, 0xff, 0xfe, 0x00, 0x80]), '/var/log/a.log', 2),
    rec(Buffer.alloc(200, 0x61), '/var/log/a.log', 2 ** 31 + 7),
    rec(Buffer.alloc(20_000, 0x62), '/var/log/a.log', Number.MAX_SAFE_INTEGER),
    rec('ünïcode ✓ 😀', '/var/log/ü.log', 5, { severityNumber: 9, severityText: 'INFO' }),
    rec('t', '/a', 6, { timeUnixNano: 1_795_254_195_123_456_789n, severityNumber: 21, severityText: 'FATAL✓' }),
    rec('t', '/a', 7, { timeUnixNano: 2n ** 64n + 5n }), // wraps like the 64-bit field
    rec('t', '/a', 8, { timeUnixNano: 2n ** 64n }), // wraps to 0: omitted
    rec('t', '/a', 9, { timeUnixNano: -1n, observedMs: 0 }),
    rec('t', '/a', 10, { severityNumber: -3, observedMs: 1 }),
    rec('t', '/a', 11, { traceId: '0102030405060708090a0b0c0d0e0f10', spanId: 'A1A2A3A4A5A6A7A8' }),
    rec('t', '/a', 12, { traceId: '0102030405060708090a0b0c0d0e0f1z', spanId: 'a1a2a3' }),
    rec('t', '/a', 13, { attributes: {} }),
    rec('t', '/a', 14, { attributes: { s: 'v', e: '', b: true, f: false, i: 0, n: -1, m: -(2 ** 53) + 1, p: 2 ** 40, d: 0.5, z: -0, inf: Infinity, u: undefined as unknown as string } }),
    rec('t', '/a', 15, { attributes: { '': 'empty key', [long]: long, [longUni]: longUni, 'ключ': 'значение' } }),
    rec('t', '/a', 16, { attributes: odd }),
    rec('t', '/b', 17, { source: '' }),
    rec('t', '/b', 18, { streamId: 'other' }),
    rec('t', '/a', 19, { attributes: { k: 'x'.repeat(300) } }),
    // edgelog.offset's direct path (uint32) at its bounds, and past them the KvList's
    rec('t', '/a', 0x7f), rec('t', '/a', 0x80), rec('t', '/a', 0xffffffff), rec('t', '/a', 2 ** 32), rec('t', '/a', -1),
  ];
  for (const [i, cfg] of configs.entries()) same(cfg, [batch, batch.slice(3, 9), [batch[1]!]], `config ${i}`);
});

test('otlp_proto bytes: relayed resources equal the reference encoder', () => {
  const fromA = { 'edgelog.resource.host.name': 'edge-a', 'edgelog.resource.edgelog.site': 'shop-1', level: 'info' };
  const fromB = { 'edgelog.resource.host.name': 'edge-b', 'edgelog.resource.n': 3, 'edgelog.resource.ok': true };
  const batch = [
    rec('a1', '/a', 0, { attributes: fromA }), rec('a2', '/a', 3, { attributes: { ...fromA, x: 1 } }),
    rec('b1', '/b', 0, { attributes: fromB }), rec('local', '/l', 0), rec('b2', '/b', 9, { attributes: fromB }),
  ];
  for (const [i, cfg] of configs.entries()) same(cfg, [batch, [batch[3]!], batch], `relay config ${i}`);
});

test('otlp_proto bytes: seeded random batches equal the reference encoder', () => {
  let seed = 0x2545f491;
  const rnd = (n: number): number => {
    seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const words = ['GET', 'ünï', 'ok', '✓', 'request handled in', '{"k":1}', 'x'.repeat(50), '😀', ''];
  const text = (k: number): string => Array.from({ length: k }, () => words[rnd(words.length)]).join(' ');
  const value = (): AttrValue => {
    switch (rnd(6)) {
      case 0: return text(rnd(4));
      case 1: return rnd(2) === 0;
      case 2: return rnd(1 << 30) - (1 << 29);
      case 3: return rnd(1000) / 7;
      case 4: return rnd(1 << 30) * 4096;
      default: return 'v';
    }
  };
  const batches: LogRecord[][] = [];
  for (let b = 0; b < 30; b++) {
    const n = 1 + rnd(300);
    const batch: LogRecord[] = [];
    for (let i = 0; i < n; i++) {
      const body = rnd(10) === 0 ? Buffer.from([rnd(256), 0xff, rnd(256)]) : Buffer.from(text(rnd(40)));
      const fill: Partial<LogRecord> = { observedMs: 1_795_254_195_000 + rnd(3) };
      if (rnd(2)) fill.timeUnixNano = BigInt(1_795_254_195_000 + rnd(100_000)) * 1_000_000n + BigInt(rnd(1_000_000));
      if (rnd(2)) { fill.severityNumber = 1 + rnd(24); fill.severityText = ['INFO', 'warn', 'ÉRREUR'][rnd(3)]!; }
      const na = rnd(10);
      if (na > 1) {
        const a: Record<string, AttrValue> = {};
        for (let k = 0; k < na; k++) a[['level', 'user', 'status', 'latency_ms', 'päth', 'msg', 'k'.repeat(1 + rnd(40))][rnd(7)]!] = value();
        fill.attributes = a;
      }
      if (rnd(3) === 0) { fill.traceId = (rnd(1 << 30) + 0x40000000).toString(16).repeat(4); fill.spanId = 'a1a2a3a4a5a6a7a8'; }
      batch.push(rec(body, ['/var/log/app.log', '/var/log/other.log', '/x'][rnd(3)]!, i * 100 + rnd(100), fill));
    }
    batches.push(batch);
  }
  for (const [i, cfg] of configs.entries()) same(cfg, batches, `random config ${i}`);
});

test('otlp_proto: lone surrogates are written as U+FFFD (valid UTF-8); utf8Len agrees with Buffer.byteLength', () => {
  const enc = new OtlpProtoEncoder(configs[0]!, ctx);
  const msg = enc.encode([rec('x', '/s', 0, { severityText: 'W\uDC00', attributes: { 'k\uD800': 'a\uD800b', pair: '😀\uD83D', long: `${'y'.repeat(40)}\uDFFF` } })])[0]!;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const d = (LogsData.toObject(LogsData.decode(msg.value), { defaults: false }) as any).resourceLogs[0].scopeLogs[0].logRecords[0];
  assert.equal(d.severityText, 'W\uFFFD');
  const kv = Object.fromEntries(d.attributes.map((x: { key: string; value: { stringValue: string } }) => [x.key, x.value.stringValue]));
  assert.equal(kv['k\uFFFD'], 'a\uFFFDb');
  assert.equal(kv.pair, '😀\uFFFD');
  assert.equal(kv.long, `${'y'.repeat(40)}\uFFFD`);
  for (const s of ['', 'abc', 'ü', '✓', '😀', '\uD800', '\uDC00x', '\uD800\uD800\uDC00', 'aü✓😀'.repeat(5), 'ü'.repeat(40)]) assert.equal(utf8Len(s), Buffer.byteLength(s), JSON.stringify(s));
});

test('otlp_proto: a plugin\'s mistyped severity text or event time is dropped, never a failed batch', () => {
  const enc = new OtlpProtoEncoder(configs[0]!, ctx);
  const bad = { severityText: undefined, timeUnixNano: 5 } as unknown as Partial<LogRecord>;
  const msg = enc.encode([rec('x', '/s', 0, bad), rec('y', '/s', 1, { severityText: 'INFO' })])[0]!;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const lr = (LogsData.toObject(LogsData.decode(msg.value), { defaults: false }) as any).resourceLogs[0].scopeLogs[0].logRecords;
  assert.equal(lr[0].severityText, undefined);
  assert.equal(lr[0].timeUnixNano, undefined);
  assert.equal(lr[0].body.stringValue, 'x');
  assert.equal(lr[1].severityText, 'INFO');
});
