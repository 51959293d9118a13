// Config of the `forward` sink (edge agent -> relay). Every default says
// where it comes from or why.

import { ConfigError } from '../../core/errors.ts';
import {
  join, readBytes, readDuration, readEnum, readInt, readMap, readOptString, readStringList,
} from '../../config/schema.ts';
import { readClientTls, type ClientTls } from '../../config/tls.ts';
import { DEFAULT_MAX_FRAME_BYTES, DEFAULT_WINDOW, type CompressionName } from '../../forward/constants.ts';
import { breakerDefaults } from '../failover/breaker.ts';
import { failoverDefaults } from '../failover/failover-sink.ts';

export type TransportChoice = 'auto' | 'node' | 'io_uring';

/** The shared client TLS block (agent/config/tls.ts). */
export type ForwardTlsConfig = ClientTls;

export interface Endpoint { host: string; port: number; text: string }

export interface ForwardSinkConfig {
  /** host:port of each relay, in priority order (first = primary). */
  endpoints: Endpoint[];
  transport: TransportChoice;
  tls: ForwardTlsConfig | null;
  /** The agent's secret for the relay's challenge (PROTOCOL.md 6.1): a file, or inline through ${ENV_VAR}. */
  auth: { secret_file?: string; secret?: string } | null;
  compression: CompressionName;
  /** undefined = the codec's default level. */
  compression_level?: number;
  /** Unacknowledged BATCH frames per connection (the relay's HELLO_ACK may lower it). */
  window: number;
  max_frame_bytes: number;
  connect_timeout_ms: number;
  ack_timeout_ms: number;
  heartbeat_interval_ms: number;
  heartbeat_timeout_ms: number;
  /** Reconnects within one send before it fails back to the pipeline's retry/backoff. */
  reconnect_attempts: number;
  /** Only with several endpoints: health probing and failback (see agent/sinks/failover). */
  probe_interval_ms: number;
  failback_hold_down_ms: number;
}

export const forwardSinkDefaults: ForwardSinkConfig = {
  endpoints: [],
  // node until io_uring measures faster on this workload (bench/results/forward.md); see transport.ts.
  transport: 'auto',
  tls: null,
  auth: null,
  // zstd: about gzip's ratio on log text at several times its speed (zstd's published
  // benchmarks); edge uplinks are the scarce resource, so compress by default.
  compression: 'zstd',
  compression_level: undefined,
  window: DEFAULT_WINDOW,
  max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
  // kafkajs connectionTimeout is 1 s on a LAN; a relay across a WAN with TLS needs more. Fluent Bit's
  // net.connect_timeout default is 10 s; 5 s fails over sooner while leaving room for TLS over a slow link.
  connect_timeout_ms: 5_000,
  // kafkajs requestTimeout 30 s: the relay acks only after Kafka did, so its budget includes a Kafka round trip and retries.
  ack_timeout_ms: 30_000,
  // Fluent Bit's forward keepalive and gRPC keepalive pings are in the tens of seconds; 10 s
  // detects a silently dead peer (NAT drop) well before the ack timeout would.
  heartbeat_interval_ms: 10_000,
  heartbeat_timeout_ms: 5_000,
  // One immediate reconnect + retransmit rides out a relay restart or a reset connection; after
  // that the pipeline's backoff takes over (no tight reconnect loop against a dead relay).
  reconnect_attempts: 1,
  probe_interval_ms: failoverDefaults.probeIntervalMs,
  failback_hold_down_ms: failoverDefaults.failbackHoldDownMs,
};

export function parseEndpoint(s: string, path: string): Endpoint {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/.exec(s.trim());
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) throw new ConfigError(path, 'host:port such as relay.example.net:24240', s);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port, text: s.trim() };
}

export function validateForwardSink(raw: unknown, path: string): ForwardSinkConfig {
  const m = readMap(raw, path, [
    'endpoints', 'transport', 'tls', 'auth', 'compression', 'compression_level', 'window', 'max_frame_bytes', 'connect_timeout',
    'ack_timeout', 'heartbeat_interval', 'heartbeat_timeout', 'reconnect_attempts', 'probe_interval', 'failback_hold_down',
  ]);
  const d = forwardSinkDefaults;
  const list = readStringList(m, 'endpoints', path, []);
  if (list.length === 0) throw new ConfigError(join(path, 'endpoints'), 'at least one relay endpoint (host:port)');
  const endpoints = list.map((s, i) => parseEndpoint(s, join(join(path, 'endpoints'), i)));
  const tls = readClientTls(m.tls, join(path, 'tls'));
  let auth: ForwardSinkConfig['auth'] = null;
  if (m.auth !== undefined && m.auth !== null) {
    const ap = join(path, 'auth');
    const a = readMap(m.auth, ap, ['secret_file', 'secret']);
    auth = { secret_file: readOptString(a, 'secret_file', ap), secret: readOptString(a, 'secret', ap) };
    if (!auth.secret_file && !auth.secret) throw new ConfigError(join(ap, 'secret_file'), 'secret_file or secret (use ${ENV_VAR})');
    if (auth.secret_file && auth.secret) throw new ConfigError(join(ap, 'secret'), 'either secret or secret_file, not both');
  }
  const transport = readEnum(m, 'transport', path, ['auto', 'node', 'io_uring'] as const, d.transport);
  if (transport === 'io_uring' && tls) throw new ConfigError(join(path, 'transport'), 'auto or node when tls is set (io_uring sends plain TCP only)', transport);
  const compression = readEnum(m, 'compression', path, ['none', 'gzip', 'zstd', 'lz4'] as const, d.compression);
  const level = m.compression_level === undefined ? undefined : readInt(m, 'compression_level', path, 3, 1, compression === 'zstd' ? 22 : 9);
  const cfg: ForwardSinkConfig = {
    endpoints, transport, tls, auth, compression, compression_level: level,
    window: readInt(m, 'window', path, d.window, 1, 1024),
    max_frame_bytes: readBytes(m, 'max_frame_bytes', path, d.max_frame_bytes, 64 * 1024),
    connect_timeout_ms: readDuration(m, 'connect_timeout', path, d.connect_timeout_ms),
    ack_timeout_ms: readDuration(m, 'ack_timeout', path, d.ack_timeout_ms),
    heartbeat_interval_ms: readDuration(m, 'heartbeat_interval', path, d.heartbeat_interval_ms),
    heartbeat_timeout_ms: readDuration(m, 'heartbeat_timeout', path, d.heartbeat_timeout_ms),
    reconnect_attempts: readInt(m, 'reconnect_attempts', path, d.reconnect_attempts, 0, 100),
    probe_interval_ms: readDuration(m, 'probe_interval', path, d.probe_interval_ms),
    failback_hold_down_ms: readDuration(m, 'failback_hold_down', path, d.failback_hold_down_ms),
  };
  if (cfg.max_frame_bytes > 0xffffffff) throw new ConfigError(join(path, 'max_frame_bytes'), 'at most 4 GiB - 1 (u32 length prefix)', m.max_frame_bytes);
  for (const k of ['connect_timeout_ms', 'ack_timeout_ms', 'heartbeat_interval_ms', 'heartbeat_timeout_ms'] as const) {
    if (cfg[k] <= 0) throw new ConfigError(join(path, k.replace(/_ms$/, '')), 'a positive duration', cfg[k]);
  }
  return cfg;
}

export { breakerDefaults };
