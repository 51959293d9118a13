// Read regions lent to records: the tailer reads a chunk straight into a
// region, the chunk's complete lines are views of it (no copy), and the region
// comes back here when the chunk's AckGroup is done, i.e. when every record
// of the chunk was acknowledged, dead-lettered or dropped.
//
// Why: a fresh 64 KiB buffer per chunk lives as long as its records (through
// the Kafka round trip), so its wrapper is promoted to V8's old space and its
// memory is freed only at the next full GC. At saturation that kept 40-67 MB
// of dead chunks counted as live array buffers (bench/results/quiet-base,
// "memory at peak RSS"), and it cost a 64 KiB copy per chunk.
//
// Only safe when nothing reads a body after its record is settled: the
// pipeline says so (Downstream.bodiesReleasedOnSettle: no processors, in-thread
// encoding, a sink that keeps no value after send). Otherwise the tailer keeps
// its copying path.

export class ReadRegions {
  readonly size: number;
  private readonly keep: number;
  private readonly free: Buffer[] = [];
  /** Regions handed out and not yet given back (for tests and /metrics). */
  lent = 0;

  /** `keep`: free regions held for reuse; more than that go to the GC. */
  constructor(size: number, keep: number) {
    this.size = size;
    this.keep = keep;
  }

  take(): Buffer {
    this.lent++;
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  give(region: Buffer): void {
    this.lent--;
    if (this.free.length < this.keep && region.length === this.size) this.free.push(region);
  }

  /** Free regions now held. */
  get held(): number { return this.free.length; }
}
