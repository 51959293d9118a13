// The one SASL block (today the kafka sink and each of its clusters take
// it): the TypeScript type, the reader with its cross-key rules, and the same
// rules as JSON Schema for `edgelog schema`, declared together so the schema
// refuses what the agent refuses (test/config/json-schema.test.ts).

import { ConfigError } from '../core/errors.ts';
import { join, readEnum, readMap, readOptString, readString } from './schema.ts';
import { requireFile } from './tls.ts';
import type { JsonSchema } from './json-schema.ts';
import { oauthTokenProviders, type KafkaOAuthConfig, type OAuthTokenProviderName } from '../sinks/kafka/oauth/index.ts';

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512' | 'oauthbearer';
export const saslMechanisms: readonly SaslMechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer'];
const passwordKeys = ['username', 'password', 'password_file'] as const;
const oauthKeys = ['token_provider', 'region', 'metadata_endpoint'] as const;

export interface SaslConfig {
  mechanism: SaslMechanism;
  username: string;
  /** Inline (usually `${ENV}`) password; exactly one of password / passwordFile. */
  password?: string;
  passwordFile?: string;
  /** mechanism oauthbearer: where tokens come from (no username or password then). */
  oauth?: KafkaOAuthConfig;
}

export function readSasl(raw: unknown, path: string): SaslConfig | null {
  if (raw === undefined || raw === null) return null;
  const m = readMap(raw, path, ['mechanism', ...passwordKeys, ...oauthKeys]);
  const mechanism = readEnum<SaslMechanism>(m, 'mechanism', path, saslMechanisms, 'scram-sha-512');
  if (mechanism === 'oauthbearer') {
    for (const k of passwordKeys) {
      if (m[k] !== undefined) throw new ConfigError(join(path, k), 'nothing with mechanism oauthbearer (tokens come from token_provider)');
    }
    const provider = readEnum<OAuthTokenProviderName>(m, 'token_provider', path, oauthTokenProviders, undefined as unknown as OAuthTokenProviderName);
    if (!provider) throw new ConfigError(join(path, 'token_provider'), `one of ${oauthTokenProviders.join(', ')}`);
    const region = readOptString(m, 'region', path);
    const metadataEndpoint = readOptString(m, 'metadata_endpoint', path);
    return { mechanism, username: '', oauth: { provider, ...(region ? { region } : {}), ...(metadataEndpoint ? { metadataEndpoint } : {}) } };
  }
  for (const k of oauthKeys) {
    if (m[k] !== undefined) throw new ConfigError(join(path, k), 'only with mechanism oauthbearer');
  }
  const username = readString(m, 'username', path);
  if (username === '') throw new ConfigError(join(path, 'username'), 'a non-empty user name');
  const password = readOptString(m, 'password', path);
  const passwordFile = readOptString(m, 'password_file', path);
  if (passwordFile !== undefined) requireFile(passwordFile, join(path, 'password_file'));
  if (password === undefined && passwordFile === undefined) throw new ConfigError(join(path, 'password'), 'a password (use ${ENV_VAR}) or password_file');
  if (password !== undefined && passwordFile !== undefined) throw new ConfigError(join(path, 'password_file'), 'either password or password_file, not both');
  return { mechanism, username, password, passwordFile };
}

const isOauth: JsonSchema = { properties: { mechanism: { const: 'oauthbearer' } }, required: ['mechanism'] };
const forbid = (keys: readonly string[]): JsonSchema => ({ not: { anyOf: keys.map((k) => ({ required: [k] })) } });

/** readSasl's cross-key rules as JSON Schema (the keys' own types come from the reference rows). */
export const saslRules: JsonSchema = {
  if: isOauth,
  // biome-ignore lint/suspicious/noThenProperty: `then` is the JSON Schema keyword, this object is never awaited
  then: { required: ['token_provider'], ...forbid(passwordKeys) },
  else: {
    required: ['username'],
    properties: { username: { type: 'string', minLength: 1 } },
    oneOf: [{ required: ['password'] }, { required: ['password_file'] }],
    ...forbid(oauthKeys),
  },
};
