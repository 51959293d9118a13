// AWS Secrets Manager GetSecretValue over HTTPS with a SigV4-signed request
// (JSON 1.1 protocol: POST /, X-Amz-Target secretsmanager.GetSecretValue).
// Hand-written instead of the AWS SDK: one call, and the agent already signs
// SigV4 for MSK IAM (sinks/kafka/oauth). Credentials come from the standard
// environment variables when set (tests, non-EC2 hosts), else from the
// instance role through IMDSv2; the endpoint from AWS_ENDPOINT_URL_SECRETS_MANAGER
// or AWS_ENDPOINT_URL (the SDKs' names), else the regional one. Nothing here
// logs a value.

import { createHash, createHmac } from 'node:crypto';
import { imdsCredentials, imdsRegion, type AwsCredentials } from '../sinks/kafka/oauth/imds.ts';
import { SecretFetchError } from './errors.ts';

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const hmac = (k: Buffer | string, s: string): Buffer => createHmac('sha256', k).update(s).digest();

export interface AwsSecretsOptions {
  readonly region?: string;
  readonly endpoint?: string;
  readonly imdsEndpoint?: string;
  readonly timeoutMs?: number;
}

function envCredentials(env: NodeJS.ProcessEnv): AwsCredentials | null {
  if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) return null;
  return { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
}

/** The signed request for GetSecretValue of `secretId` (pure: tested against a known signature). */
export function signGetSecretValue(secretId: string, region: string, endpoint: string, creds: AwsCredentials, now = new Date()):
  { url: string; headers: Record<string, string>; body: string } {
  const url = new URL(endpoint);
  const body = JSON.stringify({ SecretId: secretId });
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {
    'content-type': 'application/x-amz-json-1.1',
    host: url.host,
    'x-amz-date': amzDate,
    'x-amz-target': 'secretsmanager.GetSecretValue',
    ...(creds.sessionToken ? { 'x-amz-security-token': creds.sessionToken } : {}),
  };
  const names = Object.keys(headers).sort();
  const canonical = ['POST', url.pathname || '/', '', ...names.map((n) => `${n}:${headers[n]}`), '', names.join(';'), sha256(body)].join('\n');
  const scope = `${day}/${region}/secretsmanager/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, day), region), 'secretsmanager'), 'aws4_request');
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
  delete headers.host; // fetch sets it from the URL
  return { url: url.toString(), headers, body };
}

/** Reads the current value of each secret; one call per secret. */
export function awsSecretsManager(opts: AwsSecretsOptions = {}, env: NodeJS.ProcessEnv = process.env): (secretId: string) => Promise<Buffer> {
  return async (secretId) => {
    const region = opts.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? await imdsRegion(opts).catch((e: Error) => {
      throw new SecretFetchError(`no region (set region, or AWS_REGION; IMDS: ${e.message})`, true);
    });
    const creds = envCredentials(env) ?? await imdsCredentials(opts).catch((e: Error) => {
      throw new SecretFetchError(`no AWS credentials (environment or instance role; IMDS: ${e.message})`, true);
    });
    const endpoint = opts.endpoint ?? env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? env.AWS_ENDPOINT_URL ?? `https://secretsmanager.${region}.amazonaws.com`;
    const req = signGetSecretValue(secretId, region, endpoint, creds);
    let res: Response;
    try {
      res = await fetch(req.url, { method: 'POST', headers: req.headers, body: req.body, signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000) });
    } catch (e) {
      throw new SecretFetchError(`${secretId}: ${endpoint} unreachable: ${(e as Error).message}`, true);
    }
    const text = await res.text();
    let json: { SecretString?: string; SecretBinary?: string; __type?: string; message?: string; Message?: string } = {};
    try { json = JSON.parse(text); } catch { /* an error page: reported by status below */ }
    if (!res.ok) {
      // JSON errors ({"__type": "...#ResourceNotFoundException"}), or the XML ErrorResponse IAM denials come as.
      const xml = (tag: string): string | undefined => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(text)?.[1];
      const type = (json.__type ?? '').split('#').pop() || xml('Code') || `HTTP ${res.status}`;
      const msg = json.message ?? json.Message ?? xml('Message') ?? text.slice(0, 200);
      // Not found: the operator has not put a value yet. Access denied: IAM may still be propagating. Both are waited for.
      throw new SecretFetchError(`${secretId}: ${type}: ${msg}`, type !== 'ValidationException' && type !== 'InvalidParameterException');
    }
    if (typeof json.SecretString === 'string') return Buffer.from(json.SecretString, 'utf8');
    if (typeof json.SecretBinary === 'string') return Buffer.from(json.SecretBinary, 'base64');
    throw new SecretFetchError(`${secretId}: response without SecretString or SecretBinary`, false);
  };
}
