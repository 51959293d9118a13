// agent/COMPONENTS.md against the code: one section per registered component
// (and per top-level section), every YAML key a validator accepts documented
// in it (keys found by asking the validators, test/docs/config-keys.ts; a
// documented key the code does not accept is reported), and every default written as a
// single backticked value equal to the effective default (validated both ways
// and compared), which in turn equals the spec's `defaults`; and every
// documented enum is exactly the validator's list of choices. The rows and
// the JSON Schema (`edgelog schema`) come from the same declarations
// (agent/config/declare.ts), so these checks hold the declarations' words
// to what the readers do.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { parseYaml } from '../../agent/config/yaml.ts';
import { allSpecs } from '../../agent/registry.ts';
import { readReference as readSchemaReference } from '../../agent/config/reference-rows.ts';
import { acceptedKeys, clone, mapAt, type Raw, type Target } from './config-keys.ts';
import { minimalConfigs, sectionOf, setByMinimal, targets } from './targets.ts';

const docPath = new URL('../../agent/COMPONENTS.md', import.meta.url).pathname;

interface Row { key: string; def: string; line: number }

/** Sections of the reference by id (`source:file`, `top:agent`, `top`, `sink-common`) and their table rows. */
function readReference(): Map<string, Row[]> {
  const text = readFileSync(docPath, 'utf8');
  const sections = new Map<string, Row[]>();
  let current: Row[] | null = null;
  text.split('\n').forEach((line, i) => {
    if (line.startsWith('### ')) {
      const h = line.slice(4).trim();
      let id: string | null = null;
      let m: RegExpExecArray | null;
      if ((m = /^`([\w.-]+)` \((source|decoder|transform|encoder|sink)\)$/.exec(h))) id = `${m[2]}:${m[1]}`;
      else if ((m = /^`(\w+)` \(top level\)$/.exec(h))) id = `top:${m[1]}`;
      else if (h === 'Top-level keys') id = 'top';
      else if (h.startsWith('Every sink:')) id = 'sink-common';
      assert.ok(id, `${docPath}:${i + 1}: unrecognised section heading ${JSON.stringify(h)}`);
      assert.ok(!sections.has(id), `${docPath}:${i + 1}: section ${id} twice`);
      current = [];
      sections.set(id, current);
      return;
    }
    if (line.startsWith('## ')) { current = null; return; }
    const row = /^\| `([^`]+)` \|([^|]*)\|([^|]*)\|/.exec(line);
    if (row && current) current.push({ key: row[1]!, def: row[3]!.trim(), line: i + 1 });
  });
  return sections;
}

const reference = readReference();

function groupBySection(ts: Target[]): Map<string, Target[]> {
  const by = new Map<string, Target[]>();
  for (const t of ts) by.set(t.section, [...(by.get(t.section) ?? []), t]);
  return by;
}
const bySection = groupBySection(targets());
const acceptedBySection = new Map([...bySection].map(([id, ts]) => [id, new Set(ts.flatMap((t) => acceptedKeys(t)))]));

test('one section per registered component and per top-level section', () => {
  for (const spec of allSpecs()) {
    const id = sectionOf(spec.kind, spec.type);
    assert.ok(reference.has(id), `agent/COMPONENTS.md has no section for ${spec.kind} ${spec.type} (heading: ### \`${spec.type}\` (${id.split(':')[0]}))`);
  }
  for (const id of bySection.keys()) assert.ok(reference.has(id), `agent/COMPONENTS.md has no section ${id}`);
  for (const id of reference.keys()) assert.ok(bySection.has(id), `agent/COMPONENTS.md section ${id} matches no registered component or config section`);
});

test('every accepted YAML key is documented', (t) => {
  const problems: string[] = [];
  for (const [id, accepted] of acceptedBySection) {
    const documented = new Set((reference.get(id) ?? []).map((r) => r.key));
    for (const k of accepted) if (!documented.has(k)) problems.push(`${id}: accepts \`${k}\`, not documented`);
    // Reported, not failed: in a shared tree a key may be documented just before its code lands.
    for (const k of documented) if (!accepted.has(k)) t.diagnostic(`agent/COMPONENTS.md ${id}: documents \`${k}\`, which the validator does not accept (yet?)`);
  }
  assert.deepEqual(problems, [], `agent/COMPONENTS.md is out of date:\n${problems.join('\n')}`);
});

test('the probe sees an unknown key through every validator (the key lists are not empty)', () => {
  // Guards the test itself: a validator that stopped listing its keys would make the check above vacuous.
  for (const [id, ts] of bySection) assert.ok(ts.flatMap((t) => acceptedKeys(t)).length > 0, id);
  assert.ok(acceptedKeys(bySection.get('source:file')![0]!).includes('rotate_wait'));
  assert.ok(acceptedKeys(bySection.get('source:tcp')![0]!).includes('spool.when_full'));
});

