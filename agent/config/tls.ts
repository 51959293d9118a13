// The one TLS block every component reads (like the OTel Collector's
// configtls): a server side for listeners (tcp, syslog, forward source) and
// a client side for connections out (kafka sink and its clusters, forward
// sink). Each side is declared once here: its keys, the TypeScript type, the
// reader with its cross-key rules, and the JSON Schema fragment that states
// the same rules, so `edgelog schema` refuses what the agent refuses
// (test/config/json-schema.test.ts holds them together).

import { existsSync, statSync } from 'node:fs';
import { ConfigError } from '../core/errors.ts';
import { join, readBool, readMap, readOptString, readString } from './schema.ts';
import type { JsonSchema } from './json-schema.ts';

/** A listener's TLS: its certificate, and optionally client certificates checked against a CA. */
export interface ServerTls {
  cert_file: string;
  key_file: string;
  /** CA bundle for verifying client certificates (required with verify_client). */
  ca_file?: string;
  verify_client: boolean;
}

/** TLS on a connection out: the CA to trust, an optional client certificate, the name to verify. */
export interface ClientTls {
  ca_file?: string;
  cert_file?: string;
  key_file?: string;
  /** SNI and the certificate name checked, when it differs from the host connected to. */
  server_name?: string;
  /** Do not verify the peer's certificate (tests only). */
  insecure_skip_verify: boolean;
}

export const serverTlsKeys = ['cert_file', 'key_file', 'ca_file', 'verify_client'] as const;
export const clientTlsKeys = ['enabled', 'ca_file', 'cert_file', 'key_file', 'insecure_skip_verify', 'server_name'] as const;

/** `tls:` of a listener; absent, null or `false` = plain TCP. */
export function readServerTls(raw: unknown, path: string): ServerTls | null {
  if (raw === undefined || raw === null || raw === false) return null;
  const m = readMap(raw, path, serverTlsKeys);
  const t: ServerTls = {
    cert_file: readString(m, 'cert_file', path),
    key_file: readString(m, 'key_file', path),
    verify_client: readBool(m, 'verify_client', path, false),
  };
  const ca = readOptString(m, 'ca_file', path);
  if (ca !== undefined) t.ca_file = ca;
  if (t.verify_client && !t.ca_file) throw new ConfigError(join(path, 'ca_file'), 'a CA file when verify_client is true');
  return t;
}

/**
 * `tls:` of a connection out; absent, null, `false` or `enabled: false` = no
 * TLS; `true` = TLS with the system CAs. A client certificate comes as
 * cert_file and key_file together.
 */
export function readClientTls(raw: unknown, path: string): ClientTls | null {
  if (raw === undefined || raw === null || raw === false) return null;
  const m = raw === true ? {} : readMap(raw, path, clientTlsKeys);
  if (!readBool(m, 'enabled', path, true)) return null;
  const t: ClientTls = { insecure_skip_verify: readBool(m, 'insecure_skip_verify', path, false) };
  for (const k of ['ca_file', 'cert_file', 'key_file', 'server_name'] as const) {
    const v = readOptString(m, k, path);
    if (v !== undefined) t[k] = v;
  }
  if (!!t.cert_file !== !!t.key_file) {
    throw new ConfigError(join(path, t.cert_file ? 'key_file' : 'cert_file'), 'cert_file and key_file together (client certificate authentication)');
  }
  return t;
}

/** Checks the block's files are there now (components that refuse a config naming a missing file, not at first connect). */
export function requireTlsFiles(t: ClientTls | ServerTls, path: string): void {
  for (const k of ['ca_file', 'cert_file', 'key_file'] as const) {
    const f = t[k];
    if (f !== undefined) requireFile(f, join(path, k));
  }
}

/** Throws naming `path` unless `file` is a regular file now. */
export function requireFile(file: string, path: string): void {
  let ok = false;
  try { ok = existsSync(file) && statSync(file).isFile(); } catch { ok = false; }
  if (!ok) throw new ConfigError(path, 'a path to a readable file', file);
}

/**
 * The cross-key rules above as JSON Schema, added to the key-by-key schema
 * the reference rows give (agent/config/json-schema.ts): what a reader throws
 * on a well-typed map, the schema must refuse as well.
 */
export const serverTlsRules: JsonSchema = {
  required: ['cert_file', 'key_file'],
  // biome-ignore lint/suspicious/noThenProperty: `then` is the JSON Schema keyword, this object is never awaited
  if: { properties: { verify_client: { const: true } }, required: ['verify_client'] }, then: { required: ['ca_file'] },
};

export const clientTlsRules: JsonSchema = {
  // `enabled: false` turns the block off before anything else is read.
  anyOf: [
    { properties: { enabled: { const: false } }, required: ['enabled'] },
    { dependentRequired: { cert_file: ['key_file'], key_file: ['cert_file'] } },
  ],
};
