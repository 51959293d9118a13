// `edgelog drill failover` for each fault mode (issues 4 and 16): zero records
// lost in every mode, and each mode's expected outcome (failover or not,
// detection within 5 s for flap and slow, recovery without an operator) as the
// drill's own verdict. Runs the real CLI with short phases; the figures it
// prints go to the test diagnostics. The issue-4 modes run on single-broker
// regions (as before); the issue-16 modes on the default three-node regions.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defer } from '../helpers/cleanup.ts';
import { tempDir } from '../helpers/e2e.ts';
import { canUseNetns } from '../../agent/drill/netns.ts';

const cli = join(import.meta.dirname, '../../agent/cli/main.ts');
const netns = canUseNetns();

// Every fault with the default engine (@platformatic/kafka); the hung-region
// fault (freeze) also with kafkajs, since a hang is where client libraries
// differ most.
type Case = { fault: string; engine: string; brokers: number; failover: boolean | null };
const cases: Case[] = [
  ...(['kill', 'freeze', 'blackhole'] as const).map((fault) => ({ fault, engine: 'platformatic', brokers: 1, failover: true })),
  { fault: 'freeze' as const, engine: 'kafkajs', brokers: 1, failover: true },
  { fault: 'flap', engine: 'platformatic', brokers: 3, failover: true },
  { fault: 'slow', engine: 'platformatic', brokers: 3, failover: true },
  { fault: 'broker', engine: 'platformatic', brokers: 3, failover: false },
  { fault: 'both', engine: 'platformatic', brokers: 3, failover: null },
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
    // EDGELOG_DRILL_RESULTS=bench/results/drill keeps each report and chart (how the committed ones were made).
    const keep = process.env.EDGELOG_DRILL_RESULTS;
    if (keep) {
      mkdirSync(keep, { recursive: true });
      copyFileSync(json, join(keep, `${fault}-${engine}-${brokers}b.json`));
      copyFileSync(chart, join(keep, `${fault}-${engine}-${brokers}b.svg`));
    }
  });
}
