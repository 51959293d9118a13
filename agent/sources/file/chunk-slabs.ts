// Where the framer's chunk copies live: regions of 1 MiB slabs that are used
// again once every chunk in them was acknowledged, instead of one fresh
// ArrayBuffer per 64 KiB chunk.
//
// Why: every ArrayBuffer counts as V8 external memory, and V8 runs a full
// mark-compact each time external memory grew 64 MB since the last one. With
// no per-record objects left on the columnar lane, scavenges became rare and
// chunk copies (as many bytes as the file) reached old space, so the agent
// ran a mark-compact about every 70 ms at saturation (json-200b, --trace-gc:
// 38 mark-compacts against 7 scavenges per million lines). Reused slabs
// allocate nothing while the input keeps flowing.
//
// A region is released when the chunk's AckGroup completes (tailer.ts: every
// record delivered, dropped or dead-lettered); nothing reads a chunk's bytes
// after that. A slab goes back to the free list when its last region is
// released and it is no longer the one being filled. Large copies (a chunk
// joined with a long carried line) bypass the slabs.

const SLAB_BYTES = 1 << 20;
/**
 * Free slabs kept for reuse; more are left to the GC. Enough for every slab
 * the default pipeline buffer (8 MiB) can hold in flight, so that while input
 * flows no slab is dropped and none allocated: with 4 kept, each dip in the
 * amount in flight dropped slabs that had reached old space, and each rise
 * allocated new ones (json-200b: 26 slabs per 6M lines). That growth counts
 * toward V8's old-generation limit until a mark-compact, and brought one on
 * every second or so. The idle trim hands the free slabs back when quiet.
 */
const MAX_FREE = 16;

export class ChunkSlab {
  readonly buf: Buffer;
  pos = 0;
  /** Regions handed out and not released. */
  out = 0;
  constructor(bytes: number) { this.buf = Buffer.allocUnsafeSlow(bytes); }
}

export class ChunkSlabs {
  private cur: ChunkSlab | null = null;
  private readonly free: ChunkSlab[] = [];
  private taken: ChunkSlab | null = null;
  private readonly slabBytes: number;

  constructor(slabBytes = SLAB_BYTES) { this.slabBytes = slabBytes; }

  /** `n` bytes for one chunk copy (contents undefined). */
  take(n: number): Buffer {
    if (n > this.slabBytes >> 2) { this.taken = null; return Buffer.allocUnsafe(n); }
    let s = this.cur;
    if (s === null || s.pos + n > s.buf.length) {
      if (s !== null && s.out === 0) this.keep(s);
      s = this.free.pop() ?? new ChunkSlab(this.slabBytes);
      s.pos = 0;
      this.cur = s;
    }
    const b = s.buf.subarray(s.pos, s.pos + n);
    s.pos = (s.pos + n + 7) & ~7;
    s.out++;
    this.taken = s;
    return b;
  }

  /** The slab of the last take() not leased yet (the chunk being shipped), or null. */
  lease(): ChunkSlab | null {
    const s = this.taken;
    this.taken = null;
    return s;
  }

  /** The chunk leased from `s` was acknowledged: its region may be written again. */
  release(s: ChunkSlab): void {
    s.out--;
    if (s.out === 0 && s !== this.cur) this.keep(s);
  }

  /** Forgets the free slabs, and the one being filled when no region of it is out (the GC frees them). */
  trim(): void {
    this.free.length = 0;
    if (this.cur !== null && this.cur.out === 0) { this.cur = null; this.taken = null; }
  }

  /** Slabs kept free for reuse (tests). */
  get stats(): { free: number } { return { free: this.free.length }; }

  private keep(s: ChunkSlab): void {
    if (this.free.length < MAX_FREE && !this.free.includes(s)) this.free.push(s);
  }
}
