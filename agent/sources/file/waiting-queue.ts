// Files matched by the globs but not open because every handle of
// `max_open_files` is taken. A fair queue: a file joins at the back when it is
// first seen waiting and keeps its place across scans, so the file waiting
// longest gets the next free handle (a glob order that always lists the same
// 512 files first can no longer starve the rest). A file that leaves the
// queue (opened, deleted, excluded) and comes back later joins at the back.

export class WaitingQueue {
  /** path -> when it started waiting (ms). Map iteration order is insertion order: oldest first. */
  private readonly since = new Map<string, number>();
  /** Paths that were already there at startup (start_at applies to them). */
  private readonly atStartup = new Set<string>();

  get size(): number { return this.since.size; }

  has(path: string): boolean { return this.since.has(path); }

  /** Put `path` at the back unless it is already waiting. */
  join(path: string, nowMs: number, startup: boolean): void {
    if (this.since.has(path)) return;
    this.since.set(path, nowMs);
    if (startup) this.atStartup.add(path);
  }

  /** Take `path` out of the queue; returns whether it was found at startup. */
  leave(path: string): boolean {
    this.since.delete(path);
    return this.atStartup.delete(path);
  }

  /** The longest-waiting path, if any. */
  first(): string | undefined {
    for (const p of this.since.keys()) return p;
    return undefined;
  }

  /** Drop every waiting path not in `present` (deleted or no longer matched since it joined). */
  keepOnly(present: ReadonlySet<string>): void {
    for (const p of this.since.keys()) if (!present.has(p)) this.leave(p);
  }

  /** Waiting paths, longest-waiting first. */
  inOrder(): string[] { return [...this.since.keys()]; }

  /** How long the longest-waiting file has waited (0 when none waits). */
  oldestAgeMs(nowMs: number): number {
    for (const t of this.since.values()) return Math.max(0, nowMs - t);
    return 0;
  }
}
