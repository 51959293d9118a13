// The suite runner behind `npm test` (after .ci/setup.sh):
//   1. typecheck: tsc --noEmit -p tsconfig.json (the run fails if it fails);
//   2. node --test over the test files that never use Kafka (sorted; optional
//      arguments filter by path: `node test/run.ts test/sinks` runs only those
//      files), without any broker running;
//   3. only if a selected file needs Kafka (it or a test module it imports
//      reaches test/helpers/kafka.ts): start two independent Kafka clusters
//      (regions A and B, booting while tsc runs), shared through
//      EDGELOG_TEST_KAFKA_A / _B, and run those files; stop the clusters (also
//      on SIGINT/SIGTERM). Steps 2 and 3 run side by side as two lanes (each
//      lane one file at a time, lines prefixed [local] / [kafka]): most of
//      the suite's wall time is waiting (brokers, Terraform's fixed waits,
//      systemd), so the lanes overlap waits; EDGELOG_TEST_LANES=1 runs them
//      one after the other;
//   4. fail the run when a test skipped itself for a reason that is not on
//      the environment allow-list (test/skip-allow-list.ts).
// The spec reporter streams to the terminal; a TAP copy of each phase goes
// to a file. At the end the skip reasons are listed, then the combined
// "# pass N / # fail N" lines, then a plain "N passed, N failed, N skipped"
// line, for CI to read.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startKafkaCluster, type KafkaCluster } from '../agent/embedded-kafka/cluster.ts';
import { createLogger } from '../agent/observe/log.ts';
import { allowedSkip } from './skip-allow-list.ts';

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

const children = new Set<ChildProcess>();

