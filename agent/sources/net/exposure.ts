// A listener off loopback is reachable by strangers: it must encrypt (TLS)
// and know who is sending (forward: HMAC auth or client certificates;
// tcp/syslog: client certificates), unless the config says `insecure: true`
// on purpose - and then every start warns about it. Checked when the config
// is validated, so `edgelog validate` and `edgelog run` both refuse.

import { ConfigError } from '../../core/errors.ts';
import type { Logger } from '../../observe/log.ts';

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1';
}

export interface Exposure {
  /** host part of the listen address */
  host: string;
  tls: boolean;
  authenticated: boolean;
  insecure: boolean;
}

/** Throws ConfigError at `<path>.<addressKey>` for an open public listener without `insecure: true`. */
export function checkExposure(e: Exposure, path: string, addressKey: string, authHint: string): void {
  if (isLoopbackHost(e.host) || e.insecure || (e.tls && e.authenticated)) return;
  const missing = [!e.tls ? 'tls' : '', !e.authenticated ? authHint : ''].filter(Boolean).join(' and ');
  throw new ConfigError(`${path}.${addressKey}`,
    `a loopback address, or ${missing} configured for a listener on ${e.host} (set ${path}.insecure: true to accept unauthenticated senders on purpose)`);
}

/** The warning every start of an insecure public listener logs. */
export function warnIfExposed(e: Exposure, path: string, log: Logger): void {
  if (isLoopbackHost(e.host) || (e.tls && e.authenticated)) return;
  log.warn('INSECURE listener off loopback: anyone who reaches it can send as anyone', {
    key: `${path}.insecure`, host: e.host, tls: e.tls, authenticated: e.authenticated,
  });
}
