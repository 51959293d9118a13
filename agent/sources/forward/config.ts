// Config of the `forward` source (relay role): where to listen, TLS, and the
// limits that keep a misbehaving or hostile agent from hurting the relay.

import { ConfigError } from '../../core/errors.ts';
import { join, readBool, readBytes, readDuration, readInt, readMap, readOptString, readString } from '../../config/schema.ts';
import { readServerTls, type ServerTls } from '../../config/tls.ts';
import { checkExposure, type Exposure } from '../net/exposure.ts';
import { DEFAULT_MAX_BATCH_BYTES, DEFAULT_MAX_FRAME_BYTES, DEFAULT_WINDOW } from '../../forward/constants.ts';

/** The shared listener TLS block (agent/config/tls.ts). */
export type ForwardListenTls = ServerTls;

/** Who may push (PROTOCOL.md 6.1). Secrets come from files (or ${ENV} interpolation), never from the config text itself in production. */
export interface ForwardListenAuth {
  /** File of `agent_id secret` lines: one secret per agent. */
  secrets_file?: string;
  /** One key shared by every agent of a site (file, or inline via ${ENV_VAR}). */
  shared_key_file?: string;
  shared_key?: string;
}

export interface ForwardSourceConfig {
  /** host:port to listen on; port 0 picks a free port (tests). */
  address: string;
  tls: ForwardListenTls | null;
  /** null = no challenge-response (only sensible on loopback, or with mTLS). */
  auth: ForwardListenAuth | null;
  /** Explicitly accept an unauthenticated or plain-TCP listener off loopback (warned at every start). */
  insecure: boolean;
  max_connections: number;
  /** Connections one remote address may hold: a single host cannot take every slot. */
  max_connections_per_address: number;
  /** Global budget for batches taken and not yet done downstream (charged before decompression). */
  memory_budget_bytes: number;
  /** After HELLO, a frame that has started must be complete within this time (slow-frame senders are cut). */
  frame_timeout_ms: number;
  max_frame_bytes: number;
  /** Largest payload after decompression. */
  max_batch_bytes: number;
  /** Unacknowledged BATCH frames one connection may have (announced in HELLO_ACK). */
  window: number;
  idle_timeout_ms: number;
  handshake_timeout_ms: number;
  /** Carry the sender's OTLP resource attributes through as `edgelog.resource.*` (see PROTOCOL.md). */
  keep_resource: boolean;
  /** Name in HELLO_ACK; '' = the agent id. */
  relay_id: string;
}

export const forwardSourceDefaults: ForwardSourceConfig = {
  // Loopback by default (least privilege: a relay opens itself to the network on purpose).
  // 24240: the port the relay fleet's load balancers target (infra/config.ts), clear of
  // Fluent Bit's forward port 24224 so both can run on one host.
  address: '127.0.0.1:24240',
  tls: null,
  auth: null,
  insecure: false,
  // Each connection can hold window x max_frame_bytes in flight; 256 x the typical 1 MB batch
  // x 16 is the relay's worst case, far above what one relay VM is sized for anyway
  // (Fluent Bit's in_forward has no cap; Vector's socket source default is unlimited).
  max_connections: 4096,
  // One site behind one NAT runs a handful of agents; 32 leaves room for reconnect overlap while
  // 4096 / 32 = 128 addresses are needed to fill the relay.
  max_connections_per_address: 32,
  // 256 MiB of charged batches: 8 maximal (32 MiB) batches, or hundreds of typical ones, in flight;
  // well under the 1 GiB a relay VM is sized with, leaving room for the Kafka client's buffers.
  memory_budget_bytes: 256 * 1024 * 1024,
  // An 8 MiB frame at 1 Mbit/s takes ~67 s; 30 s is ~2.2 Mbit/s for the largest frame, far below any
  // site uplink for the typical 1 MB batch, and bounds how long a slow sender pins a frame buffer.
  frame_timeout_ms: 30_000,
  max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
  max_batch_bytes: DEFAULT_MAX_BATCH_BYTES,
  window: DEFAULT_WINDOW,
  // Six of the sink's 10 s heartbeat intervals: a live agent is never idle that long.
  idle_timeout_ms: 60_000,
  // A HELLO is one small frame: 10 s is generous even over a bad link (slowloris bound).
  handshake_timeout_ms: 10_000,
  keep_resource: true,
  relay_id: '',
};

