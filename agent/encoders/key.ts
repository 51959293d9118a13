// Message keys shared by the encoders. `stream` keys every message by its
// source stream (the file path), so the default partitioner puts one source on
// one partition and Kafka keeps its order; `none` lets the producer spread
// messages over partitions (more parallel, no per-source order).

import { readEnum, type Raw } from '../config/schema.ts';

export type KeyMode = 'none' | 'stream';
export const keyModes: readonly KeyMode[] = ['none', 'stream'];

export function readKeyMode(m: Raw, path: string): KeyMode {
  // Default `stream`: per-source order is part of the delivery contract (brief: "in order per source").
  return readEnum(m, 'key', path, keyModes, 'stream');
}

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
