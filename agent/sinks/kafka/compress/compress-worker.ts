// The compression worker thread (index.ts starts it): a records section in,
// its LZ4 frame (or raw snappy) and CRC32C out. Both Buffers move between the
// threads without a copy (transferred ArrayBuffers).

import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';
import { crc32c } from '../engines/builtin/crc32c.ts';

export interface ToCompressWorker { id: number; codec: 'lz4' | 'snappy'; input: Uint8Array; crcSeed: number }
export type FromCompressWorker =
  | { id: number; ok: true; body: Uint8Array; crc: number }
  | { id: number; ok: false; error: string };

interface WasmCodecs { lz4Compress(b: Uint8Array): Buffer; snappyCompress(b: Uint8Array): Buffer }

if (parentPort) {
  const port = parentPort;
  const codecs = createRequire(import.meta.url)('@platformatic/wasm-utils') as WasmCodecs;
  port.on('message', (m: ToCompressWorker) => {
    let reply: FromCompressWorker;
    let transfer: ArrayBuffer[] = [];
    try {
      const body = m.codec === 'lz4' ? codecs.lz4Compress(m.input) : codecs.snappyCompress(m.input);
      const crc = crc32c(body, 0, body.length, m.crcSeed);
      const ab = body.buffer;
      // A result from Buffer's shared pool (small) is copied by postMessage, never transferred.
      if (ab instanceof ArrayBuffer && body.byteOffset === 0 && body.byteLength === ab.byteLength) transfer = [ab];
      reply = { id: m.id, ok: true, body, crc };
    } catch (err) {
      reply = { id: m.id, ok: false, error: (err as Error).message };
    }
    port.postMessage(reply, transfer);
  });
}
