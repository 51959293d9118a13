// TLS and SASL settings as both engines take them: Node's tls options (both
// clients hand them to tls.connect) and the SASL password read once here.

import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { KafkaSinkConfig, SaslMechanism } from '../config.ts';
import { oauthTokenProvider } from '../oauth/index.ts';

export function tlsOptions(cfg: KafkaSinkConfig): ConnectionOptions | undefined {
  const t = cfg.tls;
  if (!t) return undefined;
  return {
    ca: t.caFile ? [readFileSync(t.caFile)] : undefined,
    cert: t.certFile ? readFileSync(t.certFile) : undefined,
    key: t.keyFile ? readFileSync(t.keyFile) : undefined,
    rejectUnauthorized: !t.insecureSkipVerify,
    servername: t.serverName,
  };
}

export interface SaslCredentials { mechanism: SaslMechanism; username: string; password: string }

/** For mechanism oauthbearer: the function both engines call for a token at each authentication. */
export function saslTokenProvider(cfg: KafkaSinkConfig): (() => Promise<string>) | undefined {
  return cfg.sasl?.oauth ? oauthTokenProvider(cfg.sasl.oauth) : undefined;
}

export function saslCredentials(cfg: KafkaSinkConfig): SaslCredentials | undefined {
  const s = cfg.sasl;
  if (!s || s.oauth) return undefined;
  // A password file usually ends with a newline the password does not contain.
  const password = s.password ?? readFileSync(s.passwordFile!, 'utf8').replace(/\r?\n$/, '');
  return { mechanism: s.mechanism, username: s.username, password };
}
