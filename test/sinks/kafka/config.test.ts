// Kafka sink config: defaults, and every error names the offending key path.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { ConfigError, RecordTooLargeError } from '../../../agent/core/errors.ts';
import { kafkaSink } from '../../../agent/sinks/kafka/sink.ts';
import { codecAvailable } from '../../../agent/sinks/kafka/codecs.ts';
import { KafkaSendError, mapKafkaError } from '../../../agent/sinks/kafka/errors.ts';

const P = 'sinks.central';
function fails(raw: unknown, path: string, expected?: RegExp): void {
  assert.throws(() => kafkaSink.validate(raw, P), (e: unknown) => {
    assert.ok(e instanceof ConfigError, `ConfigError, got ${String(e)}`);
    assert.equal(e.path, path);
    if (expected) assert.match(e.message, expected);
    return true;
  });
}

test('defaults: acks all, idempotent, lz4, 1 MB messages, headers on', () => {
  const c = kafkaSink.validate({ brokers: ['127.0.0.1:9092'] }, P);
  assert.deepEqual(c.brokers, ['127.0.0.1:9092']);
  assert.equal(c.acks, 'all');
  assert.equal(c.idempotent, true);
  assert.equal(c.compression, codecAvailable('lz4') === true ? 'lz4' : 'gzip');
  assert.equal(c.maxMessageBytes, 1_000_000);
  assert.equal(c.headers, true);
  assert.equal(c.topic, 'edgelog');
  assert.equal(c.tls, null);
  assert.equal(c.sasl, null);
  const d = kafkaSink.validate({ brokers: 'kafka-1.example:9093', topic: 'logs.edge', acks: 'leader', idempotent: false, compression: 'zstd',
    max_message_bytes: '512KiB', request_timeout: '10s', client_retry: { retries: 0 } }, P);
  assert.deepEqual(d.brokers, ['kafka-1.example:9093']);
  assert.equal(d.maxMessageBytes, 512 * 1024);
  assert.equal(d.requestTimeoutMs, 10_000);
  assert.equal(d.clientRetry.retries, 0);
});

test('broker, topic, acks, compression and unknown-key errors name the key path', () => {
  fails({}, `${P}.brokers`);
  fails({ brokers: [] }, `${P}.brokers`);
  fails({ brokers: ['127.0.0.1:9092', 'nohost'] }, `${P}.brokers[1]`, /host:port/);
  fails({ brokers: ['a:9092'], topic: 'bad topic' }, `${P}.topic`);
  fails({ brokers: ['a:9092'], acks: 'leader' }, `${P}.acks`, /idempotent/);
  fails({ brokers: ['a:9092'], compression: 'brotli' }, `${P}.compression`);
  fails({ brokers: ['a:9092'], max_message_bytes: 10 }, `${P}.max_message_bytes`);
  fails({ brokers: ['a:9092'], client_retry: { retries: 0 } }, `${P}.client_retry.retries`); // idempotent needs >= 1
  fails({ brokers: ['a:9092'], linger: 5 }, `${P}.linger`);
});