export function forwardExposure(cfg: ForwardSourceConfig): Exposure {
  return { host: parseListen(cfg.address, 'address').host, tls: cfg.tls !== null, authenticated: cfg.auth !== null || !!cfg.tls?.verify_client, insecure: cfg.insecure };
}

export function parseListen(address: string, path: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/.exec(address.trim());
  const port = m ? Number(m[2]) : -1;
  if (!m || port < 0 || port > 65535) throw new ConfigError(path, 'host:port such as 0.0.0.0:24240', address);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

export function validateForwardSource(raw: unknown, path: string): ForwardSourceConfig {
  const m = readMap(raw, path, [
    'address', 'listen', 'tls', 'auth', 'insecure', 'max_connections', 'max_connections_per_address', 'memory_budget', 'frame_timeout', 'max_frame_bytes', 'max_batch_bytes', 'window', 'idle_timeout',
    'handshake_timeout', 'keep_resource', 'relay_id',
  ]);
  const d = forwardSourceDefaults;
  // `listen` is accepted as another name for `address` (the installed relay.yaml uses it).
  if (m.address !== undefined && m.listen !== undefined) throw new ConfigError(join(path, 'listen'), 'either address or listen, not both');
  const key = m.listen !== undefined ? 'listen' : 'address';
  const address = readString(m, key, path, d.address);
  parseListen(address, join(path, key));
  const tls = readServerTls(m.tls, join(path, 'tls'));
  let auth: ForwardListenAuth | null = null;
  if (m.auth !== undefined && m.auth !== null) {
    const ap = join(path, 'auth');
    const a = readMap(m.auth, ap, ['secrets_file', 'shared_key_file', 'shared_key']);
    auth = {
      secrets_file: readOptString(a, 'secrets_file', ap), shared_key_file: readOptString(a, 'shared_key_file', ap),
      shared_key: readOptString(a, 'shared_key', ap),
    };
    if (!auth.secrets_file && !auth.shared_key_file && !auth.shared_key) throw new ConfigError(join(ap, 'secrets_file'), 'secrets_file, shared_key_file or shared_key (at least one)');
    if (auth.shared_key_file && auth.shared_key) throw new ConfigError(join(ap, 'shared_key'), 'either shared_key or shared_key_file, not both');
  }
  const cfg: ForwardSourceConfig = {
    address, tls, auth,
    insecure: readBool(m, 'insecure', path, d.insecure),
    max_connections: readInt(m, 'max_connections', path, d.max_connections, 1, 65_535),
    max_connections_per_address: readInt(m, 'max_connections_per_address', path, d.max_connections_per_address, 1, 65_535),
    memory_budget_bytes: readBytes(m, 'memory_budget', path, d.memory_budget_bytes, 1024 * 1024),
    frame_timeout_ms: readDuration(m, 'frame_timeout', path, d.frame_timeout_ms),
    max_frame_bytes: readBytes(m, 'max_frame_bytes', path, d.max_frame_bytes, 1024),
    max_batch_bytes: readBytes(m, 'max_batch_bytes', path, d.max_batch_bytes, 1024),
    window: readInt(m, 'window', path, d.window, 1, 1024),
    idle_timeout_ms: readDuration(m, 'idle_timeout', path, d.idle_timeout_ms),
    handshake_timeout_ms: readDuration(m, 'handshake_timeout', path, d.handshake_timeout_ms),
    keep_resource: readBool(m, 'keep_resource', path, d.keep_resource),
    relay_id: readString(m, 'relay_id', path, d.relay_id),
  };
  if (cfg.max_frame_bytes > 0xffffffff) throw new ConfigError(join(path, 'max_frame_bytes'), 'at most 4 GiB - 1 (u32 length prefix)', m.max_frame_bytes);
  checkExposure(forwardExposure(cfg), path, key, 'auth (or tls.verify_client)');
  if (cfg.max_batch_bytes > 0xffffffff) throw new ConfigError(join(path, 'max_batch_bytes'), 'at most 4 GiB - 1 (u32 raw length)', m.max_batch_bytes);
  return cfg;
}
