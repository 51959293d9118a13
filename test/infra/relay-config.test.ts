// The relay config the infra renders into user data, taken as it is: the
// agent's schema accepts it, and a real relay (`edgelog run`) started with it
// ships edge records into a real broker through SASL/OAUTHBEARER, on AWS with
// an MSK IAM token and on GCP with a Managed Kafka token, each validated by
// the broker (agent/embedded-kafka/oauth-validator.ts). Only what must point
// at this test's loopback parts is replaced (addresses, file paths); each
// replaced string must occur in the YAML, so a changed mechanism, key or path
// in the infra fails here. Token sources are faked at the HTTP boundary
// (test/sinks/kafka/oauth-fakes.ts), pointed at by the clouds' own env
// overrides, not by the YAML.
//
// The AWS relay gets its TLS certificate, key and agents.secrets the way a
// deployed relay does: the secrets step of its boot script (cut from the
// rendered cloud-init, run with the AWS CLI) waits while the Secrets Manager
// secrets (moto) have no value, and writes the files once the operator's
// `aws secretsmanager put-secret-value` has put them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from '../../agent/observe/prometheus.ts';
import { config, KAFKA_BOOTSTRAP_PLACEHOLDER } from '../../infra/config.ts';
import { awsRelayConfigYaml } from '../../infra/stacks/region.ts';
import { gcpRelayConfigYaml } from '../../infra/stacks/gcp.ts';
import { parseConfig } from '../../agent/config/load.ts';
import { freePort, startKafkaCluster, type KafkaCluster } from '../../agent/embedded-kafka/cluster.ts';
import { oauthValidatorUnavailable } from '../../agent/embedded-kafka/oauth-validator.ts';
import { forwardSink, type ForwardSink } from '../../agent/sinks/forward/index.ts';
import { startAgent, type AgentProcess } from '../helpers/agent-process.ts';
import { tempDir } from '../helpers/e2e.ts';
import { encode, encoder, makeCtx, makeRecords } from '../forward/helpers.ts';
import { startFakeCloud, type FakeCloud } from '../sinks/kafka/oauth-fakes.ts';
import { RELAY_SECRET_FILES } from '../../infra/constructs/relay-secrets.ts';
import { relayBootScript } from '../../infra/lib/user-data.ts';
import { motoMissing, startMoto, VENV_PYTHON, type Moto } from './rehearsal/moto.ts';
import { awsCliMissing, awsOnPath, fetchScriptOf, putSecretValue, runAws } from '../install/secrets-fetch-run.ts';

type SinkSetup = { config: { brokers: string[]; sasl: { mechanism: string; oauth?: { provider: string } }; tls: unknown; createTopic: unknown; topic: string } };

const layout = config.kafka.topicLayout;
const designedCreateTopic = { partitions: layout.partitions, replicationFactor: layout.replicationFactor, minInsyncReplicas: layout.minInsyncReplicas };

