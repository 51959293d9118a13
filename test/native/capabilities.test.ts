// Host capability detection, the doctor lines, and the fallback when the
// library is missing (EDGELOG_NATIVE_LIB pointing nowhere, in a child process
// because the loader caches per process).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Registry } from '../../agent/observe/prometheus.ts';
import { capabilities, effectiveCaps, hasCap, kernelVersion, reportCapabilities } from '../../agent/native/capabilities.ts';
import { doctorReport, formatDoctor } from '../../agent/native/doctor.ts';
import { canonicalCidr } from '../../agent/native/cidr.ts';
import { NativeUnavailableError } from '../../agent/core/errors.ts';

test('CapEff parsing and kernel version', () => {
  const caps = effectiveCaps('Name:\tnode\nCapEff:\t000000c000001000\n');
  assert.ok(hasCap(caps, 12), 'CAP_NET_ADMIN');
  assert.ok(hasCap(caps, 38) && hasCap(caps, 39), 'CAP_PERFMON, CAP_BPF');
  assert.ok(!hasCap(caps, 21));
  assert.equal(effectiveCaps('no caps here'), 0n);
  assert.deepEqual(kernelVersion('6.18.44-fc'), [6, 18]);
  assert.deepEqual(kernelVersion('weird'), [0, 0]);
});

test('every feature has available/reason/fix; doctor mirrors it', () => {
  const r = capabilities(true);
  for (const [f, s] of Object.entries(r)) {
    assert.equal(typeof s.available, 'boolean', f);
    assert.ok(s.reason.length > 0, `${f} has a reason`);
    assert.ok(s.available || s.fix.length > 0, `${f} unavailable needs a fix`);
  }
  const lines = doctorReport();
  assert.equal(lines.length, Object.keys(r).length + 1);
  assert.equal(lines.at(-1)!.feature, 'lz4 (liblz4)');
  assert.ok(lines.every((l) => typeof l.ok === 'boolean' && l.feature && l.reason));
  assert.match(formatDoctor(lines), /io_uring/);
});

test('availability gauge and log lines for fallbacks', async () => {
  const reg = new Registry();
  const logged: string[] = [];
  const log = { debug() {}, info() {}, warn(m: string, f?: Record<string, unknown>) { logged.push(`${m} ${f?.feature}`); }, error() {}, child() { return log; } };
  const report = capabilities();
  const fake = { ...report, io_uring: { available: false, reason: 'disabled by sysctl kernel.io_uring_disabled=2', fix: 'sysctl -w kernel.io_uring_disabled=0' } };
  reportCapabilities(fake, log, reg, ['io_uring']);
  reportCapabilities(fake, log, reg, ['io_uring']); // registering twice is fine
  const text = await reg.metrics();
  assert.match(text, /edgelog_native_available\{feature="io_uring",reason="disabled by sysctl kernel.io_uring_disabled=2"\} 0/);
  assert.deepEqual(logged, ['native feature unavailable, falling back io_uring', 'native feature unavailable, falling back io_uring']);
});

test('missing library: features unavailable with reason and fix, NativeUnavailableError on use', () => {
  const script = `
    import { capabilities } from './agent/native/capabilities.ts';
    import { UringSender } from './agent/native/uring-sender.ts';
    import { GuardController } from './agent/native/guard.ts';
    const r = capabilities();
    const errs = [];
    for (const f of [() => UringSender.open(), () => GuardController.open('lo')]) {
      try { f(); } catch (e) { errs.push({ name: e.name, code: e.code, fix: e.fix }); }
    }
    console.log(JSON.stringify({ lib: r.native_lib, uring: r.io_uring, guard: r.guard, errs }));`;
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: new URL('../..', import.meta.url).pathname, encoding: 'utf8',
    env: { ...process.env, EDGELOG_NATIVE_LIB: '/nonexistent/libedgelog_native.so' },
  });
  assert.equal(out.status, 0, out.stderr);
  const r = JSON.parse(out.stdout);
  assert.equal(r.lib.available, false);
  assert.match(r.lib.reason, /nonexistent.*not found/);
  assert.match(r.lib.fix, /EDGELOG_NATIVE_LIB/);
  assert.equal(r.guard.available, false);
  if (r.uring.reason !== 'disabled by sysctl kernel.io_uring_disabled=2') assert.equal(r.uring.available, false);
  assert.equal(r.errs.length, 2);
  for (const e of r.errs) {
    assert.equal(e.name, NativeUnavailableError.name);
    assert.equal(e.code, 'EDGELOG_NATIVE_UNAVAILABLE');
    assert.ok(e.fix);
  }
});

test('CIDR canonical form matches the C side', () => {
  assert.equal(canonicalCidr('10.1.2.3/8'), '10.0.0.0/8');
  assert.equal(canonicalCidr('10.1.2.3'), '10.1.2.3/32');
  assert.equal(canonicalCidr('2001:DB8::1/32'), '2001:db8::/32');
  assert.equal(canonicalCidr('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1/128');
  assert.equal(canonicalCidr('::'), '::/128');
  assert.equal(canonicalCidr('::ffff:10.0.0.1'), '::ffff:10.0.0.1/128');
  for (const bad of ['10.0.0.256', '10.0.0.0/33', 'abc', '1::2::3', '10.0.0.0/8/1', '2001:db8::/129', '']) assert.equal(canonicalCidr(bad), undefined, bad);
});
