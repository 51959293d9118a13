// The failover sink must not grow with the number of requests on a healthy
// cluster. It once raced every send against one long-lived "circuit opened"
// promise, leaving a reaction per send attached until the circuit next opened:
// on a healthy cluster, never. 1M sends with a cluster that acknowledges at once.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { EncodedMessage } from '../../../agent/core/component.ts';
import { FailoverSink, type ProbingSink } from '../../../agent/sinks/failover/failover-sink.ts';
import { createRegistry } from '../../../agent/observe/metrics.ts';
import { silentLogger } from '../../../agent/observe/log.ts';
import { AckGroup } from '../../../agent/core/ack.ts';
import { newRecord } from '../../../agent/core/record.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

class HealthyCluster implements ProbingSink {
  maxMessageBytes = 1_000_000;
  sent = 0;
  async send(): Promise<void> { this.sent++; }
  async probe(): Promise<number> { return 1; }
  async close(): Promise<void> {}
}

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

test('failover sink memory stays flat over 1M sends to a healthy cluster', { timeout: 300_000 }, async (t) => {
  const a = new HealthyCluster();
  const b = new HealthyCluster();
  const cfg = { breaker: { failureThreshold: 5, slowThreshold: 5, slowMs: 2000, openDurationMs: 10_000 }, probeIntervalMs: 500, failbackHoldDownMs: 30_000 };
  const s = new FailoverSink([{ name: 'A', region: 'r1', priority: 1, sink: a }, { name: 'B', region: 'r2', priority: 2, sink: b }], cfg, createRegistry(false), silentLogger, 'mem');
  t.after(() => s.close());
  const v = Buffer.from('x');
  const batch: EncodedMessage[] = [{ key: null, value: v, headers: {}, records: [newRecord(v, 's', 's', 's', 0, new AckGroup(0, () => {}))] }];
  const total = 1_000_000;
  const warmup = 100_000;
  let base = 0;
  for (let i = 0; i < total; i++) {
    await s.send(batch);
    if (i === warmup) base = heapAfterGc();
  }
  const end = heapAfterGc();
  const growth = end - base;
  t.diagnostic(`heap after ${warmup} sends ${(base / 1e6).toFixed(1)} MB, after ${total} ${(end / 1e6).toFixed(1)} MB (growth ${(growth / 1e6).toFixed(2)} MB)`);
  assert.equal(a.sent, total, 'every send went to the healthy primary');
  // A reaction kept per send costs >100 bytes: 900k of them would be >90 MB.
  assert.ok(growth < 8e6, `heap grew ${(growth / 1e6).toFixed(1)} MB over ${total - warmup} sends`);
});
