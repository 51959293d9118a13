// Message keys shared by the encoders. `stream` keys every message by its
// source stream (the file path), so the default partitioner puts one source on
// one partition and Kafka keeps its order; `none` lets the producer spread
// messages over partitions (more parallel, no per-source order).

import { choice, type Infer, section } from '../config/declare.ts';

export type KeyMode = 'none' | 'stream';
export const keyModes: readonly KeyMode[] = ['stream', 'none'];

/** The `key` every encoder takes. Default `stream`: per-source order is part of the delivery contract (brief: "in order per source"). */
export function keyField(meaning: string) {
  return choice<KeyMode>('key', keyModes, 'stream', meaning);
}

/** The config of an encoder whose only key is `key` (json, raw), declared once. */
export const keyOnlySection = section({ key: keyField('as for `otlp_proto`') });
export type KeyOnlyConfig = Infer<typeof keyOnlySection>;

/** Caches the last key buffer: batches usually hold long runs of one stream. */
export class KeyCache {
  private lastStream = '';
  private lastKey: Buffer | null = null;
  key(stream: string): Buffer {
    if (this.lastKey === null || stream !== this.lastStream) {
      this.lastStream = stream;
      this.lastKey = Buffer.from(stream, 'utf8');
    }
    return this.lastKey;
  }
}
