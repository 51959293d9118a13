// Multiline configuration and presets.

import { ConfigError } from '../../core/errors.ts';
import { join, readBool, readBytes, readDuration, readEnum, readInt, readMap, readOptString } from '../../config/schema.ts';

export type MultilineMode = 'start_pattern' | 'continue_pattern';

export interface MultilineConfig {
  /** Named pattern set: java, python, timestamp_start ('' for none). Explicit mode/pattern/negate override it. */
  preset: '' | 'java' | 'python' | 'timestamp_start';
  /** start_pattern: a matching line starts a new record; continue_pattern: a matching line belongs to the previous one. */
  mode: MultilineMode;
  /** JavaScript regular expression tested against each line. */
  pattern: string;
  /** Invert the match (e.g. continue_pattern '^\d{4}-' with negate: every line NOT starting with a date continues). */
  negate: boolean;
  /** A group is shipped when it reaches this many lines; the next line starts a new record. */
  max_lines: number;
  /** ... or this many bytes (joined with '\n'). */
  max_bytes: number;
  /** An incomplete group is shipped after this long without a new line for its stream, ms. */
  timeout_ms: number;
  /** Streams with a group held at once; a new stream beyond it ships the oldest held group first. */
  max_streams: number;
}

export interface Preset { mode: MultilineMode; pattern: string; negate: boolean }

export const presets: Record<'java' | 'python' | 'timestamp_start', Preset> = {
  // `\tat com.x.Y.z(Y.java:42)`, `\t... 12 more`, `Caused by: ...`, `\tSuppressed: ...`
  // and the exception line itself (`java.io.IOException: boom`) that log4j/logback
  // print on the line after the message.
  java: {
    mode: 'continue_pattern', negate: false,
    pattern: String.raw`^(?:\s+at\s|\s+\.\.\.\s\d+\s(?:more|common frames omitted)|\s*Caused by:|\s+Suppressed:|(?:[a-zA-Z_$][\w$]*\.)+[a-zA-Z_$][\w$]*(?:Exception|Error|Throwable)(?::|\s*$))`,
  },
  // `Traceback (most recent call last):`, indented frame and source lines, blank
  // lines and the chaining sentences between chained tracebacks, and the final
  // `ValueError: ...` line.
  python: {
    mode: 'continue_pattern', negate: false,
    pattern: String.raw`^(?:Traceback \(most recent call last\):|\s+\S|\s*$|During handling of the above exception|The above exception was the direct cause|[A-Za-z_][\w.]*(?:Error|Exception|Warning|Exit|Interrupt|StopIteration)(?::|\s*$))`,
  },
  // Any line starting with a common log timestamp starts a record; the rest
  // (stack frames, wrapped text) joins it. ISO (Hadoop, Zookeeper, log4j),
  // yy/MM/dd (Spark), syslog `Mmm dd hh:mm:ss`, bracketed ISO.
  timestamp_start: {
    mode: 'start_pattern', negate: false,
    pattern: String.raw`^(?:\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|\d{2}/\d{2}/\d{2} \d{2}:\d{2}|[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}|\[\d{4}-\d{2}-\d{2})`,
  },
};

export const multilineDefaults: MultilineConfig = {
  preset: '',
  mode: 'start_pattern',
  pattern: '',
  negate: false,
  // Logstash's multiline codec max_lines default 500.
  max_lines: 500,
  // Under Kafka's default message.max.bytes (1048588) so a joined record still
  // fits one message; Fluent Bit's multiline_buffer_limit default is 2 MB.
  max_bytes: 1_000_000,
  // 1 s, as Vector's multiline examples set timeout_ms 1000 (Fluent Bit's
  // flush_timeout default is 4 s; we take the shorter one: the last trace of a
  // burst should not wait long).
  timeout_ms: 1000,
  // Bounds memory at max_streams x max_bytes whatever the number of files or
  // peers; 1024 matches the file source's usual open-file budget.
  max_streams: 1024,
};

export function readMultiline(raw: unknown, path: string): MultilineConfig {
  const m = readMap(raw, path, ['preset', 'mode', 'pattern', 'negate', 'max_lines', 'max_bytes', 'timeout', 'timeout_ms', 'max_streams', 'type']);
  const d = multilineDefaults;
  const preset = readEnum(m, 'preset', path, ['', 'java', 'python', 'timestamp_start'] as const, d.preset);
  const base: Preset = preset === '' ? { mode: d.mode, pattern: '', negate: d.negate } : presets[preset];
  const pattern = readOptString(m, 'pattern', path) ?? base.pattern;
  if (pattern === '') throw new ConfigError(join(path, 'pattern'), 'a regular expression (or a preset: java, python, timestamp_start)');
  try { new RegExp(pattern); } catch (e) { throw new ConfigError(join(path, 'pattern'), `a valid regular expression (${(e as Error).message})`, pattern); }
  return {
    preset,
    mode: readEnum(m, 'mode', path, ['start_pattern', 'continue_pattern'] as const, base.mode),
    pattern,
    negate: readBool(m, 'negate', path, base.negate),
    max_lines: readInt(m, 'max_lines', path, d.max_lines, 1, 1_000_000),
    max_bytes: readBytes(m, 'max_bytes', path, d.max_bytes, 1),
    max_streams: readInt(m, 'max_streams', path, d.max_streams, 1, 1_000_000),
    timeout_ms: m.timeout !== undefined ? readDuration(m, 'timeout', path, d.timeout_ms) : readDuration(m, 'timeout_ms', path, d.timeout_ms),
  };
}
