import { test } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tcpSource, type NetSource } from '../../../agent/sources/tcp/tcp-source.ts';
import { Collector, makeCtx, waitFor, connect, closed, selfSignedCert, type TestCtx } from './helpers.ts';

async function startTcp(t: { after: (fn: () => Promise<void> | void) => void }, tc: TestCtx, raw: Record<string, unknown>, out = new Collector()): Promise<{ src: NetSource; out: Collector; port: number }> {
  const cfg = tcpSource.validate({ address: '127.0.0.1:0', ...raw }, `sources.${tc.ctx.id}`);
  const src = tcpSource.create(cfg, tc.ctx);
  await src.start(out);
  t.after(async () => { out.open(); await src.stop(); await src.drain!(1000); });
  return { src, out, port: src.address!.port };
}

test('config: loopback default, errors name the key path', () => {
  assert.equal(tcpSource.defaults.address, '127.0.0.1:5170');
  assert.throws(() => tcpSource.validate({ address: 'nope' }, 'sources.in'), /sources\.in\.address: expected host:port/);
  assert.throws(() => tcpSource.validate({ max_conections: 3 }, 'sources.in'), /sources\.in\.max_conections/);
  assert.throws(() => tcpSource.validate({ tls: { cert_file: 'c' } }, 'sources.in'), /sources\.in\.tls\.key_file/);
  const c = tcpSource.validate({ idle_timeout: '2s', spool: { max_bytes: '1MiB' } }, 'sources.in');
  assert.equal(c.idle_timeout_ms, 2000);
  assert.equal(c.spool!.max_bytes, 1024 * 1024);
});

test('lines arrive byte-exact and in order per connection over plain TCP', async (t) => {
  const tc = await makeCtx(t);
  const { out, port, src } = await startTcp(t, tc, {});
  const lines = (c: number) => Array.from({ length: 500 }, (_, i) => Buffer.concat([Buffer.from(`c${c} #${i} ünï\r\t`), Buffer.from([0, 1, 255, 128 + (i % 100)])]));
  const clients = await Promise.all([0, 1, 2].map(() => connect(port)));
  const sent: Buffer[][] = [];
  for (const [c, s] of clients.entries()) {
    const ls = lines(c);
    sent.push(ls);
    const all = Buffer.concat(ls.flatMap((l) => [l, Buffer.from('\n')]));
    // odd chunking: lines split across writes
    for (let o = 0; o < all.length; o += 777) s.write(all.subarray(o, o + 777));
    s.end();
  }
  await waitFor(() => out.records.length === 1500, '1500 records');
  for (let c = 0; c < 3; c++) {
    const mine = out.records.filter((r) => r.body.subarray(0, 3).toString() === `c${c} `);
    assert.deepEqual(mine.map((r) => Buffer.from(r.body)), sent[c]);
    // offsets are byte positions of each line in its connection
    let off = 0;
    for (const [i, r] of mine.entries()) { assert.equal(r.offset, off); off += sent[c]![i]!.length + 1; }
    assert.equal(new Set(mine.map((r) => r.streamId)).size, 1);
    assert.match(mine[0]!.stream, /^127\.0\.0\.1:\d+$/);
    assert.equal(mine[0]!.source, 'net_in');
  }
  await Promise.all(clients.map(closed));
  assert.equal(src.stats.records, 1500);
});

test('TLS with a self-signed certificate: lines byte-exact', async (t) => {
  const tc = await makeCtx(t);
  let pem: { cert: string; key: string };
  try { pem = selfSignedCert(tc.dir); } catch (e) { t.skip(`openssl unavailable: ${(e as Error).message}`); return; }
  const { out, port, src } = await startTcp(t, tc, { tls: { cert_file: pem.cert, key_file: pem.key } });
  const s = tls.connect({ host: '127.0.0.1', port, ca: readFileSync(pem.cert), servername: 'localhost' });
  await new Promise<void>((r, j) => { s.once('secureConnect', () => r()); s.once('error', j); });
  const lines = Array.from({ length: 200 }, (_, i) => `tls line ${i} ` + 'é'.repeat(i % 7));
  s.end(lines.join('\n') + '\n');
  await waitFor(() => out.records.length === 200, '200 TLS records');
  assert.deepEqual(out.bodies().map((b) => Buffer.from(b, 'latin1').toString('utf8')), lines);
  // a plaintext client on the TLS port is counted and does not hurt anyone
  const bad = await connect(port);
  bad.end('not tls at all\n');
  await closed(bad);
  await waitFor(() => (src.stats.malformed.tls_handshake ?? 0) >= 1, 'tls handshake failure counted');
});

