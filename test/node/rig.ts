// The node test rig: a clean Debian trixie with a real systemd, booted with
// systemd-nspawn, that the tests drive as an operator would (nsenter into
// the container; machinectl does not work on this host, whose PID 1 is not
// systemd). The root file system is debootstrapped once into
// .cache/node-rootfs/trixie and never written to: every container runs on an
// overlay whose upper layer lives in the test's temp dir. A private bpffs is
// mounted on the host and bound at the container's /sys/fs/bpf (nspawn's
// /sys has none), as systemd mounts one on a real host. Networking is a veth
// pair (--network-veth) with addresses the rig assigns; a Kafka broker on
// the host side listens on the host end.
//
// Names carry the test's pid, and destroy() (registered with t.after by the
// caller) stops the container, unmounts and removes everything, also when a
// test fails.

import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '../..');
const cacheDir = join(repoRoot, '.cache/node-rootfs');
const rootfs = join(cacheDir, 'trixie');
/** What a node needs beyond minbase: systemd, tools the tests and installer use, the native helper's libraries, minisign for release checks. */
export const rootfsPackages = ['systemd', 'systemd-sysv', 'dbus', 'iproute2', 'procps', 'minisign', 'libbpf1', 'liburing2', 'libelf1t64', 'zlib1g', 'acl'];
const stamp = join(rootfs, '.edgelog-rootfs');

/** Why the rig cannot run here, or undefined. */
export function rigSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (systemd-nspawn, overlay and bpffs mounts)';
  for (const cmd of ['systemd-nspawn', 'debootstrap', 'nsenter', 'ip', 'minisign']) {
    if (spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status !== 0) return `${cmd} not installed (.ci/setup.sh installs debootstrap, systemd-container, minisign)`;
  }
  if (!existsSync('/proc/sys/kernel/unprivileged_userns_clone') && !existsSync('/proc/self/ns/pid')) return 'no pid namespaces';
  return undefined;
}

/** The apt mirror this host uses (debootstrap fetches from the same place). */
function aptMirror(): string {
  const texts: string[] = [];
  for (const dir of ['/etc/apt/sources.list.d']) {
    if (existsSync(dir)) for (const f of readdirSync(dir)) texts.push(readFileSync(join(dir, f), 'utf8'));
  }
  if (existsSync('/etc/apt/sources.list')) texts.push(readFileSync('/etc/apt/sources.list', 'utf8'));
  for (const t of texts) {
    const m = /^URIs:\s*(\S+\/debian)\/?\s*$/m.exec(t) ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\/?\s/m.exec(t);
    if (m) return m[1]!;
  }
  return 'http://deb.debian.org/debian';
}

