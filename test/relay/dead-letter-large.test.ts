// A relay dead-letters records too large for Kafka (a 30 MiB record from a
// compression bomb): the dead-letter line of a large body is written in
// slices, and must still be one valid JSON line per record, in order, with
// the body byte-exact.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeadLetterFile } from '../../agent/pipeline/dead-letter.ts';
import { makeRecords } from '../forward/helpers.ts';
import { defer, removeDir } from '../helpers/cleanup.ts';

test('dead letters with a body above 1 MiB: one JSON line per record, in order, bodies byte-exact', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgelog-dead-letter-'));
  defer(t, 'remove the dir', () => removeDir(dir));
  const big = Buffer.alloc(7 * 1024 * 1024 + 5);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 255;
  const bodies = [Buffer.from('small before'), big, Buffer.from('small after')];
  const { records } = makeRecords(3, { body: (i) => bodies[i]! });
  const file = new DeadLetterFile(join(dir, 'dead', 'letters.jsonl'));
  await file.write(records, 'EDGELOG_RECORD_TOO_LARGE', 'above the destination limit');
  await file.write(records.slice(0, 1), 'EDGELOG_RECORD_INVALID', 'small batch, one append');
  const lines = readFileSync(join(dir, 'dead', 'letters.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.equal(lines.length, 4);
  assert.deepEqual(lines.map((l) => l.reason), ['EDGELOG_RECORD_TOO_LARGE', 'EDGELOG_RECORD_TOO_LARGE', 'EDGELOG_RECORD_TOO_LARGE', 'EDGELOG_RECORD_INVALID']);
  for (const [i, b] of [...bodies, bodies[0]!].entries()) {
    assert.equal(lines[i].bytes, b.length);
    assert.ok(Buffer.from(lines[i].body_b64, 'base64').equals(b), `record ${i} body byte-exact`);
    assert.equal(lines[i].offset, records[i % 3]!.offset);
  }
});
