// SASL/OAUTHBEARER token sources for the Kafka sink (`sasl.mechanism:
// oauthbearer`, `sasl.token_provider`). Tokens are fetched from the cloud's
// instance metadata at connect time and cached until a minute before expiry;
// the config holds no secret.

import { mskIamTokenProvider } from './aws-msk-iam.ts';
import { gcpTokenProvider } from './gcp-metadata.ts';

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
  return c.provider === 'aws-msk-iam'
    ? mskIamTokenProvider({ ...(c.region ? { region: c.region } : {}), ...(c.metadataEndpoint ? { imdsEndpoint: c.metadataEndpoint } : {}) })
    : gcpTokenProvider(c.metadataEndpoint ? { metadataEndpoint: c.metadataEndpoint } : {});
}
