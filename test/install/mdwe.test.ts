// Why the unit keeps MemoryDenyWriteExecute=no: V8's JIT needs pages it can
// make executable after writing code into them, which is exactly what
// MemoryDenyWriteExecute forbids. Demonstrated with the kernel's own W^X
// switch (prctl PR_SET_MDWE, Linux 6.3+; systemd >= 254 uses it for this
// setting, older systemd an equivalent seccomp filter): the bundled Node
// aborts at startup under it, and only runs with --jitless (no JIT, no wasm,
// a large throughput loss), so the setting stays off.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasCommand, repoRoot } from './helpers.ts';

const node = join(repoRoot, 'node_modules/node/bin/node');
// PR_SET_MDWE = 65, PR_MDWE_REFUSE_EXEC_GAIN = 1; exit 97 when the kernel lacks it.
const wrapper = `import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(65, 1, 0, 0, 0) != 0:
    sys.exit(97)
os.execv(sys.argv[1], sys.argv[1:])`;

test('Node cannot run under MemoryDenyWriteExecute (so the unit leaves it off)', (t) => {
  if (!hasCommand('python3')) return t.skip('python3 not available to call prctl(PR_SET_MDWE)');
  const script = 'let s = 0; for (let i = 0; i < 1e6; i++) s += i; console.log(s)';
  const withMdwe = spawnSync('python3', ['-c', wrapper, node, '-e', script], { encoding: 'utf8' });
  if (withMdwe.status === 97) return t.skip('kernel has no PR_SET_MDWE (Linux < 6.3)');
  assert.notEqual(withMdwe.status, 0, 'Node with the JIT dies under W^X');
  assert.match(withMdwe.stderr, /Fatal error|Check failed/);
  const jitless = spawnSync('python3', ['-c', wrapper, node, '--jitless', '-e', script], { encoding: 'utf8' });
  assert.equal(jitless.status, 0, jitless.stderr);
  const unit = readFileSync(join(repoRoot, 'agent/install/install.sh'), 'utf8');
  assert.match(unit, /^MemoryDenyWriteExecute=no$/m);
});
