// The circuit breaker's contract, call by call (pure logic, explicit clock):
// exact thresholds, what resets the counts, and that a half-open trial that
// fails reopens however the circuit was opened.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CircuitBreaker, breakerDefaults, type BreakerConfig, type BreakerState } from '../../../agent/sinks/failover/breaker.ts';

const cfg: BreakerConfig = { failureThreshold: 5, slowThreshold: 3, slowMs: 2000, openDurationMs: 1000 };

function breaker(c: BreakerConfig = cfg): { b: CircuitBreaker; seen: Array<[BreakerState, BreakerState, string]> } {
  const seen: Array<[BreakerState, BreakerState, string]> = [];
  const b = new CircuitBreaker(c, (from, to, reason) => seen.push([from, to, reason]));
  return { b, seen };
}

test('defaults follow the design brief: five failures, five probes slower than 2 s, 10 s open', () => {
  assert.deepEqual(breakerDefaults, { failureThreshold: 5, slowThreshold: 5, slowMs: 2000, openDurationMs: 10_000 });
});

test('exact failure threshold: threshold-1 consecutive failures keep it closed, the threshold-th opens', () => {
  const { b, seen } = breaker();
  for (let i = 0; i < 4; i++) { b.failure('refused', 0); assert.equal(b.state, 'closed', `after ${i + 1} failures`); }
  assert.equal(b.allows(0), true);
  b.failure('refused', 0);
  assert.equal(b.state, 'open');
  assert.equal(b.lastReason, 'refused');
  assert.deepEqual(seen, [['closed', 'open', '5 consecutive failures: refused']]);
});

test('a probe failure counts as a failure', () => {
  const { b } = breaker();
  for (let i = 0; i < 4; i++) b.probe(null, 0);
  assert.equal(b.state, 'closed');
  b.probe(null, 0);
  assert.equal(b.state, 'open');
  assert.equal(b.lastReason, 'probe failed');
});

test('exact slow threshold and boundary: a probe of exactly slowMs is healthy, slowMs+1 is slow', () => {
  const { b, seen } = breaker();
  for (let i = 0; i < 10; i++) b.probe(2000, 0);
  assert.equal(b.state, 'closed', 'latency == slowMs is not slow');
  b.probe(2001, 0);
  b.probe(2001, 0);
  assert.equal(b.state, 'closed', 'slowThreshold-1 slow probes');
  assert.equal(b.lastReason, 'probe took 2001 ms');
  b.probe(2001, 0);
  assert.equal(b.state, 'open');
  assert.deepEqual(seen, [['closed', 'open', '3 consecutive probes slower than 2000 ms']]);
});

test('a healthy probe between slow ones resets the slow count', () => {
  const { b } = breaker();
  b.probe(5000, 0); b.probe(5000, 0);
  b.probe(1, 0);
  b.probe(5000, 0); b.probe(5000, 0);
  assert.equal(b.state, 'closed');
  b.probe(5000, 0);
  assert.equal(b.state, 'open');
});

test('failures interleaved with healthy probes never open the circuit; consecutive ones still do', () => {
  const { b, seen } = breaker();
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 4; i++) {
      b.failure('send failed', 0);
      assert.equal(b.state, 'closed', `round ${round}, failure ${i + 1}`);
    }
    b.probe(10, 0); // the cluster answers: the failure run is broken
  }
  assert.deepEqual(seen, [], '20 failures in runs of 4, each run ended by a healthy probe: no transition at all');
  for (let i = 0; i < 5; i++) b.failure('send failed', 0);
  assert.equal(b.state, 'open');
});

test('slow probes do not reset the failure count, and failures do not reset the slow count', () => {
  const { b } = breaker();
  for (let i = 0; i < 4; i++) b.failure('x', 0);
  b.probe(5000, 0);
  b.failure('x', 0);
  assert.equal(b.state, 'open', 'the slow probe in between did not break the failure run');
  const c = breaker().b;
  c.probe(5000, 0); c.probe(5000, 0);
  c.failure('x', 0);
  c.probe(5000, 0);
  assert.equal(c.state, 'open', 'the failure in between did not break the slow run');
});

