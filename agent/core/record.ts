// The unit that flows through the pipeline's stages. One object per log line:
// the fields are the OTLP LogRecord fields the encoders need plus the delivery
// bookkeeping (source identity, offset, ack group). File lines that no stage
// needs fields of travel in columns instead (record-run.ts) and become these
// objects only where a stage asks for them.

import type { AckGroup } from './ack.ts';

export type AttrValue = string | number | boolean;

export interface LogRecord {
  /** Raw body bytes (line terminator stripped). Encoders send valid UTF-8 as a string, anything else as bytes. */
  body: Buffer;
  /** Event time from the line itself, ns since epoch; 0 when unknown. */
  timeUnixNano: bigint;
  /** When the agent read the line, ms since epoch (number: cheaper than bigint on the hot path). */
  observedMs: number;
  /** OTLP SeverityNumber (0 = unspecified). */
  severityNumber: number;
  severityText: string;
  /** Parsed or added fields; null until a decoder or transform sets one. */
  attributes: Record<string, AttrValue> | null;
  /** OTLP trace correlation, hex strings or ''. */
  traceId: string;
  spanId: string;
  /** Where the record came from: source name and stream (file path, peer address). */
  source: string;
  stream: string;
  /** Stable identity of the stream (file: dev:ino:fingerprint) and the byte offset of the line start: the dedupe key. */
  streamId: string;
  offset: number;
  /** Settled once per record when it is acknowledged downstream or deliberately dropped. */
  ack: AckGroup;
}

export function newRecord(body: Buffer, source: string, stream: string, streamId: string, offset: number, ack: AckGroup, observedMs = Date.now()): LogRecord {
  return {
    body, timeUnixNano: 0n, observedMs, severityNumber: 0, severityText: '', attributes: null,
    traceId: '', spanId: '', source, stream, streamId, offset, ack,
  };
}

/** OTLP SeverityNumber values (opentelemetry/proto/logs/v1/logs.proto). */
export const Severity = {
  UNSPECIFIED: 0, TRACE: 1, DEBUG: 5, INFO: 9, WARN: 13, ERROR: 17, FATAL: 21,
} as const;
