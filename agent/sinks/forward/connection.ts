// One relay endpoint as a Sink: connects (re-resolving the name every time),
// says HELLO, sends each EncodedMessage (an OTLP LogsData) as one compressed
// BATCH frame with a sequence number, keeps up to `window` of them
// unacknowledged, and resolves send() once the relay ACKed every one (the
// relay ACKs only after Kafka did). A connection that ends, times out or says
// GOAWAY is replaced and the unacknowledged frames are sent again with their
// original sequence numbers. Frames are remembered per EncodedMessage, so
// when the pipeline retries the same request after a failed send, messages
// already ACKed are not sent again and the rest keep their sequence numbers
// and compressed bytes.
//
// A new send() while another is still running (the failover sink gave up on
// this endpoint and came back) abandons the old one: its connection is closed
// and it rejects.

import net from 'node:net';
// Types only: node:tls is loaded (process.getBuiltinModule) where TLS is configured; importing it costs ~2.8 MB RSS.
import type tls from 'node:tls';
import { lookup } from 'node:dns/promises';
import { randomBytes } from 'node:crypto';
import { recordCount, type EncodedMessage } from '../../core/component.ts';
import { EdgelogError, RecordTooLargeError } from '../../core/errors.ts';
import type { Logger } from '../../observe/log.ts';
import { FrameDecoder, encodeAuthResponse, encodeBatchHeader, encodeGoaway, encodeHeartbeat, encodeHello, type Frame } from '../../forward/codec.ts';
import { authProof } from '../../forward/auth.ts';
import { BATCH_HEADER_BYTES, ErrorCode, FrameType, MAX_VERSION, MIN_VERSION, compressionNames, errorCodeName } from '../../forward/constants.ts';
import { compress, compressionId, supportedCompressions } from '../../forward/compression.ts';
import type { ForwardMetrics } from '../../forward/metrics.ts';
import type { Endpoint, ForwardSinkConfig } from './config.ts';
import { NodeWriter, UringWriter, openUring, socketFd, type FrameWriter, type TransportDecision } from './transport.ts';

// ---- errors -------------------------------------------------------------------

/** Could not reach the relay (DNS, refused, TLS, handshake). A reconnect later may work. */
export class ForwardConnectError extends EdgelogError {
  constructor(endpoint: string, detail: string, cause?: unknown) {
    super('EDGELOG_FORWARD_CONNECT', `forward: cannot connect to ${endpoint}: ${detail}`, { retriable: true, cause });
  }
}
/** The connection ended (or was closed by us) before every batch was acknowledged. */
export class ForwardConnectionLostError extends EdgelogError {
  constructor(endpoint: string, detail: string) {
    super('EDGELOG_FORWARD_CLOSED', `forward: connection to ${endpoint} lost: ${detail}`, { retriable: true });
  }
}
/** No ACK progress (or no HEARTBEAT_ACK) within the timeout. */
export class ForwardTimeoutError extends EdgelogError {
  constructor(endpoint: string, what: string, ms: number) {
    super('EDGELOG_FORWARD_TIMEOUT', `forward: ${what} from ${endpoint} not received within ${ms} ms`, { retriable: true });
  }
}
/** The relay NACKed a batch; retriable as the relay said. */
export class ForwardNackError extends EdgelogError {
  readonly nackCode: number;
  constructor(endpoint: string, code: number, retriable: boolean, message: string) {
    super('EDGELOG_FORWARD_NACK', `forward: ${endpoint} refused a batch: ${errorCodeName[code] ?? code}: ${message}`, { retriable });
    this.nackCode = code;
  }
}
/** The relay broke the protocol or speaks no common version. */
export class ForwardProtocolError extends EdgelogError {
  constructor(endpoint: string, message: string, retriable: boolean) {
    super('EDGELOG_FORWARD_PROTOCOL', `forward: ${endpoint}: ${message}`, { retriable });
  }
}
/** A newer send() took over this endpoint. */
class AbandonedError extends EdgelogError {
  constructor() { super('EDGELOG_FORWARD_ABANDONED', 'forward: request abandoned by a newer one', { retriable: true }); }
}

// ---- state ----------------------------------------------------------------------

