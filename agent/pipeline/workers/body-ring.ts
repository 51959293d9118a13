// Bytes between the pipeline and a worker (record bodies one way, encoded
// messages the other) go through a SharedArrayBuffer ring
// instead of a fresh transferred Buffer per batch. A transferred buffer is
// external memory twice (allocated here, adopted there) and external memory
// is what drives V8's full GCs in this process (bench/results/results.md
// profile: 21 % of samples in the collector with a fresh buffer per batch).
// A region is written once by the main thread, read by one worker, and
// reused after every record in it was settled (delivered or dropped), so no
// stage can still look at it. Regions are released out of order; the tail
// moves over the released prefix. When the ring is full the caller falls
// back to a transferred Buffer: the ring is an optimisation, never a wait.

export interface RingRegion { readonly start: number; readonly end: number; released: boolean }

export class BodyRing {
  readonly sab: SharedArrayBuffer;
  readonly view: Buffer;
  private readonly size: number;
  private head = 0;
  private readonly live: RingRegion[] = [];
  private first = 0;

  /** A new ring of `size` bytes, or the writer's side of a ring another thread created. */
  constructor(size: number | SharedArrayBuffer) {
    this.sab = typeof size === 'number' ? new SharedArrayBuffer(size) : size;
    this.size = this.sab.byteLength;
    this.view = Buffer.from(this.sab);
  }

  /** A contiguous region of at least `bytes` bytes (8-aligned), or null when the ring has no room for it now. */
  alloc(bytes: number): RingRegion | null {
    // Regions start 8-aligned: they hold Float64Array columns.
    const n = (bytes + 7) & ~7;
    if (n === 0 || n > this.size) return null;
    let start: number;
    if (this.first === this.live.length) {
      // Empty: start over at 0 (keeps regions contiguous as long as possible).
      this.live.length = 0;
      this.first = 0;
      start = 0;
    } else {
      const tail = this.live[this.first]!.start;
      if (this.head >= tail) {
        if (this.head + n <= this.size) start = this.head;
        else if (n < tail) start = 0; // wrap; strictly below tail so head never equals tail while full
        else return null;
      } else if (this.head + n < tail) start = this.head;
      else return null;
    }
    const r: RingRegion = { start, end: start + n, released: false };
    this.live.push(r);
    this.head = r.end;
    return r;
  }

  release(r: RingRegion): void {
    r.released = true;
    while (this.first < this.live.length && this.live[this.first]!.released) this.first++;
    if (this.first > 1024 && this.first * 2 > this.live.length) { this.live.splice(0, this.first); this.first = 0; }
  }
}
