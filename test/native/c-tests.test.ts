// Runs the C tests built by `make -C native` (native/build/tests/*); exit 77
// means the host lacks the feature or privilege and becomes t.skip(reason).

import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = join(root, 'native/build/tests');
const binaries = existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith('test_')).sort() : [];

if (binaries.length === 0) {
  test('native C tests', { skip: `no C test binaries in ${dir} (run \`make -C native\`; needs gcc, clang, libbpf-dev, liburing-dev)` }, () => {});
}

for (const name of binaries) {
  test(`native C test ${name}`, { timeout: 60_000 }, (t) => {
    const r = spawnSync(join(dir, name), { encoding: 'utf8', timeout: 55_000 });
    const out = `${r.stdout}${r.stderr}`.trim();
    if (r.status === 77) {
      t.skip(out.split('\n').pop() || 'skipped by the test');
      return;
    }
    if (r.status !== 0) throw new Error(`${name} exited ${r.status ?? r.signal}:\n${out}`);
  });
}
