// A RecordRun must stand for exactly the LogRecords the tailer used to emit:
// every slow lane (decoders, transforms, workers, dead letters, splits) sees
// the run only through toRecords() and the slice helpers, so a field lost
// there is a field lost in Kafka.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { AckGroup } from '../../agent/core/ack.ts';
import { RecordRun, sliceCount, sliceRecords, splitSlices, type RunSlice } from '../../agent/core/record-run.ts';

/** A run over "alpha\nbé\n\ngamma\n" read at file offset 1000 (the empty line is a record too). */
function sample(attrs: Record<string, string> | null = { 'log.file.path_resolved': '/var/log/real.log' }) {
  const text = Buffer.from('alpha\nb\u00e9\n\ngamma\n');
  const lines: Array<[number, number]> = [];
  let s = 0;
  for (let i = 0; i < text.length; i++) if (text[i] === 0x0a) { lines.push([s, i]); s = i + 1; }
  const starts = new Uint32Array(lines.map((l) => l[0]));
  const ends = new Uint32Array(lines.map((l) => l[1]));
  const offsets = new Float64Array(lines.map((l) => 1000 + l[1] + 1));
  const ack = new AckGroup(1000 + text.length, () => {});
  const run = new RecordRun(text, starts, ends, offsets, 'app', 'file:/var/log/app.log', 'dev:ino', 1234, ack, attrs);
  return { run, ack, text };
}

test('toRecords builds every field the tailer sets, with its own attributes object per record', () => {
  const { run, ack } = sample();
  assert.equal(run.length, 4);
  const recs = run.toRecords();
  assert.deepEqual(recs.map((r) => r.body.toString()), ['alpha', 'b\u00e9', '', 'gamma']);
  assert.deepEqual(recs.map((r) => r.offset), [1006, 1010, 1011, 1017]);
  for (const r of recs) {
    assert.equal(r.source, 'app');
    assert.equal(r.stream, 'file:/var/log/app.log');
    assert.equal(r.streamId, 'dev:ino');
    assert.equal(r.observedMs, 1234);
    assert.equal(r.ack, ack);
    assert.equal(r.timeUnixNano, 0n);
    assert.deepEqual(r.attributes, { 'log.file.path_resolved': '/var/log/real.log' });
  }
  // A transform that edits one record's attributes in place must not edit its neighbours' (or the run's).
  recs[0]!.attributes!.x = 'y';
  assert.equal(recs[1]!.attributes!.x, undefined);
  assert.equal(run.attributes!.x, undefined);
  assert.deepEqual(run.toRecords(1, 3).map((r) => r.body.toString()), ['b\u00e9', '']);
  assert.equal(sample(null).run.toRecords()[0]!.attributes, null);
});

test('bodyBytes and bytesOf count body bytes of any range, prefix, suffix or middle', () => {
  const { run } = sample();
  const lens = [5, 3, 0, 5];
  const sum = (a: number, b: number) => lens.slice(a, b).reduce((x, y) => x + y, 0);
  assert.equal(run.bodyBytes, 13);
  for (let a = 0; a <= 4; a++) for (let b = a; b <= 4; b++) assert.equal(run.bytesOf(a, b), sum(a, b), `bytesOf(${a}, ${b})`);
});

test('allUtf8 checks the whole buffer once and remembers the answer', () => {
  const { run } = sample();
  let calls = 0;
  const check = (b: Buffer) => { calls++; return isUtf8(b); };
  assert.equal(run.allUtf8(check), true);
  assert.equal(run.allUtf8(check), true);
  assert.equal(calls, 1);
  const bad = Buffer.from([0x61, 0xff, 0x0a]);
  const r2 = new RecordRun(bad, new Uint32Array([0]), new Uint32Array([2]), new Float64Array([3]), 's', 'st', 'id', 0, new AckGroup(3, () => {}), null);
  let calls2 = 0;
  const check2 = (b: Buffer) => { calls2++; return isUtf8(b); };
  assert.equal(r2.allUtf8(check2), false);
  assert.equal(r2.allUtf8(check2), false);
  assert.equal(calls2, 1, 'a false answer is remembered too');
});

test('splitSlices cuts at any record count, inside a run or at a run boundary, and loses or repeats nothing', () => {
  const a = sample().run;
  const b = sample(null).run;
  const slices: RunSlice[] = [{ run: a, from: 1, to: 4 }, { run: b, from: 0, to: 2 }];
  assert.equal(sliceCount(slices), 5);
  const all = sliceRecords(slices).map((r) => `${r.offset}:${r.body}`);
  assert.equal(all.length, 5);
  for (let n = 0; n <= 5; n++) {
    const [head, tail] = splitSlices(slices, n);
    assert.equal(sliceCount(head), n, `head of ${n}`);
    assert.equal(sliceCount(tail), 5 - n, `tail of ${n}`);
    for (const s of [...head, ...tail]) assert.ok(s.to > s.from, `no empty slice at n=${n}`);
    assert.deepEqual([...sliceRecords(head), ...sliceRecords(tail)].map((r) => `${r.offset}:${r.body}`), all, `split at ${n}`);
  }
});
