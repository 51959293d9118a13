// The rows of agent/COMPONENTS.md generated from declared sections
// (agent/config/declare.ts) are what the declarations say: the file as
// committed equals the file rendered (regenerate with
// `node agent/config/reference-rows.ts --write`), and a declaration's
// reader gives its documented defaults and names key paths on bad values.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { placements, readReference, referenceFile, renderReference } from '../../agent/config/reference-rows.ts';
import { collectConfigErrors } from '../../agent/config/schema.ts';
import { spoolSection } from '../../agent/pipeline/spool/config.ts';

test('agent/COMPONENTS.md holds exactly the rows its declared sections generate', () => {
  const text = readFileSync(referenceFile, 'utf8');
  const rendered = renderReference(text);
  if (rendered !== text) {
    const a = text.split('\n'), b = rendered.split('\n');
    const i = a.findIndex((l, k) => l !== b[k]);
    assert.fail(`agent/COMPONENTS.md differs from its declarations at line ${i + 1}:\n  file:     ${a[i]}\n  declared: ${b[i]}\nrun: node agent/config/reference-rows.ts --write`);
  }
});

test('a hand edit of a generated row is caught, and a placement whose rows are gone is an error', () => {
  const text = readFileSync(referenceFile, 'utf8');
  const edited = text.replace('| `spool.when_full` | enum `block`, `drop_oldest` | `block` |', '| `spool.when_full` | enum `block`, `drop_oldest` | `drop_oldest` |');
  assert.notEqual(edited, text, 'the row to edit is in the file');
  assert.notEqual(renderReference(edited), edited);
  assert.equal(renderReference(edited), text, 'rendering puts the declared row back');
  // The sample transform's table with its rows taken out: nothing to put the declared rows in place of.
  let inSample = false;
  const withoutSample = text.split('\n').filter((l) => {
    if (l.startsWith('#')) inSample = l === '### `sample` (transform)';
    return !(inSample && l.startsWith('| `'));
  }).join('\n');
  assert.throws(() => renderReference(withoutSample), /section transform:sample has no rows/);
});

test('every section of the reference is declared whole (no hand-written rows left)', () => {
  const undeclared = [...readReference().keys()].filter((id) => !placements.some((p) => p.section === id && p.prefix === ''));
  assert.deepEqual(undeclared, [], 'sections of agent/COMPONENTS.md without a declaration placed with no prefix (agent/config/reference-rows.ts placements)');
});

test('every placed section exists in the reference, with one row per declared key', () => {
  const ref = readReference();
  for (const p of placements) {
    const rows = ref.get(p.section)?.filter((r) => r.key.startsWith(p.prefix)) ?? [];
    // A nested map's rows follow its own (`tls`, then `tls.cert_file`, ...).
    assert.deepEqual(rows.map((r) => r.key), p.decl.rows(p.prefix).map((r) => r.key), p.section);
  }
});

test('the spool declaration: an empty map gives the defaults; bad values are named by key path, all at once, with suggestions', () => {
  assert.deepEqual(spoolSection.read({}, 'sources.net.spool'), spoolSection.defaults);
  assert.equal(spoolSection.defaults.fsync_interval_ms, 500);
  // A small cap shrinks the default segment (max_bytes / 4), a cross-key rule of the declaration.
  assert.equal(spoolSection.read({ max_bytes: '1MiB' }, 'p').segment_bytes, 256 * 1024);
  const { errors } = collectConfigErrors(() => spoolSection.read({ when_ful: 'block', fsync_intervall: '1s', when_full: 'drop_olde', fsync_bytes: 'lots' }, 'sources.net.spool'));
  const lines = errors.map((e) => e.message);
  assert.equal(lines.length, 4, lines.join('\n'));
  assert.match(lines[3]!, /sources\.net\.spool\.fsync_bytes: expected a size/);
  assert.match(lines[0]!, /sources\.net\.spool\.when_ful: .*did you mean `when_full`/);
  assert.match(lines[1]!, /sources\.net\.spool\.fsync_intervall: .*did you mean `fsync_interval`/);
  assert.match(lines[2]!, /sources\.net\.spool\.when_full: expected one of block, drop_oldest.*did you mean `drop_oldest`/);
  assert.throws(() => spoolSection.read({ segment_bytes: '64KiB', max_record_bytes: '64KiB' }, 'x.spool'), /x\.spool\.max_record_bytes: expected at most segment_bytes - 64/);
});
