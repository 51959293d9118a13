// The one place that picks the engine for a validated config (the sink and
// bench/engine-producer.ts both build theirs here, so the bench measures the
// code the sink runs). Each engine module is required on first use, so only
// the configured engine's client library is ever loaded (engine platformatic:
// no kafkajs, snappy or lz4-napi in the process). Node 24 requires an ES
// module synchronously, which keeps the sink's constructor synchronous.

import { createRequire } from 'node:module';
import type { KafkaSinkConfig } from '../config.ts';
import type { EngineHooks, ProducerEngine } from '../producer.ts';

const require = createRequire(import.meta.url);

export function createEngine(cfg: KafkaSinkConfig, hooks: EngineHooks): ProducerEngine {
  switch (cfg.engine) {
    case 'kafkajs': {
      const { KafkajsEngine } = require('./kafkajs.ts') as typeof import('./kafkajs.ts');
      return new KafkajsEngine(cfg, hooks);
    }
    case 'platformatic': {
      const { PlatformaticEngine } = require('./platformatic.ts') as typeof import('./platformatic.ts');
      return new PlatformaticEngine(cfg, hooks);
    }
    case 'builtin': {
      const { BuiltinEngine } = require('./builtin/builtin-engine.ts') as typeof import('./builtin/builtin-engine.ts');
      return new BuiltinEngine(cfg, hooks);
    }
  }
}
