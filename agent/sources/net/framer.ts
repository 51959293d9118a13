// Framers cut a connection's byte stream into frames. They hold at most one
// partial frame (bounded by the frame limit); an oversized frame is skipped to
// its end and counted, never buffered. Offsets are byte positions in the
// connection's stream, so (streamId, offset) is a dedupe key.

import type { MalformedReason } from './events.ts';

export type EmitFrame = (frame: Buffer, offset: number) => void;

export interface Framer {
  /** Consumes a chunk, emitting complete frames. Returns false when the stream cannot be resynchronised (close the connection). */
  push(chunk: Buffer, emit: EmitFrame): boolean;
  /** The peer closed: emit a final unterminated frame if any. */
  end(emit: EmitFrame): void;
  /** Bytes held for the incomplete frame. */
  readonly pending: number;
  /** When the incomplete frame started (ms), 0 when none is pending. */
  readonly partialSince: number;
}

export type OnMalformed = (reason: MalformedReason) => void;

/**
 * Newline-delimited frames: split on LF only (like Vector's newline_delimited
 * codec); `stripCr` also removes one CR before the LF. Empty lines are skipped.
 */
export class LineFramer implements Framer {
  private parts: Buffer[] = [];
  private held = 0;
  private discarding = false;
  private pos = 0;
  private start = 0;
  partialSince = 0;
  private readonly max: number;
  private readonly stripCr: boolean;
  private readonly onMalformed: OnMalformed;

  constructor(maxBytes: number, stripCr: boolean, onMalformed: OnMalformed) {
    this.max = maxBytes;
    this.stripCr = stripCr;
    this.onMalformed = onMalformed;
  }

  get pending(): number { return this.held; }

  push(chunk: Buffer, emit: EmitFrame): boolean {
    let from = 0;
    while (from < chunk.length) {
      const nl = chunk.indexOf(10, from);
      if (nl === -1) {
        this.hold(chunk.subarray(from));
        break;
      }
      if (this.discarding) {
        this.discarding = false;
      } else if (this.held === 0) {
        if (nl - from > this.max) this.onMalformed('oversized');
        else this.emitLine(chunk.subarray(from, nl), this.pos + from, emit);
      } else if (this.held + (nl - from) > this.max) {
        this.onMalformed('oversized');
      } else {
        this.parts.push(chunk.subarray(from, nl));
        this.emitLine(Buffer.concat(this.parts, this.held + nl - from), this.start, emit);
      }
      this.parts = [];
      this.held = 0;
      this.partialSince = 0;
      from = nl + 1;
      this.start = this.pos + from;
    }
    this.pos += chunk.length;
    return true;
  }

  private hold(rest: Buffer): void {
    if (this.discarding) return;
    if (this.held === 0) this.partialSince = Date.now();
    if (this.held + rest.length > this.max) {
      // Too long already: drop what is held and skip to the next newline.
      this.onMalformed('oversized');
      this.parts = [];
      this.held = 0;
      this.discarding = true;
      return;
    }
    // Copy: a socket chunk is a view into a pooled slab; holding it would pin the slab.
    this.parts.push(Buffer.from(rest));
    this.held += rest.length;
  }

  private emitLine(line: Buffer, offset: number, emit: EmitFrame): void {
    let end = line.length;
    if (this.stripCr && end > 0 && line[end - 1] === 13) end--;
    if (end === 0) return;
    emit(end === line.length ? line : line.subarray(0, end), offset);
  }

  end(emit: EmitFrame): void {
    // Unterminated: its bytes as they are, a trailing CR included (without an LF it is data), as the file source ships a last line.
    if (this.held > 0 && !this.discarding) emit(Buffer.concat(this.parts, this.held), this.start);
    this.parts = [];
    this.held = 0;
    this.partialSince = 0;
  }
}
