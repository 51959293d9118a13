// The `guard:` YAML section: defaults, canonical CIDRs, and errors naming the key path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseYaml as parse } from '../../agent/config/yaml.ts';
import { ConfigError } from '../../agent/core/errors.ts';
import { validateGuardConfig } from '../../agent/native/guard-config.ts';

test('absent section: guard disabled', () => {
  const c = validateGuardConfig(undefined);
  assert.equal(c.enabled, false);
});

test('full section', () => {
  const c = validateGuardConfig(parse(`
interface: eth0
deny: [203.0.113.7/24, "2001:DB8:bad::1/48"]
allow: 10.1.2.3
rate: { packets_per_sec: 2000, bytes_per_sec: 4MiB, burst_packets: 4000 }
ports: [5140, 24224]
`));
  assert.equal(c.enabled, true);
  assert.equal(c.interface, 'eth0');
  assert.equal(c.pinRoot, '/sys/fs/bpf/edgelog');
  assert.deepEqual(c.rules.deny, ['203.0.113.0/24', '2001:db8:bad::/48']);
  assert.deepEqual(c.rules.allow, ['10.1.2.3/32']);
  assert.deepEqual(c.rules.rate, { pps: 2000, bps: 4 * 1024 * 1024, burstPackets: 4000, burstBytes: 0 });
  assert.deepEqual(c.rules.ports, [5140, 24224]);
  assert.equal(validateGuardConfig({ interface: 'eth0', pin_maps: false }).pinRoot, undefined);
  assert.equal(validateGuardConfig({ interface: 'eth0' }).rules.rate, null);
});

test('errors name the key path', () => {
  const bad: [unknown, string][] = [
    [{ deny: ['10.0.0.0/8'] }, 'guard.interface'],
    [{ interface: 'eth0', deny: ['10.0.0.0/8', '10.0.0.300'] }, 'guard.deny[1]'],
    [{ interface: 'eth0', rate: { packets_per_sec: -1 } }, 'guard.rate.packets_per_sec'],
    [{ interface: 'eth0', ports: [80, 70000] }, 'guard.ports[1]'],
    [{ interface: 'eth0', colour: 'red' }, 'guard.colour'],
  ];
  for (const [raw, path] of bad) {
    assert.throws(() => validateGuardConfig(raw), (e: unknown) => e instanceof ConfigError && e.path === path, path);
  }
});
