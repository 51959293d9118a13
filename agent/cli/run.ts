import { parseArgs } from './args.ts';
import { loadConfigFile } from '../config/load.ts';
import { Agent } from '../pipeline/agent.ts';
import { createLogger } from '../observe/log.ts';

export const help = `usage: edgelog run [--config FILE] [--listen HOST:PORT]

Runs the agent until SIGTERM or SIGINT, then stops reading, flushes what is in
flight, writes checkpoints and exits within agent.shutdown_timeout.
SIGHUP re-reads and validates the config file: an invalid one is rejected with
the reason and the running config stays; a valid one is applied in place
(pipelines drain and restart from their checkpoints: nothing lost or doubled).
The role (edge or relay) comes from agent.role in the config.

  --config FILE        config file (default: $EDGELOG_CONFIG or /etc/edgelog/edgelog.yaml)
  --listen HOST:PORT   override observe.listen (metrics and health endpoints)`;

export async function main(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, { config: 'string', listen: 'string' });
  if (flags.help) { console.log(help); return 0; }
  const file = (flags.config as string | undefined) ?? process.env.EDGELOG_CONFIG ?? '/etc/edgelog/edgelog.yaml';
  const cfg = loadConfigFile(file);
  const log = createLogger({ level: cfg.observe.logLevel, format: cfg.observe.logFormat });
  const agent = new Agent(cfg, { log });
  let stopping = false;
  // Reloads and stop run one after another, never interleaved.
  let queue: Promise<unknown> = Promise.resolve();
  process.on('SIGHUP', () => {
    if (stopping) return;
    queue = queue.then(async () => {
      let next;
      try {
        next = loadConfigFile(file);
      } catch (err) {
        log.error('config reload rejected; keeping the running config', { file, reason: (err as Error).message });
        return;
      }
      try {
        await agent.reload(next);
      } catch (err) {
        log.error('config reload failed', { file, reason: (err as Error).message });
      }
    });
  });
  const done = new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      if (stopping) { log.warn('second signal: exiting now', { signal }); process.exit(1); }
      stopping = true;
      log.info('signal received', { signal });
      queue = queue.then(() => agent.stop()).then(() => resolve(0), (err) => { log.error('stop failed', { error: (err as Error).message }); resolve(1); });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
  await agent.start(flags.listen as string | undefined);
  // Let a supervisor (tests, systemd-notify wrappers) know where the endpoints are.
  if (process.env.EDGELOG_READY_FD === '1' || process.send) process.send?.({ ready: true, http: agent.httpAddress });
  return done;
}
