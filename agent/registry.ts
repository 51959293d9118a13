// The one table of components. Each entry is the record a component module
// exports (type, defaults, validate, create); config validation, the component
// reference and `edgelog validate --list` all read from here.

import type { ComponentKind, ComponentSpec } from './core/component.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnySpec = ComponentSpec<any, any>;

const table: AnySpec[] = [];

export function register(...specs: AnySpec[]): void {
  for (const s of specs) {
    if (table.some((t) => t.kind === s.kind && t.type === s.type)) throw new Error(`component ${s.kind}/${s.type} registered twice`);
    table.push(s);
  }
}

export function findSpec(kind: ComponentKind, type: string): AnySpec | undefined {
  return table.find((s) => s.kind === kind && s.type === type);
}

export function listTypes(kind: ComponentKind): string[] {
  return table.filter((s) => s.kind === kind).map((s) => s.type).sort();
}

export function allSpecs(): readonly AnySpec[] { return table; }
