// `edgelog` CLI entry: one subcommand per job. Exit codes: 0 ok, 1 runtime
// failure, 2 bad usage or invalid config (as validators conventionally do).

import { UsageError } from './args.ts';
import { ConfigError, EdgelogError } from '../core/errors.ts';
import { filterKafkajsTimerWarning } from '../sinks/kafka/warnings.ts';

const commands: Record<string, { summary: string; load: () => Promise<{ main(argv: string[]): Promise<number> }> }> = {
  run: { summary: 'run the agent (edge or relay role) from a config file', load: () => import('./run.ts') },
  demo: { summary: 'ship the loghub samples through an embedded Kafka and verify every line', load: () => import('./demo.ts') },
  validate: { summary: 'check a config file without running anything', load: () => import('./validate.ts') },
  schema: { summary: 'print the JSON Schema of the config file (for editors)', load: () => import('./schema.ts') },
  doctor: { summary: 'report what this host supports (eBPF, io_uring, capabilities, Kafka reachability)', load: () => import('./doctor.ts') },
  drill: { summary: 'run failover drills (edgelog drill failover --fault kill|freeze|blackhole)', load: () => import('./drill.ts') },
  install: { summary: 'install, upgrade, roll back or remove edgelog on this node', load: () => import('./install.ts') },
};

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    'usage: edgelog <command> [options]',
    '',
    'commands:',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `edgelog <command> --help` for the options of one command.',
  ].join('\n');
}

// Drop kafkajs's harmless negative-timeout warning before any command runs (why: sinks/kafka/warnings.ts).
filterKafkajsTimerWarning();

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') { console.log(usage()); return cmd ? 0 : 2; }
  if (cmd === '--version') { console.log(process.env.EDGELOG_VERSION ?? '0.1.0'); return 0; }
  const c = commands[cmd];
  if (!c) { console.error(`edgelog: unknown command '${cmd}'\n\n${usage()}`); return 2; }
  const mod = await c.load();
  return mod.main(rest);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => {
    if (err instanceof UsageError) { console.error(`edgelog: ${err.message}`); process.exitCode = 2; return; }
    if (err instanceof ConfigError) { console.error(`edgelog: invalid config: ${err.message}`); process.exitCode = 2; return; }
    if (err instanceof EdgelogError) { console.error(`edgelog: ${err.code}: ${err.message}`); process.exitCode = 1; return; }
    console.error('edgelog: unexpected failure:', err);
    process.exitCode = 1;
  },
);
