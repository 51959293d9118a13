// Network namespaces for drills: each region's broker gets its own namespace
// and address, joined to the host by a veth pair, so a fault can cut one
// region's network without touching anything else. Addresses come from
// 10.213.0.0/16 and exist only inside namespaces this module created; nothing
// is routed beyond them. Everything created is removed by destroy(), and a
// stale namespace of the same name from an earlier crashed run is removed first.

import { execFileSync } from 'node:child_process';

export interface RegionNet {
  readonly ns: string;
  readonly hostIf: string;
  readonly nsIf: string;
  readonly hostAddr: string;
  readonly nsAddr: string;
  /** Drop every packet to the namespace silently (no RST, no ICMP): a blackhole. */
  blackhole(): void;
  restore(): void;
  destroy(): void;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * `preferred`, or the next 10.213.<n>.0/30 that no host interface holds. A /30
 * already on the host (another drill running, or one killed before it could
 * clean up) would give the host two routes to the same address and the
 * broker would never be reached: a drill on a loaded CI machine once waited
 * out its 120 s broker start that way.
 */
function freeIndex(preferred: number): number {
  let out = '';
  try { out = execFileSync('ip', ['-o', '-4', 'addr', 'show'], { encoding: 'utf8' }); } catch { return preferred; }
  const used = new Set([...out.matchAll(/inet 10\.213\.(\d+)\./g)].map((m) => Number(m[1])));
  for (let i = 0; i < 254; i++) {
    const n = 1 + ((preferred - 1 + i) % 254);
    if (!used.has(n)) return n;
  }
  throw new Error('no free /30 left in 10.213.0.0/16 for a drill namespace');
}

export function canUseNetns(): { ok: boolean; reason: string } {
  if (process.getuid?.() !== 0) return { ok: false, reason: 'not root: network namespaces need CAP_SYS_ADMIN and CAP_NET_ADMIN' };
  try { execFileSync('ip', ['-V'], { stdio: 'ignore' }); } catch { return { ok: false, reason: 'iproute2 (ip) not installed' }; }
  return { ok: true, reason: '' };
}

/**
 * A second, independent path into an existing namespace (its own veth pair and
 * free /30 from 10.213.0.0/16): services listening on its address can be cut off
 * (blackhole) while the namespace's first address still answers.
 */
export interface NetPath {
  readonly hostIf: string;
  readonly hostAddr: string;
  readonly nsAddr: string;
  blackhole(): void;
  restore(): void;
  destroy(): void;
}

export function addNetPath(net: RegionNet, tag: string, preferred: number): NetPath {
  const hostIf = `edl${tag}h`.slice(0, 15);
  const nsIf = `edl${tag}n`.slice(0, 15);
  try { ip('link', 'del', hostIf); } catch { /* none left over */ }
  const index = freeIndex(preferred);
  const hostAddr = `10.213.${index}.1`;
  const nsAddr = `10.213.${index}.2`;
  try {
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
    ip('link', 'set', nsIf, 'netns', net.ns);
    ip('addr', 'add', `${hostAddr}/30`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    ip('netns', 'exec', net.ns, 'ip', 'addr', 'add', `${nsAddr}/30`, 'dev', nsIf);
    ip('netns', 'exec', net.ns, 'ip', 'link', 'set', nsIf, 'up');
  } catch (err) {
    try { ip('link', 'del', hostIf); } catch { /* never made */ }
    throw err;
  }
  return {
    hostIf, hostAddr, nsAddr,
    blackhole: () => ip('neigh', 'replace', nsAddr, 'lladdr', '02:00:5e:10:00:01', 'dev', hostIf, 'nud', 'permanent'),
    restore: () => { try { ip('neigh', 'del', nsAddr, 'dev', hostIf); } catch { /* already clean */ } },
    destroy: () => { try { ip('link', 'del', hostIf); } catch { /* removed with the namespace */ } },
  };
}

/** Creates namespace `edl-<tag>` with veth and a free /30 from 10.213.0.0/16 (`preferred` if free). */
export function createRegionNet(tag: string, preferred: number): RegionNet {
  const ns = `edl-${tag}`.slice(0, 15);
  const hostIf = `edl${tag}h`.slice(0, 15);
  const nsIf = `edl${tag}n`.slice(0, 15);
  try { ip('netns', 'del', ns); } catch { /* none left over */ }
  try { ip('link', 'del', hostIf); } catch { /* none left over */ }
  const index = freeIndex(preferred);
  const hostAddr = `10.213.${index}.1`;
  const nsAddr = `10.213.${index}.2`;
  let created = false;
  try {
    ip('netns', 'add', ns);
    created = true;
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
    ip('link', 'set', nsIf, 'netns', ns);
    ip('addr', 'add', `${hostAddr}/30`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${nsAddr}/30`, 'dev', nsIf);
    ip('netns', 'exec', ns, 'ip', 'link', 'set', nsIf, 'up');
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
  } catch (err) {
    if (created) { try { ip('netns', 'del', ns); } catch { /* best effort */ } }
    try { ip('link', 'del', hostIf); } catch { /* gone with the namespace */ }
    throw err;
  }
  return {
    ns, hostIf, nsIf, hostAddr, nsAddr,
    // A permanent neighbour entry with a MAC nobody owns: frames leave the host
    // but the namespace discards them, exactly like a route into a black hole.
    blackhole: () => ip('neigh', 'replace', nsAddr, 'lladdr', '02:00:5e:10:00:01', 'dev', hostIf, 'nud', 'permanent'),
    restore: () => { try { ip('neigh', 'del', nsAddr, 'dev', hostIf); } catch { /* already clean */ } },
    destroy: () => {
      try { ip('netns', 'del', ns); } catch { /* already gone */ }
      try { ip('link', 'del', hostIf); } catch { /* removed with the namespace */ }
    },
  };
}
