// The `forward` sink: ships OTLP LogsData batches to relays over the forward
// protocol (agent/forward/PROTOCOL.md). Use it with `encoding.codec:
// otlp_proto` (each EncodedMessage becomes one BATCH frame). One endpoint is
// one ForwardConnection; several endpoints are wrapped in the FailoverSink
// (priority = list order, circuit breaker per endpoint fed by sends and by
// HEARTBEAT probes, failback after a hold-down).

import type { ComponentContext, ComponentSpec, EncodedMessage, Sink } from '../../core/component.ts';
import { ForwardMetrics } from '../../forward/metrics.ts';
import { loadSecret } from '../../forward/auth.ts';
import { FailoverSink } from '../failover/failover-sink.ts';
import { breakerDefaults, forwardSinkDefaults, validateForwardSink, type ForwardSinkConfig } from './config.ts';
import { ForwardConnection } from './connection.ts';
import { chooseTransport, loadClientTls } from './transport.ts';

export { ForwardConnection, ForwardConnectError, ForwardConnectionLostError, ForwardNackError, ForwardProtocolError, ForwardTimeoutError } from './connection.ts';
export type { ForwardSinkConfig } from './config.ts';

/** A forward sink over one or more endpoints; `transport` says which send path was chosen. */
export interface ForwardSink extends Sink {
  probe(): Promise<number>;
  readonly transport: 'node' | 'io_uring';
}

class SingleEndpointSink implements ForwardSink {
  readonly conn: ForwardConnection;
  readonly maxMessageBytes: number;
  constructor(conn: ForwardConnection) { this.conn = conn; this.maxMessageBytes = conn.maxMessageBytes; }
  send(messages: EncodedMessage[]): Promise<void> { return this.conn.send(messages); }
  probe(): Promise<number> { return this.conn.probe(); }
  close(): Promise<void> { return this.conn.close(); }
  health(): { ready: boolean; reason: string } { return this.conn.health(); }
  get transport(): 'node' | 'io_uring' { return this.conn.transport; }
}

class MultiEndpointSink extends FailoverSink implements ForwardSink {
  private readonly conns: ForwardConnection[];
  constructor(conns: ForwardConnection[], cfg: ForwardSinkConfig, ctx: ComponentContext) {
    super(conns.map((c, i) => ({ name: c.endpoint.text, region: `relay-${i}`, priority: i, sink: c })), {
      breaker: breakerDefaults, probeIntervalMs: cfg.probe_interval_ms, failbackHoldDownMs: cfg.failback_hold_down_ms,
    }, ctx.metrics, ctx.log, ctx.id);
    this.conns = conns;
  }
  probe(): Promise<number> { return Promise.any(this.conns.map((c) => c.probe())); }
  get transport(): 'node' | 'io_uring' { return this.conns[0]!.transport; }
}

export function createForwardSink(cfg: ForwardSinkConfig, ctx: ComponentContext): ForwardSink {
  const metrics = new ForwardMetrics(ctx.metrics, ctx.id, ctx.log);
  const tlsOptions = cfg.tls ? loadClientTls(cfg.tls, `sinks.${ctx.id}`) : null;
  const secret = cfg.auth ? loadSecret(cfg.auth.secret_file, cfg.auth.secret, `sinks.${ctx.id}.auth.${cfg.auth.secret_file ? 'secret_file' : 'secret'}`) : null;
  const transport = chooseTransport(cfg.transport, cfg, ctx.log).then((d) => {
    ctx.log.info('forward: send path', { transport: d.kind, reason: d.reason });
    return d;
  });
  const conns = cfg.endpoints.map((endpoint) => new ForwardConnection({
    cfg, endpoint, agentId: ctx.agentId, transport, tlsOptions, secret, metrics, log: ctx.log.child({ endpoint: endpoint.text }),
  }));
  return conns.length === 1 ? new SingleEndpointSink(conns[0]!) : new MultiEndpointSink(conns, cfg, ctx);
}

export const forwardSink: ComponentSpec<ForwardSinkConfig, Sink> = {
  kind: 'sink',
  type: 'forward',
  summary: 'edge -> relay over the forward protocol (length-prefixed frames over TCP/TLS, compressed OTLP batches, ACK after Kafka)',
  defaults: forwardSinkDefaults,
  validate: validateForwardSink,
  create: createForwardSink,
};
