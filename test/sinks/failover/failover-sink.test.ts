// Failover logic with scripted clusters (pure logic; the drill exercises real brokers).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EncodedMessage } from '../../../agent/core/component.ts';
import { SinkSendError } from '../../../agent/core/errors.ts';
import { CircuitBreaker } from '../../../agent/sinks/failover/breaker.ts';
import { FailoverSink, type FailoverEvent, type ProbingSink } from '../../../agent/sinks/failover/failover-sink.ts';
import { createRegistry } from '../../../agent/observe/metrics.ts';
import { silentLogger } from '../../../agent/observe/log.ts';
import { AckGroup } from '../../../agent/core/ack.ts';
import { newRecord } from '../../../agent/core/record.ts';

class FakeCluster implements ProbingSink {
  maxMessageBytes = 1_000_000;
  mode: 'up' | 'down' | 'hung' = 'up';
  got: string[] = [];
  resets = 0;
  trims = 0;
  async resetSession(): Promise<void> { this.resets++; }
  trim(): void { this.trims++; }
  async send(messages: EncodedMessage[]): Promise<void> {
    if (this.mode === 'down') throw new SinkSendError('connection refused', true);
    if (this.mode === 'hung') return new Promise(() => {});
    for (const m of messages) this.got.push(m.value.toString());
  }
  async probe(): Promise<number> {
    if (this.mode === 'down') throw new Error('refused');
    if (this.mode === 'hung') return new Promise(() => {});
    return 1;
  }
  async close(): Promise<void> {}
}

const msg = (v: string): EncodedMessage => ({ key: null, value: Buffer.from(v), headers: {}, records: [newRecord(Buffer.from(v), 's', 's', 's', 0, new AckGroup(0, () => {}))] });
const cfg = { breaker: { failureThreshold: 5, slowThreshold: 5, slowMs: 40, openDurationMs: 50 }, probeIntervalMs: 10, failbackHoldDownMs: 150 };

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) { if (Date.now() > end) throw new Error('condition not reached'); await new Promise((r) => setTimeout(r, 5)); }
}

test('breaker opens after five consecutive failures or five slow probes, half-opens, closes on success', () => {
  const seen: string[] = [];
  const b = new CircuitBreaker({ failureThreshold: 5, slowThreshold: 5, slowMs: 2000, openDurationMs: 1000 }, (_f, to) => seen.push(to));
  for (let i = 0; i < 4; i++) b.failure('x', 0);
  assert.equal(b.state, 'closed');
  b.success(0);
  for (let i = 0; i < 4; i++) b.failure('x', 0);
  assert.equal(b.state, 'closed', 'a success resets the count');
  b.failure('x', 0);
  assert.equal(b.state, 'open');
  assert.equal(b.allows(500), false);
  assert.equal(b.allows(1000), true);
  assert.equal(b.state, 'half_open');
  b.failure('x', 1000);
  assert.equal(b.state, 'open', 'a failed trial reopens');
  assert.equal(b.allows(2000), true);
  b.success(2000);
  assert.equal(b.state, 'closed');
  for (let i = 0; i < 4; i++) b.probe(2500, 3000);
  b.probe(10, 3000);
  for (let i = 0; i < 4; i++) b.probe(2500, 3000);
  assert.equal(b.state, 'closed', 'slow probes must be consecutive');
  b.probe(2500, 3000);
  assert.equal(b.state, 'open');
  assert.deepEqual(seen, ['open', 'half_open', 'open', 'half_open', 'closed', 'open']);
});

test('a dead primary fails over to the secondary, then fails back after the hold-down', async () => {
  const a = new FakeCluster();
  const b = new FakeCluster();
  const events: FailoverEvent[] = [];
  const s = new FailoverSink([{ name: 'A', region: 'r1', priority: 1, sink: a }, { name: 'B', region: 'r2', priority: 2, sink: b }], cfg, createRegistry(false), silentLogger, 'k');
  s.onEvent((e) => events.push(e));
  try {
    await s.send([msg('1')]);
    a.mode = 'down';
    // The pipeline retries; each failure counts until the circuit opens and the send moves to B.
    let delivered = false;
    for (let i = 0; i < 10 && !delivered; i++) {
      try { await s.send([msg('2')]); delivered = true; } catch { /* retriable: pipeline would back off */ }
    }
    assert.equal(delivered, true);
    assert.deepEqual(b.got, ['2']);
    assert.equal(s.activeCluster, 'B');
    assert.equal(s.health().ready, false);
    a.mode = 'up';
    await until(() => { void s.send([msg('x')]); return s.activeCluster === 'A'; });
    assert.ok(events.some((e) => e.kind === 'failover' && e.to === 'B'));
    assert.ok(events.some((e) => e.kind === 'failback' && e.to === 'A'));
  } finally { await s.close(); }
});

