// Shared fixtures for the network source tests (loopback only).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { Registry } from '../../../agent/observe/prometheus.ts';
import type { ComponentContext, Downstream } from '../../../agent/core/component.ts';
import type { LogRecord } from '../../../agent/core/record.ts';
import { silentLogger } from '../../../agent/observe/log.ts';
import { defer, removeDir } from '../../helpers/cleanup.ts';

export interface TestCtx { ctx: ComponentContext; reg: Registry; dir: string }

export async function makeCtx(t: { after: (fn: () => Promise<void> | void) => void }, id = 'net_in'): Promise<TestCtx> {
  const dir = await mkdtemp(join(tmpdir(), 'edgelog-net-'));
  const reg = new Registry();
  // Deferred first, so it runs after whatever the test defers later (sources stopped, children killed).
  defer(t, `remove ${dir}`, () => removeDir(dir));
  return { ctx: { id, log: silentLogger, metrics: reg, dataDir: dir, agentId: 'test', host: 'testhost', service: 'edgelog', site: 'lab' }, reg, dir };
}

/** A downstream that records every batch; `gate` (when set) holds push promises until opened; settles acks unless told not to. */
export class Collector implements Downstream {
  records: LogRecord[] = [];
  pushes = 0;
  settle = true;
  private gateOpen = true;
  private waiters: (() => void)[] = [];
  close(): void { this.gateOpen = false; }
  open(): void { this.gateOpen = true; for (const w of this.waiters.splice(0)) w(); }
  async push(batch: LogRecord[]): Promise<void> {
    this.pushes++;
    for (const r of batch) this.records.push(r);
    if (this.settle) for (const r of batch) r.ack.settle();
    if (!this.gateOpen) await new Promise<void>((r) => this.waiters.push(r));
  }
  bodies(): string[] { return this.records.map((r) => r.body.toString('latin1')); }
}

export async function waitFor(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

export function closed(s: net.Socket): Promise<void> {
  return new Promise((r) => { if (s.destroyed) r(); else s.once('close', () => r()); });
}

/** Self-signed cert for CN=localhost / SAN 127.0.0.1, made with the openssl CLI. */
export function selfSignedCert(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  return { cert, key };
}
