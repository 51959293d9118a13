// A snapshot of each stack's synthesized JSON, stored under
// test/infra/__snapshots__/<stack>.json. Rewrite them after an intended change:
//   UPDATE_SNAPSHOTS=1 node --test test/infra/snapshot.test.ts
//
// Deterministic by construction: cdktf's test synth strips path metadata and
// sorts keys; state paths are relative (infra/lib/stack.ts); logical ids are
// hashes of construct paths. The relay boot scripts (base64 literals) are
// replaced by a marker, because they belong to agent/install and are checked
// byte for byte by user-data.test.ts; an installer change should not need an
// infra snapshot update.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { STACK_NAMES } from '../../infra/app.ts';
import { synthAll, tempEdgelogApp, type Json } from './fixtures.ts';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '__snapshots__');
const UPDATE = process.env.UPDATE_SNAPSHOTS === '1';
const BOOT_SCRIPT = /base64decode\("[A-Za-z0-9+/=]{200,}"\)/g;
const MARKER = 'base64decode("<relay boot script: renderCloudInit(), see user-data.test.ts>")';

function normalize(tf: Json): string {
  const text = JSON.stringify(tf, (_key, value: unknown) => (typeof value === 'string' ? value.replace(BOOT_SCRIPT, MARKER) : value), 2);
  return text + '\n';
}

test('each stack matches its snapshot', (t) => {
  const stacks = synthAll(tempEdgelogApp(t).app);
  assert.deepEqual(Object.keys(stacks).sort(), [...STACK_NAMES].sort());
  for (const name of STACK_NAMES) {
    const actual = normalize(stacks[name]);
    assert.ok(!/[A-Za-z0-9+/=]{200,}/.test(actual), `${name}: boot script left in the snapshot`);
    JSON.parse(actual);
    const file = join(DIR, `${name}.json`);
    if (UPDATE) {
      mkdirSync(DIR, { recursive: true });
      writeFileSync(file, actual);
      continue;
    }
    assert.ok(existsSync(file), `no snapshot ${file}; run UPDATE_SNAPSHOTS=1 node --test test/infra/snapshot.test.ts`);
    assert.equal(actual, readFileSync(file, 'utf8'), `stack ${name} differs from ${file} (UPDATE_SNAPSHOTS=1 to accept)`);
  }
});

test('synth is deterministic: two builds give identical JSON', (t) => {
  const a = synthAll(tempEdgelogApp(t).app);
  const b = synthAll(tempEdgelogApp(t).app);
  for (const name of STACK_NAMES) assert.equal(JSON.stringify(a[name]), JSON.stringify(b[name]), name);
});