test('TLS: connections that never finish the handshake are closed by the frame timeout', async (t) => {
  const tc = await makeCtx(t);
  let pem: { cert: string; key: string };
  try { pem = selfSignedCert(tc.dir); } catch (e) { t.skip(`openssl unavailable: ${(e as Error).message}`); return; }
  const { out, port, src } = await startTcp(t, tc, { tls: { cert_file: pem.cert, key_file: pem.key }, frame_timeout: '2s' });
  const stalled = await Promise.all(Array.from({ length: 20 }, () => connect(port)));
  for (const s of stalled) { s.on('error', () => {}); s.write(Buffer.from([0x16, 0x03, 0x01])); } // a ClientHello that never completes
  const good = tls.connect({ host: '127.0.0.1', port, ca: readFileSync(pem.cert), servername: 'localhost' });
  good.on('error', () => {});
  good.end('still served\n');
  await Promise.all(stalled.map(closed));
  await waitFor(() => out.records.length === 1, 'good TLS client');
  assert.equal(out.bodies()[0], 'still served');
  assert.ok((src.stats.malformed.tls_handshake ?? 0) >= 20, `handshake failures counted: ${src.stats.malformed.tls_handshake}`);
});

test('oversized lines are skipped and counted, the connection keeps working', async (t) => {
  const tc = await makeCtx(t);
  const { out, port, src, } = await startTcp(t, tc, { max_line_bytes: 100 });
  const s = await connect(port);
  s.write('ok 1\n' + 'x'.repeat(150) + '\nok 2\n');
  s.write('y'.repeat(80));
  s.write('y'.repeat(80)); // grows past the cap while partial
  s.write('y'.repeat(5000));
  s.end('\nok 3\n');
  await waitFor(() => out.records.length === 3, '3 good lines');
  assert.deepEqual(out.bodies(), ['ok 1', 'ok 2', 'ok 3']);
  assert.equal(src.stats.malformed.oversized, 2);
  assert.match(await tc.reg.metrics(), /edgelog_source_malformed_total\{component="net_in",reason="oversized"\} 2/);
});

test('random bytes: no crash, counted, other connections unaffected', async (t) => {
  const tc = await makeCtx(t);
  const { out, port, src } = await startTcp(t, tc, { max_line_bytes: 64 });
  const noisy = await Promise.all([1, 2, 3, 4].map(() => connect(port)));
  for (const s of noisy) { s.on('error', () => {}); s.end(randomBytes(256 * 1024)); }
  const good = await connect(port);
  good.end(Array.from({ length: 100 }, (_, i) => `good ${i}`).join('\n') + '\n');
  await Promise.all([...noisy, good].map(closed));
  await waitFor(() => out.bodies().filter((b) => b.startsWith('good ')).length === 100, 'good lines');
  assert.deepEqual(out.bodies().filter((b) => /^good \d+$/.test(b)), Array.from({ length: 100 }, (_, i) => `good ${i}`));
  assert.ok((src.stats.malformed.oversized ?? 0) > 0, 'oversized runs in random data counted');
  t.diagnostic(`random: ${src.stats.records} records, ${src.stats.malformed.oversized} oversized`);
});

