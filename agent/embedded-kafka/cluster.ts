// Embedded Apache Kafka for tests, the demo and benchmarks: one single-node
// KRaft cluster (broker and controller in one JVM) per call, on loopback with
// free ports, from the jars .ci/setup.sh copied out of Maven Central.
//
// No orphan JVMs, by three layers:
//   1. stop() / kill() from the caller (tests use t.after / finally);
//   2. process 'exit' (and SIGINT/SIGTERM when nobody else handles them)
//      kills every JVM this process started, synchronously;
//   3. a bash watchdog started next to each JVM polls the parent pid and
//      kills the JVM (and removes its temp data) when the parent is gone,
//      which covers SIGKILL of the Node process where no handler runs.

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import type { Admin, ITopicConfig, Kafka as KafkaClient, LogEntry, logCreator } from 'kafkajs';
import { silentLogger, type Logger } from '../observe/log.ts';
import { filterKafkajsTimerWarning } from '../sinks/kafka/warnings.ts';
import { registerCodecs } from '../sinks/kafka/codecs.ts';
import { compileOAuthValidator, OAUTH_VALIDATOR_CLASS, type MskIamValidation } from './oauth-validator.ts';

const { Kafka, logLevel } = kafkajs;

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Where .ci/setup.sh puts the broker's runtime jars (mvn dependency:copy-dependencies). */
export const defaultJarsDir = join(repoRoot, '.cache/kafka/libs');

export interface KafkaClusterOptions {
  /** Label for logs and the temp dir name (e.g. `A`, `B`). */
  name?: string;
  /** Listener host; loopback by default. */
  host?: string;
  /** Broker listener port; a free one when omitted (9092 inside a netns). */
  port?: number;
  /** Controller listener port; a free one when omitted (port + 1 inside a netns). */
  controllerPort?: number;
  /**
   * Run the JVM inside this network namespace (`ip netns exec`), listening on
   * `host` there (an address of the namespace). The caller owns the namespace.
   */
  netns?: string;
  /** Keep data here (not removed by stop()); a temp dir removed on stop when omitted. */
  dataDir?: string;
  /** JVM heap (-Xmx). The brief budgets 512 MB per broker so two regions fit on two cores. */
  heapMb?: number;
  jarsDir?: string;
  log?: Logger;
  /**
   * Also listen with SASL_PLAINTEXT for these users (name -> password), with
   * PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 enabled: see `saslBootstrap`.
   */
  saslUsers?: Record<string, string>;
  /**
   * Also listen with TLS (SSL) using these PEM files (key in PKCS#8): see
   * `tlsBootstrap`. With clientCaFile, client certificates signed by it are required.
   */
  tls?: { certFile: string; keyFile: string; clientCaFile?: string };
  /**
   * Also listen with SASL + OAUTHBEARER (SASL_SSL when `tls` is given, with
   * its certificate, else SASL_PLAINTEXT), validated by the broker
   * (oauth-validator.ts): `mskIam` accepts only MSK IAM tokens signed with
   * this secret (`mskIamBootstrap`); `gcp` accepts Google Managed Kafka's
   * token wrapper around an RS256 JWT that verifies against `jwksUrl`
   * (`gcpOAuthBootstrap`).
   */
  oauth?: { mskIam?: MskIamValidation; gcp?: { jwksUrl: string } };
  /** Extra broker properties (override the defaults below). */
  props?: Record<string, string | number | boolean>;
  /** How long to wait for the broker to answer metadata, ms. */
  readyTimeoutMs?: number;
}

