// What the node tests check after each operator step: every line written so
// far is in Kafka (a real consumer, byte-exact per file), journald has the
// step's lines, the running agent's capability sets, and systemd's own
// security assessment, all read inside the container. Also the release
// builds the tests install (build.sh, what `npm run release` runs after
// setup), signed with a key only the test holds.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { KafkaCluster } from '../../agent/embedded-kafka/cluster.ts';
import { registerCodecs } from '../../agent/sinks/kafka/codecs.ts';
import { checkAgainstFiles, readLogsData, type ReadbackRecord } from '../../agent/verify/otlp-readback.ts';
import type { SigningKey } from '../install/helpers.ts';
import { repoRoot, type NodeContainer } from './rig.ts';

/** ../shared/data/loghub from the repository, or from a parent when this checkout is a worktree deeper down. */
export function findLoghub(): string {
  for (let d = join(repoRoot, '..'); d !== '/'; d = dirname(d)) if (existsSync(join(d, 'shared/data/loghub'))) return join(d, 'shared/data/loghub');
  return join(repoRoot, '../shared/data/loghub');
}

/** build.sh for one version, signed with `key`; resolves to the tarball path. */
export function buildRelease(out: string, version: string, key: SigningKey): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(repoRoot, 'agent/install/release/build.sh'), '--out', out, '--version', version, '--without-demo-kafka'], {
      env: { ...process.env, EDGELOG_SIGNING_KEY: key.sec }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let so = '';
    let se = '';
    child.stdout.on('data', (d: Buffer) => { so += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { se += d.toString(); });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(so.trim().split('\n').pop()!) : reject(new Error(`build.sh exited ${code}: ${se.slice(-2000)}`))));
  });
}

export interface Row { step: string; written: number; consumed: number; lost: number; duplicates: number; journal: string }

export const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class StepChecks {
  readonly rows: Row[] = [];
  #cursor = '';
  #c: NodeContainer;
  #kafka: KafkaCluster;
  #topic: string;
  #files: () => Map<string, Buffer>;
  #log: (s: string) => void;

  /** `files()` returns path (as the agent reports it) -> content written so far, complete lines only. */
  constructor(c: NodeContainer, kafka: KafkaCluster, topic: string, files: () => Map<string, Buffer>, log: (s: string) => void) {
    this.#c = c;
    this.#kafka = kafka;
    this.#topic = topic;
    this.#files = files;
    this.#log = log;
  }

  async readAll(): Promise<ReadbackRecord[]> {
    registerCodecs();
    const msgs = await this.#kafka.consumeAll(this.#topic, { idleMs: 1500, timeoutMs: 60_000 });
    const out: ReadbackRecord[] = [];
    for (const m of msgs) if (m.value) out.push(...readLogsData(m.value));
    return out;
  }

  /** New journald lines of edgelog.service until every `expect` matched (deadline 60 s). */
  async journal(step: string, expect: RegExp[]): Promise<string[]> {
    const seen: string[] = [];
    const end = Date.now() + 60_000;
    for (;;) {
      const j = this.#c.journal('edgelog.service', this.#cursor);
      this.#cursor = j.cursor;
      seen.push(...j.lines);
      if (expect.every((re) => seen.some((l) => re.test(l))) || Date.now() > end) break;
      await pause(250);
    }
    for (const re of expect) assert.ok(seen.some((l) => re.test(l)), `${step}: journald has ${re} in:\n${seen.slice(-30).join('\n')}`);
    return seen;
  }

  /** journald has `expect`, then every line written so far is in Kafka (lost 0, bodies byte-exact). */
  async delivered(step: string, expect: RegExp[], opts: { duplicatesAllowed?: boolean } = {}): Promise<ReadbackRecord[]> {
    await this.journal(step, expect);
    const files = this.#files();
    let records: ReadbackRecord[] = [];
    let checks = checkAgainstFiles([], files);
    const end = Date.now() + 180_000;
    for (;;) {
      records = await this.readAll();
      checks = checkAgainstFiles(records, files);
      if (checks.every((x) => x.missing === 0) || Date.now() > end) break;
    }
    const written = checks.reduce((a, x) => a + x.expected, 0);
    const lost = checks.reduce((a, x) => a + x.missing, 0);
    const dups = checks.reduce((a, x) => a + x.duplicates, 0);
    for (const x of checks) {
      assert.equal(x.missing, 0, `${step}: ${x.stream} lost ${x.missing} of ${x.expected} lines`);
      assert.equal(x.mismatched, 0, `${step}: ${x.stream} ${x.mismatched} bodies differ`);
      if (!opts.duplicatesAllowed) assert.equal(x.duplicates, 0, `${step}: ${x.stream} duplicates without a restart`);
    }
    const journal = expect.map((r) => r.source).join(' | ');
    this.rows.push({ step, written, consumed: records.length, lost, duplicates: dups, journal });
    this.#log(`${step}: written ${written}, consumed ${records.length} records, lost ${lost}, duplicates ${dups}; journald: ${journal}`);
    return records;
  }

  /** /proc/<agent>/status inside the container; every capability set must be empty. */
  async caps(label: string): Promise<Record<string, string>> {
    // Right after `active`, MainPID can still be systemd's forked child setting up the sandbox
    // (root, full caps, named "(edgelog)"); read the agent once it is the bundled node.
    const c = this.#c;
    const end = Date.now() + 30_000;
    let pid = c.mainPid();
    while (!/\/bin\/node$/.test(c.exec(['readlink', `/proc/${pid}/exe`]).stdout.trim())) {
      if (Date.now() > end) throw new Error(`${label}: MainPID ${pid} never became the agent`);
      await pause(100);
      pid = c.mainPid();
    }
    const st = c.procStatus(pid);
    this.#log(`${label}: /proc/<agent>/status ${JSON.stringify(st)}`);
    for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) assert.equal(BigInt(`0x${st[set]}`), 0n, `${label}: ${set} of the running agent is empty`);
    return st;
  }

  /** `systemd-analyze security edgelog.service` inside the container: "1.5 OK". */
  exposure(label: string): string {
    const r = this.#c.exec(['systemd-analyze', 'security', 'edgelog.service', '--no-pager']);
    const m = /Overall exposure level for edgelog\.service: ([\d.]+ \w+)/.exec(r.stdout);
    assert.ok(m, `systemd-analyze security: ${r.stdout.slice(-500)}${r.stderr}`);
    this.#log(`${label}: systemd-analyze security (in the container) ${m[1]}`);
    return m[1]!;
  }

  active(): string {
    return this.#c.exec(['systemctl', 'is-active', 'edgelog.service']).stdout.trim();
  }

  async waitActive(what: string): Promise<void> {
    const end = Date.now() + 60_000;
    while (this.active() !== 'active') {
      if (Date.now() > end) throw new Error(`${what}: edgelog.service is ${this.active()}\n${this.#c.journal('edgelog.service', '').lines.slice(-20).join('\n')}`);
      await pause(200);
    }
  }

  table(): string[] {
    return ['| step | lines written | records consumed | lost | duplicates | journald lines awaited |', '|---|---|---|---|---|---|',
      ...this.rows.map((r) => `| ${r.step} | ${r.written} | ${r.consumed} | ${r.lost} | ${r.duplicates} | ${r.journal.replace(/\|/g, '/')} |`)];
  }
}
