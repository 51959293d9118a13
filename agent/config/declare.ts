// A section's keys declared once. From one declaration come the TypeScript
// type (`Infer<typeof spoolSection>`), the reader (the typed readers of
// schema.ts, so key paths, expectations, all-errors collection and "did you
// mean" are exactly as elsewhere), the defaults, and the reference rows of
// agent/COMPONENTS.md (written by `node agent/config/reference-rows.ts
// --write`; test/config/reference-rows.test.ts fails on a diff) and the
// section's JSON Schema (`jsonSchema()`: each field's own schema, or the one
// its type words give, agent/config/type-schema.ts; plus the cross-key rules
// stated as JSON Schema beside the reader's), which json-schema.ts assembles.
//
// In-house rather than a library: it must run under Node's type stripping
// (no decorators, no codegen), reuse the readers' error wording, and print
// the reference's own type words; zod or typebox would do the first, neither
// the other two without as much glue as this file.
//
// A field is declared under the name the code uses (`fsync_interval_ms`) with
// the YAML key it is read from (`fsync_interval`).

import type { ComponentSpec } from '../core/component.ts';
import type { ReferenceRow } from './reference-rows.ts';
import { defaultOf, durationSchema, type JsonSchema, sizeSchema, typeSchema } from './type-schema.ts';
import { ConfigError } from '../core/errors.ts';
import { join, noteConfigError, readBool, readBytes, readDuration, readEnum, readInt, readMap, readNumber, readOptString, readString, readStringList, readStringMap, type Raw } from './schema.ts';

export interface Field<T> {
  /** The YAML key. */
  readonly key: string;
  /** The reference's type words (COMPONENTS.md "type" column; json-schema.ts reads them). */
  readonly type: string;
  readonly def: T;
  /** The default as the reference writes it. */
  readonly defText: string;
  readonly meaning: string;
  read(m: Raw, path: string): T;
  /** The value's JSON Schema when the type words say less (a pattern, a floor); otherwise derived from `type`. */
  readonly schema?: JsonSchema;
  /** A nested map's own declaration: its rows follow this field's, under `key.` (`key[].` for a list of such maps). */
  readonly nested?: Section<unknown>;
  readonly list?: boolean;
}

type Fields = Record<string, Field<unknown>>;
type Values<F extends Fields> = { -readonly [K in keyof F]: F[K] extends Field<infer T> ? T : never };

export interface Section<T> {
  readonly fields: { readonly [K in keyof T]: Field<T[K]> };
  /** The accepted YAML keys. */
  readonly keys: readonly string[];
  readonly defaults: T;
  /** Reads a map (absent -> every default); unknown keys are noted with a suggestion, rules applied. */
  read(raw: unknown, path: string): T;
  /** The reference rows, each key under `prefix` (`spool.` for a nested map). */
  rows(prefix?: string): ReferenceRow[];
  /** The map's JSON Schema: its keys (no other), their values, defaults and descriptions, and the cross-key rules. `inList`: an entry of a list (no defaults). */
  jsonSchema(inList?: boolean): JsonSchema;
}

export type Infer<S> = S extends Section<infer T> ? T : never;

/**
 * A section of `fields`; `rules` runs on the values read, with the raw map
 * (to tell a key written from a default), for what crosses keys;
 * `schemaRules` states those of them a JSON Schema can say, so the schema
 * refuses what the reader refuses (test/config/json-schema.test.ts).
 */
