// One severity table for every decoder and transform: level words, syslog
// numeric severities and pino/bunyan numeric levels -> OTLP SeverityNumber.
// The syslog rows follow the OpenTelemetry Logs Data Model mapping (as the
// opentelemetry-php PSR mapper applies it: notice=INFO2, critical=ERROR2,
// alert=FATAL, emergency=FATAL2), so an 'err' from syslog and an 'error' from
// a JSON line compare equal in filter/sample.

import { Severity } from '../core/record.ts';

const table: Record<string, number> = {
  trace: 1, trc: 1, finest: 1, finer: 2, verbose: 3,
  debug: 5, dbg: 5, fine: 5, config: 6, d: 5,
  info: 9, information: 9, informational: 9, inf: 9, i: 9, notice: 10,
  warn: 13, warning: 13, wrn: 13, w: 13,
  error: 17, err: 17, eror: 17, e: 17, severe: 17, crit: 18, critical: 18,
  alert: 21, fatal: 21, panic: 22, emerg: 22, emergency: 22, f: 21,
};

/** Syslog severity 0..7 (RFC 5424 section 6.2.1) -> OTLP. */
export const syslogSeverity: readonly number[] = [22, 21, 18, 17, 13, 10, 9, 5];
/** Names of the syslog severities, used as severityText. */
export const syslogSeverityText: readonly string[] = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];

/**
 * Level word (any case, surrounding spaces ignored) -> OTLP number, 0 when unknown.
 * Lookup first tries the string as given: the common lower-case spelling costs
 * one hash lookup and no allocation.
 */
export function severityFromText(text: string): number {
  const hit = table[text];
  if (hit !== undefined) return hit;
  const low = text.trim().toLowerCase();
  const v = table[low];
  if (v !== undefined) return v;
  // Numbers written as text ("30", "4").
  if (low.length > 0 && low.length <= 3 && /^\d+$/.test(low)) return severityFromNumber(Number(low));
  return 0;
}

/**
 * Numeric levels: 0..7 are syslog severities; 10..60 are pino/bunyan levels
 * (10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal); anything else 0.
 */
export function severityFromNumber(n: number): number {
  if (!Number.isInteger(n)) return 0;
  if (n >= 0 && n <= 7) return syslogSeverity[n]!;
  if (n >= 10 && n <= 60) {
    if (n < 20) return Severity.TRACE;
    if (n < 30) return Severity.DEBUG;
    if (n < 40) return Severity.INFO;
    if (n < 50) return Severity.WARN;
    if (n < 60) return Severity.ERROR;
    return Severity.FATAL;
  }
  return 0;
}

/** Config helper: a level name such as `warn` -> OTLP number, or undefined if unknown. */
export function levelNumber(name: string): number | undefined {
  const v = severityFromText(name);
  return v === 0 ? undefined : v;
}
