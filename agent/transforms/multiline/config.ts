// Multiline configuration and presets.

import { ConfigError } from '../../core/errors.ts';
import { join, readOptString, type Raw } from '../../config/schema.ts';
import { choice, derivedDefault, duration, field, flag, type Infer, int, section, size } from '../../config/declare.ts';

export type MultilineMode = 'start_pattern' | 'continue_pattern';

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

type PresetName = '' | 'java' | 'python' | 'timestamp_start';

/**
 * The transform's keys, declared once (agent/config/declare.ts). A preset
 * supplies mode, pattern and negate; keys written explicitly override it.
 */
export const multilineSection = section({
  /** Named pattern set: java, python, timestamp_start ('' for none). Explicit mode/pattern/negate override it. */
  preset: choice<PresetName>('preset', ['', 'java', 'python', 'timestamp_start'], '', 'a pattern set; explicit `mode`, `pattern`, `negate` override it'),
  /** start_pattern: a matching line starts a new record; continue_pattern: a matching line belongs to the previous one. */
  mode: choice<MultilineMode>('mode', ['start_pattern', 'continue_pattern'], 'start_pattern', 'a matching line starts a record, or continues the previous one (presets set their own)'),
  /** JavaScript regular expression tested against each line. */
  pattern: field<string>('pattern', 'regex', '', '(required unless preset)', 'tested on each line (anchored patterns see the first 512 bytes)', (m: Raw, path: string) => readOptString(m, 'pattern', path) ?? ''),
  /** Invert the match (e.g. continue_pattern '^\d{4}-' with negate: every line NOT starting with a date continues). */
  negate: flag('negate', false, 'invert the match'),
  // Logstash's multiline codec max_lines default 500.
  /** A group is shipped when it reaches this many lines; the next line starts a new record. */
  max_lines: int('max_lines', 500, 'a group this long is shipped; the next line starts a new record', 1, 1_000_000),
  // Under Kafka's default message.max.bytes (1048588) so a joined record still
  // fits one message; Fluent Bit's multiline_buffer_limit default is 2 MB.
  /** ... or this many bytes (joined with '\n'). */
  max_bytes: size('max_bytes', 1_000_000, "the same for the joined bytes (under Kafka's default message.max.bytes)", 1),
  // 1 s, as Vector's multiline examples set timeout_ms 1000 (Fluent Bit's
  // flush_timeout default is 4 s; we take the shorter one: the last trace of a
  // burst should not wait long).
  /** An incomplete group is shipped after this long without a new line for its stream, ms. */
  timeout_ms: duration('timeout', 1000, 'ship an incomplete group after this long without a new line of its stream'),
  timeoutMsAlias: derivedDefault(duration('timeout_ms', 1000, 'another name for `timeout` (used when `timeout` is absent)'), '`1000`'),
  // Bounds memory at max_streams x max_bytes whatever the number of files or
  // peers; 1024 matches the file source's usual open-file budget.
  /** Streams with a group held at once; a new stream beyond it ships the oldest held group first. */
  max_streams: int('max_streams', 1024, 'streams with a held group at once; beyond it the oldest group ships first', 1, 1_000_000),
}, (c, m, path) => {
  const absent = (k: string): boolean => m[k] === undefined || m[k] === null;
  if (c.preset !== '') {
    const base = presets[c.preset];
    if (absent('mode')) c.mode = base.mode;
    if (absent('pattern')) c.pattern = base.pattern;
    if (absent('negate')) c.negate = base.negate;
  }
  if (c.pattern === '') throw new ConfigError(join(path, 'pattern'), 'a regular expression (or a preset: java, python, timestamp_start)');
  try { new RegExp(c.pattern); } catch (e) { throw new ConfigError(join(path, 'pattern'), `a valid regular expression (${(e as Error).message})`, c.pattern); }
  if (absent('timeout')) c.timeout_ms = c.timeoutMsAlias;
});

export type MultilineConfig = Omit<Infer<typeof multilineSection>, 'timeoutMsAlias'>;

function withoutAlias({ timeoutMsAlias: _, ...c }: Infer<typeof multilineSection>): MultilineConfig {
  return c;
}

export const multilineDefaults: MultilineConfig = withoutAlias(multilineSection.defaults);

export function readMultiline(raw: unknown, path: string): MultilineConfig {
  return withoutAlias(multilineSection.read(raw, path));
}
