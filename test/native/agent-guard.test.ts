// The guard as operators use it: configured in the agent's YAML, rules changed
// live by a config reload, counters on /metrics, nothing left behind on stop.
// Traffic comes from a network namespace this test creates, to the host side
// of its veth pair (the guarded interface).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../agent/config/load.ts';
import { Agent } from '../../agent/pipeline/agent.ts';
import { silentLogger } from '../../agent/observe/log.ts';
import { capabilities } from '../../agent/native/capabilities.ts';
import { canUseNetns, createRegionNet } from '../../agent/drill/netns.ts';
import { sharedKafka, uniqueTopic } from '../helpers/kafka.ts';
import { tempDir, waitFor } from '../helpers/e2e.ts';
import { metricSum } from '../helpers/agent-process.ts';

const ns = canUseNetns();
const guard = capabilities().guard;
const skip = !ns.ok ? ns.reason : !guard.available ? `guard unavailable: ${guard.reason}` : false;

test('guard from YAML: deny drops and counts, a reload lifts it live, stop leaves no filter', { skip }, async (t) => {
  const net = createRegionNet(`g${process.pid % 10000}`, 240 + (process.pid % 10));
  t.after(() => net.destroy());
  const kafka = await sharedKafka('A');
  const topic = uniqueTopic('guard');
  await kafka.createTopic(topic);
  const dir = tempDir(t);
  const port = 20000 + (process.pid % 20000);
  const yaml = (deny: string[]) => `
agent: { id: guard-test, data_dir: ${JSON.stringify(join(dir, 'state'))}, shutdown_timeout: 5s }
guard:
  interface: ${net.hostIf}
  deny: ${JSON.stringify(deny)}
  ports: [${port}]
  pin_maps: false
sources:
  udp_in: { type: syslog, mode: udp, address: "${net.hostAddr}:${port}", insecure: true }
sinks:
  kafka: { type: kafka, brokers: [${JSON.stringify(kafka.bootstrap)}], topic: ${topic} }
`;
  const agent = new Agent(parseConfig(yaml([`${net.nsAddr}/32`])), { log: silentLogger });
  await agent.start('127.0.0.1:0');
  let stopped = false;
  t.after(async () => { if (!stopped) await agent.stop(); });
  const send = (n: number) => {
    for (let i = 0; i < n; i++) execFileSync('ip', ['netns', 'exec', net.ns, 'bash', '-c', `echo '<14>guard test ${i}' > /dev/udp/${net.hostAddr}/${port}`]);
  };
  const metrics = async () => (await fetch(`http://${agent.httpAddress}/metrics`)).text();

  send(20);
  await waitFor('drops counted', async () => metricSum(await metrics(), 'edgelog_guard_dropped_packets_total', 'reason="deny"') >= 20, 10_000);
  const m1 = await metrics();
  assert.ok(m1.includes(`rule="${net.nsAddr}/32"`), 'drops are counted per rule');
  assert.equal(metricSum(m1, 'edgelog_component_received_records_total'), 0, 'nothing from the denied source reached the agent');

  // Live change: the deny rule goes away, nothing is re-attached.
  await agent.reload(parseConfig(yaml([])));
  send(20);
  await waitFor('records received after the rule was lifted', async () => metricSum(await metrics(), 'edgelog_component_received_records_total') >= 20, 10_000);
  assert.equal(metricSum(await metrics(), 'edgelog_guard_dropped_packets_total', 'reason="deny"'), 20, 'no new drops');

  // Every guard metric the alert rules and dashboard use is exported.
  const mon = join(import.meta.dirname, '../../agent/observe/monitoring');
  const used = new Set([...(readFileSync(join(mon, 'edgelog-alerts.yml'), 'utf8') + readFileSync(join(mon, 'edgelog-dashboard.json'), 'utf8')).matchAll(/edgelog_guard_[a-z_]+/g)].map((x) => x[0]));
  const text = await metrics();
  for (const n of used) assert.ok(text.includes(`# TYPE ${n} `), `${n} exported`);

  await agent.stop();
  stopped = true;
  const filters = execFileSync('tc', ['filter', 'show', 'dev', net.hostIf, 'ingress'], { encoding: 'utf8' });
  assert.equal(filters.trim(), '', 'no filter left on the interface');
});
