// Records that can never be delivered (larger than the destination accepts,
// refused by the broker as invalid, invalid per a validate transform) go to a
// JSON-lines file under the data dir instead of being retried forever or
// dropped silently. Each line names the error code (`reason`) and the
// destination's own words (`detail`), so an operator can tell why.

import { appendFile, mkdir } from 'node:fs/promises';
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
    let text = '';
    for (const r of records) {
      text += JSON.stringify({
        reason, detail, stream: r.stream, stream_id: r.streamId, offset: r.offset, observed_ms: r.observedMs,
        body_b64: r.body.toString('base64'), bytes: r.body.length,
      }) + '\n';
    }
    await appendFile(this.path, text);
  }
}

/** The `reason` label of edgelog_records_discarded_total for a dead-lettered record's error code. */
export function discardReason(code: string): string {
  return code === 'EDGELOG_RECORD_TOO_LARGE' ? 'too_large' : code === 'EDGELOG_RECORD_INVALID' ? 'invalid' : 'rejected';
}
