// The Kafka sink's producer engines (kafkajs, @platformatic/kafka) against a
// real broker, the same assertions for each: keyed messages on the
// partitions the Java producer would pick, in order, byte-exact with keys and
// headers; codecs read back; a cluster that never answers (closed port, or a
// listener that accepts and stays silent) is a retriable KafkaSendError and a
// failing probe; too-large messages are
// RecordTooLargeError; resetSession then send; the failover sink over two
// real sinks. Codec-by-codec broker recompression, the broker's own
// too-large refusal and a broker restart are in sink.test.ts (also per engine).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import kafkajs from 'kafkajs';
import { Registry } from '../../../agent/observe/prometheus.ts';
import type { EncodedMessage } from '../../../agent/core/component.ts';
import { ConfigError, RecordTooLargeError } from '../../../agent/core/errors.ts';
import { FailoverSink } from '../../../agent/sinks/failover/failover-sink.ts';
import { silentLogger } from '../../../agent/observe/log.ts';
import { createRegistry } from '../../../agent/observe/metrics.ts';
import { KafkaSendError, mapPlatformaticError } from '../../../agent/sinks/kafka/errors.ts';
import { javaCompatiblePartitioner, loadPlatformatic, platformaticUnsupported } from '../../../agent/sinks/kafka/engines/platformatic.ts';
import { engineNames, type EngineName } from '../../../agent/sinks/kafka/producer.ts';
import { KafkaSink, kafkaSink } from '../../../agent/sinks/kafka/sink.ts';
import { sharedKafka, uniqueTopic } from '../../helpers/kafka.ts';
import { createTopicWithLeaders } from '../../../agent/embedded-kafka/cluster.ts';

const P = 'sinks.out';
// @platformatic/kafka is a dependency and the default engine: it must load. A
// failure here is a broken install, not a host limit, so it fails every test
// that needs it instead of skipping them.
const loaded = loadPlatformatic();
function pltLib(): Exclude<typeof loaded, string> {
  if (typeof loaded === 'string') throw new Error(loaded);
  return loaded;
}

function sinkFor(engine: EngineName, bootstrap: string, topic: string, extra: Record<string, unknown> = {}, registry = new Registry()): KafkaSink {
  const cfg = kafkaSink.validate({ engine, brokers: [bootstrap], topic, ...extra }, P);
  return new KafkaSink(cfg, { id: `engine-${engine}`, log: silentLogger, metrics: registry, agentId: 'agent-engine-test' });
}

