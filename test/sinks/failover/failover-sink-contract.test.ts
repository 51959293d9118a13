// More of the failover sink's contract, with scripted clusters whose sends and
// probes the test settles by hand (pure logic; the drill runs real brokers):
// a single cluster is a valid setup and its half-open trial shows on the
// state gauge; one send() tries each cluster at most once before the
// pipeline's backoff applies; a request abandoned on every cluster comes back
// as a retriable error naming the cluster (never a permanent one, which would
// dead-letter records); a slow request is not a stuck one under the default;
// a recovered primary takes traffic when the secondary fails; the probe cap;
// nothing counts after close; and the sink's timers never keep a process alive.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Registry } from '../../../agent/observe/prometheus.ts';
import type { EncodedMessage } from '../../../agent/core/component.ts';
import { SinkSendError } from '../../../agent/core/errors.ts';
import { FailoverSink, type FailoverConfig, type FailoverEvent, type ProbingSink } from '../../../agent/sinks/failover/failover-sink.ts';
import { createRegistry } from '../../../agent/observe/metrics.ts';
import { silentLogger } from '../../../agent/observe/log.ts';

interface Pending { resolve: () => void; reject: (e: Error) => void }

/** A cluster whose sends and probes answer as scripted, or wait for the test to settle them. */
class Scripted implements ProbingSink {
  maxMessageBytes = 1_000_000;
  send_: 'up' | 'down' | 'hold' = 'up';
  probe_: 'up' | 'down' | 'hold' = 'up';
  got: string[] = [];
  sends = 0;
  probes = 0;
  heldSends: Pending[] = [];
  heldProbes: Array<{ resolve: (ms: number) => void; reject: (e: Error) => void }> = [];
  /** Runs before a 'down' send throws (lets a test order events against the failure). */
  beforeFailure: (() => Promise<void>) | null = null;
  async send(messages: EncodedMessage[]): Promise<void> {
    this.sends++;
    if (this.send_ === 'down') {
      if (this.beforeFailure) await this.beforeFailure();
      throw new SinkSendError('connection refused', true);
    }
    if (this.send_ === 'hold') await new Promise<void>((resolve, reject) => this.heldSends.push({ resolve, reject }));
    for (const m of messages) this.got.push(m.value.toString());
  }
  probe(): Promise<number> {
    this.probes++;
    if (this.probe_ === 'down') return Promise.reject(new Error('refused'));
    if (this.probe_ === 'hold') return new Promise((resolve, reject) => this.heldProbes.push({ resolve, reject }));
    return Promise.resolve(1);
  }
  async close(): Promise<void> {}
}

const msg = (v: string): EncodedMessage[] => [{ key: null, value: Buffer.from(v), headers: {}, records: [] }];
const hour = 3_600_000;
const quiet: FailoverConfig = { breaker: { failureThreshold: 5, slowThreshold: 5, slowMs: hour, openDurationMs: hour }, probeIntervalMs: hour, failbackHoldDownMs: hour, stuckRequestMs: hour };

