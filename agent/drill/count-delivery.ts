// How the drill decides that a line was lost, and what it waits for first.
//
// Why this is its own module: one full-suite run reported `--fault blackhole`
// losing 40 records (one writer tick, 2000 lines/s x 20 ms). The cause was the
// drill, not the agent: before stopping the agent it waited for the file
// source's `edgelog_file_checkpoint_lag_bytes` to reach 0, but that gauge is
// "size the tailer knows minus acknowledged offset". The writer runs in the
// drill's own process; its last chunk was written moments before the check and
// the tailer had not yet been woken (inotify is delivered through the event
// loop, late on a loaded host), so the gauge read 0 with the last chunk unread.
// The agent was stopped, the chunk stayed in the file for a next start that a
// drill never makes, and the read-back counted it lost.
//
// So the drill now (1) waits until the acknowledged bytes reach the file's real
// size (stat, not the tailer's idea of it), (2) reads both regions back until
// every written sequence number is seen or a deadline passes (a request
// abandoned on a hung region can land there after the first read), and
// (3) says of each missing line whether a cluster had acknowledged it: an
// acknowledged line that is not in either region is a real loss, an
// unacknowledged one means the agent had not delivered it when it was stopped.

import { statSync } from 'node:fs';

export const SEQ_WIDTH = 9;
/** Every `drill-seq=NNNNNNNNN` token in a message (bodies are plain strings in the encoded value). */
export const seqPattern = (): RegExp => new RegExp(`drill-seq=(\\d{${SEQ_WIDTH}})`, 'g');

export function seqsIn(value: Buffer, each: (seq: number) => void): void {
  for (const x of value.toString('latin1').matchAll(seqPattern())) each(Number(x[1]));
}

/** Sum of every series of one metric in the Prometheus text format. */
export function sumMetric(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export interface AckedFile {
  /** The file's size on disk when last checked. */
  size: number;
  /** Bytes of it the agent acknowledged (delivered and checkpointable). */
  acked: number;
  ok: boolean;
}

/**
 * Wait until the agent acknowledged every byte of `file` (which it read from
 * offset 0), comparing against the size on disk: the tailer's own lag gauge
 * reads 0 while a write it has not been woken for is still unread.
 */
export async function waitForFileAcknowledged(metrics: () => Promise<string>, file: string, deadlineMs: number): Promise<AckedFile> {
  for (;;) {
    const size = statSync(file).size;
    const acked = sumMetric(await metrics(), 'edgelog_file_acked_bytes_total');
    if (acked >= size) return { size, acked, ok: true };
    if (Date.now() >= deadlineMs) return { size, acked, ok: false };
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface DeliveryCount {
  delivered_unique: number;
  lost: number;
  /** Missing from both regions although a cluster acknowledged them: a real loss. */
  lost_acknowledged: number;
  /** Missing and never acknowledged: the agent still held them when it stopped. */
  lost_unacknowledged: number;
  duplicates: number;
  /** Missing sequence ranges (at most 20), to place a loss on the timeline. */
  lost_ranges: Array<[number, number]>;
  /** The first missing sequence numbers (at most 50). */
  missing_ids: number[];
}

/**
 * Count sequence numbers 0..written-1 against what was read back (`seen`:
 * seq -> copies) and what the sink reported acknowledged (`acked`).
 */
export function countDelivery(written: number, seen: ReadonlyMap<number, number>, acked: ReadonlySet<number>): DeliveryCount {
  const c: DeliveryCount = { delivered_unique: 0, lost: 0, lost_acknowledged: 0, lost_unacknowledged: 0, duplicates: 0, lost_ranges: [], missing_ids: [] };
  for (let i = 0; i < written; i++) {
    const n = seen.get(i) ?? 0;
    if (n > 0) { c.delivered_unique++; c.duplicates += n - 1; continue; }
    c.lost++;
    if (acked.has(i)) c.lost_acknowledged++; else c.lost_unacknowledged++;
    if (c.missing_ids.length < 50) c.missing_ids.push(i);
    const last = c.lost_ranges.at(-1);
    if (last && last[1] === i - 1) last[1] = i; else if (c.lost_ranges.length < 20) c.lost_ranges.push([i, i]);
  }
  return c;
}

/**
 * Read every region back until all `written` sequence numbers are seen or the
 * deadline passes; each pass reads each region from the beginning up to its
 * current end. Returns the copies seen per sequence number and the passes made.
 */
export async function readBackUntilComplete(
  read: () => Promise<Buffer[]>, written: number, deadlineMs: number,
): Promise<{ seen: Map<number, number>; passes: number }> {
  let passes = 0;
  for (;;) {
    passes++;
    const seen = new Map<number, number>();
    for (const v of await read()) seqsIn(v, (n) => { seen.set(n, (seen.get(n) ?? 0) + 1); });
    let complete = true;
    for (let i = 0; i < written; i++) if (!seen.has(i)) { complete = false; break; }
    if (complete || Date.now() >= deadlineMs) return { seen, passes };
    await new Promise((r) => setTimeout(r, 1000));
  }
}
