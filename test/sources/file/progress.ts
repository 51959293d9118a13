// Negative checks ("nothing more arrives", "the checkpoint stays") without a
// fixed sleep: wait until the source has provably done the work that would
// have produced the unwanted effect (full glob scans, checkpoint flushes),
// however slow the machine.

import type { FileSource } from '../../../agent/sources/file/source.ts';
import { waitFor } from './helpers.ts';

const scans = new WeakMap<FileSource, { done: number }>();
const flushes = new WeakMap<FileSource, { done: number }>();

function countScans(src: FileSource): { done: number } {
  const c = scans.get(src);
  if (c) return c;
  const counter = { done: 0 };
  const s = src as unknown as { scan: (startup: boolean) => Promise<void> };
  const scan = s.scan.bind(src);
  s.scan = async (startup: boolean) => { try { await scan(startup); } finally { counter.done++; } };
  scans.set(src, counter);
  return counter;
}

function countFlushes(src: FileSource): { done: number } {
  const c = flushes.get(src);
  if (c) return c;
  const counter = { done: 0 };
  const flush = src.store.flush.bind(src.store);
  src.store.flush = async () => { try { return await flush(); } finally { counter.done++; } };
  flushes.set(src, counter);
  return counter;
}

/** Resolves once `n` glob scans that started after this call have completed. */
export async function afterScans(src: FileSource, n = 3): Promise<void> {
  const c = countScans(src);
  const target = c.done + n + 1; // +1: a scan already running when called does not count
  await waitFor(() => c.done >= target, `${n} glob scans`);
}

/** Resolves once `n` checkpoint flushes that started after this call have completed. */
export async function afterCheckpointFlushes(src: FileSource, n = 2): Promise<void> {
  const c = countFlushes(src);
  const target = c.done + n + 1;
  await waitFor(() => c.done >= target, `${n} checkpoint flushes`);
}