async function until(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`not reached within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function metric(reg: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const m = await reg.getSingleMetric(name)?.get();
  return m?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
}

function sink(clusters: Record<string, Scripted>, cfg: FailoverConfig) {
  const reg = createRegistry(false);
  const s = new FailoverSink(Object.entries(clusters).map(([name, c], i) => ({ name, region: `r${i + 1}`, priority: i + 1, sink: c })), cfg, reg, silentLogger, 'k');
  const events: FailoverEvent[] = [];
  s.onEvent((e) => events.push(e));
  return { s, reg, events };
}

test('a single cluster is a valid setup: its circuit opens, shows half-open (gauge 1) during the trial, and closes on success', async (t) => {
  const a = new Scripted();
  const { s, reg, events } = sink({ A: a }, { ...quiet, breaker: { ...quiet.breaker, openDurationMs: 30 } });
  t.after(() => s.close());
  await s.send(msg('1'));
  a.send_ = 'down';
  for (let i = 0; i < 5; i++) await assert.rejects(s.send(msg('2')), /connection refused/);
  assert.equal(await metric(reg, 'edgelog_sink_circuit_state', { cluster: 'A' }), 2);
  const opened = Date.now();
  await assert.rejects(s.send(msg('2')), (e: unknown) => e instanceof SinkSendError && e.retriable && /no cluster available/.test(e.message));
  await until('open period elapsed', () => Date.now() - opened > 40);
  a.send_ = 'hold';
  const trial = s.send(msg('2'));
  await until('trial request reached the cluster', () => a.heldSends.length === 1);
  assert.deepEqual(events.map((e) => e.to).filter((x) => x !== undefined), ['open', 'half_open']);
  assert.equal(await metric(reg, 'edgelog_sink_circuit_state', { cluster: 'A' }), 1, 'half-open is 1 on the gauge');
  a.heldSends[0]!.resolve();
  await trial;
  assert.equal(await metric(reg, 'edgelog_sink_circuit_state', { cluster: 'A' }), 0);
  assert.deepEqual(a.got, ['1', '2']);
  assert.throws(() => sink({}, quiet), /at least one cluster/);
});

test('one send tries each cluster at most once, then hands the error back to the pipeline (whose backoff applies)', async (t) => {
  const a = new Scripted();
  const b = new Scripted();
  // Each failure opens its circuit; A's open period is over by the time B has failed, so A would allow a second try.
  const { s } = sink({ A: a, B: b }, { ...quiet, breaker: { ...quiet.breaker, failureThreshold: 1, openDurationMs: 20 } });
  t.after(() => s.close());
  a.send_ = 'down';
  b.send_ = 'down';
  let aFailedAt = 0;
  a.beforeFailure = async () => { aFailedAt = Date.now(); };
  // Well past A's 20 ms open period, counted from before A's failure was even thrown.
  b.beforeFailure = () => until("A's open period elapsed", () => Date.now() - aFailedAt > 150);
  await assert.rejects(s.send(msg('x')), /connection refused/);
  assert.deepEqual([a.sends, b.sends], [1, 1]);
});

test('a request abandoned on the only cluster comes back retriable, naming the cluster (never a permanent error that would dead-letter it)', async (t) => {
  const a = new Scripted();
  a.send_ = 'hold';
  const { s } = sink({ A: a }, { ...quiet, stuckRequestMs: 30 });
  t.after(() => s.close());
  await assert.rejects(s.send(msg('x')), (e: unknown) => e instanceof SinkSendError && e.retriable && /cluster A failed during the request/.test(e.message));
});

test('a request abandoned on the primary moves on; the failover event says why', async (t) => {
  const a = new Scripted();
  const b = new Scripted();
  a.send_ = 'hold';
  const { s, events } = sink({ A: a, B: b }, { ...quiet, stuckRequestMs: 30 });
  t.after(() => s.close());
  await s.send(msg('moved'));
  assert.deepEqual(b.got, ['moved']);
  const failover = events.find((e) => e.kind === 'failover');
  assert.equal(failover?.to, 'B');
  assert.match(failover!.reason, /cluster A failed during the request/);
});

test('without stuck_request_ms a slow request is not a stuck one: the default (10 s) applies', async (t) => {
  const a = new Scripted();
  const b = new Scripted();
  const { stuckRequestMs: _, ...noStuck } = quiet;
  const { s, events } = sink({ A: a, B: b }, noStuck);
  t.after(() => s.close());
  a.send_ = 'hold';
  const p = s.send(msg('slow'));
  await until('request reached A', () => a.heldSends.length === 1);
  const started = Date.now();
  await until('50 ms passed', () => Date.now() - started >= 50);
  a.heldSends[0]!.resolve();
  await p;
  assert.deepEqual([a.got, b.got], [['slow'], []]);
  assert.deepEqual(events, [], 'no circuit opened, no failover');
});

test('failed over to the secondary and the secondary fails: the recovered primary takes the request (no "no cluster available")', async (t) => {
  const a = new Scripted();
  const b = new Scripted();
  // The failback hold-down is an hour: only the secondary's failure brings traffic back to A.
  const { s } = sink({ A: a, B: b }, { ...quiet, breaker: { ...quiet.breaker, failureThreshold: 1, openDurationMs: 20 } });
  t.after(() => s.close());
  a.send_ = 'down';
  await s.send(msg('on B'));
  assert.equal(s.activeCluster, 'B');
  const opened = Date.now();
  a.send_ = 'up';
  await until("A's open period elapsed", () => Date.now() - opened > 30);
  b.send_ = 'down';
  await s.send(msg('back on A'));
  assert.deepEqual([a.got, b.got], [['back on A'], ['on B']]);
  assert.equal(s.activeCluster, 'A');
});

test('probes: with a slow-probe threshold of 1, one hung probe opens the circuit (the in-flight cap still lets the first one out)', async (t) => {
  const a = new Scripted();
  const b = new Scripted();
  a.probe_ = 'hold';
  const { s, events } = sink({ A: a, B: b }, { ...quiet, probeIntervalMs: 10, breaker: { failureThreshold: 5, slowThreshold: 1, slowMs: 20, openDurationMs: hour } });
  t.after(() => s.close());
  await until('A opened on a slow probe', () => events.some((e) => e.kind === 'breaker' && e.cluster === 'A' && e.to === 'open'));
  // (After the verdict the slot is free again, so a second probe may already be out: the cap itself is tested below.)
  assert.match(events.find((e) => e.kind === 'breaker' && e.to === 'open')!.reason, /1 consecutive probes slower than 20 ms/);
});

test('after close: probes stop, and a probe answered late changes nothing', async (t) => {
  const a = new Scripted();
  const b = new Scripted();
  a.probe_ = 'hold';
  // Any bad probe sample would exhaust this gray budget and open A.
  const cfg = { ...quiet, probeIntervalMs: 10, gray: { windowMs: hour, slowMs: hour, maxBadShare: 0.01, minBad: 1 } };
  const { s, events, reg } = sink({ A: a, B: b }, cfg);
  await until('a probe in flight on A', () => a.heldProbes.length >= 1);
  await s.close();
  const probesAtClose = a.probes + b.probes;
  for (const p of a.heldProbes) p.reject(new Error('refused, late'));
  // A second sink probing at the same rate shows time passing (no fixed sleep).
  const c = new Scripted();
  const control = sink({ C: c }, { ...quiet, probeIntervalMs: 10 });
  t.after(() => control.s.close());
  await until('control sink probed 5 times', () => c.probes >= 5);
  assert.equal(a.probes + b.probes, probesAtClose, 'no probe after close');
  assert.deepEqual(events, [], 'the late failure opened nothing');
  assert.equal(await metric(reg, 'edgelog_sink_gray_bad_probe_share', { cluster: 'A' }), undefined, 'no gray sample recorded');
  assert.equal(s.grayState()[0]!.total, 0, 'no sample on A after close');
});

test("the sink's timers never keep a process alive (probe interval, a hung send's stuck timer, a hung probe's slow and gray timers)", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), `edgelog-failover-exit-${process.pid}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const mod = fileURLToPath(new URL('../../../agent/sinks/failover/failover-sink.ts', import.meta.url));
  const metrics = fileURLToPath(new URL('../../../agent/observe/metrics.ts', import.meta.url));
  const log = fileURLToPath(new URL('../../../agent/observe/log.ts', import.meta.url));
  const script = join(dir, 'never-closed.ts');
  writeFileSync(script, [
    `import { FailoverSink } from ${JSON.stringify(mod)};`,
    `import { createRegistry } from ${JSON.stringify(metrics)};`,
    `import { silentLogger } from ${JSON.stringify(log)};`,
    // A cluster whose sends and probes never settle (their stuck, slow and gray timers pending); the sink is never closed.
    'const hung = { maxMessageBytes: 1000, send: () => new Promise(() => {}), probe: () => new Promise(() => {}), close: async () => {} };',
    `const s = new FailoverSink([{ name: 'A', region: 'r1', priority: 1, sink: hung }], { breaker: { failureThreshold: 5, slowThreshold: 5, slowMs: ${hour}, openDurationMs: ${hour} }, probeIntervalMs: 5, failbackHoldDownMs: ${hour}, stuckRequestMs: ${hour}, gray: { windowMs: ${hour}, slowMs: ${hour}, maxBadShare: 0.5, minBad: 4 } }, createRegistry(false), silentLogger, 'k');`,
    "void s.send([{ key: null, value: Buffer.from('x'), headers: {}, records: [] }]);",
    "process.stdout.write('started\\n');",
  ].join('\n'));
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const code = await new Promise<number | null | 'held'>((res) => {
    const deadline = setTimeout(() => { child.kill('SIGKILL'); res('held'); }, 60_000);
    child.on('exit', (c) => { clearTimeout(deadline); res(c); });
  });
  assert.equal(code, 0, `the process exits by itself once nothing but the sink's timers is left (output: ${out})`);
  assert.match(out, /started/);
});

