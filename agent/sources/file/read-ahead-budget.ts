// How many of a source's files may hold a second read buffer at once.
//
// A file read at speed (each read fills read_chunk_bytes) reads its next
// chunk while the current one is framed and shipped (tailer.ts, readChunk),
// into a second buffer of read_chunk_bytes. Unbounded, a catch-up over many
// backlogged files would hold one such buffer per open file (max_open_files
// 512 x 128 KiB = 64 MB) while they all wait for room in the pipeline
// buffer. The gain comes from overlapping reads with the work on the
// chunks of one thread, so a few files at a time get it: the others read
// without, as before.

/** Second read buffers a source's files may hold at once. */
export const READ_AHEAD_SLOTS = 4;

export class ReadAheadBudget {
  private free: number;
  constructor(slots = READ_AHEAD_SLOTS) { this.free = slots; }
  /** A slot, or false when all are held. */
  take(): boolean {
    if (this.free === 0) return false;
    this.free--;
    return true;
  }
  give(): void { this.free++; }
  get available(): number { return this.free; }
}
