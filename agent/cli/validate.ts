import { parseArgs } from './args.ts';
import { loadConfigFile, type AgentConfig } from '../config/load.ts';
import { ConfigError, ConfigErrors } from '../core/errors.ts';
import { allSpecs } from '../registry.ts';

export const help = `usage: edgelog validate --config FILE
       edgelog validate --list

Checks a config file: YAML syntax, \${ENV} references, every key and value
against the component schemas. Runs nothing. Exit 0 when valid; 2 when not,
with every problem in the file on its own line: the key path, what was
expected, what was there, and for a misspelt key or value the closest
accepted one ("did you mean"). \`edgelog schema\` prints the same rules as a
JSON Schema for editors.

  --config FILE   config file to check (default: $EDGELOG_CONFIG or /etc/edgelog/edgelog.yaml)
  --list          list the component types this build knows`;

export async function main(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, { config: 'string', list: 'boolean' });
  if (flags.help) { console.log(help); return 0; }
  if (flags.list) {
    for (const s of [...allSpecs()].sort((a, b) => a.kind.localeCompare(b.kind) || a.type.localeCompare(b.type))) console.log(`${s.kind.padEnd(9)} ${s.type.padEnd(12)} ${s.summary}`);
    return 0;
  }
  const file = (flags.config as string | undefined) ?? process.env.EDGELOG_CONFIG ?? '/etc/edgelog/edgelog.yaml';
  let cfg: AgentConfig;
  try {
    cfg = loadConfigFile(file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const problems = err instanceof ConfigErrors ? err.errors : [err];
    console.error(`${file}: invalid, ${problems.length} problem${problems.length === 1 ? '' : 's'}:`);
    for (const p of problems) console.error(`  ${p.message}`);
    return 2;
  }
  console.log(`${file}: valid (${cfg.pipelines.length} pipeline(s): ${cfg.pipelines.map((p) => `${p.id} [${p.sources.map((s) => s.id).join(', ')}] -> ${p.processors.map((x) => x.id).join(' -> ') || 'no processors'} -> ${p.sink.id}`).join('; ')})`);
  return 0;
}
