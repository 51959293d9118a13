// What this host supports for the native paths, each feature with the reason
// when it is missing and the fix. Cheap probes only (a tiny BPF map, a
// two-entry ring); nothing is attached anywhere. The agent uses the report
// to pick its paths, log why it falls back, and export
// edgelog_native_available{feature,reason}.

import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import type { spawnSync as SpawnSync } from 'node:child_process';
import type { Registry } from '../observe/prometheus.ts';
import type { Logger } from '../observe/log.ts';
import { gauge as registeredGauge } from '../observe/metrics.ts';
import { NativeUnavailableError } from '../core/errors.ts';
import { tryLoadNative, type NativeLib, Errno } from './lib.ts';

export type Feature =
  | 'native_lib' | 'kernel' | 'cap_bpf' | 'cap_net_admin' | 'cap_perfmon'
  | 'bpf' | 'tc' | 'guard' | 'io_uring' | 'send_zc';

export interface FeatureStatus {
  available: boolean;
  /** Why it is (un)available, one line. */
  reason: string;
  /** What to do when unavailable ('' when available). */
  fix: string;
}

export type CapabilityReport = Record<Feature, FeatureStatus>;

// Linux capability bit numbers (include/uapi/linux/capability.h)
const CAP_NET_ADMIN = 12;
const CAP_SYS_ADMIN = 21;
const CAP_PERFMON = 38;
const CAP_BPF = 39;

/** Effective capability set from /proc/self/status (CapEff, hex). */
export function effectiveCaps(statusText?: string): bigint {
  let text = statusText;
  if (text === undefined) {
    try { text = readFileSync('/proc/self/status', 'utf8'); } catch { return 0n; }
  }
  const m = /^CapEff:\s*([0-9a-f]+)/m.exec(text);
  return m ? BigInt('0x' + m[1]) : 0n;
}

export function hasCap(caps: bigint, bit: number): boolean {
  return ((caps >> BigInt(bit)) & 1n) === 1n;
}

/** "6.18.44-foo" -> [6, 18]. */
export function kernelVersion(rel = release()): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(rel);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

function atLeast(v: [number, number], major: number, minor: number): boolean {
  return v[0] > major || (v[0] === major && v[1] >= minor);
}

function readSysctl(path: string): string | undefined {
  try { return readFileSync(path, 'utf8').trim(); } catch { return undefined; }
}

const ok = (reason: string): FeatureStatus => ({ available: true, reason, fix: '' });
const no = (reason: string, fix: string): FeatureStatus => ({ available: false, reason, fix });

let cachedReport: CapabilityReport | undefined;

/** Probe the host (cached; pass fresh=true to probe again). */
export function capabilities(fresh = false): CapabilityReport {
  if (cachedReport && !fresh) return cachedReport;
  const { lib, error } = tryLoadNative();
  const caps = effectiveCaps();
  const kv = kernelVersion();
  const r = {} as CapabilityReport;

  r.native_lib = lib ? ok(`loaded ${lib.path}`) : no(error!.message, error!.fix);
  // tc clsact + direct BPF attach need 4.5; send_zc 6.0; our baseline is 5.15 (io_uring send with fixed files, LPM, LRU)
  r.kernel = atLeast(kv, 5, 15) ? ok(`Linux ${release()}`) : no(`Linux ${release()} is older than 5.15`, 'upgrade the kernel to 5.15 or newer (6.1+ for zero-copy send)');

  const admin = hasCap(caps, CAP_SYS_ADMIN);
  r.cap_bpf = hasCap(caps, CAP_BPF) || admin ? ok(hasCap(caps, CAP_BPF) ? 'CAP_BPF in effective set' : 'CAP_SYS_ADMIN in effective set')
    : no('CAP_BPF missing from the effective set', 'run as root; under systemd `edgelog install --guard` attaches the guard in a privileged ExecStartPre=+ step and the agent needs no capability');
  r.cap_net_admin = hasCap(caps, CAP_NET_ADMIN) ? ok('CAP_NET_ADMIN in effective set')
    : no('CAP_NET_ADMIN missing from the effective set (needed to attach tc filters)', 'run as root; under systemd `edgelog install --guard` attaches in a privileged ExecStartPre=+ step');
  r.cap_perfmon = hasCap(caps, CAP_PERFMON) || admin ? ok('CAP_PERFMON (or CAP_SYS_ADMIN) in effective set')
    : no('CAP_PERFMON missing (optional: the guard loads with CAP_BPF + CAP_NET_ADMIN; CAP_PERFMON only relaxes verifier limits)', 'grant CAP_PERFMON to the attaching process if a future program needs it');

  r.bpf = probeBpf(lib);
  r.tc = probeTc();
  const guardBlockers = (['native_lib', 'bpf', 'cap_net_admin', 'tc'] as const).filter((f) => !r[f].available);
  r.guard = guardBlockers.length === 0 ? ok('tc/eBPF ingress guard can be attached')
    : no(`needs ${guardBlockers.join(', ')}: ${r[guardBlockers[0]].reason}`, r[guardBlockers[0]].fix);

  r.io_uring = probeUring(lib);
  r.send_zc = probeSendZc(lib, r.io_uring, kv);
  cachedReport = r;
  return r;
}

