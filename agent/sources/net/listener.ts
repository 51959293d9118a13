// A TCP (optionally TLS) listener shared by the network sources. It owns the
// connections: accepts up to max_connections, frames each byte stream,
// turns frames into records (one batch and one AckGroup per socket read),
// delivers them and keeps the socket paused until the delivery resolved.
// Defences: idle and frame timeouts (slowloris), a per-connection frame cap
// (the framer), a total memory cap (pauses every connection above it), and
// every error is contained in its connection.

import net from 'node:net';
// Types only: node:tls is loaded (process.getBuiltinModule) where TLS is configured; importing it costs ~2.8 MB RSS.
import type tls from 'node:tls';
import { readFileSync } from 'node:fs';
import type { AckGroup } from '../../core/ack.ts';
import { ConfigError } from '../../core/errors.ts';
import type { LogRecord } from '../../core/record.ts';
import type { Logger } from '../../observe/log.ts';
import { parseAddress, type NetListenConfig } from './config.ts';
import type { Delivery } from './delivery.ts';
import type { CloseReason, NetEvents } from './events.ts';
import type { Framer, OnMalformed } from './framer.ts';

export interface PeerInfo {
  /** `ip:port` of the peer: the record's stream. */
  readonly peer: string;
  /** Listener id + peer + accept time: the record's streamId. */
  readonly streamId: string;
}

export interface ListenerHooks {
  newFramer(onMalformed: OnMalformed): Framer;
  /** Builds a record from one frame, or returns null to skip it (already counted). */
  toRecord(frame: Buffer, conn: PeerInfo, offset: number, group: AckGroup): LogRecord | null;
}

interface Conn extends PeerInfo {
  socket: net.Socket;
  framer: Framer;
  /** Bytes of this connection's batches handed to the delivery and not yet resolved. */
  pendingBytes: number;
  /** Paused by us: pendingBytes went over the delivery's window. */
  waiting: boolean;
  closing: boolean;
  closeReason?: CloseReason;
  /** Last time we resumed it: time spent paused by us does not count against the frame timeout. */
  resumedAt: number;
}

export function loadTls(cfg: NetListenConfig, path: string): tls.TlsOptions | null {
  if (!cfg.tls) return null;
  const read = (file: string, key: string) => {
    try {
      return readFileSync(file);
    } catch {
      throw new ConfigError(`${path}.tls.${key}`, 'a readable PEM file', file);
    }
  };
  const o: tls.TlsOptions = {
    cert: read(cfg.tls.cert_file, 'cert_file'),
    key: read(cfg.tls.key_file, 'key_file'),
    // Node's default floor (TLSv1.2) kept explicit.
    minVersion: 'TLSv1.2',
    handshakeTimeout: cfg.frame_timeout_ms,
  };
  if (cfg.tls.ca_file) o.ca = read(cfg.tls.ca_file, 'ca_file');
  if (cfg.tls.verify_client) { o.requestCert = true; o.rejectUnauthorized = true; }
  return o;
}

export class NetListener {
  private readonly cfg: NetListenConfig;
  private readonly id: string;
  private readonly hooks: ListenerHooks;
  private readonly delivery: Delivery;
  private readonly ev: NetEvents;
  private readonly log: Logger;
  private readonly tlsOpts: tls.TlsOptions | null;
  private server: net.Server | null = null;
  private readonly conns = new Set<Conn>();
  private rawCount = 0;
  private readonly refused = new WeakSet<net.Socket>();
  private sweeper: NodeJS.Timeout | null = null;
  private overCap = false;
  /** Bytes held in partial frames across connections, as of the last sweep. */
  private partialBytes = 0;
  private stopped = false;
  private listenId = '';

  constructor(cfg: NetListenConfig, id: string, tlsOpts: tls.TlsOptions | null, hooks: ListenerHooks, delivery: Delivery, ev: NetEvents, log: Logger) {
    this.cfg = cfg;
    this.id = id;
    this.tlsOpts = tlsOpts;
    this.hooks = hooks;
    this.delivery = delivery;
    this.ev = ev;
    this.log = log;
  }

