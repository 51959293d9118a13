// Identity fields of relayed records come from the authenticated connection,
// not from what the sender wrote into its payload. An edge agent puts its id
// into the OTLP Resource (`edgelog.agent.id`), which the relay carries as
// `edgelog.resource.edgelog.agent.id` (PROTOCOL.md section 9). A record that
// claims another agent id - in the resource or as a record attribute - is
// the signature of a forged or confused sender: the whole batch is refused.
// Otherwise every record is stamped with the authenticated id, so consumers
// can key on it.

import type { LogRecord } from '../../core/record.ts';
import { RESOURCE_ATTR_PREFIX } from '../../forward/logs-decode.ts';

const AGENT_ATTR = 'edgelog.agent.id';
const RELAYED_AGENT_ATTR = `${RESOURCE_ATTR_PREFIX}${AGENT_ATTR}`;

/** Returns the first foreign agent id claimed by a record (batch must be refused), or null after stamping `identity` on every record. */
export function enforceIdentity(records: LogRecord[], identity: string): string | null {
  for (const r of records) {
    const a = r.attributes;
    if (a === null) continue;
    const relayed = a[RELAYED_AGENT_ATTR];
    if (relayed !== undefined && relayed !== identity) return String(relayed);
    const own = a[AGENT_ATTR];
    if (own !== undefined && own !== identity) return String(own);
  }
  for (const r of records) (r.attributes ??= {})[RELAYED_AGENT_ATTR] = identity;
  return null;
}
