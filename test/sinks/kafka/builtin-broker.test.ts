// Engine builtin against a real broker, beyond the engine matrix: what it
// produced is read back by kafkajs's consumer byte for byte (keys, headers,
// every codec, several partitions), and the idempotent producer's sequences
// hold across sends and partitions; the broker checks them, so a wrong
// sequence is refused (OUT_OF_ORDER_SEQUENCE_NUMBER, mapped to a producer
// reset) and a new session starts its sequences over.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { kafkaSink } from '../../../agent/sinks/kafka/sink.ts';
import { createEngine } from '../../../agent/sinks/kafka/engines/create.ts';
import type { ProducerEngine, ProducerMessage } from '../../../agent/sinks/kafka/producer.ts';
import type { KafkaSendError } from '../../../agent/sinks/kafka/errors.ts';
import { compressions } from '../../../agent/sinks/kafka/codecs.ts';
import { keyPartition } from '../../../agent/sinks/kafka/engines/builtin/murmur2.ts';
import { sharedKafka, uniqueTopic } from '../../helpers/kafka.ts';

function engineFor(bootstrap: string, topic: string, extra: Record<string, unknown> = {}): ProducerEngine {
  const cfg = kafkaSink.validate({ engine: 'builtin', brokers: [bootstrap], topic, ...extra }, 'sinks.out');
  return createEngine(cfg, { onDisconnect() {}, debug() {} });
}

const opts = (compression: (typeof compressions)[number]) => ({ acks: 'all' as const, compression, timeoutMs: 10_000 });

for (const compression of compressions) {
  test(`builtin ${compression}: keys, headers and values read back by kafkajs byte for byte on their partitions`, async (t) => {
    const k = await sharedKafka('A');
    const topic = uniqueTopic(`builtin-bytes-${compression}`);
    await k.createTopic(topic, 3);
    const engine = engineFor(k.bootstrap, topic, { compression, idempotent: false });
    t.after(() => engine.close());
    await engine.connect();
    const shared = { 'edgelog.encoding': 'otlp', 'x-bin': 'ü\u0000z' };
    const sent: ProducerMessage[] = [];
    for (let s = 0; s < 3; s++) {
      const batch: ProducerMessage[] = Array.from({ length: 40 }, (_, i) => ({
        key: i % 4 === 0 ? null : Buffer.from(`key-${i % 5}`),
        // compressible text plus random bytes; one empty value
        value: i === 7 ? Buffer.alloc(0) : Buffer.concat([Buffer.from(`{"s":${s},"i":${i},"pad":"${'log line '.repeat(i)}"}`), randomBytes(i * 20)]),
        headers: i % 3 === 0 ? undefined : shared,
      }));
      await engine.send(topic, batch, opts(compression));
      sent.push(...batch);
    }
    const got = await k.consumeAll(topic);
    assert.equal(got.length, sent.length);
    const want = new Map(sent.map((m) => [m.value.toString('hex'), m]));
    for (const g of got) {
      const m = want.get(g.value!.toString('hex'));
      assert.ok(m, 'a value that was sent');
      assert.deepEqual(g.key, m.key);
      assert.deepEqual(Object.fromEntries(Object.entries(g.headers).map(([h, v]) => [h, v.toString()])), m.headers ?? {});
      if (m.key) assert.equal(g.partition, keyPartition(m.key, 3));
    }
  });
}

