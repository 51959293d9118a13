// Shared fixtures for the file source tests: temp dirs, a context, a
// collecting Downstream that acknowledges records (at once, held, delayed or
// out of order), and polling with a deadline instead of fixed sleeps.

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from '../../../agent/observe/prometheus.ts';
import type { ComponentContext, Downstream } from '../../../agent/core/component.ts';
import type { LogRecord } from '../../../agent/core/record.ts';
import { silentLogger } from '../../../agent/observe/log.ts';
import { FileSource } from '../../../agent/sources/file/source.ts';
import { removeDir } from '../../helpers/cleanup.ts';
import { fileSource } from '../../../agent/sources/file/index.ts';
import type { FileSourceConfig } from '../../../agent/sources/file/config.ts';

interface HasAfter { after(fn: () => unknown): void }
const tracked = new WeakMap<HasAfter, { dir: string; sources: FileSource[] }>();

/** A temp dir removed after the test, after every source made with makeSource(..., t) was stopped and drained. */
export async function tempDir(t: HasAfter): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'edgelog-file-'));
  const entry = { dir, sources: [] as FileSource[] };
  tracked.set(t, entry);
  t.after(async () => {
    try {
      for (const s of entry.sources) {
        await s.stop();
        await s.drain(0); // also ends the checkpoint timer, which would otherwise write into the removed dir
      }
    } finally {
      await removeDir(dir);
    }
  });
  return dir;
}

export function makeCtx(dataDir: string, id = 'files'): ComponentContext {
  return { id, log: silentLogger, metrics: new Registry(), dataDir, agentId: 'test-agent', host: 'test-host', service: 'test', site: 'lab' };
}

/** Config for tests: fast timers, everything else default unless overridden. */
export function testConfig(raw: Record<string, unknown>): FileSourceConfig {
  return fileSource.validate({
    glob_interval: '50ms', idle_flush: '200ms', rotate_wait: '300ms', checkpoint_interval: '50ms', ...raw,
  }, 'sources.files');
}

export function makeSource(cfg: FileSourceConfig, ctx: ComponentContext, t?: HasAfter): FileSource {
  const src = fileSource.create(cfg, ctx) as FileSource;
  if (t) {
    const entry = tracked.get(t);
    if (!entry) throw new Error('call tempDir(t) before makeSource(..., t)');
    entry.sources.push(src);
  }
  return src;
}

export type AckMode = 'immediate' | 'hold' | 'reverse';

/** Collects records; acks according to `mode` ('hold': call ackAll/ackWhere later; 'reverse': acks each batch only after the next one arrived, newest first). */
export class Collector implements Downstream {
  readonly records: LogRecord[] = [];
  readonly held: LogRecord[] = [];
  mode: AckMode;
  private last: LogRecord[] | null = null;
  constructor(mode: AckMode = 'immediate') { this.mode = mode; }

  async push(batch: LogRecord[]): Promise<void> {
    // A body is only valid until its record is settled (the file source reuses chunk memory): keep a copy.
    for (const r of batch) this.records.push({ ...r, body: Buffer.from(r.body) });
    if (this.mode === 'immediate') { for (const r of batch) r.ack.settle(1); return; }
    if (this.mode === 'hold') { for (const r of batch) this.held.push(r); return; }
    // reverse: settle this batch first, then the previous one (out-of-order completion)
    const prev = this.last;
    this.last = batch;
    if (prev) {
      queueMicrotask(() => {
        for (const r of batch) r.ack.settle(1);
        for (const r of prev) r.ack.settle(1);
        if (this.last === batch) this.last = null;
      });
    }
  }

  /** Settle the last pending batch of 'reverse' mode. */
  flushReverse(): void {
    const b = this.last;
    this.last = null;
    if (b) for (const r of b) r.ack.settle(1);
  }

  ackWhere(pred: (r: LogRecord) => boolean): number {
    let n = 0;
    for (let i = 0; i < this.held.length;) {
      const r = this.held[i]!;
      if (pred(r)) { r.ack.settle(1); this.held.splice(i, 1); n++; } else i++;
    }
    return n;
  }

  ackAll(): number { return this.ackWhere(() => true); }

  bodies(stream?: string): string[] {
    return this.records.filter((r) => stream === undefined || r.stream === stream).map((r) => r.body.toString('latin1'));
  }
}

export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Split exactly as the source must: on \r?\n, the final empty piece dropped. */
export function expectedLines(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let s = 0;
  for (;;) {
    const nl = data.indexOf(0x0a, s);
    if (nl < 0) break;
    let e = nl;
    if (e > s && data[e - 1] === 0x0d) e--;
    out.push(data.subarray(s, e));
    s = nl + 1;
  }
  if (s < data.length) out.push(data.subarray(s));
  return out;
}