test('probes in flight are capped at the slow-probe threshold, and a slow verdict frees its slot', async (t) => {
  const a = new Scripted();
  a.probe_ = 'hold';
  // slowMs an hour: no verdict frees a slot, so exactly the cap stays in flight.
  const { s } = sink({ A: a }, { ...quiet, probeIntervalMs: 5, breaker: { ...quiet.breaker, slowThreshold: 3 } });
  t.after(() => s.close());
  await until('cap reached', () => a.heldProbes.length >= 3);
  const c = new Scripted();
  const control = sink({ C: c }, { ...quiet, probeIntervalMs: 5 });
  t.after(() => control.s.close());
  await until('control sink probed 10 times', () => c.probes >= 10);
  assert.equal(a.probes, 3, 'no fourth probe while three hang');
  // A cluster that answers keeps being probed at probe rate: every answer frees its slot.
  const h = new Scripted();
  const healthy = sink({ H: h }, { ...quiet, probeIntervalMs: 5, breaker: { ...quiet.breaker, slowThreshold: 2 } });
  t.after(() => healthy.s.close());
  await until('healthy cluster probed 10 times', () => h.probes >= 10);
  // Slow verdicts free slots too: a hung cluster is probed again after each verdict.
  const slow = new Scripted();
  slow.probe_ = 'hold';
  const sl = sink({ S: slow }, { ...quiet, probeIntervalMs: 5, breaker: { failureThreshold: 5, slowThreshold: 2, slowMs: 10, openDurationMs: hour } });
  t.after(() => sl.s.close());
  await until('hung cluster probed past the cap', () => slow.probes >= 6);
});

