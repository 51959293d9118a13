// A checkpoint must never point past an unacknowledged chunk, at any moment,
// not only once everything settled. The acks here arrive one group at a time
// in separate turns, and after each the test lets the checkpoint timer run
// (counted flush calls, not a sleep) before reading the file.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Collector, makeCtx, makeSource, tempDir, testConfig, waitFor } from './helpers.ts';
import type { AckGroup } from '../../../agent/core/ack.ts';

function checkpointOffset(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, 'utf8')) as { checkpoints: { offset: number }[] }).checkpoints[0]?.offset;
}

test('acking later groups while an earlier one is pending never moves the checkpoint past the hole, across timer flushes', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, 'a.log');
  let text = '';
  for (let i = 0; i < 300; i++) text += `line ${i} ${'y'.repeat(i % 40)}\n`;
  writeFileSync(log, text);
  const src = makeSource(testConfig({ include: [log], read_chunk_bytes: 512, checkpoint_interval: '20ms' }), makeCtx(join(dir, 'data')), t);
  // Count the timer's flushes so "the interval has passed" is a condition, not a sleep.
  let flushes = 0;
  const flush = src.store.flush.bind(src.store);
  src.store.flush = async () => { flushes++; return flush(); };
  const afterTimerRuns = async (what: string): Promise<void> => {
    const target = flushes + 2; // the next full flush started after the ack
    await waitFor(() => flushes >= target, `two checkpoint flushes after ${what}`);
  };
  const c = new Collector('hold');
  await src.start(c);
  await waitFor(() => c.records.length === 300, 'all records');
  const groups: AckGroup[] = [];
  for (const r of c.records) if (groups.at(-1) !== r.ack) groups.push(r.ack);
  assert.ok(groups.length >= 8, `many chunks (${groups.length})`);
  const ack = (g: AckGroup) => assert.ok(c.ackWhere((r) => r.ack === g) > 0);

  for (const i of [0, 1]) ack(groups[i]!);
  await waitFor(() => checkpointOffset(src.checkpointFile) === groups[1]!.token, 'checkpoint at the end of group 1');

  // Group 2 is the hole. Ack later groups one at a time, each followed by timer flushes.
  for (const i of [5, 3, 7, 4]) {
    ack(groups[i]!);
    await afterTimerRuns(`acking group ${i}`);
    assert.equal(checkpointOffset(src.checkpointFile), groups[1]!.token, `checkpoint still at group 1 after acking group ${i}`);
  }
  ack(groups[2]!);
  await waitFor(() => checkpointOffset(src.checkpointFile) === groups[5]!.token, 'the hole filled: checkpoint jumps to the end of group 5');
  await afterTimerRuns('filling the hole');
  assert.equal(checkpointOffset(src.checkpointFile), groups[5]!.token, 'group 6 is still pending');
  c.ackAll();
  await waitFor(() => checkpointOffset(src.checkpointFile) === statSync(log).size, 'checkpoint at EOF');
});
