// One agent per data_dir (issue 14): a second agent on the same data_dir is
// refused with a message naming the holder's pid and exits non-zero, while
// the first keeps shipping; a port already taken is said as such
// (EDGELOG_LISTEN, the key and the address), not as a raw EADDRINUSE; a
// holder killed by SIGKILL leaves no stale lock behind.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedKafka, uniqueTopic } from '../helpers/kafka.ts';
import { startAgent, type AgentProcess } from '../helpers/agent-process.ts';
import { tempDir, writeAgentConfig, readBack, waitFor } from '../helpers/e2e.ts';
import { defer } from '../helpers/cleanup.ts';

const mainTs = fileURLToPath(new URL('../../agent/cli/main.ts', import.meta.url));

/** Runs `edgelog run` expecting it to exit by itself; a deadline kills it if it does not. */
function runToExit(configFile: string, listen: string, timeoutMs = 60_000): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = fork(mainTs, ['run', '--config', configFile, '--listen', listen], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: { ...process.env, EDGELOG_LOG_FORMAT: 'json' } });
    let stderr = '';
    child.stderr!.on('data', (d) => { stderr += d; });
    child.stdout!.resume();
    const timer = setTimeout(() => { stderr += '\n[test] still running at the deadline: killed'; child.kill('SIGKILL'); }, timeoutMs);
    child.once('exit', (code) => { clearTimeout(timer); resolve({ code, stderr }); });
  });
}

test('a second agent on the same data_dir is refused naming the holder pid; the first keeps shipping', async (t) => {
  const kafka = await sharedKafka('A');
  const topic = uniqueTopic('lock');
  await kafka.createTopic(topic, 1);
  const dir = tempDir(t);
  const log = join(dir, 'app.log');
  writeFileSync(log, 'before 1\nbefore 2\n');
  const cfg = writeAgentConfig({ dir, include: [log], bootstrap: kafka.bootstrap, topic });
  let first: AgentProcess | null = await startAgent(cfg);
  defer(t, 'kill the first agent', () => first?.kill());

  const second = await runToExit(cfg, '127.0.0.1:0');
  assert.equal(second.code, 1, second.stderr);
  assert.match(second.stderr, new RegExp(`EDGELOG_DATA_DIR_LOCKED: agent\\.data_dir \\S+ is in use by another edgelog agent \\(pid ${first.child.pid}, started `));
  assert.doesNotMatch(second.stderr, /unexpected failure/);

  // Another data_dir but the first agent's HTTP port: the port is named, not a stack trace.
  const other = tempDir(t);
  const cfg2 = writeAgentConfig({ dir: other, include: [join(other, '*.log')], bootstrap: kafka.bootstrap, topic: uniqueTopic('lock-port') });
  const third = await runToExit(cfg2, first.http);
  assert.equal(third.code, 1, third.stderr);
  assert.ok(third.stderr.includes(`EDGELOG_LISTEN: --listen ${first.http}: cannot listen (EADDRINUSE): address already in use`), third.stderr);
  assert.doesNotMatch(third.stderr, /unexpected failure/);

  // A source's own listener on a taken address: the source's key is named.
  const cfg3 = join(other, 'tcp.yaml');
  writeFileSync(cfg3, `agent: { id: e2e-tcp, data_dir: ${JSON.stringify(join(other, 'state-tcp'))} }
sources:
  tcp_in: { type: tcp, address: ${JSON.stringify(first.http)} }
sinks:
  kafka: { type: kafka, brokers: [${JSON.stringify(kafka.bootstrap)}], topic: ${uniqueTopic('lock-tcp')} }
`);
  const fourth = await runToExit(cfg3, '127.0.0.1:0');
  assert.equal(fourth.code, 1, fourth.stderr);
  assert.ok(fourth.stderr.includes(`EDGELOG_LISTEN: sources.tcp_in ${first.http}: cannot listen (EADDRINUSE): address already in use`), fourth.stderr);

  // The first agent was never disturbed: new lines still arrive, once each.
  appendFileSync(log, 'after 1\n');
  await waitFor('the line written after the refusals', async () => (await readBack(kafka, topic, { idleMs: 500, timeoutMs: 10_000 })).some((r) => r.body.toString() === 'after 1'), 60_000, 200);
  const bodies = (await readBack(kafka, topic, { idleMs: 1000 })).map((r) => r.body.toString()).sort();
  assert.deepEqual(bodies, ['after 1', 'before 1', 'before 2']);

  // SIGKILL leaves the lock file but not the lock: the kernel dropped it with the process.
  await first.kill('SIGKILL');
  first = await startAgent(cfg);
  assert.equal(await first.stop(), 0);
  first = null;
});