  get connections(): number { return this.conns.size; }

  /** Starts listening; resolves with the bound address (port 0 picks a free port). */
  async listen(): Promise<{ host: string; port: number }> {
    const { host, port } = parseAddress(this.cfg.address, 'address');
    const server = this.tlsOpts ? process.getBuiltinModule('node:tls').createServer(this.tlsOpts) : net.createServer();
    this.server = server;
    server.on('connection', (raw: net.Socket) => this.onRaw(raw));
    if (this.tlsOpts) {
      server.on('secureConnection', (s: tls.TLSSocket) => this.onSocket(s));
      server.on('tlsClientError', (_e: Error, s: tls.TLSSocket) => {
        // A socket refused by the connection limit also fails its handshake: it is counted as refused, not here.
        // (`_parent` is Node's link from the TLS socket to its raw socket.)
        const raw = (s as unknown as { _parent?: net.Socket })._parent;
        if (!raw || !this.refused.has(raw)) this.ev.malformed('tls_handshake', `${s.remoteAddress}:${s.remotePort}`);
        // With a listener attached, Node leaves closing the socket to us (handshake timeout included).
        s.destroy();
      });
    } else {
      server.on('connection', (s: net.Socket) => { if (!s.destroyed) this.onSocket(s); });
    }
    server.on('error', (e) => this.log.error('listener error', { err: e, address: this.cfg.address }));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, backlog: 511 }, () => { server.off('error', reject); resolve(); });
    });
    const a = server.address() as net.AddressInfo;
    this.listenId = `${this.id}@${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
    const tick = Math.max(50, Math.min(1000, Math.floor(this.cfg.frame_timeout_ms / 4)));
    this.sweeper = setInterval(() => this.sweep(), tick).unref();
    this.log.info('listening', { address: `${a.address}:${a.port}`, tls: !!this.tlsOpts, spool: !!this.cfg.spool });
    return { host: a.address, port: a.port };
  }

  /** Connection limit on the raw socket, before any TLS work is spent on it. */
  private onRaw(raw: net.Socket): void {
    const peer = `${raw.remoteAddress}:${raw.remotePort}`;
    if (this.stopped || this.rawCount >= this.cfg.max_connections) {
      this.ev.rejected(peer, this.cfg.max_connections);
      this.refused.add(raw);
      raw.destroy();
      return;
    }
    this.rawCount++;
    raw.once('close', () => { this.rawCount--; });
    raw.on('error', () => {});
    // TLS: an unfinished handshake is bounded by handshakeTimeout (= frame_timeout); plain: onSocket arms the timers.
  }

  private onSocket(socket: net.Socket): void {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    const conn: Conn = {
      socket, peer, streamId: `${this.listenId}<-${peer}~${Date.now()}`,
      framer: this.hooks.newFramer((reason) => this.ev.malformed(reason, peer)),
      pendingBytes: 0, waiting: false, closing: false, resumedAt: 0,
    };
    this.conns.add(conn);
    this.ev.accepted(peer);
    socket.setNoDelay(true);
    socket.setTimeout(this.cfg.idle_timeout_ms);
    socket.on('timeout', () => {
      // A connection we paused is not idle: its bytes wait in the kernel for us.
      if (!conn.waiting && !this.overCap) this.close(conn, 'idle_timeout');
    });
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    socket.on('end', () => {
      this.emitFrames(conn, (emit) => conn.framer.end(emit));
      socket.end();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'ECONNRESET' && e.code !== 'EPIPE') this.log.debug('connection error', { peer, err: e });
    });
    socket.on('close', () => {
      this.conns.delete(conn);
      this.ev.closed(peer, conn.closing ? conn.closeReason! : 'peer');
      // The peer's stream ended (its last frames were delivered in 'end' or before):
      // stages holding its lines (multiline) ship them now.
      this.delivery.endStream(conn.streamId);
    });
    if (this.overCap) socket.pause();
  }

  private onData(conn: Conn, chunk: Buffer): void {
    if (conn.closing) return;
    let ok = true;
    this.emitFrames(conn, (emit) => { ok = conn.framer.push(chunk, emit); });
    if (!ok) this.close(conn, 'bad_frame');
  }

  /** Runs `produce`, collecting its frames into one batch delivered with the socket paused. */
  private emitFrames(conn: Conn, produce: (emit: (frame: Buffer, offset: number) => void) => void): void {
    const group = this.delivery.group();
    const batch: LogRecord[] = [];
    let bytes = 0;
    produce((frame, offset) => {
      const r = this.hooks.toRecord(frame, conn, offset, group);
      if (r) { batch.push(r); bytes += frame.length; }
    });
    if (batch.length === 0) {
      group.seal();
      return;
    }
    this.ev.read(batch.length, bytes);
    // Direct delivery: window 0, one batch in flight per connection (the push promise is the backpressure).
    // Spool: several appends may queue (FIFO, so order holds) up to the window, hiding the write latency.
    conn.pendingBytes += bytes;
    if (!conn.waiting && conn.pendingBytes > this.delivery.windowBytes) {
      conn.waiting = true;
      conn.socket.pause();
      this.ev.pause(1);
    }
    this.checkCap();
    this.delivery.deliver(batch, bytes, group).then(() => {
      conn.pendingBytes -= bytes;
      if (conn.waiting && conn.pendingBytes <= this.delivery.windowBytes) {
        conn.waiting = false;
        this.ev.pause(-1);
        if (!this.overCap && !conn.closing) this.resume(conn);
      }
      this.checkCap();
    }, (e: unknown) => {
      this.log.error('delivery failed', { err: e, peer: conn.peer });
      conn.pendingBytes -= bytes;
      if (conn.waiting) { conn.waiting = false; this.ev.pause(-1); }
      this.close(conn, 'error');
    });
  }

  /**
   * Above the memory cap every connection pauses; below half of it they resume.
   * The hot path counts batches in flight; partial frames (bounded per
   * connection by the frame limit) are summed by the periodic sweep.
   */
  private checkCap(): void {
    const held = this.delivery.outstandingBytes + this.partialBytes;
    if (!this.overCap && held > this.cfg.max_buffer_bytes) {
      this.overCap = true;
      for (const c of this.conns) c.socket.pause();
      this.log.warn('network source over its buffer cap: all connections paused', { held_bytes: held, max_buffer_bytes: this.cfg.max_buffer_bytes });
    } else if (this.overCap && held <= this.cfg.max_buffer_bytes / 2) {
      this.overCap = false;
      for (const c of this.conns) if (!c.waiting && !c.closing) this.resume(c);
    }
  }

  /** Resume reading and re-arm the idle timer (a timeout ignored while paused does not fire again by itself). */
  private resume(c: Conn): void {
    c.socket.resume();
    c.socket.setTimeout(this.cfg.idle_timeout_ms);
    c.resumedAt = Date.now();
  }

  private sweep(): void {
    const now = Date.now();
    let partial = 0;
    for (const c of this.conns) {
      partial += c.framer.pending;
      const since = c.framer.partialSince > 0 ? Math.max(c.framer.partialSince, c.resumedAt) : 0;
      if (since > 0 && !c.waiting && !this.overCap && now - since > this.cfg.frame_timeout_ms) this.close(c, 'frame_timeout');
    }
    this.partialBytes = partial;
    this.checkCap();
  }

  private close(conn: Conn, reason: CloseReason): void {
    if (conn.closing) return;
    conn.closing = true;
    conn.closeReason = reason;
    conn.socket.destroy();
  }

  /** Stops accepting, emits complete frames still held, closes every connection and waits for pending deliveries. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    if (this.sweeper) clearInterval(this.sweeper);
    const server = this.server;
    const closed = server ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve();
    for (const c of this.conns) {
      if (!c.closing) this.emitFrames(c, (emit) => c.framer.end(emit));
      this.close(c, 'shutdown');
    }
    await closed;
    // Bounded: a push into a stalled pipeline (destination down) must not hang shutdown.
    await this.delivery.idle(5000);
  }
}
