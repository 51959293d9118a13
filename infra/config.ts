// The one file with every region, size, name, port and price-relevant knob of
// the cloud side. Stacks read only from here; constructs get these values as
// props, so a second deployment (staging, another customer) is a second
// object of this shape.

import { KAFKA_BOOTSTRAP_PLACEHOLDER } from './lib/user-data.ts';

export { KAFKA_BOOTSTRAP_PLACEHOLDER };

export interface AwsRegionConfig {
  /** Stack and name component: `primary` or `secondary`. */
  readonly key: 'primary' | 'secondary';
  readonly region: string;
  /** Three AZs: brokers, relays and NAT gateways spread over them. */
  readonly availabilityZones: readonly string[];
  readonly vpcCidr: string;
}

export interface EdgelogInfraConfig {
  /**
   * `demo`: placeholders (example.com zone, documentation CIDRs, no artifact
   * sha256) are allowed, for synth, tests and the emulator rehearsal.
   * `production`: synth refuses them (lib/deploy-settings.ts names the key).
   */
  readonly profile: 'demo' | 'production';
  readonly project: string;
  readonly environment: string;
  /** Tags (AWS) and labels (GCP) every resource must carry; policy-checked. */
  readonly tags: Readonly<Record<string, string>>;
  readonly ports: {
    /** Agent -> relay forward protocol (TCP, TLS optional). */
    readonly forward: number;
    /** Relay HTTP health/metrics listener (/healthz, /readyz); bound to 0.0.0.0 in relay role. */
    readonly health: number;
    /** MSK listener ports: 9092 plaintext, 9094 TLS, 9096 SASL/SCRAM, 9098 IAM (MSK documented ports). */
    readonly brokers: readonly number[];
  };
  /**
   * Where edge nodes connect from. Never 0.0.0.0/0 (policy check): list the
   * operators' egress ranges. Documentation ranges (RFC 5737) as placeholders.
   */
  readonly edgeCidrs: readonly string[];
  /**
   * Route 53 health checker source ranges (ip-ranges.json, service
   * ROUTE53_HEALTHCHECKS, the global block). Refresh before deploy.
   */
  readonly route53HealthCheckerCidrs: readonly string[];
  readonly aws: {
    readonly primary: AwsRegionConfig;
    readonly secondary: AwsRegionConfig;
    /** Region of the global stack's provider: Route 53 metrics and the FIS drill live here (must equal primary's region). */
    readonly globalRegion: string;
  };
  readonly kafka: {
    readonly version: string;
    readonly instanceType: string;
    readonly brokersPerAz: number;
    readonly volumeGiB: number;
    readonly maxVolumeGiB: number;
    /** Topics the relays write; replicated with identical names (active-passive). */
    readonly topics: readonly string[];
    /**
     * Layout of those topics, made by the relays' Kafka sink (`create_topic`)
     * before the first record: MSK and GCP Managed Kafka do not auto-create.
     */
    readonly topicLayout: { readonly partitions: number; readonly replicationFactor: number; readonly minInsyncReplicas: number };
    /**
     * SCRAM users (one KMS-encrypted `AmazonMSK_*` secret each); non-empty
     * turns SCRAM on. Empty by default: relays and the Replicator use IAM.
     */
    readonly scramUsers: readonly string[];
  };
  readonly relay: {
    readonly instanceType: string;
    /** AMI via SSM public parameter, resolved by EC2 at launch (no lookup at synth). */
    readonly imageId: string;
    readonly minSize: number;
    readonly maxSize: number;
    readonly cpuTargetPercent: number;
    readonly bufferOccupancyTarget: number;
    readonly drainSeconds: number;
  };
  readonly agent: {
    readonly version: string;
    readonly artifactUrl: string;
    /** sha256 of the tarball (`<tarball>.sha256` from `npm run release`); relays refuse anything else. */
    readonly artifactSha256: string;
    /** minisign public key of the release signer; relays verify `<artifactUrl>.minisig` with it. */
    readonly signingPublicKey: string;
  };
  readonly dns: {
    /** Existing public hosted zone. */
    readonly zoneName: string;
    /** The name edge agents ship to. */
    readonly recordName: string;
    /** Second-level failover record (secondary AWS region, then GCP). */
    readonly standbyRecordName: string;
  };
  readonly gcp: {
    readonly project: string;
    readonly region: string;
    readonly zones: readonly string[];
    readonly subnetCidr: string;
    readonly kafkaVcpus: number;
    readonly kafkaMemoryGiB: number;
    /** Must exist in every zone of `zones` (Arm: the release artifact is linux-arm64). */
    readonly machineType: string;
    /** Boot disk type the machine series supports (C4A: Hyperdisk only). */
    readonly bootDiskType: string;
    /**
     * Public IPv4 of the GCP relays' forwarding rule (`gcp` stack output
     * `ingest-ip`), the last failover target. Configuration, not a state
     * lookup: `global` deploys even when the GCP deploy failed.
     */
    readonly frontEndAddress?: string;
    readonly minReplicas: number;
    readonly maxReplicas: number;
  };
}

