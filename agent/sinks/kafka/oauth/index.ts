// SASL/OAUTHBEARER token sources for the Kafka sink (`sasl.mechanism:
// oauthbearer`, `sasl.token_provider`). Tokens are fetched from the cloud's
// instance metadata at connect time and cached until a minute before expiry;
// the config holds no secret.
//
// A provider's module is loaded on the first token request: config validation
// and every agent without OAUTHBEARER load only this file (the providers and
// the crypto and HTTP modules they use cost about 5 MB of RSS imported into a
// bare Node process).

export type OAuthTokenProviderName = 'aws-msk-iam' | 'gcp-metadata';
export const oauthTokenProviders: readonly OAuthTokenProviderName[] = ['aws-msk-iam', 'gcp-metadata'];

export interface KafkaOAuthConfig {
  provider: OAuthTokenProviderName;
  /** AWS region of the MSK cluster; default: the instance's region from IMDS. */
  region?: string;
  /** Metadata server base URL (tests; default the cloud's link-local address or its env override). */
  metadataEndpoint?: string;
}

export function oauthTokenProvider(c: KafkaOAuthConfig): () => Promise<string> {
  const create = async (): Promise<() => Promise<string>> => c.provider === 'aws-msk-iam'
    ? (await import('./aws-msk-iam.ts')).mskIamTokenProvider({ ...(c.region ? { region: c.region } : {}), ...(c.metadataEndpoint ? { imdsEndpoint: c.metadataEndpoint } : {}) })
    : (await import('./gcp-metadata.ts')).gcpTokenProvider(c.metadataEndpoint ? { metadataEndpoint: c.metadataEndpoint } : {});
  // One provider per config, created once: it holds the token cache.
  let provider: Promise<() => Promise<string>> | null = null;
  return async () => {
    // A module that failed to load is tried again on the next token request.
    provider ??= create().catch((err: unknown) => { provider = null; throw err; });
    return (await provider)();
  };
}
