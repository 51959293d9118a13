// Fast path of the JSON decoder: one left-to-right scan of a flat top-level
// object, no JSON.parse and no intermediate object. It only accepts the
// shape most log lines have (string, number, true/false/null values, keys
// without escapes); anything else (nested object or array, odd syntax)
// returns false and the caller falls back to JSON.parse, which decides
// between "valid but nested" and "malformed". Unlike strict JSON it accepts
// raw control characters (a tab) inside strings: a log line is not rejected
// for that. Results go into reused
// parallel arrays owned by the caller: no per-record allocation but the
// value strings themselves.

export class FlatScan {
  keys: string[] = [];
  vals: (string | number | boolean | null)[] = [];
  /** Source text of number values (epoch timestamps keep ns precision), '' for others. */
  texts: string[] = [];
  /** UTF-16 start/end of each string value in the line (for zero-copy body slices). */
  starts: number[] = [];
  ends: number[] = [];
  /** Role of each key (fields.ts ROLE_*), from the key cache. */
  roles: number[] = [];
  n = 0;
  private readonly roleOf: Map<string, number>;
  constructor(roleOf: Map<string, number> = new Map()) { this.roleOf = roleOf; }
  /**
   * Key strings by hash of their characters. A key sliced fresh from every
   * line is a new, non-internalized string: each Map lookup rehashes it and
   * each `attrs[key] = v` internalizes it. Reusing the one string seen before
   * (verified with startsWith) is what JSON.parse gets for free from V8's
   * internalized keys. Before it and the indexOf below the fast path lost to
   * JSON.parse by ~30% on 200-byte lines (262K vs 363K records/s); with both
   * it is ahead (see the fast_path default in json.ts).
   */
  private readonly keyCache = new Map<number, { key: string; role: number }>();

  private push(k: string, role: number, v: string | number | boolean | null, text: string, start: number, end: number): void {
    const i = this.n++;
    this.keys[i] = k; this.roles[i] = role; this.vals[i] = v; this.texts[i] = text; this.starts[i] = start; this.ends[i] = end;
  }

  /** Scan `s`; true when it is a flat JSON object and every field was captured. */
  scan(s: string): boolean {
    this.n = 0;
    const len = s.length;
    const noEscapes = s.indexOf('\\') < 0;
    let i = 0;
    let c = 0;
    while (i < len && ((c = s.charCodeAt(i)) === 32 || c === 9)) i++;
    if (s.charCodeAt(i) !== 123) return false; // {
    i++;
    for (;;) {
      while (i < len && ((c = s.charCodeAt(i)) === 32 || c === 9)) i++;
      if (c === 125) { if (this.n !== 0) return false; i++; break; } // {} ; a trailing comma is not JSON
      if (c !== 34) return false; // "
      const ks = ++i;
      let h = 0;
      while (i < len && (c = s.charCodeAt(i)) !== 34) { if (c === 92 || c < 32) return false; h = (Math.imul(h, 31) + c) | 0; i++; }
      if (i >= len) return false;
      let ent = this.keyCache.get(h);
      if (ent === undefined || ent.key.length !== i - ks || !s.startsWith(ent.key, ks)) {
        const k = s.slice(ks, i);
        ent = { key: k, role: this.roleOf.get(k) ?? 0 };
        if (this.keyCache.size < 4096) this.keyCache.set(h, ent);
      }
      const key = ent.key, role = ent.role;
      i++;
      while (i < len && ((c = s.charCodeAt(i)) === 32 || c === 9)) i++;
      if (c !== 58) return false; // :
      i++;
      while (i < len && ((c = s.charCodeAt(i)) === 32 || c === 9)) i++;
      if (c === 34) {
        const vs = ++i;
        let esc = false;
        if (noEscapes) {
          // No backslash anywhere in the line: the closing quote is the next
          // quote, found by the native indexOf instead of a JS loop per char
          // (best of 12 rounds, 200-byte lines: 355K -> 518K records/s).
          i = s.indexOf('"', vs);
          if (i < 0) return false;
        } else {
          while (i < len && (c = s.charCodeAt(i)) !== 34) {
            if (c === 92) { esc = true; i += 2; continue; }
            i++;
          }
          if (i >= len) return false;
        }
        // Escapes are rare in log values; decoding just this string through
        // JSON.parse keeps exact JSON semantics (\uXXXX, surrogates).
        const v = esc ? (JSON.parse(s.slice(vs - 1, i + 1)) as string) : s.slice(vs, i);
        this.push(key, role, v, '', esc ? -1 : vs, i);
        i++;
      } else if (c === 45 || (c >= 48 && c <= 57)) {
        const vs = i;
        while (i < len && (((c = s.charCodeAt(i)) >= 48 && c <= 57) || c === 46 || c === 101 || c === 69 || c === 43 || c === 45)) i++;
        const text = s.slice(vs, i);
        const v = Number(text);
        if (!Number.isFinite(v) || !isJsonNumber(text)) return false;
        this.push(key, role, v, text, -1, -1);
      } else if (c === 116 && s.startsWith('true', i)) { this.push(key, role, true, '', -1, -1); i += 4; }
      else if (c === 102 && s.startsWith('false', i)) { this.push(key, role, false, '', -1, -1); i += 5; }
      else if (c === 110 && s.startsWith('null', i)) { this.push(key, role, null, '', -1, -1); i += 4; }
      else return false; // nested object/array or garbage
      while (i < len && ((c = s.charCodeAt(i)) === 32 || c === 9)) i++;
      if (c === 44) { i++; continue; } // ,
      if (c === 125) { i++; break; }
      return false;
    }
    while (i < len && ((c = s.charCodeAt(i)) === 32 || c === 9 || c === 13 || c === 10)) i++;
    return i === len;
  }
}

const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;
/** Strict JSON number grammar; plain integers (the common case) skip the regex. */
function isJsonNumber(t: string): boolean {
  const neg = t.charCodeAt(0) === 45 ? 1 : 0;
  let plain = t.length > neg;
  for (let k = neg; k < t.length && plain; k++) { const d = t.charCodeAt(k); if (d < 48 || d > 57) plain = false; }
  if (plain) return t.length === neg + 1 || t.charCodeAt(neg) !== 48;
  return JSON_NUMBER.test(t);
}
