// At-least-once across crashes: a writer appends steadily while the agent is
// SIGKILLed twenty times (issue 2 asks for five, issue 4 for twenty; twenty
// covers both). After the last restart every line is delivered at least once;
// duplicates are counted and bounded by what can be in flight per crash.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { sharedKafka, uniqueTopic } from '../helpers/kafka.ts';
import { startAgent, metricSum, type AgentProcess } from '../helpers/agent-process.ts';
import { tempDir, writeAgentConfig, readBack, waitFor, sleep } from '../helpers/e2e.ts';
import { checkAgainstFiles } from '../../agent/verify/otlp-readback.ts';
import { defer } from '../helpers/cleanup.ts';

const KILLS = 20;
const RATE = 2000; // lines per second
const LINE = 100;  // bytes per line, terminator included
const BUFFER = 256 * 1024;
const CHUNK = 64 * 1024;
const CHECKPOINT_MS = 200;

test(`${KILLS} SIGKILLs of the agent mid-stream lose no line; duplicates stay within the in-flight window`, async (t) => {
  const kafka = await sharedKafka('A');
  const topic = uniqueTopic('sigkill');
  await kafka.createTopic(topic, 1);
  const dir = tempDir(t);
  const file = join(dir, 'app.log');
  const fd = openSync(file, 'a');
  let seq = 0;
  const writer = setInterval(() => {
    let s = '';
    for (let i = 0; i < RATE / 50; i++) s += `${new Date().toISOString()} seq=${String(seq++).padStart(10, '0')} `.padEnd(LINE - 1, 'x') + '\n';
    writeSync(fd, s);
  }, 20);
  // Close once: a second close of the same number would hit whatever fd reused it
  // (it was libuv's own, and the test process aborted at exit).
  let open = true;
  const closeWriter = () => { clearInterval(writer); if (open) { open = false; closeSync(fd); } };
  defer(t, 'stop the writer', closeWriter);
  const cfg = writeAgentConfig({
    dir, include: [file], bootstrap: kafka.bootstrap, topic,
    source: `read_chunk_bytes: ${CHUNK}\ncheckpoint_interval: ${CHECKPOINT_MS}ms`,
    sink: `buffer: { max_bytes: ${BUFFER} }`,
  });
  let agent: AgentProcess | null = null;
  defer(t, 'kill the agent', () => agent?.kill());
  for (let k = 0; k < KILLS; k++) {
    agent = await startAgent(cfg);
    await sleep(400 + Math.floor(Math.random() * 800));
    await agent.kill('SIGKILL');
  }
  agent = await startAgent(cfg);
  await sleep(1000);
  closeWriter();
  const size = readFileSync(file).length;
  await waitFor('checkpoint at end of file', async () => {
    const m = await agent!.metrics();
    return metricSum(m, 'edgelog_file_acked_bytes_total') > 0 && metricSum(m, 'edgelog_file_checkpoint_lag_bytes') === 0;
  }, 90_000, 250);
  assert.equal(await agent.stop(), 0);

  const records = await readBack(kafka, topic);
  const [c] = checkAgainstFiles(records, new Map([[file, readFileSync(file)]]));
  assert.ok(c);
  assert.equal(c.expected, seq);
  assert.equal(c.missing, 0, `${c.missing} of ${seq} lines lost`);
  assert.equal(c.mismatched, 0);
  // What one crash can re-send: the buffer, one read chunk, and the lines acked since
  // the last checkpoint write (checkpoint_interval at the write rate), plus one linger.
  // Twice that: after a restart the agent catches up faster than the write rate, and on a
  // loaded machine the checkpoint timer fires late (two CPU burners beside the suite at
  // load ~35: 95,677 duplicates against a one-window bound of 77,540). A checkpoint that
  // stops moving re-sends the whole file at every restart (millions of lines here), far past it.
  const perCrash = 2 * (Math.ceil((BUFFER + CHUNK) / LINE) + Math.ceil((RATE * (CHECKPOINT_MS + 100)) / 1000));
  t.diagnostic(`lines ${seq} (${size} bytes), duplicates ${c.duplicates} after ${KILLS} kills; bound ${KILLS * perCrash}`);
  assert.ok(c.duplicates <= KILLS * perCrash, `duplicates ${c.duplicates} exceed the in-flight bound ${KILLS * perCrash}`);
});
