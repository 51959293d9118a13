// `edgelog drill failover` in the suite (issues 4 and 16): every mode once with
// default detection settings, zero records lost and the mode's expected outcome
// (the drill's own verdict):
//   kill       region A's broker killed: consecutive failures open the circuit, failover, failback
//   freeze     a hung region (SIGSTOP: connections open, no answers): the
//              request is abandoned and resent on B, failover, failback
//   blackhole  a region whose path vanishes silently (no RST, no ICMP):
//              detected without any answer from it, failback, 0 lost
//   flap       repeated short stalls: the gray-failure budget detects within 5 s
//   slow       A frozen 800 ms of every second: the gray-failure budget detects within 5 s
//   both       both regions frozen: backpressure, recovery without an operator
//   broker     one node of a three-node region dies: an election inside A, no failover
//   partition  the path to A's partition leader vanishes (three-node region): failover
// Three repetitions of each, the kafkajs engine too, and the results table:
// `node bench/drill.ts` (bench/results/drill/).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defer } from '../helpers/cleanup.ts';
import { tempDir } from '../helpers/e2e.ts';
import { canUseNetns } from '../../agent/drill/netns.ts';

const cli = join(import.meta.dirname, '../../agent/cli/main.ts');
const netns = canUseNetns();

type Case = { fault: string; engine: string; brokers: number; failover: boolean | null };
// Every mode once, with default detection settings and short durations (the issue's
// must-show); single-broker regions wherever the mode allows (a three-node region costs
// ~20 s more to start). Repetitions and the table live in `node bench/drill.ts`.
const cases: Case[] = [
  { fault: 'kill', engine: 'platformatic', brokers: 1, failover: true },
  { fault: 'freeze', engine: 'platformatic', brokers: 1, failover: true },
  { fault: 'blackhole', engine: 'platformatic', brokers: 1, failover: true },
  { fault: 'flap', engine: 'platformatic', brokers: 1, failover: true },
  { fault: 'slow', engine: 'platformatic', brokers: 1, failover: true },
  { fault: 'both', engine: 'platformatic', brokers: 1, failover: null },
  { fault: 'broker', engine: 'platformatic', brokers: 3, failover: false },
  { fault: 'partition', engine: 'platformatic', brokers: 3, failover: true },
];
const needNetns = new Set(['blackhole', 'partition']);
const only = process.env.EDGELOG_DRILL_FAULTS?.split(',');
for (const { fault, engine, brokers, failover } of cases) {
  const skip = only && !only.includes(fault) ? `EDGELOG_DRILL_FAULTS=${only.join(',')}` : needNetns.has(fault) && !netns.ok ? `${fault} needs network namespaces: ${netns.reason}` : false;
  test(`drill failover --fault ${fault} --engine ${engine} --brokers ${brokers}: nothing lost, expected outcome`, { skip, timeout: 400_000 }, async (t) => {
    const dir = tempDir(t);
    const json = join(dir, 'report.json');
    const chart = join(dir, 'chart.svg');
    const child = spawn(process.execPath, [cli, 'drill', 'failover', '--fault', fault, '--warmup', '5s', '--fault-duration', '10s', '--hold-down', '3s', '--engine', engine, '--brokers', String(brokers), '--json', json, '--chart', chart], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, EDGELOG_LOG_LEVEL: 'error' },
    });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    // Before the temp dir goes: SIGINT lets the drill stop its brokers; SIGKILL if it does not exit in time.
    defer(t, 'stop the drill', async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGINT');
      const hard = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(hard);
    }, 45_000);
    const code = await exited;
    const summary = out.slice(out.indexOf('drill failover --fault'));
    for (const line of summary.split('\n').filter(Boolean)) t.diagnostic(line);
    assert.equal(code, 0, out.slice(-3000));
    const r = JSON.parse(readFileSync(json, 'utf8'));
    assert.equal(r.lost, 0);
    assert.ok(r.written > 0 && r.delivered_unique === r.written);
    assert.equal(r.unacknowledged_bytes_at_stop, 0, 'every written line acknowledged before the agent stopped');
    assert.equal(typeof r.duplicates, 'number');
    assert.equal(r.verdict, 'PASS', JSON.stringify(r.checks));
    const failedOver = r.events.some((e: { kind: string }) => e.kind === 'failover');
    if (failover === true) {
      assert.equal(typeof r.failover_ms, 'number', 'failover time measured');
      assert.ok(failedOver, 'traffic moved to region B');
      assert.ok(r.events.some((e: { kind: string }) => e.kind === 'failback'), 'traffic came back to region A');
    }
    if (failover === false) assert.ok(!failedOver, 'traffic stayed on region A');
    if (fault === 'flap' || fault === 'slow') {
      assert.ok(r.detection_ms !== null && r.detection_ms <= 5000, `detected within 5 s (${r.detection_ms} ms)`);
      assert.equal(r.detection_rule, 'gray-budget');
    }
    assert.match(readFileSync(chart, 'utf8'), /^<svg[\s\S]*<\/svg>$/);
  });
}
