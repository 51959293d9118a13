// kafkajs 2.2.4 arms a setTimeout with a negative delay on each new
// connection (its RequestQueue starts with throttledUntil = -1), and Node 24
// prints a TimeoutNegativeWarning for it on stderr: harmless (the timer fires
// after 1 ms, as before), but a bare line in the middle of structured logs.
// This drops exactly that warning and passes every other one to the
// listeners that were there (Node's printer by default).

let installed = false;

export function filterKafkajsTimerWarning(): void {
  if (installed) return;
  installed = true;
  const previous = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('warning', (w: Error) => {
    if (w.name === 'TimeoutNegativeWarning') return;
    for (const l of previous) l.call(process, w);
  });
}
