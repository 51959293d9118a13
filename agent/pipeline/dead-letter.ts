// Records that can never be delivered (larger than the destination accepts,
// refused by the broker as invalid, invalid per a validate transform) go to a
// JSON-lines file under the data dir instead of being retried forever or
// dropped silently. Each line names the error code (`reason`) and the
// destination's own words (`detail`), so an operator can tell why.

import { appendFile, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { LogRecord } from '../core/record.ts';

export class DeadLetterFile {
  readonly path: string;
  private ready: Promise<unknown> | null = null;
  constructor(path: string) { this.path = path; }

  async write(records: LogRecord[], reason: string, detail = ''): Promise<void> {
    // A failed mkdir is not kept: once the disk or permission problem is fixed, dead letters are written again.
    this.ready ??= mkdir(dirname(this.path), { recursive: true }).catch((e: unknown) => { this.ready = null; throw e; });
    await this.ready;
    if (records.some((r) => r.body.length > STREAM_ABOVE)) { await this.writeStreamed(records, reason, detail); return; }
    let text = '';
    for (const r of records) {
      text += JSON.stringify({
        reason, detail, stream: r.stream, stream_id: r.streamId, offset: r.offset, observed_ms: r.observedMs,
        body_b64: r.body.toString('base64'), bytes: r.body.length,
      }) + '\n';
    }
    await appendFile(this.path, text);
  }

  /**
   * A batch with a large body (a relay's 30 MiB record is too large for Kafka and lands here):
   * one line at a time, the body's base64 in 3 MiB slices, so writing it holds ~4 MiB more
   * instead of ~5x the body as one string (base64, the JSON text, its UTF-8 copy). Without this,
   * 64 single-record 30 MiB bombs took a relay to 758 MiB VmHWM while they were dead-lettered, 495 MiB with slices.
   * Lines stay whole within this process (one write chain); another thread appending to the same
   * file at the same moment could interleave with a streamed line.
   */
  private async writeStreamed(records: LogRecord[], reason: string, detail: string): Promise<void> {
    const fh = await open(this.path, 'a');
    try {
      for (const r of records) {
        const head = JSON.stringify({
          reason, detail, stream: r.stream, stream_id: r.streamId, offset: r.offset, observed_ms: r.observedMs, bytes: r.body.length,
        });
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

/** The `reason` label of edgelog_records_discarded_total for a dead-lettered record's error code. */
export function discardReason(code: string): string {
  return code === 'EDGELOG_RECORD_TOO_LARGE' ? 'too_large' : code === 'EDGELOG_RECORD_INVALID' ? 'invalid' : 'rejected';
}
