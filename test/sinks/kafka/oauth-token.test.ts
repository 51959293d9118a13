// SASL/OAUTHBEARER token sources, faked at the HTTP boundary only: a local
// server poses as EC2 IMDSv2 and as the GCP metadata server. The MSK IAM
// token's SigV4 signature is checked against botocore's own presigner (an
// independent implementation), when the rehearsal venv has it.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { mskIamToken, mskIamTokenProvider } from '../../../agent/sinks/kafka/oauth/aws-msk-iam.ts';
import { gcpTokenProvider } from '../../../agent/sinks/kafka/oauth/gcp-metadata.ts';
import { validateKafkaSink } from '../../../agent/sinks/kafka/config.ts';
import { ConfigError } from '../../../agent/core/errors.ts';

async function fakeMetadata(t: import('node:test').TestContext, handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const creds = { accessKeyId: 'ASIAEXAMPLEROLE', secretAccessKey: 'instance-role-secret', sessionToken: 'session/token+value=' };

test('MSK IAM: credentials come from IMDSv2 (session token first), the token is a presigned kafka-cluster:Connect URL', async (t) => {
  const seen: string[] = [];
  const endpoint = await fakeMetadata(t, (req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (req.method === 'PUT' && req.url === '/latest/api/token') return void res.end('imds-session');
    // IMDSv2 only: a GET without the session token is refused, as on the relays' launch template.
    if (req.headers['x-aws-ec2-metadata-token'] !== 'imds-session') { res.statusCode = 401; return void res.end(); }
    if (req.url === '/latest/meta-data/placement/region') return void res.end('us-west-2');
    if (req.url === '/latest/meta-data/iam/security-credentials/') return void res.end('edgelog-prod-primary-relay');
    if (req.url === '/latest/meta-data/iam/security-credentials/edgelog-prod-primary-relay') {
      return void res.end(JSON.stringify({ Code: 'Success', AccessKeyId: creds.accessKeyId, SecretAccessKey: creds.secretAccessKey, Token: creds.sessionToken }));
    }
    res.statusCode = 404; res.end();
  });
  const token = await mskIamTokenProvider({ imdsEndpoint: endpoint })();
  const url = new URL(Buffer.from(token, 'base64url').toString('utf8'));
  assert.equal(url.host, 'kafka.us-west-2.amazonaws.com');
  assert.equal(url.searchParams.get('Action'), 'kafka-cluster:Connect');
  assert.match(url.searchParams.get('X-Amz-Credential')!, /^ASIAEXAMPLEROLE\/\d{8}\/us-west-2\/kafka-cluster\/aws4_request$/);
  assert.equal(url.searchParams.get('X-Amz-Security-Token'), creds.sessionToken);
  assert.equal(url.searchParams.get('X-Amz-Expires'), '900');
  assert.ok(!token.includes('='), 'base64url without padding');
  assert.ok(!Buffer.from(token, 'base64url').toString().includes(creds.secretAccessKey), 'the secret key never leaves the host');
  assert.equal(seen[0], 'PUT /latest/api/token');
});

const python = join(import.meta.dirname, '..', '..', '..', '.cache', 'moto-venv', 'bin', 'python');
test('MSK IAM: the SigV4 signature equals botocore\'s presigned URL for the same request', { skip: existsSync(python) ? false : 'no botocore (.cache/moto-venv, made by .ci/setup.sh)' }, () => {
  const now = new Date('2026-12-04T10:00:00Z');
  const url = new URL(Buffer.from(mskIamToken('us-east-1', creds, now).token, 'base64url').toString('utf8'));
  const py = `
import sys, datetime
from unittest import mock
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
req = AWSRequest(method='GET', url='https://kafka.us-east-1.amazonaws.com/', params={'Action': 'kafka-cluster:Connect'})
with mock.patch('botocore.auth.get_current_datetime', return_value=datetime.datetime(2026, 12, 4, 10, 0, 0)):
    SigV4QueryAuth(Credentials(sys.argv[1], sys.argv[2], sys.argv[3]), 'kafka-cluster', 'us-east-1', expires=900).add_auth(req)
from urllib.parse import urlparse, parse_qs
print(parse_qs(urlparse(req.url).query)['X-Amz-Signature'][0])
`;
  const r = spawnSync(python, ['-c', py, creds.accessKeyId, creds.secretAccessKey, creds.sessionToken], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(url.searchParams.get('X-Amz-Signature'), r.stdout.trim());
});

test('GCP: the access token comes from the metadata server (Metadata-Flavor required), wrapped for Managed Kafka', async (t) => {
  const endpoint = await fakeMetadata(t, (req, res) => {
    if (req.headers['metadata-flavor'] !== 'Google') { res.statusCode = 403; return void res.end(); }
    if (req.url === '/computeMetadata/v1/instance/service-accounts/default/email') return void res.end('relay@edgelog-prod.iam.gserviceaccount.com');
    if (req.url === '/computeMetadata/v1/instance/service-accounts/default/token') return void res.end(JSON.stringify({ access_token: 'ya29.fake-access', expires_in: 3599, token_type: 'Bearer' }));
    res.statusCode = 404; res.end();
  });
  const token = await gcpTokenProvider({ metadataEndpoint: endpoint })();
  const [h, c, sig] = token.split('.');
  assert.deepEqual(JSON.parse(Buffer.from(h!, 'base64url').toString()), { typ: 'JWT', alg: 'GOOG_OAUTH2_TOKEN' });
  const claims = JSON.parse(Buffer.from(c!, 'base64url').toString());
  assert.equal(claims.sub, 'relay@edgelog-prod.iam.gserviceaccount.com');
  assert.equal(claims.scope, 'kafka');
  assert.ok(claims.exp > claims.iat);
  assert.equal(Buffer.from(sig!, 'base64url').toString(), 'ya29.fake-access');
});

test('config: oauthbearer takes a token_provider and refuses a username/password', () => {
  for (const engine of ['kafkajs', 'platformatic']) {
    const cfg = validateKafkaSink({ engine, brokers: ['b-1:9098'], tls: true, sasl: { mechanism: 'oauthbearer', token_provider: 'aws-msk-iam', region: 'us-east-1' } }, 'sinks.k');
    assert.deepEqual(cfg.sasl?.oauth, { provider: 'aws-msk-iam', region: 'us-east-1' });
  }
  assert.throws(() => validateKafkaSink({ brokers: ['b:1'], sasl: { mechanism: 'oauthbearer', token_provider: 'aws-msk-iam', password: 'x' } }, 'sinks.k'),
    (e: unknown) => e instanceof ConfigError && e.path === 'sinks.k.sasl.password');
  assert.throws(() => validateKafkaSink({ brokers: ['b:1'], sasl: { mechanism: 'oauthbearer' } }, 'sinks.k'),
    (e: unknown) => e instanceof ConfigError && e.path === 'sinks.k.sasl.token_provider');
  assert.throws(() => validateKafkaSink({ brokers: ['b:1'], sasl: { mechanism: 'plain', username: 'u', password: 'p', token_provider: 'gcp-metadata' } }, 'sinks.k'),
    (e: unknown) => e instanceof ConfigError && e.path === 'sinks.k.sasl.token_provider');
});
