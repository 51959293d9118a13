// `edgelog drill failover` for each fault mode (issue 4): zero records lost,
// failover measured and printed. Runs the real CLI with short phases; the
// figures it prints go to the test diagnostics (targets are reported, not asserted).

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

// Every fault with the default engine (@platformatic/kafka); the hung-region
// fault (freeze) also with kafkajs, since a hang is where client libraries
// differ most.
const cases = [
  ...(['kill', 'freeze', 'blackhole'] as const).map((fault) => ({ fault, engine: 'platformatic' })),
  { fault: 'freeze' as const, engine: 'kafkajs' },
];
for (const { fault, engine } of cases) {
  const skip = fault === 'blackhole' && !netns.ok ? `blackhole needs network namespaces: ${netns.reason}` : false;
  test(`drill failover --fault ${fault} --engine ${engine}: nothing lost, failover measured`, { skip, timeout: 300_000 }, async (t) => {
    const dir = tempDir(t);
    const json = join(dir, 'report.json');
    const chart = join(dir, 'chart.svg');
    const child = spawn(process.execPath, [cli, 'drill', 'failover', '--fault', fault, '--warmup', '5s', '--fault-duration', '10s', '--hold-down', '3s', '--engine', engine, '--json', json, '--chart', chart], {
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
    assert.equal(typeof r.failover_ms, 'number', 'failover time measured');
    assert.equal(typeof r.duplicates, 'number');
    assert.ok(r.events.some((e: { kind: string }) => e.kind === 'failover'), 'traffic moved to region B');
    assert.ok(r.events.some((e: { kind: string }) => e.kind === 'failback'), 'traffic came back to region A');
    assert.match(readFileSync(chart, 'utf8'), /^<svg[\s\S]*<\/svg>$/);
  });
}
