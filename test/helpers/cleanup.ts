// Order-safe test cleanup. node:test runs a test's `after` hooks in the order
// they were registered, and once one throws the later ones are skipped. A
// temp dir is made first, so its removal ran first, before the component
// writing into it was stopped (ENOTEMPTY), and the throw then skipped the
// hook that killed the child process or stopped the source, which held the
// test process open forever. Here every step of a test goes on one stack run
// by one hook: last registered first (a component stops before the dir it
// writes into goes), each step under a deadline, every step run even when
// one before it failed, and the failures reported together at the end.

import { rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';

interface HasAfter { after(fn: () => unknown): void }
interface Step { what: string; fn: () => unknown; timeoutMs: number }

const stacks = new WeakMap<object, Step[]>();

/** Runs `fn` when the test ends, before every step deferred earlier; at most `timeoutMs`, then the next step runs anyway. */
export function defer(t: HasAfter, what: string, fn: () => unknown, timeoutMs = 30_000): void {
  let steps = stacks.get(t);
  if (!steps) {
    const s: Step[] = [];
    steps = s;
    stacks.set(t, s);
    t.after(async () => {
      const failures: string[] = [];
      while (s.length > 0) {
        const step = s.pop()!;
        try {
          await withDeadline(step);
        } catch (err) {
          failures.push(`${step.what}: ${(err as Error)?.message ?? String(err)}`);
        }
      }
      if (failures.length > 0) throw new Error(`cleanup failed (every step still ran):\n  ${failures.join('\n  ')}`);
    });
  }
  steps.push({ what, fn, timeoutMs });
}

async function withDeadline(step: Step): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running after ${step.timeoutMs} ms; went on without it`)), step.timeoutMs);
    timer.unref();
  });
  try {
    await Promise.race([Promise.resolve().then(step.fn), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

const leftovers = new Set<string>();
let exitHook = false;

/**
 * Removes a directory; if something still writes into it or a mount sits in
 * it, tries again at process exit instead of failing the test's cleanup
 * (by then every child and component of the file is gone).
 */
export async function removeDir(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 });
  } catch {
    leftovers.add(dir);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => { for (const d of leftovers) { try { rmSync(d, { recursive: true, force: true }); } catch { /* left for the OS's tmp cleaning */ } } });
    }
  }
}
