// Record-batch compression for the builtin Kafka engine (engines/builtin/):
// the bytes of a batch's records section in, the compressed bytes Kafka's
// record batch v2 carries out (gzip: a gzip member; snappy: raw snappy;
// lz4: one LZ4 frame; zstd: one zstd frame), with the batch's CRC32C over
// them.
//
// Where each codec runs, and why:
// - lz4 (the default) and snappy: @platformatic/wasm-utils (WebAssembly). A
//   records section of at least `workerMinBytes` is compressed and
//   checksummed on one compression worker thread (compress-worker.ts): at
//   saturation this was 21-23 % of the main thread's samples, with the second
//   core half idle (bench/results/builtin-default, profile), and the main
//   thread is what caps throughput. Smaller sections (a quiet stream's one
//   line) are compressed inline, so an idle agent never starts the thread.
//   The worker stops after `workerIdleMs` without work.
//   Why not lz4-napi on the libuv pool (tried): lz4_flex compresses slower
//   than this WebAssembly build (516 vs 756 MB/s on 1 MB of 200-byte JSON
//   lines), copies its input on the calling thread, and its mimalloc heaps
//   kept +130 MB of RSS at saturation.
// - gzip and zstd: Node's zlib on the libuv thread pool; the CRC on the
//   calling thread.
// Every library loads on first use.

import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import * as zlib from 'node:zlib';
import type { Compression } from '../codecs.ts';
import { crc32c } from '../engines/builtin/crc32c.ts';
import type { FromCompressWorker, ToCompressWorker } from './compress-worker.ts';

const require = createRequire(import.meta.url);

export interface CompressedSection {
  /** The compressed records section (`input` itself for codec `none`). */
  body: Buffer;
  /** CRC32C of `body`, continuing from the caller's seed (the header's CRC'd part). */
  crc: number;
}

export interface BatchCompressor {
  /**
   * `input` compressed for codec `c`, and its CRC32C continued from `crcSeed`.
   * `input` is handed over: the compressor may move its memory to another
   * thread (detaching it), so the caller must not touch it afterwards.
   */
  compress(c: Compression, input: Buffer, crcSeed: number): Promise<CompressedSection>;
  /** Stops the worker thread, if one runs; compress() after close() rejects. */
  close(): Promise<void>;
}

export interface BatchCompressorOptions {
  /** Sections from this size go to the worker thread (default 64 KiB). */
  readonly workerMinBytes?: number;
  /** The worker stops after this long without work (default 30 s). */
  readonly workerIdleMs?: number;
  /** A request the worker has not answered after this long fails, and the worker is replaced (default 30 s). */
  readonly workerTimeoutMs?: number;
}

interface WasmCodecs { lz4Compress(b: Buffer): Buffer; snappyCompress(b: Buffer): Buffer }
let wasm: WasmCodecs | undefined;
/** The WebAssembly codecs (compress-worker.ts loads them the same way on its thread). */
export const wasmCodecs = (): WasmCodecs => (wasm ??= require('@platformatic/wasm-utils') as WasmCodecs);

const gzip = promisify(zlib.gzip);
const zstd = promisify((zlib as unknown as { zstdCompress: typeof zlib.gzip }).zstdCompress);
const workerUrl = new URL('./compress-worker.ts', import.meta.url);

interface Pending { resolve(s: CompressedSection): void; reject(e: Error): void; timer: NodeJS.Timeout }

/** One compression worker thread, started on demand, stopped when idle. */
class CompressWorker {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | null = null;
  private readonly idleMs: number;
  private readonly timeoutMs: number;

  constructor(idleMs: number, timeoutMs: number) {
    this.idleMs = idleMs;
    this.timeoutMs = timeoutMs;
  }

  get running(): boolean { return this.worker !== null; }

  run(codec: 'lz4' | 'snappy', input: Buffer, crcSeed: number): Promise<CompressedSection> {
    const w = this.worker ?? this.start();
    if (this.idleTimer) { clearTimeout(this.idleTimer); this.idleTimer = null; }
    const id = this.nextId++;
    // Hand the memory over when the Buffer owns all of its ArrayBuffer (Buffer.allocUnsafe
    // above 4 KiB does); a view into shared or pooled memory is copied instead.
    const ab = input.buffer;
    const whole = ab instanceof ArrayBuffer && input.byteOffset === 0 && input.byteLength === ab.byteLength;
    const msg: ToCompressWorker = { id, codec, input: whole ? input : new Uint8Array(input), crcSeed };
    return new Promise<CompressedSection>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`compression worker did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      timer.unref();
      this.pending.set(id, { resolve, reject, timer });
      w.postMessage(msg, whole ? [ab as ArrayBuffer] : [msg.input.buffer as ArrayBuffer]);
    });
  }

  private start(): Worker {
    const w = new Worker(workerUrl);
    // Not kept alive by the worker: the engine's sockets and timers decide when the process ends.
    w.unref();
    w.on('message', (m: FromCompressWorker) => this.onMessage(m));
    w.on('error', (err) => this.fail(new Error(`compression worker failed: ${err.message}`)));
    w.on('exit', (code) => { if (this.worker === w) this.fail(new Error(`compression worker exited with code ${code}`)); });
    this.worker = w;
    return w;
  }

  private onMessage(m: FromCompressWorker): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.ok) p.resolve({ body: Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength), crc: m.crc });
    else p.reject(new Error(`compression failed: ${m.error}`));
    if (this.pending.size === 0 && this.worker) {
      this.idleTimer = setTimeout(() => { this.idleTimer = null; if (this.pending.size === 0) void this.stop(); }, this.idleMs);
      this.idleTimer.unref();
    }
  }

  /** Rejects everything pending and drops the worker; the next run() starts a fresh one. */
  private fail(err: Error): void {
    const w = this.worker;
    this.worker = null;
    for (const p of this.pending.values()) { clearTimeout(p.timer); p.reject(err); }
    this.pending.clear();
    if (w) void w.terminate().catch(() => undefined);
  }

  async stop(): Promise<void> {
    if (this.idleTimer) { clearTimeout(this.idleTimer); this.idleTimer = null; }
    const w = this.worker;
    this.worker = null;
    for (const p of this.pending.values()) { clearTimeout(p.timer); p.reject(new Error('batch compressor closed')); }
    this.pending.clear();
    if (w) await w.terminate().catch(() => undefined);
  }
}

export function createBatchCompressor(o: BatchCompressorOptions = {}): BatchCompressor & { readonly workerRunning: boolean } {
  const minBytes = o.workerMinBytes ?? 64 * 1024;
  const worker = new CompressWorker(o.workerIdleMs ?? 30_000, o.workerTimeoutMs ?? 30_000);
  let closed = false;
  const local = (body: Buffer, seed: number): CompressedSection => ({ body, crc: crc32c(body, 0, body.length, seed) });
  return {
    get workerRunning() { return worker.running; },
    async compress(c, input, seed) {
      if (closed) throw new Error('batch compressor closed');
      switch (c) {
        case 'none': return local(input, seed);
        case 'gzip': return local(await gzip(input), seed);
        case 'zstd': return local(await zstd(input), seed);
        case 'lz4':
        case 'snappy':
          if (input.length >= minBytes) return worker.run(c, input, seed);
          return local(c === 'lz4' ? wasmCodecs().lz4Compress(input) : wasmCodecs().snappyCompress(input), seed);
      }
    },
    async close() { closed = true; await worker.stop(); },
  };
}
