// `edgelog schema` emits a JSON Schema that an independent validator (ajv,
// draft 2020-12) uses the way an editor would: every example config in the
// repository (installed defaults, the configs in the READMEs, the relay
// config the infra renders) is accepted, and wrong configs (an unknown key,
// a bad enum value, a key of another component type...) are rejected, each
// also rejected by the agent's own validator, so the two agree.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parseYaml } from '../../agent/config/yaml.ts';
import { parseConfig } from '../../agent/config/load.ts';
import { ConfigError } from '../../agent/core/errors.ts';
import { allSpecs } from '../../agent/registry.ts';
import { config as infraConfig, relayConfigYaml, KAFKA_BOOTSTRAP_PLACEHOLDER } from '../../infra/config.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const mainTs = join(repo, 'agent/cli/main.ts');

// The schema exactly as the command prints it.
const printed = spawnSync(process.execPath, [mainTs, 'schema'], { encoding: 'utf8', timeout: 60_000 });
// Parsed only when the command worked, so a failure shows as the first test's message rather than a load error.
const schema = (printed.status === 0 ? JSON.parse(printed.stdout) : { type: 'object' }) as Record<string, unknown>;
// Strict (unknown keywords are errors) except strictRequired: `anyOf: [{ required: [brokers] }, { required: [clusters] }]`
// names properties of the enclosing object, which JSON Schema allows and ajv's strict mode flags.
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
const check = ajv.compile(schema);

type Raw = Record<string, unknown>;
const sections = ['agent', 'observe', 'sources', 'decoders', 'transforms', 'sinks', 'pipelines', 'guard'];
// What a fragment in a README leaves out (it shows one part of a config).
const minimal: Raw = {
  sources: { app: { type: 'file', include: ['/var/log/app/*.log'] } },
  sinks: { kafka: { type: 'kafka', brokers: ['127.0.0.1:9092'] } },
};
// Values for the ${NAME} references in the examples, for the agent's own validator.
const env = { KAFKA_PASSWORD: 'x', EDGELOG_KAFKA_PASSWORD: 'x', EDGELOG_KAFKA_USERNAME: 'relay', EDGELOG_KAFKA_BROKERS: '127.0.0.1:9092' };

function markdownFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.') || e.name === 'test') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) markdownFiles(p, out);
    else if (e.name.endsWith('.md')) out.push(p);
  }
  return out;
}

/** Every example config: the installed defaults, every YAML block in a README that is (part of) an agent config, the infra's relay configs. */
function examples(): { name: string; yaml: string }[] {
  const out: { name: string; yaml: string }[] = [];
  const defaults = join(repo, 'agent/install/defaults');
  for (const f of readdirSync(defaults).filter((f) => f.endsWith('.yaml'))) out.push({ name: `agent/install/defaults/${f}`, yaml: readFileSync(join(defaults, f), 'utf8') });
  for (const file of markdownFiles(repo)) {
    const blocks = [...readFileSync(file, 'utf8').matchAll(/^```ya?ml\n([\s\S]*?)^```/gm)].map((m) => m[1]!);
    blocks.forEach((yaml, i) => {
      const doc = parseYaml(yaml) as unknown;
      // A block whose top-level keys are config sections (not, say, a Kubernetes manifest).
      if (doc && typeof doc === 'object' && Object.keys(doc).every((k) => sections.includes(k))) out.push({ name: `${relative(repo, file)} block ${i + 1}`, yaml });
    });
  }
  for (const tokenProvider of ['aws-msk-iam', 'gcp-metadata'] as const) {
    out.push({ name: `infra relay config (${tokenProvider})`, yaml: relayConfigYaml({ forwardPort: 24240, healthPort: 8686, brokers: KAFKA_BOOTSTRAP_PLACEHOLDER, topic: 'logs', tokenProvider, topicLayout: infraConfig.kafka.topicLayout }).replace(KAFKA_BOOTSTRAP_PLACEHOLDER, 'b-1.example:9098') });
  }
  return out;
}

function completed(yaml: string): Raw {
  const doc = (parseYaml(yaml) ?? {}) as Raw;
  return { ...(doc.sources ? {} : { sources: minimal.sources }), ...(doc.sinks ? {} : { sinks: minimal.sinks }), ...doc };
}