export const config: EdgelogInfraConfig = {
  // Every value below that names a zone, a release or an address is a placeholder.
  profile: 'demo',
  project: 'edgelog',
  environment: 'prod',
  tags: {
    project: 'edgelog',
    environment: 'prod',
    owner: 'platform-logging',
    // Underscore, not hyphen: valid as an AWS tag and a GCP label key alike (the google provider's
    // cdktf binding rewrites hyphens in default_labels keys; the tags policy caught it).
    cost_center: 'obs-0042',
  },
  ports: {
    forward: 24240,
    health: 8686,
    brokers: [9092, 9094, 9096, 9098],
  },
  edgeCidrs: ['198.51.100.0/24', '203.0.113.0/24'],
  // ip-ranges.json, service ROUTE53_HEALTHCHECKS (IPv4): the GLOBAL block and
  // the regional checker ranges (Route 53 probes from several regions at once).
  route53HealthCheckerCidrs: [
    '15.177.0.0/18', // GLOBAL
    '107.23.255.0/26', '54.243.31.192/26', // us-east-1
    '54.183.255.128/26', '54.241.32.64/26', // us-west-1
    '54.244.52.192/26', '54.245.168.0/26', // us-west-2
    '54.228.16.0/26', '176.34.159.192/26', // eu-west-1
    '54.232.40.64/26', '177.71.207.128/26', // sa-east-1
    '54.248.220.0/26', '54.250.253.192/26', // ap-northeast-1
    '54.251.31.128/26', '54.255.254.192/26', // ap-southeast-1
    '54.252.79.128/26', '54.252.254.192/26', // ap-southeast-2
  ],
  aws: {
    primary: {
      key: 'primary',
      region: 'us-east-1',
      availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'],
      vpcCidr: '10.10.0.0/16',
    },
    secondary: {
      key: 'secondary',
      region: 'us-west-2',
      availabilityZones: ['us-west-2a', 'us-west-2b', 'us-west-2c'],
      vpcCidr: '10.11.0.0/16',
    },
    globalRegion: 'us-east-1',
  },
  kafka: {
    // MSK supported version line; Replicator needs >= 2.7.1.
    version: '3.8.x',
    instanceType: 'kafka.m7g.large',
    brokersPerAz: 1,
    volumeGiB: 1000,
    maxVolumeGiB: 4000,
    topics: ['edgelog.logs'],
    // Three replicas over three AZs, two in sync: one broker lost keeps acks=all writes going.
    // 12 partitions: spread over 3 brokers, room for 12 parallel consumers.
    topicLayout: { partitions: 12, replicationFactor: 3, minInsyncReplicas: 2 },
    scramUsers: [],
  },
  relay: {
    instanceType: 'c7g.large',
    imageId: 'resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64',
    minSize: 3,
    maxSize: 12,
    cpuTargetPercent: 50,
    bufferOccupancyTarget: 0.5,
    drainSeconds: 300,
  },
  agent: {
    version: '0.1.0',
    artifactUrl: 'https://releases.edgelog.example.com/0.1.0/edgelog-0.1.0-linux-arm64.tar.gz',
    // Example values, like the URL: a deployment sets the published release's
    // sha256 (the .sha256 beside the tarball) and the project's signing key.
    artifactSha256: '0000000000000000000000000000000000000000000000000000000000000000',
    signingPublicKey: 'RWTsN7XZsXhxkn17BnGE4OszxDWnJ0+eqR9YWHMWZmMouhVsl0hyTFpN',
  },
  dns: {
    zoneName: 'edgelog.example.com',
    recordName: 'ingest.edgelog.example.com',
    standbyRecordName: 'ingest-standby.edgelog.example.com',
  },
  gcp: {
    project: 'edgelog-prod',
    region: 'europe-west1',
    zones: ['europe-west1-b', 'europe-west1-c', 'europe-west1-d'],
    subnetCidr: '10.20.0.0/20',
    // Managed Service for Apache Kafka: 3 vCPU minimum, 1-8 GiB per vCPU.
    kafkaVcpus: 3,
    kafkaMemoryGiB: 12,
    // C4A (Google Axion, Arm) is offered in europe-west1; T2A is not (us-central1, europe-west4, asia-southeast1 only).
    machineType: 'c4a-standard-2',
    bootDiskType: 'hyperdisk-balanced',
    // RFC 5737 placeholder: set to the gcp stack's `ingest-ip` output.
    frontEndAddress: '192.0.2.10',
    minReplicas: 2,
    maxReplicas: 10,
  },
};


