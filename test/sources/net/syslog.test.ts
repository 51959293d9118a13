import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { syslogSource } from '../../../agent/sources/syslog/syslog-source.ts';
import { SyslogTcpFramer } from '../../../agent/sources/syslog/framer.ts';
import type { NetSource } from '../../../agent/sources/tcp/tcp-source.ts';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { Collector, makeCtx, waitFor, connect, closed, selfSignedCert, type TestCtx } from './helpers.ts';

async function startSyslog(t: { after: (fn: () => Promise<void> | void) => void }, tc: TestCtx, raw: Record<string, unknown>): Promise<{ src: NetSource; out: Collector; port: number }> {
  const out = new Collector();
  const src = syslogSource.create(syslogSource.validate({ address: '127.0.0.1:0', ...raw }, `sources.${tc.ctx.id}`), tc.ctx);
  await src.start(out);
  t.after(async () => { await src.stop(); await src.drain!(1000); });
  return { src, out, port: src.address!.port };
}

const m5424 = '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 1234 ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] \ufeffAn application event log entry';
const m3164 = '<34>Oct 11 22:14:15 mymachine su[230]: \'su root\' failed for lonvick on /dev/pts/8';

function check5424(r: { severityNumber: number; severityText: string; timeUnixNano: bigint; attributes: Record<string, unknown> | null; body: Buffer }): void {
  assert.equal(r.severityText, 'notice'); // 165 = local4.notice
  assert.equal(r.severityNumber, 10);
  assert.equal(r.timeUnixNano, 1065910455003000000n);
  assert.equal(r.attributes!.hostname, 'mymachine.example.com');
  assert.equal(r.attributes!.appname, 'evntslog');
  assert.equal(r.attributes!.proc_id, '1234');
  assert.equal(r.attributes!.msg_id, 'ID47');
  assert.equal(r.attributes!.facility, 20);
  assert.equal(r.attributes!['structured_data.exampleSDID@32473.eventID'], '1011');
  assert.equal(r.body.toString(), 'An application event log entry');
}

function check3164(r: { severityNumber: number; severityText: string; timeUnixNano: bigint; attributes: Record<string, unknown> | null; body: Buffer }): void {
  assert.equal(r.severityText, 'crit'); // 34 = auth.crit
  assert.equal(r.attributes!.hostname, 'mymachine');
  assert.equal(r.attributes!.appname, 'su');
  assert.equal(r.attributes!.proc_id, '230');
  assert.equal(r.attributes!.facility, 4);
  assert.ok(r.timeUnixNano > 0n);
  assert.equal(r.body.toString(), '\'su root\' failed for lonvick on /dev/pts/8');
}

test('framer: octet counting and LF framing, fed one byte at a time', () => {
  const bad: string[] = [];
  const f = new SyslogTcpFramer(100, 'auto', (r) => bad.push(r));
  const frames: [string, number][] = [];
  const input = Buffer.from(`11 <13>1 - a b\n<13>line two\r\n5 hello${'200 ' + 'x'.repeat(200)}\n\n3 end`);
  for (let i = 0; i < input.length; i++) assert.equal(f.push(input.subarray(i, i + 1), (fr, off) => frames.push([fr.toString(), off])), true);
  assert.deepEqual(frames, [['<13>1 - a b', 0], ['<13>line two', 15], ['hello', 29], ['end', 242]]);
  assert.deepEqual(bad, ['oversized']);
  assert.equal(new SyslogTcpFramer(100, 'auto', () => {}).push(Buffer.from('12x <13>'), () => {}), false, 'bad octet count ends the stream');
  assert.equal(new SyslogTcpFramer(100, 'octet_counting', () => {}).push(Buffer.from('<13>no count\n'), () => {}), false);
});

