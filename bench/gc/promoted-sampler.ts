// Preload for a process under test (`node --import ./bench/gc/promoted-sampler.ts`,
// through EDGELOG_BENCH_NODE_FLAGS for the bench's edgelog): V8's sampling
// heap profiler keeping only objects that survived the young generation, so
// the profile written at exit is where the bytes the GC promoted were
// allocated. Promoted bytes fill the old generation and bring on the
// mark-compacts whose pauses set the GC p99. One sample per 4 KiB allocated.
//
// Output: $EDGELOG_PROMOTED_OUT (default /tmp/edgelog-promoted-<pid>.json),
// a Chrome DevTools heap profile; bench/gc/promoted-report.ts sums it by
// allocation site.

import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';

const session = new Session();
session.connect();
session.post('HeapProfiler.enable');
session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: false });
const out = process.env.EDGELOG_PROMOTED_OUT ?? `/tmp/edgelog-promoted-${process.pid}.json`;
let written = false;
process.on('exit', () => {
  if (written) return;
  written = true;
  // The in-process inspector session answers synchronously, so this works in an exit handler.
  session.post('HeapProfiler.stopSampling', (err, r) => { if (!err && r) writeFileSync(out, JSON.stringify(r.profile)); });
});
