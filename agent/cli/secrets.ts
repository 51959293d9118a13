import { readFileSync } from 'node:fs';
import { parseArgs, UsageError } from './args.ts';
import { readDuration } from '../config/schema.ts';
import { createLogger } from '../observe/log.ts';
import { fetchSecrets, parseSecretsConfig } from '../secrets/fetch.ts';
import { ConfigError, EdgelogError } from '../core/errors.ts';

export const help = `usage: edgelog secrets fetch --config FILE [--wait DURATION]

Reads each secret named in FILE (see agent/secrets/README.md) from AWS
Secrets Manager or Google Secret Manager and writes it to its path (mode
0640, owner root, group from FILE), replacing a file only when its bytes
change. A secret without a value yet is waited for with backoff (one log
line per attempt; values are never logged).

  --config FILE      the secrets file (/etc/edgelog/secrets.yaml on nodes)
  --wait DURATION    give up after this long (default 0: wait until every secret is there)

Exit codes: 0 all written, 1 gave up or a permanent error, 2 bad usage or file.`;

export async function main(argv: string[]): Promise<number> {
  const { flags, rest } = parseArgs(argv, { config: 'string', wait: 'string' });
  if (flags.help) { console.log(help); return 0; }
  if (rest[0] !== 'fetch' || rest.length !== 1) throw new UsageError(`expected: secrets fetch --config FILE\n\n${help}`);
  if (typeof flags.config !== 'string') throw new UsageError('--config FILE is required');
  const waitMs = typeof flags.wait === 'string' ? readDuration({ wait: /^\d+$/.test(flags.wait) ? Number(flags.wait) : flags.wait }, 'wait', '--', 0) : 0;
  let text: string;
  try { text = readFileSync(flags.config, 'utf8'); } catch (e) { throw new ConfigError('', `a readable secrets file at ${flags.config}`, (e as Error).message); }
  const cfg = parseSecretsConfig(text);
  const log = createLogger({}, { component: 'secrets' });
  try {
    const written = await fetchSecrets(cfg, { waitMs, log });
    log.info('secrets ready', { files: cfg.files.length, written: written.length });
    return 0;
  } catch (e) {
    if (e instanceof EdgelogError) { log.error('secrets not fetched', { code: e.code, error: e.message }); return 1; }
    throw e;
  }
}
