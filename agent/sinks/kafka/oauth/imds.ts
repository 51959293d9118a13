// EC2 instance metadata, IMDSv2 only (the launch template requires tokens):
// PUT a session token, then GET with it. Used for the instance role's
// temporary credentials and the region; nothing here is logged.

export interface AwsCredentials { accessKeyId: string; secretAccessKey: string; sessionToken?: string }

const DEFAULT_IMDS = 'http://169.254.169.254';

async function imdsGet(path: string, opts: { imdsEndpoint?: string; timeoutMs?: number }): Promise<string> {
  const base = opts.imdsEndpoint ?? process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT ?? DEFAULT_IMDS;
  const signal = AbortSignal.timeout(opts.timeoutMs ?? 2_000);
  const t = await fetch(new URL('/latest/api/token', base), { method: 'PUT', headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '300' }, signal });
  if (!t.ok) throw new Error(`IMDSv2 token: HTTP ${t.status}`);
  const token = await t.text();
  const r = await fetch(new URL(path, base), { headers: { 'X-aws-ec2-metadata-token': token }, signal });
  if (!r.ok) throw new Error(`IMDS ${path}: HTTP ${r.status}`);
  return r.text();
}

export async function imdsRegion(opts: { imdsEndpoint?: string; timeoutMs?: number } = {}): Promise<string> {
  return (await imdsGet('/latest/meta-data/placement/region', opts)).trim();
}

/** The instance profile role's temporary credentials. */
export async function imdsCredentials(opts: { imdsEndpoint?: string; timeoutMs?: number } = {}): Promise<AwsCredentials> {
  const role = (await imdsGet('/latest/meta-data/iam/security-credentials/', opts)).split('\n')[0]!.trim();
  if (!role) throw new Error('IMDS: no instance profile role');
  const c = JSON.parse(await imdsGet(`/latest/meta-data/iam/security-credentials/${encodeURIComponent(role)}`, opts)) as Record<string, string>;
  if (!c.AccessKeyId || !c.SecretAccessKey) throw new Error('IMDS: credentials without AccessKeyId/SecretAccessKey');
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, ...(c.Token ? { sessionToken: c.Token } : {}) };
}