function probeBpf(lib: NativeLib | undefined): FeatureStatus {
  const unpriv = readSysctl('/proc/sys/kernel/unprivileged_bpf_disabled');
  if (!lib) return no('cannot probe: native library not loaded', 'build the native library (`make -C native`)');
  const rc = lib.fn.guard_probe_bpf([]) as number;
  if (rc === 0) return ok('bpf() syscall allowed (map created)');
  const detail = lib.fn.edgelog_last_error([]) as string;
  if (-rc === Errno.EPERM || -rc === Errno.EACCES) {
    return no(`bpf() denied: ${detail}${unpriv && unpriv !== '0' ? ` (kernel.unprivileged_bpf_disabled=${unpriv})` : ''}`,
      'run as root or with CAP_BPF; in containers allow the bpf syscall (seccomp) and add CAP_BPF/CAP_SYS_ADMIN');
  }
  if (-rc === Errno.ENOSYS) return no('kernel built without BPF syscall', 'use a kernel with CONFIG_BPF_SYSCALL=y');
  return no(`bpf() failed: ${detail}`, 'check `dmesg` and RLIMIT_MEMLOCK (ulimit -l)');
}

function probeTc(): FeatureStatus {
  // The guard attaches through netlink (libbpf), not the tc binary; the kernel
  // side is sch_clsact + cls_bpf. The binary is only for inspection.
  const rel = release();
  const builtin = readSysctl(`/lib/modules/${rel}/modules.builtin`) ?? '';
  const loaded = readSysctl('/proc/modules') ?? '';
  const clsact = /sch_ingress/.test(builtin) || /^sch_ingress /m.test(loaded) || existsModule(rel, 'sch_ingress');
  const clsBpf = /cls_bpf/.test(builtin) || /^cls_bpf /m.test(loaded) || existsModule(rel, 'cls_bpf');
  // node:child_process loaded here, by the doctor and the guard's probe only, not by every agent importing this module.
  const spawnSync = (process.getBuiltinModule('node:child_process') as { spawnSync: typeof SpawnSync }).spawnSync;
  const bin = spawnSync('tc', ['-V'], { encoding: 'utf8', timeout: 2000 });
  const tool = bin.status === 0 ? (bin.stdout.trim() || 'tc present') : 'tc binary not found (only needed to inspect filters)';
  const known = builtin !== '' || loaded !== '';
  if (!known || (clsact && clsBpf)) return ok(`${known ? 'clsact and cls_bpf available' : 'kernel modules not listed (assumed built in)'}; ${tool}`);
  return no(`kernel lacks ${!clsact ? 'sch_ingress (clsact)' : 'cls_bpf'}`, 'use a kernel with CONFIG_NET_SCH_INGRESS and CONFIG_NET_CLS_BPF (modprobe sch_ingress cls_bpf)');
}

