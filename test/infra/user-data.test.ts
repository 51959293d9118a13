// One source of truth for the relay boot: the user data in the launch
// template (and the GCE instance template) is exactly what the agent's
// installer renders for the configured inputs.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderCloudInit } from '../../agent/install/cloud-init.ts';
import type { SecretsFetchOptions } from '../../agent/install/secrets-fetch.ts';
import { RELAY_SECRET_FILES } from '../../infra/constructs/relay-secrets.ts';
import { config, gcpKafkaBootstrap, KAFKA_BOOTSTRAP_PLACEHOLDER, relayConfigYaml } from '../../infra/config.ts';
import { physicalName } from '../../infra/stacks/policy.ts';
import { synthAll, tempEdgelogApp, type Json } from './fixtures.ts';

const EC2_RE = /^\$\{base64encode\(replace\(base64decode\("([A-Za-z0-9+/=]+)"\), "([^"]+)", (aws_msk_cluster\.[A-Za-z0-9_-]+)\.bootstrap_brokers_sasl_iam\)\)\}$/;
const GCE_RE = /^\$\{base64decode\("([A-Za-z0-9+/=]+)"\)\}$/;

/** The relay's secrets as RelaySecrets names them, written where the relay YAML reads them. */
const relayFiles = (id: (key: string) => string) => Object.entries(RELAY_SECRET_FILES).map(([k, path]) => ({ secretId: id(k), path }));
const awsSecrets = (key: 'primary' | 'secondary'): SecretsFetchOptions => ({
  store: 'aws-secretsmanager',
  region: config.aws[key].region,
  files: relayFiles((id) => `${physicalName(config, key)}/relay/${id}`),
});

const decode = (b64: string): string => Buffer.from(b64, 'base64').toString('utf8');
const only = (tf: Json, type: string): Json => {
  const all = Object.values(tf.resource[type] as Record<string, Json>);
  assert.equal(all.length, 1, type);
  return all[0];
};

test('relay launch templates boot with renderCloudInit(relay) output; Terraform fills in only the brokers', (t) => {
  const stacks = synthAll(tempEdgelogApp(t).app);
  for (const key of ['primary', 'secondary'] as const) {
    const tf = stacks[key];
    const userData = only(tf, 'aws_launch_template').user_data as string;
    const m = EC2_RE.exec(userData);
    assert.ok(m, `${key}: user_data has the expected shape: ${userData.slice(0, 80)}...`);
    const [, b64, placeholder, cluster] = m;
    assert.equal(placeholder, KAFKA_BOOTSTRAP_PLACEHOLDER);
    // The reference points at this region's own cluster.
    assert.ok(tf.resource.aws_msk_cluster[cluster.split('.')[1]], `${key}: ${cluster} is in this stack`);

    const relayYaml = (brokers: string) =>
      relayConfigYaml({ forwardPort: config.ports.forward, healthPort: config.ports.health, brokers, topic: config.kafka.topics[0], tokenProvider: 'aws-msk-iam', topicLayout: config.kafka.topicLayout });
    const expected = renderCloudInit({
      role: 'relay',
      version: config.agent.version,
      artifactUrl: config.agent.artifactUrl,
      artifactSha256: config.agent.artifactSha256,
      signingPublicKey: config.agent.signingPublicKey,
      configYaml: relayYaml(KAFKA_BOOTSTRAP_PLACEHOLDER),
      secrets: awsSecrets(key),
    });
    const script = decode(b64);
    assert.equal(script, expected, `${key}: launch template script is the installer's output byte for byte`);
    assert.equal(script.split(KAFKA_BOOTSTRAP_PLACEHOLDER).length, 2, 'the placeholder occurs exactly once');
    // EC2 refuses user data over 16 KiB (raw, before base64); leave room for the broker list.
    assert.ok(Buffer.byteLength(script) < 12 * 1024, `${key}: user data ${Buffer.byteLength(script)} bytes`);

    // What Terraform's replace() yields equals rendering with the real brokers directly.
    const brokers = 'b-1.edgelog.abc.c2.kafka.us-east-1.amazonaws.com:9098,b-2.edgelog.abc.c2.kafka.us-east-1.amazonaws.com:9098';
    assert.equal(
      script.replace(KAFKA_BOOTSTRAP_PLACEHOLDER, brokers),
      renderCloudInit({ role: 'relay', version: config.agent.version, artifactUrl: config.agent.artifactUrl, artifactSha256: config.agent.artifactSha256, signingPublicKey: config.agent.signingPublicKey, configYaml: relayYaml(brokers), secrets: awsSecrets(key) }),
    );
  }
});

test('GCP relays boot with renderCloudInit(relay) output, carried as a base64 literal', (t) => {
  const tf = synthAll(tempEdgelogApp(t).app).gcp;
  const userData = only(tf, 'google_compute_instance_template').metadata['user-data'] as string;
  const m = GCE_RE.exec(userData);
  assert.ok(m, `user-data has the expected shape: ${userData.slice(0, 80)}...`);
  const name = physicalName(config, 'gcp');
  const expected = renderCloudInit({
    role: 'relay',
    version: config.agent.version,
    artifactUrl: config.agent.artifactUrl,
    artifactSha256: config.agent.artifactSha256,
    signingPublicKey: config.agent.signingPublicKey,
    configYaml: relayConfigYaml({
      forwardPort: config.ports.forward,
      healthPort: config.ports.health,
      brokers: gcpKafkaBootstrap(`${name}-kafka`, config.gcp.region, config.gcp.project),
      topic: config.kafka.topics[0],
      tokenProvider: 'gcp-metadata',
      topicLayout: config.kafka.topicLayout,
    }),
    secrets: { store: 'gcp-secretmanager', project: config.gcp.project, files: relayFiles((id) => `${name}-relay-${id}`) },
  });
  assert.equal(decode(m[1]), expected);
  // The bootstrap name in the config is the cluster this stack creates.
  assert.equal(only(tf, 'google_managed_kafka_cluster').cluster_id, `${name}-kafka`);
});
