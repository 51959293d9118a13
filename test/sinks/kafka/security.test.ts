// TLS and SASL against a real broker: one private cluster with a TLS
// listener (client certificates required, CA made here with openssl) and a
// SASL_PLAINTEXT listener (PLAIN and SCRAM users). The sink must connect with
// each mechanism, verify the broker certificate, present its own, and report
// wrong credentials as a non-retriable error, with each producer engine.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from '../../../agent/observe/prometheus.ts';
import type { EncodedMessage } from '../../../agent/core/component.ts';
import { startKafkaCluster, type KafkaCluster } from '../../../agent/embedded-kafka/cluster.ts';
import { silentLogger } from '../../../agent/observe/log.ts';
import { KafkaSendError } from '../../../agent/sinks/kafka/errors.ts';
import { KafkaSink, kafkaSink } from '../../../agent/sinks/kafka/sink.ts';
import { loadPlatformatic } from '../../../agent/sinks/kafka/engines/platformatic.ts';
import { engineNames } from '../../../agent/sinks/kafka/producer.ts';

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all PEM. */
function makePki(dir: string): void {
  const days = ['-days', '2'];
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', ...days, '-subj', '/CN=edgelog-test-ca'], dir);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const who of ['server', 'client']) {
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=edgelog-${who}`], dir);
    openssl(['x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${who}.pem`, ...days,
      ...(who === 'server' ? ['-extfile', 'server.ext'] : [])], dir);
  }
}

test('TLS (verified, mutual) and SASL PLAIN / SCRAM-SHA-256 / SCRAM-SHA-512 with a real broker, each engine', async (t) => {
  try { execFileSync('openssl', ['version'], { stdio: 'ignore' }); } catch { t.skip('openssl not installed'); return; }
  const dir = mkdtempSync(join(tmpdir(), 'edgelog-kafka-sec-'));
  let cluster: KafkaCluster | null = null;
  const sinks: KafkaSink[] = [];
  t.after(async () => {
    await Promise.allSettled(sinks.map((s) => s.close()));
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  makePki(dir);
  const pw = join(dir, 'edge.password');
  writeFileSync(pw, 'edge-secret\n');
  cluster = await startKafkaCluster({
    name: 'security', heapMb: 256,
    saslUsers: { edge: 'edge-secret' },
    tls: { certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server.key'), clientCaFile: join(dir, 'ca.pem') },
  });
  const topic = 'secure';
  await cluster.createTopic(topic);
  const sent: string[] = [];
  // Each engine in turn, on the same cluster (@platformatic/kafka when it loads here).
  for (const engine of engineNames) {
    if (engine === 'platformatic' && typeof loadPlatformatic() === 'string') { t.diagnostic(`platformatic engine skipped: ${loadPlatformatic() as string}`); continue; }
    // platformatic refuses one retry with an idempotent producer (config validation); 2 for it.
    const retries = engine === 'platformatic' ? 2 : 1;
    const msg = (s: string): EncodedMessage[] => [{ key: null, value: Buffer.from(`[${engine}] ${s}`), headers: {}, records: [] }];
    const sentAs = (s: string): void => { sent.push(`[${engine}] ${s}`); };
    const sink = (bootstrap: string, extra: Record<string, unknown>): KafkaSink => {
      const s = new KafkaSink(kafkaSink.validate({ engine, brokers: [bootstrap], topic, connect_timeout: '3s', client_retry: { retries, initial_backoff: '100ms' }, ...extra }, 'sinks.secure'),
        { id: 'secure', log: silentLogger, metrics: new Registry(), agentId: 'a1' });
      sinks.push(s);
      return s;
    };

    // TLS: broker verified against our CA, client certificate presented
    const tls = { ca_file: join(dir, 'ca.pem'), cert_file: join(dir, 'client.pem'), key_file: join(dir, 'client.key') };
    await sink(cluster.tlsBootstrap!, { tls }).send(msg('over tls'));
    sentAs('over tls');
    // no client certificate: the broker (ssl.client.auth=required) refuses the handshake
    await assert.rejects(sink(cluster.tlsBootstrap!, { tls: { ca_file: tls.ca_file } }).send(msg('x')), KafkaSendError);
    // an unknown CA is refused unless verification is switched off
    await assert.rejects(sink(cluster.tlsBootstrap!, { tls: { cert_file: tls.cert_file, key_file: tls.key_file } }).send(msg('x')), KafkaSendError);
    await sink(cluster.tlsBootstrap!, { tls: { cert_file: tls.cert_file, key_file: tls.key_file, insecure_skip_verify: true } }).send(msg('tls unverified'));
    sentAs('tls unverified');

    // SASL: each mechanism, password inline or from a file
    for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512']) {
      await sink(cluster.saslBootstrap!, { sasl: { mechanism, username: 'edge', password: 'edge-secret' } }).send(msg(`sasl ${mechanism}`));
      sentAs(`sasl ${mechanism}`);
    }
    await sink(cluster.saslBootstrap!, { sasl: { mechanism: 'scram-sha-512', username: 'edge', password_file: pw } }).send(msg('sasl password file'));
    sentAs('sasl password file');
    // wrong password: authentication failure, not retriable
    for (const mechanism of ['plain', 'scram-sha-256']) {
      await assert.rejects(sink(cluster.saslBootstrap!, { sasl: { mechanism, username: 'edge', password: 'wrong' } }).send(msg('x')), (e: unknown) => {
        assert.ok(e instanceof KafkaSendError, String(e));
        assert.equal(e.retriable, false, `${mechanism}: ${e.message}`);
        assert.doesNotMatch(e.message, /wrong/); // the password never shows in errors
        return true;
      });
    }
  }

  const got = await cluster.consumeAll(topic);
  assert.deepEqual(got.map((m) => m.value!.toString()), sent);
});