export function section<F extends Fields>(fields: F, rules?: (cfg: Values<F>, m: Raw, path: string) => void, schemaRules?: JsonSchema): Section<Values<F>> {
  const entries = Object.entries(fields);
  const keys = entries.map(([, f]) => f.key);
  const defaults = Object.fromEntries(entries.map(([name, f]) => [name, f.def])) as Values<F>;
  return {
    fields: fields as unknown as Section<Values<F>>['fields'],
    keys,
    defaults,
    read(raw, path) {
      const m = readMap(raw, path, keys);
      // Every bad key of the section is reported while a whole file is validated
      // (the field takes its default and reading goes on); alone, the first throws.
      const cfg = Object.fromEntries(entries.map(([name, f]) => [name, readOrNote(f, m, path)])) as Values<F>;
      rules?.(cfg, m, path);
      return cfg;
    },
    rows(prefix = '') {
      return entries.flatMap(([, f]) => [
        { key: `${prefix}${f.key}`, type: f.type, def: f.defText, meaning: f.meaning },
        ...(f.nested?.rows(`${prefix}${f.key}${f.list ? '[]' : ''}.`) ?? []),
      ]);
    },
    jsonSchema(inList = false) {
      const properties: Record<string, JsonSchema> = {};
      const required: string[] = [];
      for (const [, f] of entries) {
        properties[f.key] = fieldSchema(f, inList);
        if (f.defText === '(required)') required.push(f.key);
      }
      return {
        type: 'object', properties, additionalProperties: false,
        ...(required.length > 0 ? { required } : {}),
        ...(schemaRules ? { allOf: [schemaRules] } : {}),
      };
    },
  };
}

/** A field's JSON Schema with its description and (outside list entries) its default. */
export function fieldSchema(f: Field<unknown>, inList: boolean): JsonSchema {
  let s: JsonSchema;
  if (f.nested && f.list) s = { type: 'array', items: f.nested.jsonSchema(true) };
  else if (f.nested) {
    const obj = { ...f.nested.jsonSchema(inList), type: ['object', 'null'] };
    // `map, or true`: true stands for every default.
    s = f.type.endsWith('or `true`') ? { anyOf: [obj, { const: true }] } : obj;
  } else s = f.schema ?? typeSchema(f.type, f.key);
  // Inside a list entry the reference writes defaults as prose (`[<name>]`, "its position"), not values.
  const d = inList ? null : defaultOf(f.defText);
  return { ...s, description: f.meaning, ...(d ? { default: d.value } : {}) };
}

/** A component whose config is `s`: its spec's defaults and validate() are the declaration's. */
export function declaredComponent<T, I>(s: Section<T>, spec: Omit<ComponentSpec<T, I>, 'defaults' | 'validate'>): ComponentSpec<T, I> {
  return { ...spec, defaults: s.defaults, validate: (raw, path) => s.read(raw, path) };
}

/**
 * A rule across the keys of one map, stated once: the reader's check (on the
 * raw map, throwing a ConfigError naming the key) and the same rule as JSON
 * Schema. Combine with `keyRules`, pass its `check` inside a section's rules
 * and its `schema` as the section's schemaRules.
 */
export interface KeyRule {
  check(m: Raw, path: string): void;
  readonly schema: JsonSchema;
}

/** Written with a value (an empty string counts as not written, as the readers' checks always did). */
const written = (m: Raw, k: string): boolean => m[k] !== undefined && m[k] !== null && m[k] !== '';
const writtenSchema = (k: string): JsonSchema => ({ required: [k], properties: { [k]: { not: { const: '' } } } });

/** `a` and `b` not both; the error names `b`. */
export function notBoth(a: string, b: string, expected: string): KeyRule {
  return {
    check: (m, path) => { if (written(m, a) && written(m, b)) throw new ConfigError(join(path, b), expected); },
    schema: { not: { allOf: [writtenSchema(a), writtenSchema(b)] } },
  };
}

/** At least one of `keys`; the error names the first. */
export function anyOfKeys(keys: readonly string[], expected: string): KeyRule {
  return {
    check: (m, path) => { if (!keys.some((k) => written(m, k))) throw new ConfigError(join(path, keys[0]!), expected); },
    schema: { anyOf: keys.map(writtenSchema) },
  };
}