test('a hung primary: slow probes open the circuit and the in-flight request moves to the secondary', async () => {
  const a = new FakeCluster();
  const b = new FakeCluster();
  const reg = createRegistry(false);
  const s = new FailoverSink([{ name: 'A', region: 'r1', priority: 1, sink: a }, { name: 'B', region: 'r2', priority: 2, sink: b }], { ...cfg, failbackHoldDownMs: 60_000 }, reg, silentLogger, 'k');
  try {
    a.mode = 'hung';
    await s.send([msg('held')]); // resolves only via abandonment + resend to B
    assert.deepEqual(b.got, ['held']);
    assert.equal(s.activeCluster, 'B');
    const text = await reg.metrics();
    assert.match(text, /edgelog_sink_failover_abandoned_records_total\{component="k",cluster="A"\} 1/);
    assert.match(text, /edgelog_sink_circuit_state\{component="k",cluster="A",region="r1"\} 2/);
  } finally { await s.close(); }
});

test('a cluster whose failed request went elsewhere starts a fresh session before new records (no idempotent-dedupe loss)', async () => {
  const a = new FakeCluster();
  const b = new FakeCluster();
  const s = new FailoverSink([{ name: 'A', region: 'r1', priority: 1, sink: a }, { name: 'B', region: 'r2', priority: 2, sink: b }], { ...cfg, failbackHoldDownMs: 50 }, createRegistry(false), silentLogger, 'k');
  try {
    a.mode = 'down';
    const first = [msg('ambiguous')];
    let delivered = false;
    for (let i = 0; i < 10 && !delivered; i++) { try { await s.send(first); delivered = true; } catch { /* pipeline backs off */ } }
    assert.deepEqual(b.got, ['ambiguous']);
    assert.equal(a.resets, 0, 'retrying the same request on the same cluster keeps the session (broker dedupes it)');
    a.mode = 'up';
    await until(() => { void s.send([msg('probe-traffic')]).catch(() => {}); return s.activeCluster === 'A'; });
    await s.send([msg('new')]);
    assert.ok(a.resets >= 1, 'session reset before different records are sent to A');
    assert.ok(a.got.includes('new'));
  } finally { await s.close(); }
});

test('trim() (the agent went quiet) reaches every cluster, active or not', async () => {
  const a = new FakeCluster();
  const b = new FakeCluster();
  const s = new FailoverSink([{ name: 'A', region: 'r1', priority: 1, sink: a }, { name: 'B', region: 'r2', priority: 2, sink: b }], cfg, createRegistry(false), silentLogger, 'k');
  try {
    s.trim();
    assert.deepEqual([a.trims, b.trims], [1, 1]);
  } finally { await s.close(); }
  // A sink closed on a config reload leaves no probe timer behind (the next one starts its own).
  assert.equal((s as unknown as { timer: { _destroyed: boolean } }).timer._destroyed, true, 'the probe timer is cleared by close()');
});

test('a recovered cluster is not sent back to open by the probes that failed while it was down (the gray window starts afresh when the circuit closes)', async () => {
  const a = new FakeCluster();
  const b = new FakeCluster();
  // A window far longer than the test: only a reset empties it.
  const gray = { windowMs: 60_000, slowMs: 30, maxBadShare: 0.4, minBad: 4 };
  const s = new FailoverSink([{ name: 'A', region: 'r1', priority: 1, sink: a }, { name: 'B', region: 'r2', priority: 2, sink: b }], { ...cfg, failbackHoldDownMs: 60_000, gray }, createRegistry(false), silentLogger, 'k');
  const states: string[] = [];
  s.onEvent((e) => { if (e.kind === 'breaker' && e.cluster === 'A') states.push(e.to); });
  try {
    a.mode = 'down';
    // Probes every 10 ms, each a bad sample: the circuit opens, and the window keeps filling while it is open.
    await until(() => s.grayState()[0]!.bad >= 12);
    assert.equal(states.at(-1), 'open');
    a.mode = 'up';
    await until(() => states.at(-1) === 'closed');
    const closedAt = states.length;
    // About thirty good probes: none may open the circuit again on the outage's samples.
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(states.slice(closedAt), [], `A stayed closed (transitions after it closed: ${states.slice(closedAt).join(', ')})`);
    assert.equal(s.grayState()[0]!.bad, 0, 'the bad samples of the outage are gone');
  } finally { await s.close(); }
});
