// Syslog decoder: RFC 5424 (`<165>1 2003-10-11T22:14:15.003Z host app 1234 ID47 [sd] msg`)
// and RFC 3164 / BSD (`<34>Oct 11 22:14:15 host su[123]: msg`, also without
// the <PRI>, as syslog daemons write it to /var/log files). PRI gives facility
// and severity (mapped through the shared severity table); header fields
// become attributes named like the OpenTelemetry collector's syslog parser
// (hostname, appname, proc_id, msg_id, facility, structured_data.<id>.<param>).
// A line that is neither passes on unchanged, counted as malformed.

import type { ComponentContext, ComponentSpec, Processor } from '../core/component.ts';
import type { AttrValue, LogRecord } from '../core/record.ts';
import { choice, type Infer, section, declaredComponent } from '../config/declare.ts';
import { bodyField } from './fields.ts';
import { LineDecoder } from './line-decoder.ts';
import { syslogSeverity, syslogSeverityText } from './severity.ts';
import { MONTHS, parseRfc3339, zoneOffsetMin } from './time.ts';
import { timezoneField } from './regex.ts';

/** The decoder's keys, declared once (agent/config/declare.ts): type, reader, defaults and its COMPONENTS.md rows. */
export const syslogDecoderSection = section({
  // rsyslog and syslog-ng accept both formats on one input by default too.
  format: choice('format', ['auto', '5424', '3164'], 'auto', 'detect per line, or insist on one (others count as malformed)'),
  body: bodyField('`message`: body is MSG; `original`: the raw line'),
  // RFC 3164 4.1.2: TIMESTAMP is the sender's local time; a daemon writing
  // /var/log on this node uses this node's zone.
  timezone: timezoneField('zone of RFC 3164 timestamps (they carry none): `UTC`, `local` or `+HH:MM`'),
});

/** The timezone is optional for callers that build the config by hand (the syslog source; default local). */
export type SyslogDecoderConfig = Omit<Infer<typeof syslogDecoderSection>, 'timezone'> & { timezone?: string };
export const syslogDecoderDefaults: SyslogDecoderConfig = syslogDecoderSection.defaults;

export interface SyslogParts {
  pri: number; // -1 when absent
  timeNs: bigint;
  hostname: string; appname: string; procid: string; msgid: string; version: number;
  sd: Record<string, string> | null;
  msgStart: number; // UTF-16 index of the message in the line
  rfc: 3164 | 5424;
}

/** Parse one line; null when it is not syslog. */
export function parseSyslog(s: string, want: SyslogDecoderConfig['format'], nowMs = Date.now(), tz = 'UTC'): SyslogParts | null {
  let i = 0;
  let pri = -1;
  if (s.charCodeAt(0) === 60) { // <
    let j = 1; let v = 0;
    while (j < s.length && j <= 4) { const c = s.charCodeAt(j) - 48; if (c < 0 || c > 9) break; v = v * 10 + c; j++; }
    if (j > 1 && s.charCodeAt(j) === 62 && v <= 191) { pri = v; i = j + 1; }
  }
  const p: SyslogParts = { pri, timeNs: 0n, hostname: '', appname: '', procid: '', msgid: '', version: 0, sd: null, msgStart: s.length, rfc: 3164 };
  const c0 = s.charCodeAt(i);
  if (c0 >= 49 && c0 <= 57 && s.charCodeAt(i + 1) === 32 && pri >= 0) {
    if (want === '3164') return null;
    return parse5424(s, i, p) ? p : null;
  }
  if (want === '5424') return null;
  return parse3164(s, i, p, nowMs, tz) ? p : null;
}

function token(s: string, i: number): number { // index of the next space (or end)
  const j = s.indexOf(' ', i);
  return j < 0 ? s.length : j;
}
const nil = (v: string) => (v === '-' ? '' : v);

function parse5424(s: string, i: number, p: SyslogParts): boolean {
  p.rfc = 5424;
  p.version = s.charCodeAt(i) - 48; i += 2;
  let e = token(s, i); const ts = s.slice(i, e); i = e + 1;
  if (ts !== '-') { p.timeNs = parseRfc3339(ts); if (p.timeNs === 0n) return false; }
  e = token(s, i); p.hostname = nil(s.slice(i, e)); i = e + 1;
  e = token(s, i); p.appname = nil(s.slice(i, e)); i = e + 1;
  e = token(s, i); p.procid = nil(s.slice(i, e)); i = e + 1;
  e = token(s, i); p.msgid = nil(s.slice(i, e)); i = e + 1;
  if (i > s.length) return false;
  if (s.charCodeAt(i) === 45) i++; // nil structured data
  else if (s.charCodeAt(i) === 91) { // [
    const sd: Record<string, string> = {};
    while (s.charCodeAt(i) === 91) {
      i++;
      let j = i; while (j < s.length && s.charCodeAt(j) !== 32 && s.charCodeAt(j) !== 93) j++;
      const id = s.slice(i, j); i = j;
      while (i < s.length && s.charCodeAt(i) === 32) {
        i++;
        const eq = s.indexOf('="', i); if (eq < 0) return false;
        const name = s.slice(i, eq); i = eq + 2;
        let v = '';
        while (i < s.length) {
          const c = s.charCodeAt(i);
          if (c === 92 && i + 1 < s.length) { v += s[i + 1]; i += 2; continue; }
          if (c === 34) break;
          v += s[i]; i++;
        }
        i++; // closing quote
        sd[`structured_data.${id}.${name}`] = v;
      }
      if (s.charCodeAt(i) !== 93) return false;
      i++;
    }
    p.sd = sd;
  } else return false;
  if (s.charCodeAt(i) === 32) i++;
  if (s.charCodeAt(i) === 0xfeff) i++; // BOM before a UTF-8 MSG (decoded to U+FEFF)
  p.msgStart = Math.min(i, s.length);
  return true;
}