export interface KafkaCluster {
  readonly name: string;
  /** `host:port` of the broker listener. */
  readonly bootstrap: string;
  /** `host:port` of the SASL_PLAINTEXT listener when saslUsers was given. */
  readonly saslBootstrap?: string;
  /** `host:port` of the TLS listener when tls was given. */
  readonly tlsBootstrap?: string;
  /** `host:port` of the OAUTHBEARER listener for MSK IAM tokens when oauth.mskIam was given. */
  readonly mskIamBootstrap?: string;
  /** `host:port` of the OAUTHBEARER listener for GCP tokens when oauth.gcp was given. */
  readonly gcpOAuthBootstrap?: string;
  /** Pid of the broker JVM. */
  readonly pid: number;
  readonly dataDir: string;
  /** Broker log file (slf4j-simple output). */
  readonly logFile: string;
  /** Milliseconds from spawn of the storage format to the first metadata answer. */
  readonly startupMs: number;
  createTopic(name: string, partitions?: number): Promise<void>;
  /** Read a topic from the beginning (see consumeAll below). */
  consumeAll(topic: string, opts?: ConsumeOptions): Promise<ConsumedMessage[]>;
  /** SIGTERM, SIGKILL after a grace period; removes temp data unless dataDir was given. Idempotent. */
  stop(): Promise<void>;
  /** Send a signal to the JVM (e.g. SIGKILL to simulate a crashed broker, SIGSTOP to hang it). */
  kill(signal?: NodeJS.Signals): void;
}

// --- child bookkeeping for exit-time cleanup ------------------------------------

interface Child { proc: ChildProcess; tempDir: string | null; abort?: () => void }
const children = new Set<Child>();
let handlersInstalled = false;

function killAllSync(): void {
  for (const c of children) {
    try { c.proc.kill('SIGKILL'); } catch { /* already gone */ }
    try { c.abort?.(); } catch { /* best effort */ }
    if (c.tempDir) { try { rmSync(c.tempDir, { recursive: true, force: true }); } catch { /* best effort */ } }
  }
  children.clear();
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killAllSync();
      // When nobody else listens, our listener replaced Node's default
      // (exit on signal): restore that behaviour. Otherwise the owner of the
      // process decides (and calls stop()).
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, onSignal);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, onSignal);
  }
}

// --- helpers ----------------------------------------------------------------------

/** Ports this process handed out lately: two brokers starting at once must not get the same one. */
const handedOut: number[] = [];

