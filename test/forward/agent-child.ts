// Runs a real Agent in a child process from a YAML config that may use the
// `forward` source/sink types. When agent/registry.ts already lists them the
// file is loaded as `edgelog run` would; until then, the forward components
// are put in place of registered placeholders after validation (everything
// else - encoder, delivery, kafka sink, file source - is validated by the real
// loader). Speaks the same IPC as the CLI: {ready, http} once started; SIGTERM
// stops it in order; SIGKILL is a crash.
//
//   node test/forward/agent-child.ts <config.yaml>        (as a child: see startChild)

import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { validateConfig, type AgentConfig } from '../../agent/config/load.ts';
import { findSpec } from '../../agent/registry.ts';
import { Agent } from '../../agent/pipeline/agent.ts';
import { createLogger } from '../../agent/observe/log.ts';
import { forwardSink } from '../../agent/sinks/forward/index.ts';
import { forwardSource } from '../../agent/sources/forward/index.ts';

export function loadWithForward(file: string): AgentConfig {
  const raw = parse(readFileSync(file, 'utf8')) as Record<string, Record<string, Record<string, unknown>>>;
  const swapSources = new Map<string, Record<string, unknown>>();
  const swapSinks = new Map<string, Record<string, unknown>>();
  if (!findSpec('source', 'forward')) {
    for (const [id, s] of Object.entries(raw.sources ?? {})) {
      if (s.type === 'forward') { swapSources.set(id, s); raw.sources![id] = { type: 'tcp', address: '127.0.0.1:0' }; }
    }
  }
  if (!findSpec('sink', 'forward')) {
    for (const [id, s] of Object.entries(raw.sinks ?? {})) {
      if (s.type !== 'forward') continue;
      swapSinks.set(id, s);
      const { type: _t, encoding, batch, buffer, retry, ...rest } = s;
      void _t; void rest;
      raw.sinks![id] = { type: 'kafka', brokers: ['127.0.0.1:1'], topic: 'placeholder', encoding, batch, buffer, retry };
      for (const k of Object.keys(raw.sinks![id]!)) if (raw.sinks![id]![k] === undefined) delete raw.sinks![id]![k];
    }
  }
  const cfg = validateConfig(raw);
  for (const p of cfg.pipelines) {
    p.sources.forEach((s, i) => {
      const orig = swapSources.get(s.id);
      if (!orig) return;
      const { type: _t, ...rest } = orig;
      void _t;
      p.sources[i] = { ...s, spec: forwardSource, config: forwardSource.validate(rest, s.path) };
    });
    const orig = swapSinks.get(p.sink.id);
    if (orig) {
      const { type: _t, encoding: _e, batch: _b, buffer: _u, retry: _r, ...rest } = orig;
      (p as { sink: typeof p.sink }).sink = { ...p.sink, spec: forwardSink, config: forwardSink.validate(rest, p.sink.path) };
    }
  }
  return cfg;
}

export interface ChildAgent {
  readonly child: ChildProcess;
  readonly http: string;
  stderr(): string;
  metrics(): Promise<string>;
  stop(timeoutMs?: number): Promise<number | null>;
  kill(): Promise<void>;
}

const self = fileURLToPath(import.meta.url);

export async function startChild(configFile: string): Promise<ChildAgent> {
  const child = fork(self, [configFile], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: { ...process.env, EDGELOG_LOG_FORMAT: 'json' } });
  let err = '';
  child.stderr!.on('data', (d) => { err += d; if (err.length > 2_000_000) err = err.slice(-1_000_000); });
  child.stdout!.resume();
  const exited = once(child, 'exit');
  const http = await new Promise<string>((resolve, reject) => {
    child.on('message', (m: { ready?: boolean; http?: string }) => { if (m?.ready) resolve(m.http!); });
    exited.then(([code]) => reject(new Error(`agent exited with ${code} before ready:\n${err.slice(-4000)}`)));
  });
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  return {
    child, http,
    stderr: () => err,
    metrics: async () => (await fetch(`http://${http}/metrics`)).text(),
    async stop(timeoutMs = 30_000) {
      if (gone()) return child.exitCode;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const [code] = await exited;
      clearTimeout(t);
      return code as number | null;
    },
    async kill() {
      if (gone()) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

async function main(file: string): Promise<void> {
  const cfg = loadWithForward(file);
  const log = createLogger({ level: cfg.observe.logLevel, format: 'json' });
  const agent = new Agent(cfg, { log });
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(1);
    stopping = true;
    agent.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await agent.start('127.0.0.1:0');
  process.send?.({ ready: true, http: agent.httpAddress });
}

if (process.argv[1] === self && process.argv[2]) {
  main(process.argv[2]).catch((err) => { process.stderr.write(`${(err as Error).stack}\n`); process.exit(2); });
}
