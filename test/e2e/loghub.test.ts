// Issue 2's first promise: all twelve loghub samples through the real agent
// (CLI, child process) and a real broker, consumed back: every line present,
// body byte-exact (terminator stripped), per-file order kept, counts equal.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readdirSync, readFileSync, mkdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { sharedKafka, uniqueTopic } from '../helpers/kafka.ts';
import { startAgent, metricSum } from '../helpers/agent-process.ts';
import { tempDir, writeAgentConfig, readBack, waitFor } from '../helpers/e2e.ts';
import { checkAgainstFiles, splitLines } from '../../agent/verify/otlp-readback.ts';
import { defer } from '../helpers/cleanup.ts';

const loghub = resolve(import.meta.dirname, '../../../shared/data/loghub');

// On the main thread and on a processing thread (records cross in shared memory there).
for (const threads of [0, 1]) test(`all twelve loghub samples arrive byte-exact, complete and in order per file (worker_threads: ${threads})`, { skip: existsSync(loghub) ? false : `no samples at ${loghub}` }, async (t) => {
  const kafka = await sharedKafka('A');
  const topic = uniqueTopic('loghub');
  await kafka.createTopic(topic, 3);
  const dir = tempDir(t);
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const names = readdirSync(loghub).filter((f) => f.endsWith('_2k.log')).sort();
  assert.equal(names.length, 12);
  for (const f of names) copyFileSync(join(loghub, f), join(logs, f));
  const files = new Map(names.map((f) => [join(logs, f), readFileSync(join(logs, f))]));
  const expected = [...files.values()].reduce((a, b) => a + splitLines(b).length, 0);

  const agent = await startAgent(writeAgentConfig({ dir, include: [join(logs, '*.log')], bootstrap: kafka.bootstrap, topic, workerThreads: threads }));
  defer(t, 'kill the agent', () => agent.kill());
  // Terminated lines ship at once; the nine unterminated last lines after idle_flush (500 ms).
  await waitFor('every line acknowledged', async () => metricSum(await agent.metrics(), 'edgelog_component_sent_records_total') >= expected, 90_000, 250);
  assert.equal(await agent.stop(), 0);

  const records = await readBack(kafka, topic);
  t.diagnostic(`consumed ${records.length} records; first ${JSON.stringify(records[0]?.attributes)}`);
  const checks = checkAgainstFiles(records, files);
  for (const c of checks) {
    assert.equal(c.missing, 0, `${c.stream}: ${c.missing} missing`);
    assert.equal(c.mismatched, 0, `${c.stream}: ${c.mismatched} bodies differ`);
    assert.equal(c.outOfOrder, 0, `${c.stream}: out of order`);
    assert.equal(c.duplicates, 0, `${c.stream}: duplicates on a clean run`);
    assert.equal(c.unique, c.expected);
  }
  assert.equal(records.length, expected);
  // Resource identity and the dedupe key are on every record.
  assert.equal(records[0]!.resource['service.name'] !== undefined, true);
  assert.ok(records.every((r) => typeof r.attributes['edgelog.stream_id'] === 'string' && r.attributes['edgelog.offset'] !== undefined));
});
