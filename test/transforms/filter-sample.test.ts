import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Filter, filter } from '../../agent/transforms/filter.ts';
import { Sample, sample } from '../../agent/transforms/sample.ts';
import type { LogRecord } from '../../agent/core/record.ts';
import { FakeStream, bodies, makeCtx, metricValue } from './records.ts';

function leveled(s: FakeStream, spec: [string, number, Record<string, string | number>?][]): LogRecord[] {
  const rs = s.records(spec.map((x) => x[0]));
  rs.forEach((r, i) => { r.severityNumber = spec[i]![1]; r.attributes = spec[i]![2] ?? null; });
  return rs;
}

test('filter golden: min_level, include, exclude; dropped records settled and counted by reason', async () => {
  const ctx = makeCtx('flt');
  try {
    const f = new Filter(filter.validate({
      min_level: 'info',
      include: [{ field: 'service.name', matches: '^(api|web)$' }],
      exclude: [{ field: 'message', matches: 'healthz' }, { field: 'path', in: ['/metrics'] }],
    }, 'transforms.flt'), ctx);
    const s = new FakeStream();
    const input = leveled(s, [
      ['debug line', 5, { 'service.name': 'api' }],
      ['kept info', 9, { 'service.name': 'api' }],
      ['no level kept', 0, { 'service.name': 'web' }],
      ['other service', 17, { 'service.name': 'db' }],
      ['GET /healthz', 9, { 'service.name': 'api' }],
      ['metrics scrape', 9, { 'service.name': 'web', path: '/metrics' }],
      ['no attrs', 13],
    ]);
    const out: LogRecord[] = [];
    f.process(input, out);
    assert.deepEqual(bodies(out), ['kept info', 'no level kept']);
    assert.equal(s.pending, 2, 'only the kept records are unsettled');
    assert.deepEqual(s.settled.map((x) => [x.offset, x.status]).map((x) => x[1]), ['dropped', 'dropped', 'dropped', 'dropped', 'dropped']);
    const m = (reason: string) => metricValue(ctx, 'edgelog_transform_dropped_records_total', { component: 'flt', reason });
    assert.equal(await m('below_min_level'), 1);
    assert.equal(await m('not_included'), 2);
    assert.equal(await m('excluded'), 2);
  } finally { ctx.cleanup(); }
});

test('filter: equals, exists, keep_unknown_level false; config errors', () => {
  const ctx = makeCtx('f2');
  try {
    const f = new Filter(filter.validate({ min_level: 'warn', keep_unknown_level: false, include: [{ field: 'code', equals: 500 }, { field: 'trace_id', exists: false }] }, 't.f'), ctx);
    const s = new FakeStream();
    const input = leveled(s, [['a', 17, { code: 500 }], ['b', 0, { code: 500 }], ['c', 17, { code: '500' }], ['d', 17, { code: 404 }]]);
    input[2]!.traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const out: LogRecord[] = [];
    f.process(input, out);
    assert.deepEqual(bodies(out), ['a']);
    assert.throws(() => filter.validate({ min_level: 'loud' }, 't.f'), /t\.f\.min_level/);
    assert.throws(() => filter.validate({ include: [{ field: 'x' }] }, 't.f'), /t\.f\.include\[0\]/);
    assert.throws(() => filter.validate({ include: [{ field: 'x', matches: '(' }] }, 't.f'), /t\.f\.include\[0\]\.matches/);
  } finally { ctx.cleanup(); }
});

test('sample: deterministic by key, about 1 in N, warnings and errors always kept', async () => {
  const ctx = makeCtx('smp');
  try {
    const cfg = sample.validate({ rate: 4, key_field: 'request_id' }, 't.s');
    assert.equal(cfg.always_keep_level, 'warn');
    const run = () => {
      const p = new Sample(cfg, ctx);
      const s = new FakeStream();
      const spec: [string, number, Record<string, string>][] = [];
      for (let i = 0; i < 4000; i++) spec.push([`req ${i % 1000} line ${i}`, i % 10 === 0 ? 17 : 9, { request_id: `r-${i % 1000}` }]);
      const input = leveled(s, spec);
      const out: LogRecord[] = [];
      p.process(input, out);
      return { out, s };
    };
    const a = run(), b = run();
    assert.deepEqual(bodies(a.out), bodies(b.out), 'same choice every run');
    const errors = a.out.filter((r) => r.severityNumber === 17).length;
    assert.equal(errors, 400, 'every error kept');
    const infos = a.out.length - errors;
    assert.ok(infos > 3600 / 4 * 0.8 && infos < 3600 / 4 * 1.2, `about a quarter of infos kept (${infos})`);
    // All lines of one request share the decision.
    const keptIds = new Set(a.out.filter((r) => r.severityNumber === 9).map((r) => r.attributes!.request_id));
    for (const r of a.out) if (r.severityNumber === 9) assert.ok(keptIds.has(r.attributes!.request_id));
    const dropped = 4000 - a.out.length;
    assert.equal(a.s.settled.filter((x) => x.status === 'dropped').length, dropped, 'each sampled-away record settled once');
    assert.equal(await metricValue(ctx, 'edgelog_transform_dropped_records_total', { component: 'smp', reason: 'sampled' }), dropped * 2);
  } finally { ctx.cleanup(); }
});

test('sample rate 1 keeps everything; records without the key hash their body', () => {
  const ctx = makeCtx('s1');
  try {
    const out: LogRecord[] = [];
    new Sample(sample.validate({ rate: 1 }, 't'), ctx).process(new FakeStream().records(['a', 'b']), out);
    assert.equal(out.length, 2);
    const out2: LogRecord[] = [];
    new Sample(sample.validate({ rate: 2, key_field: 'missing', always_keep_level: '' }, 't'), ctx).process(new FakeStream().records(Array.from({ length: 100 }, (_, i) => `line ${i}`)), out2);
    assert.ok(out2.length > 25 && out2.length < 75);
  } finally { ctx.cleanup(); }
});
