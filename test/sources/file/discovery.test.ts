// File discovery: an include without glob syntax is one path (stat'ed, not
// globbed) and must find exactly what fs.glob would: the file when it is a
// regular file, nothing when it is missing or a directory, once when a glob
// also matches it, never when an exclude matches it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFiles, isIncluded, isLiteralPattern } from '../../../agent/sources/file/discovery.ts';

function tempDir(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'edgelog-discovery-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test('isLiteralPattern: any wildcard, class, brace, extglob or escape makes a glob', () => {
  for (const p of ['/var/log/app.log', '/var/log/a+b@c.log', '/var/log/app-1.2.log']) assert.equal(isLiteralPattern(p), true, p);
  for (const p of ['/var/log/*.log', '/var/log/**/x.log', '/var/log/app?.log', '/var/log/[ab].log', '/var/log/{a,b}.log', '/var/log/@(a|b).log', '/var/log/a\\*.log', '!/var/log/x.log']) assert.equal(isLiteralPattern(p), false, p);
});

test('a plain path finds its file, and nothing when missing or a directory', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a.log'), 'x\n');
  mkdirSync(join(dir, 'sub.log'));
  const found = await findFiles([join(dir, 'a.log'), join(dir, 'missing.log'), join(dir, 'sub.log')], []);
  assert.deepEqual(found.map((f) => f.path), [join(dir, 'a.log')]);
  assert.equal(found[0]!.st.size, 2n);
});

test('plain paths and globs together: each file once, plain paths normalized like glob results', async (t) => {
  const dir = tempDir(t);
  for (const n of ['a.log', 'b.log', 'c.txt']) writeFileSync(join(dir, n), 'x\n');
  const found = await findFiles([`${dir}//a.log`, join(dir, '*.log'), join(dir, 'c.txt')], []);
  assert.deepEqual(found.map((f) => f.path).sort(), [join(dir, 'a.log'), join(dir, 'b.log'), join(dir, 'c.txt')]);
});

test('an exclude applies to plain paths too', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a.log'), 'x\n');
  writeFileSync(join(dir, 'skip.log'), 'x\n');
  const found = await findFiles([join(dir, 'a.log'), join(dir, 'skip.log')], [join(dir, 'skip*')]);
  assert.deepEqual(found.map((f) => f.path), [join(dir, 'a.log')]);
});

test('isIncluded: a plain include matches its own path only', () => {
  assert.equal(isIncluded('/var/log/app.log', ['/var/log//app.log'], []), true);
  assert.equal(isIncluded('/var/log/app.log.1', ['/var/log/app.log'], []), false);
  assert.equal(isIncluded('/var/log/app.log', ['/var/log/app.log'], ['/var/log/*.log']), false);
  assert.equal(isIncluded('/var/log/x.log', ['/var/log/app.log', '/var/log/*.log'], []), true);
});
