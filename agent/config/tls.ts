// The one TLS block every component reads (like the OTel Collector's
// configtls): a server side for listeners (tcp, syslog, forward source) and
// a client side for connections out (kafka sink and its clusters, forward
// sink). Each side is declared once here (agent/config/declare.ts): its keys,
// the TypeScript type, the reader with its cross-key rules and its
// COMPONENTS.md rows; beside it the JSON Schema fragment that states the same
// rules, so `edgelog schema` refuses what the agent refuses
// (test/config/json-schema.test.ts holds them together).

import { existsSync, statSync } from 'node:fs';
import { ConfigError } from '../core/errors.ts';
import { join, readMap } from './schema.ts';
import { flag, type Infer, optText, requiredText, section } from './declare.ts';
import type { JsonSchema } from './type-schema.ts';

/**
 * The cross-key rules of the two sides (the readers' below) as JSON Schema,
 * added to each section's key-by-key schema (declare.ts): what a reader
 * throws on a well-typed map, the schema must refuse as well.
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

/** A listener's TLS: its certificate, and optionally client certificates checked against a CA. */
export const serverTlsSection = section({
  cert_file: requiredText('cert_file', 'server certificate (PEM)', '(required with tls)'),
  key_file: requiredText('key_file', 'its private key (PEM)', '(required with tls)'),
  ca_file: optText('ca_file', 'CA bundle for client certificates (required with verify_client)'),
  verify_client: flag('verify_client', false, 'require and verify client certificates'),
}, (t, _m, path) => {
  if (t.verify_client && !t.ca_file) throw new ConfigError(join(path, 'ca_file'), 'a CA file when verify_client is true');
}, serverTlsRules);

/** TLS on a connection out: the CA to trust, an optional client certificate, the name to verify. */
export const clientTlsSection = section({
  enabled: flag('enabled', true, '`false` turns the section off'),
  ca_file: optText('ca_file', 'CA bundle (PEM)'),
  cert_file: optText('cert_file', 'client certificate (with key_file)'),
  key_file: optText('key_file', 'client key (with cert_file)'),
  insecure_skip_verify: flag('insecure_skip_verify', false, "do not verify the peer's certificate (tests only)"),
  server_name: optText('server_name', 'SNI and the name verified; default: the host connected to'),
}, (t, _m, path) => {
  if (!!t.cert_file !== !!t.key_file) {
    throw new ConfigError(join(path, t.cert_file ? 'key_file' : 'cert_file'), 'cert_file and key_file together (client certificate authentication)');
  }
}, clientTlsRules);

export type ServerTls = Infer<typeof serverTlsSection>;
export type ClientTls = Infer<typeof clientTlsSection>;

/** `tls:` of a listener; absent, null or `false` = plain TCP. */
export function readServerTls(raw: unknown, path: string): ServerTls | null {
  if (raw === undefined || raw === null || raw === false) return null;
  return serverTlsSection.read(raw, path);
}

/**
 * `tls:` of a connection out; absent, null, `false` or `enabled: false` = no
 * TLS (the other keys then unread, as before); `true` = TLS with the system CAs.
 */
export function readClientTls(raw: unknown, path: string): ClientTls | null {
  if (raw === undefined || raw === null || raw === false) return null;
  if (typeof raw === 'object' && !Array.isArray(raw) && (raw as Record<string, unknown>).enabled === false) {
    readMap(raw, path, clientTlsSection.keys);
    return null;
  }
  return clientTlsSection.read(raw === true ? {} : raw, path);
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

