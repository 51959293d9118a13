// Relayed resources (PROTOCOL.md section 9): the relay carries the sender's
// OTLP Resource attributes on each record as `edgelog.resource.<key>`. These
// helpers are for an encoder that wants to lift them back into the Resource
// of what it writes (agent/encoders/otlp calls resourceRuns() per message and
// skips isRelayedResourceKey() keys among record attributes). They live in
// core, not in forward/, so an edge agent's encoder does not load the forward
// decoder (and protobufjs) just to read a key prefix.
// Cost on an edge agent, where no record carries them: one character check
// per attribute key (records without attributes cost nothing).

import type { AttrValue, LogRecord } from './record.ts';

/** Attribute key prefix under which a relay carries the sender's Resource attributes. */
export const RESOURCE_ATTR_PREFIX = 'edgelog.resource.';

export function isRelayedResourceKey(key: string): boolean {
  return key.length > RESOURCE_ATTR_PREFIX.length && key.charCodeAt(0) === 101 /* e */ && key.startsWith(RESOURCE_ATTR_PREFIX);
}

export interface ResourceRun {
  /** Resource attributes (prefix removed) shared by records[start..end), in order of appearance. */
  readonly attributes: Array<[string, AttrValue]>;
  /** Stable text of `attributes`: a cache key for the encoded Resource bytes. */
  readonly key: string;
  readonly start: number;
  readonly end: number;
}

function signature(r: LogRecord): { key: string; attrs: Array<[string, AttrValue]> } | null {
  const a = r.attributes;
  if (a === null) return null;
  let attrs: Array<[string, AttrValue]> | null = null;
  let key = '';
  for (const k in a) {
    if (!isRelayedResourceKey(k)) continue;
    const v = a[k]!;
    const name = k.slice(RESOURCE_ATTR_PREFIX.length);
    (attrs ??= []).push([name, v]);
    key += `${name}\u0000${typeof v === 'string' ? 's' : typeof v === 'number' ? 'n' : 'b'}${String(v)}\u0001`;
  }
  return attrs ? { key, attrs } : null;
}

/**
 * Splits `records` into consecutive runs with the same relayed resource.
 * Returns null when no record carries one (use the encoder's own resource).
 * Records without one inside a relayed batch form runs with empty attributes.
 */
export function resourceRuns(records: LogRecord[]): ResourceRun[] | null {
  let any = false;
  const sigs = new Array<{ key: string; attrs: Array<[string, AttrValue]> } | null>(records.length);
  for (let i = 0; i < records.length; i++) {
    const s = signature(records[i]!);
    sigs[i] = s;
    if (s) any = true;
  }
  if (!any) return null;
  const runs: ResourceRun[] = [];
  let start = 0;
  for (let i = 1; i <= records.length; i++) {
    const prev = sigs[i - 1]?.key ?? '';
    if (i === records.length || (sigs[i]?.key ?? '') !== prev) {
      runs.push({ attributes: sigs[i - 1]?.attrs ?? [], key: prev, start, end: i });
      start = i;
    }
  }
  return runs;
}
