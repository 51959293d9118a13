// The one table of components. Each entry names a component (kind, type) and
// the module that exports its record (type, summary, defaults, validate,
// create); config validation, the component reference and `edgelog validate
// --list` all read from here.
//
// A component's module is loaded the first time its spec is asked for, so an
// agent loads only the components its config names. Loading all of them cost
// an idle agent about 11 MB of RSS (one quiet file to Kafka: 69.7 MB after
// importing every component, 58.8 MB after importing the file source, the
// Kafka sink and the encoders; Node 24, compile cache warm). The load is a
// synchronous require() of the ES module (Node >= 22.12), so config
// validation stays synchronous; no component module uses top-level await.

import type { ComponentKind, ComponentSpec } from './core/component.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnySpec = ComponentSpec<any, any>;

const requireModule = (process.getBuiltinModule('node:module') as typeof import('node:module')).createRequire(import.meta.url);

interface Entry {
  readonly kind: ComponentKind;
  readonly type: string;
  /** The component's spec, from its module (required on first use). */
  readonly spec: () => AnySpec;
}

const table: readonly Entry[] = [
  // sources
  { kind: 'source', type: 'file', spec: () => (requireModule('./sources/file/source.ts') as typeof import('./sources/file/source.ts')).fileSource },
  { kind: 'source', type: 'tcp', spec: () => (requireModule('./sources/tcp/tcp-source.ts') as typeof import('./sources/tcp/tcp-source.ts')).tcpSource },
  { kind: 'source', type: 'syslog', spec: () => (requireModule('./sources/syslog/syslog-source.ts') as typeof import('./sources/syslog/syslog-source.ts')).syslogSource },
  { kind: 'source', type: 'forward', spec: () => (requireModule('./sources/forward/index.ts') as typeof import('./sources/forward/index.ts')).forwardSource },
  // decoders (processors that parse)
  { kind: 'processor', type: 'json', spec: () => (requireModule('./decoders/json/json.ts') as typeof import('./decoders/json/json.ts')).jsonDecoder },
  { kind: 'processor', type: 'logfmt', spec: () => (requireModule('./decoders/logfmt.ts') as typeof import('./decoders/logfmt.ts')).logfmtDecoder },
  { kind: 'processor', type: 'regex', spec: () => (requireModule('./decoders/regex.ts') as typeof import('./decoders/regex.ts')).regexDecoder },
  { kind: 'processor', type: 'syslog', spec: () => (requireModule('./decoders/syslog.ts') as typeof import('./decoders/syslog.ts')).syslogDecoder },
  // transforms
  { kind: 'processor', type: 'multiline', spec: () => (requireModule('./transforms/multiline/multiline.ts') as typeof import('./transforms/multiline/multiline.ts')).multiline },
  { kind: 'processor', type: 'filter', spec: () => (requireModule('./transforms/filter.ts') as typeof import('./transforms/filter.ts')).filter },
  { kind: 'processor', type: 'sample', spec: () => (requireModule('./transforms/sample.ts') as typeof import('./transforms/sample.ts')).sample },
  { kind: 'processor', type: 'enrich', spec: () => (requireModule('./transforms/enrich.ts') as typeof import('./transforms/enrich.ts')).enrich },
  { kind: 'processor', type: 'redact', spec: () => (requireModule('./transforms/redact.ts') as typeof import('./transforms/redact.ts')).redact },
  { kind: 'processor', type: 'throttle', spec: () => (requireModule('./transforms/throttle.ts') as typeof import('./transforms/throttle.ts')).throttle },
  { kind: 'processor', type: 'validate', spec: () => (requireModule('./transforms/validate.ts') as typeof import('./transforms/validate.ts')).validate },
  { kind: 'processor', type: 'rename', spec: () => (requireModule('./transforms/rename.ts') as typeof import('./transforms/rename.ts')).rename },
  // encoders
  { kind: 'encoder', type: 'otlp_proto', spec: () => (requireModule('./encoders/otlp/otlp-proto.ts') as typeof import('./encoders/otlp/otlp-proto.ts')).otlpProtoEncoder },
  { kind: 'encoder', type: 'json', spec: () => (requireModule('./encoders/json.ts') as typeof import('./encoders/json.ts')).jsonEncoder },
  { kind: 'encoder', type: 'raw', spec: () => (requireModule('./encoders/raw.ts') as typeof import('./encoders/raw.ts')).rawEncoder },
  // sinks
  { kind: 'sink', type: 'kafka', spec: () => (requireModule('./sinks/failover/kafka-clusters.ts') as typeof import('./sinks/failover/kafka-clusters.ts')).kafkaSinkWithFailover },
  { kind: 'sink', type: 'forward', spec: () => (requireModule('./sinks/forward/index.ts') as typeof import('./sinks/forward/index.ts')).forwardSink },
];

for (let i = 0; i < table.length; i++) {
  for (let j = 0; j < i; j++) {
    if (table[i]!.kind === table[j]!.kind && table[i]!.type === table[j]!.type) throw new Error(`component ${table[i]!.kind}/${table[i]!.type} registered twice`);
  }
}

const loaded = new Map<Entry, AnySpec>();

function specOf(e: Entry): AnySpec {
  let s = loaded.get(e);
  if (!s) {
    s = e.spec();
    // The table's name and the module's record must agree, or config would validate one component and run another.
    if (s.kind !== e.kind || s.type !== e.type) throw new Error(`registry entry ${e.kind}/${e.type} loads ${s.kind}/${s.type}`);
    loaded.set(e, s);
  }
  return s;
}

export function findSpec(kind: ComponentKind, type: string): AnySpec | undefined {
  const e = table.find((x) => x.kind === kind && x.type === type);
  return e && specOf(e);
}

/** The type names of one kind, without loading any component. */
export function listTypes(kind: ComponentKind): string[] {
  return table.filter((s) => s.kind === kind).map((s) => s.type).sort();
}

/** Every component's spec (loads them all: for the schema, the reference and `validate --list`). */
export function allSpecs(): readonly AnySpec[] { return table.map(specOf); }
