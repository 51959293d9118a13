// The relay configuration the relay tests start a real relay process with:
// a forward source (TLS and auth lines given by the test) into one Kafka
// topic as OTLP. One shape, so that each test states only what it varies.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RelayYaml {
  readonly id: string;
  /** The test's directory: relay.yaml and the relay's state go here. */
  readonly dir: string;
  readonly port: number;
  readonly bootstrap: string;
  readonly topic: string;
  /** Extra keys of `agent:` (YAML lines, indented by the helper). */
  readonly agent?: readonly string[];
  /** Keys of the forward source after its address: tls, auth, limits. */
  readonly source: readonly string[];
  /** Extra keys of the Kafka sink. */
  readonly sink?: readonly string[];
}

/** Writes `<dir>/relay.yaml` and returns its path. */
export function writeRelayYaml(o: RelayYaml): string {
  const indent = (lines: readonly string[] | undefined, by: string): string => (lines ?? []).map((l) => `${by}${l}\n`).join('');
  const path = join(o.dir, 'relay.yaml');
  writeFileSync(path, `
agent:
  id: ${o.id}
  role: relay
  data_dir: ${JSON.stringify(join(o.dir, 'state'))}
${indent(o.agent, '  ')}observe:
  log_level: info
sources:
  agents:
    type: forward
    address: 127.0.0.1:${o.port}
${indent(o.source, '    ')}sinks:
  kafka:
    type: kafka
    brokers: [${JSON.stringify(o.bootstrap)}]
    topic: ${o.topic}
${indent(o.sink, '    ')}    encoding:
      codec: otlp_proto
`);
  return path;
}
