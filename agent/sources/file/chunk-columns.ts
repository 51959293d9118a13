// The lines of one read chunk, collected as columns while the framer emits
// them, then handed out as one RecordRun (core/record-run.ts). The framer puts
// every complete line of a chunk, the one carried in from the chunk before
// included, into one copy of the chunk, so the run's bodies are that copy and
// nothing is allocated per line. Lines from elsewhere (an oversize piece, a
// truncated head, an unterminated line flushed at idle) are rare: a chunk with
// any of them gets its bodies copied into one new buffer.
//
// The scratch columns are reused across chunks; each run gets exact-size
// columns in one ArrayBuffer (16 B per record), since it lives until the
// destination acknowledges it.

import type { AckGroup } from '../../core/ack.ts';
import type { AttrValue } from '../../core/record.ts';
import { RecordRun } from '../../core/record-run.ts';

export class ChunkColumns {
  /** The buffer every line so far lives in (null: no line yet). */
  private buf: Buffer | null = null;
  /** Per line, its buffer: only once lines came from more than one buffer. */
  private bufs: Buffer[] | null = null;
  private starts = new Uint32Array(256);
  private ends = new Uint32Array(256);
  private offsets = new Float64Array(256);
  /** Lines collected since the last take(). */
  n = 0;
  /** Body bytes collected since the last take(). */
  bytes = 0;

  add(buf: Buffer, start: number, end: number, offset: number): void {
    const i = this.n;
    if (i === this.starts.length) this.grow();
    if (this.buf === null) this.buf = buf;
    else if (buf !== this.buf && this.bufs === null) this.bufs = new Array<Buffer>(i).fill(this.buf);
    if (this.bufs !== null) this.bufs.push(buf);
    this.starts[i] = start;
    this.ends[i] = end;
    this.offsets[i] = offset;
    this.bytes += end - start;
    this.n = i + 1;
  }

  /**
   * Everything collected as one run, and start over. `alloc`: where the
   * run's columns (16 bytes per record) live, e.g. the source's slabs, so
   * they are reused after acknowledgement like the bodies instead of being a
   * fresh ArrayBuffer per chunk (48 MB per 3M records of V8 external memory).
   */
  take(source: string, stream: string, streamId: string, observedMs: number, ack: AckGroup, attributes: Readonly<Record<string, AttrValue>> | null, alloc?: (bytes: number) => Buffer): RecordRun {
    const n = this.n;
    const region = alloc?.(16 * n);
    // Float64Array needs 8-byte alignment: slab regions have it; anything else gets its own buffer.
    const aligned = region !== undefined && (region.byteOffset & 7) === 0;
    const mem = aligned ? region.buffer : new ArrayBuffer(16 * n);
    const at = aligned ? region.byteOffset : 0;
    const offsets = new Float64Array(mem, at, n);
    const starts = new Uint32Array(mem, at + 8 * n, n);
    const ends = new Uint32Array(mem, at + 12 * n, n);
    offsets.set(this.offsets.subarray(0, n));
    let bodies: Buffer;
    if (this.bufs === null) {
      bodies = this.buf ?? Buffer.alloc(0);
      starts.set(this.starts.subarray(0, n));
      ends.set(this.ends.subarray(0, n));
    } else {
      bodies = Buffer.allocUnsafe(this.bytes);
      let pos = 0;
      for (let i = 0; i < n; i++) {
        starts[i] = pos;
        pos += this.bufs[i]!.copy(bodies, pos, this.starts[i]!, this.ends[i]!);
        ends[i] = pos;
      }
    }
    this.buf = null;
    this.bufs = null;
    this.n = 0;
    this.bytes = 0;
    return new RecordRun(bodies, starts, ends, offsets, source, stream, streamId, observedMs, ack, attributes);
  }

  private grow(): void {
    const cap = this.starts.length * 2;
    const s = new Uint32Array(cap); s.set(this.starts); this.starts = s;
    const e = new Uint32Array(cap); e.set(this.ends); this.ends = e;
    const o = new Float64Array(cap); o.set(this.offsets); this.offsets = o;
  }
}
