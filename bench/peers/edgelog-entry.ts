// Entry the bench forks for edgelog: the real CLI (`edgelog run --config`),
// plus two bench-only additions in the same process:
//  - every GC pause (perf_hooks) is kept and written to $EDGELOG_BENCH_GC_FILE
//    at exit, so the GC p99 is exact rather than read from histogram buckets;
//  - when agent/registry.ts does not list the Kafka sink and the encoders yet
//    (they were being registered while this bench was written), they are
//    added to the table here. A no-op once the registry lists them.

import { writeFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { allSpecs, findSpec } from '../../agent/registry.ts';
import { kafkaSink } from '../../agent/sinks/kafka/sink.ts';
import { otlpProtoEncoder, jsonEncoder, rawEncoder } from '../../agent/encoders/index.ts';
import type { ComponentSpec } from '../../agent/core/component.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const table = allSpecs() as ComponentSpec<any, any>[];
// eslint-disable-next-line @typescript-eslint/no-explicit-any
for (const spec of [kafkaSink, otlpProtoEncoder, jsonEncoder, rawEncoder] as ComponentSpec<any, any>[]) {
  if (!findSpec(spec.kind, spec.type)) table.push(spec);
}

const gcFile = process.env.EDGELOG_BENCH_GC_FILE;
if (gcFile) {
  const pauses: number[] = [];
  const obs = new PerformanceObserver((list) => { for (const e of list.getEntries()) pauses.push(e.duration); });
  obs.observe({ entryTypes: ['gc'] });
  process.on('exit', () => { try { writeFileSync(gcFile, JSON.stringify(pauses)); } catch { /* best effort */ } });
}

await import('../../agent/cli/main.ts');
