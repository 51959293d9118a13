// UringSender: the io_uring send path for a stream socket. JavaScript writes
// frames straight into registered buffers (Node Buffers backed by the native
// memory, no copy across FFI), queues (buffer, offset, length) descriptors
// in a native array, and makes ONE FFI call per batch to submit and one per
// batch to reap. A forward sink uses it as:
//
//   const s = UringSender.open({ bufCount: 8, bufSize: 1 << 20 });
//   await s.connect(host, port);
//   const b = s.buffer(0); n = encodeFramesInto(b); s.queue(0, n, 0, seq);
//   s.submit();
//   for (const c of await s.completions()) ...   // SENT: res bytes or error; BUF_FREE: buffer reusable
//
// A send error ends the connection for the caller: reconnect, then resend
// from the first unacknowledged frame (at-least-once lives in the sink).

import { read, writeSync } from 'node:fs';
import { isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import { constants as osConstants } from 'node:os';
import type { Registry } from '../observe/prometheus.ts';
import { EdgelogError } from '../core/errors.ts';
import { counter } from '../observe/metrics.ts';
import { loadNative, Errno, type External, type NativeLib, type Scratch } from './lib.ts';
import { requireFeature, capabilities } from './capabilities.ts';

// struct layouts from native/include/edgelog_native.h
const OPTS_SIZE = 24;   // struct edgelog_uring_opts
const SEND_SIZE = 24;   // struct edgelog_uring_send
const COMP_SIZE = 16;   // struct edgelog_uring_completion
const STATS_SIZE = 64;  // struct edgelog_uring_stats

export const C_SENT = 1;
export const C_BUF_FREE = 2;
export const C_ZC = 4;
export const C_ZC_COPIED = 8;

export interface UringSenderOptions {
  /** Ring size (sends in flight per batch). Default 64, like liburing's examples' QD. */
  sqEntries?: number;
  /** Registered buffers. Default 8. */
  bufCount?: number;
  /** Bytes per registered buffer. Default 1 MiB (the forward sink's max batch). */
  bufSize?: number;
  /**
   * Sends at least this large use IORING_OP_SEND_ZC; 0 = never. Default 0:
   * on loopback and veth the kernel copies anyway and zero-copy measured
   * slower (bench/results/native-uring.md); set it for real NICs.
   */
  zcThreshold?: number;
}

export interface Completion {
  userData: number;
  /** For SENT: bytes sent or -errno. */
  res: number;
  flags: number;
}

export interface UringStats {
  submitted: number;
  completed: number;
  bytes: number;
  zcSends: number;
  zcCopied: number;
  errors: number;
  enterCalls: number;
}

const errnoName = new Map<number, string>(Object.entries(osConstants.errno).map(([k, v]) => [v as number, k]));
const peerGone = new Set<number>([Errno.EPIPE, Errno.ECONNRESET, Errno.ENOTCONN, Errno.ECANCELED]);
const transient = new Set<number>([Errno.EPIPE, Errno.ECONNRESET, Errno.ENOTCONN, Errno.ECANCELED, Errno.ETIMEDOUT,
  Errno.ECONNREFUSED, Errno.EHOSTUNREACH, Errno.EAGAIN, Errno.EINTR, Errno.EBUSY]);

/** A send or connect on the io_uring path failed. Retriable when a reconnect may help. */
export class UringSendError extends EdgelogError {
  readonly errno: number;
  /** The peer closed or reset the connection (or the socket is gone). */
  readonly peerClosed: boolean;
  constructor(op: string, errno: number, detail = '') {
    const name = errnoName.get(errno) ?? `errno ${errno}`;
    super('EDGELOG_URING_SEND', `io_uring ${op} failed: ${name}${detail ? ` (${detail})` : ''}`, { retriable: transient.has(errno) });
    this.errno = errno;
    this.peerClosed = peerGone.has(errno);
  }
}

/** A send reported fewer bytes than queued (MSG_WAITALL makes this an error on a stream). */
export class UringShortSendError extends EdgelogError {
  constructor(sent: number, wanted: number) {
    super('EDGELOG_URING_SHORT_SEND', `io_uring send wrote ${sent} of ${wanted} bytes`, { retriable: true });
  }
}

export class UringSender {
  #lib: NativeLib;
  #h: External | undefined;
  #sendArea: Buffer;
  #sendPtr: External;
  #compArea: Buffer;
  #compPtr: External;
  #stats: Scratch;
  #views: (Buffer | undefined)[];
  #queued = 0;
  // sends submitted whose buffer is not released yet (mirrors uring_sender_inflight without an FFI call)
  #inflight = 0;
  #lens = new Map<number, number>(); // userData -> queued length, to detect short sends
  #efd: number;
  #waiting: Promise<void> | undefined;
  readonly bufferCount: number;
  readonly bufferSize: number;
  readonly sqEntries: number;

  private constructor(lib: NativeLib, h: External, sqEntries: number) {
    this.#lib = lib;
    this.#h = h;
    const f = lib.fn;
    this.bufferCount = f.uring_sender_buffer_count([h]) as number;
    this.bufferSize = f.uring_sender_buffer_size([h]) as number;
    this.sqEntries = sqEntries;
    this.#sendPtr = f.uring_sender_send_area([h]) as External;
    this.#compPtr = f.uring_sender_completion_area([h]) as External;
    this.#sendArea = lib.ffi.createExternalBuffer(this.#sendPtr, SEND_SIZE * sqEntries);
    this.#compArea = lib.ffi.createExternalBuffer(this.#compPtr, COMP_SIZE * sqEntries * 2);
    this.#stats = lib.scratch(STATS_SIZE);
    this.#views = new Array(this.bufferCount);
    this.#efd = f.uring_sender_eventfd([h]) as number;
  }

  /** Create the ring and register buffers. Throws NativeUnavailableError when io_uring cannot be used here. */
  static open(opts: UringSenderOptions = {}): UringSender {
    requireFeature('io_uring');
    const lib = loadNative();
    const sq = opts.sqEntries ?? 64;
    const o = Buffer.alloc(OPTS_SIZE);
    o.writeUInt32LE(OPTS_SIZE, 0);
    o.writeUInt32LE(sq, 4);
    o.writeUInt32LE(opts.bufCount ?? 8, 8);
    o.writeUInt32LE(opts.bufSize ?? 1 << 20, 12);
    o.writeUInt32LE(opts.zcThreshold ?? 0, 16);
    const slot = lib.scratch(8);
    try {
      const rc = lib.fn.uring_sender_open([o, slot.ptr]) as number;
      if (rc < 0) throw new UringSendError('setup', -rc, lib.fn.edgelog_last_error([]) as string);
      return new UringSender(lib, lib.readPointer(slot.ptr), sq);
    } finally {
      lib.freeScratch(slot);
    }
  }

  /** Whether zero-copy sends are possible on this host at all. */
  static zeroCopySupported(): boolean {
    return capabilities().send_zc.available;
  }

  #handle(): External {
    if (!this.#h) throw new UringSendError('use', Errno.EINVAL, 'sender is closed');
    return this.#h;
  }

  /**
   * Connect to host:port (names resolved here, re-resolved on every call).
   * The blocking connect runs on an ffi-rs worker thread, not the event loop.
   */
  async connect(host: string, port: number): Promise<void> {
    const h = this.#handle();
    const addr = isIP(host) ? host : (await lookup(host)).address;
    const rc = await this.#lib.ffi.load({
      library: 'edgelog_native', funcName: 'uring_sender_connect', retType: this.#lib.ffi.DataType.I32,
      paramsType: [this.#lib.ffi.DataType.External, this.#lib.ffi.DataType.String, this.#lib.ffi.DataType.I32],
      paramsValue: [h, addr, port], runInNewThread: true,
    }) as number;
    // the error string is thread-local to the worker; errno says enough
    if (rc < 0) throw new UringSendError('connect', -rc, `${addr}:${port}`);
  }

  /** Send on an already connected stream socket (the sender dups it; close yours when you like). */
  adoptFd(fd: number): void {
    const rc = this.#lib.fn.uring_sender_adopt_fd([this.#handle(), fd]) as number;
    if (rc < 0) throw new UringSendError('adopt', -rc, this.#lib.fn.edgelog_last_error([]) as string);
  }

  disconnect(): void {
    this.#lib.fn.uring_sender_disconnect([this.#handle()]);
  }

  /** Registered buffer `i` as a Node Buffer over the native memory (writes go straight to what is sent). */
  buffer(i: number): Buffer {
    if (!Number.isInteger(i) || i < 0 || i >= this.bufferCount) throw new RangeError(`buffer index ${i} out of 0..${this.bufferCount - 1}`);
    let v = this.#views[i];
    if (!v) {
      const ptr = this.#lib.fn.uring_sender_buffer([this.#handle(), i]) as External;
      v = this.#lib.ffi.createExternalBuffer(ptr, this.bufferSize);
      this.#views[i] = v;
    }
    return v;
  }

  /** Queue one send (no FFI call). Sends of one submit go out in queue order. */
  queue(bufIndex: number, len: number, offset = 0, userData = 0): void {
    if (this.#queued >= this.sqEntries) throw new UringSendError('queue', Errno.EBUSY, `batch holds at most ${this.sqEntries} sends`);
    const at = this.#queued * SEND_SIZE;
    const a = this.#sendArea;
    a.writeUInt32LE(bufIndex, at);
    a.writeUInt32LE(offset, at + 4);
    a.writeUInt32LE(len, at + 8);
    a.writeUInt32LE(0, at + 12);
    a.writeBigUInt64LE(BigInt(userData), at + 16);
    this.#lens.set(userData, len);
    this.#queued++;
  }

  get queued(): number {
    return this.#queued;
  }

  /** Submit everything queued with one FFI call (one io_uring_enter). Returns the number submitted. */
  submit(): number {
    const n = this.#queued;
    if (n === 0) return 0;
    const rc = this.#lib.fn.uring_sender_submit([this.#handle(), this.#sendPtr, n]) as number;
    if (rc < 0) {
      if (-rc !== Errno.EBUSY) { this.#queued = 0; this.#lens.clear(); }
      throw new UringSendError('submit', -rc, this.#lib.fn.edgelog_last_error([]) as string);
    }
    this.#queued = 0;
    this.#inflight += rc;
    return rc;
  }

  /** Reap available completions (one FFI call). waitMin > 0 blocks this thread up to timeoutMs; prefer completions(). */
  reap(waitMin = 0, timeoutMs = 0): Completion[] {
    const max = this.sqEntries * 2;
    const rc = this.#lib.fn.uring_sender_reap([this.#handle(), this.#compPtr, max, waitMin, timeoutMs]) as number;
    if (rc < 0) throw new UringSendError('reap', -rc, this.#lib.fn.edgelog_last_error([]) as string);
    const out: Completion[] = new Array(rc);
    const a = this.#compArea;
    for (let i = 0; i < rc; i++) {
      const at = i * COMP_SIZE;
      const flags = a.readUInt32LE(at + 12);
      out[i] = { userData: Number(a.readBigUInt64LE(at)), res: a.readInt32LE(at + 8), flags };
      if (flags & C_BUF_FREE) this.#inflight--;
    }
    return out;
  }

  /** Wait (without blocking the event loop) until completions are posted, then reap them. */
  async completions(): Promise<Completion[]> {
    const now = this.reap();
    if (now.length || this.inflight === 0) return now;
    await this.#waitEventfd();
    return this.reap();
  }

  /**
   * Check one completion: throws UringSendError for a failed send and
   * UringShortSendError for a short one; returns the bytes sent (0 for a
   * buffer-release notification).
   */
  check(c: Completion): number {
    if (!(c.flags & C_SENT)) return 0;
    const want = this.#lens.get(c.userData);
    this.#lens.delete(c.userData);
    if (c.res < 0) throw new UringSendError('send', -c.res);
    if (want !== undefined && c.res !== want) throw new UringShortSendError(c.res, want);
    return c.res;
  }

  /** Submit what is queued and wait until every send completed and released its buffer; throws the first error. */
  async flush(): Promise<number> {
    this.submit();
    let bytes = 0;
    let first: unknown;
    while (this.inflight > 0) {
      for (const c of await this.completions()) {
        try { bytes += this.check(c); } catch (err) { first ??= err; }
      }
    }
    if (first) throw first;
    return bytes;
  }

  get inflight(): number {
    return this.#h ? this.#inflight : 0;
  }

  /** The library's own in-flight count (one FFI call; diagnostics and tests). */
  nativeInflight(): number {
    return this.#lib.fn.uring_sender_inflight([this.#handle()]) as number;
  }

  stats(): UringStats {
    this.#lib.fn.uring_sender_stats([this.#handle(), this.#stats.ptr]);
    const b = this.#stats.buf;
    const u = (i: number) => Number(b.readBigUInt64LE(i * 8));
    return { submitted: u(0), completed: u(1), bytes: u(2), zcSends: u(3), zcCopied: u(4), errors: u(5), enterCalls: u(6) };
  }

  #waitEventfd(): Promise<void> {
    // a blocking read on the eventfd in libuv's pool: wakes when a CQE is posted
    this.#waiting ??= new Promise<void>((resolve) => {
      read(this.#efd, Buffer.alloc(8), 0, 8, null, () => { this.#waiting = undefined; resolve(); });
    });
    return this.#waiting;
  }

  /** Export io_uring counters on `registry` (collected at scrape time). */
  registerMetrics(registry: Registry, labels: { sink?: string } = {}): void {
    let set = senders.get(registry);
    if (!set) {
      set = new Set();
      senders.set(registry, set);
      defineUringMetrics(registry, set);
    }
    for (const e of set) if (e.sender === this) set.delete(e);
    set.add({ sender: this, sink: labels.sink ?? '' });
  }

  /** Close socket, ring and buffers. The Buffers from buffer() must not be used afterwards. */
  async close(): Promise<void> {
    const h = this.#h;
    if (!h) return;
    if (this.#waiting) {
      // wake the pool thread blocked on the eventfd before it is closed
      const one = Buffer.alloc(8);
      one.writeBigUInt64LE(1n);
      writeSync(this.#efd, one);
      await this.#waiting;
    }
    this.#h = undefined;
    this.#views.fill(undefined);
    this.#lib.fn.uring_sender_close([h]);
    this.#lib.freeScratch(this.#stats);
    for (const set of allSenderSets) for (const e of set) if (e.sender === this) set.delete(e);
  }

  get closed(): boolean {
    return !this.#h;
  }
}

interface SenderEntry { sender: UringSender; sink: string }
const senders = new WeakMap<Registry, Set<SenderEntry>>();
const allSenderSets = new Set<Set<SenderEntry>>();

function defineUringMetrics(registry: Registry, set: Set<SenderEntry>): void {
  allSenderSets.add(set);
  const mk = (name: string, help: string, pick: (s: UringStats) => number) => {
    counter<'sink'>(registry, name, help, ['sink'], function collect() {
      this.reset();
      for (const e of set) if (!e.sender.closed) this.inc({ sink: e.sink }, pick(e.sender.stats()));
    });
  };
  mk('edgelog_uring_submissions_total', 'Sends submitted through io_uring.', (s) => s.submitted);
  mk('edgelog_uring_completions_total', 'Send completions reaped from io_uring.', (s) => s.completed);
  mk('edgelog_uring_sent_bytes_total', 'Bytes io_uring reported sent.', (s) => s.bytes);
  mk('edgelog_uring_zerocopy_sends_total', 'Sends submitted as zero-copy (IORING_OP_SEND_ZC).', (s) => s.zcSends);
  mk('edgelog_uring_zerocopy_copied_total', 'Zero-copy sends the kernel copied anyway (loopback, veth).', (s) => s.zcCopied);
  mk('edgelog_uring_errors_total', 'io_uring sends that failed.', (s) => s.errors);
  mk('edgelog_uring_enter_calls_total', 'io_uring_enter calls made to submit batches.', (s) => s.enterCalls);
}
