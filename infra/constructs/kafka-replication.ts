// MSK Replicator from the primary region's cluster to the secondary's, with
// its prerequisites: the source's cluster policy letting the MSK service build
// multi-VPC connections, multi-VPC connectivity on the source (checked here),
// and an execution role. Topic names stay identical (active-passive: after a
// failover the relays write the same topic names in the secondary region, and
// consumers keep their group offsets thanks to offset sync).

import { Construct, Fn, IamRole, IamRolePolicy, MskClusterPolicy, MskReplicator } from '../lib/cdk.ts';
import { awsProviderIn } from '../lib/aws-providers.ts';
import { invariant } from '../lib/errors.ts';
import type { KafkaCluster } from './kafka-cluster.ts';

export interface ReplicationEnd {
  readonly cluster: KafkaCluster;
  readonly region: string;
  /** Subnets the replicator puts its ENIs in (the cluster's data tier). */
  readonly subnetIds: readonly string[];
  /** A security group that reaches the brokers (the broker group, self-referencing). */
  readonly securityGroupIds: readonly string[];
}

export interface KafkaReplicationProps {
  /** Replicator name (1-128 chars). */
  readonly name: string;
  readonly source: ReplicationEnd;
  readonly target: ReplicationEnd;
  /** Topic names or regexes to replicate. */
  readonly topics: readonly string[];
  /**
   * Keep source topic names (active-passive); false prefixes them with the source alias.
   * @default true
   */
  readonly identicalTopicNames?: boolean;
  /**
   * Where a new replication starts.
   * @default 'EARLIEST' (a standby must hold what the primary still retains)
   */
  readonly startingPosition?: 'EARLIEST' | 'LATEST';
  /**
   * Compression on the target.
   * @default 'LZ4'
   */
  readonly targetCompression?: 'NONE' | 'GZIP' | 'SNAPPY' | 'LZ4' | 'ZSTD';
}

export class KafkaReplication extends Construct {
  readonly replicator: MskReplicator;
  readonly role: IamRole;

  constructor(scope: Construct, id: string, props: KafkaReplicationProps) {
    super(scope, id);
    const what = `KafkaReplication ${id}`;
    const { source, target } = props;
    invariant(source.region !== target.region, what, 'source and target are in the same region; use a second region');
    invariant(source.cluster !== target.cluster, what, 'source and target are the same cluster');
    invariant(source.cluster.iamAuth && target.cluster.iamAuth, what, 'MSK Replicator authenticates with IAM: enable iamAuth on both clusters');
    invariant(source.cluster.multiVpcConnectivity, what, `source cluster ${source.cluster.name} needs multiVpcConnectivity for a cross-region replicator`);
    invariant(props.topics.length > 0, what, 'topics: nothing to replicate');
    invariant(props.name.length >= 1 && props.name.length <= 128, what, 'name: 1-128 characters');

    // The policy lives on the source cluster, in the source region (an aliased provider there).
    const sourceProvider = awsProviderIn(this, source.region);
    new MskClusterPolicy(this, 'source-policy', {
      ...(sourceProvider ? { provider: sourceProvider } : {}),
      clusterArn: source.cluster.cluster.arn,
      policy: Fn.jsonencode({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'MskReplicatorMultiVpc',
            Effect: 'Allow',
            Principal: { Service: 'kafka.amazonaws.com' },
            Action: ['kafka:CreateVpcConnection', 'kafka:GetBootstrapBrokers', 'kafka:DescribeClusterV2'],
            Resource: source.cluster.cluster.arn,
          },
        ],
      }),
    });

    this.role = new IamRole(this, 'role', {
      name: `${props.name}-replicator`,
      assumeRolePolicy: Fn.jsonencode({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'kafka.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      }),
    });
    const sub = (arn: string, kind: 'topic' | 'group'): string => `${Fn.replace(arn, ':cluster/', `:${kind}/`)}/*`;
    new IamRolePolicy(this, 'role-policy', {
      role: this.role.name,
      policy: Fn.jsonencode({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'Clusters',
            Effect: 'Allow',
            Action: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster', 'kafka-cluster:AlterCluster', 'kafka-cluster:WriteDataIdempotently'],
            Resource: [source.cluster.cluster.arn, target.cluster.cluster.arn],
          },
          {
            Sid: 'Topics',
            Effect: 'Allow',
            Action: [
              'kafka-cluster:DescribeTopic',
              'kafka-cluster:CreateTopic',
              'kafka-cluster:AlterTopic',
              'kafka-cluster:ReadData',
              'kafka-cluster:WriteData',
              'kafka-cluster:DescribeTopicDynamicConfiguration',
              'kafka-cluster:AlterTopicDynamicConfiguration',
            ],
            Resource: [sub(source.cluster.cluster.arn, 'topic'), sub(target.cluster.cluster.arn, 'topic')],
          },
          {
            Sid: 'Groups',
            Effect: 'Allow',
            Action: ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'],
            Resource: [sub(source.cluster.cluster.arn, 'group'), sub(target.cluster.cluster.arn, 'group')],
          },
        ],
      }),
    });

    const end = (e: ReplicationEnd) => ({
      amazonMskCluster: { mskClusterArn: e.cluster.cluster.arn },
      vpcConfig: { subnetIds: [...e.subnetIds], securityGroupsIds: [...e.securityGroupIds] },
    });
    const targetProvider = awsProviderIn(this, target.region);
    this.replicator = new MskReplicator(this, 'replicator', {
      ...(targetProvider ? { provider: targetProvider } : {}),
      replicatorName: props.name,
      description: `edgelog ${source.region} -> ${target.region}`,
      serviceExecutionRoleArn: this.role.arn,
      kafkaCluster: [end(source), end(target)],
      replicationInfoList: {
        sourceKafkaClusterArn: source.cluster.cluster.arn,
        targetKafkaClusterArn: target.cluster.cluster.arn,
        targetCompressionType: props.targetCompression ?? 'LZ4',
        topicReplication: [
          {
            topicsToReplicate: [...props.topics],
            copyTopicConfigurations: true,
            copyAccessControlListsForTopics: true,
            detectAndCopyNewTopics: true,
            startingPosition: { type: props.startingPosition ?? 'EARLIEST' },
            topicNameConfiguration: { type: (props.identicalTopicNames ?? true) ? 'IDENTICAL' : 'PREFIXED_WITH_SOURCE_CLUSTER_ALIAS' },
          },
        ],
        consumerGroupReplication: [
          {
            consumerGroupsToReplicate: ['.*'],
            synchroniseConsumerGroupOffsets: true,
            detectAndCopyNewConsumerGroups: true,
          },
        ],
      },
    });
  }
}
