import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { LineFramer } from '../../../agent/sources/file/line-framer.ts';
import type { LineSink } from '../../../agent/sources/file/line-framer.ts';
import type { OversizeAction } from '../../../agent/sources/file/config.ts';
import { expectedLines } from './helpers.ts';

class Sink implements LineSink {
  lines: { body: Buffer; offset: number }[] = [];
  oversized: OversizeAction[] = [];
  line(buf: Buffer, start: number, end: number, offset: number): void { this.lines.push({ body: Buffer.from(buf.subarray(start, end)), offset }); }
  oversize(a: OversizeAction): void { this.oversized.push(a); }
}

/** Feed `data` through a framer in chunks of `chunk` bytes via one reused buffer (as the tailer does). */
function frame(data: Buffer, chunk: number, max = 1 << 20, action: OversizeAction = 'split', flush = true) {
  const f = new LineFramer(max, action, 0);
  const sink = new Sink();
  const reused = Buffer.alloc(chunk);
  const consumed: number[] = [];
  for (let off = 0; off < data.length; off += chunk) {
    const n = data.copy(reused, 0, off, Math.min(data.length, off + chunk));
    f.push(reused, n, off, sink);
    reused.fill(0xee); // a body aliasing the reused buffer would show this
    consumed.push(f.consumed);
  }
  if (flush) f.flush(data.length, sink);
  return { sink, framer: f, consumed };
}

test('LF and CRLF, terminator stripped, lone CR kept, empty lines kept', () => {
  const data = Buffer.from('a\r\nb\n\r\n\nc\rd\ne\r\r\nlast');
  for (const chunk of [1, 2, 3, 5, 64]) {
    const { sink } = frame(data, chunk);
    assert.deepEqual(sink.lines.map((l) => l.body.toString()), ['a', 'b', '', '', 'c\rd', 'e\r', 'last'], `chunk ${chunk}`);
    assert.deepEqual(sink.lines.map((l) => l.offset), [0, 3, 5, 7, 8, 12, 16], `chunk ${chunk}`);
  }
});

test('random bytes framed identically for every chunk size, equal to split(/\\r?\\n/)', () => {
  const data = randomBytes(20_000);
  // sprinkle newlines and CRLFs so there are many lines
  for (let i = 0; i < data.length; i += 37) data[i] = 0x0a;
  for (let i = 5; i < data.length; i += 91) data[i] = 0x0d;
  const want = expectedLines(data);
  for (const chunk of [1, 7, 512, 4096, 65536]) {
    const { sink } = frame(data, chunk);
    assert.equal(sink.lines.length, want.length, `chunk ${chunk}`);
    sink.lines.forEach((l, i) => assert.ok(l.body.equals(want[i]!), `chunk ${chunk} line ${i}`));
  }
});

test('split: oversize line cut into max-sized pieces at fixed offsets, counted once', () => {
  const long = 'x'.repeat(25);
  const data = Buffer.from(`ok\n${long}\nnext\n`);
  for (const chunk of [1, 4, 10, 100]) {
    const { sink } = frame(data, chunk, 10, 'split');
    assert.deepEqual(sink.lines.map((l) => l.body.toString()), ['ok', 'x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5), 'next'], `chunk ${chunk}`);
    assert.deepEqual(sink.lines.map((l) => l.offset), [0, 3, 13, 23, 29]);
    assert.deepEqual(sink.oversized, ['split']);
  }
});

test('a body of exactly max bytes followed by CRLF is not oversize', () => {
  const data = Buffer.from(`${'y'.repeat(10)}\r\n${'z'.repeat(11)}\n`);
  for (const chunk of [1, 3, 11, 12, 64]) {
    const { sink } = frame(data, chunk, 10, 'split');
    assert.deepEqual(sink.lines.map((l) => l.body.toString()), ['y'.repeat(10), 'z'.repeat(10), 'z'], `chunk ${chunk}`);
    assert.equal(sink.oversized.length, 1);
  }
});

test('truncate: head kept, rest skipped to the newline, counted, next lines intact', () => {
  const data = Buffer.from(`ok\n${'x'.repeat(25)}\nnext\n${'w'.repeat(11)}\nend\n`);
  for (const chunk of [1, 4, 10, 100]) {
    const { sink, consumed } = frame(data, chunk, 10, 'truncate');
    assert.deepEqual(sink.lines.map((l) => l.body.toString()), ['ok', 'x'.repeat(10), 'next', 'w'.repeat(10), 'end'], `chunk ${chunk}`);
    assert.deepEqual(sink.lines.map((l) => l.offset), [0, 3, 29, 34, 46]);
    assert.deepEqual(sink.oversized, ['truncate', 'truncate']);
    // resume offsets never go backwards
    for (let i = 1; i < consumed.length; i++) assert.ok(consumed[i]! >= consumed[i - 1]!);
  }
});

test('split resume: restarting at any consumed offset yields the remaining records exactly', () => {
  const data = Buffer.concat([Buffer.from('a\n'), Buffer.alloc(95, 0x61), Buffer.from('\r\nb\nccc')]);
  const full = frame(data, 7, 10, 'split').sink.lines;
  const { consumed } = frame(data, 7, 10, 'split', false);
  for (const c of new Set(consumed)) {
    const f = new LineFramer(10, 'split', c);
    const sink = new Sink();
    f.push(data.subarray(c), data.length - c, c, sink);
    f.flush(data.length, sink);
    const rest = full.filter((l) => l.offset >= c);
    assert.deepEqual(sink.lines.map((l) => [l.offset, l.body.toString()]), rest.map((l) => [l.offset, l.body.toString()]), `resume at ${c}`);
  }
});

test('a 10 MB line streams out in pieces without holding more than max bytes', () => {
  const max = 102400;
  const big = Buffer.alloc(10 * 1024 * 1024, 0x42);
  const data = Buffer.concat([big, Buffer.from('\nafter\n')]);
  const { sink } = frame(data, 65536, max, 'split');
  assert.equal(sink.lines.at(-1)!.body.toString(), 'after');
  const pieces = sink.lines.slice(0, -1);
  assert.equal(Buffer.concat(pieces.map((p) => p.body)).length, big.length);
  assert.ok(pieces.every((p) => p.body.length <= max));
  assert.deepEqual(sink.oversized, ['split']);
});

test('idle flush of a truncated head does not emit the head twice', () => {
  const f = new LineFramer(4, 'truncate', 0);
  const sink = new Sink();
  const a = Buffer.from('abcdefgh');
  f.push(a, a.length, 0, sink);
  f.flush(8, sink);
  const b = Buffer.from('ijk\nnext\n');
  f.push(b, b.length, 8, sink);
  assert.deepEqual(sink.lines.map((l) => l.body.toString()), ['abcd', 'next']);
  assert.equal(f.consumed, 17);
});
