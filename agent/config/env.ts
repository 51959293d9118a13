// `${NAME}` and `${NAME:-default}` substitution in config string values, so
// secrets come from the environment and never sit in the file. A missing
// variable without a default is a config error naming the key path. `$${` is
// a literal `${`.

import { ConfigError } from '../core/errors.ts';
import { join } from './schema.ts';

const ref = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function substituteEnv(value: unknown, path: string, env: NodeJS.ProcessEnv): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${')) return value;
    return value.replace(ref, (whole, name: string | undefined, def: string | undefined) => {
      if (whole === '$${') return '${';
      const v = env[name!];
      if (v !== undefined && v !== '') return v;
      if (def !== undefined) return def;
      throw new ConfigError(path, `environment variable ${name} to be set (referenced as \${${name}})`);
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, join(path, i), env));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substituteEnv(v, join(path, k), env);
    return out;
  }
  return value;
}
