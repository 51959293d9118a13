// The line framer against a reference model: random bytes (short, exactly-max
// and oversize lines, CR, CRLF), random chunking through one reused read
// buffer with stale bytes past the read length, and idle flushes at random
// points, in both oversize modes. After every operation `consumed` and
// `pending` must match the model; at the end the records (body and offset)
// and the oversize count must.
//
// The model, per segment (bytes between line ends and idle-flush cuts):
// a segment ended by LF loses one trailing CR; one longer than max counts as
// oversize once and is split into max-sized pieces at fixed offsets (split) or
// cut to its first max bytes (truncate). An idle flush emits what is held as a
// segment of its own; in truncate mode a held line already known to be
// oversize (max+2 bytes seen) emits its head and drops the rest of the line.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineFramer, type LineSink } from '../../../agent/sources/file/line-framer.ts';
import type { OversizeAction } from '../../../agent/sources/file/config.ts';

interface Rec { body: string; offset: number }

class Sink implements LineSink {
  lines: Rec[] = [];
  oversized = 0;
  line(buf: Buffer, start: number, end: number, offset: number): void { this.lines.push({ body: buf.toString('latin1', start, end), offset }); }
  oversize(): void { this.oversized++; }
}

class Model {
  readonly lines: Rec[] = [];
  oversized = 0;
  consumed: number;
  private seg = '';
  private segStart: number;
  private dropToLf = false;
  private countedSeg = false;
  private readonly max: number;
  private readonly action: OversizeAction;
  constructor(max: number, action: OversizeAction, start: number) {
    this.max = max; this.action = action; this.consumed = start; this.segStart = start;
  }
  private emit(body: string, off: number): void {
    if (body.length > this.max && !this.countedSeg) this.oversized++;
    this.countedSeg = false;
    if (body.length <= this.max) { this.lines.push({ body, offset: off }); return; }
    if (this.action === 'truncate') { this.lines.push({ body: body.slice(0, this.max), offset: off }); return; }
    for (let p = 0; p < body.length; p += this.max) this.lines.push({ body: body.slice(p, p + this.max), offset: off + p });
  }
  /** Pieces a split framer has already emitted of a held segment of length L (it emits once it holds max+2 bytes). */
  private emittedPieces(L: number): number { return L >= this.max + 2 ? Math.floor((L - 2) / this.max) : 0; }
  get pending(): number {
    if (this.dropToLf) return 0;
    if (this.action === 'split') return this.seg.length - this.emittedPieces(this.seg.length) * this.max;
    return Math.min(this.seg.length, this.seg.length >= this.max + 2 ? this.max : this.seg.length);
  }
  push(data: string, base: number): void {
    for (let i = 0; i < data.length; i++) {
      const c = data[i]!;
      if (c !== '\n') {
        if (this.dropToLf) continue;
        this.seg += c;
        if (this.seg.length === this.max + 2) { this.oversized++; this.countedSeg = true; }
        continue;
      }
      const end = base + i + 1;
      if (this.dropToLf) { this.dropToLf = false; this.countedSeg = false; }
      else {
        let body = this.seg;
        if (body.endsWith('\r')) body = body.slice(0, -1);
        this.emit(body, this.segStart);
      }
      this.seg = '';
      this.segStart = end;
    }
    const end = base + data.length;
    // consumed: where a fresh framer would produce exactly what is not yet emitted.
    if (this.dropToLf) return; // stays at the flush point until the line ends
    if (this.seg.length === 0) { this.consumed = this.segStart; return; }
    this.consumed = this.action === 'split' ? this.segStart + this.emittedPieces(this.seg.length) * this.max : this.segStart;
    void end;
  }
  flush(readEnd: number): void {
    if (this.dropToLf) { this.consumed = readEnd; return; }
    if (this.action === 'truncate' && this.seg.length >= this.max + 2) {
      this.lines.push({ body: this.seg.slice(0, this.max), offset: this.segStart });
      this.dropToLf = true;
      this.seg = '';
      this.consumed = readEnd;
      return;
    }
    if (this.seg.length === 0) return;
    this.emit(this.seg, this.segStart);
    this.seg = '';
    this.segStart = readEnd;
    this.consumed = readEnd;
  }
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}

function randomData(r: () => number, max: number): string {
  let s = '';
  const lines = 5 + Math.floor(r() * 25);
  for (let i = 0; i < lines; i++) {
    const kind = r();
    const len = kind < 0.3 ? Math.floor(r() * 4) : kind < 0.5 ? max - 1 + Math.floor(r() * 4) : kind < 0.8 ? Math.floor(r() * max) : max + Math.floor(r() * 4 * max);
    for (let k = 0; k < len; k++) s += r() < 0.05 ? '\r' : String.fromCharCode(97 + Math.floor(r() * 26));
    s += r() < 0.25 ? '\r\n' : '\n';
  }
  if (r() < 0.5) s += 'tail'.slice(0, 1 + Math.floor(r() * 4)); // unterminated end
  return s;
}

for (const action of ['split', 'truncate'] as const) {
  test(`${action}: records, offsets, oversize counts, consumed and pending match the model under random chunking and idle flushes`, () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed * 7919 + (action === 'split' ? 1 : 2));
      const max = 1 + Math.floor(r() * 12);
      const start = Math.floor(r() * 1000);
      const data = randomData(r, max);
      const f = new LineFramer(max, action, start);
      const m = new Model(max, action, start);
      const sink = new Sink();
      // The reader's reused buffer: stale LFs past the read length must never count as data.
      const reused = Buffer.alloc(64, 0x0a);
      let off = 0;
      const what = () => `seed ${seed} max ${max} at ${off}: ${JSON.stringify(data)}`;
      assert.equal(f.pending, 0);
      while (off < data.length) {
        const n = Math.min(data.length - off, 1 + Math.floor(r() * 20));
        reused.fill(0x0a);
        reused.write(data.slice(off, off + n), 0, 'latin1');
        f.push(reused, n, start + off, sink);
        m.push(data.slice(off, off + n), start + off);
        off += n;
        assert.equal(f.consumed, m.consumed, `consumed after push, ${what()}`);
        assert.equal(f.pending, m.pending, `pending after push, ${what()}`);
        if (r() < 0.2) {
          f.flush(start + off, sink);
          m.flush(start + off);
          assert.equal(f.consumed, m.consumed, `consumed after flush, ${what()}`);
          assert.equal(f.pending, 0, `nothing held after a flush, ${what()}`);
        }
      }
      f.flush(start + off, sink);
      m.flush(start + off);
      assert.deepEqual(sink.lines, m.lines, `records, ${what()}`);
      assert.equal(sink.oversized, m.oversized, `oversize count, ${what()}`);
      assert.equal(f.consumed, m.consumed, `final consumed, ${what()}`);
    }
  });
}

test('split: a complete line of exactly twice max in one chunk is two pieces, no empty third', () => {
  const f = new LineFramer(4, 'split', 0);
  const s = new Sink();
  const b = Buffer.from('abcdefgh\nz\n');
  f.push(b, b.length, 0, s);
  assert.deepEqual(s.lines, [{ body: 'abcd', offset: 0 }, { body: 'efgh', offset: 4 }, { body: 'z', offset: 9 }]);
  assert.equal(s.oversized, 1);
});