/** Copies `from` to `to` line by line, each line prefixed (two lanes write to one terminal). */
function prefixLines(from: NodeJS.ReadableStream, to: NodeJS.WritableStream, prefix: string): void {
  let rest = '';
  from.setEncoding('utf8');
  from.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    if (parts.length > 0) to.write(parts.map((l) => prefix + l).join('\n') + '\n');
  });
  from.on('end', () => { if (rest) to.write(prefix + rest + '\n'); });
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, prefix = ''): { child: ChildProcess; done: Promise<number> } {
  const child = spawn(cmd, args, { cwd: root, env, stdio: prefix ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
  if (prefix) {
    prefixLines(child.stdout!, process.stdout, prefix);
    prefixLines(child.stderr!, process.stderr, prefix);
  }
  children.add(child);
  const done = new Promise<number>((res) => {
    // 'close' (not 'exit'): the piped output is fully copied before the lane reports.
    child.on('close', (code, sig) => { children.delete(child); res(code ?? (sig ? 128 + 15 : 1)); });
    child.on('error', (e) => { children.delete(child); process.stderr.write(`${cmd}: ${e.message}\n`); res(127); });
  });
  return { child, done };
}

const filters = process.argv.slice(2).map((f) => relative(root, resolve(f)) || '.');
const files = findTests(join(root, 'test')).sort().filter((f) => filters.length === 0 || filters.some((x) => x === '.' || f === x || f.startsWith(x.endsWith('/') ? x : x + '/') || f.includes(x)));

const clusters: KafkaCluster[] = [];
let stopping = false;
// The signal handler's cleanup; the main flow waits for it rather than exiting under it.
let stopped: Promise<unknown> = Promise.resolve();
// Set while the clusters boot, so that cleanup waits for a start in flight (or its JVMs would outlive the run).
let clustersStarting: Promise<unknown> | null = null;
let closing = '';
const tapDir = mkdtempSync(join(tmpdir(), 'edgelog-test-run-'));

async function cleanup(): Promise<void> {
  await clustersStarting?.catch(() => {});
  await Promise.allSettled(clusters.map((c) => c.stop()));
  clusters.length = 0;
  rmSync(tapDir, { recursive: true, force: true });
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n[run] ${sig}: stopping tests and Kafka\n`);
    for (const c of children) c.kill('SIGTERM');
    stopped = cleanup().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  });
}

/** Test-local modules (relative imports under test/) reachable from `file`, itself included. */
function testModuleClosure(file: string, seen = new Set<string>()): Set<string> {
  const abs = resolve(root, file);
  if (seen.has(abs) || !abs.startsWith(join(root, 'test') + '/') || !existsSync(abs)) return seen;
  seen.add(abs);
  const text = readFileSync(abs, 'utf8');
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)'(\.{1,2}\/[^']+)'/g)) testModuleClosure(resolve(dirname(abs), m[1]!), seen);
  return seen;
}

/** A file needs the brokers when it, or a test helper it imports, reads EDGELOG_TEST_KAFKA_*. */
function needsKafka(file: string): boolean {
  for (const m of testModuleClosure(file)) if (readFileSync(m, 'utf8').includes('EDGELOG_TEST_KAFKA')) return true;
  return false;
}

interface Skip { name: string; reason: string }
interface PhaseResult { code: number; counts: Map<string, number>; skips: Skip[] }

/** Runs node --test over `list` with a TAP copy; returns the exit code, the TAP counts and the skips. */
async function runPhase(label: string, list: string[], extraEnv: NodeJS.ProcessEnv, prefix: string): Promise<PhaseResult> {
  const tap = join(tapDir, `${label}.tap`);
  const env = {
    ...process.env, ...extraEnv, KAFKAJS_NO_PARTITIONER_WARNING: '1',
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
    ...list,
  ];
  const code = await run(process.execPath, args, env, prefix).done;
  const counts = new Map<string, number>();
  const skips: Skip[] = [];
  let text = '';
  try { text = readFileSync(tap, 'utf8'); } catch { /* no report: node --test itself failed */ }
  for (const line of text.split('\n')) {
    const c = /^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) (\S+)$/.exec(line);
    if (c) { counts.set(c[1]!, Number(c[2])); continue; }
    const sk = /^\s*ok \d+ - (.*?) # SKIP ?(.*)$/.exec(line);
    if (sk) skips.push({ name: sk[1]!.replace(/\\#/g, '#'), reason: sk[2]!.replace(/\\#/g, '#').trim() });
  }
  if (code !== 0 && counts.size === 0) counts.set('fail', 1);
  return { code, counts, skips };
}

async function startClusters(): Promise<[KafkaCluster, KafkaCluster] | string> {
  if (stopping) return 'stopping';
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
      return `kafka failed to start: ${err}`;
    }
  }
  const [a, b] = clusters as [KafkaCluster, KafkaCluster];
  process.stdout.write(`kafka A ${a.bootstrap} (${a.startupMs} ms), B ${b.bootstrap} (${b.startupMs} ms), both ready in ${Math.round(performance.now() - t0)} ms\n`);
  return [a, b];
}

async function main(): Promise<number> {
  if (files.length === 0) {
    process.stdout.write(`no test files match ${filters.join(' ')}\n`);
    return 1;
  }
  const withKafka = files.filter(needsKafka);
  const without = files.filter((f) => !withKafka.includes(f));
  const lanes = process.env.EDGELOG_TEST_LANES === '1' ? 1 : 2;

  // The JVMs boot while tsc runs: both are mostly single-threaded at start.
  if (withKafka.length > 0) step(`kafka: starting regions A and B for ${withKafka.length} file(s)`);
  const clustersReady = withKafka.length > 0 ? startClusters() : null;
  // A failed start is reported by the Kafka lane; never an unhandled rejection meanwhile.
  clustersReady?.catch(() => {});
  clustersStarting = clustersReady;

  step('typecheck: tsc --noEmit -p tsconfig.json');
  const tscCode = await run(join(bin, 'tsc'), ['--noEmit', '-p', 'tsconfig.json']).done;
  if (tscCode !== 0) {
    process.stdout.write(`typecheck failed (exit ${tscCode})\n0 passed, 1 failed\n`);
    return 1;
  }
  process.stdout.write('typecheck ok\n');

  const localLane = async (): Promise<PhaseResult[]> => {
    if (without.length === 0) return [];
    step(`tests without Kafka: ${without.length} file(s)${lanes > 1 ? ', lines prefixed [local]' : ''}`);
    // No broker addresses at all: a file that needs Kafka but was not detected fails here, loudly.
    return [await runPhase('no-kafka', without, { EDGELOG_TEST_KAFKA_A: '', EDGELOG_TEST_KAFKA_B: '' }, lanes > 1 ? '[local] ' : '')];
  };
  const kafkaLane = async (): Promise<PhaseResult[]> => {
    if (!clustersReady || stopping) return [];
    const started = await clustersReady.catch((err: unknown) => `kafka failed to start: ${err}`);
    if (typeof started === 'string') {
      process.stdout.write(`${started}\n`);
      return [{ code: 1, counts: new Map([['fail', 1]]), skips: [] }];
    }
    step(`tests with Kafka: ${withKafka.length} file(s)${lanes > 1 ? ', lines prefixed [kafka]' : ''}`);
    const [a, b] = started;
    return [await runPhase('kafka', withKafka, { EDGELOG_TEST_KAFKA_A: a.bootstrap, EDGELOG_TEST_KAFKA_B: b.bootstrap }, lanes > 1 ? '[kafka] ' : '')];
  };
  const phases: PhaseResult[] = lanes > 1
    ? (await Promise.all([localLane(), kafkaLane()])).flat()
    : [...await localLane(), ...await kafkaLane()];
  let failed = false;
  for (const p of phases) if (p.code !== 0) failed = true;

  const sum = (k: string): number => phases.reduce((n, p) => n + (p.counts.get(k) ?? 0), 0);
  const skips = phases.flatMap((p) => p.skips);
  const lines: string[] = [];
  const refused: Skip[] = [];
  if (skips.length > 0) {
    lines.push(`skipped tests (${skips.length}):`);
    for (const sk of skips) {
      const cat = allowedSkip(sk.reason);
      if (!cat) refused.push(sk);
      lines.push(`  ${cat ? `[${cat.name}]` : '[NOT AN ENVIRONMENT REASON]'} ${sk.name}: ${sk.reason || '(no reason given)'}`);
    }
  }
  if (refused.length > 0) {
    lines.push(`${refused.length} skip(s) for a reason not on the environment allow-list (test/skip-allow-list.ts): the run fails`);
    failed = true;
  }
  for (const k of ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo']) lines.push(`# ${k} ${sum(k)}`);
  lines.push(`# duration_ms ${Math.round(sum('duration_ms'))}`);
  // Cancelled tests (timeouts, a crashed file) count as failures, and so do refused skips (not as skips).
  lines.push(`${sum('pass')} passed, ${sum('fail') + sum('cancelled') + refused.length} failed, ${sum('skipped') + sum('todo') - refused.length} skipped`);
  // Printed after Kafka is stopped so these stay the closing lines.
  closing = lines.join('\n') + '\n';
  return failed ? 1 : 0;
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (err) {
  process.stderr.write(`[run] ${(err as Error).stack ?? String(err)}\n`);
  exitCode = 1;
} finally {
  if (stopping) await stopped;
  else await cleanup();
}
if (closing) {
  step('summary');
  process.stdout.write(closing);
}
process.exit(exitCode);
