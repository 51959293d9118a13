// The alert rules pass `promtool check rules`, and every metric the rules and
// the Grafana dashboard use is actually exported by an agent configured with
// the components they watch (file and TCP sources, spool, decoders and
// transforms, a kafka sink with two clusters, the eBPF guard when available).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../agent/config/load.ts';
import { Agent } from '../../agent/pipeline/agent.ts';
import { silentLogger } from '../../agent/observe/log.ts';
import { sharedKafka, uniqueTopic } from '../helpers/kafka.ts';
import { tempDir } from '../helpers/e2e.ts';
import { defer } from '../helpers/cleanup.ts';

const dir = join(import.meta.dirname, '../../agent/observe/monitoring');
const rulesFile = join(dir, 'edgelog-alerts.yml');
const dashFile = join(dir, 'edgelog-dashboard.json');
// .ci/setup.sh extracts promtool into .cache/bin (no Prometheus service installed); one on PATH does too.
const cachedPromtool = join(import.meta.dirname, '../../.cache/bin/promtool');
const promtool = existsSync(cachedPromtool) ? cachedPromtool : 'promtool';
const hasPromtool = spawnSync(promtool, ['--version']).status === 0;

test('alert rules pass promtool check rules', { skip: hasPromtool ? false : 'promtool not found in .cache/bin or on PATH (.ci/setup.sh extracts it from Debian\'s prometheus package)' }, () => {
  const r = spawnSync(promtool, ['check', 'rules', rulesFile], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SUCCESS: \d+ rules found/);
});

/** Metric names referenced by PromQL in the rules and the dashboard, without histogram suffixes. */
function referencedMetrics(): Set<string> {
  const text = readFileSync(rulesFile, 'utf8') + JSON.stringify(JSON.parse(readFileSync(dashFile, 'utf8')).panels.flatMap((p: { targets: Array<{ expr: string }> }) => p.targets.map((x) => x.expr)));
  const names = new Set<string>();
  for (const m of text.matchAll(/\bedgelog_[a-z_]+\b/g)) names.add(m[0].replace(/_(bucket|sum|count)$/, ''));
  return names;
}

test('every metric the rules and the dashboard use is exported', async (t) => {
  const kafka = await sharedKafka('A');
  const kafkaB = await sharedKafka('B');
  const topic = uniqueTopic('monitoring');
  await kafka.createTopic(topic);
  await kafkaB.createTopic(topic);
  const tmp = tempDir(t);
  const cfg = parseConfig(`
agent: { id: mon, data_dir: ${JSON.stringify(join(tmp, 'state'))} }
sources:
  files: { type: file, include: [${JSON.stringify(join(tmp, '*.log'))}] }
  tcp: { type: tcp, address: "127.0.0.1:0", spool: { dir: ${JSON.stringify(join(tmp, 'spool'))} } }
decoders:
  json: { type: json }
transforms:
  drop_debug: { type: filter, min_level: info }
  limit: { type: throttle, rate: 1000 }
sinks:
  kafka:
    type: kafka
    topic: ${topic}
    clusters:
      - { name: a, region: r1, brokers: [${JSON.stringify(kafka.bootstrap)}] }
      - { name: b, region: r2, brokers: [${JSON.stringify(kafkaB.bootstrap)}] }
`);
  const agent = new Agent(cfg, { log: silentLogger });
  await agent.start('127.0.0.1:0');
  defer(t, 'stop the agent', () => agent.stop());
  const text = await (await fetch(`http://${agent.httpAddress}/metrics`)).text();
  const exported = new Set([...text.matchAll(/^# TYPE (edgelog_[a-z_]+) /gm)].map((m) => m[1]!));
  // Guard metrics need an attached guard: test/native/agent-guard.test.ts checks those on a real interface.
  const missing = [...referencedMetrics()].filter((n) => !exported.has(n) && !n.startsWith('edgelog_guard_'));
  assert.deepEqual(missing, [], `referenced but not exported: ${missing.join(', ')}`);
});
