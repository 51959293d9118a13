// The relay config the infra renders into user data is a valid agent config:
// the agent's own schema accepts it (after the apply-time broker substitution
// on AWS), with secrets taken from the environment.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { relayConfigYaml, KAFKA_BOOTSTRAP_PLACEHOLDER, gcpKafkaBootstrap } from '../../infra/config.ts';
import { parseConfig } from '../../agent/config/load.ts';
import { ConfigError } from '../../agent/core/errors.ts';

const env = { EDGELOG_KAFKA_USERNAME: 'relay@project.iam.gserviceaccount.com', EDGELOG_KAFKA_PASSWORD: 'not-a-real-secret' };

test('AWS relay config validates once MSK brokers replace the placeholder', () => {
  const yaml = relayConfigYaml({ forwardPort: 24240, healthPort: 8686, brokers: KAFKA_BOOTSTRAP_PLACEHOLDER, topic: 'logs', sasl: 'scram' })
    .replace(KAFKA_BOOTSTRAP_PLACEHOLDER, 'b-1.msk.example:9096,b-2.msk.example:9096');
  const cfg = parseConfig(yaml, env);
  assert.equal(cfg.agent.role, 'relay');
  assert.equal(cfg.observe.listen, '127.0.0.1:9700');
  assert.equal(cfg.observe.healthListen, '0.0.0.0:8686');
  const p = cfg.pipelines[0]!;
  assert.equal(p.sources[0]!.spec.type, 'forward');
  assert.equal(p.sink.spec.type, 'kafka');
  const setup = p.sink.config as { mode: string; config: { brokers: string[]; sasl: { mechanism: string; password?: string }; tls: unknown } };
  assert.deepEqual(setup.config.brokers, ['b-1.msk.example:9096', 'b-2.msk.example:9096']);
  assert.equal(setup.config.sasl.mechanism, 'scram-sha-512');
  assert.equal(setup.config.sasl.password, env.EDGELOG_KAFKA_PASSWORD);
  assert.ok(setup.config.tls);
  assert.equal(yaml.includes(env.EDGELOG_KAFKA_PASSWORD), false, 'no secret in the rendered file');
});

test('GCP relay config validates; without the secret env the error names the key path', () => {
  const yaml = relayConfigYaml({ forwardPort: 24240, healthPort: 8686, brokers: gcpKafkaBootstrap('edgelog-kafka', 'europe-west1', 'proj'), topic: 'logs', sasl: 'plain' });
  const cfg = parseConfig(yaml, env);
  assert.equal((cfg.pipelines[0]!.sink.config as { config: { sasl: { mechanism: string } } }).config.sasl.mechanism, 'plain');
  assert.throws(() => parseConfig(yaml, {}), (e: unknown) => e instanceof ConfigError && e.path === 'sinks.kafka_out.sasl.username');
});
