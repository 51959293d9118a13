// `edgelog secrets fetch` against moto's Secrets Manager with moto's IAM
// enforcement on (INITIAL_NO_AUTH_ACTION_COUNT): every request after the
// setup must carry a valid SigV4 signature from a known access key, and the
// key's user may read exactly the relay's three secrets. What a relay relies
// on at boot: the files appear with the secret's bytes, root-owned 0640 for
// the agent's group; a secret without a value yet is waited for (and taken
// as soon as the operator puts it); a secret outside the role's policy is
// refused; no value ever reaches the logs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { motoMissing, startMoto, VENV_PYTHON } from '../infra/rehearsal/moto.ts';
import { parseSecretsConfig } from '../../agent/secrets/fetch.ts';
import { signGetSecretValue } from '../../agent/secrets/aws-secrets-manager.ts';
import { defer, removeDir } from '../helpers/cleanup.ts';

const root = join(import.meta.dirname, '..', '..');
const CERT = '-----BEGIN CERTIFICATE-----\nMIIB-test-certificate-bytes\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIE-test-private-key-bytes\n-----END PRIVATE KEY-----\n';
const AGENTS = 'edge-1 0123456789abcdef0123\nedge-2 fedcba9876543210fedc\n';
const LATE = 'edge-3 late-value-put-while-waiting\n';

// Setup, unauthenticated (moto counts these): two users with keys, the relay
// reader's policy, three secrets with values, one without, one outside the policy.
const SETUP = `
import boto3, json, sys
ep, region = sys.argv[1], 'eu-west-1'
kw = dict(endpoint_url=ep, region_name=region, aws_access_key_id='x', aws_secret_access_key='x')
iam, sm = boto3.client('iam', **kw), boto3.client('secretsmanager', **kw)
arns = {}
for name, value in [('edgelog/primary/relay-tls-cert', ${JSON.stringify(CERT)}), ('edgelog/primary/relay-tls-key', ${JSON.stringify(KEY)}), ('edgelog/primary/other', 'not for relays')]:
    arns[name] = sm.create_secret(Name=name, SecretString=value)['ARN']
arns['agents'] = sm.create_secret(Name='edgelog/primary/agents-secrets')['ARN']
iam.create_user(UserName='relay')
relay = iam.create_access_key(UserName='relay')['AccessKey']
# moto evaluates IAM actions but not resource ARNs (a policy naming ARNs denies everything there), so the
# per-secret scoping is asserted on the synthesized policy (test/infra) and here the action is what differs.
iam.put_user_policy(UserName='relay', PolicyName='read-secrets', PolicyDocument=json.dumps({'Version': '2012-10-17', 'Statement': [
  {'Effect': 'Allow', 'Action': 'secretsmanager:GetSecretValue', 'Resource': '*'}]}))
iam.create_user(UserName='stranger')
stranger = iam.create_access_key(UserName='stranger')['AccessKey']
iam.put_user_policy(UserName='stranger', PolicyName='list-only', PolicyDocument=json.dumps({'Version': '2012-10-17', 'Statement': [
  {'Effect': 'Allow', 'Action': 'secretsmanager:ListSecrets', 'Resource': '*'}]}))
iam.create_user(UserName='operator')
op = iam.create_access_key(UserName='operator')['AccessKey']
iam.put_user_policy(UserName='operator', PolicyName='all', PolicyDocument=json.dumps({'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': '*', 'Resource': '*'}]}))
print(json.dumps({'relay': [relay['AccessKeyId'], relay['SecretAccessKey']], 'operator': [op['AccessKeyId'], op['SecretAccessKey']], 'stranger': [stranger['AccessKeyId'], stranger['SecretAccessKey']]}))
`;
// The calls above, each one AWS action: 4 create_secret, 3x (create_user, create_access_key, put_user_policy).
const SETUP_ACTIONS = 13;

const missing = motoMissing();

