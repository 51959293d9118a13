// The `forward` source: the relay's side of the forward protocol. Accepts
// agent connections, checks every frame strictly, decodes each BATCH's OTLP
// LogsData into records and pushes them into the pipeline with one AckGroup
// per batch; the group's completion (every record acknowledged by Kafka, or
// deliberately dropped/dead-lettered) sends ACK(sequence). So the relay
// acknowledges a sequence only after Kafka did, and the hop keeps
// at-least-once.
//
// Backpressure: a connection's socket is paused while one of its batches is
// being decompressed, decoded or pushed (the pipeline's push promise), so a
// slow Kafka slows the agents instead of growing the relay's memory.
// Defences: connection cap, frame cap (checked from the 5-byte header before
// any body is buffered), decompressed-size cap, window and sequence checks,
// handshake and idle timeouts. A violation is counted
// (edgelog_forward_rejected_total{reason}), answered with GOAWAY and ends
// that connection only; nothing a peer sends can throw out of a handler.

import net from 'node:net';
// Types only: node:tls is loaded (process.getBuiltinModule) where TLS is configured; importing it costs ~2.8 MB RSS.
import type tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { AckGroup } from '../../core/ack.ts';
import type { ComponentContext, Downstream, Source } from '../../core/component.ts';
import { ConfigError } from '../../core/errors.ts';
import type { LogRecord } from '../../core/record.ts';
import type { Logger } from '../../observe/log.ts';
import {
  FrameDecoder, FrameError, encodeAck, encodeAuthChallenge, encodeGoaway, encodeHeartbeat, encodeHelloAck, encodeNack,
  type BatchFrame, type Frame, type HelloFrame,
} from '../../forward/codec.ts';
import { AUTH_VERSION, BATCH_HEADER_BYTES, ErrorCode, FrameType, MAX_VERSION, MIN_VERSION, errorCodeName } from '../../forward/constants.ts';
import { AgentSecrets, authProof, loadSecret, newNonce, parseSecretsFile, proofMatches, readSecretFile, sessionTag } from '../../forward/auth.ts';
import { MemoryBudget, batchCharge, sharedBudget } from '../../forward/memory-budget.ts';
import { enforceIdentity } from './identity.ts';
import { DecompressError, decompress, supportedCompressions } from '../../forward/compression.ts';
import { PayloadError, decodeLogsData } from '../../forward/logs-decode.ts';
import { ForwardMetrics } from '../../forward/metrics.ts';
import { forwardExposure, parseListen, type ForwardSourceConfig } from './config.ts';
import { warnIfExposed } from '../net/exposure.ts';

interface Conn {
  readonly socket: net.Socket;
  readonly peer: string;
  readonly decoder: FrameDecoder;
  hello: HelloFrame | null;
  /** HELLO received, AUTH_RESPONSE awaited. */
  pendingHello: HelloFrame | null;
  nonce: Buffer | null;
  /** The authenticated agent id (the claimed one when the relay runs without authentication). */
  identity: string;
  /** Remote address without port: the per-address connection count key. */
  readonly addr: string;
  /** When the frame now being assembled started arriving (0 = none in progress or we are not reading). */
  frameSince: number;
  lastSeq: bigint;
  /** BATCHes pushed and not yet ACKed. */
  unacked: number;
  readonly queue: Frame[];
  processing: boolean;
  closing: boolean;
  hsTimer: NodeJS.Timeout | null;
}

/** A batch pushed downstream and not yet done, and the connections owed its ACK. */
interface Pending { readonly conns: Set<Conn> }

/**
 * What the relay remembers of one sender session (agent id + HELLO session id):
 * batches in the pipeline, and recently completed sequences. A sender never
 * reuses (session, sequence) for other content (PROTOCOL.md 8), so a resent
 * batch that is still in the pipeline just waits for it, and one that already
 * completed is ACKed at once: no duplicate reaches Kafka while this relay stays up.
 */
interface Session {
  readonly pending: Map<bigint, Pending>;
  readonly done: Set<bigint>;
  readonly doneOrder: bigint[];
}

