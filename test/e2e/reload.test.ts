// SIGHUP hot reload (issue 7): an invalid config is rejected and the agent
// keeps running on the old one; a valid one is applied while a writer keeps
// appending, with no line lost and none delivered twice.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { sharedKafka, uniqueTopic } from '../helpers/kafka.ts';
import { startAgent, metricSum } from '../helpers/agent-process.ts';
import { tempDir, writeAgentConfig, readBack, waitFor } from '../helpers/e2e.ts';
import { defer } from '../helpers/cleanup.ts';

test('SIGHUP: invalid config rejected with the reason, valid config applied without loss or duplicates', async (t) => {
  const kafka = await sharedKafka('A');
  const topic = uniqueTopic('reload');
  await kafka.createTopic(topic, 1);
  const dir = tempDir(t);
  const file = join(dir, 'app.log');
  const base = { dir, include: [file], bootstrap: kafka.bootstrap, topic, logLevel: 'info' as const };
  const cfgFile = writeAgentConfig(base);
  const agent = await startAgent(cfgFile);
  defer(t, 'kill the agent', () => agent.kill());
  const fd = openSync(file, 'a');
  let seq = 0;
  const writer = setInterval(() => {
    let s = '';
    for (let i = 0; i < 20; i++) s += `seq=${String(seq++).padStart(8, '0')} reload test line\n`;
    writeSync(fd, s);
  }, 10);
  defer(t, 'stop the writer', () => clearInterval(writer));
  const sent = async () => metricSum(await agent.metrics(), 'edgelog_component_sent_records_total');
  await waitFor('shipping before the reload', async () => await sent() > 0, 60_000);

  const good = readFileSync(cfgFile, 'utf8');
  writeFileSync(cfgFile, good.replace('glob_interval: 100ms', 'glob_interval: soon'));
  agent.child.kill('SIGHUP');
  await waitFor('reload rejected', () => agent.stderr().includes('config reload rejected'), 10_000);
  assert.match(agent.stderr(), /sources\.files\.glob_interval: expected a duration/);
  const before = await sent();
  // Still shipping on the old config: more records go out (a deadline, not a fixed wait).
  await waitFor('still shipping on the old config', async () => await sent() > before, 60_000);

  writeFileSync(cfgFile, good.replace('id: e2e', 'id: e2e-reloaded'));
  agent.child.kill('SIGHUP');
  await waitFor('reload applied', () => agent.stderr().includes('config reloaded'), 30_000);
  const afterReload = await sent();
  await waitFor('shipping on the new config', async () => await sent() > afterReload, 60_000);
  clearInterval(writer);
  closeSync(fd);
  const total = seq;
  await waitFor('all delivered', async () => {
    const m = await agent.metrics();
    return metricSum(m, 'edgelog_file_checkpoint_lag_bytes') === 0 && metricSum(m, 'edgelog_file_acked_bytes_total') > 0;
  }, 60_000, 200);
  assert.equal(await agent.stop(), 0);

  const records = await readBack(kafka, topic);
  const count = new Map<number, number>();
  for (const r of records) {
    const m = /seq=(\d{8})/.exec(r.body.toString());
    if (m) count.set(Number(m[1]), (count.get(Number(m[1])) ?? 0) + 1);
  }
  let lost = 0, dups = 0;
  for (let i = 0; i < total; i++) { const c = count.get(i) ?? 0; if (c === 0) lost++; if (c > 1) dups += c - 1; }
  t.diagnostic(`${total} lines across two SIGHUPs: lost ${lost}, duplicates ${dups}`);
  assert.equal(lost, 0);
  assert.equal(dups, 0);
  // Records after the reload carry the new agent id in their resource.
  assert.ok(records.some((r) => r.resource['edgelog.agent.id'] === 'e2e-reloaded' || Object.values(r.resource).includes('e2e-reloaded')));
});
