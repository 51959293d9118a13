// Every encoded record carries its own stream identity: the file path, the
// stream id and the source name are what a consumer dedupes on (stream id +
// offset) and routes by, so a record must never be written with another
// record's. The encoder caches those attribute bytes (the last stream, then a
// map by path), and the caches are keyed by path alone plus a comparison of
// the id and source: a path whose file was rotated gets a new stream id, and
// two sources can tail one path. These tests decode what one long-lived
// encoder writes, batch after batch, with the official OpenTelemetry decoder
// and compare every record field by field with the record it came from.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import otelRoot from '@opentelemetry/otlp-proto-exporter-base/build/src/generated/root.js';
import { AckGroup } from '../../agent/core/ack.ts';
import { newRecord, type LogRecord } from '../../agent/core/record.ts';
import { OtlpProtoEncoder, type OtlpProtoConfig } from '../../agent/encoders/otlp/otlp-proto.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;
const LogsData = (otelRoot as Obj).opentelemetry.proto.logs.v1.LogsData as { decode(b: Uint8Array): unknown; toObject(m: unknown, o: object): Obj };

const ctx = { host: 'edge-01', service: 'edgelog', site: 'shop-42', agentId: 'agent-7' };
const ack = new AckGroup(0, () => {});
const byStream: OtlpProtoConfig = { key: 'stream', resourceAttributes: {}, scopeName: 'edgelog' };
const oneMessage: OtlpProtoConfig = { key: 'none', resourceAttributes: {}, scopeName: 'edgelog' };

function decode(buf: Buffer): Obj {
  return LogsData.toObject(LogsData.decode(buf), { longs: String, bytes: Buffer, defaults: false, oneofs: false });
}

function attrs(list: Obj[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list ?? []) {
    const v = kv.value;
    out[kv.key] = v.stringValue ?? v.boolValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined) ?? v.doubleValue;
  }
  return out;
}

interface Decoded { resource: Record<string, unknown>; record: Obj }

/** Every log record of every message, in order, with the resource it was written under. */
function decodeAll(enc: OtlpProtoEncoder, batch: LogRecord[]): Decoded[] {
  const out: Decoded[] = [];
  for (const m of enc.encode(batch)) {
    for (const rl of decode(m.value).resourceLogs) {
      for (const lr of rl.scopeLogs[0].logRecords) out.push({ resource: attrs(rl.resource.attributes), record: lr });
    }
  }
  return out;
}

/** The identity a consumer reads back must be the record's own, attribute by attribute. */
function assertIdentity(got: Obj, r: LogRecord, label: string): void {
  const a = attrs(got.attributes);
  assert.equal(got.body.stringValue, r.body.toString(), `${label}: body`);
  assert.equal(a['log.file.path'], r.stream, `${label}: log.file.path`);
  assert.equal(a['edgelog.stream_id'], r.streamId, `${label}: edgelog.stream_id`);
  assert.equal(a['edgelog.offset'], r.offset, `${label}: edgelog.offset`);
  // An empty source name is left out, not written as "".
  assert.equal(a['edgelog.source'], r.source === '' ? undefined : r.source, `${label}: edgelog.source`);
}

function rec(body: string, source: string, stream: string, streamId: string, offset: number, fill: Partial<LogRecord> = {}): LogRecord {
  return Object.assign(newRecord(Buffer.from(body), source, stream, streamId, offset, ack, 1_795_254_195_568), fill);
}

