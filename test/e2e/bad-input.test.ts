// Bad input never crashes the agent and never blocks other lines: binary
// garbage, invalid UTF-8 and a 10 MB line in one file while a clean file is
// shipped beside it. Garbage arrives byte-exact (as OTLP bytes when it is not
// UTF-8); the 10 MB line is split at max_line_bytes and counted.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedKafka, uniqueTopic } from '../helpers/kafka.ts';
import { startAgent, metricSum } from '../helpers/agent-process.ts';
import { tempDir, writeAgentConfig, readBack, waitFor } from '../helpers/e2e.ts';
import { splitLines } from '../../agent/verify/otlp-readback.ts';
import { defer } from '../helpers/cleanup.ts';

test('binary garbage, invalid UTF-8 and a 10 MB line neither crash the agent nor block other lines', async (t) => {
  const kafka = await sharedKafka('A');
  const topic = uniqueTopic('bad-input');
  await kafka.createTopic(topic, 1);
  const dir = tempDir(t);
  const garbage = randomBytes(64 * 1024);
  const invalid = Buffer.from([0x61, 0xff, 0xfe, 0xc3, 0x28, 0x62]);
  const bad = join(dir, 'bad.log');
  const good = join(dir, 'good.log');
  writeFileSync(bad, Buffer.concat([garbage, Buffer.from('\n'), invalid, Buffer.from('\n'), Buffer.alloc(10 * 1024 * 1024, 0x41), Buffer.from('\nafter the big line\n')]));
  const goodLines = Array.from({ length: 1000 }, (_, i) => `good line ${i}`);
  writeFileSync(good, goodLines.join('\n') + '\n');
  const agent = await startAgent(writeAgentConfig({ dir, include: [join(dir, '*.log')], bootstrap: kafka.bootstrap, topic }));
  defer(t, 'kill the agent', () => agent.kill());
  await waitFor('good lines and the line after the big one delivered', async () => {
    const m = await agent.metrics();
    return metricSum(m, 'edgelog_file_checkpoint_lag_bytes') === 0 && metricSum(m, 'edgelog_file_acked_bytes_total') >= 10 * 1024 * 1024;
  }, 90_000, 250);
  const m = await agent.metrics();
  assert.ok(metricSum(m, 'edgelog_file_lines_oversize_total') >= 1, 'the 10 MB line is counted as oversize');
  assert.equal((await fetch(`http://${agent.http}/healthz`)).status, 200);
  assert.equal(await agent.stop(), 0);

  const records = await readBack(kafka, topic);
  const goodGot = records.filter((r) => r.attributes['log.file.path'] === good).map((r) => r.body.toString());
  assert.deepEqual(goodGot, goodLines);
  const badRecs = records.filter((r) => r.attributes['log.file.path'] === bad);
  // Garbage contains LF bytes of its own: framing splits it there, exactly as splitLines does.
  const garbageLines = splitLines(Buffer.concat([garbage, Buffer.from('\n')])).map(([, b]) => b);
  const firstBodies = badRecs.slice(0, garbageLines.length).map((r) => r.body);
  assert.equal(firstBodies.length, garbageLines.length);
  garbageLines.forEach((l, k) => assert.ok(firstBodies[k]!.equals(l), `garbage piece ${k} differs`));
  const inv = badRecs.find((r) => r.body.equals(invalid));
  assert.ok(inv, 'invalid UTF-8 arrives byte-exact');
  assert.equal(inv.bodyIsBytes, true, 'non-UTF-8 bodies travel as OTLP bytes_value');
  const bigPieces = badRecs.filter((r) => r.body.length > 0 && r.body.every((b) => b === 0x41));
  assert.equal(bigPieces.reduce((a, r) => a + r.body.length, 0), 10 * 1024 * 1024, 'the 10 MB line arrives whole, split into pieces');
  assert.ok(badRecs.some((r) => r.body.toString() === 'after the big line'));
});
