// The config file's JSON Schema (draft 2020-12), for editors (`edgelog
// schema`; a YAML language server completes keys and flags mistakes while
// typing). It is derived, not written a third time:
//   - which component types exist, per section: the registry (agent/registry.ts);
//   - every key of every section and component, its type, enum values,
//     default and description: the tables of agent/COMPONENTS.md, which
//     test/docs/components-reference.test.ts keeps in step with the validators
//     (every accepted key documented, every documented default effective);
//   - the text forms of durations and sizes: the patterns the readers use
//     (agent/config/schema.ts).
// The schema is never stricter than the validators (a config they accept, it
// accepts); it can be looser where the docs say less than the code (a
// cross-key rule such as "brokers or clusters", a host:port syntax).

import { readFileSync } from 'node:fs';
import type { ComponentKind } from '../core/component.ts';
import { allSpecs } from '../registry.ts';
import { decoderSpecs } from '../decoders/index.ts';
import { parse as parseYaml } from 'yaml';
import { durationPattern, sizePattern } from './schema.ts';
import { clientTlsRules, serverTlsRules } from './tls.ts';
import { saslRules } from './sasl.ts';

export type JsonSchema = { [key: string]: unknown };

/** One row of a COMPONENTS.md table. */
export interface ReferenceRow {
  readonly key: string;
  readonly type: string;
  readonly def: string;
  readonly meaning: string;
}

const referenceFile = new URL('../COMPONENTS.md', import.meta.url);

/**
 * The reference's tables by section id: `source:file`, `decoder:json`,
 * `transform:filter`, `encoder:raw`, `sink:kafka`, `top:agent`, `top` (the
 * top-level keys) and `sink-common` (keys every sink takes).
 */
export function readReference(text = readFileSync(referenceFile, 'utf8')): Map<string, ReferenceRow[]> {
  const sections = new Map<string, ReferenceRow[]>();
  let current: ReferenceRow[] | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('## ')) { current = null; continue; }
    if (line.startsWith('### ')) {
      const h = line.slice(4).trim();
      const id = sectionId(h);
      if (!id) throw new Error(`agent/COMPONENTS.md: unrecognised section heading ${JSON.stringify(h)}`);
      current = [];
      sections.set(id, current);
      continue;
    }
    const row = /^\| `([^`]+)` \|([^|]*)\|([^|]*)\|(.*)\|\s*$/.exec(line);
    if (row && current) current.push({ key: row[1]!, type: row[2]!.trim(), def: row[3]!.trim(), meaning: row[4]!.trim() });
  }
  return sections;
}

export function sectionId(heading: string): string | null {
  let m = /^`([\w.-]+)` \((source|decoder|transform|encoder|sink)\)$/.exec(heading);
  if (m) return `${m[2]}:${m[1]}`;
  m = /^`(\w+)` \(top level\)$/.exec(heading);
  if (m) return `top:${m[1]}`;
  if (heading === 'Top-level keys') return 'top';
  if (heading.startsWith('Every sink:')) return 'sink-common';
  return null;
}

/** The reference section of a registered component (processors split into decoders and transforms). */
function sectionOf(kind: ComponentKind, type: string): string {
  if (kind !== 'processor') return `${kind}:${type}`;
  return decoderSpecs.some((s) => s.type === type) ? `decoder:${type}` : `transform:${type}`;
}

/** The backticked values of a cell (`''` is the empty string). */
function ticks(s: string): string[] {
  return [...s.matchAll(/`([^`]*)`/g)].map((m) => (m[1] === "''" ? '' : m[1]!));
}

const stringList: JsonSchema = { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] };

/**
 * The JSON Schema of one type as the reference writes it. Maps and lists of
 * maps get their keys from the nested rows (see objectOf). An unknown wording
 * is an error, so a new kind of type in the docs cannot silently go unchecked.
 */
