// SASL/OAUTHBEARER against a real broker that validates the tokens itself:
// MSK IAM tokens (SigV4 checked by the broker with the secret the fake IMDS
// handed out) and Google Managed Kafka tokens (the RS256 access token inside
// checked by Kafka's own OAuthBearerValidatorCallbackHandler against the
// test's JWKS). Each engine ships through each listener; a forged or expired
// token is refused as a non-retriable authentication error; short-lived GCP
// tokens are refreshed before the broker's session ends.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from '../../../agent/observe/prometheus.ts';
import kafkajs from 'kafkajs';
import type { EncodedMessage } from '../../../agent/core/component.ts';
import { startKafkaCluster, type KafkaCluster } from '../../../agent/embedded-kafka/cluster.ts';
import { oauthValidatorUnavailable } from '../../../agent/embedded-kafka/oauth-validator.ts';
import { silentLogger } from '../../../agent/observe/log.ts';
import { KafkaSendError } from '../../../agent/sinks/kafka/errors.ts';
import { KafkaSink, kafkaSink } from '../../../agent/sinks/kafka/sink.ts';
import { loadPlatformatic } from '../../../agent/sinks/kafka/engines/platformatic.ts';
import { engineNames } from '../../../agent/sinks/kafka/producer.ts';
import { mskIamToken } from '../../../agent/sinks/kafka/oauth/aws-msk-iam.ts';
import { oauthBearerSasl } from '../../../agent/sinks/kafka/engines/kafkajs-oauthbearer.ts';
import { startFakeCloud, type FakeCloud } from './oauth-fakes.ts';

const aws = { region: 'us-east-1', accessKeyId: 'ASIATESTRELAYROLE', secretAccessKey: 'relay-role-secret', sessionToken: 'session-token' };
// Above kafkajs's re-authentication threshold (10 s), so a session lasts long enough to be renewed in time.
const gcpTtlSeconds = 20;

test('OAUTHBEARER with a broker that validates MSK IAM and GCP tokens, each engine', async (t) => {
  const noJavac = oauthValidatorUnavailable();
  if (noJavac) { t.skip(noJavac); return; }
  let cluster: KafkaCluster | null = null;
  let cloud: FakeCloud | null = null;
  const sinks: KafkaSink[] = [];
  t.after(async () => {
    await Promise.allSettled(sinks.map((s) => s.close()));
    await cluster?.stop();
    await cloud?.close();
  });
  cloud = await startFakeCloud({ aws: { ...aws }, gcp: { email: 'relay@edgelog-prod.iam.gserviceaccount.com', ttlSeconds: gcpTtlSeconds } });
  cluster = await startKafkaCluster({
    name: 'oauth', heapMb: 256,
    oauth: { mskIam: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey, region: aws.region }, gcp: { jwksUrl: cloud.jwksUrl } },
    // The broker ends a session when its token expires (or after 60 s), so a client must re-authenticate with a fresh one.
    props: { 'connections.max.reauth.ms': 60_000 },
  });
  const topic = 'oauth';
  await cluster.createTopic(topic);
  const fc = cloud;
  const sent: string[] = [];

  for (const engine of engineNames) {
    if (engine === 'platformatic' && typeof loadPlatformatic() === 'string') { t.diagnostic(`platformatic engine skipped: ${loadPlatformatic() as string}`); continue; }
    const retries = engine === 'platformatic' ? 2 : 1;
    const msg = (s: string): EncodedMessage[] => [{ key: null, value: Buffer.from(`[${engine}] ${s}`), headers: {}, records: [] }];
    const sink = (bootstrap: string, provider: string): KafkaSink => {
      const s = new KafkaSink(kafkaSink.validate({
        engine, brokers: [bootstrap], topic, connect_timeout: '3s', client_retry: { retries, initial_backoff: '100ms' },
        sasl: { mechanism: 'oauthbearer', token_provider: provider, metadata_endpoint: fc.endpoint },
      }, 'sinks.oauth'), { id: 'oauth', log: silentLogger, metrics: new Registry(), agentId: 'a1' });
      sinks.push(s);
      return s;
    };
    const refused = async (p: Promise<unknown>, what: string): Promise<void> => {
      await assert.rejects(p, (e: unknown) => {
        assert.ok(e instanceof KafkaSendError, `${engine} ${what}: ${String(e)}`);
        assert.equal(e.retriable, false, `${engine} ${what}: ${e.message}`);
        assert.match(e.message, /auth|SASL/i, `${engine} ${what}: the error says authentication failed`);
        assert.doesNotMatch(e.message, /relay-role-secret/);
        return true;
      });
    };

    // MSK IAM: token from the fake IMDS's credentials, signature checked by the broker.
    fc.options.aws!.secretAccessKey = aws.secretAccessKey;
    await sink(cluster.mskIamBootstrap!, 'aws-msk-iam').send(msg('msk iam'));
    sent.push(`[${engine}] msk iam`);
    // IMDS hands out another secret: the signature does not verify, the broker refuses.
    fc.options.aws!.secretAccessKey = 'not-the-role-secret';
    await refused(sink(cluster.mskIamBootstrap!, 'aws-msk-iam').send(msg('x')), 'wrong MSK signature');
    fc.options.aws!.secretAccessKey = aws.secretAccessKey;

    // GCP: wrapper token around an RS256 JWT, checked by Kafka's JWKS validator.
    const g = sink(cluster.gcpOAuthBootstrap!, 'gcp-metadata');
    const before = fc.issued.gcpTokens;
    await g.send(msg('gcp 1'));
    sent.push(`[${engine}] gcp 1`);
    // Refresh: once the first token has expired, the same sink still ships (a new token was fetched).
    const firstExpiry = fc.gcpExpiries.at(-1)!;
    const deadline = Date.now() + 60_000;
    while (Date.now() <= firstExpiry + 1000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    await g.send(msg('gcp 2'));
    sent.push(`[${engine}] gcp 2`);
    assert.ok(fc.issued.gcpTokens - before >= 2, `${engine}: a fresh GCP token was fetched after expiry (${fc.issued.gcpTokens - before} issued)`);

    fc.options.foreignKey = true;
    await refused(sink(cluster.gcpOAuthBootstrap!, 'gcp-metadata').send(msg('x')), 'GCP token signed by another key');
    fc.options.foreignKey = false;
    fc.options.gcp!.expired = true;
    await refused(sink(cluster.gcpOAuthBootstrap!, 'gcp-metadata').send(msg('x')), 'expired GCP token');
    fc.options.gcp!.expired = false;
  }

  // An expired MSK IAM token (signed right, 20 minutes old) is refused by the broker.
  const expired = mskIamToken(aws.region, aws, new Date(Date.now() - 20 * 60_000)).token;
  const client = new kafkajs.Kafka({
    brokers: [cluster.mskIamBootstrap!], clientId: 'expired', logLevel: kafkajs.logLevel.NOTHING, retry: { retries: 0 },
    sasl: oauthBearerSasl(async () => expired) as kafkajs.SASLOptions,
  });
  const admin = client.admin();
  await assert.rejects(admin.connect(), /SASL OAUTHBEARER authentication failed: the broker refused the token \(invalid_token\)/);
  await admin.disconnect().catch(() => {});

  const got = await cluster.consumeAll(topic);
  assert.deepEqual(got.map((m) => m.value!.toString()).sort(), sent.sort());
});
