// Splits a byte stream into lines. LF and CRLF end a line; the body excludes
// the terminator (one trailing \r before \n is stripped, a lone \r is data).
// Everything else is opaque bytes: invalid UTF-8 and NULs pass through.
//
// Bounded memory: a line never holds more than max_line_bytes + 2 bytes. A
// longer line is either split into max_line_bytes pieces as soon as they are
// known (each piece is a record, so a 10 MB line streams through) or truncated
// (the head is kept, the rest is skipped up to the next newline). Either way
// the file keeps moving.
//
// `consumed` is the safe resume offset: the file offset where a fresh framer
// would produce exactly the records not yet emitted. It only moves forward, so
// it is what a chunk's AckGroup token (and finally the checkpoint) records.

import type { OversizeAction } from './config.ts';

/**
 * Receives framed lines; a method call (not a closure per record) on the hot
 * path. A line is buf[start, end): no view is made per line, so a receiver
 * that keeps columns (tailer.ts) allocates nothing per record.
 */
export interface LineSink {
  line(buf: Buffer, start: number, end: number, offset: number): void;
  /** One oversize line detected (counted once per line, not per piece). */
  oversize(action: OversizeAction): void;
}

const LF = 0x0a;
const CR = 0x0d;

export class LineFramer {
  private readonly max: number;
  private readonly action: OversizeAction;
  /** Unterminated line bytes; capacity max+2 so we can tell `max + \r` (fits once \n comes) from a real overflow. */
  private carry: Buffer | null = null;
  private carryLen = 0;
  /** File offset of carry[0]. */
  private carryStart = 0;
  /** truncate mode: the head (carry[0..max)) is held and the rest of the line is skipped. */
  private skipping = false;
  /** The held head was already emitted (idle flush while skipping): drop silently up to the newline. */
  private headEmitted = false;
  /** Current line was already counted as oversize (split mode: count once per line). */
  private counted = false;
  consumed: number;

  /** Where chunk copies come from (the tailer: slabs reused after acknowledgement, chunk-slabs.ts). */
  private readonly alloc: (n: number) => Buffer;

  constructor(maxLineBytes: number, action: OversizeAction, startOffset: number, alloc: (n: number) => Buffer = Buffer.allocUnsafe) {
    this.max = maxLineBytes;
    this.alloc = alloc;
    this.action = action;
    this.consumed = startOffset;
    this.carryStart = startOffset;
  }

  /** Bytes held back waiting for a newline (0 when at a line boundary). */
  get pending(): number { return this.carryLen; }

  /**
   * Frame `len` bytes of `buf` that sit at file offset `base`. `buf` is the
   * reader's reused buffer: bodies never alias it. Complete lines of the chunk,
   * with the line carried in from the chunk before, share one copy of the
   * chunk, so a receiver keeping (start, end) columns sees one buffer per chunk.
   */
  push(buf: Buffer, len: number, base: number, sink: LineSink): void {
    let pos = 0;
    // truncate mode: the rest of a long line is skipped up to its newline.
    if (this.skipping) {
      const nl = indexOfLF(buf, 0, len);
      if (nl < 0) return; // still inside the skipped line
      this.finishSkipped(sink);
      pos = nl + 1;
      this.consumed = base + pos;
    }
    const lastNl = lastIndexOfLF(buf, pos, len);
    if (lastNl >= pos) {
      // One copy for the carried bytes and all complete lines of the chunk.
      const held = this.carryLen;
      const copy = this.alloc(held + lastNl + 1 - pos);
      if (held > 0) this.carry!.copy(copy, 0, 0, held);
      buf.copy(copy, held, pos, lastNl + 1);
      const copyBase = held > 0 ? this.carryStart : base + pos;
      this.carryLen = 0;
      let s = 0;
      const end = copy.length;
      while (s < end) {
        const nl = copy.indexOf(LF, s);
        let e = nl;
        if (e > s && copy[e - 1] === CR) e--;
        this.emit(copy, s, e, copyBase + s, sink);
        // Only the carried line can have been counted as oversize already.
        this.counted = false;
        s = nl + 1;
      }
      pos = lastNl + 1;
      this.consumed = base + pos;
    }
    if (this.carryLen === 0) this.carryStart = base + pos;
    if (pos < len) this.appendPartial(buf, pos, len, sink);
  }

