// enrich: add static labels and host facts to every record's attributes.
// Host facts are read once at start (they do not change under a running
// agent) and named after OpenTelemetry semantic conventions.

import { arch, hostname, platform } from 'node:os';
import type { ComponentContext, ComponentSpec, Processor } from '../core/component.ts';
import type { AttrValue, LogRecord } from '../core/record.ts';
import { flag, type Infer, section, stringMap, declaredComponent } from '../config/declare.ts';

/** The config, declared once (agent/config/declare.ts): type, reader, defaults and the COMPONENTS.md rows. */
export const enrichSection = section({
  labels: stringMap('labels', 'static attributes added to every record'),
  // On by default: an edge fleet's lines are useless in Kafka without the node they came from.
  host_facts: flag('host_facts', true, 'add `host.name`, `os.type`, `host.arch`, `edgelog.site`'),
  // Off: the line's own value (e.g. a service.name the app logged) wins, like Vector's add_fields with overwrite false.
  overwrite: flag('overwrite', false, 'replace attributes the record already has'),
});

export type EnrichConfig = Infer<typeof enrichSection>;
export const enrichDefaults: EnrichConfig = enrichSection.defaults;

/** OTel semantic-convention os.type values from Node's platform(). */
function osType(p: string): string { return p === 'win32' ? 'windows' : p === 'sunos' ? 'solaris' : p; }

export class Enrich implements Processor {
  private readonly keys: string[];
  private readonly vals: AttrValue[];
  private readonly overwrite: boolean;
  constructor(cfg: EnrichConfig, ctx: ComponentContext) {
    const add: Record<string, AttrValue> = {};
    if (cfg.host_facts) {
      add['host.name'] = ctx.host || hostname();
      add['os.type'] = osType(platform());
      add['host.arch'] = arch() === 'x64' ? 'amd64' : arch();
      if (ctx.site) add['edgelog.site'] = ctx.site;
    }
    Object.assign(add, cfg.labels);
    // Parallel arrays: the per-record loop is two indexed reads per label.
    this.keys = Object.keys(add);
    this.vals = this.keys.map((k) => add[k]!);
    this.overwrite = cfg.overwrite;
  }

  process(batch: LogRecord[], out: LogRecord[]): void {
    const keys = this.keys, vals = this.vals, n = keys.length;
    for (let r = 0; r < batch.length; r++) {
      const rec = batch[r]!;
      let a = rec.attributes;
      if (a === null) { a = {}; rec.attributes = a; }
      for (let i = 0; i < n; i++) {
        const k = keys[i]!;
        if (this.overwrite || a[k] === undefined) a[k] = vals[i]!;
      }
      out.push(rec);
    }
  }
}

export const enrich: ComponentSpec<EnrichConfig, Processor> = declaredComponent(enrichSection, {
  kind: 'processor',
  type: 'enrich',
  summary: 'Add static labels and host facts (host.name, os.type, host.arch) to every record.',
  create(cfg, ctx) { return new Enrich(cfg, ctx); },
});
