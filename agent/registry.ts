// The one table of components. Each entry is the record a component module
// exports (type, summary, defaults, validate, create); config validation, the
// component reference and `edgelog validate --list` all read from here.

import type { ComponentKind, ComponentSpec } from './core/component.ts';
import { fileSource } from './sources/file/source.ts';
import { tcpSource } from './sources/tcp/tcp-source.ts';
import { syslogSource } from './sources/syslog/syslog-source.ts';
import { forwardSource } from './sources/forward/index.ts';
import { forwardSink } from './sinks/forward/index.ts';
import { jsonDecoder } from './decoders/json/json.ts';
import { logfmtDecoder } from './decoders/logfmt.ts';
import { regexDecoder } from './decoders/regex.ts';
import { syslogDecoder } from './decoders/syslog.ts';
import { multiline } from './transforms/multiline/multiline.ts';
import { filter } from './transforms/filter.ts';
import { sample } from './transforms/sample.ts';
import { enrich } from './transforms/enrich.ts';
import { redact } from './transforms/redact.ts';
import { throttle } from './transforms/throttle.ts';
import { validate } from './transforms/validate.ts';
import { rename } from './transforms/rename.ts';
import { otlpProtoEncoder, jsonEncoder, rawEncoder } from './encoders/index.ts';
import { kafkaSinkWithFailover } from './sinks/failover/kafka-clusters.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnySpec = ComponentSpec<any, any>;

const table: readonly AnySpec[] = [
  // sources
  fileSource, tcpSource, syslogSource, forwardSource,
  // decoders (processors that parse)
  jsonDecoder, logfmtDecoder, regexDecoder, syslogDecoder,
  // transforms
  multiline, filter, sample, enrich, redact, throttle, validate, rename,
  // encoders
  otlpProtoEncoder, jsonEncoder, rawEncoder,
  // sinks
  kafkaSinkWithFailover, forwardSink,
];

for (let i = 0; i < table.length; i++) {
  for (let j = 0; j < i; j++) {
    if (table[i]!.kind === table[j]!.kind && table[i]!.type === table[j]!.type) throw new Error(`component ${table[i]!.kind}/${table[i]!.type} registered twice`);
  }
}

export function findSpec(kind: ComponentKind, type: string): AnySpec | undefined {
  return table.find((s) => s.kind === kind && s.type === type);
}

export function listTypes(kind: ComponentKind): string[] {
  return table.filter((s) => s.kind === kind).map((s) => s.type).sort();
}

export function allSpecs(): readonly AnySpec[] { return table; }
