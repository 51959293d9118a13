// data_dir full (issue 14): the agent's data_dir is a 1 MiB tmpfs this test
// mounts itself; a filler file takes every byte while lines keep arriving.
// The operator must see the cause (ENOSPC) in one log line (not one per
// second), a metric, and a /readyz degraded reason; lines keep flowing to
// Kafka meanwhile; once the filler is removed the agent recovers by itself
// (the checkpoint catches up, the reason clears, "recovered" is logged).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { sharedKafka, uniqueTopic } from '../helpers/kafka.ts';
import { startAgent, metricSum, type AgentProcess } from '../helpers/agent-process.ts';
import { tempDir, writeAgentConfig, readBack, waitFor } from '../helpers/e2e.ts';
import { defer } from '../helpers/cleanup.ts';

/** Mounts a small tmpfs at `dir`; the reason when this host does not let us. */
function mountTmpfs(dir: string): string | null {
  if (process.getuid?.() !== 0) return 'needs root to mount a tmpfs';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', `edgelog-full-${process.pid}`, dir], { stdio: 'pipe' });
    return null;
  } catch (err) {
    return `cannot mount a tmpfs here: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`;
  }
}

/** Writes until the filesystem says ENOSPC; returns the filler's path. */
function fill(dir: string): string {
  const p = join(dir, 'filler');
  const fd = openSync(p, 'w');
  const block = Buffer.alloc(16 * 1024, 0x66);
  try {
    for (;;) writeSync(fd, block);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    // The last partial block: fill the remaining bytes too.
    try { for (;;) writeSync(fd, block, 0, 512); } catch { /* full */ }
  } finally {
    closeSync(fd);
  }
  return p;
}

async function readyz(a: AgentProcess): Promise<{ status: string; reasons: string[] }> {
  return await (await fetch(`http://${a.http}/readyz`)).json() as { status: string; reasons: string[] };
}

test('data_dir full: ENOSPC said once, counted, /readyz degraded; lines keep flowing; recovers by itself when space returns', async (t) => {
  const dir = tempDir(t);
  const state = join(dir, 'state');
  mkdirSync(state);
  const why = mountTmpfs(state);
  if (why) { t.skip(why); return; }
  // Cleanup runs last-deferred first: the agent stops writing, then the mount goes, then tempDir removes the directory.
  defer(t, `unmount ${state}`, () => {
    try { execFileSync('umount', [state], { stdio: 'pipe' }); } catch { execFileSync('umount', ['-l', state], { stdio: 'pipe' }); }
  });
  let agent: AgentProcess | null = null;
  defer(t, 'kill the agent', () => agent?.kill());
  const kafka = await sharedKafka('A');
  const topic = uniqueTopic('data-dir-full');
  await kafka.createTopic(topic);
  const log = join(dir, 'app.log');
  appendFileSync(log, 'before full\n');
  const cfg = writeAgentConfig({ dir, include: [log], bootstrap: kafka.bootstrap, topic, source: 'checkpoint_interval: 100ms', logLevel: 'info' });
  agent = await startAgent(cfg);
  const a = agent;
  await waitFor('the first checkpoint', async () => metricSum(await a.metrics(), 'edgelog_file_checkpoint_writes_total') > 0, 60_000, 100);

  const filler = fill(state);
  for (let i = 0; i < 20; i++) appendFileSync(log, `during ${i}\n`);
  await waitFor('several failed checkpoint writes', async () => metricSum(await a.metrics(), 'edgelog_file_checkpoint_write_failures_total', 'code="ENOSPC"') >= 5, 60_000, 100);
  let reason = '';
  await waitFor('/readyz degraded with the cause', async () => {
    const r = await readyz(a);
    reason = r.reasons.find((x) => x.startsWith('source:files/checkpoints:')) ?? '';
    return r.status === 'degraded' && reason !== '';
  }, 30_000, 100);
  assert.match(reason, /^source:files\/checkpoints: cannot write checkpoints to \S+files\.json since \d{4}-\d\d-\d\dT[\d:.]+Z: ENOSPC \(no space left on the device holding data_dir\); retried every checkpoint_interval, and a restart now reads again what was acknowledged since$/);
  // One health event for the whole outage, not one per failed attempt.
  assert.equal(a.stderr().split('\n').filter((l) => l.includes('"msg":"health changed"') && l.includes('source:files/checkpoints')).length, 1);
  // Lines are still shipped while checkpoints cannot be written.
  await waitFor('lines written during the outage delivered', async () => (await readBack(kafka, topic, { idleMs: 500, timeoutMs: 10_000 })).length >= 21, 60_000, 200);
  // Said once with its cause, not once per attempt.
  const said = a.stderr().split('\n').filter((l) => l.includes('"msg":"cannot write checkpoints'));
  assert.equal(said.length, 1, said.join('\n'));
  assert.match(said[0]!, /"code":"ENOSPC","cause":"no space left on the device holding data_dir"/);

  unlinkSync(filler);
  await waitFor('checkpoint writes recovered', () => a.stderr().includes('checkpoint writes recovered'), 60_000, 100);
  await waitFor('/readyz without the checkpoint reason', async () => !(await readyz(a)).reasons.some((x) => x.includes('checkpoints')), 30_000, 100);
  const ckpt = JSON.parse(readFileSync(join(state, 'checkpoints', 'files.json'), 'utf8')) as { checkpoints: Array<{ offset: number }> };
  assert.equal(ckpt.checkpoints[0]!.offset, statSync(log).size, 'the checkpoint caught up with everything acknowledged');
  assert.equal(await a.stop(), 0);
  agent = null;
});
