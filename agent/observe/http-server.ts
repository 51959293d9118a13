// /metrics (Prometheus text), /healthz (alive), /readyz (ready | degraded |
// unready with reasons; 200 for ready and degraded so a load balancer keeps a
// degraded-but-working relay, 503 for unready), /health/stream (server-sent
// events of state changes). Binds to loopback unless configured otherwise.
// startHealthServer() is the load balancer's port: /readyz only, reasons
// withheld (they name brokers and hosts), so the full server stays on loopback.
//
// Limits (a reachable port is attacked): headers must arrive within 10 s and a
// whole request within 30 s (nginx client_header_timeout 60 s; a health or
// metrics request is tiny), 256 connections, 64 /health/stream subscribers.

const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
const MAX_CONNECTIONS = 256;
/** Server-sent-event subscribers held at once: dashboards and drills, not thousands. */
export const MAX_STREAM_SUBSCRIBERS = 64;

/**
 * Applies the limits, binds `listen` (host:port, `[v6]:port`) and resolves
 * with the address bound (port 0 picks a free one); rejects when the bind fails.
 */
async function hardenAndListen(server: Server, listen: string): Promise<string> {
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.maxConnections = MAX_CONNECTIONS;
  server.maxHeadersCount = 50;
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(listen.slice(i + 1));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(); });
  });
  const addr = server.address();
  return typeof addr === 'object' && addr ? `${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : listen;
}

import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { Registry } from './prometheus.ts';
import type { Health, HealthEvent } from './health.ts';
import type { Logger } from './log.ts';

// Not `import { createServer } from 'node:http'`: an ES import of a builtin
// reads all of its exports, and node:http's lazy WebSocket/CloseEvent/
// MessageEvent exports then load undici (+13 MB RSS on an idle agent,
// measured with Node 24.21); require() reads only createServer.
const { createServer } = createRequire(import.meta.url)('node:http') as typeof import('node:http');

export interface HttpServerHandle {
  readonly server: Server;
  readonly address: string;
  close(): Promise<void>;
}

export async function startHttpServer(listen: string, registry: Registry, health: Health, log: Logger): Promise<HttpServerHandle> {
  const streams = new Set<import('node:http').ServerResponse>();
  const server = createServer({ connectionsCheckingInterval: 1000 }, (req, res) => {
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
      if (streams.size >= MAX_STREAM_SUBSCRIBERS) { res.writeHead(503, { 'retry-after': '10' }).end('too many subscribers\n'); return; }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      const r = health.readiness();
      res.write(`event: state\ndata: ${JSON.stringify({ readiness: r.state, reasons: r.reasons })}\n\n`);
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    res.writeHead(404).end();
  });
  const address = await hardenAndListen(server, listen);
  const onChange = (ev: HealthEvent) => { for (const s of streams) s.write(`event: change\ndata: ${JSON.stringify(ev)}\n\n`); };
  health.on('change', onChange);
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

/** The load balancer's health port: GET /readyz -> 200 or 503 with the state only; everything else 404. */
export async function startHealthServer(listen: string, health: Health, log: Logger): Promise<HttpServerHandle> {
  const server = createServer({ connectionsCheckingInterval: 1000 }, (req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if ((req.method === 'GET' || req.method === 'HEAD') && url === '/readyz') {
      const state = health.readiness().state;
      res.writeHead(state === 'unready' ? 503 : 200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: state }));
      return;
    }
    res.writeHead(404).end();
  });
  const address = await hardenAndListen(server, listen);
  log.info('health port listening (/readyz only)', { address });
  return {
    server, address,
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}
