// Config of the `forward` source (relay role): where to listen, TLS, and the
// limits that keep a misbehaving or hostile agent from hurting the relay.

import { ConfigError } from '../../core/errors.ts';
import { join, readOptString, type Raw } from '../../config/schema.ts';
import { anyOfKeys, duration, field, flag, type Infer, int, keyRules, nested, notBoth, optText, section, size, text } from '../../config/declare.ts';
import { readServerTls, serverTlsSection, type ServerTls } from '../../config/tls.ts';
import { checkExposure, type Exposure } from '../net/exposure.ts';
import { DEFAULT_MAX_BATCH_BYTES, DEFAULT_MAX_FRAME_BYTES, DEFAULT_WINDOW } from '../../forward/constants.ts';

/** The shared listener TLS block (agent/config/tls.ts). */
export type ForwardListenTls = ServerTls;

const authRules = keyRules(
  anyOfKeys(['secrets_file', 'shared_key_file', 'shared_key'], 'secrets_file, shared_key_file or shared_key (at least one)'),
  notBoth('shared_key_file', 'shared_key', 'either shared_key or shared_key_file, not both'),
);

/** Who may push (PROTOCOL.md 6.1). Secrets come from files (or ${ENV} interpolation), never from the config text itself in production. */
export const forwardAuthSection = section({
  /** File of `agent_id secret` lines: one secret per agent. */
  secrets_file: optText('secrets_file', 'file of `agent_id secret` lines, one secret per agent'),
  /** One key shared by every agent of a site (file, or inline via ${ENV_VAR}). */
  shared_key_file: optText('shared_key_file', 'file holding one key every agent of a site shares (the agent id is then asserted, not proven per agent)'),
  shared_key: optText('shared_key', 'the shared key inline, usually `${ENV}`; not with `shared_key_file`'),
}, (_a, m, ap) => authRules.check(m, ap), authRules.schema);
export type ForwardListenAuth = Infer<typeof forwardAuthSection>;

/** A listen address, checked as parseListen does; absent: undefined. */
function readListen(m: Raw, key: string, path: string): string | undefined {
  const v = readOptString(m, key, path);
  if (v !== undefined) parseListen(v, join(path, key));
  return v;
}

// `listen` is another name for `address`.
const addressRule = notBoth('address', 'listen', 'either address or listen, not both');

