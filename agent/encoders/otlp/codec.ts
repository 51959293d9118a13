// Typed entry to the protobufjs static code generated from logs.proto by
// generate.sh (run by .ci/setup.sh). Static code: each message has its own
// encode/decode functions, no reflection at run time.

import { edgelog } from './generated/logs.js';

export const otlp = edgelog.otlp;
export type LogRecordProps = edgelog.otlp.LogRecord.$Properties;
export type KeyValueProps = edgelog.otlp.KeyValue.$Properties;
export type AnyValueProps = edgelog.otlp.AnyValue.$Properties;