/** A port the OS reports free right now (bind to 0, read it, close), not one this process handed out lately. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let i = 0; ; i++) {
    const port = await probePort(host);
    if (!handedOut.includes(port) || i >= 20) {
      handedOut.push(port);
      if (handedOut.length > 256) handedOut.shift();
      return port;
    }
  }
}

function probePort(host: string): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

/** KRaft cluster ids are 16 random bytes, base64url without padding (what `kafka-storage random-uuid` prints). */
function randomClusterId(): string {
  // One starting with '-' would be parsed as an option by the tool's argument parser.
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function kafkajsLogs(log: Logger): logCreator {
  return () => (entry: LogEntry) => {
    const { message, ...rest } = entry.log;
    log.debug(`kafkajs: ${message}`, { namespace: entry.namespace, ...rest });
  };
}

function adminClient(bootstrap: string, log: Logger, connectTimeoutMs = 1000): KafkaClient {
  filterKafkajsTimerWarning();
  return new Kafka({
    brokers: [bootstrap], clientId: 'edgelog-embedded-kafka', logLevel: logLevel.ERROR,
    logCreator: kafkajsLogs(log), connectionTimeout: connectTimeoutMs, retry: { retries: 0 },
  });
}

function tail(file: string, lines = 30): string {
  try { return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n'); } catch { return '(no log)'; }
}

/** The first lines of a log that say why a broker stopped (the tail is only its shutdown). */
function firstErrors(file: string, max = 5): string {
  try {
    return readFileSync(file, 'utf8').split('\n').filter((l) => /\b(ERROR|FATAL)\b|Exception/.test(l)).slice(0, max).join('\n');
  } catch { return ''; }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Broker settings for a one-node test cluster: replication factors of 1 for
 * the internal topics, no initial rebalance delay (consumers in tests join at
 * once), one partition by default, small segments and indexes so the data dir
 * stays small, and a short controlled-shutdown path.
 */
interface ListenerPlan {
  host: string; port: number; controllerPort: number; dataDir: string;
  sasl?: { port: number; users: Record<string, string> };
  tls?: { port: number; keystore: string; clientCaFile?: string };
  oauth?: { name: string; port: number; jaasOptions: Record<string, string> }[];
}

function brokerProps(o: ListenerPlan, extra: Record<string, string | number | boolean>): string {
  const listeners = [`PLAINTEXT://${o.host}:${o.port}`, `CONTROLLER://${o.host}:${o.controllerPort}`];
  const advertised = [`PLAINTEXT://${o.host}:${o.port}`];
  const protocols = ['PLAINTEXT:PLAINTEXT', 'CONTROLLER:PLAINTEXT'];
  const security: Record<string, string> = {};
  if (o.sasl) {
    listeners.push(`SASL_PLAINTEXT://${o.host}:${o.sasl.port}`);
    advertised.push(`SASL_PLAINTEXT://${o.host}:${o.sasl.port}`);
    protocols.push('SASL_PLAINTEXT:SASL_PLAINTEXT');
    security['sasl.enabled.mechanisms'] = 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512';
    // PLAIN users live in the JAAS line; SCRAM users are written into the metadata log at format time.
    const plainUsers = Object.entries(o.sasl.users).map(([u, pw]) => `user_${u}="${pw}"`).join(' ');
    security['listener.name.sasl_plaintext.plain.sasl.jaas.config'] = `org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};`;
    security['listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config'] = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
    security['listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config'] = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
  }
  if (o.tls) {
    listeners.push(`SSL://${o.host}:${o.tls.port}`);
    advertised.push(`SSL://${o.host}:${o.tls.port}`);
    protocols.push('SSL:SSL');
    security['listener.name.ssl.ssl.keystore.type'] = 'PEM';
    security['listener.name.ssl.ssl.keystore.location'] = o.tls.keystore;
    if (o.tls.clientCaFile) {
      security['listener.name.ssl.ssl.truststore.type'] = 'PEM';
      security['listener.name.ssl.ssl.truststore.location'] = o.tls.clientCaFile;
      security['listener.name.ssl.ssl.client.auth'] = 'required';
    }
  }
  for (const l of o.oauth ?? []) {
    const lower = l.name.toLowerCase();
    listeners.push(`${l.name}://${o.host}:${l.port}`);
    advertised.push(`${l.name}://${o.host}:${l.port}`);
    // With tls given, over TLS as the clouds offer it (MSK 9098, GCP 9092 are SASL_SSL).
    protocols.push(`${l.name}:${o.tls ? 'SASL_SSL' : 'SASL_PLAINTEXT'}`);
    if (o.tls) {
      security[`listener.name.${lower}.ssl.keystore.type`] = 'PEM';
      security[`listener.name.${lower}.ssl.keystore.location`] = o.tls.keystore;
    }
    security[`listener.name.${lower}.sasl.enabled.mechanisms`] = 'OAUTHBEARER';
    // The broker logs itself in on every SASL listener; the default (unsecured) login needs a subject.
    const opts = Object.entries({ unsecuredLoginStringClaim_sub: 'broker', ...l.jaasOptions }).map(([k, v]) => `${k}="${v}"`).join(' ');
    security[`listener.name.${lower}.oauthbearer.sasl.jaas.config`] = `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required ${opts};`;
    security[`listener.name.${lower}.oauthbearer.sasl.server.callback.handler.class`] = OAUTH_VALIDATOR_CLASS;
    if (l.jaasOptions.jwksUrl) security['sasl.oauthbearer.jwks.endpoint.url'] = l.jaasOptions.jwksUrl;
  }
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@${o.host}:${o.controllerPort}`,
    'listeners': listeners.join(','),
    'advertised.listeners': advertised.join(','),
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': protocols.join(','),
    ...security,
    'log.dirs': join(o.dataDir, 'data'),
    'num.partitions': 1,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 1, // default 50: 50 logs to create on the first consumer join
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 1, // default 50, same reason
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'group.initial.rebalance.delay.ms': 0,
    'log.segment.bytes': 16 * 1024 * 1024, // default 1 GiB; small segments keep test data dirs small
    'log.index.size.max.bytes': 1024 * 1024, // default 10 MiB preallocated per segment
    'log.retention.check.interval.ms': 60_000,
    'num.network.threads': 2, // default 3
    'num.io.threads': 2, // default 8; two cores on the test machines
    'num.recovery.threads.per.data.dir': 1,
    // Default 128 MiB, allocated when the log cleaner starts: a 256 MiB test broker restarted by
    // test/sinks/kafka/sink.test.ts died with OutOfMemoryError right after "Starting the log cleaner".
    // Only __consumer_offsets is compacted here; 16 MiB holds ~500K keys.
    'log.cleaner.dedupe.buffer.size': 16 * 1024 * 1024,
    'auto.create.topics.enable': true,
    'delete.topic.enable': true,
    'controlled.shutdown.enable': true,
    ...extra,
  };
  return Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
}

/** JVM flags: small fixed heap, quick start (no JIT warm-up beyond C1 for short-lived tools). */
function jvmArgs(heapMb: number, logFile: string): string[] {
  return [
    `-Xmx${heapMb}m`, `-Xms${Math.min(128, heapMb)}m`,
    '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    `-Dorg.slf4j.simpleLogger.logFile=${logFile}`,
    '-Dorg.slf4j.simpleLogger.defaultLogLevel=info',
    '-Dorg.slf4j.simpleLogger.showDateTime=true',
    // Kafka ships log4j-core for its own dynamic log-level API; no config is fine, keep it quiet.
    '-Dlog4j2.level=WARN', '-Dlog4j2.StatusLogger.level=OFF',
  ];
}

function runTool(args: string[], logFile: string): Promise<void> {
  return new Promise((res, rej) => {
    const fd = openSync(logFile, 'a');
    const p = spawn('java', args, { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    p.on('error', rej);
    p.on('exit', (code, sig) => {
      if (code === 0) res();
      else rej(new Error(`${args.find((a) => a.startsWith('kafka.')) ?? 'java'} exited ${code ?? sig}; log ${logFile}:\n${tail(logFile)}`));
    });
  });
}

// --- class-data sharing ------------------------------------------------------------
// Most of a broker's start is the JVM loading and verifying ~8k Kafka and
// Scala classes. The first broker that exits cleanly leaves a dynamic CDS
// archive of them (-XX:ArchiveClassesAtExit) next to the jars; later starts
// map it (-XX:SharedArchiveFile), which cut startup CPU by about 40% here.
// One creator at a time (lock file); a stale or unusable archive is removed
// and made again. EDGELOG_KAFKA_CDS=0 turns it off.

interface CdsPlan { args: string[]; archive: string | null; creating: boolean; done(proc: ChildProcess | null): void; abort(): void }

function cdsPlan(jarsDir: string): CdsPlan {
  const none: CdsPlan = { args: [], archive: null, creating: false, done() {}, abort() {} };
  if (process.env.EDGELOG_KAFKA_CDS === '0') return none;
  try {
    const jars = readdirSync(jarsDir).filter((f) => f.endsWith('.jar')).sort();
    const key = createHash('sha256').update(jars.join('\n')).update(process.env.JAVA_HOME ?? '').digest('hex').slice(0, 12);
    const dir = join(jarsDir, '..', 'cds');
    mkdirSync(dir, { recursive: true });
    const archive = join(dir, `kafka-${key}.jsa`);
    if (existsSync(archive)) {
      return {
        args: [`-XX:SharedArchiveFile=${archive}`, '-Xlog:cds=off,cds+dynamic=off'], archive, creating: false,
        done(proc) {
          // Mapped means used; otherwise (another JDK, changed jars) drop it so the next exit makes a new one.
          try {
            if (proc?.pid && !readFileSync(`/proc/${proc.pid}/maps`, 'utf8').includes(archive)) unlinkSync(archive);
          } catch { /* process gone or no /proc: keep it */ }
        },
        abort() {},
      };
    }
    for (const f of readdirSync(dir)) {
      // leftovers of creators that were killed mid-dump
      const full = join(dir, f);
      try { if (f.endsWith('.tmp') && Date.now() - statSync(full).mtimeMs > 15 * 60_000) unlinkSync(full); } catch { /* raced */ }
    }
    const lock = `${archive}.lock`;
    try {
      if (Date.now() - statSync(lock).mtimeMs > 15 * 60_000) unlinkSync(lock); // creator died
    } catch { /* no lock */ }
    let fd: number;
    try { fd = openSync(lock, 'wx'); } catch { return none; } // someone else is making it
    closeSync(fd);
    const tmp = `${archive}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    return {
      args: [`-XX:ArchiveClassesAtExit=${tmp}`, '-Xlog:cds=off,cds+dynamic=off'], archive: null, creating: true,
      done() {
        // Called after the JVM exited: a clean exit wrote the archive; a SIGKILL wrote nothing.
        try { if (existsSync(tmp) && statSync(tmp).size > 0) renameSync(tmp, archive); else rmSync(tmp, { force: true }); } catch { /* best effort */ }
        rmSync(lock, { force: true });
      },
      abort() {
        // This process is exiting and SIGKILLs the JVM: no archive this time.
        rmSync(tmp, { force: true });
        rmSync(lock, { force: true });
      },
    };
  } catch {
    return none;
  }
}

// Bash watchdog: runs until the parent (this Node process) or the JVM is
// gone; when the parent vanished first it stops the JVM and removes temp data.
const watchdogScript = `
parent=$1; jvm=$2; temp=$3
while kill -0 "$parent" 2>/dev/null; do
  kill -0 "$jvm" 2>/dev/null || exit 0
  sleep 1
done
kill -TERM "$jvm" 2>/dev/null
for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$jvm" 2>/dev/null || break; sleep 0.5; done
kill -KILL "$jvm" 2>/dev/null
sleep 0.2
[ -n "$temp" ] && rm -rf "$temp"
exit 0
`;

function startWatchdog(jvmPid: number, tempDir: string | null): void {
  const w = spawn('bash', ['-c', watchdogScript, 'edgelog-kafka-watchdog', String(process.pid), String(jvmPid), tempDir ?? ''], {
    stdio: 'ignore', detached: true,
  });
  w.on('error', () => { /* bash missing: layers 1 and 2 still apply */ });
  w.unref();
}

// --- start ------------------------------------------------------------------------

export async function startKafkaCluster(opts: KafkaClusterOptions = {}): Promise<KafkaCluster> {
  const attempts = opts.port === undefined ? 3 : 1;
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      last = err;
      // A free port can be taken between our probe and the JVM's bind: retry with new ports.
      if (!/Address already in use|BindException/.test(String((err as Error).message))) throw err;
    }
  }
  throw last;
}

