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
import { join, readBool, readBytes, readInt, readMap, readOptString, readString, readStringList } from '../config/schema.ts';
import { canonicalCidr, type GuardRules } from './guard.ts';

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

export function validateGuardConfig(raw: unknown, path = 'guard'): GuardConfig {
  const m = readMap(raw, path, ['enabled', 'interface', 'deny', 'allow', 'rate', 'ports', 'pin_maps', 'pin_root']);
  const present = raw !== undefined && raw !== null;
  const enabled = readBool(m, 'enabled', path, present ? true : guardDefaults.enabled);
  const iface = enabled ? readString(m, 'interface', path) : (readOptString(m, 'interface', path) ?? '');
  if (enabled && (iface.length === 0 || iface.length > 15 || /[\s/]/.test(iface))) throw new ConfigError(join(path, 'interface'), 'an interface name (1-15 characters, no spaces or slashes)', iface);
  const cidrs = (key: 'deny' | 'allow'): string[] => readStringList(m, key, path, []).map((c, i) => {
    const canon = canonicalCidr(c);
    if (!canon) throw new ConfigError(join(join(path, key), i), 'an IPv4/IPv6 address or CIDR such as 203.0.113.0/24', c);
    return canon;
  });
  const deny = cidrs('deny');
  const allow = cidrs('allow');
  if (deny.length + allow.length > 1024) throw new ConfigError(path, 'at most 1024 deny + allow rules (EDGELOG_GUARD_MAX_RULES)', deny.length + allow.length);

  const rm = readMap(m.rate, join(path, 'rate'), ['packets_per_sec', 'bytes_per_sec', 'burst_packets', 'burst_bytes']);
  const rp = join(path, 'rate');
  const pps = readInt(rm, 'packets_per_sec', rp, guardDefaults.packetsPerSec, 0, 1e9);
  const bps = readBytes(rm, 'bytes_per_sec', rp, guardDefaults.bytesPerSec);
  const burstPackets = readInt(rm, 'burst_packets', rp, 0, 0, 1e9);
  const burstBytes = readBytes(rm, 'burst_bytes', rp, 0);
  if (burstBytes > 1e10) throw new ConfigError(join(rp, 'burst_bytes'), 'at most 10GB', burstBytes);

  const portsRaw = m.ports ?? [];
  if (!Array.isArray(portsRaw)) throw new ConfigError(join(path, 'ports'), 'a list of ports', portsRaw);
  if (portsRaw.length > 64) throw new ConfigError(join(path, 'ports'), 'at most 64 ports', portsRaw.length);
  const ports = portsRaw.map((p, i) => {
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 65535) throw new ConfigError(join(join(path, 'ports'), i), 'a port from 1 to 65535', p);
    return p;
  });

  const pin = readBool(m, 'pin_maps', path, guardDefaults.pinMaps);
  const pinRoot = pin ? readString(m, 'pin_root', path, guardDefaults.pinRoot) : undefined;
  return {
    enabled,
    interface: iface,
    pinRoot,
    rules: { deny, allow, rate: pps || bps ? { pps, bps, burstPackets, burstBytes } : null, ports },
  };
}