// Completed sequences remembered per session: 8 windows of the default 16, more than a sender
// can still hold unacknowledged after a reconnect. ~60 B each in a Set plus an array.
const DONE_PER_SESSION = 128;
// Sessions remembered, idle ones forgotten first: a relay's agents and their restarts. Worst case
// (every session full) ~4096 x 128 x 60 B = ~31 MiB, bounded even if peers invent session ids.
const MAX_SESSIONS = 4096;

export class ForwardSource implements Source {
  private readonly cfg: ForwardSourceConfig;
  private readonly ctx: ComponentContext;
  private readonly log: Logger;
  private readonly m: ForwardMetrics;
  private server: net.Server | null = null;
  private out: Downstream | null = null;
  private readonly conns = new Set<Conn>();
  private raw = 0;
  private stopping = false;
  private totalUnacked = 0;
  private drainWaiters: Array<() => void> = [];
  private readonly relayId: string;
  private readonly sessions = new Map<string, Session>();
  private readonly perAddress = new Map<string, number>();
  private secrets: AgentSecrets | null = null;
  private budget: MemoryBudget | null = null;
  private sweep: NodeJS.Timeout | null = null;
  address: { host: string; port: number } | null = null;

  constructor(cfg: ForwardSourceConfig, ctx: ComponentContext) {
    this.cfg = cfg;
    this.ctx = ctx;
    this.log = ctx.log;
    this.m = new ForwardMetrics(ctx.metrics, ctx.id, ctx.log);
    this.relayId = cfg.relay_id || ctx.agentId;
  }

  get connections(): number { return this.conns.size; }

