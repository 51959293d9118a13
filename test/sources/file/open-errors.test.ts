// A file that exists but cannot be opened (EACCES; ENOENT is the ordinary
// race with rotation and is tested elsewhere): the source keeps tailing the
// other files, counts the failure on every retry but logs it once, and reads
// the file as soon as it becomes readable. Runs in a child process without
// CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH, so mode 000 denies even root.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const child = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/open-error-child.ts');

function hasSetpriv(): boolean {
  return spawnSync('setpriv', ['--version'], { stdio: 'ignore' }).status === 0;
}

test('EACCES on open: other files keep flowing, the failure is counted per retry and logged once, the file is read once permitted', { timeout: 60_000 }, (t) => {
  const root = process.getuid?.() === 0;
  if (root && !hasSetpriv()) { t.skip('setpriv (util-linux) not available to drop CAP_DAC_OVERRIDE as root'); return; }
  const dir = mkdtempSync(join(tmpdir(), `edgelog-open-errors-${process.pid}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'good.log'), 'readable\n');
  writeFileSync(join(dir, 'secret.log'), 'secret line\n');
  chmodSync(join(dir, 'secret.log'), 0o000);
  const cmd = root
    ? ['setpriv', ['--bounding-set=-dac_override,-dac_read_search', process.execPath, child, dir]] as const
    : [process.execPath, [child, dir]] as const;
  const r = spawnSync(cmd[0], [...cmd[1]], { encoding: 'utf8', timeout: 50_000 });
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { bodies: string[]; errorsWhileDenied: number; warnings: Array<Record<string, unknown>> };
  assert.deepEqual([...out.bodies].sort(), ['after', 'readable', 'secret line']);
  assert.ok(out.errorsWhileDenied >= 3, `open failures counted on every retry (${out.errorsWhileDenied})`);
  assert.equal(out.warnings.length, 1, 'logged once, not once per scan');
  assert.equal(out.warnings[0]!.path, join(dir, 'secret.log'));
  assert.match(JSON.stringify(out.warnings[0]!.error), /EACCES/);
});
