// Startup failures an operator can fix, said in their terms: "listen
// EADDRINUSE" from deep inside Node becomes which key's address is taken and
// what to do, with a stable code. Anything else passes through unchanged.

import { EdgelogError } from '../core/errors.ts';

const listenHints: Record<string, string> = {
  EADDRINUSE: 'address already in use: another process (perhaps another edgelog agent) listens there; stop it or configure another port',
  EACCES: 'permission denied: ports below 1024 need CAP_NET_BIND_SERVICE; use a higher port or grant the capability',
  EADDRNOTAVAIL: 'address not available on this host: use an address of one of its interfaces (or 0.0.0.0)',
};

/**
 * `key` names the setting the address came from (`observe.listen`,
 * `--listen`, or `sources` when a source's own listener failed and the
 * message already carries the address).
 */
export function describeStartFailure(err: unknown, key: string, address: string): unknown {
  if (err instanceof EdgelogError) return err;
  const e = err as NodeJS.ErrnoException & { syscall?: string; address?: string; port?: number };
  const hint = e?.code ? listenHints[e.code] : undefined;
  if (!hint || (e.syscall !== undefined && e.syscall !== 'listen' && e.syscall !== 'bind')) return err;
  const where = address || (e.address !== undefined ? `${e.address}${e.port !== undefined ? `:${e.port}` : ''}` : '');
  return new EdgelogError('EDGELOG_LISTEN', `${key}${where ? ` ${where}` : ''}: cannot listen (${e.code}): ${hint}`, { cause: err });
}
