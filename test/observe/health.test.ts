// /readyz and /health/stream as an operator sees them during a region
// failover: region A is unreachable (a closed loopback port), region B is the
// shared test broker. The circuit opening, the failover and readiness
// "degraded" with its reasons must all appear, as events on the stream.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../agent/config/load.ts';
import { Agent } from '../../agent/pipeline/agent.ts';
import { silentLogger } from '../../agent/observe/log.ts';
import { freePort } from '../../agent/embedded-kafka/cluster.ts';
import { sharedKafka, uniqueTopic } from '../helpers/kafka.ts';
import { tempDir, waitFor } from '../helpers/e2e.ts';
import { defer } from '../helpers/cleanup.ts';

test('failover shows on /readyz (degraded, with reasons) and as events on /health/stream', async (t) => {
  const kafka = await sharedKafka('B');
  const topic = uniqueTopic('health');
  await kafka.createTopic(topic);
  const dir = tempDir(t);
  const deadPort = await freePort();
  writeFileSync(join(dir, 'app.log'), 'one\ntwo\nthree\n');
  const agent = new Agent(parseConfig(`
agent: { id: health, data_dir: ${JSON.stringify(join(dir, 'state'))}, shutdown_timeout: 5s }
sources:
  app: { type: file, include: [${JSON.stringify(join(dir, '*.log'))}] }
sinks:
  kafka:
    type: kafka
    topic: ${topic}
    connect_timeout: 500ms
    clusters:
      - { name: a, region: region-a, brokers: ["127.0.0.1:${deadPort}"] }
      - { name: b, region: region-b, brokers: [${JSON.stringify(kafka.bootstrap)}] }
    failover: { probe_interval: 200ms, failback_hold_down: 1h }
`), { log: silentLogger });
  await agent.start('127.0.0.1:0');
  defer(t, 'stop the agent', () => agent.stop());
  const base = `http://${agent.httpAddress}`;

  const ac = new AbortController();
  defer(t, 'abort the stream', () => ac.abort());
  const res = await fetch(`${base}/health/stream`, { signal: ac.signal });
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  let text = '';
  const reader = res.body!.getReader();
  void (async () => {
    try { for (;;) { const { value, done } = await reader.read(); if (done) break; text += new TextDecoder().decode(value); } } catch { /* aborted */ }
  })();

  // The stream's events in order; the circuit may say other states (connecting,
  // failing) before it opens, and on a loaded machine the failover can be
  // streamed before the open: wait for each event itself, with a deadline.
  type Change = { check: string; state?: string; readiness?: string; reason?: string };
  const events = (): Change[] => text.split('\n\n').filter((e) => e.startsWith('event: change')).map((e) => JSON.parse(e.slice(e.indexOf('data: ') + 6)) as Change);
  const circuitOpen = (): boolean => events().some((e) => e.check === 'circuit:kafka/a' && e.state === 'degraded' && /circuit open/.test(e.reason ?? ''));
  const routeDegraded = (): boolean => events().some((e) => e.check === 'route:kafka' && e.readiness === 'degraded');
  await waitFor('circuit to region A open and traffic on B', () => circuitOpen() && routeDegraded() && text.includes('failed over a -> b'), 30_000)
    .catch((err: Error) => { throw new Error(`${err.message}; events so far: ${JSON.stringify(events())}`); });

  const ready = await fetch(`${base}/readyz`);
  assert.equal(ready.status, 200, 'degraded still serves (200); only unready is 503');
  const body = await ready.json() as { status: string; reasons: string[] };
  assert.equal(body.status, 'degraded');
  assert.ok(body.reasons.some((r) => r.includes('failed over a -> b')), JSON.stringify(body.reasons));
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
});
