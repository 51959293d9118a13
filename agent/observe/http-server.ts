// /metrics (Prometheus text), /healthz (alive), /readyz (ready | degraded |
// unready with reasons; 200 for ready and degraded so a load balancer keeps a
// degraded-but-working relay, 503 for unready), /health/stream (server-sent
// events of state changes). Binds to loopback unless configured otherwise.

import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { Health, HealthEvent } from './health.ts';
import type { Logger } from './log.ts';

export interface HttpServerHandle {
  readonly server: Server;
  readonly address: string;
  close(): Promise<void>;
}

export async function startHttpServer(listen: string, registry: Registry, health: Health, log: Logger): Promise<HttpServerHandle> {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(listen.slice(i + 1));
  const streams = new Set<import('node:http').ServerResponse>();
  const server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405).end(); return; }
    if (url === '/metrics') {
      registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': registry.contentType }).end(text);
      }, (err: Error) => { res.writeHead(500).end(err.message); });
      return;
    }
    if (url === '/healthz') { res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"alive"}'); return; }
    if (url === '/readyz') {
      const r = health.readiness();
      res.writeHead(r.state === 'unready' ? 503 : 200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: r.state, reasons: r.reasons, checks: r.checks }));
      return;
    }
    if (url === '/health/stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      const r = health.readiness();
      res.write(`event: state\ndata: ${JSON.stringify({ readiness: r.state, reasons: r.reasons })}\n\n`);
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    res.writeHead(404).end();
  });
  const onChange = (ev: HealthEvent) => { for (const s of streams) s.write(`event: change\ndata: ${JSON.stringify(ev)}\n\n`); };
  health.on('change', onChange);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(); });
  });
  const addr = server.address();
  const address = typeof addr === 'object' && addr ? `${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : listen;
  log.info('http server listening', { address });
  return {
    server,
    address,
    close: () => new Promise<void>((resolve) => {
      health.off('change', onChange);
      for (const s of streams) s.end();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
