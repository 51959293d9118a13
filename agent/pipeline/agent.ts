// Assembles and runs the agent: components from config, one Pipeline per
// configured pipeline, the HTTP endpoints, runtime metrics, and an orderly
// shutdown (stop reading -> flush -> wait for acks -> write checkpoints).

import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import type { Histogram, Registry } from '../observe/prometheus.ts';
import type { AgentConfig } from '../config/load.ts';
import type { ComponentContext, Encoder, Processor, Sink, Source } from '../core/component.ts';
import type { Logger } from '../observe/log.ts';
import { Health } from '../observe/health.ts';
import { startHealthServer, startHttpServer, type HttpServerHandle } from '../observe/http-server.ts';
import { counter, createRegistry, histogram } from '../observe/metrics.ts';
import { gcFunction, IdleHeapTrim, QUIET_RECORDS } from '../observe/idle-heap-trim.ts';
import { deadLetterFor } from './dead-letter.ts';
import { PipelineEvents } from './events.ts';
import { Pipeline } from './pipeline.ts';
// Types only: the guard and the capability probe are loaded when a `guard:`
// section enables the guard (6 MB of RSS imported into a bare Node process;
// less in the agent, which already loads much of what they import).
import type { GuardController } from '../native/guard.ts';
import { mallocTrim } from '../native/lib.ts';
import type { GuardConfig } from '../native/guard-config.ts';
import { WorkerMetricsHub } from './workers/metrics-mirror.ts';
import { DataDirLock } from '../config/data-dir-lock.ts';
import { describeStartFailure } from './start-failure.ts';

// Quiet this long (fewer than QUIET_RECORDS records) before the heap is trimmed: V8's own memory
// reducer had not shrunk the young generation 12 s after the last record.
const IDLE_TRIM_WINDOW_MS = 10_000;

export interface AgentOptions {
  readonly log: Logger;
  readonly registry?: Registry;
  /** Override observe.listen (tests use 127.0.0.1:0). */
  readonly listen?: string;
  /** How long the agent must stay quiet before its heap trim (default IDLE_TRIM_WINDOW_MS; tests shorten it). */
  readonly idleTrimWindowMs?: number;
}

interface RunningPipeline { pipeline: Pipeline; sources: Source[]; sourceIds: string[]; sink: Sink }

export class Agent {
  readonly health: Health;
  readonly registry: Registry;
  readonly log: Logger;
  private cfg: AgentConfig;
  private running: RunningPipeline[] = [];
  private http: HttpServerHandle | null = null;
  /** The load balancer's /readyz-only port (observe.health_listen), when configured. */
  private healthPort: HttpServerHandle | null = null;
  private watch: NodeJS.Timeout | null = null;
  private gc: PerformanceObserver | null = null;
  private gcPauses: Histogram<'kind' | 'thread'> | null = null;
  /** One full GC when the agent goes quiet (observe/idle-heap-trim.ts); null where gc() is not available. */
  private idleTrim: IdleHeapTrim | null = null;
  private readonly idleTrimWindowMs: number;
  private stopped: Promise<void> | null = null;
  private guard: GuardController | null = null;
  /** Held from start to the end of stop: one agent per data_dir. */
  private lock: DataDirLock | null = null;
  /** Mirrors the processing workers' metrics into the registry (one hub for the agent's life: counters survive reloads). */
  private readonly workerMetrics: WorkerMetricsHub;

  constructor(cfg: AgentConfig, opts: AgentOptions) {
    this.cfg = cfg;
    this.log = opts.log;
    this.registry = opts.registry ?? createRegistry();
    this.idleTrimWindowMs = opts.idleTrimWindowMs ?? IDLE_TRIM_WINDOW_MS;
    this.health = new Health(this.log);
    this.workerMetrics = new WorkerMetricsHub(this.registry);
  }

  get httpAddress(): string | null { return this.http?.address ?? null; }
  get pipelines(): readonly Pipeline[] { return this.running.map((r) => r.pipeline); }
  /** The sink instance of each pipeline (drills and tests subscribe to failover events). */
  get sinks(): ReadonlyMap<string, Sink> { return new Map(this.running.map((r) => [r.pipeline.id, r.sink])); }
  /** The source instances of each pipeline, in config order (tests). */
  get sources(): ReadonlyMap<string, readonly Source[]> { return new Map(this.running.map((r) => [r.pipeline.id, r.sources])); }

