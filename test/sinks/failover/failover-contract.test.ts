// The failover sink's observable contract with scripted clusters (pure logic,
// probes switched off unless a test needs them): a blip is retried on the same
// cluster, the failure that opens the circuit moves the same request on;
// permanent errors never count; every cluster open is its own error; health
// and the metrics dashboards and alerts read (circuit state, active cluster,
// failed over, transitions, switches) follow each step; close closes every
// cluster. The drill exercises real brokers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Registry } from '../../../agent/observe/prometheus.ts';
import type { EncodedMessage } from '../../../agent/core/component.ts';
import { RecordTooLargeError, SinkSendError } from '../../../agent/core/errors.ts';
import { FailoverSink, failoverDefaults, type FailoverEvent, type ProbingSink } from '../../../agent/sinks/failover/failover-sink.ts';
import { createRegistry } from '../../../agent/observe/metrics.ts';
import { silentLogger } from '../../../agent/observe/log.ts';

class Cluster implements ProbingSink {
  maxMessageBytes: number;
  down = false;
  fatal = false;
  got: string[] = [];
  closes = 0;
  closeFails = false;
  resetSession?: (why: string) => Promise<void>;
  constructor(max = 1_000_000) { this.maxMessageBytes = max; }
  async send(messages: EncodedMessage[]): Promise<void> {
    if (this.fatal) throw new RecordTooLargeError(2_000_000, 1_000_000);
    if (this.down) throw new SinkSendError('connection refused', true);
    for (const m of messages) this.got.push(m.value.toString());
  }
  async probe(): Promise<number> { if (this.down) throw new Error('refused'); return 1; }
  async close(): Promise<void> { this.closes++; if (this.closeFails) throw new Error('close failed'); }
}

const msg = (v: string): EncodedMessage[] => [{ key: null, value: Buffer.from(v), headers: {}, records: [] }];
const noProbes = { breaker: { failureThreshold: 5, slowThreshold: 5, slowMs: 2000, openDurationMs: 3_600_000 }, probeIntervalMs: 3_600_000, failbackHoldDownMs: 3_600_000 };

async function metric(reg: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const m = await reg.getSingleMetric(name)?.get();
  return m?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
}

function pair(o: { a?: Cluster; b?: Cluster; cfg?: typeof noProbes } = {}) {
  const a = o.a ?? new Cluster();
  const b = o.b ?? new Cluster();
  const reg = createRegistry(false);
  // Given out of priority order: the sink sorts by priority.
  const s = new FailoverSink([{ name: 'B', region: 'r2', priority: 2, sink: b }, { name: 'A', region: 'r1', priority: 1, sink: a }], o.cfg ?? noProbes, reg, silentLogger, 'k');
  const events: FailoverEvent[] = [];
  s.onEvent((e) => events.push(e));
  return { a, b, s, reg, events };
}

test('defaults: probe every 500 ms, fail back after 30 s healthy, move a request stuck for 10 s', () => {
  assert.deepEqual(failoverDefaults, { probeIntervalMs: 500, failbackHoldDownMs: 30_000, stuckRequestMs: 10_000 });
});

test('at rest: the highest priority cluster is active, circuits closed, ready; the message limit is the smallest cluster limit', async (t) => {
  const { s, reg } = pair({ a: new Cluster(900_000), b: new Cluster(700_000) });
  t.after(() => s.close());
  assert.equal(s.maxMessageBytes, 700_000);
  assert.equal(s.activeCluster, 'A');
  assert.deepEqual(s.health(), { ready: true, reason: '' });
  assert.equal(await metric(reg, 'edgelog_sink_circuit_state', { cluster: 'A', region: 'r1' }), 0);
  assert.equal(await metric(reg, 'edgelog_sink_circuit_state', { cluster: 'B', region: 'r2' }), 0);
  assert.equal(await metric(reg, 'edgelog_sink_active_cluster', { cluster: 'A' }), 1);
  assert.equal(await metric(reg, 'edgelog_sink_active_cluster', { cluster: 'B' }), 0);
  assert.equal(await metric(reg, 'edgelog_sink_failed_over', { component: 'k' }), 0);
});

