import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arch, platform } from 'node:os';
import { Enrich, enrich } from '../../agent/transforms/enrich.ts';
import { Rename, rename } from '../../agent/transforms/rename.ts';
import type { LogRecord } from '../../agent/core/record.ts';
import { makeCtx, recs } from './records.ts';

test('enrich: labels and host facts; existing keys win unless overwrite', () => {
  const ctx = makeCtx('en');
  try {
    const e = new Enrich(enrich.validate({ labels: { env: 'prod', region: 'eu-west' } }, 't.en'), ctx);
    const input = recs(['a', 'b']);
    input[1]!.attributes = { env: 'dev' };
    const out: LogRecord[] = [];
    e.process(input, out);
    const facts = { 'host.name': 'edge-1', 'os.type': platform(), 'host.arch': arch() === 'x64' ? 'amd64' : arch(), 'edgelog.site': 'test-site' };
    assert.deepEqual(out[0]!.attributes, { ...facts, env: 'prod', region: 'eu-west' });
    assert.deepEqual(out[1]!.attributes, { env: 'dev', ...facts, region: 'eu-west' });
    const o = new Enrich(enrich.validate({ labels: { env: 'prod' }, host_facts: false, overwrite: true }, 't.en'), ctx);
    const out2: LogRecord[] = [];
    o.process(recs(['x']).map((r) => { r.attributes = { env: 'dev' }; return r; }), out2);
    assert.deepEqual(out2[0]!.attributes, { env: 'prod' });
    assert.throws(() => enrich.validate({ labels: { a: { b: 1 } } }, 't.en'), /t\.en\.labels\.a/);
  } finally { ctx.cleanup(); }
});

test('rename: explicit renames, lower-case, dots, drop', () => {
  const r = new Rename(rename.validate({ fields: { 'Req.ID': 'request.id', usr: 'user' }, lower_case_keys: true, dots_to: '_', drop_fields: ['password'] }, 't.rn'));
  const input = recs(['a', 'b']);
  input[0]!.attributes = { 'Req.ID': 'x1', usr: 'bob', 'HTTP.Status': 200, password: 'secret' };
  input[1]!.attributes = { plain: 1 };
  const plain = input[1]!.attributes;
  const out: LogRecord[] = [];
  r.process(input, out);
  assert.deepEqual(out[0]!.attributes, { request_id: 'x1', user: 'bob', http_status: 200 });
  assert.equal(out[1]!.attributes, plain, 'unchanged keys: the object is not rebuilt');
});
