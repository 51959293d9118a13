// The `observe:` section (the agent's own HTTP endpoints and log), declared
// once (agent/config/declare.ts): type, reader, defaults and its
// COMPONENTS.md rows.

import { address, choice, type Infer, optAddress, section } from './declare.ts';

export const observeSection = section({
  // Loopback only (least privilege). Port chosen to stay clear of Fluent Bit's
  // HTTP server (2020), Vector's API (8686) and the OTel Collector's telemetry (8888).
  listen: address('listen', '127.0.0.1:9700', '127.0.0.1:9700', 'HTTP endpoint: /metrics, /healthz, /readyz, /health/stream; an address in use stops the start with `EDGELOG_LISTEN` naming it'),
  // A separate port answering /readyz only (for a load balancer), so `listen` can stay on loopback.
  healthListen: optAddress('health_listen', '0.0.0.0:9701', "a second endpoint that answers only `/readyz` (status, no reasons), for a load balancer's health check, so `listen` can stay on loopback"),
  logLevel: choice('log_level', ['debug', 'info', 'warn', 'error'], 'info', 'agent log level'),
  logFormat: choice('log_format', ['json', 'text'], 'json', 'agent log format'),
});

export type ObserveConfig = Infer<typeof observeSection>;