test('a blip is retried on the same cluster; the failure that opens the circuit moves that request to the secondary, with metrics and events', async (t) => {
  const { a, b, s, reg, events } = pair();
  t.after(() => s.close());
  const delivered: string[] = [];
  s.onDelivery((c) => delivered.push(c));
  await s.send(msg('1'));
  a.down = true;
  for (let i = 0; i < 4; i++) await assert.rejects(s.send(msg('2')), /connection refused/, `failure ${i + 1} is thrown back to the pipeline`);
  assert.deepEqual(b.got, [], 'nothing moved before the circuit opened');
  assert.equal(s.activeCluster, 'A');
  await s.send(msg('2')); // fifth failure opens A: the same request goes to B
  assert.deepEqual([a.got, b.got], [['1'], ['2']]);
  assert.deepEqual(delivered, ['A', 'B']);
  assert.equal(s.activeCluster, 'B');
  assert.deepEqual(events.map((e) => [e.kind, e.cluster, e.from, e.to]), [['breaker', 'A', 'closed', 'open'], ['failover', 'B', 'A', 'B']]);
  assert.match(events[1]!.reason, /connection refused/);
  assert.deepEqual(s.health(), { ready: false, reason: 'failed over to B (r2)' });
  assert.equal(await metric(reg, 'edgelog_sink_circuit_state', { cluster: 'A' }), 2);
  assert.equal(await metric(reg, 'edgelog_sink_circuit_state', { cluster: 'B' }), 0);
  assert.equal(await metric(reg, 'edgelog_sink_active_cluster', { cluster: 'A' }), 0);
  assert.equal(await metric(reg, 'edgelog_sink_active_cluster', { cluster: 'B' }), 1);
  assert.equal(await metric(reg, 'edgelog_sink_failed_over', { component: 'k' }), 1);
  assert.equal(await metric(reg, 'edgelog_sink_circuit_transitions_total', { cluster: 'A', to: 'open' }), 1);
  assert.equal(await metric(reg, 'edgelog_sink_failovers_total', { kind: 'failover', to: 'B' }), 1);
  await s.send(msg('3'));
  assert.deepEqual(b.got, ['2', '3'], 'stays on B');
});

test('a permanent error (too large) is thrown at once and never counts toward the circuit', async (t) => {
  const { a, b, s } = pair();
  t.after(() => s.close());
  a.fatal = true;
  for (let i = 0; i < 12; i++) await assert.rejects(s.send(msg('big')), (e: unknown) => e instanceof RecordTooLargeError);
  assert.equal(s.activeCluster, 'A');
  assert.deepEqual(b.got, []);
  a.fatal = false;
  await s.send(msg('ok'));
  assert.deepEqual(a.got, ['ok']);
});

test('every circuit open: a retriable "no cluster available" error, health not ready', async (t) => {
  const { a, b, s, reg } = pair();
  t.after(() => s.close());
  a.down = true;
  b.down = true;
  for (let i = 0; i < 9; i++) await assert.rejects(s.send(msg('x')), /connection refused/);
  assert.equal(await metric(reg, 'edgelog_sink_circuit_state', { cluster: 'A' }), 2);
  assert.equal(await metric(reg, 'edgelog_sink_circuit_state', { cluster: 'B' }), 2);
  await assert.rejects(s.send(msg('x')), (e: unknown) => e instanceof SinkSendError && e.retriable && /no cluster available: every circuit is open/.test(e.message));
  assert.deepEqual(s.health(), { ready: false, reason: 'every cluster circuit is open' });
});