test('slowloris: idle and trickling connections are closed by timeouts while a good client gets through', async (t) => {
  const tc = await makeCtx(t);
  const { out, port, src } = await startTcp(t, tc, { idle_timeout: '2s', frame_timeout: '2s', max_connections: 500 });
  const idle = await Promise.all(Array.from({ length: 60 }, () => connect(port)));
  const trickle = await Promise.all(Array.from({ length: 60 }, () => connect(port)));
  for (const s of [...idle, ...trickle]) s.on('error', () => {});
  // trickle one byte every 100 ms: never idle, never a complete line
  const timer = setInterval(() => { for (const s of trickle) if (!s.destroyed) s.write('a'); }, 100);
  t.after(() => clearInterval(timer));
  // the good client sends a complete line every 100 ms
  const good = await connect(port);
  let sentGood = 0;
  const goodTimer = setInterval(() => { good.write(`hello ${sentGood++}\n`); }, 100);
  t.after(() => clearInterval(goodTimer));
  await Promise.all([...idle, ...trickle].map(closed));
  clearInterval(timer);
  clearInterval(goodTimer);
  good.end('bye\n');
  await waitFor(() => out.records.length === sentGood + 1, 'good client lines');
  assert.deepEqual(out.bodies(), [...Array.from({ length: sentGood }, (_, i) => `hello ${i}`), 'bye']);
  assert.equal(out.bodies().at(-1), 'bye');
  assert.equal(src.stats.closed.idle_timeout, 60);
  assert.equal(src.stats.closed.frame_timeout, 60);
  const m = await tc.reg.metrics();
  assert.match(m, /edgelog_source_connections_closed_total\{component="net_in",reason="frame_timeout"\} 60/);
});

test('a connection paused by backpressure is not timed out; the idle timer re-arms when it resumes', { timeout: 20_000 }, async (t) => {
  const tc = await makeCtx(t);
  const out = new Collector();
  out.close();
  const { port, src } = await startTcp(t, tc, { idle_timeout: '500ms', frame_timeout: '500ms' }, out);
  const s = await connect(port);
  s.write('first\n');
  await waitFor(() => out.pushes === 1, 'first push pending');
  await new Promise((r) => setTimeout(r, 1200)); // well past both timeouts, but paused by us
  assert.equal(s.destroyed, false);
  assert.equal(src.stats.closed.idle_timeout ?? 0, 0);
  out.open();
  // resumed and then silent: the idle timer closes it once more than 500 ms pass after the resume
  await closed(s);
  await waitFor(() => src.stats.open === 0, 'server side closed');
  assert.equal((src.stats.closed.idle_timeout ?? 0) + (src.stats.closed.frame_timeout ?? 0), 1, JSON.stringify(src.stats.closed));
});

test('max_connections is enforced and counted', async (t) => {
  const tc = await makeCtx(t);
  const { out, port, src } = await startTcp(t, tc, { max_connections: 5 });
  const socks = await Promise.all(Array.from({ length: 5 }, () => connect(port)));
  await waitFor(() => src.stats.open === 5, '5 open');
  const extra = await Promise.all(Array.from({ length: 3 }, () => connect(port)));
  for (const s of extra) s.on('error', () => {});
  await Promise.all(extra.map(closed));
  assert.equal(src.stats.closed.max_connections, 3);
  for (const [i, s] of socks.entries()) s.end(`still here ${i}\n`);
  await waitFor(() => out.records.length === 5, 'lines from admitted clients');
  await Promise.all(socks.map(closed));
  // a slot is free again
  const again = await connect(port);
  again.end('late\n');
  await waitFor(() => out.records.length === 6, 'late line');
  assert.match(await tc.reg.metrics(), /edgelog_source_connections\{component="net_in",state="open"\} \d/);
});

test('max_connections over TLS: refused before the handshake, not counted as TLS failures', async (t) => {
  const tc = await makeCtx(t);
  let pem: { cert: string; key: string };
  try { pem = selfSignedCert(tc.dir); } catch (e) { t.skip(`openssl unavailable: ${(e as Error).message}`); return; }
  const { out, port, src } = await startTcp(t, tc, { tls: { cert_file: pem.cert, key_file: pem.key }, max_connections: 2 });
  const ca = readFileSync(pem.cert);
  const open = (): Promise<tls.TLSSocket> => new Promise((r, j) => { const s = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => r(s)); s.once('error', j); });
  const admitted = [await open(), await open()];
  const refused = await Promise.allSettled([open(), open(), open()]);
  assert.ok(refused.every((r) => r.status === 'rejected'), 'extra TLS clients are refused');
  await waitFor(() => src.stats.closed.max_connections === 3, 'refusals counted');
  assert.equal(src.stats.malformed.tls_handshake ?? 0, 0);
  for (const [i, s] of admitted.entries()) s.end(`admitted ${i}\n`);
  await waitFor(() => out.records.length === 2, 'admitted clients served');
});