/** The forward source's keys, declared once (agent/config/declare.ts): type, reader with its cross-key rules, defaults and its COMPONENTS.md rows. */
export const forwardSourceSection = section({
  // Loopback by default (least privilege: a relay opens itself to the network on purpose).
  // 24240: the port the relay fleet's load balancers target (infra/config.ts), clear of
  // Fluent Bit's forward port 24224 so both can run on one host. Port 0 picks a free port (tests).
  address: field('address', 'host:port', '127.0.0.1:24240', '`127.0.0.1:24240`', 'where to listen', (m: Raw, path: string) => readListen(m, 'address', path) ?? '127.0.0.1:24240'),
  // `listen` is accepted as another name for `address` (the installed relay.yaml uses it).
  listen: field<string | undefined>('listen', 'host:port', undefined, '(none)', 'another name for `address` (not both)', (m: Raw, path: string) => readListen(m, 'listen', path)),
  tls: nested<ForwardListenTls | null>('tls', serverTlsSection, 'map', null, '`null`', 'serve TLS', readServerTls),
  /** null = no challenge-response (only sensible on loopback, or with mTLS). */
  auth: nested<ForwardListenAuth | null>('auth', forwardAuthSection, 'map', null, '`null`', 'challenge-response (HMAC-SHA256, PROTOCOL.md 6.1): an agent proves its id before anything it sends is taken; records are stamped with the proven id. At least one of the keys below',
    (raw, path) => (raw === undefined || raw === null ? null : forwardAuthSection.read(raw, path))),
  /** Explicitly accept an unauthenticated or plain-TCP listener off loopback (warned at every start). */
  insecure: flag('insecure', false, 'accept a non-loopback `address` without `auth` (or `tls.verify_client`) and TLS; refused otherwise (exit 2, key path named); warned at every start'),
  // Each connection can hold window x max_frame_bytes in flight; 256 x the typical 1 MB batch
  // x 16 is the relay's worst case, far above what one relay VM is sized for anyway
  // (Fluent Bit's in_forward has no cap; Vector's socket source default is unlimited).
  max_connections: int('max_connections', 4096, 'agents connected at once; more are refused and counted', 1, 65_535),
  // One site behind one NAT runs a handful of agents; 32 leaves room for reconnect overlap while
  // 4096 / 32 = 128 addresses are needed to fill the relay.
  max_connections_per_address: int('max_connections_per_address', 32, 'connections one remote address may hold, so one host cannot take every slot', 1, 65_535),
  // 256 MiB of charged batches: 8 maximal (32 MiB) batches, or hundreds of typical ones, in flight;
  // well under the 1 GiB a relay VM is sized with, leaving room for the Kafka client's buffers.
  /** Global budget for batches taken and not yet done downstream (charged before decompression). */
  memory_budget_bytes: size('memory_budget', 256 * 1024 * 1024, 'bytes of batches taken and not yet acknowledged downstream, over all connections; a batch is charged before it is decompressed (compressed size plus 3x its declared size); at the budget connections are not read (no ACK: the agents wait)', 1024 * 1024),
  // An 8 MiB frame at 1 Mbit/s takes ~67 s; 30 s is ~2.2 Mbit/s for the largest frame, far below any
  // site uplink for the typical 1 MB batch, and bounds how long a slow sender pins a frame buffer.
  frame_timeout_ms: duration('frame_timeout', 30_000, 'after HELLO, a started frame must be complete within this (slow senders are cut)'),
  max_frame_bytes: size('max_frame_bytes', DEFAULT_MAX_FRAME_BYTES, 'largest frame, checked from its header before the body is buffered', 1024),
  /** Largest payload after decompression. */
  max_batch_bytes: size('max_batch_bytes', DEFAULT_MAX_BATCH_BYTES, 'largest batch after decompression', 1024),
  /** Unacknowledged BATCH frames one connection may have (announced in HELLO_ACK). */
  window: int('window', DEFAULT_WINDOW, 'unacknowledged batches per connection (announced to the agent)', 1, 1024),
  // Six of the sink's 10 s heartbeat intervals: a live agent is never idle that long.
  idle_timeout_ms: duration('idle_timeout', 60_000, "close a connection silent this long (six of the sink's heartbeats)"),
  // A HELLO is one small frame: 10 s is generous even over a bad link (slowloris bound).
  handshake_timeout_ms: duration('handshake_timeout', 10_000, 'a HELLO must arrive within this'),
  /** Carry the sender's OTLP resource attributes through as `edgelog.resource.*` (see PROTOCOL.md). */
  keep_resource: flag('keep_resource', true, "keep each sender's OTLP resource (as `edgelog.resource.*`)"),
  /** Name in HELLO_ACK; '' = the agent id. */
  relay_id: text('relay_id', '', "name sent in HELLO_ACK; `''`: the agent id"),
}, (cfg, m, path) => {
  addressRule.check(m, path);
  const key = cfg.listen !== undefined ? 'listen' : 'address';
  if (cfg.listen !== undefined) cfg.address = cfg.listen;
  if (cfg.max_frame_bytes > 0xffffffff) throw new ConfigError(join(path, 'max_frame_bytes'), 'at most 4 GiB - 1 (u32 length prefix)', m.max_frame_bytes);
  checkExposure(forwardExposure(cfg), path, key, 'auth (or tls.verify_client)');
  if (cfg.max_batch_bytes > 0xffffffff) throw new ConfigError(join(path, 'max_batch_bytes'), 'at most 4 GiB - 1 (u32 raw length)', m.max_batch_bytes);
}, addressRule.schema);

export type ForwardSourceConfig = Infer<typeof forwardSourceSection>;
export const forwardSourceDefaults: ForwardSourceConfig = forwardSourceSection.defaults;

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
  return forwardSourceSection.read(raw, path);
}