// The current UTC year, recomputed only when the clock leaves the cached year
// (no Date object per line).
let yearFrom = 0, yearTo = -1, yearVal = 1970;
function utcYear(ms: number): number {
  if (ms < yearFrom || ms >= yearTo) {
    yearVal = new Date(ms).getUTCFullYear();
    yearFrom = Date.UTC(yearVal, 0, 1);
    yearTo = Date.UTC(yearVal + 1, 0, 1);
  }
  return yearVal;
}

function parse3164(s: string, i: number, p: SyslogParts, nowMs: number, tz: string): boolean {
  // Timestamp: `Mmm dd hh:mm:ss` (day space-padded) or RFC 3339 (rsyslog's high-precision template).
  const c = s.charCodeAt(i);
  if (c >= 48 && c <= 57) {
    const e = token(s, i);
    p.timeNs = parseRfc3339(s.slice(i, e));
    if (p.timeNs === 0n) { if (p.pri < 0) return false; } else i = e + 1;
  } else {
    const mo = MONTHS[s.slice(i, i + 3).toLowerCase()];
    if (mo !== undefined && s.charCodeAt(i + 3) === 32 && s.charCodeAt(i + 9) === 58 && s.charCodeAt(i + 12) === 58) {
      const d = Number(s.slice(i + 4, i + 6).trim());
      const h = Number(s.slice(i + 7, i + 9)), mi = Number(s.slice(i + 10, i + 12)), sec = Number(s.slice(i + 13, i + 15));
      let y = utcYear(nowMs);
      let ms = Date.UTC(y, mo - 1, d, h, mi, sec);
      // No year in 3164: a December line read in January belongs to last year.
      if (ms > nowMs + 86_400_000) { y--; ms = Date.UTC(y, mo - 1, d, h, mi, sec); }
      if (!Number.isFinite(ms)) return false;
      if (tz !== 'UTC') ms -= zoneOffsetMin(tz, ms) * 60_000;
      p.timeNs = BigInt(ms) * 1_000_000n;
      i += 15;
      if (s.charCodeAt(i) === 32) i++;
    } else if (p.pri < 0) return false;
  }
  // HOSTNAME then TAG[pid]: ; a missing tag leaves the rest as the message.
  if (p.timeNs !== 0n) {
    const e = token(s, i);
    const host = s.slice(i, e);
    if (host.length > 0 && !host.endsWith(':')) { p.hostname = host; i = e + 1; }
  }
  let j = i;
  while (j < s.length) {
    const ch = s.charCodeAt(j);
    if (ch === 58 || ch === 91 || ch === 32) break; // : [ space
    j++;
  }
  if (j > i && j < s.length) {
    if (s.charCodeAt(j) === 91) {
      const close = s.indexOf(']', j);
      if (close > 0 && s.charCodeAt(close + 1) === 58) {
        p.appname = s.slice(i, j); p.procid = s.slice(j + 1, close); i = close + 2;
      }
    } else if (s.charCodeAt(j) === 58) { p.appname = s.slice(i, j); i = j + 1; }
  }
  if (s.charCodeAt(i) === 32) i++;
  p.msgStart = Math.min(i, s.length);
  return true;
}

export class SyslogDecoder extends LineDecoder {
  private readonly cfg: SyslogDecoderConfig;
  private readonly tz: string;

  constructor(cfg: SyslogDecoderConfig, ctx: ComponentContext) {
    super(ctx);
    this.cfg = cfg;
    this.tz = cfg.timezone ?? syslogDecoderDefaults.timezone!;
  }

  decodeOne(rec: LogRecord, nowMs: number): void {
    const s = rec.body.toString('utf8');
    const p = parseSyslog(s, this.cfg.format, nowMs, this.tz);
    if (p === null) { this.stats.malformed('not_syslog'); return; }
    const attrs: Record<string, AttrValue> = rec.attributes ?? {};
    if (p.pri >= 0) {
      const sev = p.pri & 7;
      rec.severityNumber = syslogSeverity[sev]!;
      rec.severityText = syslogSeverityText[sev]!;
      attrs.facility = p.pri >> 3;
    }
    if (p.timeNs !== 0n) rec.timeUnixNano = p.timeNs;
    if (p.hostname) attrs.hostname = p.hostname;
    if (p.appname) attrs.appname = p.appname;
    if (p.procid) attrs.proc_id = p.procid;
    if (p.msgid) attrs.msg_id = p.msgid;
    if (p.rfc === 5424) attrs.version = p.version;
    if (p.sd !== null) for (const k in p.sd) attrs[k] = p.sd[k]!;
    rec.attributes = attrs;
    if (this.cfg.body === 'message') rec.body = Buffer.from(s.slice(p.msgStart), 'utf8');
  }
}

export const syslogDecoder: ComponentSpec<SyslogDecoderConfig, Processor> = declaredComponent(syslogDecoderSection, {
  kind: 'processor',
  type: 'syslog',
  summary: 'Decode syslog lines (RFC 5424 and RFC 3164, with or without <PRI>): severity, time, host, app, pid, msgid, structured data.',
  create(cfg, ctx) { return new SyslogDecoder(cfg, ctx); },
});
