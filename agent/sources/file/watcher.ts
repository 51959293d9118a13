// inotify (fs.watch) on directories: the fast path that wakes tailers the
// moment a file grows, appears, is renamed or deleted. It is only a hint:
// events can be lost (queue overflow, NFS, bind mounts, ENOSPC on watches),
// so every tailer also stats on a timer and the globs are re-run periodically.
// Watching directories rather than files keeps one watch per directory and
// sees creates and renames of names that do not exist yet.

import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';

export type DirEvent = (dir: string, event: string, filename: string | null) => void;

export class DirWatchSet {
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly onEvent: DirEvent;
  /** Directories whose watch failed (missing, no permission, out of watches): counted, retried on the next sync. */
  failures = 0;

  constructor(onEvent: DirEvent) {
    this.onEvent = onEvent;
  }

  /** Make the watched set exactly `dirs`. */
  sync(dirs: Set<string>): void {
    for (const [dir, w] of this.watchers) {
      if (!dirs.has(dir)) { w.close(); this.watchers.delete(dir); }
    }
    for (const dir of dirs) {
      if (this.watchers.has(dir)) continue;
      try {
        // persistent: false — the watch alone must never keep the process alive.
        const w = watch(dir, { persistent: false }, (event, filename) => this.onEvent(dir, event, filename ?? null));
        w.on('error', () => {
          // Directory removed or watch revoked: drop it; the next sync re-adds it if it comes back.
          w.close();
          if (this.watchers.get(dir) === w) this.watchers.delete(dir);
        });
        this.watchers.set(dir, w);
      } catch {
        this.failures++;
      }
    }
  }

  get size(): number { return this.watchers.size; }

  close(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}