test('an open secondary while the primary serves: not ready, naming the open circuit', async (t) => {
  const { b, s } = pair({ cfg: { ...noProbes, probeIntervalMs: 10 } });
  t.after(() => s.close());
  b.down = true; // only probes reach B
  const end = Date.now() + 20_000;
  while (s.health().ready && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(s.health(), { ready: false, reason: 'circuit open: B' });
  assert.equal(s.activeCluster, 'A');
});

test('failback after the hold-down: the primary takes traffic again, metrics back to rest', async (t) => {
  const { a, b, s, reg, events } = pair({ cfg: { breaker: { failureThreshold: 5, slowThreshold: 5, slowMs: 2000, openDurationMs: 20 }, probeIntervalMs: 10, failbackHoldDownMs: 50 } });
  t.after(() => s.close());
  a.down = true;
  for (let i = 0; i < 4; i++) await assert.rejects(s.send(msg('x')));
  await s.send(msg('on B'));
  a.down = false;
  const end = Date.now() + 20_000;
  while (s.activeCluster !== 'A' && Date.now() < end) {
    await s.send(msg('during'));
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(s.activeCluster, 'A');
  assert.ok(b.got.includes('on B'));
  assert.equal(events.filter((e) => e.kind === 'failback').length, 1);
  assert.equal(await metric(reg, 'edgelog_sink_failed_over', { component: 'k' }), 0);
  assert.equal(await metric(reg, 'edgelog_sink_active_cluster', { cluster: 'A' }), 1);
  assert.equal(await metric(reg, 'edgelog_sink_failovers_total', { kind: 'failback', to: 'A' }), 1);
  assert.equal(await metric(reg, 'edgelog_sink_circuit_state', { cluster: 'A' }), 0);
  assert.equal(await metric(reg, 'edgelog_sink_circuit_transitions_total', { cluster: 'A', to: 'closed' }), 1);
});

test('a delivery observer that throws does not fail a delivered request', async (t) => {
  const { a, s } = pair();
  t.after(() => s.close());
  s.onDelivery(() => { throw new Error('observer bug'); });
  await s.send(msg('fine'));
  assert.deepEqual(a.got, ['fine']);
});

test('close closes every cluster once, even when one close fails', async () => {
  const { a, b, s } = pair();
  b.closeFails = true;
  await s.close();
  assert.deepEqual([a.closes, b.closes], [1, 1]);
});

test('a successful send resets the failure count: blips separated by successes never fail over', async (t) => {
  const { a, b, s } = pair();
  t.after(() => s.close());
  for (let round = 0; round < 3; round++) {
    a.down = true;
    for (let i = 0; i < 4; i++) await assert.rejects(s.send(msg(`x${round}`)));
    a.down = false;
    await s.send(msg(`ok${round}`));
  }
  assert.equal(s.activeCluster, 'A');
  assert.deepEqual(b.got, []);
  assert.deepEqual(a.got, ['ok0', 'ok1', 'ok2']);
});

test('a request that failed once and then succeeded on the same cluster needs no fresh session for the next one', async (t) => {
  let resets = 0;
  const a = new Cluster();
  a.resetSession = async () => { resets++; };
  const { s } = pair({ a });
  t.after(() => s.close());
  const m1 = msg('m1');
  a.down = true;
  await assert.rejects(s.send(m1));
  a.down = false;
  await s.send(m1); // the pipeline retries the same request: no reset (idempotent retry)
  await s.send(msg('m2'));
  assert.equal(resets, 0);
  assert.deepEqual(a.got, ['m1', 'm2']);
});

test('no failback while the primary circuit is still open, nor before the hold-down, even with a zero hold-down or a healthy primary', async (t) => {
  // Zero hold-down, primary still open: traffic stays on B.
  const p1 = pair({ cfg: { ...noProbes, failbackHoldDownMs: 0 } });
  t.after(() => p1.s.close());
  p1.a.down = true;
  for (let i = 0; i < 4; i++) await assert.rejects(p1.s.send(msg('x')));
  for (let i = 0; i < 5; i++) await p1.s.send(msg(`b${i}`));
  assert.equal(p1.s.activeCluster, 'B');
  assert.deepEqual(p1.b.got, ['b0', 'b1', 'b2', 'b3', 'b4'], 'the fifth failure (b0) moved to B; nothing went back to A');

  // Primary healthy again (probes close its circuit) but the hold-down is an hour: traffic stays on B.
  const p2 = pair({ cfg: { breaker: { failureThreshold: 5, slowThreshold: 5, slowMs: 2000, openDurationMs: 20 }, probeIntervalMs: 10, failbackHoldDownMs: 3_600_000 } });
  t.after(() => p2.s.close());
  p2.a.down = true;
  for (let i = 0; i < 4; i++) await assert.rejects(p2.s.send(msg('x')));
  await p2.s.send(msg('on B'));
  p2.a.down = false;
  const closedAgain: FailoverEvent[] = [];
  p2.s.onEvent((e) => { if (e.kind === 'breaker' && e.cluster === 'A' && e.to === 'closed') closedAgain.push(e); });
  const end = Date.now() + 20_000;
  while (closedAgain.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  assert.equal(closedAgain.length, 1, 'A closed again');
  await p2.s.send(msg('still B'));
  assert.equal(p2.s.activeCluster, 'B');
  assert.deepEqual(p2.b.got.slice(-1), ['still B']);
});
