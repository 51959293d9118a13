// Records that can never be delivered (larger than the destination accepts,
// refused by the broker as invalid, invalid per a validate transform) go to a
// JSON-lines file under the data dir instead of being retried forever or
// dropped silently. Each line names the error code (`reason`) and the
// destination's own words (`detail`), so an operator can tell why.
//
// Bounded on disk (`agent.dead_letter_max_bytes` per sink): the file is
// rotated to `<file>.1` at half the cap (the previous `.1`, the oldest dead
// letters, is deleted, logged and counted), and a record whose line alone
// would pass half the cap is written without its body (its size and SHA-256
// kept, `body_omitted` says why). Without the cap an authenticated sender's
// 30 MiB single-record bombs wrote ~40 MiB of dead letter each until the disk
// filled. Several writers may share one file (the pipeline, its worker
// threads, a validate transform): each reads the file's size before writing,
// so the cap holds to within one batch per writer. node:crypto (for the
// omitted body's digest) comes through process.getBuiltinModule when needed.

import { appendFile, mkdir, open, rename, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ComponentContext } from '../core/component.ts';
import type { LogRecord } from '../core/record.ts';
import { counter } from '../observe/metrics.ts';

/** Per sink; the two files together stay under it. */
export const DEAD_LETTER_MAX_BYTES_DEFAULT = 256 * 1024 * 1024;

export interface DeadLetterLoss {
  /** The previous `.1` file was deleted to make room (its size in bytes). */
  readonly rotatedOutBytes?: number;
  /** Records written without their body because the line alone would pass half the cap. */
  readonly bodiesOmitted?: number;
}

export class DeadLetterFile {
  readonly path: string;
  readonly maxBytes: number;
  private readonly onLoss: (loss: DeadLetterLoss) => void;
  private ready: Promise<unknown> | null = null;
  constructor(path: string, maxBytes = DEAD_LETTER_MAX_BYTES_DEFAULT, onLoss: (loss: DeadLetterLoss) => void = () => {}) {
    this.path = path;
    this.maxBytes = maxBytes;
    this.onLoss = onLoss;
  }

  async write(records: LogRecord[], reason: string, detail = ''): Promise<void> {
    // A failed mkdir is not kept: once the disk or permission problem is fixed, dead letters are written again.
    this.ready ??= mkdir(dirname(this.path), { recursive: true }).catch((e: unknown) => { this.ready = null; throw e; });
    await this.ready;
    const half = Math.floor(this.maxBytes / 2);
    const lineBytes = (r: LogRecord): number => deadLetterLineBytes(r, detail);
    let omitted = 0;
    let total = 0;
    for (const r of records) {
      const n = lineBytes(r);
      if (n > half) omitted++;
      else total += n;
    }
    await this.makeRoom(total, half);
    if (omitted > 0) this.onLoss({ bodiesOmitted: omitted });
    if (records.some((r) => r.body.length > STREAM_ABOVE)) { await this.writeStreamed(records, reason, detail, half); return; }
    let text = '';
    for (const r of records) {
      const keep = lineBytes(r) <= half;
      text += JSON.stringify({
        reason, detail, stream: r.stream, stream_id: r.streamId, offset: r.offset, observed_ms: r.observedMs,
        ...(keep ? { body_b64: r.body.toString('base64') } : omittedBody(r.body)), bytes: r.body.length,
      }) + '\n';
    }
    await appendFile(this.path, text);
  }

  /** Rotates the file when `adding` more bytes would pass `half`. */
  private async makeRoom(adding: number, half: number): Promise<void> {
    const size = await stat(this.path).then((s) => s.size, () => 0);
    if (size === 0 || size + adding <= half) return;
    const old = await stat(this.path + '.1').then((s) => s.size, () => 0);
    await rename(this.path, this.path + '.1');
    this.onLoss({ rotatedOutBytes: old });
  }

