// otlp_proto from columns (encodeRuns) must write exactly the bytes it writes
// for the same records as LogRecord objects: a consumer cannot tell which
// lane a message came through.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AckGroup } from '../../agent/core/ack.ts';
import { recordCount } from '../../agent/core/component.ts';
import { RecordRun, sliceRecords, splitSlices, type RunSlice } from '../../agent/core/record-run.ts';
import { OtlpProtoEncoder, otlpProtoDefaults } from '../../agent/encoders/otlp/otlp-proto.ts';
import otelRoot from '@opentelemetry/otlp-proto-exporter-base/build/src/generated/root.js';

type Obj = any;
// The official static message opentelemetry.proto.logs.v1.LogsData.
const LogsData = (otelRoot as Obj).opentelemetry.proto.logs.v1.LogsData as { decode(b: Uint8Array): unknown; toObject(m: unknown, o: object): Obj };
const decodeLogsData = (b: Buffer): Obj => LogsData.toObject(LogsData.decode(b), { longs: String, bytes: Buffer, defaults: false, oneofs: false });

const ctx = { host: 'h', service: 'svc', site: 'site-1', agentId: 'a-1' };

/** A run whose bodies sit in one buffer, separated by newlines, as the tailer builds it. */
function run(lines: Array<string | Buffer>, opts: { stream?: string; offset0?: number; observedMs?: number; attrs?: Record<string, string> | null } = {}): RecordRun {
  const parts: Buffer[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  const offsets: number[] = [];
  let pos = 0;
  for (const l of lines) {
    const b = typeof l === 'string' ? Buffer.from(l) : l;
    starts.push(pos); ends.push(pos + b.length); offsets.push((opts.offset0 ?? 0) + pos);
    parts.push(b, Buffer.from('\n'));
    pos += b.length + 1;
  }
  const g = new AckGroup(pos, () => {});
  return new RecordRun(Buffer.concat(parts), Uint32Array.from(starts), Uint32Array.from(ends), Float64Array.from(offsets),
    'src', opts.stream ?? '/var/log/a.log', 'dev:ino:fp', opts.observedMs ?? 1_733_390_000_123, g, opts.attrs ?? null);
}

function same(keyMode: 'stream' | 'none', slices: RunSlice[]): void {
  const a = new OtlpProtoEncoder({ ...otlpProtoDefaults, key: keyMode }, ctx);
  const b = new OtlpProtoEncoder({ ...otlpProtoDefaults, key: keyMode }, ctx);
  const fromRuns = a.encodeRuns(slices);
  const fromRecords = b.encode(sliceRecords(slices));
  assert.equal(fromRuns.length, fromRecords.length);
  for (let i = 0; i < fromRuns.length; i++) {
    assert.deepEqual(fromRuns[i]!.key, fromRecords[i]!.key);
    assert.ok(fromRuns[i]!.value.equals(fromRecords[i]!.value), `message ${i}: bytes differ`);
    assert.equal(recordCount(fromRuns[i]!), recordCount(fromRecords[i]!));
    assert.equal(fromRuns[i]!.records.length, 0, 'columns build no record objects');
  }
}

test('encodeRuns writes the bytes encode() writes for the same records', () => {
  const r1 = run(['{"a":1}', '', 'plain line with ünïcödé', 'x'.repeat(300)]);
  const r2 = run(['second run', Buffer.from([0x66, 0xff, 0xfe, 0x67]), 'after the bad bytes'], { offset0: 1000 });
  same('stream', [{ run: r1, from: 0, to: 4 }, { run: r2, from: 0, to: 3 }]);
  same('none', [{ run: r1, from: 1, to: 3 }, { run: r2, from: 1, to: 2 }]);
});

test('encodeRuns: offsets past 4 GiB, a zero read time, per-run attributes', () => {
  const big = run(['beyond 4 GiB', 'and more'], { offset0: 2 ** 32 + 5 });
  const zero = run(['no read time'], { observedMs: 0 });
  const linked = run(['via a symlink', 'again'], { attrs: { 'log.file.path_resolved': '/data/real.log' } });
  same('stream', [{ run: big, from: 0, to: 2 }, { run: zero, from: 0, to: 1 }, { run: linked, from: 0, to: 2 }]);
});

test('one encoder serving both lanes in turn writes what a fresh one writes (nothing of the last message carries over)', () => {
  const shared = new OtlpProtoEncoder(otlpProtoDefaults, ctx);
  const recs = run(['relayed', 'line'], { offset0: 2 ** 33 }).toRecords();
  for (const r of recs) r.attributes = { 'edgelog.resource.host.name': 'edge-7', 'k8s.pod': 'p-1', n: 3 };
  shared.encode(recs);
  const slices = [{ run: run(['first', 'second'], { offset0: 2 ** 32 + 1, observedMs: 1_733_390_999_999, attrs: { 'log.file.path_resolved': '/r.log' } }), from: 0, to: 2 }];
  const fromShared = shared.encodeRuns(slices);
  const fromFresh = new OtlpProtoEncoder(otlpProtoDefaults, ctx).encodeRuns(slices);
  assert.equal(fromShared.length, 1);
  assert.ok(fromShared[0]!.value.equals(fromFresh[0]!.value), 'bytes differ after an encode() with attributes');
  const lr = decodeLogsData(fromShared[0]!.value).resourceLogs[0]!.scopeLogs[0]!.logRecords;
  const keys = ['edgelog.offset', 'edgelog.source', 'edgelog.stream_id', 'log.file.path', 'log.file.path_resolved'];
  assert.deepEqual(lr.map((r: Obj) => r.attributes.map((x: Obj) => x.key).sort()), [keys, keys]);
  assert.ok(lr.every((r: Obj) => r.attributes.some((a: Obj) => a.key === 'log.file.path_resolved' && a.value.stringValue === '/r.log')));
  assert.ok(lr.every((r: Obj) => !r.attributes.some((a: Obj) => a.key === 'k8s.pod' || a.key === 'n')), 'no attribute of the earlier message');
  // And back: records read at the same time as the first message, after a run read at another time.
  const again = run(['relayed', 'line'], { offset0: 2 ** 33 }).toRecords();
  assert.ok(shared.encode(again)[0]!.value.equals(new OtlpProtoEncoder(otlpProtoDefaults, ctx).encode(again)[0]!.value), 'bytes differ after a run in between');
});

test('encodeRuns with key=stream: one message per stream, records of a stream in order', () => {
  const a1 = run(['a1', 'a2'], { stream: '/a.log' });
  const b1 = run(['b1'], { stream: '/b.log' });
  const a2 = run(['a3'], { stream: '/a.log', offset0: 100 });
  const slices = [{ run: a1, from: 0, to: 2 }, { run: b1, from: 0, to: 1 }, { run: a2, from: 0, to: 1 }];
  same('stream', slices);
  const msgs = new OtlpProtoEncoder(otlpProtoDefaults, ctx).encodeRuns(slices);
  assert.equal(msgs.length, 2);
  const bodies = msgs.map((m) => decodeLogsData(m.value).resourceLogs[0]!.scopeLogs[0]!.logRecords.map((r: Obj) => r.body?.stringValue));
  assert.deepEqual(bodies, [['a1', 'a2', 'a3'], ['b1']]);
  assert.deepEqual(msgs.map(recordCount), [3, 1]);
});

test('splitSlices cuts inside a run and keeps every record exactly once', () => {
  const r1 = run(['0', '1', '2']);
  const r2 = run(['3', '4']);
  const all = [{ run: r1, from: 0, to: 3 }, { run: r2, from: 0, to: 2 }];
  for (let n = 0; n <= 5; n++) {
    const [h, t] = splitSlices(all, n);
    const body = (s: RunSlice[]) => sliceRecords(s).map((r) => r.body.toString());
    assert.deepEqual(body(h), ['0', '1', '2', '3', '4'].slice(0, n));
    assert.deepEqual(body(t), ['0', '1', '2', '3', '4'].slice(n));
  }
});
