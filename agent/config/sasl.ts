// The one SASL block (today the kafka sink and each of its clusters take
// it): the TypeScript type, the reader with its cross-key rules, and the same
// rules as JSON Schema for `edgelog schema`, declared together so the schema
// refuses what the agent refuses (test/config/json-schema.test.ts).

import { ConfigError } from '../core/errors.ts';
import { join, readEnum } from './schema.ts';
import { choice, derivedDefault, type Field, optText, section } from './declare.ts';
import { requireFile } from './tls.ts';
import type { JsonSchema } from './type-schema.ts';
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

const isOauth: JsonSchema = { properties: { mechanism: { const: 'oauthbearer' } }, required: ['mechanism'] };
const forbid = (keys: readonly string[]): JsonSchema => ({ not: { anyOf: keys.map((k) => ({ required: [k] })) } });

/** The reader's cross-key rules below as JSON Schema (the keys' own types come from their declarations). */
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

/** The block's keys, declared once: type, reader, defaults and the `sasl.*` rows of COMPONENTS.md. */
export const saslSection = section({
  mechanism: choice('mechanism', saslMechanisms, 'scram-sha-512', 'mechanism'),
  username: derivedDefault(optText('username', 'user'), '(required with sasl)'),
  password: optText('password', 'password, usually `${ENV}`; exactly one of password and password_file'),
  password_file: optText('password_file', 'file holding the password'),
  token_provider: {
    key: 'token_provider',
    type: `enum ${oauthTokenProviders.map((p) => `\`${p}\``).join(', ')}`,
    def: undefined,
    defText: '(required with oauthbearer)',
    meaning: "where OAUTHBEARER tokens come from: an MSK IAM token signed (SigV4) with the instance role's credentials from IMDSv2, or the VM's service-account token from the GCP metadata server; refreshed before expiry",
    read: (m, path) => (m.token_provider === undefined ? undefined : readEnum<OAuthTokenProviderName>(m, 'token_provider', path, oauthTokenProviders, undefined as unknown as OAuthTokenProviderName)),
  } satisfies Field<OAuthTokenProviderName | undefined>,
  region: optText('region', "`aws-msk-iam`: the cluster's region; default: the instance's region from IMDS"),
  metadata_endpoint: optText('metadata_endpoint', "the metadata server's base URL (default `http://169.254.169.254` for AWS, `http://metadata.google.internal` for GCP); for tests and proxies"),
}, (s, m, path) => {
  // Which keys go with which mechanism; the same rules as saslRules below.
  if (s.mechanism === 'oauthbearer') {
    for (const k of passwordKeys) {
      if (m[k] !== undefined) throw new ConfigError(join(path, k), 'nothing with mechanism oauthbearer (tokens come from token_provider)');
    }
    if (!s.token_provider) throw new ConfigError(join(path, 'token_provider'), `one of ${oauthTokenProviders.join(', ')}`);
    return;
  }
  for (const k of oauthKeys) {
    if (m[k] !== undefined) throw new ConfigError(join(path, k), 'only with mechanism oauthbearer');
  }
  // A username of the wrong type was already reported by its field.
  if (s.username === undefined) {
    if (m.username === undefined || m.username === null) throw new ConfigError(join(path, 'username'), 'a string (required)');
    return;
  }
  if (s.username === '') throw new ConfigError(join(path, 'username'), 'a non-empty user name');
  if (s.password_file !== undefined) requireFile(s.password_file, join(path, 'password_file'));
  if (s.password === undefined && s.password_file === undefined) throw new ConfigError(join(path, 'password'), 'a password (use ${ENV_VAR}) or password_file');
  if (s.password !== undefined && s.password_file !== undefined) throw new ConfigError(join(path, 'password_file'), 'either password or password_file, not both');
}, saslRules);

export function readSasl(raw: unknown, path: string): SaslConfig | null {
  if (raw === undefined || raw === null) return null;
  const s = saslSection.read(raw, path);
  if (s.mechanism === 'oauthbearer') {
    const oauth: KafkaOAuthConfig = { provider: s.token_provider!, ...(s.region ? { region: s.region } : {}), ...(s.metadata_endpoint ? { metadataEndpoint: s.metadata_endpoint } : {}) };
    return { mechanism: s.mechanism, username: '', oauth };
  }
  return { mechanism: s.mechanism, username: s.username ?? '', password: s.password, passwordFile: s.password_file };
}