/** Exactly one of `keys` (null and '' count as written here: a predicate's `equals: ''` is a value); the error names the map and what was written. */
export function oneOfKeys(keys: readonly string[], expected: string): KeyRule {
  return {
    check: (m, path) => {
      const got = keys.filter((k) => m[k] !== undefined);
      if (got.length !== 1) throw new ConfigError(path, expected, got.length === 0 ? 'none' : got.join(' and '));
    },
    schema: { oneOf: keys.map((k) => ({ required: [k] })) },
  };
}

/** Several rules as one: their checks in order, their schemas all applying. */
export function keyRules(...rules: KeyRule[]): KeyRule {
  return {
    check: (m, path) => { for (const r of rules) r.check(m, path); },
    schema: rules.length === 1 ? rules[0]!.schema : { allOf: rules.map((r) => r.schema) },
  };
}

function readOrNote<T>(f: Field<T>, m: Raw, path: string): T {
  try {
    return f.read(m, path);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    noteConfigError(err);
    return f.def;
  }
}

/** A field no helper below fits: its reference type words, default, and reader. */
export function field<T>(key: string, type: string, def: T, defText: string, meaning: string, read: (m: Raw, path: string) => T, schema?: JsonSchema): Field<T> {
  return { key, type, def, defText, meaning, read, ...(schema ? { schema } : {}) };
}

/** A nested map declared by `inner`; `read` gets the raw value (absent, `true`, `false`...) and its path. */
export function nested<T>(key: string, inner: Section<unknown>, type: string, def: T, defText: string, meaning: string, read: (raw: unknown, path: string) => T): Field<T> {
  return { key, type, def, defText, meaning, nested: inner, read: (m, path) => read(m[key], join(path, key)) };
}

/** A list of maps each declared by `inner`; `read` gets the raw value and its path. */
export function listOf<T>(key: string, inner: Section<unknown>, type: string, defText: string, meaning: string, read: (raw: unknown, path: string) => T, def: T): Field<T> {
  return { key, type, def, defText, meaning, nested: inner, list: true, read: (m, path) => read(m[key], join(path, key)) };
}

/** `f` described otherwise where it is reused ("as for `tcp`"). */
export function described<T>(f: Field<T>, meaning: string): Field<T> {
  return { ...f, meaning };
}

export const tick = (s: string): string => `\`${s === '' ? "''" : s}\``;

export function text(key: string, def: string, meaning: string): Field<string> {
  return { key, type: 'string', def, defText: tick(def), meaning, read: (m, path) => readString(m, key, path, def) };
}

/** A string with no default; `defText` says when it is required ("(required with tls)"). */
export function requiredText(key: string, meaning: string, defText = '(required)'): Field<string> {
  // The default is never used: read throws without the key (while collecting, '' stands in).
  return { key, type: 'string', def: '', defText, meaning, read: (m, path) => readString(m, key, path) };
}

/** An optional string: absent = off. */
export function optText(key: string, meaning: string): Field<string | undefined> {
  return { key, type: 'string', def: undefined, defText: '(none)', meaning, read: (m, path) => readOptString(m, key, path) };
}

/** A map of strings (absent = empty); `type` is the reference's words for it ("map old -> new"). */
export function stringMap(key: string, meaning: string, type = 'map string -> string'): Field<Record<string, string>> {
  return { key, type, def: {}, defText: '`{}`', meaning, read: (m, path) => readStringMap(m, key, path) };
}

/** A list of strings (absent = `def`; a lone string is a list of one). */
export function stringList(key: string, meaning: string, def: string[] = []): Field<string[]> {
  return { key, type: 'list of strings', def, defText: tick(listText(def)), meaning, read: (m, path) => readStringList(m, key, path, def) };
}

/** A list as YAML flow text (`[a, b, '@c']`): items quoted only where YAML would read them otherwise. */
function listText(items: readonly string[]): string {
  return `[${items.map((s) => (/^[A-Za-z_][\w.-]*$/.test(s) ? s : `'${s}'`)).join(', ')}]`;
}

export function flag(key: string, def: boolean, meaning: string): Field<boolean> {
  return { key, type: 'bool', def, defText: tick(String(def)), meaning, read: (m, path) => readBool(m, key, path, def) };
}