async function startOnce(opts: KafkaClusterOptions): Promise<KafkaCluster> {
  const name = opts.name ?? 'kafka';
  const host = opts.host ?? '127.0.0.1';
  const log = (opts.log ?? silentLogger).child({ kafka: name });
  const jarsDir = opts.jarsDir ?? process.env.EDGELOG_KAFKA_JARS ?? defaultJarsDir;
  if (!hasBrokerJar(jarsDir)) throw new Error(`Kafka jars not found in ${jarsDir}: run \`bash .ci/setup.sh\` (fetches them from Maven Central)`);
  const tempDir = opts.dataDir ? null : mkdtempSync(join(tmpdir(), `edgelog-kafka-${name.replace(/[^\w.-]/g, '_')}-`));
  const dataDir = opts.dataDir ?? tempDir!;
  mkdirSync(dataDir, { recursive: true });
  // Inside a namespace the host cannot probe ports (the address is not ours) and none are taken.
  const port = opts.port ?? (opts.netns ? 9092 : await freePort(host));
  let controllerPort = opts.controllerPort ?? (opts.netns ? port + 1 : await freePort(host));
  while (controllerPort === port && !opts.netns && opts.controllerPort === undefined) controllerPort = await freePort(host);
  const heapMb = opts.heapMb ?? 512;
  const configFile = join(dataDir, 'server.properties');
  const logFile = join(dataDir, 'broker.log');
  const taken = new Set([port, controllerPort]);
  const extraPort = async (offset: number): Promise<number> => {
    if (opts.netns) return port + offset;
    let p = await freePort(host);
    while (taken.has(p)) p = await freePort(host);
    taken.add(p);
    return p;
  };
  const plan: ListenerPlan = { host, port, controllerPort, dataDir };
  if (opts.saslUsers) plan.sasl = { port: await extraPort(2), users: opts.saslUsers };
  if (opts.tls) {
    // Kafka's PEM keystore is one file: private key (PKCS#8) followed by the certificate chain.
    const keystore = join(dataDir, 'keystore.pem');
    writeFileSync(keystore, readFileSync(opts.tls.keyFile, 'utf8').trimEnd() + '\n' + readFileSync(opts.tls.certFile, 'utf8'), { mode: 0o600 });
    plan.tls = { port: await extraPort(3), keystore, clientCaFile: opts.tls.clientCaFile };
  }
  const extraJvm: string[] = [];
  let extraCp = '';
  if (opts.oauth?.mskIam || opts.oauth?.gcp) {
    extraCp = `:${compileOAuthValidator(jarsDir)}`;
    plan.oauth = [];
    if (opts.oauth.mskIam) plan.oauth.push({ name: 'OAUTH_MSK', port: await extraPort(4), jaasOptions: { mode: 'msk-iam', ...opts.oauth.mskIam } });
    if (opts.oauth.gcp) {
      plan.oauth.push({ name: 'OAUTH_GCP', port: await extraPort(5), jaasOptions: { mode: 'gcp', jwksUrl: opts.oauth.gcp.jwksUrl } });
      // Kafka 4.x fetches no OAuth URL that this system property does not list (default: none).
      extraJvm.push(`-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=${opts.oauth.gcp.jwksUrl}`);
    }
  }
  writeFileSync(configFile, brokerProps(plan, opts.props ?? {}));
  const cp = `${jarsDir}/*${extraCp}`;
  const jvm = [...jvmArgs(heapMb, logFile), ...extraJvm];
  const bootstrap = `${host}:${port}`;
  const t0 = performance.now();

  try {
    // Formatting writes meta.properties and the bootstrap checkpoint; a
    // restart with the same dataDir keeps the existing format.
    if (!existsSync(join(dataDir, 'data', 'meta.properties'))) {
      const scram = Object.entries(opts.saslUsers ?? {}).flatMap(([u, pw]) =>
        ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((mech) => ['--add-scram', `${mech}=[name=${u},password=${pw}]`]));
      await runTool(['-Xmx128m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-cp', cp, ...jvm.filter((a) => a.startsWith('-D')),
        'kafka.tools.StorageTool', 'format', '-t', randomClusterId(), '-c', configFile, '--ignore-formatted', ...scram], join(dataDir, 'format.log'));
    }
  } catch (err) {
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    throw err;
  }

  installHandlers();
  const stdoutFd = openSync(join(dataDir, 'broker.out'), 'a');
  const cds = cdsPlan(jarsDir);
  const javaArgs = [...jvm, ...cds.args, '-cp', cp, 'kafka.Kafka', configFile];
  // `ip netns exec` setns()es and execs java, so the pid we get is the JVM's.
  const proc = opts.netns
    ? spawn('ip', ['netns', 'exec', opts.netns, 'java', ...javaArgs], { stdio: ['ignore', stdoutFd, stdoutFd] })
    : spawn('java', javaArgs, { stdio: ['ignore', stdoutFd, stdoutFd] });
  closeSync(stdoutFd);
  // The harness never keeps the process alive by itself: the caller awaits
  // its own work and the exit handler / watchdog take the JVM down after it.
  proc.unref();
  const child: Child = { proc, tempDir, abort: () => cds.abort() };
  children.add(child);
  let exited: string | null = null;
  const exitPromise = new Promise<void>((res) => {
    proc.on('exit', (code, sig) => { exited = `exit ${code ?? sig}`; children.delete(child); if (!cds.archive) cds.done(null); res(); });
    proc.on('error', (e) => { exited = `spawn error ${e.message}`; children.delete(child); res(); });
  });
  if (proc.pid) startWatchdog(proc.pid, tempDir);

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (exited === null) {
      proc.ref(); // keep the loop alive until the JVM is really gone
      proc.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      // Writing the class archive at exit (first broker only) needs longer than a plain shutdown.
      const grace = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), cds.creating ? 60_000 : 15_000); });
      if (await Promise.race([exitPromise.then(() => 'exited' as const), grace]) === 'timeout') {
        proc.kill('SIGKILL');
        await exitPromise;
      }
      clearTimeout(timer);
    }
    children.delete(child);
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    log.info('kafka stopped', { bootstrap });
  };

  // Ready when the broker answers a metadata request (listener bound, controller elected, broker registered).
  const readyMs = opts.readyTimeoutMs ?? 120_000; // generous: a loaded 2-core CI machine starts a JVM slowly
  const deadline = Date.now() + readyMs;
  for (;;) {
    if (exited !== null) {
      const cause = firstErrors(logFile) + '\n' + firstErrors(join(dataDir, 'broker.out'));
      const out = tail(join(dataDir, 'broker.out'), 10) + '\n' + tail(logFile);
      await stop();
      throw new Error(`Kafka broker ${name} died during start (${exited}); first errors:\n${cause.trim() || '(none logged)'}\nlast lines:\n${out}`);
    }
    if (Date.now() > deadline) {
      const out = tail(logFile);
      await stop();
      throw new Error(`Kafka broker ${name} not ready after ${readyMs} ms:\n${out}`);
    }
    const probe = adminClient(bootstrap, log, 500).admin();
    try {
      await probe.connect();
      const md = await probe.describeCluster();
      if (md.brokers.length > 0 && md.controller !== null) break;
    } catch { /* not yet */ } finally {
      await probe.disconnect().catch(() => {});
    }
    await sleep(100);
  }
  const startupMs = Math.round(performance.now() - t0);
  if (cds.archive) cds.done(proc);
  log.info('kafka started', { bootstrap, pid: proc.pid, startup_ms: startupMs, data_dir: dataDir });

  return {
    name, bootstrap, pid: proc.pid!,
    saslBootstrap: plan.sasl ? `${host}:${plan.sasl.port}` : undefined,
    tlsBootstrap: plan.tls ? `${host}:${plan.tls.port}` : undefined,
    mskIamBootstrap: listenerAddress(plan, 'OAUTH_MSK'),
    gcpOAuthBootstrap: listenerAddress(plan, 'OAUTH_GCP'), dataDir, logFile, startupMs,
    createTopic: (topic: string, partitions = 1) => createTopic(bootstrap, topic, partitions, log),
    consumeAll: (topic: string, o?: ConsumeOptions) => consumeAll(bootstrap, topic, o),
    stop,
    kill(signal: NodeJS.Signals = 'SIGKILL'): void {
      if (exited === null) proc.kill(signal);
    },
  };
}

