// Readiness as a set of named checks. Each component reports its own state;
// the agent is `ready` when every check is ok, `degraded` when something is
// impaired but data still flows or waits safely (destination failing, spool in
// use), `unready` when it cannot do its job (not started, shutting down).
// Every change is an event for /health/stream subscribers and a log line.

import { EventEmitter } from 'node:events';
import type { Logger } from './log.ts';

export type CheckState = 'ok' | 'degraded' | 'failed';
export type Readiness = 'ready' | 'degraded' | 'unready';

export interface HealthEvent {
  ts: string;
  check: string;
  state: CheckState;
  reason: string;
  readiness: Readiness;
}

export class Health extends EventEmitter {
  private readonly checks = new Map<string, { state: CheckState; reason: string }>();
  private readonly log: Logger;
  private started = false;
  private stopping = false;
  constructor(log: Logger) { super(); this.log = log; }

  set(check: string, state: CheckState, reason = ''): void {
    const prev = this.checks.get(check);
    if (prev && prev.state === state && prev.reason === reason) return;
    this.checks.set(check, { state, reason });
    if (prev === undefined && state === 'ok') return;
    const ev: HealthEvent = { ts: new Date().toISOString(), check, state, reason, readiness: this.readiness().state };
    const fields = { check, state, reason, readiness: ev.readiness };
    if (state === 'ok') this.log.info('health recovered', fields); else this.log.warn('health changed', fields);
    this.emit('change', ev);
  }

  markStarted(): void { this.started = true; this.emitLifecycle('started'); }
  markStopping(): void { this.stopping = true; this.emitLifecycle('stopping'); }

  readiness(): { state: Readiness; reasons: string[]; checks: Record<string, { state: CheckState; reason: string }> } {
    const reasons: string[] = [];
    let state: Readiness = 'ready';
    if (!this.started) { state = 'unready'; reasons.push('starting'); }
    if (this.stopping) { state = 'unready'; reasons.push('shutting down'); }
    for (const [name, c] of this.checks) {
      if (c.state === 'failed') { state = 'unready'; reasons.push(`${name}: ${c.reason}`); }
      else if (c.state === 'degraded') { if (state === 'ready') state = 'degraded'; reasons.push(`${name}: ${c.reason}`); }
    }
    return { state, reasons, checks: Object.fromEntries(this.checks) };
  }

  private emitLifecycle(what: string): void {
    const r = this.readiness();
    this.emit('change', { ts: new Date().toISOString(), check: 'agent', state: r.state === 'unready' ? 'failed' : 'ok', reason: what, readiness: r.state } satisfies HealthEvent);
  }
}
