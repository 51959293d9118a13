// Regex decoder: a pattern with named groups cut a line into fields. The time,
// severity and message groups go to the OTLP fields, the other groups to
// attributes. A line the pattern does not match passes on unchanged, counted
// as malformed (reason no_match).

import type { ComponentContext, ComponentSpec, Processor } from '../core/component.ts';
import type { AttrValue, LogRecord } from '../core/record.ts';
import { ConfigError } from '../core/errors.ts';
import { join, readString, type Raw } from '../config/schema.ts';
import { field, type Infer, section, text, declaredComponent } from '../config/declare.ts';
import { bodyField } from './fields.ts';
import { LineDecoder } from './line-decoder.ts';
import { severityFromText } from './severity.ts';
import { compileTimeFormat, isTimezone } from './time.ts';
import type { TimeParser } from './time.ts';

/** `timezone`: the zone of times written without one (regex and syslog decoders). */
export function timezoneField(meaning: string) {
  return field('timezone', 'string', 'local', '`local`', meaning, (m: Raw, path: string) => readTimezone(m, 'timezone', path, 'local'));
}

/** The decoder's keys, declared once (agent/config/declare.ts): type, reader, defaults and its COMPONENTS.md rows. */
export const regexDecoderSection = section({
  /** JavaScript regular expression with named groups, e.g. `^(?<time>\S+ \S+) (?<level>[A-Z]+) (?<message>.*)$`. Required. */
  pattern: field('pattern', 'regex', '', '(required)', 'JavaScript regular expression with named groups; groups not named below become attributes', (m: Raw, path: string) => {
    const pattern = readString(m, 'pattern', path);
    try { new RegExp(pattern); } catch (e) { throw new ConfigError(join(path, 'pattern'), `a valid regular expression (${(e as Error).message})`, pattern); }
    if (groupNames(pattern).length === 0) throw new ConfigError(join(path, 'pattern'), 'a regular expression with at least one named group (?<name>...)', pattern);
    return pattern;
  }),
  // Group names follow the JSON decoder's first-choice keys so one chain's
  // filters work the same whichever decoder produced the record.
  /** Group holding the event time ('' for none). */
  time_field: text('time_field', 'time', 'group holding the event time'),
  /** `rfc3339`, `epoch`, `epoch_s|ms|us|ns` or a strptime format such as `%Y-%m-%d %H:%M:%S,%L`. */
  time_format: field('time_format', 'string', 'rfc3339', '`rfc3339`', '`rfc3339`, `epoch`, `epoch_s`, `epoch_ms`, `epoch_us`, `epoch_ns`, or strptime (`%Y-%m-%d %H:%M:%S,%L`)', (m: Raw, path: string) => {
    const time_format = readString(m, 'time_format', path, 'rfc3339');
    try { compileTimeFormat(time_format); } catch (e) { throw new ConfigError(join(path, 'time_format'), `rfc3339, epoch or a strptime format (${(e as Error).message})`, time_format); }
    return time_format;
  }),
  severity_field: text('severity_field', 'level', 'group holding the level'),
  message_field: text('message_field', 'message', 'group holding the message'),
  /** 'message': body becomes the message group; 'original': the raw line stays the body. */
  body: bodyField('as for `json`'),
  // Apps on an edge node write their own files in the node's zone (log4j %d,
  // logback, Python logging all format local time), so 'local' reads them
  // right; on a UTC node it is UTC. Formats with %z or a zoned RFC 3339 time ignore it.
  timezone: timezoneField('zone of times written without one: `UTC`, `local` or `+HH:MM`'),
});
export type RegexDecoderConfig = Infer<typeof regexDecoderSection>;
export const regexDecoderDefaults: RegexDecoderConfig = regexDecoderSection.defaults;

export class RegexDecoder extends LineDecoder {
  private readonly re: RegExp;
  private readonly cfg: RegexDecoderConfig;
  private readonly parseTime: TimeParser;
  /** Named groups that become attributes, computed once. */
  private readonly attrGroups: string[];

  constructor(cfg: RegexDecoderConfig, ctx: ComponentContext) {
    super(ctx);
    this.cfg = cfg;
    this.re = new RegExp(cfg.pattern);
    this.parseTime = compileTimeFormat(cfg.time_format, cfg.timezone);
    const special = new Set([cfg.time_field, cfg.severity_field, cfg.message_field]);
    this.attrGroups = groupNames(cfg.pattern).filter((g) => !special.has(g));
  }

  decodeOne(rec: LogRecord): void {
    const m = this.re.exec(rec.body.toString('utf8'));
    if (m === null || m.groups === undefined) { this.stats.malformed('no_match'); return; }
    const g = m.groups;
    const c = this.cfg;
    const t = g[c.time_field];
    if (t !== undefined) {
      const ns = this.parseTime(t);
      if (ns !== 0n) rec.timeUnixNano = ns; else this.stats.malformed('bad_time');
    }
    const lv = g[c.severity_field];
    if (lv !== undefined) { rec.severityText = lv; rec.severityNumber = severityFromText(lv); }
    let attrs: Record<string, AttrValue> | null = rec.attributes;
    for (let i = 0; i < this.attrGroups.length; i++) {
      const name = this.attrGroups[i]!;
      const v = g[name];
      if (v === undefined) continue;
      if (attrs === null) attrs = {};
      attrs[name] = v;
    }
    const msg = g[c.message_field];
    if (msg !== undefined) {
      if (c.body === 'message') rec.body = Buffer.from(msg, 'utf8');
      else { if (attrs === null) attrs = {}; attrs[c.message_field] = msg; }
    }
    rec.attributes = attrs;
  }
}

export function readTimezone(m: Record<string, unknown>, key: string, path: string, def: string): string {
  const v = readString(m, key, path, def);
  if (!isTimezone(v)) throw new ConfigError(join(path, key), 'UTC, local or an offset such as +02:00', v);
  return v;
}

/** Named groups of a pattern, in order. */
export function groupNames(pattern: string): string[] {
  const names: string[] = [];
  const re = /\(\?<([A-Za-z_$][\w$]*)>/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(pattern)) !== null) names.push(m[1]!);
  return names;
}

export const regexDecoder: ComponentSpec<RegexDecoderConfig, Processor> = declaredComponent(regexDecoderSection, {
  kind: 'processor',
  type: 'regex',
  summary: 'Decode lines with a regular expression whose named groups become time, severity, body and attributes.',
  create(cfg, ctx) { return new RegexDecoder(cfg, ctx); },
});
