// Amazon MSK (provisioned) for one region: TLS in transit (client and
// in-cluster), KMS encryption at rest with a customer key, IAM client auth
// (SCRAM opt-in), enhanced monitoring, Prometheus open monitoring, broker logs to
// CloudWatch, EBS storage autoscaling and a cluster configuration with
// durable defaults for log data.

import {
  AppautoscalingPolicy,
  AppautoscalingTarget,
  CloudwatchLogGroup,
  Construct,
  Fn,
  KmsAlias,
  KmsKey,
  MskCluster,
  MskConfiguration,
  MskScramSecretAssociation,
  SecretsmanagerSecret,
  SecretsmanagerSecretVersion,
  TerraformStack,
} from '../lib/cdk.ts';
import { invariant } from '../lib/errors.ts';

export interface KafkaClusterProps {
  /** Cluster name (1-64 chars, letters, digits, hyphens); also prefixes its key, logs and secrets. */
  readonly name: string;
  /** One subnet per AZ (the data tier). */
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  /**
   * MSK Kafka version.
   * @default '3.8.x'
   */
  readonly kafkaVersion?: string;
  /**
   * Broker instance type.
   * @default 'kafka.m7g.large'
   */
  readonly instanceType?: string;
  /**
   * Brokers per AZ (MSK requires a multiple of the subnet count).
   * @default 1
   */
  readonly brokersPerAz?: number;
  /**
   * Initial EBS volume per broker, GiB.
   * @default 1000
   */
  readonly volumeGiB?: number;
  /**
   * Storage autoscaling ceiling per broker, GiB (MSK max 16384).
   * @default min(4 * volumeGiB, 16384)
   */
  readonly maxVolumeGiB?: number;
  /**
   * Disk utilisation (%) storage autoscaling keeps brokers under.
   * @default 60
   */
  readonly storageTargetPercent?: number;
  /**
   * IAM client auth (relays, MSK Replicator).
   * @default true
   */
  readonly iamAuth?: boolean;
  /**
   * SCRAM client auth, opt-in: only for clients outside AWS IAM (e.g. a
   * MirrorMaker 2 worker on GCP). Relays and the MSK Replicator use IAM.
   * @default false
   */
  readonly scramAuth?: boolean;
  /**
   * SCRAM users to create (one Secrets Manager secret each, KMS-encrypted). Requires scramAuth.
   * @default []
   */
  readonly scramUsers?: readonly string[];
  /**
   * Multi-VPC private connectivity (IAM), required on a Replicator source.
   * @default false
   */
  readonly multiVpcConnectivity?: boolean;
  /**
   * MSK enhanced monitoring level (per-partition metrics are billed as CloudWatch custom metrics).
   * @default 'PER_TOPIC_PER_PARTITION' (consumer lag per partition: what a failover drill watches)
   */
  readonly enhancedMonitoring?: 'DEFAULT' | 'PER_BROKER' | 'PER_TOPIC_PER_BROKER' | 'PER_TOPIC_PER_PARTITION';
  /**
   * Broker log retention in CloudWatch, days.
   * @default 14
   */
  readonly logRetentionDays?: number;
  /**
   * Extra server.properties lines (override the defaults below by key).
   * @default {}
   */
  readonly serverProperties?: Readonly<Record<string, string>>;
}

/** Durable defaults for log data: no silent topic creation, RF 3 with min ISR 2, no unclean elections. */
const DEFAULT_SERVER_PROPERTIES: Readonly<Record<string, string>> = {
  'auto.create.topics.enable': 'false',
  'default.replication.factor': '3',
  'min.insync.replicas': '2',
  'unclean.leader.election.enable': 'false',
  'num.partitions': '12',
  'log.retention.hours': '168',
  // 1 MiB + headroom: the agent caps one OTLP batch at 512 KiB (agent/pipeline/config.ts).
  'message.max.bytes': '2097152',
};

export class KafkaCluster extends Construct {
  readonly cluster: MskCluster;
  readonly key: KmsKey;
  readonly name: string;
  readonly iamAuth: boolean;
  readonly multiVpcConnectivity: boolean;