test('failed probes open the circuit by the failure count alone (gray budget out of reach)', async (t) => {
  const a = new Scripted();
  const b = new Scripted();
  a.probe_ = 'down';
  const { s, events } = sink({ A: a, B: b }, { ...quiet, probeIntervalMs: 5, gray: { windowMs: 1000, slowMs: hour, maxBadShare: 1, minBad: 1_000_000 } });
  t.after(() => s.close());
  await until('A opened', () => events.some((e) => e.kind === 'breaker' && e.cluster === 'A' && e.to === 'open'));
  assert.match(events[0]!.reason, /5 consecutive failures: probe failed/);
});

test('each probe is one gray sample: a slow probe that answers later is not counted twice', async (t) => {
  const a = new Scripted();
  a.probe_ = 'hold';
  const { s } = sink({ A: a }, { ...quiet, probeIntervalMs: 5, breaker: { ...quiet.breaker, slowThreshold: 1 }, gray: { windowMs: hour, slowMs: 10, maxBadShare: 1, minBad: 1_000_000 } });
  t.after(() => s.close());
  await until('first probe cut off as slow by the gray timer', () => s.grayState()[0]!.total === 1);
  a.heldProbes[0]!.resolve(1); // answers late: already counted, must not count again
  // The freed slot starts a second probe, which hangs and is cut off in turn (the cap of 1 stops a third).
  await until('second probe cut off', () => a.probes === 2 && s.grayState()[0]!.total >= 2);
  const c = new Scripted();
  const control = sink({ C: c }, { ...quiet, probeIntervalMs: 5 });
  t.after(() => control.s.close());
  await until('control sink probed 5 times', () => c.probes >= 5);
  assert.deepEqual(s.grayState().map((g) => [g.bad, g.total]), [[2, 2]], 'one sample per probe');
});

test('logs: failing over and back at warn, a circuit opening at error, other transitions at info', async (t) => {
  const lines: Array<[string, string, Record<string, unknown>]> = [];
  const log = {
    debug() {}, child() { return log; },
    info(m: string, f: Record<string, unknown> = {}) { lines.push(['info', m, f]); },
    warn(m: string, f: Record<string, unknown> = {}) { lines.push(['warn', m, f]); },
    error(m: string, f: Record<string, unknown> = {}) { lines.push(['error', m, f]); },
  };
  const a = new Scripted();
  const b = new Scripted();
  const s = new FailoverSink([{ name: 'A', region: 'r1', priority: 1, sink: a }, { name: 'B', region: 'r2', priority: 2, sink: b }], { ...quiet, breaker: { ...quiet.breaker, failureThreshold: 1, openDurationMs: 10 }, failbackHoldDownMs: 0 }, createRegistry(false), log, 'k');
  t.after(() => s.close());
  a.send_ = 'down';
  await s.send(msg('1'));
  const opened = Date.now();
  a.send_ = 'up';
  await until("A's open period elapsed", () => Date.now() - opened > 20);
  b.send_ = 'down';
  await s.send(msg('2')); // B opens, A half-open takes it and closes
  await s.send(msg('3'));
  const shown = lines.map(([level, m, f]) => [level, m, f.from ?? '', f.to ?? ''].join(' '));
  assert.deepEqual(shown, [
    'error circuit opened closed open',
    'warn failing over A B',
    'error circuit opened closed open',
    'info circuit changed open half_open',
    'warn failing over B A',
    'info circuit changed half_open closed',
  ]);
  assert.equal(lines[1]![2].region, 'r2');
  assert.match(String(lines[1]![2].reason), /connection refused/);
});

test('a producer-session reset that fails is tried again before the next records go out on that cluster', async (t) => {
  const a = new Scripted();
  let resets = 0;
  let failNextReset = false;
  (a as Scripted & { resetSession: (why: string) => Promise<void> }).resetSession = async () => {
    resets++;
    if (failNextReset) { failNextReset = false; throw new Error('reset refused'); }
  };
  const { s } = sink({ a }, quiet);
  t.after(() => s.close());
  a.send_ = 'down';
  await assert.rejects(s.send(msg('m1')));
  a.send_ = 'up';
  failNextReset = true;
  // Different records after a failed (possibly written) request: the session must be reset first.
  await assert.rejects(s.send(msg('m2')), /reset refused/);
  assert.equal(resets, 1);
  assert.deepEqual(a.got, [], 'nothing sent on the old session');
  await s.send(msg('m2'));
  assert.equal(resets, 2, 'the failed reset was tried again before m2 went out');
  assert.deepEqual(a.got, ['m2']);
});