/** An integer; without `max` the reference says just `int` (the floor belongs in the meaning). */
export function int(key: string, def: number, meaning: string, min = 0, max?: number): Field<number> {
  const schema: JsonSchema = { type: 'integer', minimum: min, ...(max === undefined ? {} : { maximum: max }) };
  return { key, type: max === undefined ? 'int' : `int ${min}..${max}`, def, defText: tick(String(def)), meaning, schema, read: (m, path) => readInt(m, key, path, def, min, max) };
}

/** A number (fractions allowed) at least `min`; without `max` the reference says just `number` (the floor belongs in the meaning). */
export function num(key: string, def: number, meaning: string, min = -Infinity, max?: number): Field<number> {
  const schema: JsonSchema = { type: 'number', ...(Number.isFinite(min) ? { minimum: min } : {}), ...(max === undefined ? {} : { maximum: max }) };
  return { key, type: max === undefined ? 'number' : `number ${min}..${max}`, def, defText: tick(String(def)), meaning, schema, read: (m, path) => readNumber(m, key, path, def, min, max) };
}

/** `f` with the reference's type words of what it holds ("list of fields" for a list of strings). */
export function derivedType<T>(f: Field<T>, type: string): Field<T> {
  return { ...f, type };
}

/** `f` with its default written as prose, for a default a rule derives from another key ("half of `max_bytes`"). */
export function derivedDefault<T>(f: Field<T>, defText: string): Field<T> {
  return { ...f, defText };
}

export function choice<const C extends string>(key: string, choices: readonly C[], def: C, meaning: string): Field<C> {
  return { key, type: `enum ${choices.map(tick).join(', ')}`, def, defText: tick(def), meaning, read: (m, path) => readEnum(m, key, path, choices, def) };
}

const hostPortPattern = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$/;
export const hostPortSchema: JsonSchema = { type: 'string', pattern: hostPortPattern.source };

function readHostPort(m: Raw, key: string, path: string, def: string | undefined, example: string): string | undefined {
  const v = def === undefined ? readOptString(m, key, path) : readString(m, key, path, def);
  if (v !== undefined && !hostPortPattern.test(v)) throw new ConfigError(join(path, key), `host:port such as ${example}`, v);
  return v;
}

/** A listen address, `host:port` (`[v6]:port`). */
export function address(key: string, def: string, example: string, meaning: string): Field<string> {
  return { key, type: 'host:port', def, defText: tick(def), meaning, schema: hostPortSchema, read: (m, path) => readHostPort(m, key, path, def, example)! };
}

/** An optional listen address: absent = off. */
export function optAddress(key: string, example: string, meaning: string): Field<string | undefined> {
  return { key, type: 'host:port', def: undefined, defText: '(none)', meaning, schema: hostPortSchema, read: (m, path) => readHostPort(m, key, path, undefined, example) };
}

/** A duration in the file (`500ms`, `5s`), milliseconds in the code. */
export function duration(key: string, defMs: number, meaning: string): Field<number> {
  return { key, type: 'duration', def: defMs, defText: tick(durationText(defMs)), meaning, schema: durationSchema, read: (m, path) => readDuration(m, key, path, defMs) };
}

/** A size in the file (`64KiB`, `1MB`), bytes in the code. */
export function size(key: string, def: number, meaning: string, min = 0): Field<number> {
  return { key, type: 'size', def, defText: tick(sizeText(def)), meaning, schema: sizeSchema(min), read: (m, path) => readBytes(m, key, path, def, min) };
}

export function durationText(ms: number): string {
  // `0`, not `0ms`: off is off in any unit.
  if (ms === 0) return '0';
  for (const [unit, n] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms > 0 && ms % n === 0) return `${ms / n}${unit}`;
  }
  return `${ms}ms`;
}

export function sizeText(bytes: number): string {
  for (const [unit, n] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (bytes > 0 && bytes % n === 0) return `${bytes / n}${unit}`;
  }
  return String(bytes);
}
