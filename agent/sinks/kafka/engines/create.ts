// The one place that picks the engine for a validated config (the sink and
// bench/engine-producer.ts both build theirs here, so the bench measures the
// code the sink runs).

import type { KafkaSinkConfig } from '../config.ts';
import type { EngineHooks, ProducerEngine } from '../producer.ts';
import { KafkajsEngine } from './kafkajs.ts';
import { PlatformaticEngine } from './platformatic.ts';

export function createEngine(cfg: KafkaSinkConfig, hooks: EngineHooks): ProducerEngine {
  switch (cfg.engine) {
    case 'kafkajs': return new KafkajsEngine(cfg, hooks);
    case 'platformatic': return new PlatformaticEngine(cfg, hooks);
  }
}
