// One AWS region: network, MSK, relay fleet; the secondary also runs the
// MSK Replicator pulling from the primary (cross-stack references to the
// primary's cluster, subnets and broker security group).

import { relayConfigYaml, KAFKA_BOOTSTRAP_PLACEHOLDER, type AwsRegionConfig, type EdgelogInfraConfig } from '../config.ts';
import { KafkaCluster } from '../constructs/kafka-cluster.ts';
import { KafkaReplication } from '../constructs/kafka-replication.ts';
import { Network } from '../constructs/network.ts';
import { RelayFleet } from '../constructs/relay-fleet.ts';
import { RelaySecrets } from '../constructs/relay-secrets.ts';
import { AwsProvider, Construct, TerraformOutput } from '../lib/cdk.ts';
import { EdgelogStack } from '../lib/stack.ts';
import { physicalName, policyFor } from './policy.ts';

export interface RegionStackProps {
  readonly config: EdgelogInfraConfig;
  readonly region: AwsRegionConfig;
  /** Replicate this region's Kafka from another region's (secondary <- primary). */
  readonly replicateFrom?: RegionStack;
}

/** The relay YAML an AWS region's launch template carries (brokers filled in at apply). */
export function awsRelayConfigYaml(cfg: EdgelogInfraConfig): string {
  return relayConfigYaml({
    forwardPort: cfg.ports.forward,
    healthPort: cfg.ports.health,
    brokers: KAFKA_BOOTSTRAP_PLACEHOLDER,
    topic: cfg.kafka.topics[0]!,
    tokenProvider: 'aws-msk-iam',
    topicLayout: cfg.kafka.topicLayout,
  });
}

export class RegionStack extends EdgelogStack {
  readonly region: AwsRegionConfig;
  readonly network: Network;
  readonly kafka: KafkaCluster;
  readonly relays: RelayFleet;
  readonly relaySecrets: RelaySecrets;
  readonly replication?: KafkaReplication;

  constructor(scope: Construct, id: string, props: RegionStackProps) {
    const cfg = props.config;
    super(scope, id, policyFor(cfg));
    this.region = props.region;
    const key = props.region.key;
    const name = physicalName(cfg, key);

    new AwsProvider(this, 'aws', {
      region: props.region.region,
      defaultTags: [{ tags: { ...cfg.tags, 'edgelog:region-role': key } }],
    });

    this.network = new Network(this, 'network', {
      name,
      cidr: props.region.vpcCidr,
      availabilityZones: props.region.availabilityZones,
      edgeCidrs: cfg.edgeCidrs,
      healthCheckerCidrs: cfg.route53HealthCheckerCidrs,
      forwardPort: cfg.ports.forward,
      healthPort: cfg.ports.health,
    });

    this.kafka = new KafkaCluster(this, 'kafka', {
      name,
      subnetIds: this.network.dataSubnetIds,
      securityGroupIds: [this.network.brokerSecurityGroup.id],
      kafkaVersion: cfg.kafka.version,
      instanceType: cfg.kafka.instanceType,
      brokersPerAz: cfg.kafka.brokersPerAz,
      volumeGiB: cfg.kafka.volumeGiB,
      maxVolumeGiB: cfg.kafka.maxVolumeGiB,
      // SCRAM only for clients outside AWS IAM (e.g. MirrorMaker 2 to GCP); relays and the Replicator use IAM.
      scramAuth: cfg.kafka.scramUsers.length > 0,
      scramUsers: cfg.kafka.scramUsers,
      // The primary is a Replicator source; the secondary would be one after a fail-back.
      multiVpcConnectivity: true,
    });

    this.relaySecrets = new RelaySecrets(this, 'relay-secrets', {
      name,
      kmsKeyId: this.kafka.key.keyId,
      kmsKeyArn: this.kafka.key.arn,
    });

    this.relays = new RelayFleet(this, 'relays', {
      name,
      vpcId: this.network.vpc.id,
      subnetIds: this.network.relaySubnetIds,
      lbSubnetIds: this.network.publicSubnetIds,
      relaySecurityGroupId: this.network.relaySecurityGroup.id,
      lbSecurityGroupId: this.network.lbSecurityGroup.id,
      forwardPort: cfg.ports.forward,
      healthPort: cfg.ports.health,
      instanceTags: { ...cfg.tags, 'edgelog:role': 'relay', 'edgelog:region-role': key },
      install: cfg.agent,
      configYaml: awsRelayConfigYaml(cfg),
      // IAM listener (9098): the relays authenticate with their instance role, no secret.
      kafkaBootstrap: this.kafka.bootstrapBrokersIam,
      kafkaClusterArn: this.kafka.cluster.arn,
      secrets: {
        arns: this.relaySecrets.arns,
        kmsKeyArn: this.relaySecrets.kmsKeyArn,
        region: props.region.region,
        files: this.relaySecrets.files,
      },
      instanceType: cfg.relay.instanceType,
      imageId: cfg.relay.imageId,
      minSize: cfg.relay.minSize,
      maxSize: cfg.relay.maxSize,
      cpuTargetPercent: cfg.relay.cpuTargetPercent,
      loadMetric: { namespace: 'Edgelog/Relay', metricName: 'BufferOccupancy', target: cfg.relay.bufferOccupancyTarget },
      drainSeconds: cfg.relay.drainSeconds,
    });

    if (props.replicateFrom) {
      const src = props.replicateFrom;
      this.replication = new KafkaReplication(this, 'replication', {
        name: physicalName(cfg, `${src.region.key}-to-${key}`),
        source: {
          cluster: src.kafka,
          region: src.region.region,
          subnetIds: src.network.dataSubnetIds,
          securityGroupIds: [src.network.brokerSecurityGroup.id],
        },
        target: {
          cluster: this.kafka,
          region: props.region.region,
          subnetIds: this.network.dataSubnetIds,
          securityGroupIds: [this.network.brokerSecurityGroup.id],
        },
        topics: cfg.kafka.topics,
      });
    }

    new TerraformOutput(this, 'nlb-dns-name', { value: this.relays.nlb.dnsName });
    new TerraformOutput(this, 'kafka-bootstrap-iam', { value: this.kafka.bootstrapBrokersIam });
  }
}