function listenerAddress(plan: ListenerPlan, name: string): string | undefined {
  const l = plan.oauth?.find((x) => x.name === name);
  return l ? `${plan.host}:${l.port}` : undefined;
}

function hasBrokerJar(dir: string): boolean {
  try {
    return readdirSync(dir).some((f) => f.startsWith('kafka_2.13-') && f.endsWith('.jar'));
  } catch {
    return false;
  }
}

/**
 * Creates a topic (no-op when it exists) and waits for its leaders. A
 * short-lived admin connection, so no socket keeps the process alive.
 */
export async function createTopic(bootstrap: string, topic: string, partitions = 1, log: Logger = silentLogger): Promise<void> {
  const admin = adminClient(bootstrap, log, 3000).admin();
  await admin.connect();
  try {
    await createTopicWithLeaders(admin, { topic, numPartitions: partitions, replicationFactor: 1 });
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/**
 * Creates `spec` and returns once every partition has a leader, within
 * `timeoutMs`. kafkajs's own waitForLeaders gives up at the first
 * UNKNOWN_TOPIC_OR_PARTITION, which a broker answers for a moment after the
 * creation on a loaded machine (a drill's setup and a sink test failed so):
 * that answer is waited past here, with a deadline.
 */
export async function createTopicWithLeaders(admin: Admin, spec: ITopicConfig, timeoutMs = 30_000): Promise<void> {
  try {
    await admin.createTopics({ topics: [spec], waitForLeaders: true, timeout: Math.min(20_000, timeoutMs) });
  } catch (err) {
    if ((err as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err;
  }
  const want = spec.replicaAssignment?.length ?? Math.max(1, spec.numPartitions ?? 1);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const led = await admin.fetchTopicMetadata({ topics: [spec.topic] }).then(
      (md) => (md.topics[0]?.partitions ?? []).filter((p) => p.leader >= 0).length,
      (err: unknown) => { if (Date.now() > deadline) throw err; return 0; },
    );
    if (led >= want) return;
    if (Date.now() > deadline) throw new Error(`topic ${spec.topic}: ${led} of ${want} partitions have a leader ${timeoutMs} ms after its creation`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// --- consume helper ---------------------------------------------------------------

export interface ConsumedMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer>;
  partition: number;
  offset: string;
  timestamp: string;
}

export interface ConsumeOptions {
  /** Stop once at least this many arrived (the whole last fetch batch is kept, so duplicates stay visible). Without it: stop when every partition reached the end it had when we started. */
  count?: number;
  /** Stop when no message arrived for this long after joining the group, ms (default 5000). */
  idleMs?: number;
  /** Overall limit, ms (default 60000). */
  timeoutMs?: number;
  log?: Logger;
}

/**
 * Reads a topic from the beginning with a throwaway consumer group and
 * returns messages in partition/offset order per partition. Used by tests
 * and the demo's end check.
 */
export async function consumeAll(bootstrap: string, topic: string, opts: ConsumeOptions = {}): Promise<ConsumedMessage[]> {
  const log = opts.log ?? silentLogger;
  filterKafkajsTimerWarning();
  // A reader must decompress whatever a producer wrote (snappy, lz4, zstd), whichever engine produced it.
  registerCodecs();
  const kafka = new Kafka({
    brokers: [bootstrap], clientId: 'edgelog-consume-all', logLevel: logLevel.ERROR, logCreator: kafkajsLogs(log),
    connectionTimeout: 3000, retry: { retries: 5 },
  });
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  try {
    const offs = await admin.fetchTopicOffsets(topic);
    ends = new Map(offs.map((o) => [o.partition, BigInt(o.high)]));
  } finally {
    await admin.disconnect().catch(() => {});
  }
  const out: ConsumedMessage[] = [];
  const reached = (): boolean => {
    if (opts.count !== undefined) return out.length >= opts.count;
    for (const end of ends.values()) if (end > 0n) return false;
    return true;
  };
  if (opts.count === undefined && reached()) return out;
  if (opts.count !== undefined && opts.count <= 0) return out;

  const consumer = kafka.consumer({
    groupId: `edgelog-consume-all-${randomBytes(6).toString('hex')}`,
    sessionTimeout: 10_000, heartbeatInterval: 1000, maxWaitTimeInMs: 200, retry: { retries: 5 },
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let last = Date.now();
    const started = Date.now();
    // The idle clock starts once the group is joined: on a loaded machine the
    // join alone can take longer than idleMs.
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, () => { joined = true; last = Date.now(); });
    let finish!: () => void;
    const done = new Promise<void>((r) => { finish = r; });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const headers: Record<string, Buffer> = {};
          for (const [k, v] of Object.entries(m.headers ?? {})) {
            if (v === undefined) continue;
            headers[k] = Buffer.isBuffer(v) ? v : Buffer.from(String(Array.isArray(v) ? v[0] : v));
          }
          out.push({ key: m.key ?? null, value: m.value ?? null, headers, partition: batch.partition, offset: m.offset, timestamp: m.timestamp });
          const end = ends.get(batch.partition);
          if (end !== undefined && BigInt(m.offset) + 1n >= end) ends.set(batch.partition, 0n);
        }
        last = Date.now();
        if (reached()) finish();
      },
    });
    const idleMs = opts.idleMs ?? 5000;
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const timer = setInterval(() => {
      const now = Date.now();
      if ((joined && now - last > idleMs) || now - started > timeoutMs) finish();
    }, 100);
    await done;
    clearInterval(timer);
  } finally {
    await consumer.disconnect().catch(() => {});
  }
  return out.slice();
}