  async start(listen?: string): Promise<void> {
    // Before anything is read or bound: a second agent on this data_dir exits here, naming the holder.
    this.lock = DataDirLock.acquire(this.cfg.agent.dataDir);
    try {
      this.observeGc();
      const addr = listen ?? this.cfg.observe.listen;
      this.http = await startHttpServer(addr, this.registry, this.health, this.log)
        .catch((err: unknown) => { throw describeStartFailure(err, listen ? '--listen' : 'observe.listen', addr); });
      const healthAddr = this.cfg.observe.healthListen;
      if (healthAddr) {
        this.healthPort = await startHealthServer(healthAddr, this.health, this.log)
          .catch((err: unknown) => { throw describeStartFailure(err, 'observe.health_listen', healthAddr); });
      }
      await this.applyGuard(this.cfg.guard);
      await this.startPipelines();
    } catch (err) {
      // Leave nothing behind that keeps the process alive or the data_dir locked.
      await this.stopPipelines(Date.now() + 2000).catch(() => undefined);
      this.closeGuard(false);
      this.gc?.disconnect();
      await this.http?.close();
      this.http = null;
      await this.healthPort?.close();
      this.healthPort = null;
      this.lock.release();
      this.lock = null;
      throw err;
    }
    this.startIdleTrim();
    this.watch = setInterval(() => { this.checkHealth(); this.idleTrim?.tick(Date.now()); }, 1000);
    this.watch.unref();
    this.health.markStarted();
    const a = this.cfg.agent;
    this.log.info('agent started', { id: a.id, role: a.role, pipelines: this.running.length, worker_threads: a.workerThreads, http: this.http.address });
  }

  /**
   * Applies a new, already validated config: the running pipelines stop the way
   * they stop at shutdown (stop reading, flush, wait for acks, write
   * checkpoints), then the new ones start from those checkpoints, so nothing is
   * lost or sent twice. The HTTP endpoints and the metrics registry stay up.
   */
  async reload(next: AgentConfig): Promise<void> {
    if (this.stopped) throw new Error('agent is stopping');
    const t0 = Date.now();
    // A new data_dir is locked before the running pipelines stop, so a refused reload changes nothing.
    const newLock = next.agent.dataDir !== this.cfg.agent.dataDir ? DataDirLock.acquire(next.agent.dataDir) : null;
    this.health.set('reload', 'degraded', 'reloading config');
    await this.stopPipelines(Date.now() + next.agent.shutdownTimeoutMs);
    if (newLock) { this.lock?.release(); this.lock = newLock; }
    this.cfg = next;
    await this.applyGuard(next.guard);
    await mkdir(next.agent.dataDir, { recursive: true });
    await this.startPipelines();
    this.health.set('reload', 'ok', '');
    this.log.info('config reloaded', { pipelines: this.running.length, took_ms: Date.now() - t0 });
  }