function existsModule(rel: string, name: string): boolean {
  const dep = readSysctl(`/lib/modules/${rel}/modules.dep`);
  return dep !== undefined && dep.includes(`/${name}.ko`);
}

function probeUring(lib: NativeLib | undefined): FeatureStatus {
  const disabled = readSysctl('/proc/sys/kernel/io_uring_disabled');
  if (disabled === '2') return no('disabled by sysctl kernel.io_uring_disabled=2', 'sysctl -w kernel.io_uring_disabled=0');
  if (!lib) return no('cannot probe: native library not loaded', 'build the native library (`make -C native`)');
  const rc = lib.fn.uring_probe([]) as number;
  if (rc === 0) return ok(`io_uring_setup works${disabled === '1' ? ' (kernel.io_uring_disabled=1: allowed for this user/group)' : ''}`);
  const detail = lib.fn.edgelog_last_error([]) as string;
  if (-rc === Errno.EPERM) {
    return no(`io_uring_setup denied: ${detail}${disabled === '1' ? ' (kernel.io_uring_disabled=1 and not in kernel.io_uring_group)' : ' (seccomp or LSM policy)'}`,
      'sysctl -w kernel.io_uring_disabled=0 (or add the agent to kernel.io_uring_group); in containers allow io_uring_* syscalls in seccomp');
  }
  if (-rc === Errno.ENOSYS) return no('kernel without io_uring', 'use a kernel with CONFIG_IO_URING=y (5.15+)');
  return no(`io_uring_setup failed: ${detail}`, 'raise RLIMIT_MEMLOCK (ulimit -l) or check dmesg');
}

function probeSendZc(lib: NativeLib | undefined, uring: FeatureStatus, kv: [number, number]): FeatureStatus {
  if (!uring.available || !lib) return no(`needs io_uring: ${uring.reason}`, uring.fix);
  const rc = lib.fn.uring_probe_send_zc([]) as number;
  if (rc === 1) return ok('IORING_OP_SEND_ZC supported (io_uring probe)');
  return no(`IORING_OP_SEND_ZC not in the io_uring probe (kernel ${kv.join('.')})`, 'kernel 6.0+ for zero-copy send; plain io_uring send is used meanwhile');
}

/** Throw NativeUnavailableError unless `feature` is available. */
export function requireFeature(feature: Feature, report = capabilities()): void {
  const s = report[feature];
  if (!s.available) throw new NativeUnavailableError(feature, s.reason, s.fix);
}

const AVAILABLE = 'edgelog_native_available';

/**
 * One log line and one gauge sample per feature: edgelog_native_available{feature,reason}
 * is 1 or 0. Features the agent needs (`wanted`) log at warn when missing
 * (that is a fallback), the rest at debug.
 */
export function reportCapabilities(report: CapabilityReport, log: Logger, registry: Registry, wanted: readonly Feature[] = []): void {
  const gauge = registeredGauge(registry, AVAILABLE, 'Native feature availability on this host (1 available, 0 not; reason says why).', ['feature', 'reason']);
  for (const [feature, s] of Object.entries(report) as [Feature, FeatureStatus][]) {
    gauge.set({ feature, reason: s.available ? 'ok' : s.reason.slice(0, 120) }, s.available ? 1 : 0);
    if (!s.available && wanted.includes(feature)) {
      log.warn('native feature unavailable, falling back', { feature, reason: s.reason, fix: s.fix });
    } else {
      log.debug('native feature', { feature, available: s.available, reason: s.reason });
    }
  }
}

/**
 * The one place a component asks "may I use the native path for `feature`?".
 * Returns true when available; otherwise logs the fallback (warn, with reason
 * and fix), sets edgelog_native_available{feature,reason} to 0 and returns false.
 */
export function useNative(feature: Feature, ctx: { log: Logger; metrics: Registry }): boolean {
  const report = capabilities();
  const s = report[feature];
  reportCapabilities({ [feature]: s } as CapabilityReport, ctx.log, ctx.metrics, [feature]);
  return s.available;
}
