// The default configs install.sh puts in /etc/edgelog validate against the
// agent's schema, and every component type they name is in the registry.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './helpers.ts';

for (const role of ['edge', 'relay'] as const) {
  test(`defaults/${role}.yaml is a valid ${role} config`, async () => {
    const { parseConfig } = await import('../../agent/config/load.ts');
    const { listTypes } = await import('../../agent/registry.ts');
    const text = readFileSync(join(repoRoot, `agent/install/defaults/${role}.yaml`), 'utf8');
    const needed: Array<['source' | 'sink' | 'encoder', string]> = role === 'edge'
      ? [['source', 'file'], ['sink', 'kafka'], ['encoder', 'otlp_proto']]
      : [['source', 'forward'], ['sink', 'kafka'], ['encoder', 'otlp_proto']];
    const missing = needed.filter(([kind, type]) => !listTypes(kind).includes(type)).map(([k, ty]) => `${k}/${ty}`);
    assert.deepEqual(missing, [], 'component types the default config needs are registered');
    const cfg = parseConfig(text, {});
    assert.equal(cfg.agent.role, role);
    assert.equal(cfg.agent.dataDir, '/var/lib/edgelog');
    assert.match(cfg.observe.listen, /^127\.0\.0\.1:/);
  });
}
