// Authentication of the forward protocol, version 2 (PROTOCOL.md section 6.1).
// The relay sends a random nonce (AUTH_CHALLENGE) after HELLO; the agent
// answers with HMAC-SHA256 keyed by its secret over a fixed label, the nonce,
// its session id and its agent id (AUTH_RESPONSE). The secret never crosses
// the wire, a recorded response is useless against another nonce, and the
// proof binds the session id to the identity that opened it.
//
// Secrets: a per-agent table (file of `agent_id secret` lines) and/or one
// shared key per site. A per-agent entry wins over the site key, so an
// agent with its own secret cannot be impersonated by a holder of the site key.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../core/errors.ts';
import { NONCE_BYTES } from './constants.ts';

const LABEL = Buffer.from('edgelog-forward-auth-v2\u0000', 'utf8');

export function newNonce(): Buffer { return randomBytes(NONCE_BYTES); }

/** HMAC-SHA256(secret, label || nonce || u64 session_id || agent_id). */
export function authProof(secret: Buffer, nonce: Buffer, sessionId: bigint, agentId: string): Buffer {
  const sid = Buffer.allocUnsafe(8);
  sid.writeBigUInt64BE(sessionId, 0);
  return createHmac('sha256', secret).update(LABEL).update(nonce).update(sid).update(agentId, 'utf8').digest();
}

export function proofMatches(expected: Buffer, got: Buffer): boolean {
  return expected.length === got.length && timingSafeEqual(expected, got);
}

/** A session id as logs show it: the last 4 hex digits only (the full id is what a hijacker would need). */
export function sessionTag(sessionId: bigint): string {
  return `…${sessionId.toString(16).padStart(16, '0').slice(-4)}`;
}

/** The relay's credential table. */
export class AgentSecrets {
  private readonly perAgent: Map<string, Buffer>;
  private readonly siteKey: Buffer | null;
  constructor(perAgent: Map<string, Buffer>, siteKey: Buffer | null) {
    this.perAgent = perAgent;
    this.siteKey = siteKey;
  }

  get size(): number { return this.perAgent.size + (this.siteKey ? 1 : 0); }

  /** The secret that agentId must prove, or null when it has none (the handshake still runs, then fails). */
  secretFor(agentId: string): Buffer | null {
    return this.perAgent.get(agentId) ?? this.siteKey;
  }
}

/** Reads `agent_id secret` lines (blank lines and `#` comments skipped). The error names the line, never the secret. */
export function parseSecretsFile(text: string, path: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+)\s+(\S.*)$/.exec(line);
    if (!m) throw new ConfigError(path, `line ${i + 1}: "agent_id secret"`);
    if (m[2]!.trim().length < 16) throw new ConfigError(path, `line ${i + 1}: a secret of at least 16 characters for agent ${m[1]}`);
    out.set(m[1]!, Buffer.from(m[2]!.trim(), 'utf8'));
  }
  return out;
}

export function readSecretFile(file: string, path: string): string {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch { throw new ConfigError(path, 'a readable file', file); }
  return text;
}

/** A single secret (agent side, or a site key) from a file: trailing newline removed, at least 16 characters. */
export function loadSecret(file: string | undefined, inline: string | undefined, path: string): Buffer {
  const s = (file !== undefined ? readSecretFile(file, path) : inline ?? '').replace(/\r?\n$/, '');
  if (s.length < 16) throw new ConfigError(path, 'a secret of at least 16 characters');
  return Buffer.from(s, 'utf8');
}
