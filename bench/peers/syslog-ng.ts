// syslog-ng 3.38 (Debian packages): file() source with flags(no-parse) ->
// kafka-c() destination, one raw line per Kafka message, lz4.
//
// Debian's syslog-ng-core conflicts with rsyslog (installing one removes the
// other), so it is never installed: `apt-get download` fetches the .debs
// into .cache/peers/ (gitignored), `dpkg-deb -x` unpacks them into a private
// root, and the binary runs from there with LD_LIBRARY_PATH and
// --module-path. Its shared-library dependencies come from apt as ordinary
// libraries (no conflict).

import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aptInstall, sh, spawnTool } from './proc.ts';
import type { Peer, PeerProcess, PeerRunOptions } from './types.ts';
import { repoRoot, writeTimeOf } from '../workload.ts';

const cacheDir = join(repoRoot, '.cache/peers/syslog-ng');
const debDir = join(cacheDir, 'debs');
const root = join(cacheDir, 'root');
const binary = join(root, 'usr/sbin/syslog-ng');
const libDir = join(root, 'usr/lib/syslog-ng');
const moduleDir = join(libDir, '3.38');
const env = (): NodeJS.ProcessEnv => ({ ...process.env, LD_LIBRARY_PATH: libDir });

// Runtime libraries of syslog-ng-core and syslog-ng-mod-rdkafka (their Depends, minus syslog-ng-core itself).
const libs = ['libivykis0', 'libnet1', 'librdkafka1', 'libjson-c5', 'libwrap0', 'libglib2.0-0', 'libpcre3', 'libcap2', 'libssl3', 'libsystemd0'];

function config(o: PeerRunOptions): string {
  return `@version: 3.38
# edgelog bench: syslog-ng file() -> kafka-c()
options { stats-freq(0); log-fifo-size(100000); };
# no-parse: the whole line is $MSG; follow-freq 0.1 s polls the file for new data (default 1 s).
source s_in { file("${o.input}" flags(no-parse) follow-freq(0.1) log-fetch-limit(1000) log-iw-size(100000)); };
destination d_kafka {
  kafka-c(bootstrap-servers("${o.kafka.bootstrap}") topic("${o.topic}") message("$MSG")
          config("compression.codec" => "lz4", "acks" => "all"));
};
log { source(s_in); destination(d_kafka); flags(flow-control); };
`;
}

export const syslogNg: Peer = {
  name: 'syslog-ng',
  encoding: 'raw line per message, lz4',
  async ensureInstalled(log) {
    aptInstall(libs, log);
    if (existsSync(binary) && existsSync(join(moduleDir, 'libkafka.so'))) return;
    mkdirSync(debDir, { recursive: true });
    log('apt-get download syslog-ng-core syslog-ng-mod-rdkafka (private root; the package conflicts with rsyslog)');
    sh('sh', ['-c', `cd "${debDir}" && apt-get download syslog-ng-core syslog-ng-mod-rdkafka`]);
    mkdirSync(root, { recursive: true });
    for (const f of readdirSync(debDir).filter((x) => x.endsWith('.deb'))) sh('dpkg-deb', ['-x', join(debDir, f), root]);
    if (!existsSync(binary)) throw new Error(`syslog-ng binary missing after unpacking into ${root}`);
  },
  version() {
    try { return sh(binary, ['--version'], env()).split('\n')[0]!.trim(); } catch { return 'unknown'; }
  },
  async start(o): Promise<PeerProcess> {
    const conf = join(o.dir, 'syslog-ng.conf');
    const text = config(o);
    writeFileSync(conf, text);
    const args = ['-F', '--no-caps', '-f', conf, `--module-path=${moduleDir}`, '-R', join(o.dir, 'syslog-ng.persist'),
      '-c', join(o.dir, 'syslog-ng.ctl'), '-p', join(o.dir, 'syslog-ng.pid')];
    const p = spawnTool(binary, args, join(o.dir, 'syslog-ng.out'), { env: env() });
    return {
      pids: [p.pid], expandChildren: false,
      command: `LD_LIBRARY_PATH=${libDir} ${binary} ${args.join(' ')}`.replaceAll(repoRoot + '/', ''), config: text,
      delivered: () => o.kafka.endOffset(o.topic),
      exited: p.exited,
      stop: () => p.stop(),
    };
  },
  writeTimes: (v) => [writeTimeOf(v.toString('latin1'))],
};