test('syslog over TCP: RFC 5424 octet-counted and RFC 3164 LF-framed, parsed', async (t) => {
  const tc = await makeCtx(t, 'syslog_in');
  const { out, port, src } = await startSyslog(t, tc, {});
  const s = await connect(port);
  const f5424 = Buffer.from(m5424);
  s.write(Buffer.concat([Buffer.from(`${f5424.length} `), f5424]));
  s.write(m3164 + '\n');
  s.end('<14>1 2024-02-29T23:59:59.123456+02:00 h app - - - multi\nline in octet frame'.replace(/^/, (x) => `${Buffer.byteLength('<14>1 2024-02-29T23:59:59.123456+02:00 h app - - - multi\nline in octet frame')} `));
  await waitFor(() => out.records.length === 3, '3 syslog records');
  check5424(out.records[0]!);
  check3164(out.records[1]!);
  const r3 = out.records[2]!;
  assert.equal(r3.body.toString(), 'multi\nline in octet frame', 'octet counting carries LF inside a message');
  assert.equal(r3.timeUnixNano, BigInt(Date.UTC(2024, 1, 29, 21, 59, 59, 123)) * 1_000_000n + 456_000n);
  assert.equal(r3.severityText, 'info');
  assert.equal(src.stats.malformed.unparsed ?? 0, 0);
  assert.equal(out.records[0]!.source, 'syslog_in');
  assert.match(out.records[0]!.stream, /^127\.0\.0\.1:\d+$/);
});

test('syslog over UDP: 5424 and 3164 datagrams, oversize and empty counted', async (t) => {
  const tc = await makeCtx(t, 'syslog_udp');
  const { out, port, src } = await startSyslog(t, tc, { mode: 'udp', max_frame_bytes: 2048 });
  const c = dgram.createSocket('udp4');
  t.after(() => new Promise<void>((r) => c.close(() => r())));
  const send = (b: string | Buffer) => new Promise<void>((r, j) => c.send(b, port, '127.0.0.1', (e) => (e ? j(e) : r())));
  await send(m5424);
  await send(m3164 + '\n');
  await send('x'.repeat(3000));
  await send('\n');
  await send('not syslog at all');
  // UDP may drop on loopback only under overload; these few always arrive
  await waitFor(() => out.records.length === 3 && (src.stats.malformed.oversized ?? 0) === 1 && (src.stats.malformed.empty ?? 0) === 1, 'udp records');
  const by = (needle: string) => out.records.find((r) => r.body.toString().includes(needle))!;
  check5424(by('application event'));
  check3164(by('lonvick'));
  assert.equal(src.stats.malformed.unparsed, 1);
  assert.equal(by('not syslog').attributes, null, 'unparsed messages are delivered raw');
  assert.match(await tc.reg.metrics(), /edgelog_source_malformed_total\{component="syslog_udp",reason="oversized"\} 1/);
});

test('parse: false hands the raw frame on (a decoder may parse it later)', async (t) => {
  const tc = await makeCtx(t, 'syslog_raw');
  const { out, port } = await startSyslog(t, tc, { parse: false, framing: 'non_transparent' });
  const s = await connect(port);
  s.end(m3164 + '\n');
  await waitFor(() => out.records.length === 1, 'raw record');
  assert.equal(out.records[0]!.body.toString(), m3164);
  assert.equal(out.records[0]!.attributes, null);
});

test('bad octet counts close only that connection; oversized frames are skipped; random bytes never crash', async (t) => {
  const tc = await makeCtx(t, 'syslog_bad');
  const { out, port, src } = await startSyslog(t, tc, { max_frame_bytes: 1024 });
  const bad = await connect(port);
  bad.on('error', () => {});
  bad.write('99999x <13>1 - - - - - - nope');
  await closed(bad);
  assert.equal(src.stats.closed.bad_frame, 1);
  const noisy = await Promise.all([1, 2, 3].map(() => connect(port)));
  for (const s of noisy) { s.on('error', () => {}); s.end(randomBytes(128 * 1024)); }
  const big = await connect(port);
  big.end(`5000 ${'y'.repeat(5000)}20 <13>1 - h a - - - ok`);
  const good = await connect(port);
  good.end(Array.from({ length: 50 }, (_, i) => `<13>1 - h app - - - good ${i}`).join('\n') + '\n');
  await Promise.all([...noisy, big, good].map(closed));
  await waitFor(() => out.bodies().filter((b) => b.startsWith('good ')).length === 50, 'good client');
  assert.deepEqual(out.bodies().filter((b) => /^good \d+$/.test(b)), Array.from({ length: 50 }, (_, i) => `good ${i}`));
  assert.ok(out.bodies().includes('ok'), 'frame after an oversized octet-counted frame');
  assert.ok((src.stats.malformed.oversized ?? 0) >= 1);
  t.diagnostic(`bad input: closed ${JSON.stringify(src.stats.closed)}, malformed ${JSON.stringify(src.stats.malformed)}`);
});

