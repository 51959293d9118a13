// The rows of agent/COMPONENTS.md that are generated from declared sections
// (agent/config/declare.ts) rather than written by hand. `renderReference`
// puts each declaration's rows in place of the block of rows under its
// prefix; test/config/reference-rows.test.ts fails when the file differs
// from what it renders. To regenerate: node agent/config/reference-rows.ts --write

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Section } from './declare.ts';
import { observeSection } from './observe-section.ts';
import { agentSection, pipelineSection, topSection } from './load.ts';
import { sinkCommonSection } from './sink-common.ts';
import { guardSection } from '../native/guard-config.ts';
import { kafkaSinkSection } from '../sinks/failover/kafka-clusters.ts';
import { forwardSourceSection } from '../sources/forward/config.ts';
import { forwardSinkSection } from '../sinks/forward/config.ts';
import { otlpProtoSection } from '../encoders/otlp/otlp-proto.ts';
import { keyOnlySection } from '../encoders/key.ts';
import { jsonDecoderSection } from '../decoders/json/json.ts';
import { logfmtDecoderSection } from '../decoders/logfmt.ts';
import { regexDecoderSection } from '../decoders/regex.ts';
import { syslogDecoderSection } from '../decoders/syslog.ts';
import { multilineSection } from '../transforms/multiline/config.ts';
import { filterSection } from '../transforms/filter.ts';
import { redactSection } from '../transforms/redact.ts';
import { validateSection } from '../transforms/validate.ts';
import { sampleSection } from '../transforms/sample.ts';
import { enrichSection } from '../transforms/enrich.ts';
import { renameSection } from '../transforms/rename.ts';
import { throttleSection } from '../transforms/throttle.ts';
import { tcpSection } from '../sources/tcp/tcp-source.ts';
import { syslogSection } from '../sources/syslog/syslog-source.ts';
import { fileSourceSection } from '../sources/file/config.ts';

/** One row of a COMPONENTS.md table. */
export interface ReferenceRow {
  readonly key: string;
  readonly type: string;
  readonly def: string;
  readonly meaning: string;
}

/**
 * The reference's tables by section id: `source:file`, `decoder:json`,
 * `transform:filter`, `encoder:raw`, `sink:kafka`, `top:agent`, `top` (the
 * top-level keys) and `sink-common` (keys every sink takes).
 */
export function readReference(text = readFileSync(referenceFile, 'utf8')): Map<string, ReferenceRow[]> {
  const sections = new Map<string, ReferenceRow[]>();
  let current: ReferenceRow[] | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('## ')) { current = null; continue; }
    if (line.startsWith('### ')) {
      const h = line.slice(4).trim();
      const id = sectionId(h);
      if (!id) throw new Error(`agent/COMPONENTS.md: unrecognised section heading ${JSON.stringify(h)}`);
      current = [];
      sections.set(id, current);
      continue;
    }
    const row = /^\| `([^`]+)` \|([^|]*)\|([^|]*)\|(.*)\|\s*$/.exec(line);
    if (row && current) current.push({ key: row[1]!, type: row[2]!.trim(), def: row[3]!.trim(), meaning: row[4]!.trim() });
  }
  return sections;
}

export function sectionId(heading: string): string | null {
  let m = /^`([\w.-]+)` \((source|decoder|transform|encoder|sink)\)$/.exec(heading);
  if (m) return `${m[2]}:${m[1]}`;
  m = /^`(\w+)` \(top level\)$/.exec(heading);
  if (m) return `top:${m[1]}`;
  if (heading === 'Top-level keys') return 'top';
  if (heading.startsWith('Every sink:')) return 'sink-common';
  return null;
}

/** The declaration of a whole section (placed with no prefix): `source:tcp`, `top:agent`, `sink-common`. */
export function declaredSection(id: string): Section<unknown> {
  const p = placements.find((x) => x.section === id && x.prefix === '');
  if (!p) throw new Error(`config section ${id} has no declaration (agent/config/reference-rows.ts placements)`);
  return p.decl;
}

interface Placement {
  /** Reference section id (json-schema.ts `sectionId`): `source:tcp`. */
  readonly section: string;
  /** Where the declared keys sit in that section: `spool.` for the nested map `spool`. */
  readonly prefix: string;
  readonly decl: Section<unknown>;
}

function place<T>(decl: Section<T>, prefix: string, ...sections: string[]): Placement[] {
  return sections.map((section) => ({ section, prefix, decl: decl as Section<unknown> }));
}

/** Every declared section and where its rows go. */
export const placements: readonly Placement[] = [
  ...place(fileSourceSection, '', 'source:file'),
  ...place(tcpSection, '', 'source:tcp'),
  ...place(syslogSection, '', 'source:syslog'),
  ...place(forwardSourceSection, '', 'source:forward'),
  ...place(kafkaSinkSection, '', 'sink:kafka'),
  ...place(forwardSinkSection, '', 'sink:forward'),
  ...place(topSection, '', 'top'),
  ...place(agentSection, '', 'top:agent'),
  ...place(observeSection, '', 'top:observe'),
  ...place(pipelineSection, '', 'top:pipelines'),
  ...place(guardSection, '', 'top:guard'),
  ...place(sinkCommonSection, '', 'sink-common'),
  ...place(otlpProtoSection, '', 'encoder:otlp_proto'),
  ...place(keyOnlySection, '', 'encoder:json', 'encoder:raw'),
  ...place(jsonDecoderSection, '', 'decoder:json'),
  ...place(logfmtDecoderSection, '', 'decoder:logfmt'),
  ...place(regexDecoderSection, '', 'decoder:regex'),
  ...place(syslogDecoderSection, '', 'decoder:syslog'),
  ...place(multilineSection, '', 'transform:multiline'),
  ...place(filterSection, '', 'transform:filter'),
  ...place(redactSection, '', 'transform:redact'),
  ...place(validateSection, '', 'transform:validate'),
  ...place(sampleSection, '', 'transform:sample'),
  ...place(enrichSection, '', 'transform:enrich'),
  ...place(renameSection, '', 'transform:rename'),
  ...place(throttleSection, '', 'transform:throttle'),
];

export const referenceFile = fileURLToPath(new URL('../COMPONENTS.md', import.meta.url));

/** `text` with every placed block replaced by its declaration's rows; throws when a placement has no rows to replace. */
export function renderReference(text: string): string {
  const lines = text.split('\n');
  for (const p of placements) {
    let current: string | null = null;
    let first = -1;
    let last = -1;
    lines.forEach((line, i) => {
      if (line.startsWith('## ')) current = null;
      else if (line.startsWith('### ')) current = sectionId(line.slice(4).trim());
      else if (current === p.section && line.startsWith(`| \`${p.prefix}`)) {
        if (first < 0) first = i;
        last = i;
      }
    });
    if (first < 0) throw new Error(`agent/COMPONENTS.md: section ${p.section} has no rows under ${p.prefix} to generate`);
    const rows = p.decl.rows(p.prefix).map((r) => `| \`${r.key}\` | ${r.type} | ${r.def} | ${r.meaning} |`);
    lines.splice(first, last - first + 1, ...rows);
  }
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--write')) {
  writeFileSync(referenceFile, renderReference(readFileSync(referenceFile, 'utf8')));
}
