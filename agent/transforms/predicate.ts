// Field predicates shared by filter and validate: `{ field, equals | matches | exists | in }`,
// compiled once (regexes built at config time, never per record).

import { ConfigError } from '../core/errors.ts';
import { join, readBool, readOptString, type Raw } from '../config/schema.ts';
import { type Field, field, type Infer, listOf, oneOfKeys, requiredText, section } from '../config/declare.ts';
import type { LogRecord } from '../core/record.ts';
import { FieldRef } from './field-ref.ts';

type Scalar = string | number | boolean;
const isScalar = (v: unknown): v is Scalar => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

const oneOperator = oneOfKeys(['equals', 'matches', 'exists', 'in'], 'exactly one of equals, matches, exists, in');

/** One predicate's keys, declared once; `asFor`: the meanings say "as for `include`" (filter's `exclude`). */
export function predicateSection(asFor?: string) {
  const as = (own: string): string => (asFor ? `as for \`${asFor}\`` : own);
  return section({
    field: requiredText('field', as('field the predicate tests')),
    equals: field<Scalar | undefined>('equals', 'string, number or bool', undefined, '(none)', as('the field equals this'), (m: Raw, path: string) => {
      const v = m.equals;
      if (v !== undefined && !isScalar(v)) throw new ConfigError(join(path, 'equals'), 'a string, number or boolean', v);
      return v;
    }),
    matches: field<string | undefined>('matches', 'regex', undefined, '(none)', as("the field's text matches"), (m: Raw, path: string) => {
      const v = readOptString(m, 'matches', path);
      if (v !== undefined) {
        try { new RegExp(v); } catch (e) { throw new ConfigError(join(path, 'matches'), `a valid regular expression (${(e as Error).message})`, v); }
      }
      return v;
    }),
    exists: field<boolean | undefined>('exists', 'bool', undefined, '(none)', as('the field is present (`true`) or absent (`false`)'), (m: Raw, path: string) => (m.exists === undefined ? undefined : readBool(m, 'exists', path, true))),
    in: field<Scalar[] | undefined>('in', 'list', undefined, '(none)', as('the field equals one of these'), (m: Raw, path: string) => {
      const v = m.in;
      if (v !== undefined && (!Array.isArray(v) || !v.every(isScalar))) throw new ConfigError(join(path, 'in'), 'a list of strings or numbers', v);
      return v as Scalar[] | undefined;
    }),
  }, (_p, m, path) => oneOperator.check(m, path), oneOperator.schema);
}

const predicate = predicateSection();
export type PredicateConfig = Infer<typeof predicate>;

export function readPredicate(raw: unknown, path: string): PredicateConfig {
  return predicate.read(raw, path);
}

/** A list of predicates (absent: none). */
export function readPredicates(raw: unknown, path: string): PredicateConfig[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new ConfigError(path, 'a list of predicates ({field, equals|matches|exists|in})', raw);
  return raw.map((r, i) => readPredicate(r, join(path, i)));
}

/** A list of predicates under `key`, its entries' rows under `key[].`. */
export function predicateList(key: string, meaning: string, asFor?: string): Field<PredicateConfig[]> {
  return listOf(key, predicateSection(asFor), 'list of predicates', '`[]`', meaning, readPredicates, []);
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
