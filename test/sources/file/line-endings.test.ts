// One line-ending behaviour for the file and tcp sources (issue 14), as
// documented in agent/COMPONENTS.md and agent/sources/file/README.md: LF ends
// a line, one CR before it is removed, any other CR is data, a last line
// without LF is shipped as it is (its trailing CR kept). And records of a
// file reached through a symlink carry the real path as
// log.file.path_resolved.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Collector, makeCtx, makeSource, tempDir, testConfig, waitFor } from './helpers.ts';
import { tcpSource } from '../../../agent/sources/tcp/tcp-source.ts';
import type { NetSource } from '../../../agent/sources/tcp/tcp-source.ts';
import { Collector as NetCollector, closed, connect, makeCtx as makeNetCtx, waitFor as netWaitFor } from '../net/helpers.ts';
import { defer } from '../../helpers/cleanup.ts';

// CRLF, LF, a CR in the middle, a lone CR before CRLF, and a last line without LF ending in CR.
const input = Buffer.from('crlf\r\nlf\nmid\rdle\r\ntwo crs\r\r\nlast\r');
const expected = ['crlf', 'lf', 'mid\rdle', 'two crs\r', 'last\r'];

test('the file source and the tcp source make the same records of CRLF, LF and an unterminated last line', async (t) => {
  const dir = await tempDir(t);
  writeFileSync(join(dir, 'a.log'), input);
  const file = makeSource(testConfig({ include: [join(dir, '*.log')], idle_flush: '50ms' }), makeCtx(join(dir, 'data')), t);
  const fc = new Collector();
  await file.start(fc);
  await waitFor(() => fc.records.length === expected.length, 'file records (the last after idle_flush)');
  assert.deepEqual(fc.bodies(), expected);

  const tc = await makeNetCtx(t, 'tcp_in');
  const tcp = tcpSource.create(tcpSource.validate({ address: '127.0.0.1:0' }, 'sources.tcp_in'), tc.ctx) as NetSource & { address: { port: number } | null };
  const out = new NetCollector();
  defer(t, 'stop the tcp source', async () => { await tcp.stop(); await tcp.drain?.(1000); });
  await tcp.start(out);
  const s = await connect(tcp.address!.port);
  s.end(input); // the peer closes: the unterminated last line is shipped
  await closed(s);
  await netWaitFor(() => out.records.length === expected.length, 'tcp records');
  assert.deepEqual(out.bodies(), expected);
});

test('records of a symlinked file carry the link path and log.file.path_resolved; other files do not', async (t) => {
  const dir = await tempDir(t);
  const real = join(dir, 'real');
  const logs = join(dir, 'logs');
  mkdirSync(real);
  mkdirSync(logs);
  writeFileSync(join(real, 'app-2026.log'), 'through a link\n');
  symlinkSync(join(real, 'app-2026.log'), join(logs, 'current.log'));
  writeFileSync(join(logs, 'plain.log'), 'plain file\n');
  const src = makeSource(testConfig({ include: [join(logs, '*.log')] }), makeCtx(join(dir, 'data')), t);
  const c = new Collector();
  await src.start(c);
  await waitFor(() => c.records.length === 2, 'both files');
  const linked = c.records.find((r) => r.body.toString() === 'through a link')!;
  assert.equal(linked.stream, join(logs, 'current.log'));
  assert.deepEqual(linked.attributes, { 'log.file.path_resolved': join(real, 'app-2026.log') });
  const plain = c.records.find((r) => r.body.toString() === 'plain file')!;
  assert.equal(plain.stream, join(logs, 'plain.log'));
  assert.equal(plain.attributes, null);
});
