// Rotation under continuous writes, end to end through a real broker: the
// writer rotates every 100 ms, by rename+create and by copytruncate. Every
// line of every generation must arrive (sequence numbers make loss visible).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, copyFileSync, ftruncateSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { sharedKafka, uniqueTopic } from '../helpers/kafka.ts';
import { startAgent, metricSum } from '../helpers/agent-process.ts';
import { tempDir, writeAgentConfig, readBack, waitFor, sleep } from '../helpers/e2e.ts';
import { defer } from '../helpers/cleanup.ts';

for (const mode of ['rename', 'copytruncate'] as const) {
  test(`rotation every 100 ms by ${mode} under load loses no line`, async (t) => {
    const kafka = await sharedKafka('A');
    const topic = uniqueTopic(`rotate-${mode}`);
    await kafka.createTopic(topic, 1);
    const dir = tempDir(t);
    const path = join(dir, 'app.log');
    const agent = await startAgent(writeAgentConfig({
      dir, include: [join(dir, 'app.log*')], bootstrap: kafka.bootstrap, topic,
      source: 'rotate_wait: 5s',
    }));
    defer(t, 'kill the agent', () => agent.kill());
    let fd = openSync(path, 'a');
    let seq = 0, gen = 0;
    const until = Date.now() + 6000;
    let lastRotate = Date.now();
    while (Date.now() < until) {
      let s = '';
      for (let i = 0; i < 40; i++) s += `gen=${gen} seq=${String(seq++).padStart(8, '0')} some payload for the line\n`;
      writeSync(fd, s);
      if (Date.now() - lastRotate >= 100) {
        lastRotate = Date.now();
        gen++;
        if (mode === 'rename') {
          closeSync(fd);
          renameSync(path, `${path}.${gen}`);
          fd = openSync(path, 'a');
        } else {
          // copytruncate: copy, then truncate in place (lines written between the two are the classic loss window of this mode, so none are written).
          copyFileSync(path, `${path}.${gen}`);
          ftruncateSync(fd, 0);
        }
      }
      await sleep(5);
    }
    closeSync(fd);
    const total = seq;
    await waitFor(`${total} distinct lines delivered`, async () => metricSum(await agent.metrics(), 'edgelog_component_sent_records_total') >= total, 60_000, 250);
    await sleep(1500);
    assert.equal(await agent.stop(), 0);
    const records = await readBack(kafka, topic);
    const seen = new Set<number>();
    for (const r of records) {
      const m = /seq=(\d{8})/.exec(r.body.toString());
      if (m) seen.add(Number(m[1]));
    }
    const missing: number[] = [];
    for (let i = 0; i < total; i++) if (!seen.has(i)) missing.push(i);
    t.diagnostic(`${mode}: ${gen} rotations, ${total} lines, ${records.length} records consumed`);
    assert.deepEqual(missing.slice(0, 20), [], `${missing.length} of ${total} lines lost`);
  });
}
