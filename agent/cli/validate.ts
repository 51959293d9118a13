import { parseArgs } from './args.ts';
import { loadConfigFile } from '../config/load.ts';
import { allSpecs } from '../registry.ts';

export const help = `usage: edgelog validate --config FILE
       edgelog validate --list

Checks a config file: YAML syntax, \${ENV} references, every key and value
against the component schemas. Runs nothing. Exit 0 when valid, 2 with the
offending key path and what was expected when not.

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
  const cfg = loadConfigFile(file);
  console.log(`${file}: valid (${cfg.pipelines.length} pipeline(s): ${cfg.pipelines.map((p) => `${p.id} [${p.sources.map((s) => s.id).join(', ')}] -> ${p.processors.map((x) => x.id).join(' -> ') || 'no processors'} -> ${p.sink.id}`).join('; ')})`);
  return 0;
}
