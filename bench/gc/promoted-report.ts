// Sums a heap profile written by promoted-sampler.ts by allocation site (the
// allocating frame and its two callers): where the promoted bytes come from.
// Usage: node bench/gc/promoted-report.ts PROFILE.json [TOP=30]

import { readFileSync } from 'node:fs';

interface Node { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: Node[] }

const [file, topArg] = process.argv.slice(2);
if (!file) { console.error('usage: node bench/gc/promoted-report.ts PROFILE.json [TOP]'); process.exit(2); }
const head = (JSON.parse(readFileSync(file, 'utf8')) as { head: Node }).head;
const bySite = new Map<string, number>();
const short = (u: string): string => u.replace(/^file:\/\/.*?\/(agent|bench|test)\//, '$1/').replace(/^.*node_modules\//, 'node_modules/');
const walk = (n: Node, stack: string[]): void => {
  const frames = [...stack, `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`];
  if (n.selfSize > 0) {
    const site = frames.slice(-3).reverse().join(' < ');
    bySite.set(site, (bySite.get(site) ?? 0) + n.selfSize);
  }
  for (const c of n.children) walk(c, frames);
};
walk(head, []);
const total = [...bySite.values()].reduce((a, b) => a + b, 0);
const mb = (b: number): string => (b / 2 ** 20).toFixed(2);
console.log(`promoted (sampled): ${mb(total)} MB`);
for (const [site, b] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg ?? 30))) {
  console.log(`${mb(b).padStart(7)} MB ${(100 * b / total).toFixed(1).padStart(5)} %  ${site}`);
}
