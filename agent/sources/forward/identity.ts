// Identity fields of relayed records come from the authenticated connection,
// not from what the sender wrote into its payload. An edge agent puts its id
// into the OTLP Resource (`edgelog.agent.id`), which the relay carries as
// `edgelog.resource.edgelog.agent.id` (PROTOCOL.md section 9). A record that
// claims another agent id - in the resource or as a record attribute - is
// the signature of a forged or confused sender: the whole batch is refused.
// Otherwise every record is stamped with the authenticated id, so consumers
// can key on it.
//
// `host.name` is the other name consumers key on (dashboards, alerts), and a
// sender may legitimately differ there (agent.id `shop-0042` on host `pos-7`),
// so it is not refused but overwritten: the relayed `host.name` is the
// authenticated identity, and a different claim survives only under the
// labelled key `edgelog.sender.host.name` (as `edgelog.resource.edgelog.
// sender.host.name`, lifted into the Resource by the relay's encoder). A
// forged HELLO can thus never put another site's name into `host.name`.

import type { LogRecord } from '../../core/record.ts';
import { RESOURCE_ATTR_PREFIX } from '../../forward/logs-decode.ts';

const AGENT_ATTR = 'edgelog.agent.id';
const RELAYED_AGENT_ATTR = `${RESOURCE_ATTR_PREFIX}${AGENT_ATTR}`;
const HOST_ATTR = 'host.name';
const RELAYED_HOST_ATTR = `${RESOURCE_ATTR_PREFIX}${HOST_ATTR}`;
/** Where a sender's own, differing host.name claim is kept (unauthenticated, for information). */
export const SENDER_HOST_ATTR = `${RESOURCE_ATTR_PREFIX}edgelog.sender.host.name`;

/**
 * Returns the first foreign agent id claimed by a record (batch must be refused), or null after
 * stamping `identity` on every record as agent id and host.name. `onHostRewritten` is called with
 * the number of records whose claimed host.name differed from the identity.
 */
export function enforceIdentity(records: LogRecord[], identity: string, onHostRewritten?: (n: number) => void): string | null {
  for (const r of records) {
    const a = r.attributes;
    if (a === null) continue;
    const relayed = a[RELAYED_AGENT_ATTR];
    if (relayed !== undefined && relayed !== identity) return String(relayed);
    const own = a[AGENT_ATTR];
    if (own !== undefined && own !== identity) return String(own);
  }
  let rewritten = 0;
  for (const r of records) {
    const a = (r.attributes ??= {});
    a[RELAYED_AGENT_ATTR] = identity;
    // The resource's host.name (relayed) or a record attribute host.name: either is a claim.
    const claimed = a[RELAYED_HOST_ATTR] ?? a[HOST_ATTR];
    if (claimed !== undefined && claimed !== identity) {
      a[SENDER_HOST_ATTR] = claimed;
      rewritten++;
    }
    delete a[HOST_ATTR];
    a[RELAYED_HOST_ATTR] = identity;
  }
  if (rewritten > 0) onHostRewritten?.(rewritten);
  return null;
}
