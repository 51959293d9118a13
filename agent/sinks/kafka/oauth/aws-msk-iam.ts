// SASL/OAUTHBEARER token for Amazon MSK IAM auth: a SigV4-presigned URL for
// the action kafka-cluster:Connect on kafka.<region>.amazonaws.com, signed
// for service `kafka-cluster` with the instance role's credentials (read from
// IMDSv2), base64url without padding. MSK checks the signature against IAM
// and the role's kafka-cluster:* permissions; no secret is stored anywhere.
// (Wire format as AWS's aws-msk-iam-sasl-signer libraries produce it.)

import { createHash, createHmac } from 'node:crypto';
import { imdsCredentials, imdsRegion, type AwsCredentials } from './imds.ts';

export const MSK_TOKEN_TTL_SECONDS = 900;

const enc = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const hmac = (k: Buffer | string, s: string): Buffer => createHmac('sha256', k).update(s).digest();

/** The presigned-URL token for `region` with these credentials at time `now`. */
export function mskIamToken(region: string, creds: AwsCredentials, now = new Date()): { token: string; expiresAt: number } {
  const host = `kafka.${region}.amazonaws.com`;
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${region}/kafka-cluster/aws4_request`;
  const params: [string, string][] = [
    ['Action', 'kafka-cluster:Connect'],
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', `${creds.accessKeyId}/${scope}`],
    ['X-Amz-Date', amzDate],
    ['X-Amz-Expires', String(MSK_TOKEN_TTL_SECONDS)],
    ...(creds.sessionToken ? [['X-Amz-Security-Token', creds.sessionToken] as [string, string]] : []),
    ['X-Amz-SignedHeaders', 'host'],
  ];
  const query = params.map(([k, v]) => `${enc(k)}=${enc(v)}`).sort().join('&');
  // Payload hash of the empty body, as botocore's SigV4QueryAuth (which AWS's Python MSK signer uses) signs it.
  const canonical = ['GET', '/', query, `host:${host}`, '', 'host', sha256('')].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, day), region), 'kafka-cluster'), 'aws4_request');
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  const url = `https://${host}/?${query}&X-Amz-Signature=${signature}&User-Agent=${enc('edgelog-msk-iam')}`;
  return { token: Buffer.from(url, 'utf8').toString('base64url'), expiresAt: now.getTime() + MSK_TOKEN_TTL_SECONDS * 1000 };
}

/**
 * A token provider for the Kafka clients: fresh credentials from IMDSv2 and a
 * new token whenever the cached one is within a minute of expiry.
 */
export function mskIamTokenProvider(opts: { region?: string; imdsEndpoint?: string; timeoutMs?: number } = {}): () => Promise<string> {
  let cached: { token: string; expiresAt: number } | null = null;
  return async () => {
    if (cached && cached.expiresAt - Date.now() > 60_000) return cached.token;
    const region = opts.region ?? (await imdsRegion(opts));
    cached = mskIamToken(region, await imdsCredentials(opts));
    return cached.token;
  };
}