const msg = (v: string | Buffer, key: string | null = null, headers: Record<string, string> = {}): EncodedMessage =>
  ({ key: key === null ? null : Buffer.from(key), value: Buffer.isBuffer(v) ? v : Buffer.from(v), headers, records: [] });

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** Where kafkajs's DefaultPartitioner (Java's murmur2 placement) puts a key. */
function javaPartition(key: Buffer, partitions: number): number {
  const p = kafkajs.Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({ partitionId: i, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
  return p({ topic: 't', partitionMetadata, message: { key, value: null } } as never);
}

test('@platformatic/kafka (a selectable engine) loads', () => {
  assert.equal(typeof loaded, 'object', typeof loaded === 'string' ? loaded : '');
});

test('engine: builtin by default; unknown engines and what platformatic cannot honour are ConfigErrors naming the key', (t) => {
  assert.equal(kafkaSink.validate({ brokers: ['k:9092'] }, P).engine, 'builtin');
  assert.throws(() => kafkaSink.validate({ brokers: ['k:9092'], engine: 'librdkafka' }, P), (e: unknown) => e instanceof ConfigError && e.path === `${P}.engine` && /kafkajs, platformatic/.test(e.message));
  for (const c of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
    assert.equal(kafkaSink.validate({ brokers: ['k:9092'], engine: 'platformatic', compression: c }, P).compression, c);
  }
  for (const m of ['plain', 'scram-sha-256', 'scram-sha-512']) {
    assert.equal(kafkaSink.validate({ brokers: ['k:9092'], engine: 'platformatic', sasl: { mechanism: m, username: 'u', password: 'p' } }, P).sasl!.mechanism, m);
  }
  // A library build without zstd (Node < 22.15) or without a SASL mechanism: refused, with the key path.
  const lib = pltLib();
  const ok = { idempotent: true, clientRetry: { retries: 2, initialBackoffMs: 100, maxBackoffMs: 1000 } };
  const noZstd = { ...lib, compressionsAlgorithms: { ...lib.compressionsAlgorithms, zstd: { ...lib.compressionsAlgorithms.zstd, available: false } } };
  assert.deepEqual(platformaticUnsupported({ ...ok, compression: 'zstd', sasl: null }, noZstd)?.key, 'compression');
  assert.equal(platformaticUnsupported({ ...ok, compression: 'lz4', sasl: null }, noZstd), null);
  const plainOnly = { ...lib, allowedSASLMechanisms: ['PLAIN'] } as typeof lib;
  assert.equal(platformaticUnsupported({ ...ok, compression: 'lz4', sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' } }, plainOnly)?.key, 'sasl.mechanism');
  assert.equal(platformaticUnsupported({ ...ok, compression: 'lz4', sasl: null }, 'package @platformatic/kafka failed to load: x')?.key, 'engine');
  // idempotent with one client retry: the library would retry forever, so it is refused (kafkajs takes it)
  assert.equal(kafkaSink.validate({ brokers: ['k:9092'], engine: 'kafkajs', client_retry: { retries: 1 } }, P).clientRetry.retries, 1);
  assert.throws(() => kafkaSink.validate({ brokers: ['k:9092'], engine: 'platformatic', client_retry: { retries: 1 } }, P),
    (e: unknown) => e instanceof ConfigError && e.path === `${P}.client_retry.retries` && /at least 2/.test(e.message));
  assert.equal(kafkaSink.validate({ brokers: ['k:9092'], engine: 'platformatic', idempotent: false, acks: 'leader', client_retry: { retries: 0 } }, P).clientRetry.retries, 0);
});

test('platformatic: keys land where the Java producer puts them (toPositive(murmur2)), keyless spread round-robin', (t) => {
  const part = javaCompatiblePartitioner(pltLib());
  for (let i = 0; i < 500; i++) {
    const key = randomBytes(1 + (i % 40));
    for (const n of [3, 7, 12]) assert.equal(part({ topic: 't' }, key, { metadata: undefined }) % n, javaPartition(key, n), `key ${key.toString('hex')} on ${n} partitions`);
  }
  const spread = new Set(Array.from({ length: 6 }, () => part({ topic: 't' }, undefined, { metadata: undefined }) % 3));
  assert.equal(spread.size, 3);
});

test('platformatic errors map like kafkajs ones: too large, producer state, permanent, network', (t) => {
  const l = pltLib();
  const proto = (id: string) => new l.ProtocolError(id, `${id.toLowerCase()} from broker`);
  const retried = (...errors: Error[]) => new l.MultipleErrors(`produce failed ${errors.length} times.`, errors);
  const big = mapPlatformaticError(retried(new l.MultipleErrors('Producing messages failed.', [proto('MESSAGE_TOO_LARGE')])), 2_000_000, 1_000_000);
  assert.ok(big.error instanceof RecordTooLargeError);
  assert.equal(big.error.retriable, false);
  const seq = mapPlatformaticError(proto('OUT_OF_ORDER_SEQUENCE_NUMBER'), 1, 1);
  assert.deepEqual([seq.error.retriable, seq.resetProducer, (seq.error as KafkaSendError).reason], [true, true, 'OUT_OF_ORDER_SEQUENCE_NUMBER']);
  const auth = mapPlatformaticError(proto('TOPIC_AUTHORIZATION_FAILED'), 1, 1);
  assert.equal(auth.error.retriable, false);
  // the latest attempt's broker error wins over an earlier network error
  const leader = mapPlatformaticError(retried(new l.NetworkError('Connection closed'), proto('NOT_LEADER_OR_FOLLOWER')), 1, 1);
  assert.deepEqual([(leader.error as KafkaSendError).reason, leader.error.retriable], ['NOT_LEADER_OR_FOLLOWER', true]);
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  const net = mapPlatformaticError(retried(new l.NetworkError('Connection to 127.0.0.1:1 failed.', { cause: refused })), 1, 1);
  assert.ok(net.error instanceof KafkaSendError);
  assert.deepEqual([(net.error as KafkaSendError).reason, net.error.retriable], ['PLT_KFK_NETWORK', true]);
  assert.match(net.error.message, /ECONNREFUSED/);
  const sasl = mapPlatformaticError(new l.AuthenticationError('SASL authentication failed.'), 1, 1);
  assert.equal(sasl.error.retriable, false);
});

for (const engine of ['platformatic', 'builtin'] as const) test(`[${engine}] lz4: ~2 MB record batches read back by kafkajs and by a recompressing broker`, async () => {
  const k = await sharedKafka('A');
  const asIs = uniqueTopic(`engine-${engine}-lz4-large`);
  const recompressed = uniqueTopic(`engine-${engine}-lz4-large-gz`);
  await k.createTopic(asIs);
  const admin = new kafkajs.Kafka({ brokers: [k.bootstrap], logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: recompressed, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'compression.type', value: 'gzip' }] }], waitForLeaders: true });
  } finally { await admin.disconnect(); }
  // ~2 MB per send: one record batch of many 64 KB LZ4 blocks, the size the pipeline's requests have.
  const value = (i: number) => Buffer.from(`{"ts":"2026-12-04T22:00:00Z","level":"info","seq":${i},"msg":"${'payload '.repeat(600)}"}`);
  const values = Array.from({ length: 400 }, (_, i) => value(i));
  for (const topic of [asIs, recompressed]) {
    const sink = sinkFor(engine, k.bootstrap, topic, { compression: 'lz4' });
    try {
      await sink.send(values.map((v) => msg(v)));
    } finally { await sink.close(); }
    const got = await k.consumeAll(topic);
    assert.equal(got.length, values.length, topic);
    for (let i = 0; i < values.length; i++) assert.ok(got[i]!.value!.equals(values[i]!), `${topic} message ${i}`);
  }
});

