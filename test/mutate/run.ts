// `npm run mutate [-- file-filter ...] [--out FILE]`: mutation testing of the
// delivery core (targets.ts). For every mutant (mutants.ts) of a target file
// the target's test files run, one after the other, in a scratch copy of the
// repository; the first failing file kills the mutant. A run that passes
// every file is a survivor; a run past its deadline (3x the unmutated run
// plus 10 s) counts as killed (timeout); a mutant Node cannot even parse is
// reported as invalid and left out of the score. Known equivalent mutants
// (equivalent.ts) are listed with their reason and also left out.
//
// The scratch copy keeps the worktree clean whatever happens (a crash, ^C):
// agent/ and test/ are copied, everything else is symlinked.
//
// Results go to test/mutate/results.md (or --out): mutants per file, killed,
// survived, the score and every survivor. Exit 1 when a strict target has a
// survivor or the whole score is below 85 %.

import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyMutant, generateMutants, type Mutant } from './mutants.ts';
import { targets, type Target } from './targets.ts';
import { isEquivalent } from './equivalent.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const outIdx = args.indexOf('--out');
const outFile = outIdx >= 0 ? resolve(args[outIdx + 1]!) : join(root, 'test/mutate/results.md');
const mutIdx = args.indexOf('--mutators');
// A subset of mutators (comma-separated), for a file too large to run whole in the time at hand; the report names it.
const onlyMutators = mutIdx >= 0 ? new Set(args[mutIdx + 1]!.split(',')) : null;
const linesIdx = args.indexOf('--lines');
// Only the mutants on these source lines (comma-separated, ranges as 418-425): to check quickly that a new test kills them.
const onlyLines = linesIdx >= 0 ? parseLines(args[linesIdx + 1] ?? '') : null;
const valueIdx = new Set([outIdx, mutIdx, linesIdx].filter((i) => i >= 0).map((i) => i + 1));
const filters = args.filter((a, i) => !a.startsWith('--') && !valueIdx.has(i));
const chosen = targets.filter((t) => filters.length === 0 || filters.some((f) => t.file.includes(f)));
const SCORE_TARGET = 0.85;

function parseLines(spec: string): Set<number> {
  const out = new Set<number>();
  for (const part of spec.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`--lines: expected line numbers or ranges like 260,418-425, got "${spec}"`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    for (let l = from; l <= to; l++) out.add(l);
  }
  return out;
}

type Outcome = 'killed' | 'timeout' | 'survived' | 'invalid' | 'equivalent';
interface Result { mutant: Mutant; outcome: Outcome; by?: string; reason?: string }

function makeScratch(): string {
  const dir = mkdtempSync(join(tmpdir(), `edgelog-mutate-${process.pid}-`));
  for (const e of readdirSync(root)) {
    if (e === '.git') continue;
    if (e === 'agent' || e === 'test') cpSync(join(root, e), join(dir, e), { recursive: true });
    else symlinkSync(join(root, e), join(dir, e));
  }
  return dir;
}

let child: ReturnType<typeof spawn> | null = null;
let scratch = '';
function cleanup(): void {
  if (child?.pid) { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ } }
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { cleanup(); process.exit(130); });

/** Runs one test file in the scratch copy; resolves with the exit code, 'timeout' or 'invalid'. */
function runTest(file: string, timeoutMs: number): Promise<{ code: number | 'timeout'; invalid: boolean; ms: number }> {
  const t0 = performance.now();
  return new Promise((res) => {
    // Own process group so a timeout also ends what the tests started.
    child = spawn(process.execPath, ['--test', '--test-reporter=dot', file], { cwd: scratch, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { if (out.length < 200_000) out += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { if (out.length < 200_000) out += d.toString(); });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; try { process.kill(-child!.pid!, 'SIGKILL'); } catch { /* gone */ } }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      child = null;
      const invalid = /ERR_INVALID_TYPESCRIPT_SYNTAX|SyntaxError: (?!Unexpected token .* in JSON|.*JSON)/.test(out);
      res({ code: timedOut ? 'timeout' : (code ?? 1), invalid, ms: performance.now() - t0 });
    });
  });
}

