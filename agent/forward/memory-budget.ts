// Admission before expansion: one memory budget for everything network
// sources hold in this process. A batch is charged by what it will cost once
// expanded (its declared uncompressed size, see BATCH raw_length) *before* it
// is decompressed, and the charge is returned when the batch is done
// downstream (acknowledged by Kafka, dropped or dead-lettered). A connection
// whose batch does not fit waits with its socket paused: TCP flow control
// stops the sender, nothing is allocated, nothing is ACKed. Waiters are served
// in arrival order so one busy connection cannot starve the others.

export class MemoryBudget {
  readonly limit: number;
  private used = 0;
  private readonly waiters: Array<{ bytes: number; grant: () => void }> = [];

  constructor(limit: number) { this.limit = limit; }

  get inUse(): number { return this.used; }
  get waiting(): number { return this.waiters.length; }

  /** True when `bytes` could ever be granted (a charge above the whole budget never can). */
  fits(bytes: number): boolean { return bytes <= this.limit; }

  /** Resolves once `bytes` are charged. The caller must release() them exactly once. */
  acquire(bytes: number): Promise<void> | null {
    if (this.waiters.length === 0 && this.used + bytes <= this.limit) {
      this.used += bytes;
      return null;
    }
    return new Promise<void>((grant) => { this.waiters.push({ bytes, grant }); });
  }

  release(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
    this.wake();
  }

  private wake(): void {
    while (this.waiters.length > 0 && this.used + this.waiters[0]!.bytes <= this.limit) {
      const w = this.waiters.shift()!;
      this.used += w.bytes;
      w.grant();
    }
  }
}

// One per process, shared by every network source: the relay's memory bound is global,
// not per connection or per component. The first source to start sets the limit.
let shared: MemoryBudget | null = null;

export function sharedBudget(limitBytes: number): MemoryBudget {
  shared ??= new MemoryBudget(limitBytes);
  return shared;
}

/**
 * What one batch is charged: the compressed frame it holds, plus three times its expanded
 * size: gzip/zstd inflate into a list of chunks and concatenate them (two copies at the
 * peak), and the decoded records (objects, attribute maps) cost about as much again.
 * Over-charging only makes the relay apply backpressure earlier; under-charging would let
 * memory exceed the budget.
 */
export function batchCharge(payloadBytes: number, rawLength: number): number {
  return payloadBytes + 3 * rawLength;
}
