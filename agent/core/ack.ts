// Acknowledgement flows back from sinks to sources. A source hands out one
// AckGroup per chunk it reads (a group covers many records); every record of
// the group is settled exactly once: delivered, or deliberately dropped
// (filtered, sampled, dead-lettered). When the last one settles the source
// learns the chunk is done and may advance its checkpoint. This is the
// finalizer idea of Vector's BatchNotifier, kept to one counter per chunk so
// the hot path allocates nothing per record.

export type AckStatus = 'delivered' | 'dropped' | 'rejected';

export class AckGroup {
  pending = 0;
  /** Worst status seen: a 'rejected' record (dead-lettered) still lets the checkpoint move on. */
  status: AckStatus = 'delivered';
  private readonly onDone: (g: AckGroup) => void;
  /** Opaque position the source attaches (e.g. end offset of the chunk). */
  readonly token: number;
  sealed = false;
  constructor(token: number, onDone: (g: AckGroup) => void) {
    this.token = token;
    this.onDone = onDone;
  }
  /** Count records into the group while it is being filled. */
  add(n = 1): void { this.pending += n; }
  /** No more records will be added; fires at once if everything was already settled. */
  seal(): void {
    this.sealed = true;
    if (this.pending === 0) this.onDone(this);
  }
  settle(n = 1, status: AckStatus = 'delivered'): void {
    if (status === 'rejected' || (status === 'dropped' && this.status === 'delivered')) this.status = status;
    this.pending -= n;
    if (this.pending === 0 && this.sealed) this.onDone(this);
    else if (this.pending < 0) throw new Error('AckGroup settled more often than records were added');
  }
  /**
   * The (group, count) pairs that `n` records of this acknowledgement stand
   * for: this group itself for a plain one, its constituents for a composite.
   * A worker thread uses it to name the acknowledgements it must report back
   * without knowing which transform built a record.
   */
  eachPart(n: number, fn: (part: AckGroup, count: number) => void): void { fn(this, n); }
}

const noop = (): void => {};

/**
 * The acknowledgement of one record that stands for several counted records
 * (a joined multiline group, N lines shipped as one record). Settling it
 * settles every constituent with the same status; until then none is settled,
 * so a source's OrderedAcks cannot move past a group that is not delivered.
 * Consecutive constituents from one source chunk share an AckGroup and are
 * kept as one (group, count) pair, so a 200-line stack trace read in one chunk
 * costs one settle call.
 */
export class CompositeAck extends AckGroup {
  readonly parts: AckGroup[];
  readonly counts: number[];
  constructor(parts: AckGroup[], counts: number[]) {
    super(parts[0]!.token, noop);
    this.parts = parts;
    this.counts = counts;
    this.pending = 1;
    this.sealed = true;
  }
  override settle(n = 1, status: AckStatus = 'delivered'): void {
    if (this.pending - n < 0) throw new Error('CompositeAck settled more often than once');
    this.pending -= n;
    if (status === 'rejected' || (status === 'dropped' && this.status === 'delivered')) this.status = status;
    for (let i = 0; i < this.parts.length; i++) this.parts[i]!.settle(this.counts[i], status);
  }
  override eachPart(_n: number, fn: (part: AckGroup, count: number) => void): void {
    for (let i = 0; i < this.parts.length; i++) this.parts[i]!.eachPart(this.counts[i]!, fn);
  }
  /** Records this one stands for. */
  get lines(): number {
    let n = 0;
    for (let i = 0; i < this.counts.length; i++) n += this.counts[i]!;
    return n;
  }
}

/**
 * Ordered completion tracker for one stream: chunks complete out of order
 * (parallel sends) but the committed position only advances over the longest
 * prefix of completed chunks.
 */
export class OrderedAcks {
  // Chunk ends in push order and, beside each, whether it completed. Two
  // arrays rather than a Set of completed ends: a Set used as a queue
  // (add one, delete one) rebuilds its hash table every few operations, and
  // those tables were ~2 % of what the GC promoted at saturation (sampling
  // heap profile, json-200b).
  private readonly ends: number[] = [];
  private readonly done: boolean[] = [];
  private head = 0;
  committed: number;
  constructor(start: number) { this.committed = start; }
  /** Register a chunk ending at `end` (must be increasing). */
  push(end: number): void { this.ends.push(end); this.done.push(false); }
  /** Mark the chunk ending at `end` complete; returns true when `committed` moved. An end never pushed is ignored. */
  complete(end: number): boolean {
    const ends = this.ends;
    // Binary search over the chunks in flight (ends increase).
    let lo = this.head;
    let hi = ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ends[mid]! < end) lo = mid + 1; else hi = mid;
    }
    if (lo === ends.length || ends[lo] !== end) return false;
    this.done[lo] = true;
    let moved = false;
    while (this.head < ends.length && this.done[this.head]) {
      this.committed = ends[this.head++]!;
      moved = true;
    }
    if (this.head > 1024) {
      // Drop the settled prefix in place (splice would allocate an array of what it removes).
      ends.copyWithin(0, this.head);
      this.done.copyWithin(0, this.head);
      ends.length -= this.head;
      this.done.length -= this.head;
      this.head = 0;
    }
    return moved;
  }
  get inFlight(): number { return this.ends.length - this.head; }
}