async function mutateTarget(t: Target, log: (s: string) => void): Promise<Result[]> {
  const path = join(scratch, t.file);
  const source = readFileSync(join(root, t.file), 'utf8');
  // Baseline: every test file must pass unmutated, and its time sets the deadline.
  const budget: number[] = [];
  for (const f of t.tests) {
    const r = await runTest(f, 600_000);
    if (r.code !== 0) throw new Error(`${f} fails without any mutant (exit ${r.code}): fix it before mutating ${t.file}`);
    budget.push(r.ms * 3 + 10_000);
  }
  const mutants = generateMutants(source)
    .filter((m) => onlyMutators === null || onlyMutators.has(m.mutator))
    .filter((m) => onlyLines === null || onlyLines.has(m.line));
  log(`${t.file}: ${mutants.length} mutants, tests ${t.tests.join(' ')}`);
  const results: Result[] = [];
  let i = 0;
  for (const m of mutants) {
    i++;
    const eq = isEquivalent(t.file, m);
    if (eq) { results.push({ mutant: m, outcome: 'equivalent', reason: eq }); continue; }
    writeFileSync(path, applyMutant(source, m));
    let outcome: Outcome = 'survived';
    let by: string | undefined;
    for (let k = 0; k < t.tests.length; k++) {
      const r = await runTest(t.tests[k]!, budget[k]!);
      if (r.invalid) { outcome = 'invalid'; break; }
      if (r.code === 'timeout') { outcome = 'timeout'; by = t.tests[k]; break; }
      if (r.code !== 0) { outcome = 'killed'; by = t.tests[k]; break; }
    }
    writeFileSync(path, source);
    results.push({ mutant: m, outcome, by });
    if (outcome === 'survived') log(`  [${i}/${mutants.length}] SURVIVED ${t.file}:${m.line} ${m.mutator} ${m.original} -> ${m.replacement}`);
    else if (i % 20 === 0) log(`  [${i}/${mutants.length}]`);
  }
  return results;
}

function report(all: Map<string, Result[]>, startedAt: Date, seconds: number): { text: string; ok: boolean } {
  const rows: string[] = [];
  const survivors: string[] = [];
  const equivalents: string[] = [];
  let killedAll = 0;
  let scoredAll = 0;
  let ok = true;
  for (const [file, rs] of all) {
    const n = (o: Outcome) => rs.filter((r) => r.outcome === o).length;
    const killed = n('killed') + n('timeout');
    const scored = killed + n('survived');
    killedAll += killed;
    scoredAll += scored;
    const strict = targets.find((t) => t.file === file)?.strict ?? false;
    if (strict && n('survived') > 0) ok = false;
    rows.push(`| ${file}${strict ? ' (no survivors allowed)' : ''} | ${rs.length} | ${n('killed')} | ${n('timeout')} | ${n('survived')} | ${n('invalid')} | ${n('equivalent')} | ${scored ? ((100 * killed) / scored).toFixed(1) : '-'} % |`);
    for (const r of rs) {
      const m = r.mutant;
      const where = `${file}:${m.line}`;
      if (r.outcome === 'survived') survivors.push(`- ${where} ${m.mutator} \`${m.original}\` -> \`${m.replacement}\`: \`${m.after.trim()}\``);
      if (r.outcome === 'equivalent') equivalents.push(`- ${where} ${m.mutator} \`${m.original}\` -> \`${m.replacement}\`: ${r.reason}`);
    }
  }
  const score = scoredAll ? killedAll / scoredAll : 0;
  if (score < SCORE_TARGET) ok = false;
  const text = [
    '# Mutation testing results',
    '',
    `Generated by \`npm run mutate${filters.length || onlyMutators || onlyLines ? ' --' : ''}${filters.length ? ' ' + filters.join(' ') : ''}${onlyMutators ? ' --mutators ' + [...onlyMutators].join(',') : ''}${onlyLines ? ' --lines ' + args[linesIdx + 1] : ''}\` (test/mutate/run.ts) on ${startedAt.toISOString()}, ${Math.round(seconds)} s.`,
    'Score = (killed + timeout) / (killed + timeout + survived); invalid (unparsable) and known-equivalent mutants are left out.',
    '',
    '| file | mutants | killed | timeout | survived | invalid | equivalent | score |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    `| **total** | ${[...all.values()].reduce((a, r) => a + r.length, 0)} | | | ${scoredAll - killedAll} | | | **${(100 * score).toFixed(1)} %** (target ${SCORE_TARGET * 100} %) |`,
    '',
    '## Surviving mutants',
    '',
    ...(survivors.length ? survivors : ['none']),
    '',
    '## Equivalent mutants (no test can tell them apart; see test/mutate/equivalent.ts)',
    '',
    ...(equivalents.length ? equivalents : ['none']),
    '',
  ].join('\n');
  return { text, ok };
}

async function main(): Promise<number> {
  if (chosen.length === 0) { process.stderr.write(`no target matches ${filters.join(' ')}\n`); return 2; }
  const startedAt = new Date();
  const t0 = performance.now();
  scratch = makeScratch();
  const log = (s: string) => process.stdout.write(s + '\n');
  log(`mutate: ${chosen.length} target file(s), scratch copy ${scratch}`);
  const all = new Map<string, Result[]>();
  for (const t of chosen) all.set(t.file, await mutateTarget(t, log));
  const { text, ok } = report(all, startedAt, (performance.now() - t0) / 1000);
  writeFileSync(outFile, text);
  log('');
  log(text);
  log(`written to ${relative(root, outFile)}`);
  return ok ? 0 : 1;
}

let code = 1;
try { code = await main(); } catch (e) { process.stderr.write(`mutate: ${(e as Error).stack ?? e}\n`); } finally { cleanup(); }
process.exit(code);
