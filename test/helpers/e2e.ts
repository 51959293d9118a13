// Shared pieces of the end-to-end suites: temp dirs, agent configs pointing at
// the shared test broker, reading a topic back as OTLP records, polling.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { readLogsData, type ReadbackRecord } from '../../agent/verify/otlp-readback.ts';
import type { TestKafka } from './kafka.ts';
import { registerCodecs } from '../../agent/sinks/kafka/codecs.ts';
import { defer, removeDir } from './cleanup.ts';

/**
 * A temp dir removed when the test ends: after every step deferred later
 * (test/helpers/cleanup.ts), and without failing the cleanup when something
 * still writes into it (then it goes at process exit).
 */
export function tempDir(t: TestContext, prefix = 'edgelog-e2e-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  defer(t, `remove ${dir}`, () => removeDir(dir));
  return dir;
}

export interface E2eConfig {
  dir: string;
  include: string[];
  bootstrap: string;
  topic: string;
  /** Extra YAML under the file source. */
  source?: string;
  /** Extra YAML under the kafka sink. */
  sink?: string;
  /** Extra top-level YAML (decoders, transforms, pipelines...). */
  extra?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** agent.worker_threads (unset: the product default). */
  workerThreads?: number;
}

export function writeAgentConfig(c: E2eConfig): string {
  const file = join(c.dir, 'edgelog.yaml');
  writeFileSync(file, `
agent:
  id: e2e
  data_dir: ${JSON.stringify(join(c.dir, 'state'))}
  shutdown_timeout: 20s
${c.workerThreads === undefined ? '' : `  worker_threads: ${c.workerThreads}\n`}observe:
  log_level: ${c.logLevel ?? 'warn'}
sources:
  files:
    type: file
    include: ${JSON.stringify(c.include)}
    glob_interval: 100ms
    idle_flush: 500ms
${indent(c.source ?? '', 4)}
sinks:
  kafka:
    type: kafka
    brokers: [${JSON.stringify(c.bootstrap)}]
    topic: ${c.topic}
${indent(c.sink ?? '', 4)}
${c.extra ?? ''}
`);
  return file;
}

function indent(s: string, n: number): string {
  return s.split('\n').map((l) => (l.trim() ? ' '.repeat(n) + l : l)).join('\n');
}

/** Every record in the topic, decoded, in partition order. */
export async function readBack(kafka: TestKafka, topic: string, opts: { idleMs?: number; timeoutMs?: number } = {}): Promise<ReadbackRecord[]> {
  // The agent compresses (lz4 by default); this process's kafkajs needs the codecs to read it back.
  registerCodecs();
  const msgs = await kafka.consumeAll(topic, { idleMs: opts.idleMs ?? 15_000, timeoutMs: opts.timeoutMs ?? 120_000 });
  const out: ReadbackRecord[] = [];
  for (const m of msgs) if (m.value) out.push(...readLogsData(m.value));
  return out;
}

export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 60_000, everyMs = 100): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
