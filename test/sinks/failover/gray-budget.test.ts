// The gray-failure budget's decision (pure logic, explicit clock): repeated
// short stalls exhaust it within the 5 s target; one slow probe, one GC-sized
// hiccup or one leader-election-sized stall does not. Probe timing follows the
// sink: one probe every 500 ms, counted bad once outstanding for slowMs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GrayBudget, grayBudgetDefaults } from '../../../agent/sinks/failover/gray-budget.ts';
import { FailoverSink, type FailoverEvent, type ProbingSink } from '../../../agent/sinks/failover/failover-sink.ts';
import { createRegistry } from '../../../agent/observe/metrics.ts';
import { silentLogger } from '../../../agent/observe/log.ts';
import { kafkaSinkWithFailover } from '../../../agent/sinks/failover/kafka-clusters.ts';
import { ConfigError } from '../../../agent/core/errors.ts';

const probeEvery = 500;

/** Feeds probes issued every 500 ms from `from` to `to`; `stalled(t)` says until when the region is frozen at t. Returns the first time the budget is exhausted. */
function run(b: GrayBudget, from: number, to: number, stalledUntil: (t: number) => number): number | null {
  // (time the sample is taken, latency) pairs in time order, as the sink records them.
  const samples: Array<[number, number | null]> = [];
  for (let t = from; t < to; t += probeEvery) {
    const answer = Math.max(t + 2, stalledUntil(t));
    const latency = answer - t;
    // Outstanding longer than slowMs: recorded as bad at that moment, without waiting.
    if (latency > b.slowMs) samples.push([t + b.slowMs + 1, null]); else samples.push([answer, latency]);
  }
  samples.sort((x, y) => x[0] - y[0]);
  for (const [at, lat] of samples) if (b.record(lat, at).exhausted) return at;
  return null;
}

/** A region down for `downMs`, up for `upMs`, repeatedly, from `start`. */
const flap = (start: number, downMs: number, upMs: number) => (t: number): number => {
  if (t < start) return 0;
  const phase = (t - start) % (downMs + upMs);
  return phase < downMs ? t - phase + downMs : 0;
};

test('a flapping region (1.5 s down, 0.7 s up, as in the issue) exhausts the budget within 5 s', () => {
  const b = new GrayBudget(grayBudgetDefaults);
  const at = run(b, 0, 40_000, flap(10_000, 1500, 700));
  assert.ok(at !== null, 'detected');
  assert.ok(at - 10_000 <= 5000, `detected ${at - 10_000} ms after the flapping started`);
});

test('a slow region (frozen 800 ms of every second) exhausts the budget within 5 s', () => {
  const b = new GrayBudget(grayBudgetDefaults);
  const at = run(b, 0, 40_000, flap(10_000, 800, 200));
  assert.ok(at !== null && at - 10_000 <= 5000, `detected at ${at}`);
});

test('one slow probe, a GC pause or a single 1.5 s stall (a leader election) leave the budget intact', () => {
  for (const [name, stall] of [['one slow probe', 600], ['GC pause', 400], ['election-sized stall', 1500]] as const) {
    const b = new GrayBudget(grayBudgetDefaults);
    const at = run(b, 0, 30_000, (t) => (t >= 10_000 && t < 10_000 + stall ? 10_000 + stall : 0));
    assert.equal(at, null, `${name} must not exhaust the budget`);
  }
});

test('a healthy region never exhausts it; bad samples age out of the window', () => {
  const b = new GrayBudget(grayBudgetDefaults);
  assert.equal(run(b, 0, 60_000, () => 0), null);
  const c = new GrayBudget({ windowMs: 1000, slowMs: 100, maxBadShare: 0.5, minBad: 2 });
  c.record(null, 0);
  assert.equal(c.record(null, 100).exhausted, true, 'two bad of two');
  c.reset();
  c.record(null, 0);
  assert.equal(c.verdict(2000).bad, 0, 'older than the window: forgotten');
  assert.equal(c.record(null, 2100).exhausted, false, 'one bad sample is below minBad');
  for (let i = 0; i < 4; i++) c.record(5, 2200 + i);
  const v = c.record(null, 2300);
  assert.equal(v.bad, 2);
  assert.equal(v.total, 6);
  assert.equal(v.exhausted, false, 'two of six is below half');
  assert.match(v.reason, /2 of 6 probes slower than 100 ms/);
});

test('invalid settings are refused', () => {
  assert.throws(() => new GrayBudget({ ...grayBudgetDefaults, maxBadShare: 0 }), RangeError);
  assert.throws(() => new GrayBudget({ ...grayBudgetDefaults, windowMs: 0 }), RangeError);
});

