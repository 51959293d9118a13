// SASL/OAUTHBEARER token for Google Cloud Managed Service for Apache Kafka:
// the VM's service-account access token from the metadata server, wrapped as
// the JWT-shaped token the service expects (header alg GOOG_OAUTH2_TOKEN,
// claims sub = the service account email, scope kafka; the access token in
// the signature position), as Google's GcpLoginCallbackHandler builds it.
// Source: Google's client-side handler com.google.cloud.hosted.kafka.auth.
// GcpLoginCallbackHandler (managed-kafka-auth-login-handler) and the
// kafka-auth-local-server in github.com/googleapis/managedkafka; the service
// refuses a bare access token over OAUTHBEARER. The embedded test broker
// checks this shape and the JWT inside (agent/embedded-kafka/README.md).

const DEFAULT_METADATA = 'http://metadata.google.internal';

async function metadataGet(path: string, opts: { metadataEndpoint?: string; timeoutMs?: number }): Promise<string> {
  const base = opts.metadataEndpoint ?? (process.env.GCE_METADATA_HOST ? `http://${process.env.GCE_METADATA_HOST}` : DEFAULT_METADATA);
  const r = await fetch(new URL(`/computeMetadata/v1/instance/service-accounts/default/${path}`, base), {
    headers: { 'Metadata-Flavor': 'Google' },
    signal: AbortSignal.timeout(opts.timeoutMs ?? 2_000),
  });
  if (!r.ok) throw new Error(`GCP metadata ${path}: HTTP ${r.status}`);
  return r.text();
}

const b64u = (o: unknown): string => Buffer.from(JSON.stringify(o), 'utf8').toString('base64url');

export function gcpKafkaToken(email: string, accessToken: string, expiresAtMs: number, nowMs = Date.now()): string {
  const header = { typ: 'JWT', alg: 'GOOG_OAUTH2_TOKEN' };
  const claims = { exp: Math.floor(expiresAtMs / 1000), iat: Math.floor(nowMs / 1000), iss: 'Google', scope: 'kafka', sub: email };
  return `${b64u(header)}.${b64u(claims)}.${Buffer.from(accessToken, 'utf8').toString('base64url')}`;
}

export function gcpTokenProvider(opts: { metadataEndpoint?: string; timeoutMs?: number } = {}): () => Promise<string> {
  let cached: { token: string; expiresAt: number } | null = null;
  return async () => {
    if (cached && cached.expiresAt - Date.now() > 60_000) return cached.token;
    const email = (await metadataGet('email', opts)).trim();
    const t = JSON.parse(await metadataGet('token', opts)) as { access_token?: string; expires_in?: number };
    if (!t.access_token) throw new Error('GCP metadata: token response without access_token');
    const expiresAt = Date.now() + (t.expires_in ?? 300) * 1000;
    cached = { token: gcpKafkaToken(email, t.access_token, expiresAt), expiresAt };
    return cached.token;
  };
}
