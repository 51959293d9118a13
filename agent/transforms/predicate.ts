// Field predicates shared by filter and validate: `{ field, equals | matches | exists | in }`,
// compiled once (regexes built at config time, never per record).

import { ConfigError } from '../core/errors.ts';
import { join, readBool, readMap, readString } from '../config/schema.ts';
import type { LogRecord } from '../core/record.ts';
import { FieldRef } from './field-ref.ts';

export interface PredicateConfig {
  field: string;
  equals?: string | number | boolean;
  matches?: string;
  exists?: boolean;
  in?: (string | number | boolean)[];
}

export function readPredicate(raw: unknown, path: string): PredicateConfig {
  const m = readMap(raw, path, ['field', 'equals', 'matches', 'exists', 'in']);
  const field = readString(m, 'field', path);
  const ops = ['equals', 'matches', 'exists', 'in'].filter((k) => m[k] !== undefined);
  if (ops.length !== 1) throw new ConfigError(path, 'exactly one of equals, matches, exists, in', ops.length === 0 ? 'none' : ops.join(' and '));
  const p: PredicateConfig = { field };
  if (m.equals !== undefined) {
    const v = m.equals;
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new ConfigError(join(path, 'equals'), 'a string, number or boolean', v);
    p.equals = v;
  }
  if (m.matches !== undefined) {
    p.matches = readString(m, 'matches', path);
    try { new RegExp(p.matches); } catch (e) { throw new ConfigError(join(path, 'matches'), `a valid regular expression (${(e as Error).message})`, p.matches); }
  }
  if (m.exists !== undefined) p.exists = readBool(m, 'exists', path, true);
  if (m.in !== undefined) {
    if (!Array.isArray(m.in) || m.in.some((x) => typeof x !== 'string' && typeof x !== 'number' && typeof x !== 'boolean')) throw new ConfigError(join(path, 'in'), 'a list of strings or numbers', m.in);
    p.in = m.in as (string | number | boolean)[];
  }
  return p;
}

export function readPredicates(raw: unknown, path: string): PredicateConfig[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new ConfigError(path, 'a list of predicates ({field, equals|matches|exists|in})', raw);
  return raw.map((r, i) => readPredicate(r, join(path, i)));
}

export class Predicate {
  private readonly ref: FieldRef;
  private readonly op: number;
  private readonly equals: string;
  private readonly re: RegExp | null;
  private readonly exists: boolean;
  private readonly set: Set<string> | null;
  constructor(c: PredicateConfig) {
    this.ref = new FieldRef(c.field);
    this.op = c.equals !== undefined ? 1 : c.matches !== undefined ? 2 : c.exists !== undefined ? 3 : 4;
    this.equals = c.equals === undefined ? '' : String(c.equals);
    this.re = c.matches === undefined ? null : new RegExp(c.matches);
    this.exists = c.exists ?? true;
    this.set = c.in === undefined ? null : new Set(c.in.map(String));
  }
  test(rec: LogRecord): boolean {
    const v = this.ref.get(rec);
    switch (this.op) {
      case 1: return v !== undefined && (typeof v === 'string' ? v : String(v)) === this.equals;
      case 2: return v !== undefined && this.re!.test(typeof v === 'string' ? v : String(v));
      case 3: return (v !== undefined) === this.exists;
      default: return v !== undefined && this.set!.has(typeof v === 'string' ? v : String(v));
    }
  }
}