function typeSchema(type: string, where: string): JsonSchema {
  let m: RegExpExecArray | null;
  if (['string', 'regex', 'host:port', 'sink id'].includes(type)) return { type: 'string' };
  if (type === "level or `''`") return { type: 'string' };
  if (type === 'bool') return { type: 'boolean' };
  if (type === 'duration') return { anyOf: [{ type: 'number', minimum: 0 }, { type: 'string', pattern: durationPattern.source }] };
  if (type === 'size') return { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', pattern: sizePattern.source }] };
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
  throw new Error(`agent/COMPONENTS.md ${where}: type ${JSON.stringify(type)} has no JSON Schema form (agent/config/json-schema.ts)`);
}

/** A single backticked value is a default; "(required)", "(none)" and prose are not. */
function defaultOf(def: string): { value: unknown } | null {
  const m = /^`([^`]*)`$/.exec(def);
  return m ? { value: parseYaml(m[1]!) as unknown } : null;
}

interface KeyNode { row?: ReferenceRow; children: Map<string, KeyNode> }

/** The rows of a section as a tree: `tls.cert_file` under `tls`, `include[].field` under `include` -> `[]`. */
function keyTree(rows: readonly ReferenceRow[]): KeyNode {
  const root: KeyNode = { children: new Map() };
  for (const row of rows) {
    let node = root;
    for (const seg of row.key.replace(/\[\]/g, '.[]').split('.')) {
      let next = node.children.get(seg);
      if (!next) { next = { children: new Map() }; node.children.set(seg, next); }
      node = next;
    }
    node.row = row;
  }
  return root;
}

/** An object with exactly the keys below `node` (no other key is accepted: that is how misspellings show). */
function objectOf(node: KeyNode, where: string, extra: Record<string, JsonSchema> = {}): JsonSchema {
  const properties: Record<string, JsonSchema> = { ...extra };
  const required: string[] = [];
  for (const [key, child] of node.children) {
    properties[key] = keySchema(child, `${where}.${key}`);
    if (child.row?.def === '(required)') required.push(key);
  }
  const s: JsonSchema = { type: 'object', properties, additionalProperties: false };
  if (required.length > 0) s.required = required;
  // "(required without clusters)": one of the two keys must be there.
  const either = [...node.children].flatMap(([key, child]) => {
    const m = /^\(required without (\w+)\)$/.exec(child.row?.def ?? '');
    return m && node.children.has(m[1]!) ? [{ anyOf: [{ required: [key] }, { required: [m[1]!] }] }] : [];
  });
  if (either.length === 1) Object.assign(s, either[0]);
  else if (either.length > 1) s.allOf = either;
  return s;
}

function keySchema(node: KeyNode, where: string): JsonSchema {
  if (!node.row) throw new Error(`agent/COMPONENTS.md ${where}: nested keys without a row for their map`);
  let s = typeSchema(node.row.type, where);
  const items = node.children.get('[]');
  const keys = new Map([...node.children].filter(([k]) => k !== '[]'));
  if (items) s = { ...s, items: objectOf(items, `${where}[]`) };
  if (keys.size > 0) {
    const obj = { ...objectOf({ children: keys }, where), type: ['object', 'null'], ...sharedBlockRules(where, keys) };
    // `map, or true`: the keys apply to the map form.
    s = Array.isArray(s.anyOf) ? { anyOf: [obj, ...(s.anyOf as JsonSchema[]).filter((x) => !('type' in x))] } : obj;
  }
  // Inside a list entry the docs write defaults as prose (`[<name>]`, "its position"), not as values.
  const d = where.includes('[]') ? null : defaultOf(node.row.def);
  return { ...s, description: node.row.meaning, ...(d ? { default: d.value } : {}) };
}

/**
 * The cross-key rules of the shared TLS and SASL blocks (agent/config/tls.ts,
 * sasl.ts), declared beside their readers: a listener's `tls` (it has
 * verify_client), a client's `tls` (it has server_name) and `sasl`.
 */
function sharedBlockRules(where: string, keys: Map<string, KeyNode>): JsonSchema {
  const key = where.slice(where.lastIndexOf('.') + 1);
  if (key === 'tls' && keys.has('verify_client')) return serverTlsRules;
  if (key === 'tls' && keys.has('server_name')) return clientTlsRules;
  if (key === 'sasl') return saslRules;
  return {};
}

/** JSON Schema's conditional: when `cond` holds, the instance must also match `ref`. */
function ifThen(cond: JsonSchema, ref: string): JsonSchema {
  // biome-ignore lint/suspicious/noThenProperty: `then` is the JSON Schema keyword, this object is never awaited
  return { if: cond, then: { $ref: ref } };
}

/** Schema of the config file, draft 2020-12. */
export function configJsonSchema(reference = readReference()): JsonSchema {
  const section = (id: string): ReferenceRow[] => {
    const rows = reference.get(id);
    if (!rows) throw new Error(`agent/COMPONENTS.md has no section ${id}`);
    return rows;
  };
  const defs: Record<string, JsonSchema> = {};
  const specs = [...allSpecs()];
  const typesOf = (kind: ComponentKind): string[] => specs.filter((s) => s.kind === kind).map((s) => s.type).sort();

  // Keys the loader takes out of every sink before the sink sees the rest.
  const common = keyTree(section('sink-common'));
  const encodingRow = common.children.get('encoding')?.children.get('codec')?.row;
  const defaultCodec = encodingRow ? defaultOf(encodingRow.def)?.value : undefined;
  const encoders = componentChosenBy('encoder', typesOf('encoder'), 'codec', typeof defaultCodec === 'string' ? defaultCodec : undefined, defs, section);
  const sinkCommon: Record<string, JsonSchema> = {};
  for (const [key, child] of common.children) {
    sinkCommon[key] = key === 'encoding' ? { ...encoders, description: child.row?.meaning } : keySchema(child, `sink-common.${key}`);
  }

  const component = (kind: ComponentKind, name: string): JsonSchema => {
    const types = typesOf(kind);
    for (const type of types) {
      const id = sectionOf(kind, type);
      const spec = specs.find((s) => s.kind === kind && s.type === type)!;
      const own = objectOf(keyTree(section(id)), id, { type: { const: type, description: spec.summary }, ...(kind === 'sink' ? sinkCommon : {}) });
      defs[`${name}.${type}`] = { ...own, required: ['type', ...((own.required as string[] | undefined) ?? [])] };
    }
    defs[name] = {
      type: 'object',
      required: ['type'],
      properties: { type: { enum: types, description: `the ${name} type` } },
      allOf: types.map((t) => ifThen({ properties: { type: { const: t } }, required: ['type'] }, `#/$defs/${name}.${t}`)),
    };
    return { type: ['object', 'null'], additionalProperties: { $ref: `#/$defs/${name}` } };
  };
  const maps: Record<string, JsonSchema> = {
    sources: component('source', 'source'),
    // The loader takes any processor under either section; the docs split them by role.
    decoders: component('processor', 'processor'),
    transforms: { type: ['object', 'null'], additionalProperties: { $ref: '#/$defs/processor' } },
    sinks: component('sink', 'sink'),
    pipelines: { type: ['object', 'null'], additionalProperties: objectOf(keyTree(section('top:pipelines')), 'top:pipelines') },
  };

  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const row of section('top')) {
    const own = maps[row.key] ?? { ...objectOf(keyTree(section(`top:${row.key}`)), `top:${row.key}`), type: ['object', 'null'] };
    const d = defaultOf(row.def);
    properties[row.key] = { ...own, description: row.meaning, ...(d ? { default: d.value } : {}) };
    if (row.def === '(required)') required.push(row.key);
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://edgelog.invalid/schema/edgelog-config.json',
    title: 'edgelog agent configuration',
    description: 'Generated by `edgelog schema` from the component registry and agent/COMPONENTS.md.',
    type: 'object',
    properties,
    required,
    additionalProperties: false,
    $defs: defs,
  };
}

/**
 * `encoding`: a map whose `codec` picks the encoder (default when absent) and
 * whose other keys are that encoder's.
 */
function componentChosenBy(kind: ComponentKind, types: string[], key: string, fallback: string | undefined, defs: Record<string, JsonSchema>, section: (id: string) => ReferenceRow[]): JsonSchema {
  const allOf: JsonSchema[] = [];
  for (const type of types) {
    const id = sectionOf(kind, type);
    defs[`${kind}.${type}`] = objectOf(keyTree(section(id)), id, { [key]: { const: type } });
    allOf.push(ifThen({ properties: { [key]: { const: type } }, required: [key] }, `#/$defs/${kind}.${type}`));
    if (type === fallback) allOf.push(ifThen({ not: { required: [key] } }, `#/$defs/${kind}.${type}`));
  }
  return {
    type: ['object', 'null'],
    properties: { [key]: { enum: types, ...(fallback ? { default: fallback } : {}) } },
    allOf,
  };
}
