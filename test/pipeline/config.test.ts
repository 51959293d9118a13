// Config validation: errors name the key path and what was expected; ${ENV}
// substitution; and the CLI exits 2 on an invalid file.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../agent/core/errors.ts';
import { substituteEnv } from '../../agent/config/env.ts';
import { readMap, readBytes, readDuration, readInt } from '../../agent/config/schema.ts';

test('${ENV} substitution with defaults, escapes, and a named error when missing', () => {
  const env = { USER_PW: 's3cret', EMPTY: '' };
  assert.deepEqual(substituteEnv({ a: { pw: '${USER_PW}', d: '${NOPE:-fallback}', e: '$${literal}', list: ['x${USER_PW}'] } }, '', env),
    { a: { pw: 's3cret', d: 'fallback', e: '${literal}', list: ['xs3cret'] } });
  assert.throws(() => substituteEnv({ sinks: { k: { sasl: { password: '${MISSING_PW}' } } } }, '', env),
    (e: unknown) => e instanceof ConfigError && e.path === 'sinks.k.sasl.password' && /MISSING_PW/.test(e.message));
  assert.throws(() => substituteEnv({ x: '${EMPTY}' }, '', env), ConfigError);
});

test('readers name the key path and the expectation', () => {
  assert.throws(() => readMap({ typo: 1 }, 'sources.app', ['include']), /sources\.app\.typo: expected one of the known keys \(include\)/);
  assert.throws(() => readBytes({ max_bytes: 'lots' }, 'max_bytes', 'sinks.k.batch', 1), /sinks\.k\.batch\.max_bytes: expected a size/);
  assert.equal(readBytes({ m: '64KiB' }, 'm', '', 0), 65536);
  assert.equal(readBytes({ m: '1MB' }, 'm', '', 0), 1_000_000);
  assert.equal(readDuration({ t: '250ms' }, 't', '', 0), 250);
  assert.equal(readDuration({ t: '2m' }, 't', '', 0), 120_000);
  assert.throws(() => readInt({ n: 1.5 }, 'n', 'a.b', 0), /a\.b\.n: expected an integer/);
});

test('edgelog validate exits 2 naming the key path; a valid file exits 0', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgelog-cfg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cli = (file: string) => spawnSync(process.execPath, ['agent/cli/main.ts', 'validate', '--config', file], { encoding: 'utf8' });
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'observe:\n  listen: everywhere\nsources: {}\n');
  let r = cli(bad);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /observe\.listen: expected host:port/);
  writeFileSync(bad, 'sources:\n  app:\n    type: nosuchthing\nsinks: {}\n');
  r = cli(bad);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /sources\.app\.type: expected one of/);
  writeFileSync(bad, 'agent: [1, 2]\n');
  r = cli(bad);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /agent: expected a map, got a list/);
  writeFileSync(bad, 'agent:\n  id: a\n  id: b\n');
  r = cli(bad);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /valid YAML/);
  r = cli(join(dir, 'missing.yaml'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cannot read config/);
});