test('AWS relay config: OAUTHBEARER with MSK IAM tokens over TLS, create_topic as designed, no secret', () => {
  const yaml = awsRelayConfigYaml(config).replace(KAFKA_BOOTSTRAP_PLACEHOLDER, 'b-1.msk.example:9098,b-2.msk.example:9098');
  const cfg = parseConfig(yaml, {});
  assert.equal(cfg.agent.role, 'relay');
  assert.equal(cfg.observe.healthListen, `0.0.0.0:${config.ports.health}`);
  const p = cfg.pipelines[0]!;
  assert.equal(p.sources[0]!.spec.type, 'forward');
  const sink = (p.sink.config as SinkSetup).config;
  assert.deepEqual(sink.brokers, ['b-1.msk.example:9098', 'b-2.msk.example:9098']);
  assert.equal(sink.sasl.mechanism, 'oauthbearer');
  assert.equal(sink.sasl.oauth?.provider, 'aws-msk-iam');
  assert.ok(sink.tls);
  assert.deepEqual(sink.createTopic, designedCreateTopic);
  assert.doesNotMatch(yaml, /password|\$\{/, 'nothing secret, nothing from the environment');
});

test('GCP relay config: OAUTHBEARER with metadata-server tokens over TLS, create_topic as designed', () => {
  const cfg = parseConfig(gcpRelayConfigYaml(config), {});
  const sink = (cfg.pipelines[0]!.sink.config as SinkSetup).config;
  assert.match(sink.brokers[0]!, /^bootstrap\..*\.managedkafka\..*\.cloud\.goog:9092$/);
  assert.equal(sink.sasl.mechanism, 'oauthbearer');
  assert.equal(sink.sasl.oauth?.provider, 'gcp-metadata');
  assert.ok(sink.tls);
  assert.deepEqual(sink.createTopic, designedCreateTopic);
});

/** `yaml` with each `from` replaced by its `to`; every `from` must occur (else the infra changed what this test relies on). */
function localize(yaml: string, replacements: [string, string][]): string {
  let out = yaml;
  for (const [from, to] of replacements) {
    assert.ok(out.includes(from), `the infra relay YAML still contains ${JSON.stringify(from)}`);
    out = out.split(from).join(to);
  }
  return out;
}

test('a relay started with the infra YAML ships edge records into a broker through OAUTHBEARER (AWS and GCP)', async (t) => {
  const noJavac = oauthValidatorUnavailable();
  if (noJavac) { t.skip(noJavac); return; }
  try { execFileSync('openssl', ['version'], { stdio: 'ignore' }); } catch { t.skip('openssl not installed (needed for the certificates)'); return; }
  const noMoto = motoMissing() ?? awsCliMissing();
  if (noMoto) { t.skip(noMoto); return; }
  const dir = tempDir(t, 'edgelog-infra-relay-');
  const ssl = (args: string[]): void => { execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] }); };
  // One CA for the broker and the relays; both serve 127.0.0.1.
  ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=edgelog-test-ca']);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:relay.test\n');
  ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  ssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'san.ext']);
  const secret = 'edge-1-secret-for-the-infra-relay-test';
  writeFileSync(join(dir, 'agents.secrets'), `edge-1 ${secret}\n`, { mode: 0o600 });

  const aws = { region: 'us-east-1', accessKeyId: 'ASIAINFRARELAY', secretAccessKey: 'infra-relay-role-secret', sessionToken: 'infra-session' };
  let cloud: FakeCloud | null = null;
  let cluster: KafkaCluster | null = null;
  let moto: Moto | null = null;
  const relays: AgentProcess[] = [];
  t.after(async () => {
    await Promise.allSettled(relays.map((r) => r.kill()));
    await cluster?.stop();
    await cloud?.close();
    await moto?.stop();
  });
  moto = await startMoto(join(dir, 'moto.log'));
  const awsFiles = await fetchAwsRelaySecrets(moto, dir, aws.region, {
    'tls-cert': readFileSync(join(dir, 'server.pem'), 'utf8'),
    'tls-key': readFileSync(join(dir, 'server.key'), 'utf8'),
    'agents-secrets': `edge-1 ${secret}`,
  });
  cloud = await startFakeCloud({ aws, gcp: { email: 'relay@edgelog-prod.iam.gserviceaccount.com', ttlSeconds: 3600 } });
  cluster = await startKafkaCluster({
    name: 'infra-relay', heapMb: 256,
    tls: { certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server.key') },
    oauth: { mskIam: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey, region: aws.region }, gcp: { jwksUrl: cloud.jwksUrl } },
  });
  const topic = config.kafka.topics[0]!;
  // The designed layout needs 3 brokers; this one has 1. The topic exists as
  // designed (partitions), so the relays' create_topic takes its idempotent path.
  await cluster.createTopic(topic, layout.partitions);

  const runRelay = async (name: string, yaml: string, bootstrap: string): Promise<number> => {
    const forwardPort = await freePort();
    const healthPort = await freePort();
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, localize(yaml, [
      ['data_dir: /var/lib/edgelog', `data_dir: ${JSON.stringify(join(dir, `${name}-state`))}`],
      [`health_listen: 0.0.0.0:${config.ports.health}`, `health_listen: 127.0.0.1:${healthPort}`],
      [`address: 0.0.0.0:${config.ports.forward}`, `address: 127.0.0.1:${forwardPort}`],
      // AWS: the files the boot script fetched from Secrets Manager; GCP (no emulator here): written by the test.
      ['/etc/edgelog/tls/relay.pem', name === 'aws' ? awsFiles.cert : join(dir, 'server.pem')],
      ['/etc/edgelog/tls/relay.key', name === 'aws' ? awsFiles.key : join(dir, 'server.key')],
      ['/etc/edgelog/agents.secrets', name === 'aws' ? awsFiles.agents : join(dir, 'agents.secrets')],
      [name === 'aws' ? KAFKA_BOOTSTRAP_PLACEHOLDER : /bootstrap\.[^\]]*:9092/.exec(yaml)![0], bootstrap],
    ]));
    relays.push(await startAgent(file, {
      // The broker's certificate is signed by this test's CA; the YAML keeps `tls: { enabled: true }` (system CAs).
      NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'),
      // The clouds' own metadata endpoint overrides (the relay's providers honour them).
      AWS_EC2_METADATA_SERVICE_ENDPOINT: cloud!.endpoint,
      GCE_METADATA_HOST: cloud!.endpoint.replace(/^http:\/\//, ''),
    }));
    return forwardPort;
  };
  const edge = (port: number, id = 'edge-1', key = secret): ForwardSink => {
    const s = forwardSink.create(forwardSink.validate({
      endpoints: [`127.0.0.1:${port}`], tls: { ca_file: join(dir, 'ca.pem'), server_name: 'relay.test' }, connect_timeout: '5s', auth: { secret: key },
    }, 'sinks.fwd'), makeCtx(t, 'fwd', id, new Registry())) as ForwardSink;
    t.after(() => s.close());
    return s;
  };

  const awsPort = await runRelay('aws', awsRelayConfigYaml(config), cluster.mskIamBootstrap!);
  const gcpPort = await runRelay('gcp', gcpRelayConfigYaml(config), cluster.gcpOAuthBootstrap!);
  await edge(awsPort).send(encode(makeRecords(5, { body: (i) => Buffer.from(`via aws relay ${i}`) }).records));
  await edge(gcpPort).send(encode(makeRecords(5, { body: (i) => Buffer.from(`via gcp relay ${i}`) }).records));
  assert.ok(cloud.issued.awsCredentials >= 1 && cloud.issued.gcpTokens >= 1, 'each relay took its token from its metadata server');

  // The relays acknowledge the edge only after Kafka did: everything is there now.
  const got = await cluster.consumeAll(topic);
  const text = got.map((m) => m.value!.toString('latin1')).join('\n');
  for (let i = 0; i < 5; i++) {
    assert.ok(text.includes(`via aws relay ${i}`), `aws record ${i} in Kafka`);
    assert.ok(text.includes(`via gcp relay ${i}`), `gcp record ${i} in Kafka`);
  }

  // Rotation as the runbook says: a new agent's line is put into agents-secrets,
  // the fetch runs again and the relay reloads; the new agent is then accepted.
  const secret2 = 'edge-2-secret-added-by-a-rotation';
  const rotated = join(dir, 'agents.secrets.rotated');
  writeFileSync(rotated, `edge-1 ${secret}\nedge-2 ${secret2}`, { mode: 0o600 });
  await putSecretValue(moto.endpoint, aws.region, awsFiles.agentsSecretId, rotated);
  const again = await awsFiles.refetch();
  assert.equal(again.code, 0, again.stderr);
  const awsRelay = relays[0]!;
  const reloads = (awsRelay.stderr().match(/config reloaded/g) ?? []).length;
  awsRelay.child.kill('SIGHUP');
  const until = Date.now() + 60_000;
  while ((awsRelay.stderr().match(/config reloaded/g) ?? []).length === reloads) {
    assert.ok(Date.now() < until, `relay did not reload within 60 s: ${awsRelay.stderr().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await edge(awsPort, 'edge-2', secret2).send(encoder('edge-2').encode(makeRecords(3, { body: (i) => Buffer.from(`edge-2 after rotation ${i}`) }).records));
  const after = (await cluster.consumeAll(topic)).map((m) => m.value!.toString('latin1')).join('\n');
  for (let i = 0; i < 3; i++) assert.ok(after.includes(`edge-2 after rotation ${i}`), `rotated-in agent's record ${i} in Kafka`);
});

