// `raw`: one line per Kafka message, the body bytes exactly as read (line
// terminator already stripped). Nothing else travels with the line except the
// message key and headers, so consumers that only want text lines get them.

import type { ComponentContext, ComponentSpec, EncodedMessage, Encoder } from '../core/component.ts';
import type { LogRecord } from '../core/record.ts';
import { KeyCache, keyOnlySection, type KeyMode, type KeyOnlyConfig } from './key.ts';
import { declaredComponent } from '../config/declare.ts';

/** Only `key`, declared once (encoders/key.ts). */
export type RawConfig = KeyOnlyConfig;
export const rawDefaults: RawConfig = keyOnlySection.defaults;

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

export const rawEncoder: ComponentSpec<RawConfig, Encoder> = declaredComponent(keyOnlySection, {
  kind: 'encoder',
  type: 'raw',
  summary: 'one log line per Kafka message, body bytes only',
  create(cfg: RawConfig, _ctx: ComponentContext): Encoder {
    return new RawEncoder(cfg);
  },
});
