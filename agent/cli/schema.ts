import { writeFileSync } from 'node:fs';
import { parseArgs } from './args.ts';
import { configJsonSchema } from '../config/json-schema.ts';

export const help = `usage: edgelog schema [--output FILE]

Prints the JSON Schema (draft 2020-12) of the config file: the top-level
sections, and for each source, decoder, transform, encoder and sink type its
keys with their types, enum values, defaults and descriptions, and the
cross-key rules a JSON Schema can state (built from the same declarations as
agent/COMPONENTS.md). Point an editor's YAML language server at it, e.g. as
the first line of the config file:

  # yaml-language-server: $schema=/etc/edgelog/edgelog.schema.json

after \`edgelog schema --output /etc/edgelog/edgelog.schema.json\`. The editor
then completes keys and flags unknown keys and wrong values while typing;
\`edgelog validate\` stays the full check (files, component ids, the
rules a schema cannot state).

  --output FILE   write the schema to FILE instead of standard output`;

export async function main(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, { output: 'string' });
  if (flags.help) { console.log(help); return 0; }
  const text = `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
  if (typeof flags.output === 'string') writeFileSync(flags.output, text);
  else process.stdout.write(text);
  return 0;
}
