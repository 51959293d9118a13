// Test rig shared by the end-of-stream tests of the sources: a real Pipeline
// with the java multiline preset (60 s timeout, so only an end of stream can
// release a held group early) and a sink that records what it was sent.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EncodedMessage, Encoder, Sink } from '../../agent/core/component.ts';
import { Pipeline } from '../../agent/pipeline/pipeline.ts';
import { deliveryDefaults } from '../../agent/pipeline/config.ts';
import { DeadLetterFile } from '../../agent/pipeline/dead-letter.ts';
import { PipelineEvents } from '../../agent/pipeline/events.ts';
import { createRegistry } from '../../agent/observe/metrics.ts';
import { silentLogger } from '../../agent/observe/log.ts';
import { multiline, Multiline } from '../../agent/transforms/multiline/multiline.ts';

export interface Sent { body: string; streamId: string }

/** Keeps every delivered record in order; one message per record. */
export class RecordingSink implements Sink {
  readonly maxMessageBytes = 1_000_000;
  readonly sent: Sent[] = [];
  async send(messages: EncodedMessage[]): Promise<void> {
    for (const m of messages) for (const r of m.records) this.sent.push({ body: r.body.toString('utf8'), streamId: r.streamId });
  }
  async close(): Promise<void> {}
  bodies(): string[] { return this.sent.map((s) => s.body); }
}

const passEncoder: Encoder = {
  name: 'test',
  encode: (records) => records.map((r) => ({ key: null, value: r.body, headers: {}, records: [r] })),
};

/** The pipeline, its multiline stage and sink; `cleanup` stops the pipeline and removes its dead-letter dir. */
export function multilinePipeline(): { pipeline: Pipeline; ml: Multiline; sink: RecordingSink; cleanup: () => Promise<void> } {
  const dlDir = mkdtempSync(join(tmpdir(), 'edgelog-ml-end-'));
  const sink = new RecordingSink();
  const ml = new Multiline(multiline.validate({ preset: 'java', timeout: '60s' }, 'transforms.ml'));
  const pipeline = new Pipeline({
    id: 'p', processors: [ml], encoder: passEncoder, sink,
    delivery: { batch: deliveryDefaults.batch, buffer: deliveryDefaults.buffer, retry: { initialBackoffMs: 1, maxBackoffMs: 5 } },
    deadLetter: new DeadLetterFile(join(dlDir, 'dl.jsonl')),
    events: new PipelineEvents('p', createRegistry(false), silentLogger), log: silentLogger,
  });
  const cleanup = async (): Promise<void> => {
    await pipeline.stop(1000);
    rmSync(dlDir, { recursive: true, force: true });
  };
  return { pipeline, ml, sink, cleanup };
}
