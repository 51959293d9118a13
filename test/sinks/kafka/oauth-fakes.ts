// The token sources of SASL/OAUTHBEARER, faked at the HTTP boundary only (the
// sink's real providers talk to them): one loopback server that poses as EC2
// IMDSv2 (instance-role credentials) and as the GCP metadata server (an
// access token, here an RS256 JWT signed with a key made per run), plus the
// JWKS endpoint the broker verifies those JWTs against.

import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeCloudOptions {
  /** Instance-role credentials IMDS hands out. */
  aws?: { region: string; accessKeyId: string; secretAccessKey: string; sessionToken: string };
  /** Service account email and access-token lifetime (seconds) of the GCP metadata server. */
  gcp?: { email: string; ttlSeconds: number; expired?: boolean };
  /** Sign GCP access tokens with this key instead of the one the JWKS publishes (a forged token). */
  foreignKey?: boolean;
}

export interface FakeCloud {
  /** What the server hands out; tests change it between sinks (a wrong secret, an expired token). */
  readonly options: FakeCloudOptions;
  /** Base URL for `sasl.metadata_endpoint`. */
  readonly endpoint: string;
  /** JWKS URL for the broker (`oauth.gcp.jwksUrl`). */
  readonly jwksUrl: string;
  /** Tokens / credentials handed out so far (refresh shows as a count above 1). */
  readonly issued: { awsCredentials: number; gcpTokens: number };
  /** Expiry (ms since epoch) of every GCP access token handed out, in order. */
  readonly gcpExpiries: number[];
  close(): Promise<void>;
}

const b64u = (o: unknown): string => Buffer.from(JSON.stringify(o), 'utf8').toString('base64url');

function rs256(key: KeyObject, kid: string, claims: Record<string, unknown>): string {
  const head = `${b64u({ alg: 'RS256', typ: 'JWT', kid })}.${b64u(claims)}`;
  return `${head}.${sign('sha256', Buffer.from(head), key).toString('base64url')}`;
}

export async function startFakeCloud(o: FakeCloudOptions): Promise<FakeCloud> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const kid = randomBytes(6).toString('hex');
  const issued = { awsCredentials: 0, gcpTokens: 0 };
  const gcpExpiries: number[] = [];
  const imdsSession = randomBytes(12).toString('hex');
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '';
    if (url === '/jwks') {
      res.setHeader('content-type', 'application/json');
      return void res.end(JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] }));
    }
    if (o.aws && url.startsWith('/latest/')) {
      if (req.method === 'PUT' && url === '/latest/api/token') return void res.end(imdsSession);
      if (req.headers['x-aws-ec2-metadata-token'] !== imdsSession) { res.statusCode = 401; return void res.end(); }
      if (url === '/latest/meta-data/placement/region') return void res.end(o.aws.region);
      if (url === '/latest/meta-data/iam/security-credentials/') return void res.end('edgelog-relay');
      if (url === '/latest/meta-data/iam/security-credentials/edgelog-relay') {
        issued.awsCredentials++;
        return void res.end(JSON.stringify({ Code: 'Success', AccessKeyId: o.aws.accessKeyId, SecretAccessKey: o.aws.secretAccessKey, Token: o.aws.sessionToken }));
      }
    }
    if (o.gcp && url.startsWith('/computeMetadata/v1/instance/service-accounts/default/')) {
      if (req.headers['metadata-flavor'] !== 'Google') { res.statusCode = 403; return void res.end(); }
      if (url.endsWith('/email')) return void res.end(o.gcp.email);
      if (url.endsWith('/token')) {
        issued.gcpTokens++;
        const now = Math.floor(Date.now() / 1000);
        const exp = o.gcp.expired ? now - 600 : now + o.gcp.ttlSeconds;
        gcpExpiries.push(exp * 1000);
        const jwt = rs256(o.foreignKey ? other : privateKey, kid, { sub: o.gcp.email, iat: now - (o.gcp.expired ? 1200 : 0), exp, scope: 'kafka' });
        return void res.end(JSON.stringify({ access_token: jwt, expires_in: o.gcp.ttlSeconds, token_type: 'Bearer' }));
      }
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    options: o, endpoint, jwksUrl: `${endpoint}/jwks`, issued, gcpExpiries,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
