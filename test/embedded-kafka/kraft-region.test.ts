// A production-shaped region (three KRaft nodes, RF 3, min.insync.replicas 2):
// losing the partition leader is a leader election inside the region, writes
// with acks=all keep working on the two nodes left, and the node rejoins on
// its data after a restart.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { startKafkaRegion } from '../../agent/embedded-kafka/kraft-region.ts';
import { consumeAll } from '../../agent/embedded-kafka/cluster.ts';

const { Kafka, logLevel } = kafkajs;

test('three-node region: leader killed -> new leader in the region, acks=all writes continue, nothing lost', { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgelog-region-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const region = await startKafkaRegion({ name: `T${process.pid}`, dataDir: dir });
  t.after(() => region.stop());
  t.diagnostic(`3 nodes (heap ${region.heapMb} MB each) ready in ${region.startupMs} ms`);
  assert.equal(region.nodes.length, 3);
  const topic = 'region-test';
  await region.createTopic(topic, 2);
  assert.equal(await region.leaderOf(topic), 2, 'preferred leader as assigned');

  const kafka = new Kafka({ brokers: [...region.addresses], clientId: 'region-test', logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 200 } });
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  t.after(() => producer.disconnect());
  const send = (from: number, count: number) => producer.send({ topic, acks: -1, messages: Array.from({ length: count }, (_, i) => ({ value: `m${from + i}` })) });
  await send(0, 100);

  region.nodes[1]!.kill('SIGKILL');
  // The controller fences the dead node after the session timeout and elects a new leader among the in-sync replicas.
  const deadline = Date.now() + 60_000;
  let leader = 2;
  while (Date.now() < deadline && (leader === 2 || leader === -1)) {
    leader = await region.leaderOf(topic).catch(() => -1);
    if (leader === 2 || leader === -1) await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(leader === 1 || leader === 3, `new leader inside the region (got ${leader})`);
  await send(100, 100); // two in-sync replicas left: min.insync.replicas=2 still met

  await region.restart(2);
  await send(200, 100);
  const got = await consumeAll(region.bootstrap, topic, { idleMs: 5000 });
  const values = new Set(got.map((m) => m.value?.toString()));
  for (let i = 0; i < 300; i++) assert.ok(values.has(`m${i}`), `m${i} delivered`);
});
