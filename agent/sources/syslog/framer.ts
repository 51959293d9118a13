// Syslog over TCP framing (RFC 6587): octet counting (`<len> <msg>`, §3.4.1)
// and non-transparent framing (messages ended by LF, §3.4.2). `auto` decides
// per frame, as rsyslog does: a frame that starts with a digit is octet-counted,
// anything else runs to the next LF. A bad octet count cannot be
// resynchronised, so it ends the connection; an oversized frame is skipped
// (its length is known, or up to the next LF) and counted.

import type { EmitFrame, Framer, OnMalformed } from '../net/framer.ts';

export type SyslogFraming = 'auto' | 'octet_counting' | 'non_transparent';

const START = 0, DIGITS = 1, OCTETS = 2, SKIP_OCTETS = 3, LINE = 4, SKIP_LINE = 5;

export class SyslogTcpFramer implements Framer {
  private state = START;
  private len = 0;
  private digits = 0;
  private parts: Buffer[] = [];
  private held = 0;
  private pos = 0;
  private start = 0;
  partialSince = 0;
  private readonly max: number;
  private readonly framing: SyslogFraming;
  private readonly onMalformed: OnMalformed;

  constructor(maxBytes: number, framing: SyslogFraming, onMalformed: OnMalformed) {
    this.max = maxBytes;
    this.framing = framing;
    this.onMalformed = onMalformed;
  }

  get pending(): number { return this.held; }

  push(chunk: Buffer, emit: EmitFrame): boolean {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      switch (this.state) {
        case START: {
          const c = chunk[i]!;
          // Stray separators between frames (LF after an octet-counted frame, CR, NUL, spaces).
          if (c === 10 || c === 13 || c === 0 || c === 32) { i++; continue; }
          this.start = this.pos + i;
          if (c >= 49 && c <= 57 && this.framing !== 'non_transparent') { this.state = DIGITS; this.len = 0; this.digits = 0; continue; }
          if (this.framing === 'octet_counting') { this.onMalformed('bad_frame'); return false; }
          this.state = LINE;
          continue;
        }
        case DIGITS: {
          const c = chunk[i]!;
          if (c >= 48 && c <= 57) {
            this.len = this.len * 10 + (c - 48);
            if (++this.digits > 10) { this.onMalformed('bad_frame'); return false; }
            i++;
            continue;
          }
          if (c !== 32) { this.onMalformed('bad_frame'); return false; }
          i++;
          if (this.len > this.max) { this.onMalformed('oversized'); this.state = SKIP_OCTETS; } else this.state = OCTETS;
          continue;
        }
        case OCTETS: {
          const take = Math.min(this.len - this.held, n - i);
          if (this.held === 0 && take === this.len) {
            emit(chunk.subarray(i, i + take), this.start); // whole frame in this chunk: no copy
          } else {
            this.parts.push(Buffer.from(chunk.subarray(i, i + take)));
            this.held += take;
            if (this.held === this.len) emit(Buffer.concat(this.parts, this.held), this.start);
            else { i += take; continue; }
          }
          i += take;
          this.reset();
          continue;
        }
        case SKIP_OCTETS: {
          const take = Math.min(this.len, n - i);
          this.len -= take;
          i += take;
          if (this.len === 0) this.reset();
          continue;
        }
        case LINE: {
          const nl = chunk.indexOf(10, i);
          if (nl === -1) {
            if (this.held + (n - i) > this.max) {
              this.onMalformed('oversized');
              this.parts = [];
              this.held = 0;
              this.state = SKIP_LINE;
            } else {
              this.parts.push(Buffer.from(chunk.subarray(i)));
              this.held += n - i;
            }
            i = n;
            continue;
          }
          if (this.held + (nl - i) > this.max) this.onMalformed('oversized');
          else {
            let line = this.held === 0 ? chunk.subarray(i, nl) : Buffer.concat([...this.parts, chunk.subarray(i, nl)], this.held + nl - i);
            if (line.length > 0 && line[line.length - 1] === 13) line = line.subarray(0, line.length - 1);
            if (line.length > 0) emit(line, this.start);
          }
          i = nl + 1;
          this.reset();
          continue;
        }
        default: { // SKIP_LINE
          const nl = chunk.indexOf(10, i);
          if (nl === -1) { i = n; continue; }
          i = nl + 1;
          this.reset();
        }
      }
    }
    this.pos += n;
    if (this.state !== START && this.partialSince === 0) this.partialSince = Date.now();
    return true;
  }

  private reset(): void {
    this.state = START;
    this.parts = [];
    this.held = 0;
    this.partialSince = 0;
  }

  end(emit: EmitFrame): void {
    if (this.state === LINE && this.held > 0) emit(Buffer.concat(this.parts, this.held), this.start);
    else if (this.state === DIGITS || this.state === OCTETS) this.onMalformed('bad_frame'); // cut mid-frame
    this.reset();
  }
}
