// Config of the `forward` sink (edge agent -> relay). Every default says
// where it comes from or why.

import { ConfigError } from '../../core/errors.ts';
import { join, readInt, readStringList, type Raw } from '../../config/schema.ts';
import { anyOfKeys, choice, duration, field, type Infer, int, keyRules, nested, notBoth, optText, section, size } from '../../config/declare.ts';
import { clientTlsSection, readClientTls, type ClientTls } from '../../config/tls.ts';
import { DEFAULT_MAX_FRAME_BYTES, DEFAULT_WINDOW, type CompressionName } from '../../forward/constants.ts';
import { breakerDefaults } from '../failover/breaker.ts';
import { failoverDefaults } from '../failover/failover-sink.ts';

export type TransportChoice = 'auto' | 'node' | 'io_uring';

/** The shared client TLS block (agent/config/tls.ts). */
export type ForwardTlsConfig = ClientTls;

export interface Endpoint { host: string; port: number; text: string }

const authRules = keyRules(
  anyOfKeys(['secret_file', 'secret'], 'secret_file or secret (use ${ENV_VAR})'),
  notBoth('secret_file', 'secret', 'either secret or secret_file, not both'),
);

/** The agent's secret for the relay's challenge (PROTOCOL.md 6.1): a file, or inline through ${ENV_VAR}. */
export const forwardSinkAuthSection = section({
  secret_file: optText('secret_file', 'file holding the secret'),
  secret: optText('secret', 'the secret inline, usually `${ENV}`; not with `secret_file`'),
}, (_a, m, ap) => authRules.check(m, ap), authRules.schema);

