// Helpers for the installer tests: fake releases (install.sh + role defaults +
// a stub bin/edgelog, no Node runtime, so a test installs in milliseconds),
// running install.sh, and snapshots of a directory tree to compare.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const installSh = join(repoRoot, 'agent/install/install.sh');

export function tempDir(t: { after(fn: () => void): void }, prefix = 'edgelog-install-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A minimal release directory: what install.sh needs from a real one. */
export function fakeRelease(dir: string, version: string, marker = version, opts: { restartSec?: number } = {}): string {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  mkdirSync(join(dir, 'agent/install'), { recursive: true });
  writeFileSync(join(dir, 'VERSION'), `${version}\n`);
  writeFileSync(join(dir, 'bin/edgelog'), `#!/bin/sh\necho "edgelog ${marker}"\n`);
  chmodSync(join(dir, 'bin/edgelog'), 0o755);
  cpSync(installSh, join(dir, 'install.sh'));
  if (opts.restartSec !== undefined) {
    // A release whose installer renders a different unit (as a real upgrade may).
    const text = readFileSync(installSh, 'utf8');
    if (!text.includes('RestartSec=5s')) throw new Error('install.sh no longer renders RestartSec=5s');
    writeFileSync(join(dir, 'install.sh'), text.replace('RestartSec=5s', `RestartSec=${opts.restartSec}s`));
  }
  cpSync(join(repoRoot, 'agent/install/defaults'), join(dir, 'agent/install/defaults'), { recursive: true });
  // A release-specific default, so upgrades visibly refresh edgelog.yaml.dist.
  writeFileSync(join(dir, 'agent/install/defaults/edge.yaml'),
    readFileSync(join(repoRoot, 'agent/install/defaults/edge.yaml'), 'utf8') + `# release ${marker}\n`);
  return dir;
}

export interface SigningKey { pub: string; sec: string; line: string }

/** A fresh minisign key pair (no password) under dir: what a release manager holds. */
export function signingKey(dir: string, name = 'release'): SigningKey {
  mkdirSync(dir, { recursive: true });
  const pub = join(dir, `${name}.pub`);
  const sec = join(dir, `${name}.key`);
  const r = spawnSync('minisign', ['-G', '-W', '-f', '-p', pub, '-s', sec], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`minisign -G failed: ${r.stderr}`);
  return { pub, sec, line: readFileSync(pub, 'utf8').split('\n')[1]! };
}

/**
 * Pack a release dir as the release builder does: one top-level directory,
 * with OUT.sha256 and (given a key) the detached signature OUT.minisig beside it.
 */
export function tarRelease(releaseDir: string, out: string, top: string, key?: SigningKey): void {
  const r = spawnSync('tar', ['-czf', out, `--transform=s,^\\.,${top},`, '-C', releaseDir, '.'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
  writeFileSync(`${out}.sha256`, `${createHash('sha256').update(readFileSync(out)).digest('hex')}  ${out.split('/').pop()}\n`);
  if (key) {
    const s = spawnSync('minisign', ['-S', '-s', key.sec, '-m', out, '-x', `${out}.minisig`], { encoding: 'utf8' });
    if (s.status !== 0) throw new Error(`minisign -S failed: ${s.stderr}`);
  }
}

export interface RunResult { status: number; stdout: string; stderr: string }

export function runInstaller(args: string[], env: NodeJS.ProcessEnv = {}): RunResult {
  const r = spawnSync('bash', [installSh, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function mustRun(args: string[]): RunResult {
  const r = runInstaller(args);
  if (r.status !== 0) throw new Error(`install.sh ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** path -> "type mode uid:gid sha256|link-target" for every entry under dir (sorted). */
export function snapshotTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string): void => {
    const abs = join(dir, rel);
    let st;
    try { st = lstatSync(abs); } catch { return; }
    const head = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
    if (st.isSymbolicLink()) out.set(rel, `link ${readlinkSync(abs)}`);
    else if (st.isFile()) out.set(rel, `file ${head} ${createHash('sha256').update(readFileSync(abs)).digest('hex')}`);
    else if (st.isDirectory()) {
      out.set(rel, `dir ${head}`);
      for (const name of readdirSync(abs).sort()) walk(rel ? `${rel}/${name}` : name);
    } else out.set(rel, `other ${head}`);
  };
  walk('');
  return out;
}

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}
