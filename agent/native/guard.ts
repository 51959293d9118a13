// GuardController: the agent's handle on the tc/eBPF ingress guard of one
// interface. applyRules() diffs the wanted rules against what the kernel
// maps hold and changes only the difference, live (no reattach). Counters
// are read on /metrics scrapes through a collect callback.

import type { Counter, Registry } from '../observe/prometheus.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../observe/log.ts';
import { silentLogger } from '../observe/log.ts';
import { counter } from '../observe/metrics.ts';
import { loadNative, type External, type NativeLib, type Scratch } from './lib.ts';
import { existsSync } from 'node:fs';
import { effectiveCaps, hasCap, requireFeature } from './capabilities.ts';
import { canonicalCidr } from './cidr.ts';

// struct layouts from native/include/edgelog_native.h
const OPTS_SIZE = 272;          // struct edgelog_guard_opts
const PIN_ROOT_OFF = 8;
const PIN_ROOT_LEN = 256;
const REASONS = 8;              // EDGELOG_GUARD_R_MAX
const RULES_OFF = 136;          // offsetof(struct edgelog_guard_counters, rules)
const RULE_SIZE = 80;           // struct edgelog_guard_rule_stat
const MAX_RULES = 1024;
const COUNTERS_SIZE = RULES_OFF + RULE_SIZE * MAX_RULES;
const MAX_PORTS = 64;
const FLAGS_OFF = PIN_ROOT_OFF + PIN_ROOT_LEN;
const F_OPEN_PINNED = 1;        // EDGELOG_GUARD_F_OPEN_PINNED
const CAP_BPF = 39;

export const reasonNames = ['pass', 'allow', 'deny', 'rate_pps', 'rate_bps', 'out_of_scope', 'non_ip', 'reserved'] as const;
export type Reason = (typeof reasonNames)[number];
const dropReasons: ReadonlySet<Reason> = new Set(['deny', 'rate_pps', 'rate_bps']);

export interface GuardRate {
  /** Packets per second per source; 0 = no packet bucket. */
  pps: number;
  /** Bytes per second per source; 0 = no byte bucket. */
  bps: number;
  /** Bucket depths; 0 / absent = one second's worth of the rate. */
  burstPackets?: number;
  burstBytes?: number;
}

export interface GuardRules {
  deny?: readonly string[];
  allow?: readonly string[];
  /** null/absent = no rate limit. */
  rate?: GuardRate | null;
  /** Ingest ports; empty/absent = every packet is in scope. */
  ports?: readonly number[];
}

export interface GuardOptions {
  /** bpffs directory for pinned maps (e.g. /sys/fs/bpf/edgelog); absent = no pinning. */
  pinRoot?: string;
  /** LRU entries for per-source buckets; 0/absent = 65536. */
  rateEntries?: number;
  /**
   * Work through maps a privileged process pinned under pinRoot/<ifname>/
   * (`edgelog install guard`, the unit's ExecStartPre=+) instead of loading
   * and attaching: needs no capability. Default: usesPins(ifname, pinRoot).
   */
  fromPins?: boolean;
  log?: Logger;
}

export interface RuleCounter {
  id: number;
  kind: 'deny' | 'allow';
  cidr: string;
  packets: number;
  bytes: number;
}

export interface GuardCounters {
  reasons: Record<Reason, { packets: number; bytes: number }>;
  rules: RuleCounter[];
}

export interface ApplyResult {
  added: string[];
  removed: string[];
}

/** Canonical form used for diffing ("10.1.2.3/8" and "10.0.0.0/8" are one rule). */
function ruleKey(kind: 'deny' | 'allow', cidr: string): string {
  return `${kind} ${cidr}`;
}

export class GuardController {
  readonly ifname: string;
  #lib: NativeLib;
  #h: External | undefined;
  #counters: Scratch;
  #io: Scratch;   // out-param: rule id (u32)
  #portsScratch: Scratch | undefined;   // uint16_t ports[] for guard_set_ports
  #log: Logger;
  /** kind+canonical cidr -> rule id, mirrors the kernel tries. */
  #rules = new Map<string, { kind: 'deny' | 'allow'; cidr: string; id: number }>();
  #rate: GuardRate | null = null;
  #ports: number[] = [];

