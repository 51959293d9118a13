// io_uring sender against a loopback TCP server in this process: byte-exact
// delivery in batches with plain and zero-copy sends, registered buffers
// written in place, and peer errors mapped to EdgelogError subclasses.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createHash } from 'node:crypto';
import { Registry } from '../../agent/observe/prometheus.ts';
import { EdgelogError } from '../../agent/core/errors.ts';
import { capabilities } from '../../agent/native/capabilities.ts';
import { UringSender, UringSendError, C_SENT, C_BUF_FREE } from '../../agent/native/uring-sender.ts';


const caps = capabilities();
const skip = caps.io_uring.available ? undefined : `io_uring unavailable: ${caps.io_uring.reason}`;
const skipZc = skip ?? (caps.send_zc.available ? undefined : `zero-copy send unavailable: ${caps.send_zc.reason}`);

interface Sink { port: number; digest(): Promise<{ bytes: number; sha: string }>; closeClients(): void; close(): Promise<void> }

async function sink(): Promise<Sink> {
  const hash = createHash('sha256');
  let bytes = 0;
  let ended!: () => void;
  const done = new Promise<void>((r) => { ended = r; });
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on('data', (d) => { hash.update(d); bytes += d.length; });
    s.on('end', () => ended());
    s.on('error', () => {});
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    async digest() { await done; return { bytes, sha: hash.digest('hex') }; },
    closeClients() { for (const s of sockets) s.destroy(); },
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); srv.close(() => r()); }),
  };
}

/** Write `batches` batches of frames into registered buffers, send them, return what was sent. */
async function sendBatches(s: UringSender, batches: number, frameSizes: number[]): Promise<{ bytes: number; sha: string }> {
  const hash = createHash('sha256');
  let bytes = 0, seq = 0;
  for (let b = 0; b < batches; b++) {
    for (let i = 0; i < frameSizes.length; i++) {
      const buf = s.buffer(i % s.bufferCount);
      const len = frameSizes[i];
      // frame: 4-byte length + seq-dependent bytes, written in place
      buf.writeUInt32BE(len - 4, 0);
      for (let j = 4; j < len; j++) buf[j] = (seq * 7 + j) & 0xff;
      hash.update(buf.subarray(0, len));
      bytes += len;
      s.queue(i % s.bufferCount, len, 0, seq++);
      if ((i + 1) % s.bufferCount === 0 || i === frameSizes.length - 1) await s.flush(); // buffers reused after release
    }
  }
  return { bytes, sha: hash.digest('hex') };
}

for (const [label, zcThreshold, why] of [['plain send', 0, skip], ['zero-copy send', 16 * 1024, skipZc]] as const) {
  test(`io_uring ${label}: byte-exact to a loopback TCP server`, { skip: why, timeout: 30_000 }, async (t) => {
    const srv = await sink();
    const s = UringSender.open({ bufCount: 4, bufSize: 256 * 1024, sqEntries: 16, zcThreshold });
    t.after(async () => { await s.close(); await srv.close(); });
    await s.connect('127.0.0.1', srv.port);
    const sent = await sendBatches(s, 5, [100, 70_000, 256 * 1024, 17, 20_000, 200_000]);
    const st = s.stats();
    s.disconnect();
    const got = await srv.digest();
    assert.deepEqual(got, sent);
    assert.equal(st.bytes, sent.bytes);
    assert.equal(st.errors, 0);
    if (zcThreshold) assert.ok(st.zcSends >= 15, `zero-copy used for large frames (${st.zcSends})`);
    else assert.equal(st.zcSends, 0);
    assert.ok(st.enterCalls < st.submitted, 'one io_uring_enter per batch, not per send');
  });
}

test('io_uring: registered buffers are native memory shared with the sender', { skip }, async (t) => {
  const s = UringSender.open({ bufCount: 2, bufSize: 4096 });
  t.after(() => s.close());
  assert.equal(s.buffer(0), s.buffer(0), 'one cached view per buffer');
  assert.equal(s.buffer(1).length, 4096);
  assert.throws(() => s.buffer(2), RangeError);
  assert.throws(() => { s.queue(0, 10); s.submit(); }, (e: unknown) => e instanceof UringSendError && e.errno === 107 && e.retriable);
});

test('io_uring: peer closing the connection surfaces as a retriable UringSendError', { skip, timeout: 30_000 }, async (t) => {
  const srv = await sink();
  const s = UringSender.open({ bufCount: 2, bufSize: 64 * 1024, sqEntries: 8 });
  t.after(async () => { await s.close(); await srv.close(); });
  await s.connect('127.0.0.1', srv.port);
  await new Promise((r) => setTimeout(r, 20));
  srv.closeClients();
  let err: unknown;
  for (let i = 0; i < 200 && !err; i++) {
    s.queue(0, 64 * 1024, 0, i);
    s.queue(1, 64 * 1024, 0, i + 1000);
    try { await s.flush(); } catch (e) { err = e; }
  }
  assert.ok(err instanceof UringSendError, `got ${err}`);
  assert.ok(err instanceof EdgelogError);
  assert.equal(err.code, 'EDGELOG_URING_SEND');
  assert.ok(err.peerClosed && err.retriable, err.message);
  assert.equal(s.inflight, 0);
});

test('io_uring: in-flight count kept in JS matches the native one', { skip }, async (t) => {
  const srv = await sink();
  const s = UringSender.open({ bufCount: 4, bufSize: 64 * 1024, sqEntries: 8 });
  t.after(async () => { await s.close(); await srv.close(); });
  await s.connect('127.0.0.1', srv.port);
  const native = () => s.nativeInflight();
  for (let i = 0; i < 4; i++) s.queue(i, 64 * 1024, 0, i);
  s.submit();
  assert.equal(s.inflight, 4);
  while (s.inflight) { await s.completions(); assert.equal(s.inflight, native()); }
  assert.equal(native(), 0);
});

test('io_uring: connect failures and completions()', { skip, timeout: 30_000 }, async (t) => {
  const s = UringSender.open({ bufCount: 1, bufSize: 4096, sqEntries: 4 });
  t.after(() => s.close());
  // a port nobody listens on (bound then closed)
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  await assert.rejects(s.connect('127.0.0.1', port), (e: unknown) => e instanceof UringSendError && e.errno === 111 && e.retriable);

  const srv = await sink();
  t.after(() => srv.close());
  await s.connect('localhost', srv.port).catch(() => s.connect('127.0.0.1', srv.port));
  s.buffer(0).write('abc');
  s.queue(0, 3, 0, 42);
  s.submit();
  const seen: number[] = [];
  while (s.inflight) for (const c of await s.completions()) { seen.push(c.flags); assert.equal(c.userData, 42); assert.equal(s.check(c), 3); }
  assert.deepEqual(seen, [C_SENT | C_BUF_FREE]);
  s.disconnect();
  assert.equal((await srv.digest()).bytes, 3);
});

test('io_uring: metrics on a registry', { skip }, async (t) => {
  const reg = new Registry();
  const s = UringSender.open({ bufCount: 1, bufSize: 4096 });
  t.after(() => s.close());
  s.registerMetrics(reg, { sink: 'fwd' });
  s.registerMetrics(reg, { sink: 'fwd' }); // no double registration
  const text = await reg.metrics();
  assert.match(text, /edgelog_uring_submissions_total\{sink="fwd"\} 0/);
});