  private async startPipelines(): Promise<void> {
    const a = this.cfg.agent;
    const ctx = (id: string): ComponentContext => ({
      id, log: this.log.child({ component: id }), metrics: this.registry, dataDir: a.dataDir, deadLetterMaxBytes: a.deadLetterMaxBytes,
      agentId: a.id, host: hostname(), service: a.service, site: a.site,
    });
    const running: RunningPipeline[] = [];
    const threads = a.workerThreads;
    for (const pc of this.cfg.pipelines) {
      // With worker threads the stages are built there (and count there); none run here.
      const processors = threads > 0 ? [] : pc.processors.map((c) => c.spec.create(c.config, ctx(c.id)) as Processor);
      const encoder = pc.sink.encoder.spec.create(pc.sink.encoder.config, ctx(pc.sink.id)) as Encoder;
      const sink = pc.sink.spec.create(pc.sink.config, ctx(pc.sink.id)) as Sink;
      const pipeline = new Pipeline({
        id: pc.id, processors, encoder, sink, delivery: pc.sink.delivery,
        deadLetter: deadLetterFor(ctx(pc.sink.id), pc.sink.id),
        events: new PipelineEvents(pc.id, this.registry, this.log.child({ pipeline: pc.id })),
        log: this.log.child({ pipeline: pc.id }),
      });
      if (threads > 0) {
        await pipeline.useWorkers({
          workers: threads,
          processors: pc.processors.map((c) => ({ id: c.id, path: c.path, type: c.spec.type, raw: c.raw })),
          encoder: { id: pc.sink.encoder.id, path: pc.sink.encoder.path, type: pc.sink.encoder.spec.type, raw: pc.sink.encoder.raw },
          hub: this.workerMetrics,
          ctx: { dataDir: a.dataDir, deadLetterMaxBytes: a.deadLetterMaxBytes, agentId: a.id, host: hostname(), service: a.service, site: a.site },
          logLevel: this.cfg.observe.logLevel, logFormat: this.cfg.observe.logFormat,
          onGc: (pauses) => { for (const [kind, ms] of pauses) this.gcPauses?.observe({ kind, thread: 'worker' }, ms / 1000); },
        });
      }
      const sources = pc.sources.map((c) => c.spec.create(c.config, ctx(c.id)) as Source);
      if (sink.onEvent) this.streamRouteEvents(pc.sink.id, sink.onEvent.bind(sink));
      running.push({ pipeline, sources, sourceIds: pc.sources.map((c) => c.id), sink });
    }
    this.running = running;
    for (const r of running) {
      for (const [i, s] of r.sources.entries()) {
        await s.start(r.pipeline).catch((err: unknown) => { throw describeStartFailure(err, `sources.${r.sourceIds[i]}`, ''); });
      }
    }
  }

  private async stopPipelines(deadline: number): Promise<void> {
    // 1. Stop reading; sources emit what is complete (e.g. unterminated last lines).
    await Promise.all(this.running.flatMap((r) => r.sources.map((s) => s.stop().catch((err) => this.log.error('source stop failed', { error: (err as Error).message })))));
    // 2. Flush and wait for acknowledgements.
    await Promise.all(this.running.map((r) => r.pipeline.stop(Math.max(0, deadline - Date.now() - 500))));
    // 3. Let sources persist their final checkpoints.
    await Promise.all(this.running.flatMap((r) => r.sources.map((s) => s.drain?.(Math.max(100, deadline - Date.now())).catch(() => undefined))));
    // A source that is gone (reload) no longer holds readiness down.
    for (const r of this.running) r.sources.forEach((s, i) => { for (const c of s.health?.() ?? []) this.health.set(`source:${r.sourceIds[i]}/${c.check}`, 'ok', ''); });
    this.running = [];
  }

  /** Orderly shutdown within agent.shutdown_timeout. Safe to call more than once. */
  stop(): Promise<void> {
    this.stopped ??= this.doStop();
    return this.stopped;
  }

  private async doStop(): Promise<void> {
    const deadline = Date.now() + this.cfg.agent.shutdownTimeoutMs;
    this.health.markStopping();
    if (this.watch) clearInterval(this.watch);
    this.log.info('agent stopping', { timeout_ms: this.cfg.agent.shutdownTimeoutMs });
    await this.stopPipelines(deadline);
    this.closeGuard(false);
    this.gc?.disconnect();
    await this.http?.close();
    await this.healthPort?.close();
    this.healthPort = null;
    this.lock?.release();
    this.lock = null;
    this.log.info('agent stopped');
  }

  /** Every circuit transition, failover and failback becomes a state change on /health/stream at once. */
  private streamRouteEvents(sinkId: string, onEvent: NonNullable<Sink['onEvent']>): void {
    onEvent((e) => {
      if (e.kind === 'breaker') {
        this.health.set(`circuit:${sinkId}/${e.cluster}`, e.to === 'closed' ? 'ok' : 'degraded', e.to === 'closed' ? '' : `circuit ${e.to}: ${e.reason}`);
      } else {
        this.health.set(`route:${sinkId}`, e.kind === 'failback' ? 'ok' : 'degraded', e.kind === 'failback' ? '' : `failed over ${e.from} -> ${e.to}: ${e.reason}`);
      }
    });
  }

  /** Exposed for tests and drills: the running guard, if any. */
  get guardController(): GuardController | null { return this.guard; }

