// The suite runner behind `npm test` (after .ci/setup.sh):
//   1. typecheck: tsc --noEmit -p tsconfig.json (the run fails if it fails);
//   2. start two independent Kafka clusters (regions A and B) shared by every
//      test file through EDGELOG_TEST_KAFKA_A / _B (test/helpers/kafka.ts);
//   3. node --test over test/**/*.test.ts (sorted; optional arguments filter
//      by path: `node test/run.ts test/sinks` runs only those files);
//   4. stop the clusters (also on SIGINT/SIGTERM) and exit with node --test's code.
// The spec reporter streams to the terminal; a TAP copy goes to a file whose
// closing "# pass N / # fail N" lines are printed at the end, followed by a
// plain "N passed, N failed, N skipped" line, for CI to read.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startKafkaCluster, type KafkaCluster } from '../agent/embedded-kafka/cluster.ts';
import { createLogger } from '../agent/observe/log.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'node_modules/.bin');
const step = (msg: string): void => { process.stdout.write(`\n=== ${msg}\n`); };

function findTests(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) findTests(p, out);
    else if (e.isFile() && e.name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): { child: ChildProcess; done: Promise<number> } {
  const child = spawn(cmd, args, { cwd: root, env, stdio: 'inherit' });
  const done = new Promise<number>((res) => {
    child.on('exit', (code, sig) => res(code ?? (sig ? 128 + 15 : 1)));
    child.on('error', (e) => { process.stderr.write(`${cmd}: ${e.message}\n`); res(127); });
  });
  return { child, done };
}

const filters = process.argv.slice(2).map((f) => relative(root, resolve(f)) || '.');
const files = findTests(join(root, 'test')).sort().filter((f) => filters.length === 0 || filters.some((x) => x === '.' || f === x || f.startsWith(x.endsWith('/') ? x : x + '/') || f.includes(x)));

const clusters: KafkaCluster[] = [];
let current: ChildProcess | null = null;
let stopping = false;
let closing = '';
const tapDir = mkdtempSync(join(tmpdir(), 'edgelog-test-run-'));

async function cleanup(): Promise<void> {
  await Promise.allSettled(clusters.map((c) => c.stop()));
  clusters.length = 0;
  rmSync(tapDir, { recursive: true, force: true });
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n[run] ${sig}: stopping tests and Kafka\n`);
    current?.kill('SIGTERM');
    void cleanup().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  });
}

async function main(): Promise<number> {
  step('typecheck: tsc --noEmit -p tsconfig.json');
  const tsc = run(join(bin, 'tsc'), ['--noEmit', '-p', 'tsconfig.json']);
  current = tsc.child;
  const tscCode = await tsc.done;
  if (tscCode !== 0) {
    process.stdout.write(`typecheck failed (exit ${tscCode})\n0 passed, 1 failed\n`);
    return 1;
  }
  process.stdout.write('typecheck ok\n');

  if (files.length === 0) {
    process.stdout.write(`no test files match ${filters.join(' ')}\n`);
    return 1;
  }

  step('kafka: starting regions A and B');
  const log = createLogger({ format: 'text', level: 'info' });
  const t0 = performance.now();
  const names = ['A', 'B'];
  const started = await Promise.allSettled(names.map((name) => startKafkaCluster({ name, log })));
  for (let i = 0; i < started.length; i++) {
    const s = started[i]!;
    if (s.status === 'fulfilled') { clusters[i] = s.value; continue; }
    // A JVM that dies while two start side by side on a loaded machine gets one
    // more try on its own; a second failure is real and fails the run.
    process.stdout.write(`kafka ${names[i]} failed to start, retrying once: ${String(s.reason).split('\n').slice(0, 8).join('\n')}\n`);
    try {
      clusters[i] = await startKafkaCluster({ name: names[i], log });
    } catch (err) {
      process.stdout.write(`kafka failed to start: ${err}\n0 passed, 1 failed\n`);
      return 1;
    }
  }
  const [a, b] = clusters as [KafkaCluster, KafkaCluster];
  process.stdout.write(`kafka A ${a.bootstrap} (${a.startupMs} ms), B ${b.bootstrap} (${b.startupMs} ms), both ready in ${Math.round(performance.now() - t0)} ms\n`);

  step(`tests: ${files.length} file(s)`);
  const tap = join(tapDir, 'report.tap');
  const env = {
    ...process.env, EDGELOG_TEST_KAFKA_A: a.bootstrap, EDGELOG_TEST_KAFKA_B: b.bootstrap, KAFKAJS_NO_PARTITIONER_WARNING: '1',
    // kafkajs 2.2.4 arms a timer with a negative delay on every new connection (its
    // initial throttledUntil is -1); Node 24 warns about it once per process. Harmless noise.
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --disable-warning=TimeoutNegativeWarning`.trim(),
  };
  const args = [
    '--test',
    `--test-concurrency=${process.env.EDGELOG_TEST_CONCURRENCY ?? '1'}`,
    // A hung test must not eat CI's 90 minutes; any single test gets 10 minutes
    // (the longest, the 150 s broker outage under load, takes about 4).
    `--test-timeout=${process.env.EDGELOG_TEST_TIMEOUT_MS ?? '600000'}`,
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tap}`,
    ...files,
  ];
  const t = run(process.execPath, args, env);
  current = t.child;
  const code = await t.done;
  current = null;

  let summary: string[] = [];
  try {
    summary = readFileSync(tap, 'utf8').split('\n').filter((l) => /^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) /.test(l));
  } catch { /* no report: node --test itself failed */ }
  const n = (k: string): number => Number(summary.find((l) => l.startsWith(`# ${k} `))?.split(' ')[2] ?? 0);
  // Printed after Kafka is stopped so these stay the closing lines.
  // Cancelled tests (timeouts, a crashed file) count as failures.
  closing = `${summary.join('\n')}\n${n('pass')} passed, ${n('fail') + n('cancelled')} failed, ${n('skipped') + n('todo')} skipped\n`;
  return code;
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (err) {
  process.stderr.write(`[run] ${(err as Error).stack ?? String(err)}\n`);
  exitCode = 1;
} finally {
  if (!stopping) await cleanup();
}
if (closing) {
  step('summary');
  process.stdout.write(closing);
}
process.exit(exitCode);
