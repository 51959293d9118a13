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
}

/**
 * Ordered completion tracker for one stream: chunks complete out of order
 * (parallel sends) but the committed position only advances over the longest
 * prefix of completed chunks.
 */
export class OrderedAcks {
  private readonly ends: number[] = [];
  private readonly done = new Set<number>();
  private head = 0;
  committed: number;
  constructor(start: number) { this.committed = start; }
  /** Register a chunk ending at `end` (must be increasing). */
  push(end: number): void { this.ends.push(end); }
  /** Mark the chunk ending at `end` complete; returns true when `committed` moved. */
  complete(end: number): boolean {
    this.done.add(end);
    let moved = false;
    while (this.head < this.ends.length && this.done.has(this.ends[this.head]!)) {
      const e = this.ends[this.head++]!;
      this.done.delete(e);
      this.committed = e;
      moved = true;
    }
    if (this.head > 1024) { this.ends.splice(0, this.head); this.head = 0; }
    return moved;
  }
  get inFlight(): number { return this.ends.length - this.head; }
}
