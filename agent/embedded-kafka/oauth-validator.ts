// The broker-side OAUTHBEARER validator of the embedded broker
// (oauth/EdgelogOAuthValidator.java), compiled with the JDK's javac against
// the Kafka jars the first time a broker needs it. The classes land in
// .cache/kafka/oauth-validator/<hash of source and jars>/, so a changed source
// or Kafka version compiles again and parallel test processes never see a
// half-written class (compile into a temp dir, then rename).

import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const OAUTH_VALIDATOR_CLASS = 'EdgelogOAuthValidator';

/** What the MSK IAM listener accepts: tokens signed with these instance-role credentials for this region. */
export interface MskIamValidation { accessKeyId: string; secretAccessKey: string; region: string }

const source = join(dirname(fileURLToPath(import.meta.url)), 'oauth', `${OAUTH_VALIDATOR_CLASS}.java`);

/** Why the validator cannot be built on this host (no javac), or null when it can. */
export function oauthValidatorUnavailable(): string | null {
  const r = spawnSync('javac', ['-version'], { encoding: 'utf8' });
  return r.error || r.status !== 0 ? 'javac not installed (a JDK is needed to build the broker\'s OAUTHBEARER validator)' : null;
}

/** The class directory holding the compiled validator (compiles it when missing). */
export function compileOAuthValidator(jarsDir: string): string {
  const jars = readdirSync(jarsDir).filter((f) => f.endsWith('.jar')).sort();
  const key = createHash('sha256').update(readFileSync(source)).update(jars.join('\n')).digest('hex').slice(0, 12);
  const base = join(jarsDir, '..', 'oauth-validator');
  const out = join(base, key);
  if (existsSync(join(out, `${OAUTH_VALIDATOR_CLASS}.class`))) return out;
  const unavailable = oauthValidatorUnavailable();
  if (unavailable) throw new Error(unavailable);
  mkdirSync(base, { recursive: true });
  const tmp = join(base, `${key}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const r = spawnSync('javac', ['-nowarn', '-cp', `${jarsDir}/*`, '-d', tmp, source], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`javac ${source} failed: ${r.error?.message ?? r.stderr}`);
  }
  try {
    renameSync(tmp, out);
  } catch {
    // Another process renamed its copy first: theirs is the same source.
    rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}
