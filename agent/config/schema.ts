// Small typed readers for config validation. Every reader takes the raw value
// and its dotted key path, returns the typed value or throws ConfigError naming
// the path and what was expected. Components build their validate() from these
// so the error wording is the same everywhere.

import { ConfigError } from '../core/errors.ts';

export type Raw = Record<string, unknown>;

// While a whole file is validated (collectConfigErrors), problems that do not
// stop a reader from returning (an unknown key: the reader just ignores it)
// are noted here instead of thrown, so one run reports every misspelt key.
// Validation is synchronous, so one module-level list is enough.
let noted: ConfigError[] | null = null;

/**
 * Runs `fn` noting every unknown key instead of throwing at the first; returns
 * what it returned (undefined when it threw a ConfigError, which is noted as
 * well) and every problem in the order found. Other errors pass through.
 */
export function collectConfigErrors<T>(fn: () => T): { value: T | undefined; errors: ConfigError[] } {
  const outer = noted;
  const mine: ConfigError[] = [];
  noted = mine;
  try {
    return { value: fn(), errors: mine };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    mine.push(err);
    return { value: undefined, errors: mine };
  } finally {
    noted = outer;
    if (outer) outer.push(...mine);
  }
}

/** A problem that need not stop validation: noted while collecting, thrown otherwise. */
export function noteConfigError(err: ConfigError): void {
  if (noted) noted.push(err);
  else throw err;
}

/**
 * The accepted word closest to `got` when it is close enough to be a typo:
 * at most a third of its length in edits (and at least one), by
 * Damerau-Levenshtein distance (a swap of two letters is one edit).
 */
export function closest(got: string, accepted: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Math.max(1, Math.floor(got.length / 3)) + 1;
  for (const a of accepted) {
    const d = editDistance(got.toLowerCase(), a.toLowerCase());
    if (d < bestD) { best = a; bestD = d; }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) { rows[0]![j] = j; continue; }
      const r = rows[i]!, up = rows[i - 1]!;
      let d = Math.min(up[j]! + 1, r[j - 1]! + 1, up[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      r[j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * A map (or absent -> {}); rejects keys not in `allowed` so typos are caught,
 * each with the closest accepted key as a suggestion. Throws the first
 * unknown key, or notes every one while a whole file is validated.
 */
export function readMap(raw: unknown, path: string, allowed?: readonly string[]): Raw {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(path, 'a map', raw);
  if (allowed) {
    for (const k of Object.keys(raw)) {
      if (!allowed.includes(k)) noteConfigError(new ConfigError(join(path, k), `one of the known keys (${allowed.join(', ')})`, 'an unknown key', closest(k, allowed)));
    }
  }
  return raw as Raw;
}

export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

export function readString(m: Raw, key: string, path: string, def?: string): string {
  const v = m[key];
  if (v === undefined || v === null) {
    if (def === undefined) throw new ConfigError(join(path, key), 'a string (required)');
    return def;
  }
  if (typeof v !== 'string') throw new ConfigError(join(path, key), 'a string', v);
  return v;
}

export function readOptString(m: Raw, key: string, path: string): string | undefined {
  const v = m[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ConfigError(join(path, key), 'a string', v);
  return v;
}

export function readBool(m: Raw, key: string, path: string, def: boolean): boolean {
  const v = m[key];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'boolean') throw new ConfigError(join(path, key), 'true or false', v);
  return v;
}

export function readInt(m: Raw, key: string, path: string, def: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = m[key];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(join(path, key), `an integer from ${min} to ${max}`, v);
  }
  return v;
}

export function readNumber(m: Raw, key: string, path: string, def: number, min = -Infinity, max = Infinity): number {
  const v = m[key];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new ConfigError(join(path, key), `a number from ${min} to ${max}`, v);
  }
  return v;
}

export function readEnum<T extends string>(m: Raw, key: string, path: string, choices: readonly T[], def: T): T {
  const v = m[key];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'string' || !choices.includes(v as T)) throw new ConfigError(join(path, key), `one of ${choices.join(', ')}`, v, typeof v === 'string' ? closest(v, choices) : undefined);
  return v as T;
}

export function readStringList(m: Raw, key: string, path: string, def: string[]): string[] {
  const v = m[key];
  if (v === undefined || v === null) return def;
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list)) throw new ConfigError(join(path, key), 'a list of strings', v);
  list.forEach((s, i) => { if (typeof s !== 'string') throw new ConfigError(join(join(path, key), i), 'a string', s); });
  return list as string[];
}

export function readStringMap(m: Raw, key: string, path: string): Record<string, string> {
  const inner = readMap(m[key], join(path, key));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(inner)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new ConfigError(join(join(path, key), k), 'a string', v);
    out[k] = String(v);
  }
  return out;
}

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
/** A duration written as text; also the `pattern` of durations in the JSON Schema (agent/config/json-schema.ts). */
export const durationPattern = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/;
/** A size written as text (units in any case); also the `pattern` of sizes in the JSON Schema, which has no flags, hence the classes. */
export const sizePattern = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgG][iI]?[bB]|[bB])?\s*$/;
/** Duration as `250ms`, `5s`, `2m`, `1h` or a bare number of milliseconds. Returns ms. */
export function readDuration(m: Raw, key: string, path: string, defMs: number): number {
  const v = m[key];
  if (v === undefined || v === null) return defMs;
  if (typeof v === 'number' && v >= 0) return v;
  if (typeof v === 'string') {
    const x = durationPattern.exec(v);
    if (x) return Math.round(Number(x[1]) * durationUnits[x[2]!]!);
  }
  throw new ConfigError(join(path, key), 'a duration such as 250ms, 5s, 2m', v);
}

const sizeUnits: Record<string, number> = { b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3 };
/** Size as `64KiB`, `1MB`, `2GiB` or a bare number of bytes. Returns bytes. */
export function readBytes(m: Raw, key: string, path: string, def: number, min = 0): number {
  const v = m[key];
  if (v === undefined || v === null) return def;
  let n: number | undefined;
  if (typeof v === 'number' && Number.isInteger(v)) n = v;
  else if (typeof v === 'string') {
    const x = sizePattern.exec(v);
    if (x) n = Math.round(Number(x[1]) * sizeUnits[(x[2] ?? 'b').toLowerCase()]!);
  }
  if (n === undefined || n < min) throw new ConfigError(join(path, key), `a size such as 64KiB or 1MB (at least ${min} bytes)`, v);
  return n;
}