/** Debootstrap the cached root file system once (~40 s and ~260 MB); later runs reuse it. */
export function ensureRootfs(log: (s: string) => void): string {
  const want = rootfsPackages.join(',');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === want) return rootfs;
  mkdirSync(cacheDir, { recursive: true });
  const tmp = `${rootfs}.tmp.${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const t0 = Date.now();
  const r = spawnSync('debootstrap', ['--variant=minbase', `--include=${want}`, 'trixie', tmp, aptMirror()], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`debootstrap failed (${r.status}): ${(r.stdout + r.stderr).slice(-2000)}`);
  }
  spawnSync('chroot', [tmp, 'apt-get', 'clean']);
  writeFileSync(join(tmp, '.edgelog-rootfs'), `${want}\n`);
  rmSync(rootfs, { recursive: true, force: true });
  renameSync(tmp, rootfs);
  log(`debootstrapped trixie in ${Math.round((Date.now() - t0) / 1000)} s into ${rootfs}`);
  return rootfs;
}

export interface ExecResult { status: number; stdout: string; stderr: string }

const containerEnv = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', HOME: '/root', TERM: 'dumb' };

export class NodeContainer {
  readonly name: string;
  /** The overlay's merged root, as seen from the host (files written here appear in the container). */
  readonly root: string;
  readonly hostAddr: string;
  readonly nodeAddr: string;
  hostIf = '';
  #dir: string;
  #bpffs: string;
  #nspawn: ChildProcess | undefined;
  #leader = 0;
  #console = '';

  private constructor(dir: string, name: string, subnet: number) {
    this.#dir = dir;
    this.name = name;
    this.root = join(dir, 'root');
    this.#bpffs = join(dir, 'bpffs');
    this.hostAddr = `10.238.${subnet}.1`;
    this.nodeAddr = `10.238.${subnet}.2`;
  }

  /** Boot a fresh container (overlay over the cached rootfs) and wait until systemd is running. */
  static async boot(dir: string, tag: string, log: (s: string) => void): Promise<NodeContainer> {
    const lower = ensureRootfs(log);
    // Interface names are limited to 15 characters: "ve-" + the machine name, truncated by nspawn.
    const name = `el${tag}${process.pid % 100000}`.slice(0, 12);
    const c = new NodeContainer(dir, name, (process.pid + tag.charCodeAt(0)) % 250 + 1);
    for (const d of ['upper', 'work', 'root', 'bpffs']) mkdirSync(join(dir, d), { recursive: true });
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}`, c.root]);
    execFileSync('mount', ['-t', 'bpf', 'bpf', c.#bpffs]);
    writeFileSync(join(c.root, 'etc/hostname'), `${name}\n`);
    const t0 = Date.now();
    c.#nspawn = spawn('systemd-nspawn', ['-D', c.root, '-b', '--register=no', '--keep-unit', '-M', name, '--console=passive',
      '--private-network', '--network-veth', '--capability=CAP_BPF,CAP_PERFMON', '--system-call-filter=bpf perf_event_open',
      `--bind=${c.#bpffs}:/sys/fs/bpf`], { stdio: ['ignore', 'pipe', 'pipe'] });
    c.#nspawn.stdout!.on('data', (d: Buffer) => { c.#console += d.toString(); });
    c.#nspawn.stderr!.on('data', (d: Buffer) => { c.#console += d.toString(); });
    await c.#waitFor('the container leader', () => (c.#leader = c.#findLeader()) > 0, 30_000);
    await c.#waitFor('systemd running', () => {
      const r = c.exec(['systemctl', 'is-system-running']);
      return r.stdout.trim() === 'running' || r.stdout.trim() === 'degraded';
    }, 60_000);
    // The host end of the veth pair is named after the machine.
    c.hostIf = `ve-${name}`.slice(0, 15);
    execFileSync('ip', ['addr', 'add', `${c.hostAddr}/30`, 'dev', c.hostIf]);
    execFileSync('ip', ['link', 'set', c.hostIf, 'up']);
    c.mustExec(['sh', '-c', `ip addr add ${c.nodeAddr}/30 dev host0 && ip link set host0 up && ip link set lo up`]);
    log(`container ${name} running in ${Date.now() - t0} ms (leader pid ${c.#leader}, ${c.nodeAddr} over ${c.hostIf})`);
    return c;
  }

  async #waitFor(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!cond()) {
      if (this.#nspawn?.exitCode !== null && this.#nspawn?.exitCode !== undefined) throw new Error(`systemd-nspawn exited ${this.#nspawn.exitCode} while waiting for ${what}:\n${this.#console.slice(-2000)}`);
      if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}:\n${this.#console.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** PID (host view) of the container's systemd: the nspawn descendant in another pid namespace. */
  #findLeader(): number {
    const ours = readlinkSync('/proc/self/ns/pid');
    const queue = [this.#nspawn!.pid!];
    while (queue.length) {
      const pid = queue.shift()!;
      const kids: string[] = [];
      try {
        for (const tid of readdirSync(`/proc/${pid}/task`)) kids.push(...readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean));
      } catch { continue; }
      for (const k of kids.map(Number)) {
        try {
          if (readlinkSync(`/proc/${k}/ns/pid`) !== ours) return k;
        } catch { /* gone */ }
        queue.push(k);
      }
    }
    return 0;
  }

  /** Run a command inside the container (all its namespaces, as root). */
  exec(argv: string[], opts: { input?: string; timeoutMs?: number } = {}): ExecResult {
    const r = spawnSync('nsenter', ['-t', String(this.#leader), '-a', '--', ...argv], {
      encoding: 'utf8', env: containerEnv, input: opts.input, timeout: opts.timeoutMs ?? 120_000, killSignal: 'SIGKILL', maxBuffer: 64 << 20,
    });
    return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
  }

  mustExec(argv: string[], opts: { input?: string; timeoutMs?: number } = {}): ExecResult {
    const r = this.exec(argv, opts);
    if (r.status !== 0) throw new Error(`in ${this.name}: ${argv.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
    return r;
  }

  /** journald lines of a unit since a cursor ('' = all); returns the lines and the new cursor. */
  journal(unit: string, cursor: string): { lines: string[]; cursor: string } {
    const args = ['journalctl', '-u', unit, '--no-pager', '-o', 'cat', '--show-cursor'];
    if (cursor) args.push(`--after-cursor=${cursor}`);
    const r = this.exec(args);
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    let next = cursor;
    if (lines.length && lines[lines.length - 1]!.startsWith('-- cursor: ')) next = lines.pop()!.slice('-- cursor: '.length);
    return { lines, cursor: next };
  }

  mainPid(unit = 'edgelog.service'): number {
    return Number(this.mustExec(['systemctl', 'show', '-p', 'MainPID', '--value', unit]).stdout.trim());
  }

  /** Capability sets and groups of a process inside the container, from /proc/<pid>/status. */
  procStatus(pid: number): Record<string, string> {
    const text = this.mustExec(['cat', `/proc/${pid}/status`]).stdout;
    return Object.fromEntries([...text.matchAll(/^(Cap\w+|Uid|Gid|Groups|NoNewPrivs|Seccomp):\s*(.*)$/gm)].map((m) => [m[1]!, m[2]!.trim()]));
  }

  /** Stop the container and remove everything the rig made. Safe to call twice. */
  async destroy(): Promise<void> {
    const ns = this.#nspawn;
    if (ns && ns.exitCode === null) {
      // SIGTERM asks nspawn to power the container off; SIGKILL after a deadline.
      const exited = new Promise<void>((r) => ns.once('exit', () => r()));
      ns.kill('SIGTERM');
      const timer = setTimeout(() => { try { ns.kill('SIGKILL'); } catch { /* gone */ } }, 20_000);
      await exited;
      clearTimeout(timer);
    }
    this.#nspawn = undefined;
    spawnSync('ip', ['link', 'del', this.hostIf || `ve-${this.name}`.slice(0, 15)], { stdio: 'ignore' });
    spawnSync('umount', ['-l', this.#bpffs], { stdio: 'ignore' });
    spawnSync('umount', ['-l', this.root], { stdio: 'ignore' });
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