/**
 * The edgelog.yaml a relay boots with (forward source in, Kafka sink out).
 * `brokers` is a literal for GCP (its bootstrap name is derived from the
 * cluster id) and KAFKA_BOOTSTRAP_PLACEHOLDER on AWS (MSK names are known
 * only after apply).
 */
export function relayConfigYaml(opts: {
  readonly forwardPort: number;
  readonly healthPort: number;
  readonly brokers: string;
  readonly topic: string;
  /**
   * How the relay authenticates to Kafka, with no secret anywhere: SASL
   * OAUTHBEARER with tokens from the instance's metadata server:
   * `aws-msk-iam` (MSK IAM, SigV4 token from the instance role; port 9098)
   * or `gcp-metadata` (GCP Managed Kafka, the VM service account's token).
   * The agent's config schema validates this output, and a real relay ships
   * with it into an OAUTHBEARER broker (test/infra/relay-config.test.ts).
   */
  readonly tokenProvider: 'aws-msk-iam' | 'gcp-metadata';
  /** The topic's layout, created by the sink before the first record (config.kafka.topicLayout). */
  readonly topicLayout: EdgelogInfraConfig['kafka']['topicLayout'];
}): string {
  const sasl = `{ mechanism: oauthbearer, token_provider: ${opts.tokenProvider} }`;
  const t = opts.topicLayout;
  return [
    '# edgelog relay: forward in, Kafka out. Rendered by infra/config.ts.',
    'agent:',
    '  role: relay',
    '  data_dir: /var/lib/edgelog',
    'observe:',
    '  # Metrics and the full health API stay on loopback; the load balancer',
    '  # health-checks a /readyz-only port (state without reasons).',
    '  listen: 127.0.0.1:9700',
    `  health_listen: 0.0.0.0:${opts.healthPort}`,
    'sources:',
    '  forward_in:',
    '    type: forward',
    `    address: 0.0.0.0:${opts.forwardPort}`,
    // Internet-facing: TLS (the NLB passes TCP through) and per-agent HMAC auth; files provisioned with the instance.
    '    tls: { cert_file: /etc/edgelog/tls/relay.pem, key_file: /etc/edgelog/tls/relay.key }',
    '    auth: { secrets_file: /etc/edgelog/agents.secrets }',
    'sinks:',
    '  kafka_out:',
    '    type: kafka',
    // Unquoted on purpose: on AWS the placeholder becomes MSK's comma-separated
    // list at apply time, which then reads as a YAML flow sequence of host:port.
    `    brokers: [${opts.brokers}]`,
    `    topic: ${opts.topic}`,
    '    tls: { enabled: true }',
    `    sasl: ${sasl}`,
    `    create_topic: { partitions: ${t.partitions}, replication_factor: ${t.replicationFactor}, min_insync_replicas: ${t.minInsyncReplicas} }`,
    '    encoding: { codec: otlp_proto }',
    '',
  ].join('\n');
}

/** GCP Managed Kafka's bootstrap address (documented name pattern, port 9092 SASL_SSL). */
export function gcpKafkaBootstrap(clusterId: string, region: string, project: string): string {
  return `bootstrap.${clusterId}.${region}.managedkafka.${project}.cloud.goog:9092`;
}
