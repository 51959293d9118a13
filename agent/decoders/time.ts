// Timestamp parsing into OTLP time (bigint ns since epoch). Hand-written
// digit parsing instead of `new Date(str)`: Date parsing of RFC 3339 also
// drops everything below the millisecond, and a ns-precision field must
// survive. Every parser returns 0n for "not a timestamp" (OTLP's "unknown").

const MONTHS: Record<string, number> = {
  jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12,
};

function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Nanoseconds from a fraction written with `len` digits (more than 9 are cut). */
function fractionNs(s: string, at: number, len: number): number {
  let v = 0;
  const n = len > 9 ? 9 : len;
  for (let i = 0; i < n; i++) v = v * 10 + (s.charCodeAt(at + i) - 48);
  for (let i = n; i < 9; i++) v *= 10;
  return v;
}

function toNs(y: number, mo: number, d: number, h: number, mi: number, sec: number, fracNs: number, offsetMin: number): bigint {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return 0n;
  const ms = Date.UTC(y, mo - 1, d, h, mi, sec) - offsetMin * 60_000;
  if (!Number.isFinite(ms)) return 0n;
  return BigInt(ms) * 1_000_000n + BigInt(fracNs);
}

/**
 * RFC 3339 / ISO 8601: `2024-05-01T12:00:00.123456789Z`, `+02:00`, `+0200`,
 * a space instead of `T`, `,` instead of `.` (log4j), and no zone (taken as UTC).
 */
// One-entry cache of the minute a timestamp starts with: lines of a burst
// share it, so Date.UTC and five digit fields are parsed once per minute
// and the result needs one BigInt conversion instead of three
// (10.6-13.1M vs 9.6-10.4M parses per CPU-s, best of 10, two runs).
let minuteKey = '';
let minuteNs = 0n;

export function parseRfc3339(s: string): bigint {
  if (s.length < 19) return 0n;
  let base: bigint;
  if (minuteKey !== '' && s.startsWith(minuteKey)) base = minuteNs;
  else {
    const y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
    const h = digits(s, 11, 2), mi = digits(s, 14, 2);
    if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0) return 0n;
    if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(13) !== 58) return 0n;
    const t = s.charCodeAt(10);
    if (t !== 84 && t !== 116 && t !== 32) return 0n; // T, t, space
    const ns = toNs(y, mo, d, h, mi, 0, 0, 0);
    if (ns === 0n) return 0n;
    minuteKey = s.slice(0, 16);
    minuteNs = base = ns;
  }
  if (s.charCodeAt(16) !== 58) return 0n;
  const sec = digits(s, 17, 2);
  if (sec < 0 || sec > 60) return 0n;
  let i = 19;
  let frac = 0;
  const sep = s.charCodeAt(i);
  if (sep === 46 || sep === 44) { // . or ,
    const start = ++i;
    while (i < s.length) { const c = s.charCodeAt(i); if (c < 48 || c > 57) break; i++; }
    if (i === start) return 0n;
    frac = fractionNs(s, start, i - start);
  }
  let off = 0;
  if (i < s.length) {
    const z = s.charCodeAt(i);
    if (z === 90 || z === 122) i++; // Z
    else if (z === 43 || z === 45) { // + or -
      const oh = digits(s, i + 1, 2);
      let om: number;
      if (s.charCodeAt(i + 3) === 58) { om = digits(s, i + 4, 2); i += 6; } else { om = digits(s, i + 3, 2); i += 5; }
      if (oh < 0 || om < 0) return 0n;
      off = (oh * 60 + om) * (z === 45 ? -1 : 1);
    } else return 0n;
    if (i !== s.length) return 0n;
  }
  // (sec - offset) in ns stays below 2^53 (|offset| <= 24 h), so one exact Number -> BigInt.
  return base + BigInt((sec * 1000 - off * 60_000) * 1_000_000 + frac);
}

// Epoch magnitude heuristic (the same bands Vector and the OTel collector's
// "epoch" layouts pick by hand): up to 1e11 is seconds (until year 5138),
// up to 1e14 ms, up to 1e17 us, above that ns.
export function epochToNs(n: number): bigint {
  if (!Number.isFinite(n) || n <= 0) return 0n;
  if (n < 1e11) return BigInt(Math.round(n * 1e6)) * 1000n;
  if (n < 1e14) return BigInt(Math.round(n * 1e3)) * 1000n;
  if (n < 1e17) return BigInt(Math.round(n)) * 1000n;
  return BigInt(Math.round(n));
}

/** Epoch written as text; integers of 16+ digits go through BigInt so ns precision survives. */
export function epochTextToNs(s: string): bigint {
  if (s.length >= 16 && /^\d+$/.test(s)) {
    const b = BigInt(s);
    return s.length >= 18 ? b : b * 1000n; // 16-17 digits: microseconds
  }
  const n = Number(s);
  return Number.isNaN(n) ? 0n : epochToNs(n);
}

/** Any timestamp-looking value a structured log may carry: RFC 3339 text, epoch number or epoch text. */
export function parseAnyTime(v: unknown): bigint {
  if (typeof v === 'number') return epochToNs(v);
  if (typeof v !== 'string' || v.length === 0) return 0n;
  const c = v.charCodeAt(0);
  if (v.length >= 19 && v.charCodeAt(4) === 45) return parseRfc3339(v);
  if (c >= 48 && c <= 57) return epochTextToNs(v);
  return 0n;
}

