// `consumed` is what the checkpoint records, so it must be tight: after every
// push it equals the offset of the first record not yet emitted. Behind it,
// a restart re-reads records already shipped (a 10 MB line's checkpoint would
// lag by up to the whole line); ahead of it, a restart loses records.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineFramer, type LineSink } from '../../../agent/sources/file/line-framer.ts';
import type { OversizeAction } from '../../../agent/sources/file/config.ts';

class Sink implements LineSink {
  lines: { body: string; offset: number }[] = [];
  line(buf: Buffer, start: number, end: number, offset: number): void { this.lines.push({ body: buf.toString('latin1', start, end), offset }); }
  oversize(): void {}
}

/** Pushes `data` in the given chunk sizes; returns the records and, per push, consumed and how many records had been emitted. */
function run(data: Buffer, chunks: number[], max: number, action: OversizeAction) {
  const f = new LineFramer(max, action, 0);
  const sink = new Sink();
  const marks: { consumed: number; emitted: number; read: number }[] = [];
  const reused = Buffer.alloc(Math.max(...chunks));
  let off = 0;
  for (let i = 0; off < data.length; i++) {
    const n = data.copy(reused, 0, off, Math.min(data.length, off + chunks[i % chunks.length]!));
    f.push(reused, n, off, sink);
    off += n;
    marks.push({ consumed: f.consumed, emitted: sink.lines.length, read: off });
  }
  return { f, lines: sink.lines, marks };
}

/** consumed after each push is the offset of the next record to come, or the end of data once every record is out. */
function assertTight(data: Buffer, chunks: number[], max: number, action: OversizeAction, what: string): void {
  const { lines, marks } = run(data, chunks, max, action);
  for (const m of marks) {
    const next = lines[m.emitted];
    const want = next ? next.offset : data.length;
    assert.equal(m.consumed, want, `${what}: after reading ${m.read} bytes (${m.emitted} records out)`);
  }
}

test('split: consumed moves to each piece boundary as the piece is emitted, before the line ends', () => {
  const f = new LineFramer(10, 'split', 100);
  const sink = new Sink();
  const push = (s: string, base: number) => { const b = Buffer.from(s, 'latin1'); f.push(b, b.length, base, sink); };
  push('a'.repeat(25), 100); // 25 bytes of one line: pieces at 100 and 110 are certain, 120.. is held
  assert.deepEqual(sink.lines.map((l) => l.offset), [100, 110]);
  assert.equal(f.consumed, 120);
  push('b'.repeat(10), 125); // 35 bytes: the piece at 120 is out
  assert.deepEqual(sink.lines.map((l) => l.offset), [100, 110, 120]);
  assert.equal(f.consumed, 130);
  push('c\nnext\n', 135);
  assert.deepEqual(sink.lines.map((l) => [l.offset, l.body]), [[100, 'a'.repeat(10)], [110, 'a'.repeat(10)], [120, 'aaaaabbbbb'], [130, 'bbbbbc'], [137, 'next']]);
  assert.equal(f.consumed, 142);
});

test('split: a piece boundary right before CRLF, and a line of exactly max, keep consumed on the next record', () => {
  // 'x' * 20 + CRLF: pieces 0 and 10, the CRLF ends the line with an empty remainder.
  assertTight(Buffer.from('x'.repeat(20) + '\r\nyy\n' + 'z'.repeat(10) + '\r\n' + 'w'.repeat(31) + '\nend\n', 'latin1'), [1, 3, 7, 11, 12, 13], 10, 'split', 'crlf boundaries');
});

test('split and truncate: consumed is tight after every push for random long lines and every chunk size', () => {
  let seed = 7;
  const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
  for (let round = 0; round < 30; round++) {
    const parts: string[] = [];
    for (let i = 0; i < 12; i++) {
      const len = rnd() < 0.4 ? Math.floor(rnd() * 80) : Math.floor(rnd() * 12);
      parts.push('L'.repeat(len) + (rnd() < 0.2 ? '\r\n' : '\n'));
    }
    const data = Buffer.from(parts.join(''), 'latin1');
    for (const chunk of [1, 2, 5, 9, 10, 11, 12, 13, 17, 64, 4096]) {
      assertTight(data, [chunk], 10, 'split', `split round ${round} chunk ${chunk}`);
      assertTight(data, [chunk], 10, 'truncate', `truncate round ${round} chunk ${chunk}`);
    }
    assertTight(data, [3, 14, 1, 25], 10, 'split', `split round ${round} mixed chunks`);
  }
});

test('a 10 MB line in 64 KiB reads: consumed never lags more than one piece behind the bytes read', () => {
  const max = 102400;
  const data = Buffer.concat([Buffer.alloc(10 * 1024 * 1024, 0x42), Buffer.from('\nafter\n')]);
  const { marks } = run(data, [65536], max, 'split');
  for (const m of marks) assert.ok(m.read - m.consumed < max + 2 || m.read === data.length, `read ${m.read}, consumed ${m.consumed}`);
  assert.equal(marks.at(-1)!.consumed, data.length);
});