  async start(out: Downstream): Promise<void> {
    this.out = out;
    const { host, port } = parseListen(this.cfg.address, `sources.${this.ctx.id}.address`);
    const tlsOpts = this.cfg.tls ? this.loadTls() : null;
    this.secrets = this.cfg.auth ? this.loadSecrets() : null;
    this.budget = sharedBudget(this.cfg.memory_budget_bytes);
    warnIfExposed(forwardExposure(this.cfg), `sources.${this.ctx.id}`, this.log);
    const server = tlsOpts ? process.getBuiltinModule('node:tls').createServer(tlsOpts) : net.createServer();
    this.server = server;
    server.on('connection', (s: net.Socket) => this.onRaw(s));
    if (tlsOpts) {
      server.on('secureConnection', (s: tls.TLSSocket) => this.onSocket(s));
      server.on('tlsClientError', (e: Error, s: tls.TLSSocket) => this.m.rejected('tls_handshake', `${s?.remoteAddress}:${s?.remotePort}`, e.message));
    }
    server.on('error', (e) => this.log.error('forward: listener error', { error: e.message }));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, backlog: 511 }, () => { server.off('error', reject); resolve(); });
    });
    const a = server.address() as net.AddressInfo;
    this.address = { host: a.address, port: a.port };
    this.log.info('forward: listening', {
      address: `${a.address}:${a.port}`, tls: !!tlsOpts, auth: this.secrets ? 'hmac' : 'none', client_cert: !!this.cfg.tls?.verify_client, window: this.cfg.window,
    });
    // One sweep for all connections (not a timer each): cuts senders whose frame is overdue.
    const every = Math.max(50, Math.min(1000, Math.floor(this.cfg.frame_timeout_ms / 4)));
    this.sweep = setInterval(() => this.sweepFrames(), every);
    this.sweep.unref();
  }

  /** Stop accepting; tell every agent GOAWAY(shutting_down) and stop reading. ACKs keep flowing until drain(). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.sweep) { clearInterval(this.sweep); this.sweep = null; }
    this.server?.close();
    for (const c of this.conns) {
      if (c.closing) continue;
      c.closing = true;
      c.queue.length = 0;
      c.socket.pause();
      this.send(c, encodeGoaway(ErrorCode.SHUTTING_DOWN, 'relay shutting down'), FrameType.GOAWAY);
    }
  }

  /** Wait until every pushed batch was ACKed (or the timeout), then close the connections. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.totalUnacked > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timeoutMs);
        this.drainWaiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
    const closing: Promise<void>[] = [];
    for (const c of this.conns) {
      closing.push(new Promise((r) => { c.socket.once('close', () => r()); }));
      c.socket.end();
      setTimeout(() => c.socket.destroy(), 1000).unref();
    }
    await Promise.all(closing);
  }

  private loadTls(): tls.TlsOptions {
    const t = this.cfg.tls!;
    const path = `sources.${this.ctx.id}.tls`;
    const read = (file: string, key: string) => {
      try { return readFileSync(file); } catch { throw new ConfigError(`${path}.${key}`, 'a readable PEM file', file); }
    };
    const o: tls.TlsOptions = {
      cert: read(t.cert_file, 'cert_file'), key: read(t.key_file, 'key_file'), minVersion: 'TLSv1.2',
      handshakeTimeout: this.cfg.handshake_timeout_ms,
    };
    if (t.ca_file) o.ca = read(t.ca_file, 'ca_file');
    // The certificate is verified by OpenSSL, but the handshake is let through and a bad
    // certificate refused right after (onSocket): a failed handshake only says "socket hang
    // up" on this side (TLS 1.3 verifies the client after the client thinks it is done), so
    // an operator could not tell an expired certificate from a scan, and the agent would see
    // a reset instead of GOAWAY(AUTH_FAILED) with the reason.
    if (t.verify_client) { o.requestCert = true; o.rejectUnauthorized = false; }
    return o;
  }

  private loadSecrets(): AgentSecrets {
    const a = this.cfg.auth!;
    const path = `sources.${this.ctx.id}.auth`;
    const perAgent = a.secrets_file ? parseSecretsFile(readSecretFile(a.secrets_file, `${path}.secrets_file`), `${path}.secrets_file`) : new Map<string, Buffer>();
    const site = a.shared_key_file || a.shared_key
      ? loadSecret(a.shared_key_file, a.shared_key, `${path}.${a.shared_key_file ? 'shared_key_file' : 'shared_key'}`) : null;
    return new AgentSecrets(perAgent, site);
  }

  /** Cut connections whose current frame has been arriving for longer than frame_timeout. */
  private sweepFrames(): void {
    const now = Date.now();
    for (const c of this.conns) {
      if (c.frameSince > 0 && !c.processing && !c.closing && now - c.frameSince > this.cfg.frame_timeout_ms) {
        this.reject(c, 'frame_timeout', ErrorCode.FRAME_TIMEOUT, `frame not complete within ${this.cfg.frame_timeout_ms} ms (${c.decoder.buffered} bytes buffered)`);
      }
    }
  }

  /** Connection cap on the raw socket, before TLS spends anything on it. */
  private onRaw(s: net.Socket): void {
    const peer = `${s.remoteAddress}:${s.remotePort}`;
    s.on('error', () => {});
    const addr = s.remoteAddress ?? '';
    const fromAddr = this.perAddress.get(addr) ?? 0;
    if (this.stopping || this.raw >= this.cfg.max_connections || fromAddr >= this.cfg.max_connections_per_address) {
      const reason = this.stopping ? 'shutting_down' : fromAddr >= this.cfg.max_connections_per_address ? 'max_connections_per_address' : 'max_connections';
      this.m.rejected(reason, peer, `${this.raw} connections open, ${fromAddr} from ${addr}`);
      s.destroy();
      return;
    }
    this.raw++;
    this.perAddress.set(addr, fromAddr + 1);
    s.once('close', () => {
      this.raw--;
      const n = (this.perAddress.get(addr) ?? 1) - 1;
      if (n <= 0) this.perAddress.delete(addr); else this.perAddress.set(addr, n);
    });
    if (!this.cfg.tls) this.onSocket(s);
  }

  private onSocket(socket: net.Socket): void {
    if (socket.destroyed) return;
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    if (this.cfg.tls?.verify_client) {
      const refusal = clientCertRefusal(socket as tls.TLSSocket);
      if (refusal) {
        this.m.rejected(refusal.reason, peer, refusal.message);
        // Nothing of the peer is read: GOAWAY says why (the agent logs it), then close.
        socket.end(encodeGoaway(ErrorCode.AUTH_FAILED, refusal.message));
        setTimeout(() => socket.destroy(), 200).unref();
        return;
      }
    }
    const c: Conn = {
      socket, peer, decoder: new FrameDecoder(this.cfg.max_frame_bytes), hello: null, pendingHello: null, nonce: null,
      identity: '', addr: socket.remoteAddress ?? '', frameSince: 0, lastSeq: 0n, unacked: 0,
      queue: [], processing: false, closing: false, hsTimer: null,
    };
    this.conns.add(c);
    this.m.connections(1);
    socket.setNoDelay(true);
    c.hsTimer = setTimeout(() => { if (!c.hello) this.reject(c, 'handshake_timeout', ErrorCode.HANDSHAKE_TIMEOUT, `no HELLO within ${this.cfg.handshake_timeout_ms} ms`); }, this.cfg.handshake_timeout_ms);
    c.hsTimer.unref();
    socket.setTimeout(this.cfg.idle_timeout_ms);
    socket.on('timeout', () => {
      // Not idle if we are the slow side (batch in progress or ACKs owed).
      if (c.processing || c.unacked > 0 || c.closing) return;
      this.reject(c, 'idle_timeout', ErrorCode.IDLE_TIMEOUT, `nothing received for ${this.cfg.idle_timeout_ms} ms`);
    });
    socket.on('data', (chunk: Buffer) => this.onData(c, chunk));
    socket.on('end', () => {
      const err = c.decoder.end();
      if (err && !c.closing) this.reject(c, err.reason, err.code, err.message);
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'ECONNRESET' && e.code !== 'EPIPE') this.log.debug('forward: connection error', { peer, error: e.message });
    });
    socket.on('close', () => {
      if (c.hsTimer) clearTimeout(c.hsTimer);
      c.closing = true;
      c.queue.length = 0;
      this.conns.delete(c);
      this.m.connections(-1);
    });
  }

  private onData(c: Conn, chunk: Buffer): void {
    if (c.closing) return;
    const frames: Frame[] = [];
    const err = c.decoder.push(chunk, frames);
    if (err) { this.reject(c, err.reason, err.code, err.message); return; }
    for (const f of frames) {
      this.m.frame('in', f.type, f.type === FrameType.BATCH ? f.payload.length + BATCH_HEADER_BYTES : 0);
      c.queue.push(f);
    }
    this.markFrame(c);
    if (c.queue.length > 0 && !c.processing) void this.pump(c);
  }

  /** Starts (or clears) the frame deadline: only after the handshake, and only while we are reading. */
  private markFrame(c: Conn): void {
    if (c.decoder.buffered === 0 || !c.hello) c.frameSince = 0;
    else if (c.frameSince === 0) c.frameSince = Date.now();
  }

  /** Handles queued frames one at a time with the socket paused. */
  private async pump(c: Conn): Promise<void> {
    c.processing = true;
    c.socket.pause();
    try {
      while (c.queue.length > 0 && !c.closing) {
        const f = c.queue.shift()!;
        try {
          await this.onFrame(c, f);
        } catch (err) {
          if (err instanceof FrameError) this.reject(c, err.reason, err.code, err.message);
          else {
            this.log.error('forward: internal error handling a frame', { peer: c.peer, error: (err as Error).message });
            this.reject(c, 'internal', ErrorCode.INTERNAL, 'internal error');
          }
        }
      }
    } finally {
      c.processing = false;
      // bytes that waited while we were busy start their deadline now, not when they arrived
      c.frameSince = 0;
      this.markFrame(c);
      if (!c.closing && !this.stopping) c.socket.resume();
    }
  }

  private async onFrame(c: Conn, f: Frame): Promise<void> {
    if (!c.hello) {
      if (c.pendingHello) {
        if (f.type !== FrameType.AUTH_RESPONSE) throw new FrameError('unexpected_frame', ErrorCode.UNEXPECTED_FRAME, `expected AUTH_RESPONSE, got type ${f.type}`);
        this.onAuthResponse(c, f.proof);
        return;
      }
      if (f.type !== FrameType.HELLO) throw new FrameError('no_hello', ErrorCode.UNEXPECTED_FRAME, `first frame must be HELLO, got type ${f.type}`);
      this.onHello(c, f);
      return;
    }
    switch (f.type) {
      case FrameType.BATCH: await this.onBatch(c, f); return;
      case FrameType.HEARTBEAT: this.send(c, encodeHeartbeat(f.timestamp, true), FrameType.HEARTBEAT_ACK); return;
      case FrameType.HEARTBEAT_ACK: return;
      case FrameType.GOAWAY:
        this.log.info('forward: agent said GOAWAY', { peer: c.peer, agent: c.identity, code: errorCodeName[f.code] ?? f.code, message: f.message });
        return;
      default:
        throw new FrameError('unexpected_frame', ErrorCode.UNEXPECTED_FRAME, `frame type ${f.type} is not sent by agents`);
    }
  }

  private onHello(c: Conn, h: HelloFrame): void {
    const version = Math.min(MAX_VERSION, h.maxVersion);
    if (version < Math.max(MIN_VERSION, h.minVersion)) {
      throw new FrameError('unsupported_version', ErrorCode.UNSUPPORTED_VERSION, `agent speaks ${h.minVersion}..${h.maxVersion}, relay ${MIN_VERSION}..${MAX_VERSION}`);
    }
    if (h.maxFrameBytes < 64) throw new FrameError('bad_hello', ErrorCode.PROTOCOL, `agent max frame ${h.maxFrameBytes} below 64 bytes`);
    if (h.agentId === '') throw new FrameError('bad_hello', ErrorCode.PROTOCOL, 'empty agent id');
    // mTLS: the verified client certificate names the agent; HELLO must claim that same name.
    if (this.cfg.tls?.verify_client) {
      const certId = certIdentity(c.socket);
      if (certId === null || certId !== h.agentId) {
        throw new FrameError('identity_mismatch', ErrorCode.AUTH_FAILED, `client certificate names ${certId ?? 'nobody'}, HELLO claims ${h.agentId}`);
      }
    }
    if (this.secrets) {
      if (h.maxVersion < AUTH_VERSION) {
        throw new FrameError('auth_required', ErrorCode.AUTH_REQUIRED, `this relay requires forward protocol version ${AUTH_VERSION} (authenticated handshake); the agent speaks ${h.minVersion}..${h.maxVersion}: upgrade the agent and configure auth`);
      }
      c.pendingHello = h;
      c.nonce = newNonce();
      this.send(c, encodeAuthChallenge(c.nonce), FrameType.AUTH_CHALLENGE);
      return;
    }
    this.accept(c, h, version);
  }

  private onAuthResponse(c: Conn, proof: Buffer): void {
    const h = c.pendingHello!;
    const secret = this.secrets!.secretFor(h.agentId);
    // No secret for this id: compare against a throwaway so timing does not reveal which ids exist.
    const expected = authProof(secret ?? newNonce(), c.nonce!, h.sessionId, h.agentId);
    c.pendingHello = null;
    c.nonce = null;
    if (!secret || !proofMatches(expected, proof)) {
      throw new FrameError('auth_failed', ErrorCode.AUTH_FAILED, `authentication failed for agent ${h.agentId}${secret ? '' : ' (no secret configured for it)'}`);
    }
    this.accept(c, h, Math.min(MAX_VERSION, h.maxVersion));
  }

  private accept(c: Conn, h: HelloFrame, version: number): void {
    c.hello = h;
    c.identity = h.agentId;
    if (c.hsTimer) { clearTimeout(c.hsTimer); c.hsTimer = null; }
    this.send(c, encodeHelloAck({
      version, flags: 0, maxFrameBytes: this.cfg.max_frame_bytes, window: this.cfg.window,
      compressions: supportedCompressions, relayId: this.relayId,
    }), FrameType.HELLO_ACK);
    this.log.info('forward: agent connected', {
      peer: c.peer, agent: h.agentId, session: sessionTag(h.sessionId), version,
      auth: this.secrets ? 'hmac' : this.cfg.tls?.verify_client ? 'client_cert' : 'none',
    });
  }

  private async onBatch(c: Conn, b: BatchFrame): Promise<void> {
    if (b.sequence === 0n || b.sequence <= c.lastSeq) {
      throw new FrameError('bad_sequence', ErrorCode.BAD_SEQUENCE, `sequence ${b.sequence} not above the previous ${c.lastSeq}`);
    }
    if (c.unacked >= this.cfg.window) {
      throw new FrameError('window_exceeded', ErrorCode.WINDOW_EXCEEDED, `sequence ${b.sequence} with ${c.unacked} batches unacknowledged (window ${this.cfg.window})`);
    }
    c.lastSeq = b.sequence;
    const seq = b.sequence;
    const sess = this.session(c.identity, c.hello!.sessionId);
    if (sess.done.has(seq)) {
      // resent after its ACK was lost: already in Kafka
      this.m.duplicate(c.peer, 'done');
      this.send(c, encodeAck(seq), FrameType.ACK);
      return;
    }
    const inPipeline = sess.pending.get(seq);
    if (inPipeline) {
      // resent while the first copy is still on its way: wait for it
      this.m.duplicate(c.peer, 'pending');
      inPipeline.conns.add(c);
      c.unacked++;
      this.totalUnacked++;
      return;
    }
    if (!supportedCompressions.includes(b.compression)) return this.nack(c, b, ErrorCode.UNSUPPORTED_COMPRESSION, false, `compression id ${b.compression}`);
    if (b.rawLength > this.cfg.max_batch_bytes) return this.nack(c, b, ErrorCode.TOO_LARGE, false, `raw length ${b.rawLength} above ${this.cfg.max_batch_bytes}`);
    // Admission before expansion: charge the declared size first; wait (socket paused, no ACK) while the budget is full.
    const budget = this.budget!;
    const charge = batchCharge(b.payload.length, b.rawLength);
    if (!budget.fits(charge)) return this.nack(c, b, ErrorCode.TOO_LARGE, false, `batch needs ${charge} bytes of a ${budget.limit}-byte memory budget`);
    const wait = budget.acquire(charge);
    if (wait) { this.m.budgetWait(); await wait; }
    let charged = true;
    const refund = () => { if (charged) { charged = false; budget.release(charge); } };
    if (c.closing) { refund(); return; } // ended while waiting: no ACK, the agent resends
    let raw: Buffer;
    try {
      raw = await decompress(b.compression, b.payload, b.rawLength);
    } catch (err) {
      refund();
      return this.nack(c, b, ErrorCode.BAD_PAYLOAD, false, (err as DecompressError).message);
    }
    if (c.closing) { refund(); return; } // connection ended meanwhile: no ACK, the agent resends
    const pending: Pending = { conns: new Set([c]) };
    const group = new AckGroup(0, () => { refund(); this.onBatchDone(sess, seq, pending); });
    const records: LogRecord[] = [];
    try {
      decodeLogsData(raw, group, records, { keepResource: this.cfg.keep_resource });
    } catch (err) {
      refund();
      return this.nack(c, b, ErrorCode.BAD_PAYLOAD, false, (err as PayloadError).message);
    }
    if (records.length !== b.recordCount) {
      refund();
      return this.nack(c, b, ErrorCode.RECORD_COUNT_MISMATCH, false, `frame says ${b.recordCount} records, payload holds ${records.length}`);
    }
    const claimed = enforceIdentity(records, c.identity, (n) => this.m.hostNameRewritten(n));
    if (claimed !== null) {
      refund();
      this.m.rejectedBatch('identity_mismatch');
      return this.nack(c, b, ErrorCode.IDENTITY_MISMATCH, false, `records claim agent ${claimed}, connection is authenticated as ${c.identity}`);
    }
    c.unacked++;
    this.totalUnacked++;
    sess.pending.set(seq, pending);
    if (records.length === 0) { group.seal(); return; }
    const pushed = this.out!.push(records);
    group.seal();
    await pushed;
  }

  /** Sessions are keyed by the authenticated identity: another identity can neither resume nor poison them. */
  private session(identity: string, sessionId: bigint): Session {
    const key = `${identity}\u0000${sessionId}`;
    let s = this.sessions.get(key);
    if (s) {
      // most recently used last (Map keeps insertion order)
      this.sessions.delete(key);
      this.sessions.set(key, s);
      return s;
    }
    s = { pending: new Map(), done: new Set(), doneOrder: [] };
    this.sessions.set(key, s);
    if (this.sessions.size > MAX_SESSIONS) {
      for (const [k, v] of this.sessions) {
        if (this.sessions.size <= MAX_SESSIONS) break;
        if (v.pending.size === 0) this.sessions.delete(k);
      }
    }
    return s;
  }

  private onBatchDone(sess: Session, seq: bigint, p: Pending): void {
    sess.pending.delete(seq);
    sess.done.add(seq);
    sess.doneOrder.push(seq);
    if (sess.doneOrder.length > DONE_PER_SESSION) sess.done.delete(sess.doneOrder.shift()!);
    for (const c of p.conns) {
      c.unacked--;
      this.totalUnacked--;
      // A connection that ended before this point gets no ACK: the agent resends the batch and is ACKed from `done`.
      if (!c.socket.destroyed) this.send(c, encodeAck(seq), FrameType.ACK);
    }
    if (this.totalUnacked === 0 && this.drainWaiters.length > 0) {
      const w = this.drainWaiters;
      this.drainWaiters = [];
      for (const f of w) f();
    }
  }

  private nack(c: Conn, b: BatchFrame, code: number, retriable: boolean, message: string): void {
    this.m.nack(errorCodeName[code] ?? String(code), c.peer, message);
    this.send(c, encodeNack(b.sequence, code, retriable, message), FrameType.NACK);
  }

  private send(c: Conn, frame: Buffer, type: number): void {
    if (c.socket.destroyed || !c.socket.writable) return;
    this.m.frame('out', type, frame.length);
    c.socket.write(frame);
  }

  /** Count, say GOAWAY with the reason, close this connection. */
  private reject(c: Conn, reason: string, code: number, message: string): void {
    if (c.socket.destroyed) return;
    const already = c.closing;
    c.closing = true;
    c.queue.length = 0;
    if (!already) this.m.rejected(reason, c.peer, message);
    this.send(c, encodeGoaway(code, message), FrameType.GOAWAY);
    c.socket.end();
    // Do not wait on a peer that does not read: the GOAWAY is best effort.
    setTimeout(() => c.socket.destroy(), 200).unref();
  }
}

