// One broker connection: TCP or TLS, Kafka's 4-byte size framing, request
// header v1 (every API here is a non-flexible version), correlation ids,
// pipelined requests each with a deadline, and clean failure of every pending
// request when the socket goes away. A response size above `maxResponseBytes`
// (or too small to hold a correlation id) is a garbled or hostile stream: the
// connection is closed before anything that size is allocated.

import * as net from 'node:net';
// Types only: node:tls is loaded (process.getBuiltinModule) where TLS is configured; importing it costs ~2.8 MB RSS.
import type * as tls from 'node:tls';
import { KafkaNetworkError } from './error-codes.ts';
import { Reader } from './wire.ts';

export interface ConnectionOptions {
  host: string;
  port: number;
  tls?: tls.ConnectionOptions;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  clientId: string;
  /** Largest response accepted (default 100 MiB). */
  maxResponseBytes?: number;
}

interface Pending {
  decode: (r: Reader) => unknown;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  apiKey: number;
}

export const defaultMaxResponseBytes = 100 * 1024 * 1024;

export class Connection {
  readonly address: string;
  private readonly sock: net.Socket;
  private readonly opts: ConnectionOptions;
  private readonly header: Buffer;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private chunks: Buffer[] = [];
  private have = 0;
  private need = -1;
  private failure: Error | null = null;
  private closeHandlers: ((err: Error) => void)[] = [];

  private constructor(sock: net.Socket, opts: ConnectionOptions) {
    this.sock = sock;
    this.opts = opts;
    this.address = `${opts.host}:${opts.port}`;
    const id = Buffer.from(opts.clientId);
    // size i32 | api_key i16 | api_version i16 | correlation_id i32 | client_id (i16 length)
    this.header = Buffer.alloc(4 + 2 + 2 + 4 + 2 + id.length);
    this.header.writeInt16BE(id.length, 12);
    id.copy(this.header, 14);
    sock.on('data', (c: Buffer) => this.onData(c));
    sock.on('error', (e) => this.fail(new KafkaNetworkError('NETWORK_EXCEPTION', `connection to ${this.address} failed: ${e.message}`, e)));
    sock.on('close', () => this.fail(new KafkaNetworkError('NETWORK_EXCEPTION', `connection to ${this.address} closed`)));
  }

  /** Connects within connectTimeoutMs. */
  static open(opts: ConnectionOptions): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const addr = `${opts.host}:${opts.port}`;
      const sock = opts.tls
        ? process.getBuiltinModule('node:tls').connect({ ...opts.tls, host: opts.host, port: opts.port, servername: opts.tls.servername ?? (net.isIP(opts.host) ? undefined : opts.host) })
        : net.connect({ host: opts.host, port: opts.port });
      sock.setNoDelay(true);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new KafkaNetworkError('NETWORK_EXCEPTION', `connection to ${addr} timed out after ${opts.connectTimeoutMs} ms`));
      }, opts.connectTimeoutMs);
      const onError = (e: Error) => { clearTimeout(timer); sock.destroy(); reject(new KafkaNetworkError('NETWORK_EXCEPTION', `connection to ${addr} failed: ${e.message}`, e)); };
      sock.once('error', onError);
      sock.once(opts.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        sock.off('error', onError);
        resolve(new Connection(sock, opts));
      });
    });
  }

  get closed(): boolean { return this.failure !== null; }

  /** Called once when the connection goes away (error, close, garbled stream, timeout). */
  onClose(h: (err: Error) => void): void {
    if (this.failure) h(this.failure);
    else this.closeHandlers.push(h);
  }

  /**
   * Sends one request (`body`: the request's fields after the header, in
   * parts written with one corked write) and decodes its response.
   * `expectResponse` false (produce with acks none): resolves once written.
   */
  request<T>(apiKey: number, version: number, body: readonly Buffer[], decode: (r: Reader) => T, expectResponse = true): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId = (this.nextId + 1) & 0x7fffffff;
    let size = this.header.length - 4;
    for (const b of body) size += b.length;
    const h = Buffer.from(this.header);
    h.writeInt32BE(size, 0);
    h.writeInt16BE(apiKey, 4);
    h.writeInt16BE(version, 6);
    h.writeInt32BE(id, 8);
    return new Promise<T>((resolve, reject) => {
      const s = this.sock;
      s.cork();
      s.write(h);
      for (let i = 0; i < body.length - 1; i++) s.write(body[i]!);
      const last = body.length > 0 ? body[body.length - 1]! : Buffer.alloc(0);
      if (!expectResponse) {
        s.write(last, (err) => (err ? reject(new KafkaNetworkError('NETWORK_EXCEPTION', `write to ${this.address} failed: ${err.message}`, err)) : resolve(undefined as T)));
        s.uncork();
        return;
      }
      s.write(last);
      s.uncork();
      const timer = setTimeout(() => {
        // The answer may still come; a connection with a lost request in it is not reused.
        this.fail(new KafkaNetworkError('REQUEST_TIMED_OUT', `request (api ${apiKey}) to ${this.address} got no answer within ${this.opts.requestTimeoutMs} ms`));
      }, this.opts.requestTimeoutMs);
      this.pending.set(id, { decode, resolve: resolve as (v: unknown) => void, reject, timer, apiKey });
    });
  }

  close(): void {
    this.fail(new KafkaNetworkError('NETWORK_EXCEPTION', `connection to ${this.address} closed by the client`));
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.sock.destroy();
    this.chunks = [];
    for (const p of this.pending.values()) { clearTimeout(p.timer); p.reject(err); }
    this.pending.clear();
    for (const h of this.closeHandlers) h(err);
    this.closeHandlers = [];
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let p = 0;
      while (p < n) {
        const c = this.chunks[0]!;
        const k = Math.min(c.length, n - p);
        c.copy(out, p, 0, k);
        p += k;
        if (k === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(k);
      }
    }
    this.have -= n;
    return out;
  }

  private onData(chunk: Buffer): void {
    if (this.failure) return;
    this.chunks.push(chunk);
    this.have += chunk.length;
    for (;;) {
      if (this.need < 0) {
        if (this.have < 4) return;
        const size = this.take(4).readInt32BE(0);
        const max = this.opts.maxResponseBytes ?? defaultMaxResponseBytes;
        if (size < 4 || size > max) {
          this.fail(new KafkaNetworkError('NETWORK_EXCEPTION', `response from ${this.address} announces ${size} bytes (accepted: 4 to ${max}); the stream is garbled, connection closed`));
          return;
        }
        this.need = size;
      }
      if (this.have < this.need) return;
      const frame = this.take(this.need);
      this.need = -1;
      const id = frame.readInt32BE(0);
      const p = this.pending.get(id);
      if (!p) continue; // nothing waits for it (cannot happen while timeouts close the connection)
      this.pending.delete(id);
      clearTimeout(p.timer);
      try {
        p.resolve(p.decode(new Reader(frame, 4)));
      } catch (e) {
        p.reject(e as Error);
      }
    }
  }
}
