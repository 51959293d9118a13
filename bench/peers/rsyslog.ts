// rsyslog (Debian package) : imfile -> omkafka, one raw line per Kafka
// message, lz4 like the others. Runs in the foreground (-n) with its own
// config, pid file and work dir; the system service is never used.

import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { aptInstall, hasCmd, killSystemDaemon, sh, spawnTool } from './proc.ts';
import type { Peer, PeerProcess, PeerRunOptions } from './types.ts';
import { writeTimeOf } from '../workload.ts';

function config(o: PeerRunOptions, work: string): string {
  return `# edgelog bench: rsyslog imfile -> omkafka
global(workDirectory="${work}" maxMessageSize="64k")
module(load="imfile" mode="inotify")
module(load="omkafka")
# The whole line, nothing added (imfile puts the line in rawmsg).
template(name="rawline" type="string" string="%rawmsg%")
main_queue(queue.type="FixedArray" queue.size="100000" queue.dequeueBatchSize="1024")
input(type="imfile" file="${o.input}" tag="bench" ruleset="tokafka" freshStartTail="off" reopenOnTruncate="on")
ruleset(name="tokafka" queue.type="FixedArray" queue.size="100000" queue.dequeueBatchSize="1024") {
  action(type="omkafka" broker=["${o.kafka.bootstrap}"] topic="${o.topic}" template="rawline"
         confParam=["compression.codec=lz4", "acks=all"])
}
`;
}

export const rsyslog: Peer = {
  name: 'rsyslog',
  encoding: 'raw line per message, lz4',
  async ensureInstalled(log) {
    // The package's postinst may have started the system daemon: it must not run during the bench.
    if (aptInstall(['rsyslog', 'rsyslog-kafka'], log)) killSystemDaemon('rsyslogd', log);
    if (!hasCmd('rsyslogd')) throw new Error('rsyslogd not found after install');
  },
  version() {
    try { return sh('rsyslogd', ['-v']).split('\n')[0]!.replace(/compiled with:.*/, '').replace(/\s+/g, ' ').trim(); } catch { return 'unknown'; }
  },
  async start(o): Promise<PeerProcess> {
    const work = join(o.dir, 'rsyslog-work');
    mkdirSync(work, { recursive: true });
    const conf = join(o.dir, 'rsyslog.conf');
    const text = config(o, work);
    writeFileSync(conf, text);
    const args = ['-n', '-f', conf, '-i', join(o.dir, 'rsyslog.pid')];
    const p = spawnTool('rsyslogd', args, join(o.dir, 'rsyslog.out'));
    return {
      pids: [p.pid], expandChildren: false,
      command: `rsyslogd ${args.join(' ')}`, config: text,
      delivered: () => o.kafka.endOffset(o.topic),
      exited: p.exited,
      stop: () => p.stop(),
    };
  },
  writeTimes: (v) => [writeTimeOf(v.toString('latin1'))],
};