interface OutFrame {
  seq: bigint;
  header: Buffer;
  payload: Buffer;
  /** The uncompressed LogsData (the pipeline holds it anyway until the request completes). */
  raw: Buffer;
  compression: number;
  records: number;
  rawLength: number;
  acked: boolean;
  nack: ForwardNackError | null;
  /** Connection it was last written to. */
  sentOn: Conn | null;
  sentAt: number;
}

class Conn {
  readonly id: number;
  readonly socket: net.Socket;
  readonly decoder: FrameDecoder;
  writer: FrameWriter | null = null;
  window = 1;
  compression = 0;
  relayId = '';
  lastSentSeq = 0n;
  readonly inflight = new Map<bigint, OutFrame>();
  dead: EdgelogError | null = null;
  draining = false;
  lastRecv = Date.now();
  lastAckAt = Date.now();
  helloDone = false;
  hb: NodeJS.Timeout | null = null;
  constructor(id: number, socket: net.Socket, maxFrame: number) {
    this.id = id;
    this.socket = socket;
    this.decoder = new FrameDecoder(maxFrame);
  }
}

let connIds = 0;

export interface ConnectionOptions {
  readonly cfg: ForwardSinkConfig;
  readonly endpoint: Endpoint;
  readonly agentId: string;
  /** Decided once per sink (may load the native library), awaited at the first connect. */
  readonly transport: Promise<TransportDecision>;
  readonly tlsOptions: tls.ConnectionOptions | null;
  /** Secret proven to relays that challenge (null: the agent cannot authenticate). */
  readonly secret?: Buffer | null;
  readonly metrics: ForwardMetrics;
  readonly log: Logger;
  /** Name resolution, called on every connect (default dns.lookup: /etc/hosts, then DNS, like every other client on the host). */
  readonly resolve?: (host: string) => Promise<string>;
}

const defaultResolve = async (host: string): Promise<string> => (await lookup(host)).address;

export class ForwardConnection {
  readonly maxMessageBytes: number;
  readonly endpoint: Endpoint;
  private readonly o: ConnectionOptions;
  private readonly sessionId = randomBytes(8).readBigUInt64BE(0);
  private nextSeq = 1n;
  private readonly frames = new WeakMap<EncodedMessage, OutFrame>();
  private conn: Conn | null = null;
  private connecting: Promise<Conn> | null = null;
  private current: object | null = null;
  private waiters: Array<() => void> = [];
  private readonly probes = new Map<bigint, (ok: boolean) => void>();
  private closed = false;
  private lastError = '';
  private uringFailed = false;

  constructor(o: ConnectionOptions) {
    this.o = o;
    this.endpoint = o.endpoint;
    // The pipeline measures messages before compression: one must fit a frame uncompressed
    // (compression never is relied on to make a message fit).
    this.maxMessageBytes = o.cfg.max_frame_bytes - (BATCH_HEADER_BYTES - 4);
  }

  /** The send path in use ('node' until the first connect decided). */
  get transport(): 'node' | 'io_uring' { return this.kind; }
  private kind: 'node' | 'io_uring' = 'node';

  /** Ready unless the last connect failed or the last connection was lost (not connected yet is fine: connections are lazy). */
  health(): { ready: boolean; reason: string } {
    if (this.lastError) return { ready: false, reason: this.lastError };
    return { ready: true, reason: '' };
  }

  async send(messages: EncodedMessage[]): Promise<void> {
    if (this.closed) throw new ForwardConnectionLostError(this.endpoint.text, 'sink closed');
    if (this.current) this.abandonCurrent();
    const token = {};
    this.current = token;
    try {
      const frames: OutFrame[] = [];
      for (const m of messages) frames.push(await this.frameFor(m));
      await this.deliver(frames, token);
    } finally {
      if (this.current === token) this.current = null;
    }
  }