test('open holds traffic for exactly openDurationMs, then allows one trial (half-open)', () => {
  const { b, seen } = breaker();
  for (let i = 0; i < 5; i++) b.failure('x', 100);
  assert.equal(b.allows(100), false);
  assert.equal(b.allows(1099), false);
  assert.equal(b.state, 'open');
  assert.equal(b.allows(1100), true);
  assert.equal(b.state, 'half_open');
  assert.equal(b.allows(1100), true, 'half-open stays allowed until the trial settles');
  assert.deepEqual(seen.map((s) => s[1]), ['open', 'half_open']);
  assert.equal(seen[1]![2], 'open period elapsed');
});

test('slow-probe open, then a failed trial reopens on its first failure', () => {
  const { b, seen } = breaker();
  for (let i = 0; i < 3; i++) b.probe(9000, 0);
  assert.equal(b.state, 'open');
  assert.equal(b.allows(1000), true);
  assert.equal(b.state, 'half_open');
  b.failure('trial send failed', 1000);
  assert.equal(b.state, 'open', 'one failure in half-open reopens, although only one failure was counted');
  // The new open period starts at the failed trial.
  assert.equal(b.allows(1999), false);
  assert.equal(b.allows(2000), true);
  assert.deepEqual(seen.map((s) => s[1]), ['open', 'half_open', 'open', 'half_open']);
});

test('a failed probe in half-open reopens as well', () => {
  const { b } = breaker();
  for (let i = 0; i < 3; i++) b.probe(9000, 0);
  b.allows(1000);
  b.probe(null, 1000);
  assert.equal(b.state, 'open');
});

test('a successful trial closes and resets both counts; closedSince is the success time', () => {
  const { b, seen } = breaker();
  for (let i = 0; i < 5; i++) b.failure('x', 0);
  b.allows(1000);
  b.success(1234);
  assert.equal(b.state, 'closed');
  assert.equal(b.closedSince, 1234);
  assert.deepEqual(seen.at(-1), ['half_open', 'closed', 'request succeeded']);
  for (let i = 0; i < 4; i++) b.failure('x', 1300);
  assert.equal(b.state, 'closed', 'the failure count started again from zero');
  b.failure('x', 1300);
  assert.equal(b.state, 'open');
});

test('a healthy probe while open closes the circuit (the cluster answers again)', () => {
  const { b } = breaker();
  for (let i = 0; i < 5; i++) b.failure('x', 0);
  b.probe(5, 10);
  assert.equal(b.state, 'closed');
  assert.equal(b.closedSince, 10);
  for (let i = 0; i < 4; i++) b.failure('x', 20);
  assert.equal(b.state, 'closed', 'counts were reset by the close');
});

test('a success while closed does not report a transition', () => {
  const { b, seen } = breaker();
  const since = b.closedSince;
  b.success(5);
  b.probe(5, 5);
  assert.equal(b.state, 'closed');
  assert.equal(b.closedSince, since);
  assert.deepEqual(seen, []);
});

test('failures while already open keep it open without a second transition and restart the open period', () => {
  const { b, seen } = breaker();
  for (let i = 0; i < 5; i++) b.failure('x', 0);
  b.failure('y', 500);
  assert.equal(b.state, 'open');
  assert.equal(seen.length, 1);
  assert.equal(b.allows(1000), false, 'the open period restarted at the later failure');
  assert.equal(b.allows(1500), true);
});

test('a fresh breaker is closed with zero counts, no reason, and closed since its creation', () => {
  const before = Date.now();
  const { b } = breaker();
  const after = Date.now();
  assert.equal(b.state, 'closed');
  assert.equal(b.lastReason, '');
  assert.ok(b.closedSince >= before && b.closedSince <= after, `closedSince ${b.closedSince} in [${before}, ${after}]`);
  b.probe(5000, 0); b.probe(5000, 0);
  assert.equal(b.state, 'closed', 'slowThreshold-1 slow probes from fresh');
  const c = breaker().b;
  for (let i = 0; i < 4; i++) c.failure('x', 0);
  assert.equal(c.state, 'closed', 'failureThreshold-1 failures from fresh');
});

test('a successful send resets the slow-probe count too', () => {
  const { b } = breaker();
  b.probe(5000, 0); b.probe(5000, 0);
  b.success(0);
  b.probe(5000, 0); b.probe(5000, 0);
  assert.equal(b.state, 'closed');
  b.probe(5000, 0);
  assert.equal(b.state, 'open');
});
