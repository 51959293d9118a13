// Options every network source shares (tcp, syslog): where to listen, TLS,
// connection limits, anti-slowloris timeouts, buffer caps and the optional
// disk spool. Each source adds its own framing options on top.

import { isIP } from 'node:net';
import { ConfigError } from '../../core/errors.ts';
import { readString, type Raw } from '../../config/schema.ts';
import { described, duration, type Field, field, flag, int, nested, size, tick } from '../../config/declare.ts';
import { checkExposure, type Exposure } from './exposure.ts';
import { readServerTls, serverTlsSection, type ServerTls } from '../../config/tls.ts';
import { readSpoolConfig, spoolSection, type SpoolConfig } from '../../pipeline/spool/config.ts';

/** The shared listener TLS block (agent/config/tls.ts). */
export type TlsConfig = ServerTls;

/** host:port to listen on ([v6]:port for IPv6). Loopback by default: exposing a port is a deliberate act. */
export function listenAddress(def: string, meaning: string) {
  return field('address', 'host:port', def, tick(def), meaning, (m: Raw, path: string) => {
    const address = readString(m, 'address', path, def);
    parseAddress(address, `${path}.address`);
    return address;
  });
}

/**
 * The keys every network source shares after its own (tcp, syslog), declared
 * once; each source spreads them into its section (agent/config/declare.ts)
 * and runs netRules on the result. `asFor`: the meanings say "as for `tcp`".
 */
export function netFields(asFor?: string) {
  const as = <T>(f: Field<T>, own: string): Field<T> => (asFor ? described(f, `as for \`${asFor}\``) : described(f, own));
  return {
    tls: nested<ServerTls | null>('tls', serverTlsSection, 'map', null, '`null`', 'serve TLS (TLSv1.2 or later)', readServerTls),
    /** Accept a public listener without TLS client authentication on purpose (warned at every start). */
    insecure: as(flag('insecure', false, ''), 'accept a non-loopback `address` without TLS and client certificates (`tls.verify_client`); without it `validate` and `run` refuse such a listener (exit 2, key path named); warned at every start'),
    // rsyslog imtcp MaxSessions default 200.
    max_connections: as(int('max_connections', 200, '', 1, 1_000_000), 'connections at once; more are refused and counted'),
    /** Close a connection that sent nothing for this long (ms). Our choice: senders such as rsyslog omfwd keep a connection open between bursts; 5 min frees dead peers without churning live ones. */
    idle_timeout_ms: as(duration('idle_timeout', 300_000, ''), 'close a connection that sent nothing for this long'),
    /** The slowloris defence (nginx client_header_timeout default 60 s): a frame must complete within it. Also bounds TLS handshakes. */
    frame_timeout_ms: as(duration('frame_timeout', 60_000, ''), 'close a connection whose current line stays incomplete this long (slowloris); also bounds TLS handshakes'),
    /** Cap on bytes held in memory by the source: partial frames plus batches waiting downstream. Our choice: 16 MiB bounds the source's memory however many peers send at once. */
    max_buffer_bytes: as(size('max_buffer_bytes', 16 * 1024 * 1024, '', 64 * 1024), 'bytes held by the source (partial lines plus batches waiting downstream); above it every connection pauses'),
    /** Write records to a disk spool before acknowledging them internally; null = push straight downstream with backpressure. */
    spool: nested<SpoolConfig | null>('spool', spoolSection, 'map, or `true`', null, '`null`', asFor ? `as for \`${asFor}\`` : 'write records to a disk spool before acknowledging them internally (peers cannot replay); keys below',
      (raw, path) => (raw === undefined || raw === null || raw === false ? null : readSpoolConfig(raw === true ? {} : raw, path))),
  };
}

export interface NetListenConfig {
  address: string;
  tls: TlsConfig | null;
  max_connections: number;
  idle_timeout_ms: number;
  frame_timeout_ms: number;
  max_buffer_bytes: number;
  spool: SpoolConfig | null;
  insecure: boolean;
}

/** What crosses the shared keys: a non-loopback listener needs TLS with client certificates, or `insecure`. */
export function netRules(cfg: NetListenConfig, path: string): void {
  checkExposure(netExposure(cfg), path, 'address', 'tls.verify_client (client certificates)');
}

export function netExposure(cfg: NetListenConfig): Exposure {
  return { host: parseAddress(cfg.address, 'address').host, tls: cfg.tls !== null, authenticated: !!cfg.tls?.verify_client, insecure: cfg.insecure };
}

/** Splits `host:port` / `[v6]:port`; throws ConfigError naming `path`. */
export function parseAddress(address: string, path: string): { host: string; port: number } {
  const x = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(address.trim());
  const port = x ? Number(x[3]) : -1;
  if (!x || port > 65535) throw new ConfigError(path, 'host:port such as 127.0.0.1:5170 or [::1]:5170', address);
  const host = x[1] ?? x[2]!;
  if (x[1] && isIP(host) !== 6) throw new ConfigError(path, 'an IPv6 address inside [ ]', address);
  return { host, port };
}
