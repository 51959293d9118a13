// Google Secret Manager: GET .../secrets/<name>/versions/latest:access with
// the VM service account's access token from the metadata server (the same
// source the Kafka sink's gcp-metadata token provider uses). The endpoint can
// be overridden (GCP_SECRET_MANAGER_ENDPOINT) for tests and private endpoints.

import { SecretFetchError } from './errors.ts';

export interface GcpSecretsOptions {
  readonly project: string;
  readonly endpoint?: string;
  readonly metadataEndpoint?: string;
  readonly timeoutMs?: number;
}

async function accessToken(opts: GcpSecretsOptions, env: NodeJS.ProcessEnv): Promise<string> {
  const base = opts.metadataEndpoint ?? (env.GCE_METADATA_HOST ? `http://${env.GCE_METADATA_HOST}` : 'http://metadata.google.internal');
  let r: Response;
  try {
    r = await fetch(new URL('/computeMetadata/v1/instance/service-accounts/default/token', base), {
      headers: { 'Metadata-Flavor': 'Google' }, signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000),
    });
  } catch (e) {
    throw new SecretFetchError(`GCP metadata server unreachable: ${(e as Error).message}`, true);
  }
  if (!r.ok) throw new SecretFetchError(`GCP metadata token: HTTP ${r.status}`, true);
  const t = (await r.json()) as { access_token?: string };
  if (!t.access_token) throw new SecretFetchError('GCP metadata token: no access_token', true);
  return t.access_token;
}

export function gcpSecretManager(opts: GcpSecretsOptions, env: NodeJS.ProcessEnv = process.env): (name: string) => Promise<Buffer> {
  return async (name) => {
    const token = await accessToken(opts, env);
    const base = opts.endpoint ?? env.GCP_SECRET_MANAGER_ENDPOINT ?? 'https://secretmanager.googleapis.com';
    const url = new URL(`/v1/projects/${encodeURIComponent(opts.project)}/secrets/${encodeURIComponent(name)}/versions/latest:access`, base);
    let r: Response;
    try {
      r = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000) });
    } catch (e) {
      throw new SecretFetchError(`${name}: ${base} unreachable: ${(e as Error).message}`, true);
    }
    const text = await r.text();
    if (!r.ok) {
      let status = `HTTP ${r.status}`;
      try { status = (JSON.parse(text) as { error?: { status?: string } }).error?.status ?? status; } catch { /* not JSON */ }
      // NOT_FOUND (no version yet) and PERMISSION_DENIED (binding propagating) are waited for.
      throw new SecretFetchError(`${name}: ${status}`, r.status !== 400);
    }
    const data = (JSON.parse(text) as { payload?: { data?: string } }).payload?.data;
    if (typeof data !== 'string') throw new SecretFetchError(`${name}: response without payload.data`, false);
    return Buffer.from(data, 'base64');
  };
}
