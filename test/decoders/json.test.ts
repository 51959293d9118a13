// JSON decoder golden tests: fast path and JSON.parse fallback give the same
// result, known fields land in OTLP fields, malformed lines pass on unchanged
// and are counted.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonDecoder, jsonDecoder } from '../../agent/decoders/json/json.ts';
import { makeCtx, metricValue, recs, view } from '../transforms/records.ts';

function decode(lines: string[], raw: Record<string, unknown> = {}) {
  const ctx = makeCtx('json');
  try {
    const d = new JsonDecoder(jsonDecoder.validate(raw, 'decoders.json'), ctx);
    const out: ReturnType<typeof recs> = [];
    d.process(recs(lines), out);
    return { out, d, ctx };
  } finally { ctx.cleanup(); }
}

const golden: [string, ReturnType<typeof view>][] = [
  ['{"time":"2024-05-01T12:00:00.123456789Z","level":"WARN","msg":"disk \\"sda\\" 91% full","service":"api","trace_id":"0123456789ABCDEF0123456789abcdef","span_id":"00f067aa0ba902b7","n":5,"ok":true,"none":null}',
    { body: 'disk "sda" 91% full', time: '1714564800123456789', sev: 13, sevText: 'WARN', attrs: { 'service.name': 'api', n: 5, ok: true }, traceId: '0123456789abcdef0123456789abcdef', spanId: '00f067aa0ba902b7' }],
  ['{"level":30,"time":1714564800123,"pid":7,"hostname":"h","msg":"pino line"}',
    { body: 'pino line', time: '1714564800123000000', sev: 9, sevText: '30', attrs: { pid: 7, hostname: 'h' }, traceId: '', spanId: '' }],
  ['{"ts":1714564800.5,"level":"error","message":"zap","caller":"x.go:1"}',
    { body: 'zap', time: '1714564800500000000', sev: 17, sevText: 'error', attrs: { caller: 'x.go:1' }, traceId: '', spanId: '' }],
  ['{"@timestamp":"2024-05-01T14:00:00+02:00","log":{"level":"info"},"message":"ecs","http":{"status":200}}',
    { body: 'ecs', time: '1714564800000000000', sev: 9, sevText: 'info', attrs: { 'http.status': 200 }, traceId: '', spanId: '' }],
  ['{"timestamp":"1714564800123456789","severity":"crit","msg":"ns text","tags":["a","b"]}',
    { body: 'ns text', time: '1714564800123456789', sev: 18, sevText: 'crit', attrs: { tags: '["a","b"]' }, traceId: '', spanId: '' }],
  ['{"message":"first","msg":"second","trace_id":"not-hex"}',
    { body: 'first', time: '0', sev: 0, sevText: '', attrs: { msg: 'second', trace_id: 'not-hex' }, traceId: '', spanId: '' }],
  ['{"msg":"caf\u00e9 \u2713","level":"info"}',
    { body: 'caf\u00e9 \u2713', time: '0', sev: 9, sevText: 'info', attrs: {}, traceId: '', spanId: '' }],
  ['{"time":"yesterday","msg":"bad time kept"}',
    { body: 'bad time kept', time: '0', sev: 0, sevText: '', attrs: { time: 'yesterday' }, traceId: '', spanId: '' }],
  ['  {}  ', { body: '  {}  ', time: '0', sev: 0, sevText: '', attrs: {}, traceId: '', spanId: '' }],
];

test('golden: known fields to OTLP, the rest to attributes', () => {
  const { out } = decode(golden.map((g) => g[0]));
  out.forEach((r, i) => assert.deepEqual(view(r), golden[i]![1], golden[i]![0]));
});

test('fast path and JSON.parse path agree', () => {
  const lines = golden.map((g) => g[0]).filter((l) => !l.includes('"http"') && !l.includes('"log"') && !l.includes('['));
  const fast = decode(lines);
  const slow = decode(lines, { fast_path: false });
  assert.equal(fast.d.fast, lines.length, 'flat lines take the fast path');
  assert.equal(slow.d.fast, 0);
  assert.deepEqual(fast.out.map(view), slow.out.map(view));
});

test('malformed input is kept as plain body and counted by reason', async () => {
  const lines = ['plain text line', '{"a":1,', '{"a":1,}', '{"a" 1}', '[1,2]', '{"a":01}', '{"a":"unterminated}', ''];
  const { out, ctx } = decode(lines);
  assert.deepEqual(out.map((r) => r.body.toString()), lines);
  for (const r of out) { assert.equal(r.attributes, null); assert.equal(r.severityNumber, 0); }
  const m = (reason: string) => metricValue(ctx, 'edgelog_decoder_malformed_records_total', { component: 'json', reason });
  assert.equal(await m('not_json'), 3); // plain, [1,2], empty
  assert.equal(await m('syntax'), 5);
  assert.equal(out.every((r) => r.ack.pending === 1), true, 'decoders never settle: malformed records go on');
});

test('body: original keeps the line and puts the message in attributes', () => {
  const line = '{"msg":"hi","level":"debug"}';
  const { out } = decode([line], { body: 'original' });
  assert.equal(out[0]!.body.toString(), line);
  assert.deepEqual(out[0]!.attributes, { msg: 'hi' });
  assert.equal(out[0]!.severityNumber, 5);
});

test('configurable keys and depth', () => {
  const { out } = decode(['{"lvl":"warning","when":"2024-05-01T12:00:00Z","text":"x","a":{"b":{"c":1}}}'], { level_keys: ['lvl'], time_keys: ['when'], message_keys: ['text'], max_depth: 2 });
  assert.deepEqual(view(out[0]!), { body: 'x', time: '1714564800000000000', sev: 13, sevText: 'warning', attrs: { 'a.b': '{"c":1}' }, traceId: '', spanId: '' });
});

test('config errors name the key path', () => {
  assert.throws(() => jsonDecoder.validate({ fast_path: 'yes' }, 'decoders.app'), /decoders\.app\.fast_path/);
  assert.throws(() => jsonDecoder.validate({ body: 'all' }, 'decoders.app'), /decoders\.app\.body/);
  assert.throws(() => jsonDecoder.validate({ nope: 1 }, 'decoders.app'), /decoders\.app\.nope/);
});

test('fast path and JSON.parse agree on generated flat objects (escapes, unicode, numbers)', () => {
  const pieces = ['plain', 'with "quotes"', 'back\\slash', 'tab\there', 'uni \u00e9\u2713\ud83d\ude00', '', 'a,b:c}{', 'x'.repeat(300)];
  const lines: string[] = [];
  for (let i = 0; i < 300; i++) {
    const o: Record<string, unknown> = { level: ['info', 'warn', 30][i % 3], msg: pieces[i % pieces.length] };
    o[`k${i % 7}`] = [1.5, -2, 0, 1e21, true, false, null, pieces[(i * 3) % pieces.length]][i % 8];
    if (i % 5 === 0) o.time = 1714564800000 + i;
    if (i % 11 === 0) o['quo"te'] = 'key with escape';
    lines.push(JSON.stringify(o));
  }
  const fast = decode(lines);
  const slow = decode(lines, { fast_path: false });
  assert.ok(fast.d.fast > 250, `most lines take the fast path (${fast.d.fast})`);
  assert.deepEqual(fast.out.map(view), slow.out.map(view));
});

test('fast path accepts a raw tab inside a string (strict JSON would not): the line is decoded, not lost', () => {
  const { out, d } = decode(['{"msg":"a\tb","level":"info"}']);
  assert.equal(d.fast, 1);
  assert.equal(out[0]!.body.toString(), 'a\tb');
});