export function createForwardSource(cfg: ForwardSourceConfig, ctx: ComponentContext): ForwardSource {
  return new ForwardSource(cfg, ctx);
}

/**
 * Why a TLS peer's client certificate is refused, or null when OpenSSL verified it against
 * `ca_file`. Reasons (the `reason` label of edgelog_forward_rejected_total):
 * client_cert_missing, client_cert_expired (also not yet valid), client_cert_untrusted
 * (another CA, self-signed, bad signature, wrong purpose, ...).
 */
export function clientCertRefusal(t: tls.TLSSocket): { reason: string; message: string } | null {
  if (t.authorized) return null;
  const code = String(t.authorizationError ?? 'UNKNOWN');
  const cert = t.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return { reason: 'client_cert_missing', message: 'client certificate required (none presented)' };
  const who = `subject CN=${String(cert.subject?.CN ?? '?')}, issuer CN=${String(cert.issuer?.CN ?? '?')}, serial ${cert.serialNumber ?? '?'}`;
  if (code === 'CERT_HAS_EXPIRED') return { reason: 'client_cert_expired', message: `client certificate expired on ${cert.valid_to} (${who})` };
  if (code === 'CERT_NOT_YET_VALID') return { reason: 'client_cert_expired', message: `client certificate not valid before ${cert.valid_from} (${who})` };
  return { reason: 'client_cert_untrusted', message: `client certificate not trusted: ${code} (${who})` };
}

/** The agent id a verified client certificate stands for: its first DNS subjectAltName, else its CN. */
function certIdentity(socket: net.Socket): string | null {
  const t = socket as tls.TLSSocket;
  if (typeof t.getPeerCertificate !== 'function' || !t.authorized) return null;
  const cert = t.getPeerCertificate();
  const san = cert.subjectaltname?.split(',').map((x) => x.trim()).find((x) => x.startsWith('DNS:'));
  if (san) return san.slice(4);
  const cn = cert.subject?.CN;
  return typeof cn === 'string' && cn !== '' ? cn : Array.isArray(cn) ? cn[0] ?? null : null;
}
