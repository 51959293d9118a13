// `edgelog doctor`: what this host supports and what is missing, with the
// reason and the fix. Native features come from agent/native (BPF, tc,
// io_uring, zero-copy, capabilities); Kafka reachability is checked here with
// a metadata round trip to every cluster named on the command line or in the
// config (an address that answers but not as Kafka is named as such, see
// agent/sinks/kafka/handshake-check.ts).

import { parseArgs } from './args.ts';
import { doctorReport, formatDoctor, type DoctorLine } from '../native/doctor.ts';
import { loadConfigFile } from '../config/load.ts';
import { silentLogger } from '../observe/log.ts';
import { createRegistry } from '../observe/metrics.ts';
import { KafkaSink } from '../sinks/kafka/sink.ts';
import { kafkaSink } from '../sinks/kafka/sink.ts';
import type { KafkaSinkSetup } from '../sinks/failover/kafka-clusters.ts';
import type { KafkaSinkConfig } from '../sinks/kafka/config.ts';

export const help = `usage: edgelog doctor [--config FILE] [--brokers HOST:PORT[,HOST:PORT...] [--topic NAME]] [--json]

Reports what this host supports for edgelog: the native library, kernel,
capabilities (CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON), the BPF syscall, tc
clsact/cls_bpf, the eBPF guard, io_uring and zero-copy send, and whether each
Kafka cluster answers (from --brokers, or every kafka sink in --config).
Each missing feature comes with the reason and the fix. Exit 0 when every
Kafka cluster answered (native features are optional: the agent falls back).

  --config FILE    check the Kafka clusters of this config
  --brokers LIST   check this bootstrap list (metadata for --topic, which must exist)
  --topic NAME     the topic checked on --brokers (default edgelog)
  --json           print the report as JSON`;

export async function main(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, { config: 'string', brokers: 'string', topic: 'string', json: 'boolean' });
  if (flags.help) { console.log(help); return 0; }
  const lines: DoctorLine[] = doctorReport();
  const targets: Array<{ name: string; config: KafkaSinkConfig }> = [];
  if (flags.brokers) targets.push({ name: 'brokers', config: kafkaSink.validate({ brokers: String(flags.brokers).split(','), topic: flags.topic ? String(flags.topic) : 'edgelog' }, '--brokers') });
  if (flags.config) {
    const cfg = loadConfigFile(String(flags.config));
    for (const p of cfg.pipelines) {
      if (p.sink.spec.type !== 'kafka') continue;
      const setup = p.sink.config as KafkaSinkSetup;
      if (setup.mode === 'single') targets.push({ name: p.sink.id, config: setup.config });
      else for (const c of setup.clusters) targets.push({ name: `${p.sink.id}/${c.name} (${c.region})`, config: c.config });
    }
  }
  let kafkaOk = true;
  for (const t of targets) {
    const sink = new KafkaSink({ ...t.config, probeTimeoutMs: 5000 }, { id: 'doctor', log: silentLogger, metrics: createRegistry(false), agentId: 'doctor' });
    try {
      const ms = await sink.probe();
      lines.push({ feature: `kafka ${t.name}`, ok: true, reason: `metadata from ${t.config.brokers.join(',')} in ${Math.round(ms)} ms`, fix: '' });
    } catch (err) {
      kafkaOk = false;
      const notKafka = (err as { reason?: string }).reason === 'NOT_KAFKA';
      lines.push({
        feature: `kafka ${t.name}`, ok: false, reason: (err as Error).message,
        fix: notKafka
          ? `point brokers at a Kafka listener (the host:port a broker advertises); ${t.config.brokers.join(',')} is some other service`
          : `check that ${t.config.brokers.join(',')} is reachable from this host (DNS, firewall, TLS/SASL settings) and that topic ${t.config.topic} exists`,
      });
    } finally {
      await sink.close().catch(() => undefined);
    }
  }
  if (targets.length === 0) lines.push({ feature: 'kafka', ok: true, reason: 'not checked (pass --config or --brokers)', fix: '' });
  if (flags.json) console.log(JSON.stringify(lines, null, 2));
  else console.log(formatDoctor(lines));
  return kafkaOk ? 0 : 1;
}
