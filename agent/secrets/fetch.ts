// `edgelog secrets fetch`: reads the secrets a node needs (a relay's TLS
// certificate and key, its agents' secrets file) from the cloud's secret
// store and writes them as files the agent reads, before the agent starts.
// Runs as a privileged ExecStartPre=+ step (systemd drop-in written by the
// boot script, agent/install/cloud-init.ts), so the agent itself never holds
// cloud credentials for secrets or write access to /etc/edgelog.
//
// A secret without a value yet (the operator puts it after `cdktf deploy`),
// or a role whose permission is still propagating, is waited for with
// backoff, one log line per attempt naming the secret and the error (never
// the value); a file is replaced atomically (temp file + rename), root-owned,
// group-readable by the agent's group (0640), and only when its bytes change.

import { chownSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, isAbsolute } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from '../core/errors.ts';
import { readEnum, readMap, readOptString, readString } from '../config/schema.ts';
import type { Logger } from '../observe/log.ts';
import { awsSecretsManager } from './aws-secrets-manager.ts';
import { gcpSecretManager } from './gcp-secret-manager.ts';
import { SecretFetchError } from './errors.ts';

export interface SecretsConfig {
  readonly source: 'aws_secrets_manager' | 'gcp_secret_manager';
  readonly region?: string;
  readonly project?: string;
  /** Group that may read the files (the agent's service group). */
  readonly group: string;
  readonly files: ReadonlyArray<{ readonly secret: string; readonly path: string }>;
}

/** Parses a secrets.yaml; errors name the key path. */
export function parseSecretsConfig(text: string): SecretsConfig {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new ConfigError('', 'valid YAML', doc.errors[0]!.message);
  const m = readMap(doc.toJS(), '', ['source', 'region', 'project', 'group', 'files']);
  const source = readEnum(m, 'source', '', ['aws_secrets_manager', 'gcp_secret_manager'] as const, 'aws_secrets_manager');
  const project = readOptString(m, 'project', '');
  if (source === 'gcp_secret_manager' && !project) throw new ConfigError('project', 'the GCP project holding the secrets (source gcp_secret_manager)');
  const region = readOptString(m, 'region', '');
  const raw = m.files;
  if (!Array.isArray(raw) || raw.length === 0) throw new ConfigError('files', 'a list of { secret, path }', raw);
  const files = raw.map((f, i) => {
    const e = readMap(f, `files[${i}]`, ['secret', 'path']);
    const path = readString(e, 'path', `files[${i}]`);
    if (!isAbsolute(path)) throw new ConfigError(`files[${i}].path`, 'an absolute path', path);
    return { secret: readString(e, 'secret', `files[${i}]`), path };
  });
  return { source, ...(region ? { region } : {}), ...(project ? { project } : {}), group: readString(m, 'group', '', 'edgelog'), files };
}

function groupId(name: string): number {
  if (/^\d+$/.test(name)) return Number(name);
  try {
    return Number(execFileSync('getent', ['group', name], { encoding: 'utf8' }).split(':')[2]);
  } catch {
    throw new SecretFetchError(`group ${name} does not exist (is edgelog installed?)`, false);
  }
}

/** Writes `value` to `path` (0640, root:gid) unless it already holds exactly that; true when written. */
export function writeSecretFile(path: string, value: Buffer, gid: number): boolean {
  if (existsSync(path)) {
    const st = statSync(path);
    if ((st.mode & 0o777) === 0o640 && st.gid === gid && readFileSync(path).equals(value)) return false;
  }
  const dir = dirname(path);
  if (!existsSync(dir)) { mkdirSync(dir, { recursive: true, mode: 0o750 }); chownSync(dir, 0, gid); }
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, value, { mode: 0o640 });
  chownSync(tmp, 0, gid);
  renameSync(tmp, path);
  return true;
}

export interface FetchOptions {
  /** Give up after this long (ms); 0 waits until every secret is there. */
  readonly waitMs: number;
  readonly log: Logger;
  readonly env?: NodeJS.ProcessEnv;
  /** Backoff bounds (ms); tests shorten them. */
  readonly backoffMs?: readonly [number, number];
}

/** Fetches every file of `cfg`, waiting for the missing ones; returns the paths written. */
export async function fetchSecrets(cfg: SecretsConfig, opts: FetchOptions): Promise<string[]> {
  const env = opts.env ?? process.env;
  const read = cfg.source === 'aws_secrets_manager'
    ? awsSecretsManager({ ...(cfg.region ? { region: cfg.region } : {}) }, env)
    : gcpSecretManager({ project: cfg.project! }, env);
  const gid = groupId(cfg.group);
  const deadline = opts.waitMs > 0 ? Date.now() + opts.waitMs : Infinity;
  const [first, max] = opts.backoffMs ?? [1_000, 60_000];
  const written: string[] = [];
  for (const f of cfg.files) {
    for (let attempt = 1, delay = first; ; attempt++, delay = Math.min(max, delay * 2)) {
      try {
        const value = await read(f.secret);
        if (writeSecretFile(f.path, value, gid)) written.push(f.path);
        opts.log.info('secret written', { secret: f.secret, path: f.path, bytes: value.length, changed: written.includes(f.path) });
        break;
      } catch (e) {
        const err = e instanceof SecretFetchError ? e : new SecretFetchError(`${f.secret}: ${(e as Error).message}`, false);
        if (!err.retriable || Date.now() + delay > deadline) throw err;
        opts.log.warn('waiting for secret', { secret: f.secret, path: f.path, attempt, retry_in_ms: delay, error: err.message });
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
  return written;
}
