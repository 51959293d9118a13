// The tailer's chunk -> RecordRun step: framer output collected as columns.
// A user relies on the bodies and offsets being exactly the lines of the
// file (never the reader's reused buffer, which the next read overwrites),
// whatever the chunking, with oversize pieces and idle flushes included; the
// common case (complete lines, the carried one too) costs no copy per line.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { AckGroup } from '../../../agent/core/ack.ts';
import type { RecordRun } from '../../../agent/core/record-run.ts';
import type { OversizeAction } from '../../../agent/sources/file/config.ts';
import { ChunkColumns } from '../../../agent/sources/file/chunk-columns.ts';
import { LineFramer, type LineSink } from '../../../agent/sources/file/line-framer.ts';

/** The lines as the framer emits them with the whole file in one push, copied at once (line-framer-model.test.ts checks that framing against a model). */
function reference(data: Buffer, max: number, action: OversizeAction): Array<{ body: string; offset: number }> {
  const out: Array<{ body: string; offset: number }> = [];
  const f = new LineFramer(max, action, 0);
  const sink: LineSink = { line: (b, s, e, o) => out.push({ body: b.toString('latin1', s, e), offset: o }), oversize: () => {} };
  f.push(Buffer.from(data), data.length, 0, sink);
  f.flush(data.length, sink);
  return out;
}

function runsOf(data: Buffer, chunk: number, max: number, action: OversizeAction): RecordRun[] {
  const cols = new ChunkColumns();
  const sink: LineSink = { line: (b, s, e, o) => cols.add(b, s, e, o), oversize: () => {} };
  const f = new LineFramer(max, action, 0);
  const reused = Buffer.alloc(chunk);
  const runs: RecordRun[] = [];
  const take = () => {
    if (cols.n === 0) return;
    // cols.bytes feeds edgelog_source_bytes_total: the body bytes of exactly this run.
    const bytes = cols.bytes;
    const r = cols.take('s', '/f', 'id', 1, new AckGroup(0, () => {}), null);
    assert.equal(bytes, r.bodyBytes, 'bytes counted for the run');
    assert.equal(cols.bytes, 0, 'bytes start again after take');
    runs.push(r);
  };
  for (let off = 0; off < data.length; off += chunk) {
    const n = data.copy(reused, 0, off, Math.min(data.length, off + chunk));
    f.push(reused, n, off, sink);
    take();
    reused.fill(0xee); // a body aliasing the reader's buffer would show this
  }
  f.flush(data.length, sink);
  take();
  return runs;
}

test('runs hold exactly the file\'s lines and offsets for every chunk size, oversize pieces and the final flush included', () => {
  const lines = ['short', '', 'x'.repeat(150), 'crlf\r', 'y'.repeat(31), 'tail-without-newline'];
  const data = Buffer.from(`${lines.slice(0, -1).join('\n')}\n${lines.at(-1)}`);
  for (const action of ['split', 'truncate'] as const) {
    const want = reference(data, 64, action);
    for (const chunk of [1, 7, 32, 100, 4096]) {
      const runs = runsOf(data, chunk, 64, action);
      const got = runs.flatMap((r) => r.toRecords().map((x) => ({ body: x.body.toString('latin1'), offset: x.offset })));
      assert.deepEqual(got, want, `${action}, chunk ${chunk}`);
      for (const r of runs) assert.equal(r.bodyBytes, r.toRecords().reduce((s, x) => s + x.body.length, 0));
    }
  }
});

test('random bytes: same lines as the reference framing for every chunk size', () => {
  const data = randomBytes(20_000);
  for (let i = 0; i < data.length; i += 37) data[i] = 0x0a;
  const want = reference(data, 1 << 20, 'split');
  for (const chunk of [13, 512, 8192]) {
    const got = runsOf(data, chunk, 1 << 20, 'split').flatMap((r) => r.toRecords().map((x) => x.body.toString('latin1')));
    assert.deepEqual(got, want.map((w) => w.body), `chunk ${chunk}`);
  }
});

test('complete lines of a chunk, the one carried in included, share one buffer: no copy per line', () => {
  const data = Buffer.from(Array.from({ length: 200 }, (_, i) => `line number ${i}`).join('\n') + '\n');
  const runs = runsOf(data, 1000, 1 << 20, 'split');
  assert.ok(runs.length > 3);
  for (const r of runs) {
    // The run's bodies are the framer's chunk copy itself: lines plus their newlines, nothing else.
    assert.equal(r.bodies.length, r.bodyBytes + r.length);
  }
});

test('columns in a caller\'s region (the source\'s slabs) hold the same offsets; an unaligned region is not used', () => {
  const fill = (cols: ChunkColumns) => { const b = Buffer.from('ab\ncd\nef\n'); cols.add(b, 0, 2, 3); cols.add(b, 3, 5, 6); cols.add(b, 6, 8, 9); };
  const slab = Buffer.alloc(4096);
  const a = new ChunkColumns();
  fill(a);
  const asked: number[] = [];
  const r = a.take('s', '/f', 'id', 1, new AckGroup(9, () => {}), null, (n) => { asked.push(n); return slab.subarray(64, 64 + n); });
  assert.deepEqual(asked, [48], '16 bytes per record asked for: the region is all the run uses');
  assert.equal(r.offsets.buffer, slab.buffer, 'columns live in the given region');
  assert.equal(r.offsets.byteOffset, slab.byteOffset + 64);
  assert.deepEqual([...r.offsets], [3, 6, 9]);
  assert.deepEqual(r.toRecords().map((x) => x.body.toString()), ['ab', 'cd', 'ef']);
  const b = new ChunkColumns();
  fill(b);
  const r2 = b.take('s', '/f', 'id', 1, new AckGroup(9, () => {}), null, (n) => slab.subarray(3, 3 + n));
  assert.notEqual(r2.offsets.buffer, slab.buffer, 'a region not 8-aligned gets its own buffer');
  assert.deepEqual([...r2.offsets], [3, 6, 9]);
});
