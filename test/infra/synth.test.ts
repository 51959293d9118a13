// `node infra/main.ts` (npm run synth) writes every stack to infra/cdktf.out,
// offline: proxies point at a closed loopback port, so any network fetch
// during synth would fail the run.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { STACK_NAMES } from '../../infra/app.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT = join(ROOT, 'infra', 'cdktf.out');

test('node infra/main.ts writes all stacks to infra/cdktf.out without network', (t) => {
  // infra/cdktf.out is build output (gitignored); remove it afterwards only if this test created it.
  const existed = existsSync(OUT);
  t.after(() => {
    if (!existed) rmSync(OUT, { recursive: true, force: true });
  });
  const closed = 'http://127.0.0.1:9';
  const run = spawnSync(process.execPath, [join(ROOT, 'infra', 'main.ts')], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, HTTP_PROXY: closed, HTTPS_PROXY: closed, http_proxy: closed, https_proxy: closed, NO_PROXY: '' },
  });
  assert.equal(run.status, 0, `synth failed:\n${run.stderr}`);
  assert.match(run.stdout, /synthesized primary, secondary, gcp, global/);

  const manifest = JSON.parse(readFileSync(join(OUT, 'manifest.json'), 'utf8'));
  assert.deepEqual(Object.keys(manifest.stacks).sort(), [...STACK_NAMES].sort());
  // global takes the GCP address from config: a failed GCP deploy does not block AWS failover.
  assert.deepEqual(manifest.stacks.global.dependencies.sort(), ['primary', 'secondary']);
  assert.deepEqual(manifest.stacks.secondary.dependencies, ['primary']);
  for (const name of STACK_NAMES) {
    const tf = JSON.parse(readFileSync(join(OUT, 'stacks', name, 'cdk.tf.json'), 'utf8'));
    assert.ok(Object.keys(tf.resource ?? {}).length > 0, `${name} has resources`);
    assert.equal(tf.terraform.backend.local.path, `../../../state/terraform.${name}.tfstate`);
  }
});
