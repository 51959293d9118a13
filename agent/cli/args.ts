// Minimal argv parsing for the subcommands: --flag, --key value, --key=value.
// Unknown flags are errors (exit 2), so a typo never silently changes behaviour.

export interface FlagSpec { readonly [name: string]: 'string' | 'boolean' }

export class UsageError extends Error {}

export function parseArgs(argv: readonly string[], spec: FlagSpec): { flags: Record<string, string | boolean>; rest: string[] } {
  const flags: Record<string, string | boolean> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') { rest.push(...argv.slice(i + 1)); break; }
    if (a === '-h') { flags.help = true; continue; }
    if (!a.startsWith('--')) { rest.push(a); continue; }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq === -1 ? undefined : eq);
    const kind = spec[name] ?? (name === 'help' ? 'boolean' : undefined);
    if (!kind) throw new UsageError(`unknown option --${name}`);
    if (kind === 'boolean') { flags[name] = true; continue; }
    const v = eq !== -1 ? a.slice(eq + 1) : argv[++i];
    if (v === undefined) throw new UsageError(`--${name} needs a value`);
    flags[name] = v;
  }
  return { flags, rest };
}