  private constructor(lib: NativeLib, ifname: string, h: External, log: Logger) {
    this.#lib = lib;
    this.ifname = ifname;
    this.#h = h;
    this.#log = log;
    this.#counters = lib.scratch(COUNTERS_SIZE);
    this.#io = lib.scratch(8);
  }

  /**
   * True when this process cannot load BPF itself (no CAP_BPF) but a
   * privileged step pinned the guard's maps for `ifname`: the systemd unit's
   * least-privilege setup, where the long-running agent holds no capability
   * and changes rules through the pinned maps.
   */
  static usesPins(ifname: string, pinRoot: string | undefined): boolean {
    if (!pinRoot) return false;
    return !hasCap(effectiveCaps(), CAP_BPF) && existsSync(`${pinRoot}/${ifname}/cfg`);
  }

  /** Load the guard for `ifname` (not attached yet), or open its pinned maps (fromPins). Throws NativeUnavailableError when the host cannot. */
  static open(ifname: string, opts: GuardOptions = {}): GuardController {
    const fromPins = opts.fromPins ?? GuardController.usesPins(ifname, opts.pinRoot);
    if (fromPins && !opts.pinRoot) throw new ConfigError('guard.pin_root', 'a bpffs directory when the guard is attached by a privileged step', opts.pinRoot);
    requireFeature(fromPins ? 'native_lib' : 'guard');
    const lib = loadNative();
    const o = Buffer.alloc(OPTS_SIZE);
    o.writeUInt32LE(OPTS_SIZE, 0);
    o.writeUInt32LE(opts.rateEntries ?? 0, 4);
    o.writeUInt32LE(fromPins ? F_OPEN_PINNED : 0, FLAGS_OFF);
    if (opts.pinRoot) {
      const p = Buffer.from(opts.pinRoot);
      if (p.length >= PIN_ROOT_LEN) throw new ConfigError('guard.pin_root', `a path shorter than ${PIN_ROOT_LEN} bytes`, opts.pinRoot);
      p.copy(o, PIN_ROOT_OFF);
    }
    const slot = lib.scratch(8);
    try {
      lib.check('guard_open', lib.fn.guard_open([ifname, o, slot.ptr]));
      const h = lib.readPointer(slot.ptr);
      const g = new GuardController(lib, ifname, h, (opts.log ?? silentLogger).child({ component: 'guard', interface: ifname }));
      // pinned maps may carry rules from before a restart: start the diff from them
      for (const r of g.counters().rules) g.#rules.set(ruleKey(r.kind, r.cidr), { kind: r.kind, cidr: r.cidr, id: r.id });
      return g;
    } finally {
      lib.freeScratch(slot);
    }
  }

  #handle(): External {
    if (!this.#h) throw new Error('GuardController is closed');
    return this.#h;
  }

  /** Attach the tc filter. A handle opened from pins cannot (no CAP_NET_ADMIN): the privileged step attached it. */
  attach(): void {
    this.#lib.check('guard_attach', this.#lib.fn.guard_attach([this.#handle()]));
    this.#log.info('guard attached', { rules: this.#rules.size });
  }

  detach(): void {
    this.#lib.check('guard_detach', this.#lib.fn.guard_detach([this.#handle()]));
    this.#log.info('guard detached');
  }

  get attached(): boolean {
    return !!this.#h && this.#lib.fn.guard_is_attached([this.#h]) === 1;
  }

