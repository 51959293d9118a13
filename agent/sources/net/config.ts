// Options every network source shares (tcp, syslog): where to listen, TLS,
// connection limits, anti-slowloris timeouts, buffer caps and the optional
// disk spool. Each source adds its own framing options on top.

import { isIP } from 'node:net';
import { ConfigError } from '../../core/errors.ts';
import { readString, readBool, readInt, readDuration, readBytes, join, type Raw } from '../../config/schema.ts';
import { checkExposure, type Exposure } from './exposure.ts';
import { readServerTls, type ServerTls } from '../../config/tls.ts';
import { readSpoolConfig, type SpoolConfig } from '../../pipeline/spool/config.ts';

/** The shared listener TLS block (agent/config/tls.ts). */
export type TlsConfig = ServerTls;

export interface NetListenConfig {
  /** host:port to listen on ([v6]:port for IPv6). Loopback by default: exposing a port is a deliberate act. */
  address: string;
  tls: TlsConfig | null;
  max_connections: number;
  /** Close a connection that sent nothing for this long (ms). */
  idle_timeout_ms: number;
  /** Close a connection whose current frame has been incomplete for this long (ms): the slowloris defence. Also bounds TLS handshakes. */
  frame_timeout_ms: number;
  /** Cap on bytes held in memory by the source: partial frames plus batches waiting downstream. */
  max_buffer_bytes: number;
  /** Write records to a disk spool before acknowledging them internally; null = push straight downstream with backpressure. */
  spool: SpoolConfig | null;
  /** Accept a public listener without TLS client authentication on purpose (warned at every start). */
  insecure: boolean;
}

export const netDefaults: Omit<NetListenConfig, 'address'> = {
  tls: null,
  // rsyslog imtcp MaxSessions default 200.
  max_connections: 200,
  // Our choice: senders such as rsyslog omfwd keep a connection open between bursts; 5 min frees dead peers without churning live ones.
  idle_timeout_ms: 300_000,
  // nginx client_header_timeout default 60 s, the classic slowloris defence: a frame must complete within it.
  frame_timeout_ms: 60_000,
  // Our choice: 16 MiB bounds the source's memory however many peers send at once.
  max_buffer_bytes: 16 * 1024 * 1024,
  spool: null,
  insecure: false,
};

export const netKeys = ['address', 'tls', 'max_connections', 'idle_timeout', 'frame_timeout', 'max_buffer_bytes', 'spool', 'insecure'] as const;

export function readNetConfig(m: Raw, path: string, defaultAddress: string): NetListenConfig {
  const address = readString(m, 'address', path, defaultAddress);
  parseAddress(address, join(path, 'address'));
  const cfg: NetListenConfig = {
    address,
    tls: readServerTls(m.tls, join(path, 'tls')),
    max_connections: readInt(m, 'max_connections', path, netDefaults.max_connections, 1, 1_000_000),
    idle_timeout_ms: readDuration(m, 'idle_timeout', path, netDefaults.idle_timeout_ms),
    frame_timeout_ms: readDuration(m, 'frame_timeout', path, netDefaults.frame_timeout_ms),
    max_buffer_bytes: readBytes(m, 'max_buffer_bytes', path, netDefaults.max_buffer_bytes, 64 * 1024),
    spool: m.spool === undefined || m.spool === null || m.spool === false ? null : readSpoolConfig(m.spool === true ? {} : m.spool, join(path, 'spool')),
    insecure: readBool(m, 'insecure', path, netDefaults.insecure),
  };
  checkExposure(netExposure(cfg), path, 'address', 'tls.verify_client (client certificates)');
  return cfg;
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