  /**
   * A batch with a large body (a relay's 30 MiB record is too large for Kafka and lands here):
   * one line at a time, the body's base64 in 3 MiB slices, so writing it holds ~4 MiB more
   * instead of ~5x the body as one string (base64, the JSON text, its UTF-8 copy). Without this,
   * 64 single-record 30 MiB bombs took a relay to 758 MiB VmHWM while they were dead-lettered, 495 MiB with slices.
   * Lines stay whole within this process (one write chain); another thread appending to the same
   * file at the same moment could interleave with a streamed line.
   */
  private async writeStreamed(records: LogRecord[], reason: string, detail: string, half: number): Promise<void> {
    const fh = await open(this.path, 'a');
    try {
      for (const r of records) {
        const keep = deadLetterLineBytes(r, detail) <= half;
        const head = JSON.stringify({
          reason, detail, stream: r.stream, stream_id: r.streamId, offset: r.offset, observed_ms: r.observedMs, bytes: r.body.length,
          ...(keep ? {} : omittedBody(r.body)),
        });
        if (!keep) { await fh.write(head + '\n'); continue; }
        await fh.write(`${head.slice(0, -1)},"body_b64":"`);
        for (let at = 0; at < r.body.length; at += SLICE) await fh.write(r.body.subarray(at, at + SLICE).toString('base64'));
        await fh.write('"}\n');
      }
    } finally {
      await fh.close();
    }
  }
}

// Bodies above this are written in slices (1 MiB: the Kafka sink's default message limit, so only
// records no destination took anyway); a multiple of 3 keeps each slice's base64 free of padding.
const STREAM_ABOVE = 1024 * 1024;
const SLICE = 3 * 1024 * 1024;

/** A record's dead-letter line, at most: its header (< 1 KiB plus the detail) and the body's base64. */
function deadLetterLineBytes(r: LogRecord, detail: string): number {
  return 1024 + Buffer.byteLength(detail) + Math.ceil(r.body.length / 3) * 4;
}

/** In place of a body too large for the cap: enough to recognise it (its size is the line's `bytes`). */
function omittedBody(body: Buffer): { body_omitted: string; body_sha256: string } {
  return { body_omitted: 'larger than half of agent.dead_letter_max_bytes', body_sha256: (process.getBuiltinModule('node:crypto') as typeof import('node:crypto')).createHash('sha256').update(body).digest('hex') };
}

/**
 * The dead-letter file (by default `<data_dir>/dead-letter/<name>.jsonl`) for a component, capped by the
 * context's `deadLetterMaxBytes`, its losses logged and counted on the context's registry.
 */
export function deadLetterFor(ctx: ComponentContext, name: string, path = join(ctx.dataDir, 'dead-letter', `${name}.jsonl`)): DeadLetterFile {
  const rotated = counter(ctx.metrics, 'edgelog_dead_letter_rotations_total',
    'Dead-letter files rotated at half of agent.dead_letter_max_bytes; the oldest dead letters were deleted', ['file']);
  const omitted = counter(ctx.metrics, 'edgelog_dead_letter_bodies_omitted_total',
    'Dead-lettered records written without their body (the line alone would pass half of agent.dead_letter_max_bytes)', ['file']);
  return new DeadLetterFile(path, ctx.deadLetterMaxBytes, (loss) => {
    if (loss.rotatedOutBytes !== undefined) {
      rotated.inc({ file: name });
      ctx.log.warn('dead-letter file rotated: the oldest dead letters were deleted (agent.dead_letter_max_bytes)', { path, deleted_bytes: loss.rotatedOutBytes });
    }
    if (loss.bodiesOmitted) {
      omitted.inc({ file: name }, loss.bodiesOmitted);
      ctx.log.warn('dead-lettered records written without their body (agent.dead_letter_max_bytes)', { path, records: loss.bodiesOmitted });
    }
  });
}

/** The `reason` label of edgelog_records_discarded_total for a dead-lettered record's error code. */
export function discardReason(code: string): string {
  return code === 'EDGELOG_RECORD_TOO_LARGE' ? 'too_large' : code === 'EDGELOG_RECORD_INVALID' ? 'invalid' : 'rejected';
}