for (const engine of engineNames) {
  test(`[${engine}] keyed messages: byte-exact with keys and headers, in order per key, on the Java partition; acks=all`, async (t) => {
    const k = await sharedKafka('A');
    const topic = uniqueTopic(`engine-${engine}-keys`);
    await k.createTopic(topic, 3);
    const sink = sinkFor(engine, k.bootstrap, topic, { acks: 'all' });
    t.after(() => sink.close());
    const keys = ['/var/log/app.log', '/var/log/nginx/access.log', 'journald:sshd.service', 'a', ''];
    const hdr = { 'edgelog.encoding': 'raw' };
    const sent: EncodedMessage[] = [];
    for (let round = 0; round < 3; round++) {
      const batch = keys.flatMap((key, i) => [0, 1].map((j) => msg(randomBytes(20 + round * 7 + i + j), key === '' ? null : key, hdr)));
      await sink.send(batch);
      sent.push(...batch);
    }
    const got = await k.consumeAll(topic);
    assert.equal(got.length, sent.length);
    for (const key of keys.filter((x) => x !== '')) {
      const want = sent.filter((m) => m.key?.toString() === key);
      const have = got.filter((m) => m.key?.toString() === key);
      assert.deepEqual(have.map((m) => m.value), want.map((m) => m.value), `in send order for ${key}`);
      assert.deepEqual(new Set(have.map((m) => m.partition)), new Set([javaPartition(Buffer.from(key), 3)]), `Java partition for ${key}`);
    }
    const keyless = got.filter((m) => m.key === null);
    assert.equal(keyless.length, 6);
    assert.deepEqual(keyless.map((m) => m.value!.toString('hex')).sort(), sent.filter((m) => m.key === null).map((m) => m.value.toString('hex')).sort());
    for (const m of got) {
      assert.deepEqual(Object.keys(m.headers).sort(), ['edgelog.agent_id', 'edgelog.batch_seq', 'edgelog.encoding']);
      assert.equal(m.headers['edgelog.encoding']!.toString(), 'raw');
      assert.equal(m.headers['edgelog.agent_id']!.toString(), 'agent-engine-test');
    }
    const seqs = got.filter((m) => m.key?.toString() === 'a').map((m) => m.headers['edgelog.batch_seq']!.toString());
    assert.deepEqual(seqs, ['1', '1', '2', '2', '3', '3']);
    assert.deepEqual(sink.health(), { ready: true, reason: 'connected' });
  });

  test(`[${engine}] codecs gzip, snappy, lz4, zstd: read back by kafkajs and recompressed by the broker`, async (t) => {
    const k = await sharedKafka('A');
    const asIs = uniqueTopic(`engine-${engine}-codecs`);
    const recompressed = uniqueTopic(`engine-${engine}-codecs-gz`);
    await k.createTopic(asIs);
    const admin = new kafkajs.Kafka({ brokers: [k.bootstrap], logLevel: kafkajs.logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      await createTopicWithLeaders(admin, { topic: recompressed, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'compression.type', value: 'gzip' }] });
    } finally { await admin.disconnect(); }
    const codecs = ['gzip', 'snappy', 'lz4', 'zstd'];
    const line = (c: string, i: number) => `2026-11-21T12:00:00Z INFO ${c} request ${i} served path=/api/v1/items/${i} `.repeat(8);
    for (const topic of [asIs, recompressed]) {
      for (const compression of codecs) {
        const sink = sinkFor(engine, k.bootstrap, topic, { compression });
        try {
          await sink.send(Array.from({ length: 20 }, (_, i) => msg(line(compression, i), 'stream-1')));
        } finally { await sink.close(); }
      }
      const got = await k.consumeAll(topic);
      assert.deepEqual(got.map((m) => m.value!.toString()), codecs.flatMap((c) => Array.from({ length: 20 }, (_, i) => line(c, i))), topic);
    }
  });

  test(`[${engine}] too large: RecordTooLargeError from the guard and from the broker; the sink goes on`, async (t) => {
    const k = await sharedKafka('A');
    const topic = uniqueTopic(`engine-${engine}-large`);
    await k.createTopic(topic);
    const registry = new Registry();
    const small = sinkFor(engine, k.bootstrap, topic, { max_message_bytes: 4096 }, registry);
    t.after(() => small.close());
    await assert.rejects(small.send([msg(Buffer.alloc(5000, 0x61))]), (e: unknown) => e instanceof RecordTooLargeError && !e.retriable);
    // the broker's message.max.bytes (1048588) below ours
    const big = sinkFor(engine, k.bootstrap, topic, { max_message_bytes: '8MB', compression: 'none' });
    t.after(() => big.close());
    await assert.rejects(big.send([msg(randomBytes(2_000_000))]), (e: unknown) => {
      assert.ok(e instanceof RecordTooLargeError, `RecordTooLargeError, got ${String(e)}`);
      assert.equal(e.retriable, false);
      return true;
    });
    await big.send([msg('after too large')]);
    assert.deepEqual((await k.consumeAll(topic)).map((m) => m.value!.toString()), ['after too large']);
    assert.match(await registry.getSingleMetricAsString('edgelog_kafka_errors_total'), /reason="EDGELOG_RECORD_TOO_LARGE",retriable="false"\} 1/);
  });

  test(`[${engine}] resetSession then send; probe reports latency`, async (t) => {
    const k = await sharedKafka('B');
    const topic = uniqueTopic(`engine-${engine}-reset`);
    await k.createTopic(topic);
    const sink = sinkFor(engine, k.bootstrap, topic);
    t.after(() => sink.close());
    const ms = await sink.probe();
    assert.ok(Number.isFinite(ms) && ms >= 0);
    await sink.send([msg('one', 'k'), msg('two', 'k')]);
    await sink.resetSession('test');
    assert.deepEqual(sink.health(), { ready: true, reason: 'idle: connects on first send' });
    await sink.send([msg('three', 'k')]);
    await sink.resetSession('test again');
    await sink.send([msg('four', 'k')]);
    assert.ok((await sink.probe()) >= 0);
    assert.deepEqual((await k.consumeAll(topic)).map((m) => m.value!.toString()), ['one', 'two', 'three', 'four']);
  });

  test(`[${engine}] a cluster that never answers (closed port): retriable KafkaSendError, unready, probe rejects; no crash`, async (t) => {
    const port = await closedPort();
    const registry = new Registry();
    const sink = sinkFor(engine, `127.0.0.1:${port}`, 'nowhere', {
      connect_timeout: '1s', request_timeout: '2s', probe_timeout: '2s', client_retry: { retries: 2, initial_backoff: '50ms', max_backoff: '100ms' },
    }, registry);
    t.after(() => sink.close());
    for (let i = 0; i < 2; i++) {
      await assert.rejects(sink.send([msg('x')]), (e: unknown) => {
        assert.ok(e instanceof KafkaSendError, `KafkaSendError, got ${String(e)}`);
        assert.equal(e.retriable, true);
        assert.equal(e.code, 'EDGELOG_SINK_SEND');
        return true;
      });
    }
    assert.equal(sink.health().ready, false);
    await assert.rejects(sink.probe(), (e: unknown) => e instanceof KafkaSendError && e.retriable);
    assert.match(await registry.getSingleMetricAsString('edgelog_kafka_errors_total'), /retriable="true"\} 2/);
  });

  test(`[${engine}] a broker that accepts and never answers: send rejects retriable within its timeouts, probe times out`, async (t) => {
    const sockets = new Set<import('node:net').Socket>();
    const srv = createServer((sock) => { sockets.add(sock); sock.on('error', () => {}); sock.on('close', () => sockets.delete(sock)); });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    t.after(() => { for (const s of sockets) s.destroy(); srv.close(); });
    const port = (srv.address() as { port: number }).port;
    const sink = sinkFor(engine, `127.0.0.1:${port}`, 'silent', {
      connect_timeout: '500ms', request_timeout: '500ms', probe_timeout: '1s', client_retry: { retries: 2, initial_backoff: '20ms', max_backoff: '50ms' },
    });
    t.after(() => sink.close());
    await assert.rejects(sink.send([msg('x')]), (e: unknown) => {
      assert.ok(e instanceof KafkaSendError, `KafkaSendError, got ${String(e)}`);
      assert.equal(e.retriable, true);
      return true;
    });
    await assert.rejects(sink.probe(), (e: unknown) => e instanceof KafkaSendError && e.retriable);
  });

  test(`[${engine}] failover sink over two real ${engine} sinks: a dead primary moves delivery to the secondary`, async (t) => {
    const k = await sharedKafka('B');
    const topic = uniqueTopic(`engine-${engine}-failover`);
    await k.createTopic(topic);
    const port = await closedPort();
    const fast = { connect_timeout: '1s', request_timeout: '2s', probe_timeout: '1s', client_retry: { retries: 2, initial_backoff: '20ms', max_backoff: '50ms' } };
    const a = sinkFor(engine, `127.0.0.1:${port}`, topic, fast);
    const b = sinkFor(engine, k.bootstrap, topic, fast);
    const cfg = { breaker: { failureThreshold: 3, slowThreshold: 5, slowMs: 2000, openDurationMs: 60_000 }, probeIntervalMs: 100, failbackHoldDownMs: 60_000 };
    const s = new FailoverSink([{ name: 'A', region: 'r1', priority: 1, sink: a }, { name: 'B', region: 'r2', priority: 2, sink: b }], cfg, createRegistry(false), silentLogger, 'k');
    t.after(() => s.close());
    let delivered = false;
    for (let i = 0; i < 20 && !delivered; i++) {
      try { await s.send([msg('via failover', 'k')]); delivered = true; } catch (e) {
        assert.equal((e as KafkaSendError).retriable, true, String(e));
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    assert.ok(delivered, 'delivered through the secondary');
    assert.deepEqual((await k.consumeAll(topic)).map((m) => m.value!.toString()), ['via failover']);
  });
}
