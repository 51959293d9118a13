// The embedded Kafka harness: shared regions are real and independent,
// topics are created on demand, a private cluster keeps its data across a
// restart when given a dataDir, removes its temp data otherwise, and no JVM
// outlives its parent even when the parent is SIGKILLed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import { consumeAll, startKafkaCluster, type KafkaCluster } from '../../agent/embedded-kafka/cluster.ts';
import { sharedKafka, uniqueTopic } from '../helpers/kafka.ts';
import { canUseNetns, createRegionNet } from '../../agent/drill/netns.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');

async function produce(bootstrap: string, topic: string, values: string[]): Promise<void> {
  const k = new kafkajs.Kafka({ brokers: [bootstrap], clientId: 'test', logLevel: kafkajs.logLevel.NOTHING });
  const p = k.producer({ idempotent: true, maxInFlightRequests: 1 });
  await p.connect();
  try {
    await p.send({ topic, acks: -1, messages: values.map((v, i) => ({ key: `k${i % 3}`, value: v, headers: { n: String(i) } })) });
  } finally {
    await p.disconnect();
  }
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}

test('shared regions A and B: topics on demand, round trip, independent clusters', async () => {
  const a = await sharedKafka('A');
  const b = await sharedKafka('B');
  assert.notEqual(a.bootstrap, b.bootstrap);
  const topic = uniqueTopic('harness');
  await a.createTopic(topic, 3);
  await a.createTopic(topic, 3); // idempotent
  const values = Array.from({ length: 50 }, (_, i) => `line ${i}`);
  await produce(a.bootstrap, topic, values);
  const got = await a.consumeAll(topic);
  assert.equal(got.length, 50);
  assert.deepEqual(got.map((m) => m.value!.toString()).sort(), [...values].sort());
  assert.ok(got.every((m) => m.headers.n !== undefined && m.key !== null));
  // per partition, offsets come back in order
  for (const p of [0, 1, 2]) {
    const offs = got.filter((m) => m.partition === p).map((m) => Number(m.offset));
    assert.deepEqual(offs, [...offs].sort((x, y) => x - y));
  }
  // region B never saw the topic
  const admin = new kafkajs.Kafka({ brokers: [b.bootstrap], logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    assert.ok(!(await admin.listTopics()).includes(topic));
  } finally {
    await admin.disconnect();
  }
  // an empty topic reads back empty without waiting for the idle timeout
  const empty = uniqueTopic('harness-empty');
  await a.createTopic(empty);
  assert.deepEqual(await a.consumeAll(empty), []);
});

test('private cluster: data survives a restart on the same dataDir; temp data is removed on stop', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgelog-harness-test-'));
  let c: KafkaCluster | null = null;
  t.after(async () => { await c?.stop(); rmSync(dir, { recursive: true, force: true }); });

  c = await startKafkaCluster({ name: 'restart', dataDir: dir, heapMb: 256 });
  assert.match(c.bootstrap, /^127\.0\.0\.1:\d+$/);
  assert.ok(c.startupMs > 0);
  await c.createTopic('keep', 1);
  await produce(c.bootstrap, 'keep', ['a', 'b', 'c']);
  await c.stop();
  assert.ok(existsSync(join(dir, 'data', 'meta.properties')), 'dataDir kept');

  c = await startKafkaCluster({ name: 'restart', dataDir: dir, heapMb: 256 });
  const got = await consumeAll(c.bootstrap, 'keep');
  assert.deepEqual(got.map((m) => m.value!.toString()), ['a', 'b', 'c']);
  // a crashed broker (SIGKILL) still stops cleanly
  c.kill('SIGKILL');
  assert.ok(await waitFor(() => !alive(c!.pid), 30_000), 'the killed broker process is gone');
  await c.stop();
  c = null;

  const tmp = await startKafkaCluster({ name: 'temp', heapMb: 256 });
  const tmpDir = tmp.dataDir;
  assert.ok(existsSync(tmpDir));
  await tmp.stop();
  assert.ok(!alive(tmp.pid), 'JVM gone after stop');
  assert.ok(!existsSync(tmpDir), 'temp data removed');
});

test('no orphan JVM when the parent process is SIGKILLed', async (t) => {
  const script = `
    import { startKafkaCluster } from ${JSON.stringify(join(root, 'agent/embedded-kafka/cluster.ts'))};
    const c = await startKafkaCluster({ name: 'orphan', heapMb: 256 });
    process.stdout.write(JSON.stringify({ pid: c.pid, dir: c.dataDir }) + '\\n');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let info: { pid: number; dir: string } | null = null;
  t.after(() => {
    child.kill('SIGKILL');
    if (info && alive(info.pid)) process.kill(info.pid, 'SIGKILL');
  });
  info = await new Promise<{ pid: number; dir: string }>((res, rej) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) res(JSON.parse(buf.slice(0, nl)));
    });
    child.on('exit', (code) => rej(new Error(`child exited ${code} before the broker started`)));
  });
  assert.ok(alive(info.pid));
  child.kill('SIGKILL'); // no exit handler can run: only the watchdog is left
  const jvm = info.pid;
  assert.ok(await waitFor(() => !alive(jvm), 20_000), 'watchdog stopped the JVM');
  assert.ok(await waitFor(() => !existsSync(info!.dir), 5000), 'watchdog removed temp data');
});

test('netns: the broker runs inside a network namespace and answers on its address', async (t) => {
  const can = canUseNetns();
  if (!can.ok) { t.skip(`network namespaces unavailable: ${can.reason}`); return; }
  // The drill's helper: namespace + veth + addresses, removed by destroy().
  const net = createRegionNet(`k${process.pid % 100000}`, 200 + (process.pid % 50));
  const { ns, nsAddr } = net;
  let c: KafkaCluster | null = null;
  t.after(async () => {
    await c?.stop();
    net.destroy();
  });

  c = await startKafkaCluster({ name: 'netns', host: nsAddr, netns: ns, heapMb: 256 });
  assert.equal(c.bootstrap, `${nsAddr}:9092`);
  await c.createTopic('in-ns');
  await produce(c.bootstrap, 'in-ns', ['x', 'y']);
  assert.deepEqual((await c.consumeAll('in-ns')).map((m) => m.value!.toString()), ['x', 'y']);
  const pid = c.pid;
  // the JVM is inside the namespace (its network namespace differs from ours)
  const { readlinkSync } = await import('node:fs');
  assert.notEqual(readlinkSync(`/proc/${pid}/ns/net`), readlinkSync('/proc/self/ns/net'));
  await c.stop();
  c = null;
  assert.ok(!alive(pid));
});