test('udp random datagrams: no crash, counted', async (t) => {
  const tc = await makeCtx(t, 'syslog_udp_rand');
  const { out, port, src } = await startSyslog(t, tc, { mode: 'udp' });
  const c = dgram.createSocket('udp4');
  t.after(() => new Promise<void>((r) => c.close(() => r())));
  for (let i = 0; i < 200; i++) await new Promise<void>((r) => c.send(randomBytes(1 + (i * 37) % 1400), port, '127.0.0.1', () => r()));
  // UDP may lose datagrams even on loopback when a burst overflows the socket buffer: repeat the good one until it lands
  const again = setInterval(() => c.send('<13>1 - h app - - - after the noise', port, '127.0.0.1'), 50);
  t.after(() => clearInterval(again));
  await waitFor(() => out.bodies().includes('after the noise'), 'good datagram after noise');
  clearInterval(again);
  assert.ok((src.stats.malformed.unparsed ?? 0) > 0, 'random datagrams delivered raw and counted as unparsed');
  t.diagnostic(`udp noise: ${src.stats.records} datagrams received of 200 sent back to back, ${src.stats.malformed.unparsed} unparsed`);
});

test('syslog config: udp has no tls, defaults loopback', () => {
  assert.equal(syslogSource.defaults.address, '127.0.0.1:5514');
  assert.throws(() => syslogSource.validate({ mode: 'udp', tls: { cert_file: 'a', key_file: 'b' } }, 'sources.s'), /sources\.s\.tls/);
  assert.equal(syslogSource.validate({ mode: 'udp' }, 's').max_frame_bytes, 65507);
  assert.throws(() => syslogSource.validate({ framing: 'lf' }, 'sources.s'), /sources\.s\.framing: expected one of auto, octet_counting, non_transparent/);
});

test('syslog over TLS (RFC 5425: octet-counted frames)', async (t) => {
  const tc = await makeCtx(t, 'syslog_tls');
  let pem: { cert: string; key: string };
  try { pem = selfSignedCert(tc.dir); } catch (e) { t.skip(`openssl unavailable: ${(e as Error).message}`); return; }
  const { out, port } = await startSyslog(t, tc, { tls: { cert_file: pem.cert, key_file: pem.key }, framing: 'octet_counting' });
  const s = tls.connect({ host: '127.0.0.1', port, ca: readFileSync(pem.cert), servername: 'localhost' });
  await new Promise<void>((r, j) => { s.once('secureConnect', () => r()); s.once('error', j); });
  const f = Buffer.from(m5424);
  s.end(Buffer.concat([Buffer.from(`${f.length} `), f, Buffer.from(`${f.length} `), f]));
  await waitFor(() => out.records.length === 2, 'two TLS syslog records');
  check5424(out.records[1]!);
});

test('syslog over UDP with a spool: datagrams go through the disk spool', async (t) => {
  const tc = await makeCtx(t, 'syslog_udp_spool');
  const { out, port } = await startSyslog(t, tc, { mode: 'udp', spool: { dir: 'spool', max_bytes: '1MiB' } });
  const c = dgram.createSocket('udp4');
  t.after(() => new Promise<void>((r) => c.close(() => r())));
  for (let i = 0; i < 50; i++) await new Promise<void>((r) => c.send(`<14>1 - h app - - - udp ${i}`, port, '127.0.0.1', () => r()));
  await waitFor(() => out.records.length >= 45, 'datagrams replayed from the spool');
  const nums = out.bodies().map((b) => Number(b.split(' ')[1]));
  assert.deepEqual(nums, [...nums].sort((a, b) => a - b), 'in arrival order');
  assert.equal(out.records[0]!.attributes!.appname, 'app');
  assert.match(await tc.reg.metrics(), /edgelog_spool_records_total\{spool="syslog_udp_spool",op="append"\} \d+/);
});