  /** HEARTBEAT round trip (connecting first when needed); resolves with milliseconds. */
  async probe(): Promise<number> {
    const started = performance.now();
    const c = await this.ensureConn();
    const ts = process.hrtime.bigint();
    const ok = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => { this.probes.delete(ts); resolve(false); }, this.o.cfg.heartbeat_timeout_ms);
      this.probes.set(ts, (v) => { clearTimeout(t); resolve(v); });
      this.write(c, [encodeHeartbeat(ts)], FrameType.HEARTBEAT);
    });
    if (!ok) throw new ForwardTimeoutError(this.endpoint.text, 'HEARTBEAT_ACK', this.o.cfg.heartbeat_timeout_ms);
    return performance.now() - started;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.current) this.abandonCurrent();
    const c = this.conn;
    if (c) {
      // polite close: the relay logs why the connection ends (best effort, no wait)
      this.write(c, [encodeGoaway(ErrorCode.SHUTTING_DOWN, 'agent shutting down')], FrameType.GOAWAY);
      if (c.writer?.kind === 'node') c.socket.end();
      this.kill(c, new ForwardConnectionLostError(this.endpoint.text, 'sink closed'));
    }
    await c?.writer?.close();
  }

  // ---- request ------------------------------------------------------------------

  private async frameFor(m: EncodedMessage): Promise<OutFrame> {
    const known = this.frames.get(m);
    if (known && !known.nack) return known;
    const compression = compressionId(this.o.cfg.compression);
    const payload = await compress(compression, m.value, { level: this.o.cfg.compression_level });
    const seq = this.nextSeq++;
    const f: OutFrame = {
      seq, compression, payload, raw: m.value, records: recordCount(m), rawLength: m.value.length,
      header: encodeBatchHeader(seq, compression, recordCount(m), m.value.length, payload.length),
      acked: false, nack: null, sentOn: null, sentAt: 0,
    };
    this.frames.set(m, f);
    return f;
  }

  private async deliver(frames: OutFrame[], token: object): Promise<void> {
    let reconnects = 0;
    for (;;) {
      if (this.current !== token) throw new AbandonedError();
      const nacked = frames.find((f) => f.nack);
      if (nacked) {
        const err = nacked.nack!;
        nacked.nack = null;
        nacked.acked = false;
        // The next attempt gets a fresh sequence (a relay never sees one sequence twice on a connection).
        nacked.sentOn = null;
        this.reframe(nacked);
        if (err.nackCode === ErrorCode.TOO_LARGE || err.nackCode === ErrorCode.FRAME_TOO_LARGE) throw new RecordTooLargeError(nacked.rawLength, this.maxMessageBytes);
        throw err;
      }
      if (frames.every((f) => f.acked)) return;

      let c: Conn;
      try {
        c = await this.ensureConn();
      } catch (err) {
        if (this.current !== token) throw new AbandonedError();
        throw err;
      }
      if (this.current !== token) throw new AbandonedError();
      if (c.draining) {
        // GOAWAY: nothing new on this connection; wait for what it still owes, then replace it.
        if (c.inflight.size === 0) { this.kill(c, new ForwardConnectionLostError(this.endpoint.text, 'relay sent GOAWAY')); continue; }
      } else {
        this.sendFrames(c, frames);
      }
      const inflightBefore = c.inflight.size;
      const event = await this.waitEvent(Math.min(this.o.cfg.ack_timeout_ms, 1000));
      if (c.dead) {
        if (this.current !== token) throw new AbandonedError();
        if (frames.every((f) => f.acked) || frames.some((f) => f.nack)) continue;
        if (reconnects++ < this.o.cfg.reconnect_attempts && !this.closed) continue;
        throw c.dead;
      }
      if (!event && c.inflight.size > 0 && inflightBefore > 0 && Date.now() - c.lastAckAt > this.o.cfg.ack_timeout_ms) {
        const err = new ForwardTimeoutError(this.endpoint.text, 'ACK', this.o.cfg.ack_timeout_ms);
        this.kill(c, err);
        throw err;
      }
    }
  }

  /** Writes the frames not yet on this connection, in sequence order, while the window has room. */
  private sendFrames(c: Conn, frames: OutFrame[]): void {
    let retransmits = 0;
    for (const f of frames) {
      if (f.acked || f.nack || f.sentOn === c) continue;
      if (c.inflight.size >= c.window) break;
      if (f.sentOn !== null) retransmits++;
      // Frames must go out in increasing sequence order on a connection; a frame
      // older than what this connection already carried gets a new number.
      if (f.seq <= c.lastSentSeq || (f.compression !== 0 && f.compression !== c.compression)) this.reframe(f, c.compression);
      f.sentOn = c;
      f.sentAt = performance.now();
      c.lastSentSeq = f.seq;
      if (c.inflight.size === 0) c.lastAckAt = Date.now();
      c.inflight.set(f.seq, f);
      this.write(c, [f.header, f.payload], FrameType.BATCH);
    }
    this.o.metrics.retransmits(retransmits, this.endpoint.text);
  }

  /** New sequence number (and, if the relay does not take the configured codec, a new payload). */
  private reframe(f: OutFrame, compression = f.compression): void {
    f.seq = this.nextSeq++;
    if (compression !== f.compression) {
      // Only ever to 'none' (a relay always accepts it); rare: a relay that does not take our codec.
      f.payload = f.raw;
      f.compression = compression;
    }
    f.header = encodeBatchHeader(f.seq, f.compression, f.records, f.rawLength, f.payload.length);
  }

  private abandonCurrent(): void {
    this.current = null;
    const c = this.conn;
    if (c && c.inflight.size > 0) this.kill(c, new ForwardConnectionLostError(this.endpoint.text, 'request abandoned'));
    this.notify();
  }

  private waitEvent(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { resolve(false); }, ms);
      this.waiters.push(() => { clearTimeout(t); resolve(true); });
    });
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  // ---- connection ---------------------------------------------------------------

  private ensureConn(): Promise<Conn> {
    const c = this.conn;
    if (c && !c.dead) return Promise.resolve(c);
    if (this.closed) return Promise.reject(new ForwardConnectionLostError(this.endpoint.text, 'sink closed'));
    this.connecting ??= this.connect().finally(() => { this.connecting = null; });
    return this.connecting;
  }

  private async connect(): Promise<Conn> {
    const ep = this.endpoint;
    const cfg = this.o.cfg;
    const deadline = Date.now() + cfg.connect_timeout_ms;
    let address: string;
    try {
      // Resolved on every connect so a DNS change (failover record) takes effect at the next reconnect.
      address = net.isIP(ep.host) ? ep.host : await (this.o.resolve ?? defaultResolve)(ep.host);
    } catch (err) {
      const e = new ForwardConnectError(ep.text, `DNS lookup failed: ${(err as Error).message}`, err);
      this.fail(e);
      throw e;
    }
    let socket: net.Socket;
    try {
      socket = await this.openSocket(address, deadline);
    } catch (err) {
      const e = err instanceof EdgelogError ? err : new ForwardConnectError(ep.text, (err as Error).message, err);
      this.fail(e);
      throw e;
    }
    const c = new Conn(++connIds, socket, cfg.max_frame_bytes);
    this.conn = c;
    this.o.metrics.connections(1);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(c, chunk));
    socket.on('error', (err) => this.kill(c, new ForwardConnectionLostError(ep.text, err.message)));
    socket.on('close', () => { this.kill(c, new ForwardConnectionLostError(ep.text, 'closed by the relay')); });
    try {
      if (!this.uringFailed) this.kind = (await this.o.transport).kind;
      if (this.kind === 'io_uring') {
        try {
          const sender = await openUring(1 << 20);
          try {
            c.writer = new UringWriter(sender, socketFd(socket), (err) => this.kill(c, new ForwardConnectionLostError(ep.text, err.message)));
          } catch (err) {
            await sender.close();
            throw err;
          }
        } catch (err) {
          // The ring could not be set up here (memlock limit, seccomp, fd trouble): this
          // connection object stays on Node's path from now on, and says so once.
          this.uringFailed = true;
          this.kind = 'node';
          this.o.metrics.transportFallback((err as Error).message);
        }
      }
      if (!c.writer) c.writer = new NodeWriter(socket);
      const hello = encodeHello({
        minVersion: MIN_VERSION, maxVersion: MAX_VERSION, flags: 0, maxFrameBytes: cfg.max_frame_bytes,
        compressions: preferenceOrder(compressionId(cfg.compression)), sessionId: this.sessionId, agentId: this.o.agentId,
      });
      const acked = new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new ForwardTimeoutError(ep.text, 'HELLO_ACK', cfg.connect_timeout_ms)), Math.max(1, deadline - Date.now()));
        const check = () => {
          if (c.helloDone) { clearTimeout(t); resolve(); return true; }
          if (c.dead) { clearTimeout(t); reject(c.dead); return true; }
          return false;
        };
        const loop = () => { if (!check()) this.waiters.push(loop); };
        loop();
      });
      this.write(c, [hello], FrameType.HELLO);
      await acked;
    } catch (err) {
      const e = err instanceof EdgelogError ? err : new ForwardConnectError(ep.text, (err as Error).message, err);
      this.kill(c, e);
      this.fail(e);
      throw e;
    }
    this.o.metrics.connect(ep.text, 'ok', `${address} via ${this.kind}, relay ${c.relayId}, window ${c.window}, compression ${compressionNames[c.compression]}`);
    this.lastError = '';
    c.hb = setInterval(() => this.heartbeat(c), Math.max(100, Math.floor(cfg.heartbeat_interval_ms / 2)));
    c.hb.unref();
    return c;
  }

  private openSocket(address: string, deadline: number): Promise<net.Socket> {
    const ep = this.endpoint;
    return new Promise<net.Socket>((resolve, reject) => {
      let socket: net.Socket;
      const ms = Math.max(1, deadline - Date.now());
      const t = setTimeout(() => { socket.destroy(); reject(new ForwardTimeoutError(ep.text, 'connect', this.o.cfg.connect_timeout_ms)); }, ms);
      const done = (err?: Error) => {
        clearTimeout(t);
        socket.removeAllListeners('error');
        if (err) { socket.destroy(); reject(new ForwardConnectError(ep.text, err.message, err)); } else resolve(socket);
      };
      if (this.o.tlsOptions) {
        socket = process.getBuiltinModule('node:tls').connect({
          ...this.o.tlsOptions, host: address, port: ep.port,
          servername: this.o.cfg.tls?.server_name ?? (net.isIP(ep.host) ? undefined : ep.host),
        }, () => done());
      } else {
        socket = net.connect({ host: address, port: ep.port }, () => done());
      }
      socket.once('error', (err) => done(err));
    });
  }

  private fail(e: EdgelogError): void {
    this.lastError = e.message;
    this.o.metrics.connect(this.endpoint.text, 'error', e.message);
  }

  private heartbeat(c: Conn): void {
    if (c.dead) return;
    const cfg = this.o.cfg;
    const now = Date.now();
    // Only an idle connection is judged by heartbeats: with batches in flight the relay may
    // rightly stop reading (backpressure) and the ACK timeout is what applies.
    if (c.inflight.size === 0 && now - c.lastRecv > cfg.heartbeat_interval_ms + cfg.heartbeat_timeout_ms) {
      this.kill(c, new ForwardTimeoutError(this.endpoint.text, 'HEARTBEAT_ACK', cfg.heartbeat_timeout_ms));
      return;
    }
    if (now - c.lastRecv >= cfg.heartbeat_interval_ms) this.write(c, [encodeHeartbeat(process.hrtime.bigint())], FrameType.HEARTBEAT);
  }

  private write(c: Conn, parts: Buffer[], type: number): void {
    if (c.dead || !c.writer) return;
    let n = 0;
    for (const p of parts) n += p.length;
    this.o.metrics.frame('out', type, n);
    c.writer.write(parts);
  }

  private onData(c: Conn, chunk: Buffer): void {
    if (c.dead) return;
    c.lastRecv = Date.now();
    const frames: Frame[] = [];
    const err = c.decoder.push(chunk, frames);
    for (const f of frames) this.onFrame(c, f);
    if (err) this.kill(c, new ForwardProtocolError(this.endpoint.text, `relay sent a bad frame: ${err.message}`, true));
  }

  private onFrame(c: Conn, f: Frame): void {
    if (c.dead) return;
    this.o.metrics.frame('in', f.type, f.type === FrameType.BATCH ? f.payload.length + BATCH_HEADER_BYTES : 0);
    if (!c.helloDone) {
      if (f.type === FrameType.HELLO_ACK) {
        if (f.version < MIN_VERSION || f.version > MAX_VERSION) { this.kill(c, new ForwardProtocolError(this.endpoint.text, `relay chose version ${f.version}, we speak ${MIN_VERSION}..${MAX_VERSION}`, false)); return; }
        c.window = Math.max(1, Math.min(this.o.cfg.window, f.window || 1));
        const want = compressionId(this.o.cfg.compression);
        c.compression = f.compressions.includes(want) ? want : 0;
        if (c.compression !== want) this.o.log.warn('forward: relay does not accept the configured compression, sending uncompressed', { endpoint: this.endpoint.text, wanted: this.o.cfg.compression, relay_accepts: f.compressions.map((x) => compressionNames[x] ?? x) });
        c.relayId = f.relayId;
        c.helloDone = true;
        this.notify();
        return;
      }
      if (f.type === FrameType.AUTH_CHALLENGE) {
        if (!this.o.secret) { this.kill(c, new ForwardProtocolError(this.endpoint.text, 'relay requires authentication and this sink has no auth.secret_file / auth.secret', false)); return; }
        this.write(c, [encodeAuthResponse(authProof(this.o.secret, f.nonce, this.sessionId, this.o.agentId))], FrameType.AUTH_RESPONSE);
        return;
      }
      if (f.type === FrameType.GOAWAY) {
        const fatal = f.code === ErrorCode.UNSUPPORTED_VERSION || f.code === ErrorCode.AUTH_FAILED || f.code === ErrorCode.AUTH_REQUIRED;
        this.kill(c, new ForwardProtocolError(this.endpoint.text, `relay refused the handshake: ${errorCodeName[f.code] ?? f.code}: ${f.message}`, !fatal));
        return;
      }
      this.kill(c, new ForwardProtocolError(this.endpoint.text, `expected HELLO_ACK, got frame type ${f.type}`, true));
      return;
    }
    switch (f.type) {
      case FrameType.ACK: {
        const of = c.inflight.get(f.sequence);
        if (!of) { this.o.log.debug('forward: ACK for a sequence not in flight', { sequence: String(f.sequence) }); return; }
        c.inflight.delete(f.sequence);
        of.acked = true;
        c.lastAckAt = Date.now();
        this.o.metrics.ackSeconds((performance.now() - of.sentAt) / 1000);
        this.notify();
        return;
      }
      case FrameType.NACK: {
        const of = c.inflight.get(f.sequence);
        this.o.metrics.nack(errorCodeName[f.code] ?? String(f.code), this.endpoint.text, f.message);
        if (!of) return;
        c.inflight.delete(f.sequence);
        of.nack = new ForwardNackError(this.endpoint.text, f.code, f.retriable, f.message);
        this.notify();
        return;
      }
      case FrameType.HEARTBEAT:
        this.write(c, [encodeHeartbeat(f.timestamp, true)], FrameType.HEARTBEAT_ACK);
        return;
      case FrameType.HEARTBEAT_ACK: {
        const now = process.hrtime.bigint();
        if (f.timestamp <= now) this.o.metrics.rttSeconds(Number(now - f.timestamp) / 1e9);
        const p = this.probes.get(f.timestamp);
        if (p) { this.probes.delete(f.timestamp); p(true); }
        return;
      }
      case FrameType.GOAWAY:
        c.draining = true;
        this.o.log.warn('forward: relay sent GOAWAY', { endpoint: this.endpoint.text, code: errorCodeName[f.code] ?? f.code, message: f.message });
        this.lastError = `relay sent GOAWAY (${errorCodeName[f.code] ?? f.code})`;
        if (c.inflight.size === 0) this.kill(c, new ForwardConnectionLostError(this.endpoint.text, 'relay sent GOAWAY'));
        this.notify();
        return;
      default:
        this.kill(c, new ForwardProtocolError(this.endpoint.text, `unexpected frame type ${f.type} from the relay`, true));
    }
  }

  /** Ends a connection once; its unacknowledged frames stay to be resent on the next one. */
  private kill(c: Conn, err: EdgelogError): void {
    if (c.dead) return;
    c.dead = err;
    if (c.hb) clearInterval(c.hb);
    c.socket.destroy();
    void c.writer?.close();
    if (this.conn === c) this.conn = null;
    this.o.metrics.connections(-1);
    if (!this.closed && c.helloDone) this.lastError = err.message;
    for (const [, p] of this.probes) p(false);
    this.probes.clear();
    this.notify();
  }
}

/** Our compression list for HELLO: the configured codec first, then the rest we support. */
function preferenceOrder(first: number): number[] {
  return [first, ...supportedCompressions.filter((x) => x !== first)];
}