test('TLS and SASL errors name the key path; files are checked; secrets are never echoed', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgelog-kafka-cfg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pem = join(dir, 'ca.pem');
  writeFileSync(pem, '-----BEGIN CERTIFICATE-----\n');
  const pw = join(dir, 'pw');
  writeFileSync(pw, 's3cret\n');
  const b = { brokers: ['a:9093'] };

  fails({ ...b, tls: { ca_file: join(dir, 'missing.pem') } }, `${P}.tls.ca_file`, /readable file/);
  fails({ ...b, tls: { cert_file: pem } }, `${P}.tls.key_file`);
  fails({ ...b, tls: { key_file: pem } }, `${P}.tls.cert_file`);
  fails({ ...b, tls: { insecure_skip_verify: 'yes' } }, `${P}.tls.insecure_skip_verify`);
  fails({ ...b, tls: { verify: false } }, `${P}.tls.verify`);
  fails({ ...b, tls: 'on' }, `${P}.tls`);
  const tls = kafkaSink.validate({ ...b, tls: { ca_file: pem, cert_file: pem, key_file: pem } }, P).tls!;
  assert.deepEqual([tls.enabled, tls.caFile, tls.insecureSkipVerify], [true, pem, false]);
  assert.equal(kafkaSink.validate({ ...b, tls: true }, P).tls?.enabled, true);
  assert.equal(kafkaSink.validate({ ...b, tls: { enabled: false, ca_file: pem } }, P).tls, null);

  fails({ ...b, sasl: { mechanism: 'gssapi', username: 'u', password: 'p' } }, `${P}.sasl.mechanism`);
  fails({ ...b, sasl: { password: 'p' } }, `${P}.sasl.username`);
  fails({ ...b, sasl: { username: '', password: 'p' } }, `${P}.sasl.username`);
  fails({ ...b, sasl: { username: 'u' } }, `${P}.sasl.password`, /ENV/);
  fails({ ...b, sasl: { username: 'u', password: 'p', password_file: pw } }, `${P}.sasl.password_file`);
  fails({ ...b, sasl: { username: 'u', password_file: join(dir, 'nope') } }, `${P}.sasl.password_file`);
  fails({ ...b, sasl: { username: 'u', password: 12345 } }, `${P}.sasl.password`);
  // a wrong-typed password is reported without its value
  assert.throws(() => kafkaSink.validate({ ...b, sasl: { username: 'u', password: ['hunter2'] } }, P),
    (e: unknown) => e instanceof ConfigError && e.path === `${P}.sasl.password` && !/hunter2/.test(`${e.message} ${String(e.stack)}`));
  const s = kafkaSink.validate({ ...b, sasl: { mechanism: 'scram-sha-256', username: 'edge', password_file: pw } }, P).sasl!;
  assert.deepEqual([s.mechanism, s.username, s.passwordFile], ['scram-sha-256', 'edge', pw]);
  assert.equal(kafkaSink.validate({ ...b, sasl: { username: 'edge', password: 'x' } }, P).sasl!.mechanism, 'scram-sha-512');
});

test('kafkajs errors map to retriable or not, too-large to RecordTooLargeError', () => {
  const { KafkaJSProtocolError, KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSNonRetriableError } = kafkajs as unknown as Record<string, new (...a: unknown[]) => Error>;
  const proto = (type: string, retriable: boolean) => new KafkaJSProtocolError!({ type, code: 1, retriable, message: type.toLowerCase() });

  // kafkajs's retrier wraps as `new KafkaJSNonRetriableError(e, { cause: e.cause || e })`
  const wrap = (e: Error) => new KafkaJSNonRetriableError!(e, { cause: e });
  const big = mapKafkaError(wrap(proto('MESSAGE_TOO_LARGE', false)), 2_000_000, 1_000_000).error;
  assert.ok(big instanceof RecordTooLargeError);
  assert.equal(big.retriable, false);
  assert.equal((big as RecordTooLargeError).bytes, 2_000_000);
  assert.ok(mapKafkaError(proto('RECORD_LIST_TOO_LARGE', false), 1, 1).error instanceof RecordTooLargeError);

  const conn = mapKafkaError(new KafkaJSNumberOfRetriesExceeded!(new KafkaJSConnectionError!('Connection error: connect ECONNREFUSED'), { retryCount: 2, retryTime: 100 }), 1, 1);
  assert.ok(conn.error instanceof KafkaSendError);
  assert.equal(conn.error.retriable, true);
  assert.equal((conn.error as KafkaSendError).reason, 'KafkaJSConnectionError');

  const leader = mapKafkaError(new KafkaJSNumberOfRetriesExceeded!(proto('NOT_LEADER_FOR_PARTITION', true), { retryCount: 2, retryTime: 1 }), 1, 1);
  assert.equal(leader.error.retriable, true);
  assert.equal((leader.error as KafkaSendError).reason, 'NOT_LEADER_FOR_PARTITION');

  const auth = mapKafkaError(wrap(proto('TOPIC_AUTHORIZATION_FAILED', false)), 1, 1);
  assert.equal(auth.error.retriable, false);

  const seq = mapKafkaError(proto('OUT_OF_ORDER_SEQUENCE_NUMBER', false), 1, 1);
  assert.equal(seq.error.retriable, true);
  assert.equal(seq.resetProducer, true);

  const plain = mapKafkaError(new Error('socket hang up'), 1, 1);
  assert.equal(plain.error.retriable, true);
});