/**
 * The AWS relay's boot-time secrets step against moto's Secrets Manager: the
 * secret containers (as RelaySecrets names them) exist without a value; the
 * fetch script from the rendered boot script keeps waiting and writes nothing;
 * the operator puts the values; the script writes the files and exits 0.
 */
interface FetchedFiles {
  cert: string; key: string; agents: string;
  readonly agentsSecretId: string;
  /** Runs the fetch once more (the runbook's `systemctl restart edgelog-secrets`). */
  refetch(): Promise<{ code: number | null; stderr: string }>;
}

async function fetchAwsRelaySecrets(moto: Moto, dir: string, region: string, values: Record<keyof typeof RELAY_SECRET_FILES, string>): Promise<FetchedFiles> {
  const prefix = `${config.project}-${config.environment}-primary`;
  const files = (Object.keys(RELAY_SECRET_FILES) as Array<keyof typeof RELAY_SECRET_FILES>).map((k) => ({ secretId: `${prefix}/relay/${k}`, path: RELAY_SECRET_FILES[k] }));
  for (const f of files) {
    const r = await runAws(VENV_PYTHON, ['-m', 'awscli', 'secretsmanager', 'create-secret', '--name', f.secretId], moto.endpoint, region);
    assert.equal(r.code, 0, r.stderr);
  }
  const boot = relayBootScript(config.agent, awsRelayConfigYaml(config), { store: 'aws-secretsmanager', region, files });
  const script = join(dir, 'edgelog-fetch-secrets');
  writeFileSync(script, fetchScriptOf(boot), { mode: 0o755 });
  const root = join(dir, 'node-root');
  const env = {
    ...process.env, PATH: `${awsOnPath(dir)}:${process.env.PATH}`, AWS_ENDPOINT_URL: moto.endpoint, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x',
    AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', EDGELOG_INSTALL_ROOT: root, EDGELOG_SECRETS_GROUP: 'root',
  };
  const fetch = spawn('bash', [script], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => fetch.on('close', (code) => resolve(code)));
  const killer = setTimeout(() => fetch.kill('SIGKILL'), 120_000);
  // Waiting, not failing: the first round reports every secret missing and schedules a retry.
  await new Promise<void>((resolve, reject) => {
    fetch.stderr.on('data', (d) => {
      stderr += d;
      if (/3 secret\(s\) missing; relay not started; retry in/.test(stderr)) resolve();
    });
    exited.then((code) => reject(new Error(`fetch exited (${code}) before the values were put: ${stderr}`)));
  });
  assert.equal(fetch.exitCode, null, 'the fetch keeps waiting while the secrets have no value');
  for (const f of files) assert.throws(() => readFileSync(join(root, f.path)), 'nothing written before the values exist');
  for (const [i, f] of files.entries()) {
    const file = join(dir, `value-${i}`);
    writeFileSync(file, values[Object.keys(RELAY_SECRET_FILES)[i] as keyof typeof RELAY_SECRET_FILES], { mode: 0o600 });
    await putSecretValue(moto.endpoint, region, f.secretId, file);
  }
  const code = await exited;
  clearTimeout(killer);
  assert.equal(code, 0, `fetch after put-secret-value: ${stderr}`);
  for (const v of Object.values(values)) assert.ok(!stderr.includes(v.trim().split('\n')[1] ?? v.trim()), 'no secret value on stderr');
  assert.ok(!stderr.includes(values['agents-secrets']), 'the agent secret is not logged');
  return {
    cert: join(root, RELAY_SECRET_FILES['tls-cert']), key: join(root, RELAY_SECRET_FILES['tls-key']), agents: join(root, RELAY_SECRET_FILES['agents-secrets']),
    agentsSecretId: `${prefix}/relay/agents-secrets`,
    refetch: () => runAws('bash', [script], moto.endpoint, region, { PATH: env.PATH!, EDGELOG_INSTALL_ROOT: root, EDGELOG_SECRETS_GROUP: 'root', EDGELOG_SECRETS_ONCE: '1' }),
  };
}
