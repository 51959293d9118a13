// One `edgelog validate` run names every problem of a file: unknown keys are
// noted per map with the closest known key ("did you mean"), a component or
// key whose value is wrong is noted and validation goes on with the next, and
// `edgelog run` refuses the same file with the same list. A component's own
// validate() still throws one ConfigError (its callers rely on that).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../agent/config/load.ts';
import { closest } from '../../agent/config/schema.ts';
import { ConfigError, ConfigErrors } from '../../agent/core/errors.ts';
import { fileSource } from '../../agent/sources/file/source.ts';

const mainTs = fileURLToPath(new URL('../../agent/cli/main.ts', import.meta.url));

// A bad enum value (oversize) and two misspelt keys in different sections (a source and a sink).
const threeProblems = `
sources:
  app:
    type: file
    include: [/var/log/app/*.log]
    oversize: splitt
    glob_intervall: 2s
sinks:
  kafka:
    type: kafka
    brokers: ["127.0.0.1:9092"]
    topik: logs
`;

function cli(t: import('node:test').TestContext, command: string, yaml: string): { code: number | null; stderr: string; stdout: string } {
  const dir = mkdtempSync(join(tmpdir(), `edgelog-all-errors-${process.pid}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'edgelog.yaml');
  writeFileSync(file, yaml);
  // --listen keeps `run` off the default port should it ever get past validation.
  const extra = command === 'run' ? ['--listen', '127.0.0.1:0'] : [];
  const r = spawnSync(process.execPath, [mainTs, command, '--config', file, ...extra], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}

/** The error `fn` throws, checked to be an instance of `cls`. */
function thrown<E extends Error>(fn: () => unknown, cls: new (...a: never[]) => E): E {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected ${cls.name} to be thrown`);
}

const expectedLines = [
  /sources\.app\.oversize: expected one of split, truncate, got "splitt" \(did you mean `split`\?\)/,
  /sources\.app\.glob_intervall: expected one of the known keys \([^)]*\), got "an unknown key" \(did you mean `glob_interval`\?\)/,
  /sinks\.kafka\.topik: expected one of the known keys \([^)]*\), got "an unknown key" \(did you mean `topic`\?\)/,
];

test('one validate run names a bad enum value and two misspelt keys in different sections, with suggestions', (t) => {
  const r = cli(t, 'validate', threeProblems);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /invalid, 3 problems:/);
  for (const re of expectedLines) assert.match(r.stderr, re);
  assert.equal(r.stderr.trim().split('\n').length, 4, `a heading and one line per problem:\n${r.stderr}`);
});

test('run refuses the same file with the same list and starts nothing', (t) => {
  const r = cli(t, 'run', threeProblems);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /invalid config: 3 problems:/);
  for (const re of expectedLines) assert.match(r.stderr, re);
});

test('the loader throws ConfigErrors listing every problem in file order; the first is its path', () => {
  const err = thrown(() => parseConfig(threeProblems, {}), ConfigErrors);
  assert.ok(err instanceof ConfigError, 'callers that catch ConfigError keep working');
  assert.deepEqual(err.errors.map((e) => [e.path, e.suggestion]), [
    ['sources.app.glob_intervall', 'glob_interval'],
    ['sources.app.oversize', 'split'],
    ['sinks.kafka.topik', 'topic'],
  ]);
  assert.equal(err.path, 'sources.app.glob_intervall');
});

test('validation goes on past a failed section, component and key', () => {
  const yaml = `
agent: { role: edgy, shutdown_timeout: soon }
observe: { log_format: xml }
sources:
  a: { type: fiel, include: [/x/*.log] }
  b: { type: file, include: [/y/*.log], start_at: middle }
decoders:
  j: { type: json, colour: red }
sinks:
  k: { type: kafka, brokers: ["127.0.0.1:9092"], batch: { max_events: -1 }, encoding: { codec: jsn } }
pipelines:
  p: { sources: [a, b], decoders: [j], sink: k }
`;
  const err = thrown(() => parseConfig(yaml, {}), ConfigErrors);
  assert.deepEqual(err.errors.map((e) => e.path), [
    'agent.role', 'agent.shutdown_timeout', 'observe.log_format',
    'sources.a.type', 'sources.b.start_at', 'decoders.j.colour',
    'sinks.k.encoding.codec', 'sinks.k.batch.max_events',
  ], err.message);
  // Suggestions where a value is one typo away, none where nothing is close.
  const byPath = new Map(err.errors.map((e) => [e.path, e.suggestion]));
  assert.equal(byPath.get('agent.role'), 'edge');
  assert.equal(byPath.get('sources.a.type'), 'file');
  assert.equal(byPath.get('sinks.k.encoding.codec'), 'json');
  assert.equal(byPath.get('sources.b.start_at'), undefined);
  // The pipeline names components that failed: that is not reported again as "not configured".
  assert.ok(!err.errors.some((e) => e.path.startsWith('pipelines')), err.message);
});

