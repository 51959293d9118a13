// The observe HTTP server on a reachable port: the load balancer's health port
// answers /readyz only and withholds reasons (they name brokers); the full
// server caps /health/stream subscribers and cuts a client that never finishes
// its headers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Registry } from '../../agent/observe/prometheus.ts';
import { Health } from '../../agent/observe/health.ts';
import { silentLogger } from '../../agent/observe/log.ts';
import { MAX_STREAM_SUBSCRIBERS, startHealthServer, startHttpServer } from '../../agent/observe/http-server.ts';

test('the health port answers /readyz with the state only; reasons and every other path are withheld', async (t) => {
  const health = new Health(silentLogger);
  health.markStarted();
  health.set('kafka', 'failed', 'cannot reach broker b-1.internal:9096');
  const hp = await startHealthServer('127.0.0.1:0', health, silentLogger);
  t.after(() => hp.close());
  const r = await fetch(`http://${hp.address}/readyz`);
  assert.equal(r.status, 503);
  const body = await r.text();
  assert.deepEqual(JSON.parse(body), { status: 'unready' });
  assert.doesNotMatch(body, /b-1|9096/);
  for (const p of ['/metrics', '/healthz', '/health/stream']) assert.equal((await fetch(`http://${hp.address}${p}`)).status, 404, p);
  health.set('kafka', 'ok');
  assert.equal((await fetch(`http://${hp.address}/readyz`)).status, 200);
});

test('/health/stream subscribers are capped; a slow-header client is cut', async (t) => {
  const health = new Health(silentLogger);
  health.markStarted();
  const srv = await startHttpServer('127.0.0.1:0', new Registry(), health, silentLogger);
  t.after(() => srv.close());
  const ctrl = new AbortController();
  t.after(() => ctrl.abort());
  const open: Response[] = [];
  for (let i = 0; i < MAX_STREAM_SUBSCRIBERS; i++) {
    const r = await fetch(`http://${srv.address}/health/stream`, { signal: ctrl.signal });
    assert.equal(r.status, 200);
    open.push(r);
  }
  const over = await fetch(`http://${srv.address}/health/stream`);
  assert.equal(over.status, 503, 'one subscriber above the cap is refused');
  await over.text();
  // headersTimeout: a client that sends half a request and stops is disconnected (checked every second)
  srv.server.headersTimeout = 500; // shortened for the test; the default is 10 s
  srv.server.requestTimeout = 1000;
  const [host, port] = [srv.address.slice(0, srv.address.lastIndexOf(':')), Number(srv.address.slice(srv.address.lastIndexOf(':') + 1))];
  const s = net.connect({ host, port });
  s.on('error', () => {});
  s.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
  let reply = '';
  s.on('data', (d) => { reply += d; });
  const closed = await new Promise<boolean>((resolve) => {
    const guard = setTimeout(() => resolve(false), 60_000);
    s.once('close', () => { clearTimeout(guard); resolve(true); });
  });
  assert.ok(closed, 'the slow-header connection was closed by the server');
  assert.match(reply, /^HTTP\/1\.1 408/);
});