test('builtin idempotent: sequences across sends and partitions are accepted; a wrong one is refused by the broker; a new session starts over', async (t) => {
  const k = await sharedKafka('A');
  const topic = uniqueTopic('builtin-idempotent');
  await k.createTopic(topic, 3);
  const engine = engineFor(k.bootstrap, topic, { idempotent: true, compression: 'none' });
  t.after(() => engine.close());
  await engine.connect();
  const sent: string[] = [];
  const batch = (s: number) => Array.from({ length: 25 }, (_, i) => ({ key: Buffer.from(`k${i % 6}`), value: Buffer.from(`send ${s} msg ${i}`), headers: undefined }));
  // concurrent sends: the engine keeps them one at a time, sequences in wire order
  await Promise.all([0, 1, 2, 3, 4].map((s) => engine.send(topic, batch(s), opts('none')).then(() => undefined)));
  for (let s = 0; s < 5; s++) sent.push(...batch(s).map((m) => m.value.toString()));

  // a sequence ahead of what the broker expects is refused (the broker really checks them)
  const session = (engine as unknown as { session: { sequences: Map<string, number> } }).session;
  const p = keyPartition(Buffer.from('k0'), 3);
  const key = `${topic}\0${p}`;
  assert.ok((session.sequences.get(key) ?? 0) > 0, 'sequence advanced on the partition of k0');
  session.sequences.set(key, (session.sequences.get(key) ?? 0) + 3);
  const err = await engine.send(topic, [{ key: Buffer.from('k0'), value: Buffer.from('refused'), headers: undefined }], opts('none')).then(() => null, (e: unknown) => e);
  assert.ok(err, 'the broker refused the wrong sequence');
  const mapped = engine.mapError(err, 10, 1_000_000);
  assert.deepEqual([(mapped.error as KafkaSendError).reason, mapped.error.retriable, mapped.resetProducer], ['OUT_OF_ORDER_SEQUENCE_NUMBER', true, true]);

  // after resetSession: a new producer id, sequences from 0, delivery goes on
  await engine.resetSession();
  await engine.send(topic, batch(9), opts('none'));
  sent.push(...batch(9).map((m) => m.value.toString()));
  const got = await k.consumeAll(topic);
  assert.deepEqual(got.map((m) => m.value!.toString()).sort(), [...sent].sort(), 'every message exactly once, the refused one not at all');
  for (let q = 0; q < 3; q++) {
    const inPartition = got.filter((m) => m.partition === q).map((m) => m.value!.toString());
    assert.deepEqual(inPartition, sent.filter((v) => inPartition.includes(v)), `partition ${q} in send order`);
  }
});

test('builtin prepare(): a hinted request goes out as hinted; a hint for other headers or other messages is not used, and nothing is lost or sent twice', async (t) => {
  const k = await sharedKafka('A');
  const topic = uniqueTopic('builtin-prepare');
  await k.createTopic(topic, 2);
  const engine = engineFor(k.bootstrap, topic, { compression: 'lz4' });
  t.after(() => engine.close());
  await engine.connect();
  const batch = (tag: string, headers: Record<string, string>): ProducerMessage[] =>
    Array.from({ length: 30 }, (_, i) => ({ key: i % 2 ? Buffer.from(`k${i % 3}`) : null, value: Buffer.from(`{"tag":"${tag}","i":${i},"pad":"${'x'.repeat(i * 7)}"}`), headers }));
  await engine.send(topic, batch('warm', { seq: '0' }), opts('lz4')); // metadata known: prepare() has partitions to place on
  const a = batch('a', { seq: '1' });
  engine.prepare!(topic, a, opts('lz4'));
  await engine.send(topic, a, opts('lz4'));
  // The same values with other headers (a retry numbered anew): the hint's headers must not go out.
  const b = batch('b', { seq: '2' });
  engine.prepare!(topic, b, opts('lz4'));
  const bRenumbered = b.map((m) => ({ ...m, headers: { seq: '3' } }));
  await engine.send(topic, bRenumbered, opts('lz4'));
  // A hint for c, then d is sent first (c's request was split or re-sent): both go out as sent.
  const c = batch('c', { seq: '4' });
  const d = batch('d', { seq: '5' });
  engine.prepare!(topic, c, opts('lz4'));
  await engine.send(topic, d, opts('lz4'));
  await engine.send(topic, c, opts('lz4'));
  const got = await k.consumeAll(topic);
  const seen = got.map((g) => `${g.value!.toString()}|${g.headers.seq?.toString()}`).sort();
  const want = [...batch('warm', { seq: '0' }), ...a, ...bRenumbered, ...d, ...c].map((m) => `${m.value.toString()}|${m.headers!.seq}`).sort();
  assert.deepEqual(seen, want);
});