/** Deterministic pseudo-random numbers (mulberry32), so a failure reproduces. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('a rotated file (same path, new stream id) is written with the new id, right after the old one and in later batches', () => {
  for (const cfg of [byStream, oneMessage]) {
    const enc = new OtlpProtoEncoder(cfg, ctx);
    const before = rec('last line of the old file', 'app', '/var/log/app.log', '2049:100:aaaa', 900);
    const after = rec('first line of the new file', 'app', '/var/log/app.log', '2049:101:bbbb', 0);
    const got = decodeAll(enc, [before, after]);
    assertIdentity(got[0]!.record, before, `${cfg.key} same batch, old`);
    assertIdentity(got[1]!.record, after, `${cfg.key} same batch, new`);
    // The next batch starts with the new file: nothing of the old id is reused.
    const next = rec('second line of the new file', 'app', '/var/log/app.log', '2049:101:bbbb', 27);
    assertIdentity(decodeAll(enc, [next])[0]!.record, next, `${cfg.key} next batch`);
  }
});

test('two sources tailing the same path keep their own source name', () => {
  const enc = new OtlpProtoEncoder(oneMessage, ctx);
  const batch = [
    rec('a', 'app', '/var/log/shared.log', '2049:7:cafe', 0),
    rec('b', 'audit', '/var/log/shared.log', '2049:7:cafe', 0),
    rec('c', 'app', '/var/log/shared.log', '2049:7:cafe', 2),
  ];
  const got = decodeAll(enc, batch);
  batch.forEach((r, i) => assertIdentity(got[i]!.record, r, `record ${i}`));
});

test('a path seen before another stream comes back with its new id or source, not the one remembered for that path', () => {
  // A then B then A again: the last-stream cache misses for the second A and the per-path map answers.
  const enc = new OtlpProtoEncoder(oneMessage, ctx);
  const batch = [
    rec('a1', 'app', '/a.log', 'id-a-1', 0),
    rec('b1', 'app', '/b.log', 'id-b-1', 0),
    rec('a2', 'app', '/a.log', 'id-a-2', 0), // /a.log rotated
    rec('b2', 'app', '/b.log', 'id-b-1', 3),
    rec('a3', 'other', '/a.log', 'id-a-2', 3), // same id, another source
    rec('b3', 'app', '/b.log', 'id-b-1', 6),
    rec('a4', 'other', '/a.log', 'id-a-2', 6), // as remembered: the cached bytes are right
  ];
  const got = decodeAll(enc, batch);
  assert.equal(got.length, batch.length);
  batch.forEach((r, i) => assertIdentity(got[i]!.record, r, `record ${i} (${r.body})`));
});

test('seeded random batches alternating paths, stream ids, sources and relayed resources: every record keeps its own identity and resource', () => {
  const next = rng(18);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const paths = ['/var/log/a.log', '/var/log/b.log', '/var/log/c.log'];
  const ids = ['2049:1:0001', '2049:2:0002', '2049:3:0003'];
  const sources = ['app', 'audit', ''];
  const senders = [
    null, // this agent's own records
    { 'edgelog.resource.host.name': 'edge-a', 'edgelog.resource.edgelog.site': 'shop-1' },
    { 'edgelog.resource.host.name': 'edge-b', 'edgelog.resource.edgelog.site': 'shop-2' },
  ] as const;
  for (const cfg of [byStream, oneMessage]) {
    const enc = new OtlpProtoEncoder(cfg, ctx);
    let offset = 0;
    for (let b = 0; b < 60; b++) {
      const n = 1 + Math.floor(next() * 8);
      // Relayed resources only in half the batches, so edge batches follow relay batches on the same encoder.
      const relay = next() < 0.5;
      const batch: LogRecord[] = [];
      for (let i = 0; i < n; i++) {
        const sender = relay ? pick(senders) : null;
        batch.push(rec(`b${b} r${i}`, pick(sources), pick(paths), pick(ids), offset++, sender ? { attributes: { ...sender } } : {}));
      }
      const got = decodeAll(enc, batch);
      assert.equal(got.length, n, `${cfg.key} batch ${b}: record count`);
      // key=stream regroups by path (in first-seen order, each group in batch order); match by body.
      const byBody = new Map(got.map((d) => [d.record.body.stringValue as string, d]));
      for (const r of batch) {
        const d = byBody.get(r.body.toString());
        assert.ok(d, `${cfg.key} batch ${b}: ${r.body} written`);
        assertIdentity(d.record, r, `${cfg.key} batch ${b} ${r.body}`);
        const a = r.attributes;
        const want = a === null
          ? { 'host.name': 'edge-01', 'service.name': 'edgelog', 'edgelog.site': 'shop-42', 'edgelog.agent.id': 'agent-7' }
          : { 'host.name': a['edgelog.resource.host.name'], 'edgelog.site': a['edgelog.resource.edgelog.site'] };
        assert.deepEqual(d.resource, want, `${cfg.key} batch ${b} ${r.body}: resource`);
      }
    }
  }
});

test('key=stream: a batch where only the second record is of another stream still gives one message per stream', () => {
  const enc = new OtlpProtoEncoder(byStream, ctx);
  const batch = [rec('a1', 'app', '/a.log', 'ia', 0), rec('b1', 'app', '/b.log', 'ib', 0)];
  const msgs = enc.encode(batch);
  assert.deepEqual(msgs.map((m) => m.key?.toString()), ['/a.log', '/b.log']);
  assert.deepEqual(msgs.map((m) => m.records), [[batch[0]], [batch[1]]]);
  assertIdentity(decode(msgs[1]!.value).resourceLogs[0].scopeLogs[0].logRecords[0], batch[1]!, 'second message');
});

test('a relayed record with no stream, stream id or source (a sender that sent none) encodes, even as the first record', () => {
  const enc = new OtlpProtoEncoder(oneMessage, ctx);
  const r = rec('bare', '', '', '', 5);
  const got = decodeAll(enc, [r]);
  assert.equal(got.length, 1);
  assertIdentity(got[0]!.record, r, 'bare record');
});

test('every int32 severity number travels unchanged (out-of-range values included: a relay forwards what it got)', () => {
  const enc = new OtlpProtoEncoder(oneMessage, ctx);
  const values = [1, 9, 24, 127, 128, 255, 256, 16_383, 16_384, 2 ** 31 - 1, -1, -128, -(2 ** 31)];
  const batch = values.map((sev, i) => rec(`s${i}`, 'app', '/s.log', 'is', i, { severityNumber: sev }));
  const got = decodeAll(enc, batch);
  assert.deepEqual(got.map((d) => d.record.severityNumber), values);
});

test('an observed time at or before the epoch is left unset, also as the first record of a fresh encoder', () => {
  for (const observedMs of [-1, 0, -5]) {
    const enc = new OtlpProtoEncoder(oneMessage, ctx);
    const got = decodeAll(enc, [rec('x', 'app', '/o.log', 'io', 0, { observedMs }), rec('y', 'app', '/o.log', 'io', 1, { observedMs: 1_000 })]);
    assert.equal(got[0]!.record.observedTimeUnixNano, undefined, `observedMs ${observedMs}`);
    assert.equal(got[1]!.record.observedTimeUnixNano, '1000000000');
  }
});