function cli(args: string[], env: NodeJS.ProcessEnv): { done: Promise<number>; out: () => string } {
  let out = '';
  const child = spawn(join(root, 'agent/cli/edgelog'), args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
  child.stderr.on('data', (b: Buffer) => { out += b.toString(); });
  const done = new Promise<number>((res) => child.on('close', (code) => res(code ?? 1)));
  return { done, out: () => out };
}

async function until(what: string, cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('secrets fetch from moto Secrets Manager with IAM enforced: files written 0640 root:group, a missing value waited for, values never logged, a key without the permission refused', { skip: missing ?? false, timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgelog-secrets-'));
  defer(t, 'remove the dir', () => removeDir(dir));
  const moto = await startMoto(join(dir, 'moto.log'), 60_000, { INITIAL_NO_AUTH_ACTION_COUNT: String(SETUP_ACTIONS) });
  defer(t, 'stop moto', () => moto.stop());
  const setup = spawnSync(VENV_PYTHON, ['-c', SETUP, moto.endpoint], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(setup.status, 0, setup.stderr);
  const keys = JSON.parse(setup.stdout.trim().split('\n').pop()!) as { relay: [string, string]; operator: [string, string]; stranger: [string, string] };
  const env = (k: [string, string]) => ({ AWS_ACCESS_KEY_ID: k[0], AWS_SECRET_ACCESS_KEY: k[1], AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: moto.endpoint });

  const gid = 65534; // nogroup: the files' group must be the one named, not root's
  const cfg = join(dir, 'secrets.yaml');
  writeFileSync(cfg, [
    'source: aws_secrets_manager',
    `group: "${gid}"`,
    'files:',
    `  - { secret: edgelog/primary/relay-tls-cert, path: ${join(dir, 'etc/tls/relay.pem')} }`,
    `  - { secret: edgelog/primary/relay-tls-key, path: ${join(dir, 'etc/tls/relay.key')} }`,
    `  - { secret: edgelog/primary/agents-secrets, path: ${join(dir, 'etc/agents.secrets')} }`,
    '',
  ].join('\n'));

  // agents-secrets has no value yet: the fetch writes the first two and waits.
  const run = cli(['secrets', 'fetch', '--config', cfg, '--wait', '120s'], env(keys.relay));
  await until('the fetch to wait for agents-secrets', () => run.out().includes('waiting for secret') && run.out().includes('agents-secrets'), 60_000).catch((e: Error) => { throw new Error(`${e.message}\n${run.out()}\n${moto.logTail(2000)}`); });
  assert.equal(readFileSync(join(dir, 'etc/tls/relay.pem'), 'utf8'), CERT);
  assert.ok(!existsSync(join(dir, 'etc/agents.secrets')));
  // The operator puts the value (signed with the operator's key: IAM is enforced for everyone now).
  const put = spawnSync(VENV_PYTHON, ['-c', `import boto3, sys
sm = boto3.client('secretsmanager', endpoint_url=sys.argv[1], region_name='eu-west-1', aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])
sm.put_secret_value(SecretId='edgelog/primary/agents-secrets', SecretString=sys.argv[4])`, moto.endpoint, keys.operator[0], keys.operator[1], AGENTS + LATE], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(put.status, 0, put.stderr);
  assert.equal(await run.done, 0, run.out());

  for (const [file, value] of [['etc/tls/relay.pem', CERT], ['etc/tls/relay.key', KEY], ['etc/agents.secrets', AGENTS + LATE]] as const) {
    const p = join(dir, file);
    assert.equal(readFileSync(p, 'utf8'), value, file);
    const st = statSync(p);
    assert.equal(st.mode & 0o777, 0o640, `${file} mode`);
    assert.equal(st.uid, 0, `${file} owner`);
    assert.equal(st.gid, gid, `${file} group`);
  }
  for (const secret of ['MIIB-test', 'MIIE-test', '0123456789abcdef', 'late-value']) assert.ok(!run.out().includes(secret), `value ${secret} logged`);

  // Again: nothing changed, nothing rewritten (mtime kept), exit 0 at once.
  const before = statSync(join(dir, 'etc/tls/relay.key')).mtimeMs;
  const again = cli(['secrets', 'fetch', '--config', cfg, '--wait', '10s'], env(keys.relay));
  assert.equal(await again.done, 0, again.out());
  assert.equal(statSync(join(dir, 'etc/tls/relay.key')).mtimeMs, before);

  // A key whose policy does not grant GetSecretValue: AccessDenied is waited for (IAM propagates slowly) until --wait, then exit 1.
  const denied = cli(['secrets', 'fetch', '--config', cfg, '--wait', '3s'], env(keys.stranger));
  assert.equal(await denied.done, 1, denied.out());
  assert.match(denied.out(), /AccessDenied/);
  // A wrong secret key: the signature does not verify.
  const forged = cli(['secrets', 'fetch', '--config', cfg, '--wait', '3s'], env([keys.relay[0], 'not-the-secret-key-not-the-secret-key']));
  assert.equal(await forged.done, 1, forged.out());
  assert.match(forged.out(), /Signature|InvalidSignature|AccessDenied|not authorized/i);
});

test('secrets.yaml errors name the key path; the Authorization header has the SigV4 form', () => {
  assert.throws(() => parseSecretsConfig('source: vault\nfiles: []\n'), /source/);
  assert.throws(() => parseSecretsConfig('source: gcp_secret_manager\nfiles: [{ secret: a, path: /x }]\n'), /project/);
  assert.throws(() => parseSecretsConfig('files:\n  - { secret: a, path: relative/x }\n'), /files\[0\]\.path/);
  assert.throws(() => parseSecretsConfig('files:\n  - { secret: a, path: /x, mode: 600 }\n'), /files\[0\]/);
  assert.deepEqual(parseSecretsConfig('files:\n  - { secret: a, path: /x }\n'), { source: 'aws_secrets_manager', group: 'edgelog', files: [{ secret: 'a', path: '/x' }] });
  // Its validity is checked by moto with IAM enforced (test above); here the form and the signed headers.
  const r = signGetSecretValue('s', 'eu-west-1', 'https://secretsmanager.eu-west-1.amazonaws.com', { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }, new Date('2026-01-02T03:04:05Z'));
  assert.match(r.headers.authorization!, /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20260102\/eu-west-1\/secretsmanager\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=[0-9a-f]{64}$/);
  assert.equal(r.body, '{"SecretId":"s"}');
});