test('every bad key of a declared component is reported, not just its first (file, tcp, filter, kafka)', () => {
  const yaml = `
sources:
  app: { type: file, include: [var/log/*.log], start_at: middle, max_open_files: 0 }
  net: { type: tcp, address: nope, max_connections: 0, strip_cr: maybe }
transforms:
  f: { type: filter, min_level: loud, include: [{ field: x }] }
sinks:
  k: { type: kafka, brokers: [], acks: most, topic: "bad topic", client_retry: { retries: 500 }, headrs: false }
`;
  const err = thrown(() => parseConfig(yaml, {}), ConfigErrors);
  assert.deepEqual(err.errors.map((e) => e.path), [
    'sources.app.include[0]', 'sources.app.start_at', 'sources.app.max_open_files',
    'sources.net.address', 'sources.net.strip_cr', 'sources.net.max_connections',
    'transforms.f.min_level', 'transforms.f.include[0]',
    'sinks.k.headrs', 'sinks.k.brokers', 'sinks.k.topic', 'sinks.k.acks', 'sinks.k.client_retry.retries',
  ], err.message);
  assert.equal(err.errors.find((e) => e.path === 'sinks.k.headrs')?.suggestion, 'headers');
  assert.match(err.message, /sources\.app\.include\[0\]: expected an absolute glob pattern/);
});

test('a pipeline naming a component that does not exist is still reported, with a suggestion', () => {
  const yaml = `
sources: { app: { type: file, include: [/x/*.log] } }
sinks: { kafka: { type: kafka, brokers: ["127.0.0.1:9092"] } }
pipelines: { p: { sources: [apps], sink: kafak } }
`;
  const err = thrown(() => parseConfig(yaml, {}), ConfigError);
  assert.ok(!(err instanceof ConfigErrors), 'one problem is thrown as itself');
  assert.equal(err.path, 'pipelines.p.sources[0]');
  assert.equal(err.suggestion, 'app');
});

test("a component's validate() alone still throws one ConfigError at the first unknown key", () => {
  const err = thrown(() => fileSource.validate({ include: ['/x/*.log'], glob_intervall: '1s', rotate_wiat: '1s' }, 'sources.app'), ConfigError);
  assert.ok(!(err instanceof ConfigErrors));
  assert.equal(err.path, 'sources.app.glob_intervall');
  assert.equal(err.suggestion, 'glob_interval');
});

test('a valid file still validates (exit 0) and a single problem keeps its one-line form', (t) => {
  const ok = cli(t, 'validate', 'sources: { app: { type: file, include: [/x/*.log] } }\nsinks: { k: { type: kafka, brokers: ["127.0.0.1:9092"] } }\n');
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /valid/);
  const one = cli(t, 'validate', 'sources: { app: { type: file, include: [/x/*.log], rotate_wiat: 1s } }\nsinks: { k: { type: kafka, brokers: ["127.0.0.1:9092"] } }\n');
  assert.equal(one.code, 2);
  assert.match(one.stderr, /invalid, 1 problem:\n {2}sources\.app\.rotate_wiat: .*did you mean `rotate_wait`/);
});

test('closest: a typo within a third of the length, a swap is one edit, nothing for an unrelated word', () => {
  assert.equal(closest('glob_intervall', ['glob_interval', 'include']), 'glob_interval');
  assert.equal(closest('rotate_wiat', ['rotate_wait', 'idle_flush']), 'rotate_wait');
  assert.equal(closest('TOPIC', ['topic']), 'topic');
  assert.equal(closest('colour', ['fields', 'timestamp']), undefined);
  assert.equal(closest('xyz', []), undefined);
});

test('broken YAML, a duplicated key and a second document are refused as (yaml) with line and column; YAML 1.2 scalars', () => {
  const bad: Array<[string, RegExp]> = [
    ['sources:\n  app: { type: file, include: [/x/*.log]\nsinks: {}\n', /\(\d+:\d+\)/],
    ['sources: {}\nsinks: {}\nsources: {}\n', /duplicated mapping key \(3:1\)/],
    ['sources: {}\n---\nsinks: {}\n', /single document/],
  ];
  for (const [text, why] of bad) {
    const err = thrown(() => parseConfig(text, {}), ConfigError);
    assert.equal(err.path, '(yaml)', text);
    assert.match(err.message, /^\(yaml\): expected valid YAML \(/);
    assert.match(err.message, why);
  }
  // YAML 1.2 core schema: `yes` and a date stay strings (a site named `no` or a date-like id is not rewritten).
  const ok = parseConfig('agent: { id: 2024-01-01, site: no }\nsources: { app: { type: file, include: [/x/*.log] } }\nsinks: { k: { type: kafka, brokers: ["127.0.0.1:9092"] } }\n', {});
  assert.equal(ok.agent.id, '2024-01-01');
  assert.equal(ok.agent.site, 'no');
});