/** Answers probes late while `stalling` (never past the breaker's 2 s slow threshold). */
class StallingCluster implements ProbingSink {
  maxMessageBytes = 1_000_000;
  stalling = false;
  async send(): Promise<void> {}
  probe(): Promise<number> { return new Promise((r) => setTimeout(() => r(1), this.stalling ? 150 : 0)); }
  async close(): Promise<void> {}
}

test('the failover sink opens a circuit on its gray budget, says so in the reason and the metrics, and fails over', async (t) => {
  const a = new StallingCluster();
  const b = new StallingCluster();
  const registry = createRegistry(false);
  const cfg = {
    breaker: { failureThreshold: 5, slowThreshold: 5, slowMs: 2000, openDurationMs: 60_000 }, probeIntervalMs: 10, failbackHoldDownMs: 60_000,
    gray: { windowMs: 2000, slowMs: 50, maxBadShare: 0.4, minBad: 4 },
  };
  const s = new FailoverSink([{ name: 'A', region: 'r1', priority: 1, sink: a }, { name: 'B', region: 'r2', priority: 2, sink: b }], cfg, registry, silentLogger, 'g');
  t.after(() => s.close());
  const events: FailoverEvent[] = [];
  s.onEvent((e) => events.push(e));
  a.stalling = true;
  const deadline = Date.now() + 30_000;
  while (!events.some((e) => e.kind === 'breaker' && e.to === 'open') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const open = events.find((e) => e.kind === 'breaker' && e.to === 'open');
  assert.ok(open, 'circuit opened');
  assert.equal(open.cluster, 'A');
  assert.match(open.reason, /^gray failure: \d+ of \d+ probes slower than 50 ms/);
  await s.send([]);
  assert.equal(s.activeCluster, 'B', 'traffic moved');
  const text = await registry.metrics();
  assert.match(text, /edgelog_sink_gray_trips_total\{component="g",cluster="A"\} [1-9]/);
  assert.match(text, /edgelog_sink_gray_bad_probe_share\{component="g",cluster="A",region="r1"\}/);
});

test('gray budget settings come from failover: in the kafka sink config; bad values name the key path', () => {
  const base = { topic: 't', clusters: [{ name: 'a', brokers: ['127.0.0.1:1'] }, { name: 'b', brokers: ['127.0.0.1:2'] }] };
  const setup = kafkaSinkWithFailover.validate({ ...base, failover: { gray_window: '8s', gray_slow_threshold: '250ms', gray_max_bad_share: 0.5, gray_min_bad_probes: 6 } }, 'sinks.k');
  assert.equal(setup.mode, 'failover');
  assert.deepEqual(setup.mode === 'failover' && setup.failover.gray, { windowMs: 8000, slowMs: 250, maxBadShare: 0.5, minBad: 6 });
  const defaults = kafkaSinkWithFailover.validate(base, 'sinks.k');
  assert.deepEqual(defaults.mode === 'failover' && defaults.failover.gray, grayBudgetDefaults);
  assert.throws(() => kafkaSinkWithFailover.validate({ ...base, failover: { gray_max_bad_share: 2 } }, 'sinks.k'),
    (e: unknown) => e instanceof ConfigError && e.path === 'sinks.k.failover.gray_max_bad_share');
});

test('a request stuck on a cluster that still answers probes opens its circuit after stuck_request and is resent on the next', async (t) => {
  let hang = true;
  const got: string[] = [];
  const a: ProbingSink = { maxMessageBytes: 1e6, send: () => (hang ? new Promise(() => {}) : Promise.resolve()), probe: async () => 1, close: async () => {} };
  const b: ProbingSink = { maxMessageBytes: 1e6, send: async (m) => { got.push(...m.map((x) => x.value.toString())); }, probe: async () => 1, close: async () => {} };
  const cfg = { breaker: { failureThreshold: 5, slowThreshold: 5, slowMs: 2000, openDurationMs: 60_000 }, probeIntervalMs: 10, failbackHoldDownMs: 60_000, stuckRequestMs: 200 };
  const s = new FailoverSink([{ name: 'A', region: 'r1', priority: 1, sink: a }, { name: 'B', region: 'r2', priority: 2, sink: b }], cfg, createRegistry(false), silentLogger, 's');
  t.after(() => s.close());
  const events: FailoverEvent[] = [];
  s.onEvent((e) => events.push(e));
  await s.send([{ key: null, value: Buffer.from('r1'), headers: {}, records: [] }]);
  hang = false;
  assert.deepEqual(got, ['r1'], 'delivered on B');
  assert.equal(s.activeCluster, 'B');
  assert.match(events.find((e) => e.kind === 'breaker' && e.to === 'open')!.reason, /request outstanding for more than 200 ms/);
});
