// All twelve Loghub samples through the file source: every line, byte-exact,
// in file order, with correct offsets; the unterminated last lines delivered
// by the idle flush and, separately, by stop().

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Collector, expectedLines, makeCtx, makeSource, tempDir, testConfig, waitFor } from './helpers.ts';
import { afterScans } from './progress.ts';

const LOGHUB = resolve(import.meta.dirname, '../../../../shared/data/loghub');
const files = existsSync(LOGHUB) ? readdirSync(LOGHUB).filter((f) => f.endsWith('_2k.log')).sort() : [];

interface Want { lines: Buffer[]; offsets: number[]; unterminated: boolean }
function load(): Map<string, Want> {
  const want = new Map<string, Want>();
  for (const f of files) {
    const data = readFileSync(join(LOGHUB, f));
    const lines = expectedLines(data);
    const offsets: number[] = [];
    let off = 0;
    for (const l of lines) {
      offsets.push(off);
      off += l.length;
      if (off < data.length) off += data[off] === 0x0d ? 2 : 1;
    }
    want.set(join(LOGHUB, f), { lines, offsets, unterminated: data.at(-1) !== 0x0a });
  }
  return want;
}

function check(c: Collector, want: Map<string, Want>): void {
  for (const [path, w] of want) {
    const got = c.records.filter((r) => r.stream === path);
    assert.equal(got.length, w.lines.length, `${path}: line count`);
    for (let i = 0; i < got.length; i++) {
      if (!got[i]!.body.equals(w.lines[i]!)) assert.fail(`${path} line ${i + 1} differs: ${JSON.stringify(got[i]!.body.toString('latin1').slice(0, 80))}`);
      assert.equal(got[i]!.offset, w.offsets[i], `${path} line ${i + 1} offset`);
    }
    assert.equal(new Set(got.map((r) => r.streamId)).size, 1, `${path}: one stream id`);
  }
}

test('loghub samples: all lines byte-exact and in order, last line by idle flush', { skip: files.length !== 12 ? `expected 12 loghub samples in ${LOGHUB}` : false }, async (t) => {
  const dir = await tempDir(t);
  const want = load();
  assert.ok([...want.values()].some((w) => w.unterminated), 'some samples end without a terminator');
  const total = [...want.values()].reduce((n, w) => n + w.lines.length, 0);
  const src = makeSource(testConfig({ include: [join(LOGHUB, '*_2k.log')], idle_flush: '300ms' }), makeCtx(dir), t);
  const c = new Collector('reverse');
  await src.start(c);
  await waitFor(() => c.records.length >= total, `${total} records`);
  check(c, want);
  c.flushReverse();
  await src.drain(5000);
  // everything acknowledged: every checkpoint sits at the end of its file
  const ck = JSON.parse(readFileSync(src.checkpointFile, 'utf8')) as { checkpoints: { path: string; offset: number }[] };
  assert.equal(ck.checkpoints.length, 12);
  for (const e of ck.checkpoints) assert.equal(e.offset, readFileSync(e.path).length, e.path);
  assert.equal(src.telemetry.counts.records, total);
});

test('loghub samples: unterminated last lines are shipped at stop()', { skip: files.length !== 12 ? `expected 12 loghub samples in ${LOGHUB}` : false }, async (t) => {
  const dir = await tempDir(t);
  const want = load();
  const total = [...want.values()].reduce((n, w) => n + w.lines.length, 0);
  const unterminated = [...want.values()].filter((w) => w.unterminated).length;
  const src = makeSource(testConfig({ include: [join(LOGHUB, '*_2k.log')], idle_flush: '1h' }), makeCtx(dir), t);
  const c = new Collector();
  await src.start(c);
  await waitFor(() => c.records.length >= total - unterminated, 'terminated lines');
  // the idle timeout is an hour: nothing more until stop()
  await afterScans(src);
  assert.equal(c.records.length, total - unterminated);
  await src.stop();
  check(c, want);
  await src.drain(5000);
});
