// Reusable output buffers for otlp_proto messages.
//
// A message's value lives from encoding until the sink's acknowledgement:
// with a request encoded while the previous one is on the wire, that spans
// a couple of Kafka round trips, long enough for V8 to promote the Buffer to
// the old generation, where its memory is freed only by a full collection.
// At saturation these values were the largest promoted garbage of the file ->
// Kafka path (bench/results/memory/README.md). Handing them back after the
// acknowledgement (Pipeline, only when the sink says it keeps no reference
// once a send resolved) and writing the next message into the same slab
// keeps that memory flat instead.
//
// Bounded: slabs of `slabBytes` for values from `minBytes` up to that size
// (smaller ones come from Node's own pool, larger ones are allocated
// exactly), at most `maxOut` slabs handed out at once (beyond that, exact
// allocations) and `maxFree` kept, by default as many as can be out: a slab
// dropped when fewer values are in flight, and a new one made when more are,
// is external memory V8 counts toward its old-generation limit until the next
// mark-compact (json-200b with 4 kept: 37 new slabs per 6M lines and a
// mark-compact every 1-2 s; with all kept, 8 and none after startup in most
// runs). The idle trim hands free slabs back when the agent is quiet. A slab
// is given back at most once: only a value this pool handed out and not yet
// got back is taken.

export class ValuePool {
  private readonly free: ArrayBuffer[] = [];
  /** Slabs handed out and not given back yet. */
  private readonly out = new Set<ArrayBuffer>();

  readonly slabBytes: number;
  readonly minBytes: number;
  readonly maxOut: number;
  readonly maxFree: number;

  constructor(o: { slabBytes?: number; minBytes?: number; maxOut?: number; maxFree?: number } = {}) {
    this.slabBytes = o.slabBytes ?? 1024 * 1024;
    this.minBytes = o.minBytes ?? 64 * 1024;
    this.maxOut = o.maxOut ?? 16;
    this.maxFree = o.maxFree ?? this.maxOut;
  }

  /** A Buffer of exactly `size` bytes, its content undefined (as Buffer.allocUnsafe). */
  take(size: number): Buffer {
    if (size < this.minBytes || size > this.slabBytes || this.out.size >= this.maxOut) return Buffer.allocUnsafe(size);
    const slab = this.free.pop() ?? new ArrayBuffer(this.slabBytes);
    this.out.add(slab);
    return Buffer.from(slab, 0, size);
  }

  /** The value is no longer referenced by anyone: its slab may be written again. Values not from this pool are ignored. */
  give(value: Buffer): void {
    const slab = value.buffer as ArrayBuffer;
    if (value.byteOffset !== 0 || !this.out.delete(slab)) return;
    if (this.free.length < this.maxFree) this.free.push(slab);
  }

  /** Forgets the free slabs (the GC frees them); slabs out come back as usual. */
  trim(): void { this.free.length = 0; }

  /** Slabs handed out and kept (tests, metrics). */
  get stats(): { out: number; free: number } { return { out: this.out.size, free: this.free.length }; }
}
