// How the forward sink puts bytes on the wire. Both paths read through a Node
// socket (ACKs are small and few); they differ in how frames are written:
//   node     - socket.write per frame part (writev through libuv), TLS possible.
//   io_uring - the Node socket's fd is handed to a native UringSender (it dups
//              it); frames are copied into its registered buffers and sent
//              with one io_uring submit per burst of frames, completions
//              reaped in batches. Plain TCP only.
// `auto` picks node: see chooseTransport for the measurement behind that.

import net from 'node:net';
import type tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../core/errors.ts';
import type { Logger } from '../../observe/log.ts';
import type { ForwardSinkConfig, TransportChoice } from './config.ts';

/** Writes frames to one connection in call order. Errors are reported through onError, once. */
export interface FrameWriter {
  readonly kind: 'node' | 'io_uring';
  write(parts: Buffer[]): void;
  /** Stop writing and release native resources (the socket is closed by the caller). */
  close(): Promise<void>;
}

export class NodeWriter implements FrameWriter {
  readonly kind = 'node' as const;
  private readonly socket: net.Socket;
  constructor(socket: net.Socket) { this.socket = socket; }
  write(parts: Buffer[]): void {
    if (this.socket.destroyed) return;
    if (parts.length === 1) { this.socket.write(parts[0]!); return; }
    this.socket.cork();
    for (const p of parts) this.socket.write(p);
    this.socket.uncork();
  }
  async close(): Promise<void> {}
}

interface UringLike {
  readonly bufferCount: number;
  readonly bufferSize: number;
  adoptFd(fd: number): void;
  buffer(i: number): Buffer;
  queue(bufIndex: number, len: number, offset?: number, userData?: number): void;
  flush(): Promise<number>;
  close(): Promise<void>;
}

/**
 * io_uring writer: frames queue up in JS while a submission is in flight and
 * go out together in the next one (copied into registered buffers, one
 * submit, completions awaited). One writer per connection.
 */
export class UringWriter implements FrameWriter {
  readonly kind = 'io_uring' as const;
  private readonly sender: UringLike;
  private pending: Buffer[] = [];
  private pumping: Promise<void> | null = null;
  private dead = false;
  private readonly onError: (err: Error) => void;

  constructor(sender: UringLike, fd: number, onError: (err: Error) => void) {
    this.sender = sender;
    this.onError = onError;
    sender.adoptFd(fd);
  }

  write(parts: Buffer[]): void {
    if (this.dead) return;
    for (const p of parts) if (p.length > 0) this.pending.push(p);
    this.pumping ??= this.pump().finally(() => { this.pumping = null; });
  }

  private async pump(): Promise<void> {
    const s = this.sender;
    while (this.pending.length > 0 && !this.dead) {
      // fill buffer 0.., each up to bufferSize, splitting parts across buffers
      let buf = 0, off = 0, queued = 0;
      while (this.pending.length > 0 && buf < s.bufferCount) {
        const p = this.pending[0]!;
        const room = s.bufferSize - off;
        const n = Math.min(room, p.length);
        p.copy(s.buffer(buf), off, 0, n);
        off += n;
        if (n === p.length) this.pending.shift(); else this.pending[0] = p.subarray(n);
        if (off === s.bufferSize) { s.queue(buf, off, 0, queued++); buf++; off = 0; }
      }
      if (off > 0) s.queue(buf, off, 0, queued++);
      try {
        await s.flush();
      } catch (err) {
        this.dead = true;
        this.pending = [];
        this.onError(err as Error);
      }
    }
  }

  async close(): Promise<void> {
    this.dead = true;
    this.pending = [];
    await this.pumping?.catch(() => undefined);
    await this.sender.close().catch(() => undefined);
  }
}

export interface TransportDecision { kind: 'node' | 'io_uring'; reason: string }

/**
 * Decide the send path. `auto` = node, by measurement of this sink
 * (bench/forward/forward-bench.ts -> bench/results/forward.md, forward-veth.md):
 * io_uring cost 20-45 % more sender CPU per GB in every run (frames must be
 * copied into registered buffers; FFI submit/reap on top of the same kernel
 * work) and was no faster at 64 KB batches, the size range edge batches live
 * in (the pipeline closes a batch after 5 ms); it moved 10-30 % more MB/s
 * only at 1 MB batches. Node also does TLS, which io_uring cannot here.
 * `io_uring` asks for it explicitly and falls back to node (with a log line
 * saying why) when the host cannot do it.
 */
export async function chooseTransport(choice: TransportChoice, cfg: ForwardSinkConfig, log: Logger): Promise<TransportDecision> {
  if (choice === 'node') return { kind: 'node', reason: 'configured' };
  if (cfg.tls) return { kind: 'node', reason: 'tls is set (io_uring sends plain TCP only)' };
  if (choice === 'auto') return { kind: 'node', reason: 'auto: io_uring measured no faster and costlier per GB for this sink (bench/results/forward.md)' };
  try {
    const { capabilities } = await import('../../native/capabilities.ts');
    const c = capabilities();
    if (!c.io_uring.available) {
      log.warn('forward: io_uring unavailable, using node net', { reason: c.io_uring.reason, fix: c.io_uring.fix });
      return { kind: 'node', reason: `io_uring unavailable: ${c.io_uring.reason}` };
    }
    return { kind: 'io_uring', reason: 'configured' };
  } catch (err) {
    log.warn('forward: native library not loadable, using node net', { error: (err as Error).message });
    return { kind: 'node', reason: `native library not loadable: ${(err as Error).message}` };
  }
}

/** Opens the native sender for one connection. */
export async function openUring(bufSize: number): Promise<UringLike> {
  const { UringSender } = await import('../../native/uring-sender.ts');
  // 8 buffers of 1 MiB: one submit carries up to 8 MiB, a full default-size frame.
  return UringSender.open({ bufCount: 8, bufSize, sqEntries: 16 });
}

export function socketFd(socket: net.Socket): number {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('socket has no file descriptor');
  return fd;
}

export function loadClientTls(t: NonNullable<ForwardSinkConfig['tls']>, path: string): tls.ConnectionOptions {
  const read = (file: string | undefined, key: string) => {
    if (!file) return undefined;
    try { return readFileSync(file); } catch { throw new ConfigError(`${path}.tls.${key}`, 'a readable PEM file', file); }
  };
  return {
    ca: read(t.ca_file, 'ca_file'), cert: read(t.cert_file, 'cert_file'), key: read(t.key_file, 'key_file'),
    // Node's default floor (TLSv1.2) kept explicit.
    minVersion: 'TLSv1.2',
    rejectUnauthorized: !t.insecure_skip_verify,
  };
}
