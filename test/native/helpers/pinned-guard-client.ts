// Runs as an unprivileged user with no capability (setpriv) against a guard a
// privileged step attached and pinned: `apply CIDR...` replaces the deny list
// through the pinned maps, `read` prints the counters. One JSON line on stdout.
import { readFileSync } from 'node:fs';
import { GuardController } from '../../../agent/native/guard.ts';

const [pinRoot, ifname, cmd, ...cidrs] = process.argv.slice(2);
const status = readFileSync('/proc/self/status', 'utf8');
const caps = Object.fromEntries([...status.matchAll(/^(Cap\w+):\s*([0-9a-f]+)$/gm)].map((m) => [m[1], m[2]]));
const usesPins = GuardController.usesPins(ifname!, pinRoot);
const g = GuardController.open(ifname!, { pinRoot });
try {
  const applied = cmd === 'apply' ? g.applyRules({ deny: cidrs }) : undefined;
  process.stdout.write(`${JSON.stringify({ uid: process.getuid?.(), caps, usesPins, attached: g.attached, applied, counters: g.counters() })}\n`);
} finally {
  g.close();
}
