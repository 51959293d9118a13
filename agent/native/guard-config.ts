// The `guard:` section of the agent's YAML, validated into GuardRules plus
// where to attach. Example:
//
//   guard:
//     interface: eth0
//     deny: [203.0.113.0/24, "2001:db8:bad::/48"]
//     allow: [10.0.0.0/8]
//     rate: { packets_per_sec: 2000, bytes_per_sec: 4MiB, burst_packets: 4000 }
//     ports: [5140, 24224]
//     pin_maps: true
//
// The lead wires it into the agent config; GuardController.applyRules takes
// `rules` on every reload (live diff, no reattach).

import { ConfigError } from '../core/errors.ts';
import { join, readOptString, readStringList, type Raw } from '../config/schema.ts';
import { derivedDefault, field, flag, int, nested, section, size, text } from '../config/declare.ts';
import type { GuardRules } from './guard.ts';
import { canonicalCidr } from './cidr.ts';

export interface GuardConfig {
  enabled: boolean;
  /** Interface whose ingress is guarded. */
  interface: string;
  /** bpffs directory for pinned maps, or undefined (no pinning). */
  pinRoot: string | undefined;
  rules: GuardRules;
}

export const guardDefaults = {
  // off unless configured: attaching to an interface is an operator decision
  enabled: false,
  // pinned so rules survive an agent restart; /sys/fs/bpf is the conventional bpffs mount (libbpf, bpftool)
  pinMaps: true,
  pinRoot: '/sys/fs/bpf/edgelog',
  // 0 = no rate limit until the operator sets one (no default rate fits every device mix)
  packetsPerSec: 0,
  bytesPerSec: 0,
} as const;

/** `guard.rate`: a token bucket per source; off while both rates are 0. */
export const guardRateSection = section({
  packetsPerSec: int('packets_per_sec', guardDefaults.packetsPerSec, 'packets per second per source (0: no packet limit)', 0, 1e9),
  bytesPerSec: size('bytes_per_sec', guardDefaults.bytesPerSec, 'bytes per second per source (0: no byte limit)'),
  burstPackets: int('burst_packets', 0, 'bucket size in packets', 0, 1e9),
  burstBytes: size('burst_bytes', 0, 'bucket size in bytes (at most 10GB)'),
}, (r, _m, rp) => {
  if (r.burstBytes > 1e10) throw new ConfigError(join(rp, 'burst_bytes'), 'at most 10GB', r.burstBytes);
});

function cidrList(key: 'deny' | 'allow', meaning: string) {
  return field<string[]>(key, 'list of IP/CIDR', [], '`[]`', meaning, (m: Raw, path: string) => readStringList(m, key, path, []).map((c, i) => {
    const canon = canonicalCidr(c);
    if (!canon) throw new ConfigError(join(join(path, key), i), 'an IPv4/IPv6 address or CIDR such as 203.0.113.0/24', c);
    return canon;
  }));
}

/** The `guard:` section's keys, declared once (agent/config/declare.ts): type, reader, defaults and its COMPONENTS.md rows. */
export const guardSection = section({
  enabled: derivedDefault(flag('enabled', true, '`false` keeps the section but detaches the guard'), '`true` when the section is present'),
  /** Interface whose ingress is guarded. */
  interface: field('interface', 'string', '', '(required when enabled)', 'interface whose ingress is guarded (1-15 characters)', (m: Raw, path: string) => readOptString(m, 'interface', path) ?? ''),
  deny: cidrList('deny', 'sources always dropped'),
  allow: cidrList('allow', 'sources always passed (at most 1024 deny + allow rules)'),
  rate: nested('rate', guardRateSection, 'map', guardRateSection.defaults, '(none)', 'per-source rate limit; off while both rates are 0', (raw, rp) => guardRateSection.read(raw, rp)),
  ports: field<number[]>('ports', 'list of int', [], '`[]`', 'destination ports guarded (at most 64; empty: all)', (m: Raw, path: string) => {
    const portsRaw = m.ports ?? [];
    if (!Array.isArray(portsRaw)) throw new ConfigError(join(path, 'ports'), 'a list of ports', portsRaw);
    if (portsRaw.length > 64) throw new ConfigError(join(path, 'ports'), 'at most 64 ports', portsRaw.length);
    return portsRaw.map((p, i) => {
      if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 65535) throw new ConfigError(join(join(path, 'ports'), i), 'a port from 1 to 65535', p);
      return p;
    });
  }),
  pinMaps: flag('pin_maps', guardDefaults.pinMaps, 'pin the BPF maps so the rules survive an agent restart'),
  pinRoot: text('pin_root', guardDefaults.pinRoot, 'bpffs directory for the pinned maps'),
}, (g, m, path) => {
  if (g.enabled) {
    if (m.interface === undefined || m.interface === null) throw new ConfigError(join(path, 'interface'), 'a string (required)');
    if (g.interface.length === 0 || g.interface.length > 15 || /[\s/]/.test(g.interface)) throw new ConfigError(join(path, 'interface'), 'an interface name (1-15 characters, no spaces or slashes)', g.interface);
  }
  if (g.deny.length + g.allow.length > 1024) throw new ConfigError(path, 'at most 1024 deny + allow rules (EDGELOG_GUARD_MAX_RULES)', g.deny.length + g.allow.length);
}, {
  // A present section guards an interface unless it says enabled: false.
  // biome-ignore lint/suspicious/noThenProperty: `then` is the JSON Schema keyword, this object is never awaited
  if: { not: { properties: { enabled: { const: false } }, required: ['enabled'] } }, then: { required: ['interface'], properties: { interface: { type: 'string', minLength: 1, maxLength: 15, pattern: '^[^\\s/]+$' } } },
});

export function validateGuardConfig(raw: unknown, path = 'guard'): GuardConfig {
  // Absent: off (attaching to an interface is an operator decision); present: on unless `enabled: false`.
  const present = raw !== undefined && raw !== null;
  const g = guardSection.read(present ? raw : { enabled: guardDefaults.enabled }, path);
  const r = g.rate;
  return {
    enabled: g.enabled,
    interface: g.interface,
    pinRoot: g.pinMaps ? g.pinRoot : undefined,
    rules: { deny: g.deny, allow: g.allow, rate: r.packetsPerSec || r.bytesPerSec ? { pps: r.packetsPerSec, bps: r.bytesPerSec, burstPackets: r.burstPackets, burstBytes: r.burstBytes } : null, ports: g.ports },
  };
}
