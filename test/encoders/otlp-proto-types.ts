// logs.proto (the wire format our hand-written encoder follows) loaded with
// protobufjs's reflection at test time: an encoder and decoder written
// independently of agent/encoders/otlp/wire.ts, with no generated code to keep
// (the static code setup used to regenerate on every run is gone).

import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const root = protobuf.loadSync(fileURLToPath(new URL('../../agent/encoders/otlp/logs.proto', import.meta.url)));
const type = (name: string): protobuf.Type => root.lookupType(`edgelog.otlp.${name}`);

export interface AnyValueProps {
  stringValue?: string | null;
  boolValue?: boolean | null;
  /** int64: a number, or a Long when decoded. */
  intValue?: number | { low: number; high: number } | null;
  doubleValue?: number | null;
}
export interface KeyValueProps { key: string; value?: AnyValueProps | null }
export interface DecodedLogRecord { attributes: KeyValueProps[] }

export const otlp = {
  Resource: type('Resource'),
  InstrumentationScope: type('InstrumentationScope'),
  LogRecord: type('LogRecord'),
};
