import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redact, redact, luhn } from '../../agent/transforms/redact.ts';
import type { LogRecord } from '../../agent/core/record.ts';
import { bodies, makeCtx, metricValue, recs } from './records.ts';

const golden: [string, string][] = [
  ['login ok for bob.smith+tag@example.co.uk from 10.1.2.3', 'login ok for [email] from [ipv4]'],
  ['Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc-_def== sent', 'Authorization: Bearer [token] sent'],
  ['peer 2001:db8::8a2e:370:7334 and ::1 and fe80::1%eth0', 'peer [ipv6] and [ipv6] and [ipv6]%eth0'],
  ['paid with 4111 1111 1111 1111, order 4111111111111112, ts 1714564800123', 'paid with [card], order 4111111111111112, ts 1714564800123'],
  ['versions 1.2.3.4.5 and 999.1.1.1 and time 12:34:56 and std::vector stay', 'versions 1.2.3.4.5 and 999.1.1.1 and time 12:34:56 and std::vector stay'],
  ['mac 00:1a:2b:3c:4d:5e stays', 'mac 00:1a:2b:3c:4d:5e stays'],
  ['ssn 123-45-6789 user=alice', 'ssn [ssn] user=[user]'],
  ['to: a@b and c.d@e.org. or x@y.io,z@w.de', 'to: a@b and [email]. or [email],[email]'],
];

test('redact golden: built-ins and custom rules on body and attributes; counts per rule', async () => {
  const ctx = makeCtx('rd');
  try {
    const p = new Redact(redact.validate({ custom: [{ name: 'ssn', pattern: String.raw`\b\d{3}-\d{2}-\d{4}\b` }, { name: 'user', pattern: 'user=(\\w+)', replacement: 'user=[user]' }] }, 't.rd'), ctx);
    const input = recs(golden.map((g) => g[0]));
    input[0]!.attributes = { client: '192.168.0.1', email: 'a@b.io', n: 5 };
    const untouched = input[4]!.body;
    const out: LogRecord[] = [];
    p.process(input, out);
    assert.deepEqual(bodies(out), golden.map((g) => g[1]));
    assert.deepEqual(out[0]!.attributes, { client: '[ipv4]', email: '[email]', n: 5 });
    assert.equal(out[4]!.body, untouched, 'a body with nothing to mask is not copied');
    const m = (rule: string) => metricValue(ctx, 'edgelog_transform_redactions_total', { component: 'rd', rule });
    assert.equal(await m('email'), 5);
    assert.equal(await m('ipv4'), 2);
    assert.equal(await m('ipv6'), 3);
    assert.equal(await m('credit_card'), 1);
    assert.equal(await m('bearer'), 1);
    assert.equal(await m('ssn'), 1);
    assert.ok(out.every((r) => r.ack.pending === 1), 'redact never drops');
  } finally { ctx.cleanup(); }
});

test('luhn and config', () => {
  assert.equal(luhn('4111111111111111'), true);
  assert.equal(luhn('4111-1111-1111-1112'), false);
  assert.equal(luhn('79927398713'), false, 'too short for a card');
  const ctx = makeCtx('rd2');
  try {
    const only = new Redact(redact.validate({ rules: ['email'], apply_to: 'body' }, 't'), ctx);
    const input = recs(['x@y.com 10.0.0.1']);
    input[0]!.attributes = { e: 'x@y.com' };
    const out: LogRecord[] = [];
    only.process(input, out);
    assert.equal(out[0]!.body.toString(), '[email] 10.0.0.1');
    assert.deepEqual(out[0]!.attributes, { e: 'x@y.com' });
  } finally { ctx.cleanup(); }
  assert.throws(() => redact.validate({ rules: ['phone'] }, 't.rd'), /t\.rd\.rules\[0\]/);
  assert.throws(() => redact.validate({ custom: [{ name: 'x', pattern: '(' }] }, 't.rd'), /t\.rd\.custom\[0\]\.pattern/);
});