  /**
   * Starts, updates (live rule diff, no reattach) or stops the eBPF guard.
   * Without the native library or privileges the agent runs unguarded: one
   * log line, edgelog_native_available{feature="guard"} 0, and /readyz degraded.
   */
  private async applyGuard(g: GuardConfig): Promise<void> {
    if (!g.enabled) { this.closeGuard(true); return; }
    if (this.guard && this.guard.ifname !== g.interface) this.closeGuard(true);
    try {
      if (!this.guard) {
        const [{ GuardController }, { useNative }] = await Promise.all([import('../native/guard.ts'), import('../native/capabilities.ts')]);
        // Under the systemd unit a privileged ExecStartPre attached and pinned it; we hold no capability.
        if (!GuardController.usesPins(g.interface, g.pinRoot) && !useNative('guard', { log: this.log, metrics: this.registry })) {
          this.health.set('guard', 'degraded', 'eBPF guard unavailable on this host (see edgelog doctor)');
          return;
        }
        this.guard = GuardController.open(g.interface, { pinRoot: g.pinRoot, log: this.log });
        this.guard.registerMetrics(this.registry);
      }
      const r = this.guard.applyRules(g.rules);
      if (!this.guard.attached) this.guard.attach();
      this.health.set('guard', 'ok', '');
      this.log.info('guard rules applied', { interface: g.interface, ...r });
    } catch (err) {
      this.health.set('guard', 'degraded', `guard failed: ${(err as Error).message}`);
      this.log.error('guard failed; running unguarded', { interface: g.interface, error: (err as Error).message });
    }
  }

  /** Pinned guards stay attached across agent restarts (the kernel keeps enforcing); others are detached. */
  private closeGuard(detach: boolean): void {
    if (!this.guard) return;
    try {
      if (detach || !this.cfg.guard.pinRoot) this.guard.detach();
      this.guard.close();
    } catch (err) {
      this.log.warn('guard close failed', { error: (err as Error).message });
    }
    this.guard = null;
  }

  private checkHealth(): void {
    for (const r of this.running) {
      const wf = r.pipeline.workerFailure;
      if (wf) this.health.set(`workers:${r.pipeline.id}`, 'degraded', wf);
      const h = r.sink.health?.();
      if (h) this.health.set(`sink:${r.pipeline.id}`, h.ready ? 'ok' : 'degraded', h.reason);
      r.sources.forEach((s, i) => {
        for (const c of s.health?.() ?? []) this.health.set(`source:${r.sourceIds[i]}/${c.check}`, c.degraded ? 'degraded' : 'ok', c.degraded);
      });
    }
  }

  private startIdleTrim(): void {
    const gc = gcFunction();
    if (!gc) { this.log.debug('no gc() on this runtime: the heap is not trimmed when the agent goes quiet'); return; }
    const trims = counter(this.registry, 'edgelog_runtime_idle_gc_total', `Full garbage collections run because the agent went quiet (fewer than ${QUIET_RECORDS} records received over ${this.idleTrimWindowMs / 1000} s): they hand back what the last burst grew the heap to, and the buffers kept for reuse (free chunk slabs, value slabs, compressed frames).`);
    const activity = () => { let n = 0; for (const r of this.running) n += r.pipeline.events.receivedRecords; return n; };
    const collect = () => {
      // What is kept only for reuse (free slabs, frames, scratch) goes first, so this collection frees it.
      for (const r of this.running) {
        for (const s of r.sources) s.trim?.();
        r.pipeline.trim();
      }
      gc({ type: 'major', execution: 'sync' });
      // Then the C heap's free pages (native/lib.ts); a no-op without the native library or glibc.
      mallocTrim();
      trims.inc();
    };
    this.idleTrim = new IdleHeapTrim(activity, this.idleTrimWindowMs, collect, Date.now());
  }

  private observeGc(): void {
    const h = histogram(this.registry, 'edgelog_runtime_gc_pause_seconds', 'Garbage collection pauses observed through perf_hooks, by kind and thread (main, or a processing worker).',
      [0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5], ['kind', 'thread']);
    this.gcPauses = h;
    const kinds: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb' };
    this.gc = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const kind = kinds[((e as unknown as { detail?: { kind?: number } }).detail)?.kind ?? 0] ?? 'other';
        h.observe({ kind, thread: 'main' }, e.duration / 1000);
      }
    });
    this.gc.observe({ entryTypes: ['gc'] });
  }
}