  /** Emit whatever is held as a final unterminated line (idle timeout, shutdown). `readEnd` is the offset after the last byte read. */
  flush(readEnd: number, sink: LineSink): void {
    if (this.skipping) {
      if (!this.headEmitted) { const head = Buffer.from(this.carry!.subarray(0, this.carryLen)); sink.line(head, 0, head.length, this.carryStart); }
      // The rest of this line (if it ever continues) is still skipped.
      this.headEmitted = true;
      this.carryLen = 0;
      this.consumed = readEnd;
      return;
    }
    if (this.carryLen === 0) return;
    // An unterminated line keeps a trailing \r: without \n it is data.
    const body = Buffer.from(this.carry!.subarray(0, this.carryLen));
    this.emit(body, 0, body.length, this.carryStart, sink);
    this.carryStart += this.carryLen;
    this.carryLen = 0;
    this.counted = false;
    this.consumed = readEnd;
  }

  /** truncate mode: the newline of the skipped line came; emit the held head unless an idle flush already did. */
  private finishSkipped(sink: LineSink): void {
    if (!this.headEmitted) { const head = Buffer.from(this.carry!.subarray(0, this.carryLen)); sink.line(head, 0, head.length, this.carryStart); }
    this.skipping = false;
    this.headEmitted = false;
    this.carryLen = 0;
    this.counted = false;
  }

  /** buf[s..e) has no newline: hold it, cutting pieces off when the line grows past the limit. */
  private appendPartial(buf: Buffer, s: number, e: number, sink: LineSink): void {
    const cap = this.max + 2;
    if (this.carry === null) this.carry = Buffer.allocUnsafeSlow(cap);
    while (s < e) {
      if (this.skipping) return; // truncate: drop up to the newline
      const n = Math.min(cap - this.carryLen, e - s);
      buf.copy(this.carry, this.carryLen, s, s + n);
      this.carryLen += n;
      s += n;
      if (this.carryLen < cap) continue;
      // At least max+2 bytes and no newline: the body is certainly oversize.
      if (!this.counted) { this.counted = true; sink.oversize(this.action); }
      if (this.action === 'split') {
        const piece = Buffer.from(this.carry.subarray(0, this.max));
        sink.line(piece, 0, piece.length, this.carryStart);
        this.carry.copyWithin(0, this.max, this.carryLen);
        this.carryLen -= this.max;
        this.carryStart += this.max;
        // Resuming at a piece boundary yields the same remaining pieces.
        this.consumed = this.carryStart;
      } else {
        this.carryLen = this.max;
        this.skipping = true;
        this.headEmitted = false;
      }
    }
  }

  /** Emit body buf[s..e) starting at file offset `off`, applying the oversize rule. */
  private emit(buf: Buffer, s: number, e: number, off: number, sink: LineSink): void {
    const n = e - s;
    if (n <= this.max) { sink.line(buf, s, e, off); return; }
    // Callers reset `counted` after each line.
    if (!this.counted) sink.oversize(this.action);
    if (this.action === 'truncate') { sink.line(buf, s, s + this.max, off); return; }
    for (let p = s; p < e; p += this.max) sink.line(buf, p, Math.min(e, p + this.max), off + (p - s));
  }
}

function indexOfLF(buf: Buffer, from: number, to: number): number {
  const i = buf.indexOf(LF, from);
  return i >= 0 && i < to ? i : -1;
}

function lastIndexOfLF(buf: Buffer, from: number, to: number): number {
  if (to <= from) return -1;
  const i = buf.lastIndexOf(LF, to - 1);
  return i >= from ? i : -1;
}