export type TimeParser = (s: string) => bigint;

/**
 * Zone for timestamps written without one (RFC 3164 syslog, log4j `%d`, any
 * strptime format without %z): 'UTC', 'local' (this host's zone, DST
 * included) or a fixed offset '+05:30' / '-0800'.
 */
export type Timezone = string;

const ZONE_RE = /^([+-])(\d{2}):?(\d{2})$/;
export function isTimezone(tz: string): boolean { return tz === 'UTC' || tz === 'local' || ZONE_RE.test(tz); }

/**
 * Offset in minutes east of UTC for a wall-clock time parsed as if it were
 * UTC (`wallMs`). For 'local' the offset at that instant is used, which is
 * exact except within the hour a DST change repeats or skips.
 */
let localHour = NaN, localOff = 0;
export function zoneOffsetMin(tz: Timezone, wallMs: number): number {
  if (tz === 'UTC') return 0;
  if (tz === 'local') {
    // One Date per hour of log time instead of one per line (zone changes
    // fall on hour boundaries in all but a few zones' history).
    const hour = Math.floor(wallMs / 3_600_000);
    if (hour !== localHour) { localHour = hour; localOff = -new Date(wallMs).getTimezoneOffset(); }
    return localOff;
  }
  const m = ZONE_RE.exec(tz);
  return m === null ? 0 : (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

/**
 * Compile a time format once at config time. Named formats: `rfc3339`,
 * `epoch` (auto s/ms/us/ns), `epoch_s`, `epoch_ms`, `epoch_us`, `epoch_ns`.
 * Otherwise a strptime subset: %Y %y %m %d %e %H %M %S %b (month name) %f or
 * %L (fraction, any digits) %z (+hhmm, +hh:mm or Z) and %% ; other characters
 * match themselves. Missing year (syslog 3164 style `%b %e %H:%M:%S`) takes
 * the current UTC year; no %z means `tz` (default UTC).
 */
export function compileTimeFormat(fmt: string, tz: Timezone = 'UTC'): TimeParser {
  switch (fmt) {
    case 'rfc3339': case 'iso8601': return parseRfc3339;
    case 'epoch': return epochTextToNs;
    case 'epoch_s': return (s) => { const n = Number(s); return Number.isFinite(n) && n > 0 ? BigInt(Math.round(n * 1e6)) * 1000n : 0n; };
    case 'epoch_ms': return (s) => { const n = Number(s); return Number.isFinite(n) && n > 0 ? BigInt(Math.round(n * 1e3)) * 1000n : 0n; };
    case 'epoch_us': return (s) => (/^\d+$/.test(s) ? BigInt(s) * 1000n : 0n);
    case 'epoch_ns': return (s) => (/^\d+$/.test(s) ? BigInt(s) : 0n);
  }
  const fields: string[] = [];
  let src = '^';
  for (let i = 0; i < fmt.length; i++) {
    const ch = fmt[i]!;
    if (ch !== '%') { src += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, ' +'); continue; }
    const spec = fmt[++i];
    switch (spec) {
      case 'Y': src += '(\\d{4})'; fields.push('Y'); break;
      case 'y': src += '(\\d{2})'; fields.push('y'); break;
      case 'm': src += '(\\d{1,2})'; fields.push('m'); break;
      case 'd': case 'e': src += ' ?(\\d{1,2})'; fields.push('d'); break;
      case 'H': src += '(\\d{1,2})'; fields.push('H'); break;
      case 'M': src += '(\\d{2})'; fields.push('M'); break;
      case 'S': src += '(\\d{2})'; fields.push('S'); break;
      case 'f': case 'L': case 'N': src += '(\\d+)'; fields.push('f'); break;
      case 'b': case 'h': src += '([A-Za-z]{3})[a-z]*'; fields.push('b'); break;
      case 'z': src += '(Z|[+-]\\d{2}:?\\d{2})'; fields.push('z'); break;
      case '%': src += '%'; break;
      default: throw new Error(`unsupported time format directive %${spec ?? ''}`);
    }
  }
  const re = new RegExp(src + '$');
  return (s: string): bigint => {
    const m = re.exec(s);
    if (m === null) return 0n;
    let y = new Date().getUTCFullYear(), mo = 1, d = 1, h = 0, mi = 0, sec = 0, frac = 0, off = 0, zoned = false;
    for (let k = 0; k < fields.length; k++) {
      const v = m[k + 1]!;
      switch (fields[k]) {
        case 'Y': y = Number(v); break;
        case 'y': y = 2000 + Number(v); break;
        case 'm': mo = Number(v); break;
        case 'd': d = Number(v); break;
        case 'H': h = Number(v); break;
        case 'M': mi = Number(v); break;
        case 'S': sec = Number(v); break;
        case 'f': frac = fractionNs(v, 0, v.length); break;
        case 'b': mo = MONTHS[v.toLowerCase()] ?? 0; break;
        case 'z': zoned = true; if (v !== 'Z') { const sign = v[0] === '-' ? -1 : 1; const t = v.replace(':', ''); off = sign * (Number(t.slice(1, 3)) * 60 + Number(t.slice(3, 5))); } break;
      }
    }
    if (!zoned && tz !== 'UTC') off = zoneOffsetMin(tz, Date.UTC(y, mo - 1, d, h, mi, sec));
    return toNs(y, mo, d, h, mi, sec, frac, off);
  };
}

export { MONTHS };
