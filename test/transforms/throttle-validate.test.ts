import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Throttle, throttle } from '../../agent/transforms/throttle.ts';
import { Validate, validate } from '../../agent/transforms/validate.ts';
import type { LogRecord } from '../../agent/core/record.ts';
import { FakeStream, bodies, makeCtx, metricValue } from './records.ts';

function keyed(s: FakeStream, keys: string[]): LogRecord[] {
  const rs = s.records(keys.map((k, i) => `${k}-${i}`));
  rs.forEach((r, i) => { r.attributes = { device: keys[i]! }; });
  return rs;
}

test('throttle drop: token bucket per key, refills with time, drops settled and counted', async () => {
  const ctx = makeCtx('th');
  let now = 10_000;
  try {
    const t = new Throttle(throttle.validate({ rate: 2, burst: 3, key_field: 'device' }, 't.th'), ctx, () => now);
    const s = new FakeStream();
    const out: LogRecord[] = [];
    t.process(keyed(s, ['a', 'a', 'a', 'a', 'a', 'b']), out);
    assert.deepEqual(bodies(out), ['a-0', 'a-1', 'a-2', 'b-5']);
    now += 1000; // 2 tokens for 'a'
    t.process(keyed(s, ['a', 'a', 'a']), out);
    assert.deepEqual(bodies(out).slice(4), ['a-0', 'a-1']);
    assert.equal(s.settled.filter((x) => x.status === 'dropped').length, 3);
    assert.equal(await metricValue(ctx, 'edgelog_transform_dropped_records_total', { component: 'th', reason: 'rate_limited' }), 3);
  } finally { ctx.cleanup(); }
});

test('throttle block: holds in order per key, releases on tick, bounded hold, flush releases all', async () => {
  const ctx = makeCtx('tb');
  let now = 0;
  try {
    const t = new Throttle(throttle.validate({ rate: 1, burst: 1, key_field: 'device', mode: 'block', max_held: 3 }, 't.tb'), ctx, () => now);
    const s = new FakeStream();
    const out: LogRecord[] = [];
    t.process(keyed(s, ['a', 'a', 'a', 'b', 'b', 'a']), out);
    assert.deepEqual(bodies(out), ['a-0', 'b-3']);
    assert.equal(t.heldRecords, 3, 'a-1, a-2, b-4 held; a-5 over max_held');
    assert.equal(s.settled.length, 1);
    assert.equal(await metricValue(ctx, 'edgelog_transform_dropped_records_total', { component: 'tb', reason: 'hold_overflow' }), 1);
    t.tick(500, out);
    assert.equal(out.length, 2, 'no token yet');
    t.tick(1000, out);
    assert.deepEqual(bodies(out).slice(2), ['a-1', 'b-4']);
    now = 1000;
    t.process(keyed(s, ['a']), out); // 'a' still has a-2 queued: the new one waits behind it
    assert.equal(out.length, 4);
    t.flush(out);
    assert.deepEqual(bodies(out).slice(4), ['a-2', 'a-0']);
    assert.equal(t.heldRecords, 0);
  } finally { ctx.cleanup(); }
});

test('validate: required fields and types; invalid records dead-lettered then settled rejected', async () => {
  const ctx = makeCtx('val');
  let v: Validate | undefined;
  try {
    v = new Validate(validate.validate({ required: ['message', 'service.name', 'level'], types: { status: 'integer', ok: 'boolean' } }, 't.val'), ctx);
    const s = new FakeStream();
    const input = s.records(['good', 'no service', 'bad type', 'no level', '']);
    const attrs: Record<string, string | number | boolean>[] = [{ 'service.name': 'api', status: 200, ok: true }, {}, { 'service.name': 'api', status: 2.5 }, { 'service.name': 'api' }, { 'service.name': 'api' }];
    input.forEach((r, i) => { r.attributes = attrs[i]!; r.severityText = i === 3 ? '' : 'info'; });
    const out: LogRecord[] = [];
    v.process(input, out);
    assert.deepEqual(bodies(out), ['good', '']);
    assert.equal(s.pending, 5, 'nothing settled before the dead-letter write');
    await v.idle();
    assert.equal(s.pending, 2);
    assert.deepEqual(s.settled.map((x) => x.status), ['rejected', 'rejected', 'rejected']);
    const lines = readFileSync(v.deadLetterPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => [l.reason, Buffer.from(l.body_b64, 'base64').toString()]).sort(), [
      ['missing_field:level', 'no level'], ['missing_field:service.name', 'no service'], ['wrong_type:status', 'bad type']]);
    assert.ok(v.deadLetterPath.startsWith(ctx.dataDir) && v.deadLetterPath.endsWith('dead-letter/val.jsonl'));
    const m = (reason: string) => metricValue(ctx, 'edgelog_transform_dropped_records_total', { component: 'val', reason });
    assert.equal(await m('missing_field'), 2);
    assert.equal(await m('wrong_type'), 1);
    assert.throws(() => validate.validate({ types: { a: 'date' } }, 't.val'), /t\.val\.types\.a/);
  } finally {
    await v?.idle();
    ctx.cleanup();
  }
});
