// `raw`: one line per Kafka message, the body bytes exactly as read (line
// terminator already stripped). Nothing else travels with the line except the
// message key and headers, so consumers that only want text lines get them.

import type { ComponentContext, ComponentSpec, EncodedMessage, Encoder } from '../core/component.ts';
import type { LogRecord } from '../core/record.ts';
import { readMap } from '../config/schema.ts';
import { KeyCache, readKeyMode, type KeyMode } from './key.ts';

export interface RawConfig {
  key: KeyMode;
}

export const rawDefaults: RawConfig = {
  key: 'stream', // per-source order on one partition (brief: in order per source)
};

export class RawEncoder implements Encoder {
  readonly name = 'raw';
  private readonly keyMode: KeyMode;
  private readonly keys = new KeyCache();
  private readonly headers = Object.freeze({ 'edgelog.encoding': 'raw' }) as Record<string, string>;

  constructor(cfg: RawConfig) {
    this.keyMode = cfg.key;
  }

  encode(records: LogRecord[]): EncodedMessage[] {
    const out: EncodedMessage[] = new Array(records.length);
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      // The body Buffer itself: kafkajs copies it into the request, no copy here.
      out[i] = { key: this.keyMode === 'stream' ? this.keys.key(r.stream) : null, value: r.body, headers: this.headers, records: [r] };
    }
    return out;
  }
}

export const rawEncoder: ComponentSpec<RawConfig, Encoder> = {
  kind: 'encoder',
  type: 'raw',
  summary: 'one log line per Kafka message, body bytes only',
  defaults: rawDefaults,
  validate(raw: unknown, path: string): RawConfig {
    const m = readMap(raw, path, ['key']);
    return { key: readKeyMode(m, path) };
  },
  create(cfg: RawConfig, _ctx: ComponentContext): Encoder {
    return new RawEncoder(cfg);
  },
};
