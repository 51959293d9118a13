// Which YAML keys a validator accepts, found by asking it: every map reader
// (readMap in agent/config/schema.ts) rejects an unknown key with a
// ConfigError whose `expected` lists the known ones. A probe key put at the
// top of a component's config, then inside each of its keys (as a map, then as
// a list of maps), reveals every accepted key and every nested section,
// without a list kept by hand that could drift from the code.
//
// `node test/docs/config-keys.ts` prints what it finds.

import { ConfigError } from '../../agent/core/errors.ts';

export type Raw = Record<string, unknown>;

/** A validator, a config it accepts (required keys filled in), and where the documented keys live in it. */
export interface Target {
  /** Section id in agent/COMPONENTS.md. */
  readonly section: string;
  readonly validate: (raw: Raw) => unknown;
  readonly minimal: Raw;
  /** Path (map keys) from the raw config to the section's map. */
  readonly root: readonly string[];
  /** ConfigError path prefix of the section's map (what the validator calls it). */
  readonly errRoot: string;
  /** Top-level keys when the section's own map is not checked by one readMap (e.g. the loader's sink keys). */
  readonly topKeys?: readonly string[];
  /** Keys accepted besides the ones the top-level readMap lists (read before it, or by another map). */
  readonly extraKeys?: readonly string[];
  /** Keys not to look into (their content is documented elsewhere). */
  readonly opaque?: readonly string[];
  /** Do not look into any key (top level of the agent config: each section is its own target). */
  readonly shallow?: boolean;
}

const PROBE = '__edgelog_probe__';
const KNOWN = /^one of the known keys \((.*)\)$/;

export function clone<T>(v: T): T { return structuredClone(v); }

/** The map at `path` in `raw`, created (replacing a non-map) when missing. */
export function mapAt(raw: Raw, path: readonly string[]): Raw {
  let m = raw;
  for (const k of path) {
    const v = m[k];
    if (v === null || typeof v !== 'object' || Array.isArray(v)) m[k] = {};
    m = m[k] as Raw;
  }
  return m;
}

function errPath(t: Target, segs: readonly string[]): string {
  let p = t.errRoot;
  for (const s of segs) p = s === '[]' ? `${p}[0]` : p ? `${p}.${s}` : s;
  return p;
}

/** Keys the readMap at `segs` accepts, or null when the validator did not reach a readMap with a list there. */
function probe(t: Target, segs: readonly string[], asList: boolean): string[] | null {
  const raw = clone(t.minimal);
  const base = mapAt(raw, t.root);
  let at: readonly string[] = segs;
  if (segs.length === 0) base[PROBE] = 1;
  else {
    const parent = mapAt(base, segs.slice(0, -1));
    const last = segs[segs.length - 1]!;
    // Two entries: some lists need at least two (kafka clusters); the first one fails first.
    parent[last] = asList ? [{ [PROBE]: 1 }, { [PROBE]: 1 }] : { [PROBE]: 1 };
    if (asList) at = [...segs, '[]'];
  }
  try {
    t.validate(raw);
  } catch (e) {
    if (!(e instanceof ConfigError) || e.path !== errPath(t, [...at, PROBE])) return null;
    const m = KNOWN.exec(e.expected);
    return m ? m[1]!.split(', ').filter((k) => k !== '') : null;
  }
  return null;
}

/**
 * Every accepted key of a target as a dotted path (`spool.max_bytes`;
 * entries of a list of maps as `clusters[].name`). `type` is left out (the
 * loader's, documented once). Below a list entry, keys are not looked into.
 */
export function acceptedKeys(t: Target): string[] {
  const listed = t.topKeys ?? probe(t, [], false);
  if (listed === null) throw new Error(`${t.section}: the validator did not reject an unknown top-level key with the known-keys list (give it a minimal config that gets that far)`);
  const out: string[] = [];
  const walk = (segs: string[], keys: readonly string[], inList: boolean): void => {
    for (const k of keys) {
      if (k === 'type') continue;
      const here = [...segs, k];
      const name = here.join('.').replace(/\.\[\]/g, '[]');
      out.push(name);
      if (inList || t.shallow || t.opaque?.includes(name)) continue;
      const asMap = probe(t, here, false);
      if (asMap) { walk(here, asMap, false); continue; }
      const asList = probe(t, here, true);
      if (asList) walk([...here, '[]'], asList, true);
    }
  };
  walk([], [...listed, ...(t.extraKeys ?? [])], false);
  return out;
}

if (import.meta.main) {
  const { targets } = await import('./targets.ts');
  for (const t of targets()) console.log(`${t.section}: ${acceptedKeys(t).join(' ')}`);
}