/** The forward sink's keys, declared once (agent/config/declare.ts). Every default says where it comes from or why. */
export const forwardSinkSection = section({
  /** host:port of each relay, in priority order (first = primary). */
  endpoints: field<Endpoint[]>('endpoints', 'list of host:port', [], '(required)', 'relays in priority order (first = primary)', (m: Raw, path: string) => {
    const list = readStringList(m, 'endpoints', path, []);
    if (list.length === 0) throw new ConfigError(join(path, 'endpoints'), 'at least one relay endpoint (host:port)');
    return list.map((s, i) => parseEndpoint(s, join(join(path, 'endpoints'), i)));
  }),
  // node until io_uring measures faster on this workload (bench/results/forward.md); see transport.ts.
  transport: choice<TransportChoice>('transport', ['auto', 'node', 'io_uring'], 'auto', 'send path; `auto` picks node (measured); `io_uring` is plain TCP only'),
  tls: nested<ForwardTlsConfig | null>('tls', clientTlsSection, 'map, or `true`', null, '`null`', "TLS to the relay (the shared client TLS block, as the kafka sink's `tls`)", readClientTls),
  auth: nested<Infer<typeof forwardSinkAuthSection> | null>('auth', forwardSinkAuthSection, 'map', null, '`null`', "answer the relay's challenge (PROTOCOL.md 6.1) with this agent's secret; one of the keys below",
    (raw, path) => (raw === undefined || raw === null ? null : forwardSinkAuthSection.read(raw, path))),
  // zstd: about gzip's ratio on log text at several times its speed (zstd's published
  // benchmarks); edge uplinks are the scarce resource, so compress by default.
  compression: choice<CompressionName>('compression', ['none', 'gzip', 'zstd', 'lz4'], 'zstd', 'batch compression'),
  /** undefined = the codec's default level. */
  compression_level: field<number | undefined>('compression_level', 'int', undefined, "(the codec's default)", '1..22 for zstd, 1..9 otherwise',
    (m: Raw, path: string) => (m.compression_level === undefined ? undefined : readInt(m, 'compression_level', path, 3, 1, 22))),
  /** Unacknowledged BATCH frames per connection (the relay's HELLO_ACK may lower it). */
  window: int('window', DEFAULT_WINDOW, 'unacknowledged batches per connection (the relay may lower it)', 1, 1024),
  max_frame_bytes: size('max_frame_bytes', DEFAULT_MAX_FRAME_BYTES, 'largest frame', 64 * 1024),
  // kafkajs connectionTimeout is 1 s on a LAN; a relay across a WAN with TLS needs more. Fluent Bit's
  // net.connect_timeout default is 10 s; 5 s fails over sooner while leaving room for TLS over a slow link.
  connect_timeout_ms: duration('connect_timeout', 5_000, 'one connection attempt'),
  // kafkajs requestTimeout 30 s: the relay acks only after Kafka did, so its budget includes a Kafka round trip and retries.
  ack_timeout_ms: duration('ack_timeout', 30_000, "wait for a batch's ACK (the relay acks after Kafka did)"),
  // Fluent Bit's forward keepalive and gRPC keepalive pings are in the tens of seconds; 10 s
  // detects a silently dead peer (NAT drop) well before the ack timeout would.
  heartbeat_interval_ms: duration('heartbeat_interval', 10_000, 'heartbeat period on an idle connection'),
  heartbeat_timeout_ms: duration('heartbeat_timeout', 5_000, 'a heartbeat (health probe) unanswered this long counts as failed'),
  // One immediate reconnect + retransmit rides out a relay restart or a reset connection; after
  // that the pipeline's backoff takes over (no tight reconnect loop against a dead relay).
  /** Reconnects within one send before it fails back to the pipeline's retry/backoff. */
  reconnect_attempts: int('reconnect_attempts', 1, "reconnects within one send before the pipeline's backoff takes over", 0, 100),
  /** Only with several endpoints: health probing and failback (see agent/sinks/failover). */
  probe_interval_ms: duration('probe_interval', failoverDefaults.probeIntervalMs, 'with several endpoints: health probe period'),
  failback_hold_down_ms: duration('failback_hold_down', failoverDefaults.failbackHoldDownMs, 'with several endpoints: how long a preferred relay must stay healthy before traffic moves back'),
}, (cfg, m, path) => {
  if (cfg.transport === 'io_uring' && cfg.tls) throw new ConfigError(join(path, 'transport'), 'auto or node when tls is set (io_uring sends plain TCP only)', cfg.transport);
  if (cfg.compression !== 'zstd' && cfg.compression_level !== undefined && cfg.compression_level > 9) throw new ConfigError(join(path, 'compression_level'), 'an integer from 1 to 9', cfg.compression_level);
  if (cfg.max_frame_bytes > 0xffffffff) throw new ConfigError(join(path, 'max_frame_bytes'), 'at most 4 GiB - 1 (u32 length prefix)', m.max_frame_bytes);
  for (const k of ['connect_timeout_ms', 'ack_timeout_ms', 'heartbeat_interval_ms', 'heartbeat_timeout_ms'] as const) {
    if (cfg[k] <= 0) throw new ConfigError(join(path, k.replace(/_ms$/, '')), 'a positive duration', cfg[k]);
  }
}, {
  allOf: [
    // io_uring sends plain TCP only: tls unset, false, or turned off.
    // biome-ignore lint/suspicious/noThenProperty: `then` is the JSON Schema keyword, this object is never awaited
    { if: { properties: { transport: { const: 'io_uring' } }, required: ['transport'] }, then: { properties: { tls: { anyOf: [{ type: 'null' }, { const: false }, { type: 'object', properties: { enabled: { const: false } }, required: ['enabled'] }] } } } },
    // Levels above 9 are zstd's only.
    // biome-ignore lint/suspicious/noThenProperty: `then` is the JSON Schema keyword, this object is never awaited
    { if: { not: { properties: { compression: { const: 'zstd' } } } }, then: { properties: { compression_level: { type: 'integer', maximum: 9 } } } },
  ],
});

export type ForwardSinkConfig = Infer<typeof forwardSinkSection>;
export const forwardSinkDefaults: ForwardSinkConfig = forwardSinkSection.defaults;

export function parseEndpoint(s: string, path: string): Endpoint {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/.exec(s.trim());
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) throw new ConfigError(path, 'host:port such as relay.example.net:24240', s);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port, text: s.trim() };
}

export function validateForwardSink(raw: unknown, path: string): ForwardSinkConfig {
  return forwardSinkSection.read(raw, path);
}

export { breakerDefaults };