  /**
   * Make the kernel rules equal `rules`: add what is missing, remove what is
   * no longer wanted, update rate and ports when they changed. Takes effect
   * at once, without reattaching. A bad CIDR throws ConfigError before
   * anything changes.
   */
  applyRules(rules: GuardRules): ApplyResult {
    const h = this.#handle();
    const lib = this.#lib;
    const wanted = new Map<string, { kind: 'deny' | 'allow'; cidr: string }>();
    const add = (kind: 'deny' | 'allow', list: readonly string[] | undefined) => {
      (list ?? []).forEach((c, i) => {
        const cidr = canonicalCidr(c);
        if (!cidr) throw new ConfigError(`guard.${kind}[${i}]`, 'an IPv4/IPv6 address or CIDR', c);
        wanted.set(ruleKey(kind, cidr), { kind, cidr });
      });
    };
    add('deny', rules.deny);
    add('allow', rules.allow);
    const ports = [...new Set(rules.ports ?? [])].sort((a, b) => a - b);
    ports.forEach((p, i) => {
      if (!Number.isInteger(p) || p < 1 || p > 65535) throw new ConfigError(`guard.ports[${i}]`, 'a port 1..65535', p);
    });
    if (ports.length > MAX_PORTS) throw new ConfigError('guard.ports', `at most ${MAX_PORTS} ports`, ports.length);

    const result: ApplyResult = { added: [], removed: [] };
    // allow first, so a CIDR moving from deny to allow is never dropped in between
    const order = [...wanted.entries()].sort((a, b) => (a[1].kind === b[1].kind ? 0 : a[1].kind === 'allow' ? -1 : 1));
    for (const [key, r] of order) {
      if (this.#rules.has(key)) continue;
      const fn = r.kind === 'deny' ? 'guard_add_deny' : 'guard_add_allow';
      lib.check(fn, lib.fn[fn]([h, r.cidr, this.#io.ptr]));
      this.#rules.set(key, { ...r, id: this.#io.buf.readUInt32LE(0) });
      result.added.push(key);
    }
    for (const [key, r] of [...this.#rules]) {
      if (wanted.has(key)) continue;
      const fn = r.kind === 'deny' ? 'guard_remove_deny' : 'guard_remove_allow';
      const rc = lib.fn[fn]([h, r.cidr]) as number;
      if (rc !== -2) lib.check(fn, rc); // ENOENT: already gone
      this.#rules.delete(key);
      result.removed.push(key);
    }
    const rate = rules.rate && (rules.rate.pps > 0 || rules.rate.bps > 0) ? rules.rate : null;
    if (JSON.stringify(rate) !== JSON.stringify(this.#rate)) {
      lib.check('guard_set_rate', lib.fn.guard_set_rate([h, rate?.pps ?? 0, rate?.bps ?? 0, rate?.burstPackets ?? 0, rate?.burstBytes ?? 0]));
      this.#rate = rate ? { ...rate } : null;
    }
    if (ports.join(',') !== this.#ports.join(',')) {
      this.#portsScratch ??= lib.scratch(MAX_PORTS * 2);
      ports.forEach((p, i) => this.#portsScratch!.buf.writeUInt16LE(p, i * 2));
      lib.check('guard_set_ports', lib.fn.guard_set_ports([h, this.#portsScratch.ptr, ports.length]));
      this.#ports = ports;
    }
    if (result.added.length || result.removed.length) this.#log.info('guard rules changed', { added: result.added.length, removed: result.removed.length, total: this.#rules.size });
    return result;
  }

  /** Snapshot of per-reason and per-rule counters (summed over CPUs). */
  counters(): GuardCounters {
    const lib = this.#lib;
    lib.check('guard_read_counters', lib.fn.guard_read_counters([this.#handle(), this.#counters.ptr]));
    const b = this.#counters.buf;
    const reasons = {} as GuardCounters['reasons'];
    reasonNames.forEach((name, i) => {
      reasons[name] = { packets: Number(b.readBigUInt64LE(i * 16)), bytes: Number(b.readBigUInt64LE(i * 16 + 8)) };
    });
    const n = b.readUInt32LE(REASONS * 16);
    const rules: RuleCounter[] = [];
    for (let i = 0; i < n; i++) {
      const off = RULES_OFF + i * RULE_SIZE;
      const end = b.indexOf(0, off + 24);
      rules.push({
        id: b.readUInt32LE(off),
        kind: b.readUInt32LE(off + 4) === 1 ? 'deny' : 'allow',
        packets: Number(b.readBigUInt64LE(off + 8)),
        bytes: Number(b.readBigUInt64LE(off + 16)),
        cidr: b.toString('latin1', off + 24, end < 0 || end > off + RULE_SIZE ? off + RULE_SIZE : end),
      });
    }
    return { reasons, rules };
  }

  /**
   * Export counters on `registry` (collected at scrape time):
   * edgelog_guard_dropped_packets_total{interface,reason,rule},
   * edgelog_guard_dropped_bytes_total{...}, edgelog_guard_passed_packets_total{interface,reason,rule},
   * edgelog_guard_passed_bytes_total{...}. `rule` is the CIDR for deny/allow, "rate" for rate drops, "" otherwise.
   */
  registerMetrics(registry: Registry): void {
    let set = controllers.get(registry);
    if (!set) {
      set = new Set();
      controllers.set(registry, set);
      defineGuardMetrics(registry, set);
    }
    set.add(this);
  }

  /** Detach unless pinned (then the guard keeps running with the pinned rules), free native memory. */
  close(): void {
    if (!this.#h) return;
    this.#lib.fn.guard_close([this.#h]);
    this.#h = undefined;
    this.#lib.freeScratch(this.#counters);
    this.#lib.freeScratch(this.#io);
    if (this.#portsScratch) this.#lib.freeScratch(this.#portsScratch);
    for (const set of controllersAll) set.delete(this);
  }

  get closed(): boolean {
    return !this.#h;
  }
}

const controllers = new WeakMap<Registry, Set<GuardController>>();
const controllersAll = new Set<Set<GuardController>>();

type L = 'interface' | 'reason' | 'rule';

function defineGuardMetrics(registry: Registry, set: Set<GuardController>): void {
  controllersAll.add(set);
  const mk = (name: string, help: string, fill: (c: Counter<L>, snap: Snapshot) => void) => {
    counter<L>(registry, name, help, ['interface', 'reason', 'rule'], function collect() {
      this.reset();
      for (const g of set) {
        if (g.closed) continue;
        try { fill(this, { ifname: g.ifname, counters: g.counters() }); } catch { /* a scrape never fails on one guard */ }
      }
    });
  };
  const byReason = (drop: boolean, field: 'packets' | 'bytes') => (c: Counter<L>, s: Snapshot) => {
    const ruleTotals = new Map<string, number>();
    for (const r of s.counters.rules) {
      if ((r.kind === 'deny') !== drop) continue;
      c.inc({ interface: s.ifname, reason: r.kind, rule: r.cidr }, r[field]);
      ruleTotals.set(r.kind, (ruleTotals.get(r.kind) ?? 0) + r[field]);
    }
    for (const name of reasonNames) {
      if (name === 'reserved' || dropReasons.has(name) !== drop) continue;
      const total = s.counters.reasons[name][field];
      // deny/allow are split per rule above; the remainder (rules since removed) stays visible
      const rest = total - (ruleTotals.get(name) ?? 0);
      if (name === 'deny' || name === 'allow') { if (rest > 0) c.inc({ interface: s.ifname, reason: name, rule: '(removed)' }, rest); continue; }
      c.inc({ interface: s.ifname, reason: name, rule: name.startsWith('rate') ? 'rate' : '' }, total);
    }
  };
  mk('edgelog_guard_dropped_packets_total', 'Packets dropped by the eBPF ingress guard, by reason and rule.', byReason(true, 'packets'));
  mk('edgelog_guard_dropped_bytes_total', 'Bytes dropped by the eBPF ingress guard, by reason and rule.', byReason(true, 'bytes'));
  mk('edgelog_guard_passed_packets_total', 'Packets the eBPF ingress guard let through, by reason (allow rules by rule).', byReason(false, 'packets'));
  mk('edgelog_guard_passed_bytes_total', 'Bytes the eBPF ingress guard let through, by reason.', byReason(false, 'bytes'));
}

interface Snapshot { ifname: string; counters: GuardCounters }