/** A single backticked value is a checkable default; anything else ("(required)", prose) is not. */
function checkableDefault(cell: string): { value: unknown } | null {
  const m = /^`([^`]*)`$/.exec(cell);
  if (!m) return null;
  return { value: parseYaml(m[1]!) as unknown };
}

function tryValidate(t: Target, raw: Raw): { ok: true; cfg: unknown } | { ok: false; err: string } {
  try {
    return { ok: true, cfg: t.validate(raw) };
  } catch (e) {
    return { ok: false, err: (e as Error).message };
  }
}

test('every documented default is the effective default', (t) => {
  const problems: string[] = [];
  let checked = 0;
  for (const [id, rows] of reference) {
    const ts = bySection.get(id) ?? [];
    for (const row of rows) {
      const d = checkableDefault(row.def);
      if (!d || row.key.includes('[]') || !acceptedBySection.get(id)?.has(row.key)) continue;
      const segs = row.key.split('.');
      let compared = false;
      const refused: string[] = [];
      for (const t of ts) {
        // Base: the minimal config with the key's parent map present but empty; test: the same with the documented value.
        const base = clone(t.minimal);
        mapAt(mapAt(base, t.root), segs.slice(0, -1));
        const b = tryValidate(t, base);
        if (!b.ok) continue; // the parent section cannot be empty (it has required keys): not checkable here
        const withDoc = clone(base);
        mapAt(mapAt(withDoc, t.root), segs.slice(0, -1))[segs[segs.length - 1]!] = clone(d.value);
        const w = tryValidate(t, withDoc);
        if (!w.ok) { refused.push(w.err); continue; }
        compared = true;
        if (!isDeepStrictEqual(w.cfg, b.cfg)) problems.push(`${id} \`${row.key}\` (COMPONENTS.md:${row.line}): documented default ${row.def} is not the effective default`);
      }
      if (compared) checked++;
      else if (refused.length > 0) problems.push(`${id} \`${row.key}\` (COMPONENTS.md:${row.line}): documented default ${row.def} is refused: ${refused[0]}`);
    }
  }
  assert.deepEqual(problems, [], problems.join('\n'));
  assert.ok(checked >= 150, `only ${checked} defaults were checkable`);
  t.diagnostic(`${checked} documented defaults checked against the validators`);
});

/** Leaf paths where two configs differ (objects compared key by key, everything else as a whole). */
function differences(a: unknown, b: unknown, path = ''): string[] {
  const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
  if (isMap(a) && isMap(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => differences(a[k], b[k], path ? `${path}.${k}` : k));
  }
  return isDeepStrictEqual(a, b) ? [] : [path];
}

test("what a component's validator fills in is its spec's `defaults` (so the reference matches both)", () => {
  for (const spec of allSpecs()) {
    const id = sectionOf(spec.kind, spec.type);
    const cfg = spec.validate(clone(minimalConfigs[id] ?? {}), 'x');
    assert.deepEqual(differences(cfg, spec.defaults).sort(), (setByMinimal[id] ?? []).slice().sort(), `${id}: validate(minimal config) differs from its spec's defaults`);
  }
});

test('the component READMEs link to the reference', () => {
  for (const dir of ['decoders', 'transforms', 'encoders']) {
    const text = readFileSync(new URL(`../../agent/${dir}/README.md`, import.meta.url), 'utf8');
    assert.match(text, /\]\(\.\.\/COMPONENTS\.md(#[\w-]+)?\)/, `agent/${dir}/README.md links to ../COMPONENTS.md`);
  }
});

test("every documented enum lists exactly the validator's choices (the JSON Schema's enums are these)", (t) => {
  // A value no enum holds makes readEnum name its choices: `expected one of a, b, c`.
  const bogus = '__not_a_choice__';
  // Keys read only when a sibling says so: the sibling's value, set in the same map.
  const context: Record<string, Raw> = { 'sink:kafka sasl.token_provider': { mechanism: 'oauthbearer' } };
  const problems: string[] = [];
  let checked = 0;
  for (const [id, rows] of readSchemaReference()) {
    for (const row of rows) {
      const m = /^enum (`.*)$/.exec(row.type);
      if (!m || row.key.includes('[]')) continue;
      const documented = [...m[1]!.matchAll(/`([^`]*)`/g)].map((x) => (x[1] === "''" ? '' : x[1]!)).sort();
      const segs = row.key.split('.');
      let told: string[] | null = null;
      for (const target of bySection.get(id) ?? []) {
        const raw = clone(target.minimal);
        const parent = mapAt(mapAt(raw, target.root), segs.slice(0, -1));
        Object.assign(parent, clone(context[`${id} ${row.key}`] ?? {}));
        parent[segs[segs.length - 1]!] = bogus;
        const r = tryValidate(target, raw);
        const choices = r.ok ? null : /: expected one of (.*), got "__not_a_choice__"/.exec(r.err);
        if (choices) { told = choices[1]!.split(', ').sort(); break; }
      }
      if (!told) { problems.push(`${id} \`${row.key}\`: the validator did not refuse an undocumented value with its list of choices`); continue; }
      checked++;
      if (!isDeepStrictEqual(told, documented)) problems.push(`${id} \`${row.key}\`: documented ${documented.join(', ')}; the validator takes ${told.join(', ')}`);
    }
  }
  assert.deepEqual(problems, [], problems.join('\n'));
  assert.ok(checked >= 25, `only ${checked} enums were checkable`);
  t.diagnostic(`${checked} documented enums compared with the validators' choices`);
});

