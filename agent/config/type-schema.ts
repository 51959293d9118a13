// The JSON Schema of a value from the reference's type words ("duration",
// "int 1..64", "enum `a`, `b`", "list of strings", "map string -> string"):
// the fallback of a declared field that states no schema of its own
// (agent/config/declare.ts), so what COMPONENTS.md says a key takes and what
// `edgelog schema` accepts come from the same declaration. An unknown
// wording is an error, so a new kind of type cannot silently go unchecked.

import { parseYaml } from './yaml.ts';
import { durationPattern, sizePattern } from './schema.ts';

export type JsonSchema = { [key: string]: unknown };

/** The backticked values of a cell (`''` is the empty string). */
export function ticks(s: string): string[] {
  return [...s.matchAll(/`([^`]*)`/g)].map((m) => (m[1] === "''" ? '' : m[1]!));
}

const stringList: JsonSchema = { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] };

export const durationSchema: JsonSchema = { anyOf: [{ type: 'number', minimum: 0 }, { type: 'string', pattern: durationPattern.source }] };

/** A size: bytes (at least `min`), or text with a unit (its floor is the reader's to check). */
export function sizeSchema(min = 0): JsonSchema {
  return { anyOf: [{ type: 'integer', minimum: min }, { type: 'string', pattern: sizePattern.source }] };
}

export function typeSchema(type: string, where: string): JsonSchema {
  let m: RegExpExecArray | null;
  if (['string', 'regex', 'host:port', 'sink id'].includes(type)) return { type: 'string' };
  if (type === "level or `''`") return { type: 'string' };
  if (type === 'bool') return { type: 'boolean' };
  if (type === 'duration') return durationSchema;
  if (type === 'size') return sizeSchema();
  if ((m = /^(int|number)(?: (-?[\d.]+)\.\.(-?[\d.]+))?$/.exec(type))) {
    const s: JsonSchema = { type: m[1] === 'int' ? 'integer' : 'number' };
    if (m[2] !== undefined) { s.minimum = Number(m[2]); s.maximum = Number(m[3]); }
    return s;
  }
  if ((m = /^enum (`.*)$/.exec(type))) return { enum: ticks(m[1]!) };
  if ((m = /^`(\w+)` or (.+)$/.exec(type))) return { anyOf: [{ const: m[1] }, typeSchema(m[2]!, where)] };
  if (type === 'string, number or bool') return { type: ['string', 'number', 'boolean'] };
  // A single string is taken as a one-item list (readStringList).
  if (/^list of (strings|absolute globs|host:port|IP\/CIDR|fields|\w+ ids)$/.test(type)) return stringList;
  if ((m = /^list of (`.*)$/.exec(type))) {
    const one = { enum: ticks(m[1]!) };
    return { anyOf: [one, { type: 'array', items: one }] };
  }
  if (type === 'list of int') return { type: 'array', items: { type: 'integer' } };
  if (type === 'list' || /^list of (predicates|rules|clusters)$/.test(type)) return { type: 'array' };
  if (type === 'map') return { type: ['object', 'null'] };
  if (type === 'map, or `true`') return { anyOf: [{ type: ['object', 'null'] }, { const: true }] };
  if ((m = /^map \w+ -> (.+)$/.exec(type))) {
    const values = m[1]!.startsWith('`') ? { enum: ticks(m[1]!) } : m[1] === 'string' ? { type: ['string', 'number', 'boolean'] } : { type: 'string' };
    return { type: ['object', 'null'], additionalProperties: values };
  }
  throw new Error(`config key ${where}: type ${JSON.stringify(type)} has no JSON Schema form (agent/config/type-schema.ts)`);
}

/** A single backticked value is a default; "(required)", "(none)" and prose are not. */
export function defaultOf(def: string): { value: unknown } | null {
  const m = /^`([^`]*)`$/.exec(def);
  return m ? { value: parseYaml(m[1]!) as unknown } : null;
}
