// What the network sources (tcp, syslog) expose beyond Source, and where
// their spool lives.

import { isAbsolute, join } from 'node:path';
import type { ComponentContext, Source } from '../../core/component.ts';
import type { NetStats } from './events.ts';

export interface NetSource extends Source {
  /** The bound address once started (port 0 in config picks a free one). */
  readonly address: { host: string; port: number } | null;
  readonly stats: Readonly<NetStats>;
}

/** A relative spool dir lives under the agent's data dir, one folder per source id. */
export function spoolDir(dir: string, ctx: ComponentContext): string {
  return isAbsolute(dir) ? dir : join(ctx.dataDir, dir, ctx.id);
}
