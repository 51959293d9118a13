// The acknowledgement of a joined multiline record: a CompositeAck (core/ack.ts)
// over the AckGroups of the lines it joins. The composite lives in core so the
// pipeline and its worker threads handle it like any acknowledgement; this
// name stays for the multiline transform and its tests.

export { CompositeAck as JoinedAck } from '../../core/ack.ts';