  constructor(scope: Construct, id: string, props: KafkaClusterProps) {
    super(scope, id);
    const what = `KafkaCluster ${id}`;
    const iam = props.iamAuth ?? true;
    const scram = props.scramAuth ?? false;
    const users = props.scramUsers ?? [];
    const perAz = props.brokersPerAz ?? 1;
    const volume = props.volumeGiB ?? 1000;
    const maxVolume = props.maxVolumeGiB ?? Math.min(4 * volume, 16384);
    const target = props.storageTargetPercent ?? 60;
    const multiVpc = props.multiVpcConnectivity ?? false;
    invariant(/^[A-Za-z0-9-]{1,64}$/.test(props.name), what, `name: 1-64 letters, digits or hyphens, got ${props.name}`);
    invariant(iam || scram, what, 'iamAuth and scramAuth are both off: clients would need unauthenticated access');
    invariant(users.length === 0 || scram, what, 'scramUsers given but scramAuth is false');
    invariant(!multiVpc || iam || scram, what, 'multiVpcConnectivity needs IAM or SCRAM auth');
    invariant(props.subnetIds.length >= 2, what, 'subnetIds: MSK needs at least two AZs');
    invariant(Number.isInteger(perAz) && perAz >= 1, what, `brokersPerAz: a positive integer, got ${perAz}`);
    invariant(volume >= 1 && maxVolume <= 16384, what, 'volumes: 1 to 16384 GiB');
    invariant(maxVolume >= volume, what, `maxVolumeGiB (${maxVolume}) is below volumeGiB (${volume}): storage could never scale`);
    invariant(target >= 10 && target <= 90, what, `storageTargetPercent: 10 to 90, got ${target}`);
    this.name = props.name;
    this.iamAuth = iam;
    this.multiVpcConnectivity = multiVpc;
    const version = props.kafkaVersion ?? '3.8.x';

    this.key = new KmsKey(this, 'key', {
      description: `${props.name}: MSK data at rest, broker logs, the relays' secrets and SCRAM secrets (when on)`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
    });
    new KmsAlias(this, 'key-alias', { name: `alias/${props.name}-msk`, targetKeyId: this.key.keyId });

    const logs = new CloudwatchLogGroup(this, 'broker-logs', {
      name: `/edgelog/msk/${props.name}`,
      retentionInDays: props.logRetentionDays ?? 14,
    });

    const properties = { ...DEFAULT_SERVER_PROPERTIES, ...(props.serverProperties ?? {}) };
    const configuration = new MskConfiguration(this, 'configuration', {
      name: `${props.name}-config`,
      kafkaVersions: [version],
      serverProperties: Object.entries(properties).map(([k, v]) => `${k}=${v}`).join('\n') + '\n',
    });

    this.cluster = new MskCluster(this, 'cluster', {
      clusterName: props.name,
      kafkaVersion: version,
      numberOfBrokerNodes: perAz * props.subnetIds.length,
      enhancedMonitoring: props.enhancedMonitoring ?? 'PER_TOPIC_PER_PARTITION',
      brokerNodeGroupInfo: {
        instanceType: props.instanceType ?? 'kafka.m7g.large',
        clientSubnets: [...props.subnetIds],
        securityGroups: [...props.securityGroupIds],
        storageInfo: { ebsStorageInfo: { volumeSize: volume } },
        ...(multiVpc
          ? { connectivityInfo: { vpcConnectivity: { clientAuthentication: { sasl: { iam, scram } } } } }
          : {}),
      },
      encryptionInfo: {
        encryptionAtRestKmsKeyArn: this.key.arn,
        encryptionInTransit: { clientBroker: 'TLS', inCluster: true },
      },
      clientAuthentication: { unauthenticated: false, sasl: { iam, scram } },
      configurationInfo: { arn: configuration.arn, revision: Fn.tonumber(configuration.latestRevision) },
      openMonitoring: {
        prometheus: { jmxExporter: { enabledInBroker: true }, nodeExporter: { enabledInBroker: true } },
      },
      loggingInfo: { brokerLogs: { cloudwatchLogs: { enabled: true, logGroup: logs.name } } },
    });

    const scaling = new AppautoscalingTarget(this, 'storage-target', {
      serviceNamespace: 'kafka',
      scalableDimension: 'kafka:broker-storage:VolumeSize',
      resourceId: this.cluster.arn,
      minCapacity: 1,
      maxCapacity: maxVolume,
    });
    new AppautoscalingPolicy(this, 'storage-policy', {
      name: `${props.name}-storage`,
      policyType: 'TargetTrackingScaling',
      serviceNamespace: scaling.serviceNamespace,
      scalableDimension: scaling.scalableDimension,
      resourceId: scaling.resourceId,
      targetTrackingScalingPolicyConfiguration: {
        targetValue: target,
        // MSK storage can only grow; scale-in would be refused.
        disableScaleIn: true,
        predefinedMetricSpecification: { predefinedMetricType: 'KafkaBrokerStorageUtilization' },
      },
    });

    if (users.length > 0) {
      const versions: SecretsmanagerSecretVersion[] = [];
      const secretArns = users.map((user) => {
        // MSK only accepts secrets named AmazonMSK_* and encrypted with a customer key.
        const secret = new SecretsmanagerSecret(this, `scram-${user}`, {
          name: `AmazonMSK_${props.name}_${user}`,
          kmsKeyId: this.key.keyId,
          recoveryWindowInDays: 7,
        });
        // The password is drawn by an ephemeral resource (Terraform >= 1.10) and
        // written through the write-only attribute (>= 1.11): it is never stored in
        // a plan or in state. cdktf 0.21 has no ephemeral construct, hence the raw block.
        const ephemeralName = `${this.node.id}_scram_${user}`.replace(/[^A-Za-z0-9_]/g, '_');
        TerraformStack.of(this).addOverride(`ephemeral.aws_secretsmanager_random_password.${ephemeralName}`, {
          password_length: 32,
          exclude_punctuation: true,
        });
        versions.push(new SecretsmanagerSecretVersion(this, `scram-${user}-value`, {
          secretId: secret.id,
          secretStringWo: `\${jsonencode({ username = ${JSON.stringify(user)}, password = ephemeral.aws_secretsmanager_random_password.${ephemeralName}.random_password })}`,
          secretStringWoVersion: 1,
        }));
        return secret.arn;
      });
      new MskScramSecretAssociation(this, 'scram-association', {
        clusterArn: this.cluster.arn,
        secretArnList: secretArns,
        dependsOn: versions,
      });
    }
  }

  /** Bootstrap brokers for SCRAM clients (port 9096): what the relays' kafkajs producer uses. */
  get bootstrapBrokersScram(): string {
    return this.cluster.bootstrapBrokersSaslScram;
  }

  /** Bootstrap brokers for IAM clients (port 9098). */
  get bootstrapBrokersIam(): string {
    return this.cluster.bootstrapBrokersSaslIam;
  }
}