const errorsOf = (): string => ajv.errorsText(check.errors, { separator: '\n  ' });

test('edgelog schema prints a draft 2020-12 schema naming every registered component type; --output writes the same', (t) => {
  assert.equal(printed.status, 0, printed.stderr);
  const dir = mkdtempSync(join(tmpdir(), `edgelog-schema-${process.pid}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'edgelog.schema.json');
  const written = spawnSync(process.execPath, [mainTs, 'schema', '--output', out], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(written.status, 0, written.stderr);
  assert.equal(readFileSync(out, 'utf8'), printed.stdout);
  assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
  const defs = schema.$defs as Record<string, unknown>;
  for (const s of allSpecs()) assert.ok(defs[`${s.kind}.${s.type}`], `no $defs entry for ${s.kind} ${s.type}`);
});

test('every example config in the repository validates against the schema (and with the agent)', (t) => {
  const all = examples();
  // The defaults, the READMEs' configs and the infra's: a walk that found none would prove nothing.
  assert.ok(all.length >= 9, all.map((e) => e.name).join(', '));
  for (const ex of all) {
    const raw = completed(ex.yaml);
    assert.ok(check(raw), `${ex.name} is rejected by the JSON Schema:\n  ${errorsOf()}`);
    assert.doesNotThrow(() => parseConfig(JSON.stringify(raw), env), `${ex.name} is rejected by the agent`);
  }
  t.diagnostic(`${all.length} examples: ${all.map((e) => e.name).join('; ')}`);
});

const wrong: { name: string; raw: Raw; at: string }[] = [
  { name: 'a misspelt key in a source', raw: { ...minimal, sources: { app: { type: 'file', include: ['/x/*.log'], glob_intervall: '1s' } } }, at: '/sources/app' },
  { name: 'a bad enum value', raw: { ...minimal, sources: { app: { type: 'file', include: ['/x/*.log'], oversize: 'splitt' } } }, at: '/sources/app/oversize' },
  { name: 'a misspelt top-level section', raw: { ...minimal, observ: {} }, at: '' },
  { name: 'an unknown key in a nested map', raw: { ...minimal, sinks: { kafka: { type: 'kafka', brokers: ['b:9092'], tls: { ca_fil: '/ca.pem' } } } }, at: '/sinks/kafka/tls' },
  { name: 'an unknown component type', raw: { ...minimal, sinks: { kafka: { type: 'kafak', brokers: ['b:9092'] } } }, at: '/sinks/kafka/type' },
  { name: "a key of another type's component", raw: { ...minimal, sources: { app: { type: 'tcp', include: ['/x/*.log'] } } }, at: '/sources/app' },
  { name: "a key of another encoder", raw: { ...minimal, sinks: { kafka: { type: 'kafka', brokers: ['b:9092'], encoding: { codec: 'raw', scope_name: 'x' } } } }, at: '/sinks/kafka/encoding' },
  { name: 'a malformed duration', raw: { ...minimal, sinks: { kafka: { type: 'kafka', brokers: ['b:9092'], batch: { timeout: '5 sec' } } } }, at: '/sinks/kafka/batch/timeout' },
  { name: 'a missing required key', raw: { ...minimal, sources: { app: { type: 'file' } } }, at: '/sources/app' },
  { name: 'no sinks', raw: { sources: minimal.sources }, at: '' },
  // Cross-key rules of the shared TLS and SASL blocks (agent/config/tls.ts, sasl.ts): the schema states them too.
  { name: 'sasl without a username', raw: { ...minimal, sinks: { kafka: { type: 'kafka', brokers: ['b:9092'], sasl: { mechanism: 'plain', password: 'p' } } } }, at: '/sinks/kafka/sasl' },
  { name: 'sasl with an empty username', raw: { ...minimal, sinks: { kafka: { type: 'kafka', brokers: ['b:9092'], sasl: { username: '', password: 'p' } } } }, at: '/sinks/kafka/sasl/username' },
  { name: 'sasl without a password or password_file', raw: { ...minimal, sinks: { kafka: { type: 'kafka', brokers: ['b:9092'], sasl: { mechanism: 'scram-sha-256', username: 'u' } } } }, at: '/sinks/kafka/sasl' },
  { name: 'sasl oauthbearer with a username', raw: { ...minimal, sinks: { kafka: { type: 'kafka', brokers: ['b:9092'], sasl: { mechanism: 'oauthbearer', token_provider: 'aws-msk-iam', username: 'u' } } } }, at: '/sinks/kafka/sasl' },
  { name: 'sasl oauthbearer without a token_provider', raw: { ...minimal, sinks: { kafka: { type: 'kafka', brokers: ['b:9092'], sasl: { mechanism: 'oauthbearer' } } } }, at: '/sinks/kafka/sasl' },
  { name: 'sasl token_provider without oauthbearer', raw: { ...minimal, sinks: { kafka: { type: 'kafka', brokers: ['b:9092'], sasl: { username: 'u', password: 'p', token_provider: 'gcp-metadata' } } } }, at: '/sinks/kafka/sasl' },
  { name: 'a client certificate without its key', raw: { ...minimal, sinks: { relay: { type: 'forward', endpoints: ['r:24240'], tls: { cert_file: '/c.pem' } } } }, at: '/sinks/relay/tls' },
  { name: 'a listener tls without key_file', raw: { ...minimal, sources: { net: { type: 'tcp', tls: { cert_file: '/c.pem' } } } }, at: '/sources/net/tls' },
  { name: 'verify_client without a ca_file', raw: { ...minimal, sources: { relay: { type: 'forward', tls: { cert_file: '/c.pem', key_file: '/k.pem', verify_client: true } } } }, at: '/sources/relay/tls' },
  { name: 'a sample rate of 0 (declared range 1..1000000)', raw: { ...minimal, transforms: { s: { type: 'sample', rate: 0 } } }, at: '/transforms/s/rate' },
  { name: 'a kafka sink with neither brokers nor clusters', raw: { ...minimal, sinks: { kafka: { type: 'kafka', topic: 'logs' } } }, at: '/sinks/kafka' },
  // Cross-key rules of the other declared sections (their schemaRules beside their readers).
  { name: 'kafka acks leader while idempotent (the default)', raw: { ...minimal, sinks: { kafka: { type: 'kafka', brokers: ['b:9092'], acks: 'leader' } } }, at: '/sinks/kafka/acks' },
  { name: 'kafka brokers and clusters together', raw: { ...minimal, sinks: { kafka: { type: 'kafka', brokers: ['b:9092'], clusters: [{ brokers: ['a:9092'] }, { brokers: ['c:9092'] }] } } }, at: '/sinks/kafka' },
  { name: "an unknown key in a cluster's own tls (checked as the shared block)", raw: { ...minimal, sinks: { kafka: { type: 'kafka', clusters: [{ brokers: ['a:9092'], tls: { ca_fil: '/ca.pem' } }, { brokers: ['c:9092'] }] } } }, at: '/sinks/kafka/clusters/0/tls' },
  { name: 'kafka failover without clusters', raw: { ...minimal, sinks: { kafka: { type: 'kafka', brokers: ['b:9092'], failover: { probe_interval: '1s' } } } }, at: '/sinks/kafka' },
  { name: 'syslog over UDP with tls', raw: { ...minimal, sources: { s: { type: 'syslog', mode: 'udp', tls: { cert_file: '/c.pem', key_file: '/k.pem' } } } }, at: '/sources/s/tls' },
  { name: 'a forward listener with both address and listen', raw: { ...minimal, sources: { relay: { type: 'forward', address: '127.0.0.1:24240', listen: '127.0.0.1:24241' } } }, at: '/sources/relay' },
  { name: 'forward source auth naming no secret', raw: { ...minimal, sources: { relay: { type: 'forward', auth: {} } } }, at: '/sources/relay/auth' },
  { name: 'forward sink auth with both secret and secret_file', raw: { ...minimal, sinks: { relay: { type: 'forward', endpoints: ['r:24240'], auth: { secret: 's', secret_file: '/s' } } } }, at: '/sinks/relay/auth' },
  { name: 'forward sink io_uring with tls', raw: { ...minimal, sinks: { relay: { type: 'forward', endpoints: ['r:24240'], transport: 'io_uring', tls: true } } }, at: '/sinks/relay/tls' },
  { name: 'forward sink gzip at level 12 (zstd only)', raw: { ...minimal, sinks: { relay: { type: 'forward', endpoints: ['r:24240'], compression: 'gzip', compression_level: 12 } } }, at: '/sinks/relay/compression_level' },
  { name: 'a filter predicate with two operators', raw: { ...minimal, transforms: { f: { type: 'filter', include: [{ field: 'level', equals: 'x', exists: true }] } } }, at: '/transforms/f/include/0' },
  { name: 'a guard section without an interface', raw: { ...minimal, guard: { deny: ['203.0.113.0/24'] } }, at: '/guard' },
  { name: 'a relative glob', raw: { ...minimal, sources: { app: { type: 'file', include: ['var/log/*.log'] } } }, at: '/sources/app/include' },
];

// Forms of the shared blocks both accept (the rules above must not refuse them).
const right: { name: string; raw: Raw }[] = [
  { name: 'client tls: true', raw: { ...minimal, sinks: { relay: { type: 'forward', endpoints: ['r:24240'], tls: true } } } },
  { name: 'client tls turned off with a lone cert_file left in', raw: { ...minimal, sinks: { kafka: { type: 'kafka', brokers: ['b:9092'], tls: { enabled: false, cert_file: '/c.pem' } } } } },
  { name: 'forward sink tls with server_name and insecure_skip_verify', raw: { ...minimal, sinks: { relay: { type: 'forward', endpoints: ['r:24240'], tls: { server_name: 'relay.example', insecure_skip_verify: true } } } } },
  { name: 'sasl scram with a password', raw: { ...minimal, sinks: { kafka: { type: 'kafka', brokers: ['b:9092'], sasl: { username: 'u', password: 'p' } } } } },
  { name: 'sasl oauthbearer with a token_provider', raw: { ...minimal, sinks: { kafka: { type: 'kafka', brokers: ['b:9092'], sasl: { mechanism: 'oauthbearer', token_provider: 'gcp-metadata' } } } } },
  { name: 'listener tls with verify_client and a ca_file', raw: { ...minimal, sources: { net: { type: 'tcp', tls: { cert_file: '/c.pem', key_file: '/k.pem', ca_file: '/ca.pem', verify_client: true } } } } },
  { name: 'kafka acks leader with idempotent off', raw: { ...minimal, sinks: { kafka: { type: 'kafka', brokers: ['b:9092'], acks: 'leader', idempotent: false } } } },
  { name: 'kafka clusters with failover', raw: { ...minimal, sinks: { kafka: { type: 'kafka', clusters: [{ brokers: ['a:9092'] }, { brokers: ['c:9092'], priority: 2 }], failover: { probe_interval: '1s' } } } } },
  { name: 'syslog over UDP, tls null', raw: { ...minimal, sources: { s: { type: 'syslog', mode: 'udp', tls: null } } } },
  { name: 'a forward listener named by listen alone, with a shared key', raw: { ...minimal, sources: { relay: { type: 'forward', listen: '127.0.0.1:24241', auth: { shared_key: 'k' } } } } },
  { name: 'forward sink io_uring with tls turned off', raw: { ...minimal, sinks: { relay: { type: 'forward', endpoints: ['r:24240'], transport: 'io_uring', tls: { enabled: false } } } } },
  { name: 'forward sink zstd at level 19', raw: { ...minimal, sinks: { relay: { type: 'forward', endpoints: ['r:24240'], compression_level: 19 } } } },
  { name: 'a filter predicate with one operator', raw: { ...minimal, transforms: { f: { type: 'filter', include: [{ field: 'level', in: ['warn', 'error'] }] } } } },
  { name: 'a guard section turned off without an interface', raw: { ...minimal, guard: { enabled: false } } },
];

for (const r of right) {
  test(`the schema and the agent both accept ${r.name}`, () => {
    assert.ok(check(r.raw), `${r.name} is rejected by the JSON Schema:\n  ${errorsOf()}`);
    assert.doesNotThrow(() => parseConfig(JSON.stringify(r.raw), {}), `${r.name} is rejected by the agent`);
  });
}

for (const w of wrong) {
  test(`the schema rejects ${w.name}, as the agent does`, () => {
    assert.equal(check(w.raw), false, `${w.name} was accepted by the JSON Schema`);
    assert.ok(check.errors!.some((e) => e.instancePath === w.at), `no error at ${w.at || '(root)'}:\n  ${errorsOf()}`);
    assert.throws(() => parseConfig(JSON.stringify(w.raw), {}), ConfigError);
  });
}
