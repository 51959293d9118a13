// Latency-run writer (a child process, so its work does not disturb the
// bench's own event loop): appends workload lines carrying their write time
// to a file (or FIFO) at a fixed rate for a fixed time, then reports over IPC.
//
//   node bench/writer.ts <out> <workload> <lines/s> <seconds>

import { closeSync, openSync, writeSync } from 'node:fs';
import { splitTemplates, WT_WIDTH, type WorkloadName } from './workload.ts';

const [out, workload, rateArg, secondsArg] = process.argv.slice(2);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
if (!out || !workload || !(rate > 0) || !(seconds > 0)) {
  console.error('usage: writer.ts <out> <workload> <lines/s> <seconds>');
  process.exit(2);
}

// Append mode: the tailing tools see a growing file exactly as with a real app.
const fd = openSync(out, 'a');
const templates = splitTemplates(workload as WorkloadName, 4096);
const tickMs = 5;
const started = performance.now();
let written = 0, bytes = 0;

function tick(): void {
  const elapsed = performance.now() - started;
  const due = Math.min(Math.floor((rate * Math.min(elapsed, seconds * 1000)) / 1000), Math.floor(rate * seconds));
  const n = due - written;
  if (n > 0) {
    // One write per tick; every line in it carries the time just before the write.
    const wt = (performance.timeOrigin + performance.now()).toFixed(3).padStart(WT_WIDTH, '0');
    const parts = new Array<string>(n);
    for (let k = 0; k < n; k++) { const t = templates[(written + k) & 4095]!; parts[k] = t[0] + wt + t[1]; }
    const b = Buffer.from(parts.join(''));
    writeSync(fd, b);
    written += n; bytes += b.length;
  }
  if (elapsed >= seconds * 1000) {
    closeSync(fd);
    process.send?.({ written, bytes });
    process.disconnect?.();
    return;
  }
  setTimeout(tick, tickMs);
}
tick();
