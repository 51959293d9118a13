// Rotation under continuous writes, end to end through a real broker. Every
// line of every generation must arrive (sequence numbers make loss visible).
// rename+create: the writer rotates every 100 ms and the agent follows the
// rotated files by glob. copytruncate: the agent watches only app.log (the
// copies are not included, so they cannot make up for a loss); the writer
// truncates once the agent has read everything written (copytruncate's own
// loss window, lines written between the last read and the truncation, is
// not the agent's to close), and the agent must count every truncation.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, copyFileSync, ftruncateSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { sharedKafka, uniqueTopic } from '../helpers/kafka.ts';
import { startAgent, metricSum } from '../helpers/agent-process.ts';
import { tempDir, writeAgentConfig, readBack, waitFor, sleep } from '../helpers/e2e.ts';
import { defer } from '../helpers/cleanup.ts';

for (const mode of ['rename', 'copytruncate'] as const) {
  test(`${mode === 'rename' ? 'rotation every 100 ms by rename' : '20 copytruncate rotations, each counted,'} under load loses no line`, async (t) => {
    const kafka = await sharedKafka('A');
    const topic = uniqueTopic(`rotate-${mode}`);
    await kafka.createTopic(topic, 1);
    const dir = tempDir(t);
    const path = join(dir, 'app.log');
    const agent = await startAgent(writeAgentConfig({
      dir, include: [mode === 'rename' ? join(dir, 'app.log*') : path], bootstrap: kafka.bootstrap, topic,
      source: 'rotate_wait: 5s',
    }));
    defer(t, 'kill the agent', () => agent.kill());
    let fd = openSync(path, 'a');
    let seq = 0, gen = 0, written = 0;
    const until = Date.now() + 6000;
    let lastRotate = Date.now();
    const metric = async (name: string) => metricSum(await agent.metrics(), name);
    while (mode === 'rename' ? Date.now() < until : gen < 20) {
      let s = '';
      for (let i = 0; i < 40; i++) s += `gen=${gen} seq=${String(seq++).padStart(8, '0')} some payload for the line\n`;
      written += writeSync(fd, s);
      if (mode === 'copytruncate' && seq % 400 === 0) {
        gen++;
        await waitFor(`the agent read all ${written} bytes before truncation ${gen}`, async () => await metric('edgelog_file_read_bytes_total') >= written, 60_000, 20);
        copyFileSync(path, `${path}.${gen}`);
        ftruncateSync(fd, 0);
        // Wait for the agent to see it before writing again: a file that grows past the old offset first hides the truncation.
        await waitFor(`truncation ${gen} noticed`, async () => await metric('edgelog_file_truncations_total') >= gen, 60_000, 20);
        continue;
      }
      if (mode === 'rename' && Date.now() - lastRotate >= 100) {
        lastRotate = Date.now();
        gen++;
        closeSync(fd);
        renameSync(path, `${path}.${gen}`);
        fd = openSync(path, 'a');
      }
      await sleep(5); // pacing of the writer, not a wait for a condition
    }
    closeSync(fd);
    const total = seq;
    await waitFor(`${total} distinct lines delivered`, async () => await metric('edgelog_component_sent_records_total') >= total, 60_000, 250);
    if (mode === 'copytruncate') assert.equal(await metric('edgelog_file_truncations_total'), gen, 'every truncation counted, once');
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