test('backpressure: reading pauses while the downstream push is pending', async (t) => {
  const tc = await makeCtx(t);
  const out = new Collector();
  out.close();
  const { port, src } = await startTcp(t, tc, {}, out);
  const s = await connect(port);
  const line = 'z'.repeat(99) + '\n';
  const total = 20 * 1024 * 1024;
  const chunk = Buffer.from(line.repeat(10_000)); // ~1 MB
  let written = 0;
  let blockedWrites = 0;
  const pump = async () => {
    while (written < total) {
      written += chunk.length;
      if (!s.write(chunk)) { blockedWrites++; await new Promise((r) => s.once('drain', r)); }
    }
    s.end();
  };
  const done = pump();
  await waitFor(() => out.pushes >= 1, 'first push');
  // the kernel buffers fill, the client is blocked, the source holds one batch only
  await waitFor(() => blockedWrites > 0 && s.writableLength > 0, 'client write blocked');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(out.pushes, 1, 'no second push while the first is pending');
  assert.ok(src.stats.bytes < 1024 * 1024, `read only ${src.stats.bytes} bytes while paused`);
  assert.ok(src.stats.pauses >= 1);
  out.open();
  await done;
  await waitFor(() => out.records.length === written / 100, 'all lines after release');
  assert.ok(out.records.every((r) => r.body.length === 99));
  t.diagnostic(`backpressure: ${out.pushes} pushes for ${out.records.length} lines`);
});

test('total buffer cap: above max_buffer_bytes every connection pauses, below it they resume', async (t) => {
  const tc = await makeCtx(t);
  const out = new Collector();
  out.close();
  const { port, src } = await startTcp(t, tc, { max_buffer_bytes: '64KiB' }, out);
  const clients = await Promise.all(Array.from({ length: 20 }, () => connect(port)));
  const payload = Buffer.from(('q'.repeat(63) + '\n').repeat(16 * 1024)); // 1 MiB each
  const sent = clients.map((c) => new Promise<void>((r) => c.end(payload, () => r())));
  await waitFor(() => out.pushes >= 1 && src.stats.pauses >= 1, 'first batch pending');
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(out.pushes < 20, `only ${out.pushes} of 20 connections got a batch in before the cap paused them all`);
  assert.ok(src.stats.bytes < 20 * 64 * 1024, `read ${src.stats.bytes} bytes while capped`);
  out.open();
  await Promise.all(sent);
  await waitFor(() => out.records.length === 20 * 16 * 1024, 'everything after release');
  await Promise.all(clients.map(closed));
});

test('spool: records go through the disk spool, replay in order, survive a restart unacked', async (t) => {
  const tc = await makeCtx(t);
  const out = new Collector();
  out.settle = false;
  const cfg = { spool: { dir: 'spool', max_bytes: '4MiB' } };
  let r = await startTcp(t, tc, cfg, out);
  const s = await connect(r.port);
  s.end(Array.from({ length: 1000 }, (_, i) => `spooled ${i}`).join('\n') + '\n');
  await waitFor(() => out.records.length === 1000, 'replayed from spool');
  assert.deepEqual(out.bodies(), Array.from({ length: 1000 }, (_, i) => `spooled ${i}`));
  // settle the first 300 (delivered), leave the rest unacked, restart
  for (const rec of out.records.slice(0, 300)) rec.ack.settle();
  await r.src.stop();
  await r.src.drain!(200);
  const out2 = new Collector();
  r = await startTcp(t, tc, cfg, out2);
  await waitFor(() => out2.records.length >= 700, 'unacked replayed after restart');
  const got = out2.bodies();
  // at-least-once: the first batches acked are gone; whatever was unacked comes back, in order
  assert.equal(got.at(-1), 'spooled 999');
  const first = Number(got[0]!.split(' ')[1]);
  assert.ok(first <= 300, `replay starts at or before the first unacked record (${first})`);
  assert.deepEqual(got, Array.from({ length: 1000 - first }, (_, i) => `spooled ${first + i}`));
  assert.match(await tc.reg.metrics(), /edgelog_spool_records_total\{spool="net_in",op="append"\} 1000/);
});
