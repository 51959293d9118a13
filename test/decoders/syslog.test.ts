import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { SyslogDecoder, syslogDecoder, parseSyslog } from '../../agent/decoders/syslog.ts';
import { makeCtx, metricValue, recs, view } from '../transforms/records.ts';

const loghub = ['../shared/data/loghub', '/work/shared/data/loghub'].find((d) => existsSync(`${d}/Linux_2k.log`));

function decode(lines: string[], raw: Record<string, unknown> = {}, id = 'sl') {
  const ctx = makeCtx(id);
  const d = new SyslogDecoder(syslogDecoder.validate({ timezone: 'UTC', ...raw }, 'decoders.sl'), ctx);
  const out: ReturnType<typeof recs> = [];
  d.process(recs(lines), out);
  return { out, ctx };
}

test('RFC 5424 golden (the RFC examples, with SD and BOM)', () => {
  const { out, ctx } = decode([
    '<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \uFEFF\'su root\' failed for lonvick on /dev/pts/8',
    '<165>1 2003-10-11T22:14:15.003000-07:00 mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"] An application event',
    '<13>1 - - - - - -',
  ]);
  try {
    assert.deepEqual(view(out[0]!), { body: '\'su root\' failed for lonvick on /dev/pts/8', time: '1065910455003000000', sev: 18, sevText: 'crit', attrs: { facility: 4, hostname: 'mymachine.example.com', appname: 'su', msg_id: 'ID47', version: 1 }, traceId: '', spanId: '' });
    assert.deepEqual(view(out[1]!), { body: 'An application event', time: '1065935655003000000', sev: 10, sevText: 'notice', attrs: {
      facility: 20, hostname: 'mymachine.example.com', appname: 'evntslog', msg_id: 'ID47', version: 1,
      'structured_data.exampleSDID@32473.iut': '3', 'structured_data.exampleSDID@32473.eventSource': 'Application',
      'structured_data.exampleSDID@32473.eventID': '1011', 'structured_data.examplePriority@32473.class': 'high' }, traceId: '', spanId: '' });
    assert.deepEqual(view(out[2]!), { body: '', time: '0', sev: 10, sevText: 'notice', attrs: { facility: 1, version: 1 }, traceId: '', spanId: '' });
  } finally { ctx.cleanup(); }
});

test('RFC 3164 golden, with and without PRI; year inferred', () => {
  const now = Date.UTC(2024, 0, 5);
  const a = parseSyslog('<34>Oct 11 22:14:15 mymachine su[123]: \'su root\' failed', 'auto', now)!;
  assert.deepEqual([a.pri, a.hostname, a.appname, a.procid, a.timeNs], [34, 'mymachine', 'su', '123', BigInt(Date.UTC(2023, 9, 11, 22, 14, 15)) * 1_000_000n]);
  const { out, ctx } = decode(['<13>Feb  5 17:32:18 10.0.0.99 myapp: Use the BFG!', 'Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; rhost=218.188.2.4', 'not syslog at all']);
  try {
    const v = out.map(view);
    assert.equal(v[0]!.body, 'Use the BFG!');
    assert.deepEqual(v[0]!.attrs, { facility: 1, hostname: '10.0.0.99', appname: 'myapp' });
    assert.equal(v[0]!.sev, 10);
    assert.equal(v[1]!.body, 'authentication failure; rhost=218.188.2.4');
    assert.deepEqual(v[1]!.attrs, { hostname: 'combo', appname: 'sshd(pam_unix)', proc_id: '19939' });
    assert.equal(v[1]!.sev, 0, 'no PRI: no severity');
    assert.deepEqual(v[2], { body: 'not syslog at all', time: '0', sev: 0, sevText: '', attrs: null, traceId: '', spanId: '' });
  } finally { ctx.cleanup(); }
});

test('3164 timestamps take the configured zone; 5424 ones keep their own', () => {
  const now = Date.UTC(2024, 0, 5);
  const a = parseSyslog('<34>Oct 11 22:14:15 host app: m', 'auto', now, '+02:00')!;
  assert.equal(a.timeNs, BigInt(Date.UTC(2023, 9, 11, 20, 14, 15)) * 1_000_000n);
  const b = parseSyslog('<34>1 2003-10-11T22:14:15Z host app - - - m', 'auto', now, '+02:00')!;
  assert.equal(b.timeNs, BigInt(Date.UTC(2003, 9, 11, 22, 14, 15)) * 1_000_000n);
  assert.equal(syslogDecoder.validate({}, 'd').timezone, 'local');
  assert.throws(() => syslogDecoder.validate({ timezone: '2h' }, 'd.sl'), /d\.sl\.timezone/);
});

test('malformed and strict formats are counted', async () => {
  const { out, ctx } = decode(['<34>Oct 11 22:14:15 host app: msg', '<13>1 2003-10-11T22:14:15Z h a - - - m', 'garbage'], { format: '5424' }, 'strict');
  try {
    assert.equal(out.length, 3, 'nothing dropped');
    assert.equal(out[0]!.body.toString(), '<34>Oct 11 22:14:15 host app: msg');
    assert.equal(out[1]!.body.toString(), 'm');
    assert.equal(await metricValue(ctx, 'edgelog_decoder_malformed_records_total', { component: 'strict', reason: 'not_syslog' }), 2);
  } finally { ctx.cleanup(); }
});

test('loghub Linux sample (BSD syslog without PRI): every line decodes with host and app', { skip: loghub ? false : 'loghub samples not found' }, () => {
  const lines = readFileSync(`${loghub}/Linux_2k.log`, 'utf8').split(/\r?\n/).filter((l) => l !== '');
  const { out, ctx } = decode(lines);
  try {
    assert.equal(out.length, lines.length);
    const decoded = out.filter((r) => r.timeUnixNano > 0n && r.attributes?.hostname === 'combo');
    assert.equal(decoded.length, lines.length);
    assert.ok(out.filter((r) => r.attributes?.appname !== undefined).length > lines.length * 0.95);
  } finally { ctx.cleanup(); }
});
