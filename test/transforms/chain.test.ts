// A whole processor chain as the pipeline runs it (each stage's output is the
// next one's input, tick and flush in order): every line read is settled
// exactly once (delivered, dropped or rejected) and the checkpoint reaches
// the end of the stream; nothing is lost, nothing settled twice.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ComponentSpec, Processor } from '../../agent/core/component.ts';
import type { LogRecord } from '../../agent/core/record.ts';
import { decoderSpecs } from '../../agent/decoders/index.ts';
import { transformSpecs } from '../../agent/transforms/index.ts';
import { Validate } from '../../agent/transforms/validate.ts';
import { readFileSync } from 'node:fs';
import { FakeStream, deliver, makeCtx } from './records.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const specs = new Map<string, ComponentSpec<any, Processor>>([...decoderSpecs, ...transformSpecs].map((s) => [s.type, s]));

function runChain(procs: Processor[], batches: LogRecord[][]): LogRecord[] {
  const shipped: LogRecord[] = [];
  const through = (from: number, recs: LogRecord[]) => {
    for (let i = from; i < procs.length; i++) { const out: LogRecord[] = []; procs[i]!.process(recs, out); recs = out; }
    shipped.push(...recs);
  };
  let now = Date.now();
  for (const b of batches) {
    through(0, b);
    now += 300;
    procs.forEach((p, i) => { const out: LogRecord[] = []; p.tick?.(now, out); if (out.length) through(i + 1, out); });
  }
  procs.forEach((p, i) => { const out: LogRecord[] = []; p.flush?.(out); if (out.length) through(i + 1, out); });
  return shipped;
}

test('json lines with stack traces through multiline -> json -> validate -> filter -> sample -> redact -> throttle -> enrich -> rename', async () => {
  const ctx = makeCtx('chain');
  let validator: Validate | undefined;
  try {
    const config: [string, Record<string, unknown>][] = [
      ['multiline', { mode: 'continue_pattern', pattern: '^\\{', negate: true }],
      ['json', { }],
      ['validate', { required: ['service.name'] }],
      ['filter', { min_level: 'info', exclude: [{ field: 'path', equals: '/healthz' }] }],
      ['sample', { rate: 3, key_field: 'req' }],
      ['redact', {}],
      ['throttle', { rate: 1e6, mode: 'block' }],
      ['enrich', { labels: { env: 'test' } }],
      ['rename', { dots_to: '_' }],
    ];
    const procs = config.map(([type, raw]) => specs.get(type)!.create(specs.get(type)!.validate(raw, `chain.${type}`), { ...ctx, id: type }));
    validator = procs[2] as Validate;
    const s = new FakeStream('/app.jsonl', 'fp');
    const lines: string[] = [];
    for (let i = 0; i < 600; i++) {
      const lvl = ['debug', 'info', 'warn', 'error'][i % 4];
      const o: Record<string, unknown> = { level: lvl, msg: `req ${i} from 10.0.${i % 250}.1 by u${i}@ex.com`, req: `r${i % 50}`, path: i % 10 === 0 ? '/healthz' : '/api' };
      if (i % 37 !== 0) o.service = 'api';
      lines.push(JSON.stringify(o));
      if (i % 25 === 0) lines.push('java.lang.IllegalStateException: boom', '\tat a.B.c(B.java:1)');
    }
    const recs = s.records(lines);
    const batches: LogRecord[][] = [];
    for (let i = 0; i < recs.length; i += 97) batches.push(recs.slice(i, i + 97));
    const shipped = runChain(procs, batches);
    assert.ok(shipped.length > 100 && shipped.length < 600, `${shipped.length} shipped`);
    for (const r of shipped) {
      const body = r.body.toString();
      assert.ok(!/@ex\.com|10\.0\.\d+\.1/.test(body), `redacted: ${body}`);
      assert.equal(r.attributes!.env, 'test');
      assert.equal(r.attributes!.service_name, 'api');
      assert.ok(r.severityNumber >= 9);
    }
    await (procs[2] as Validate).idle();
    // A JSON line joined with the plain trace under it is not JSON any more:
    // the json decoder keeps it raw, validate dead-letters it whole (3 lines, one entry).
    const dead = readFileSync((procs[2] as Validate).deadLetterPath, 'utf8').trim().split('\n').map((l) => Buffer.from(JSON.parse(l).body_b64, 'base64').toString());
    assert.equal(dead.filter((b) => b.endsWith('IllegalStateException: boom\n\tat a.B.c(B.java:1)')).length, 24);
    deliver(shipped);
    assert.equal(s.pending, 0, 'every line settled');
    assert.equal(s.settled.length, lines.length);
    assert.equal(s.checkpoint.committed, s.offset, 'checkpoint at the end of the stream');
    const statuses = new Map<string, number>();
    for (const x of s.settled) statuses.set(x.status, (statuses.get(x.status) ?? 0) + 1);
    assert.ok(statuses.get('rejected')! > 0 && statuses.get('dropped')! > 0 && statuses.get('delivered')! > 0, JSON.stringify([...statuses]));
  } finally {
    await validator?.idle(); // a pending dead-letter write must not recreate the temp dir after cleanup
    ctx.cleanup();
  }
});
