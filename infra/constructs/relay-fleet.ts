// The relay tier of one region: agents in relay role behind an internet-facing
// NLB. Launch template with IMDSv2 only and the agent installer's cloud-init
// as user data; an ASG across the relay subnets, health-checked by the NLB on
// /readyz; target tracking on CPU and on the relays' own buffer occupancy
// metric; a terminating lifecycle hook so a relay drains (stops accepting,
// flushes to Kafka, acks) before it dies; rolling instance refresh on every
// launch template change.

import {
  AutoscalingGroup,
  AutoscalingLifecycleHook,
  AutoscalingPolicy,
  Construct,
  Fn,
  IamInstanceProfile,
  IamRole,
  IamRolePolicy,
  IamRolePolicyAttachment,
  LaunchTemplate,
  Lb,
  LbListener,
  LbTargetGroup,
  Token,
} from '../lib/cdk.ts';
import { invariant } from '../lib/errors.ts';
import type { SecretFile } from '../../agent/install/secrets-fetch.ts';
import { ec2UserData, KAFKA_BOOTSTRAP_PLACEHOLDER, relayBootScript, type AgentInstall } from '../lib/user-data.ts';

export interface RelayHealthCheckProps {
  /**
   * HTTP path the NLB probes on the health port.
   * @default '/readyz'
   */
  readonly path?: string;
  /**
   * Seconds between probes (NLB: 5 to 300).
   * @default 10
   */
  readonly intervalSeconds?: number;
  /**
   * A probe slower than this fails (NLB HTTP: 2 to 120, below the interval).
   * @default 2 (the design brief's "slow check")
   */
  readonly timeoutSeconds?: number;
  /**
   * Consecutive passes before a relay takes traffic (2 to 10).
   * @default 3
   */
  readonly healthyThreshold?: number;
  /**
   * Consecutive failures before a relay is taken out (2 to 10).
   * @default 3
   */
  readonly unhealthyThreshold?: number;
}

export interface RelayFleetSecrets {
  /** Secrets Manager ARNs the role may read (GetSecretValue), no wildcard. */
  readonly arns: readonly string[];
  /** The customer key encrypting them (kms:Decrypt via Secrets Manager only). */
  readonly kmsKeyArn: string;
  /** AWS region of the secrets. */
  readonly region: string;
  /** Secret name -> file path, as the boot script writes them. */
  readonly files: readonly SecretFile[];
}

export interface RelayFleetProps {
  /** Name of the ASG, NLB and target groups; at most 29 characters (NLB/target group limit 32 minus "-hc"). */
  readonly name: string;
  /** Private subnets of the relay tier, one per AZ. */
  readonly subnetIds: readonly string[];
  /** Public subnets for the NLB. */
  readonly lbSubnetIds: readonly string[];
  readonly vpcId: string;
  readonly relaySecurityGroupId: string;
  readonly lbSecurityGroupId: string;
  readonly forwardPort: number;
  readonly healthPort: number;
  /** Tags every relay instance and volume carries (propagated by the ASG). */
  readonly instanceTags: Readonly<Record<string, string>>;
  /** Release the relays install (the agent's own installer does the work). */
  readonly install: AgentInstall;
  /** The relay's edgelog.yaml; must contain `bootstrapPlaceholder`. */
  readonly configYaml: string;
  /** Terraform reference to the region's bootstrap brokers (SASL/SCRAM listener, 9096). */
  readonly kafkaBootstrap: string;
  /** The MSK cluster ARN the relays may write to (IAM auth). */
  readonly kafkaClusterArn: string;
  /**
   * The relays' secrets (RelaySecrets): fetched at boot by the user data
   * before the agent starts; the role may read exactly these ARNs.
   * @default none (the image must carry the TLS files and agents.secrets)
   */
  readonly secrets?: RelayFleetSecrets;
  /**
   * Placeholder in configYaml replaced by kafkaBootstrap at apply time.
   * @default KAFKA_BOOTSTRAP_PLACEHOLDER ('@@EDGELOG_KAFKA_BOOTSTRAP@@')
   */
  readonly bootstrapPlaceholder?: string;
  /**
   * Instance type (Graviton: the agent is network bound, not CPU bound).
   * @default 'c7g.large'
   */
  readonly instanceType?: string;
  /**
   * AMI; `resolve:ssm:` lets EC2 resolve the latest Amazon Linux at launch.
   * @default 'resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64'
   */
  readonly imageId?: string;
  /**
   * Root volume (also the disk spool), GiB, encrypted gp3.
   * @default 30
   */
  readonly rootVolumeGiB?: number;
  /**
   * Fewest relays; at least one per subnet so every AZ keeps a relay.
   * @default 3
   */
  readonly minSize?: number;
  /**
   * Most relays.
   * @default 12
   */
  readonly maxSize?: number;
  /**
   * Average CPU the ASG keeps (target tracking).
   * @default 50
   */
  readonly cpuTargetPercent?: number;
  /**
   * The relays' own load metric for target tracking: buffer occupancy (0..1)
   * published per ASG by the relays (see infra/README.md).
   * @default { namespace: 'Edgelog/Relay', metricName: 'BufferOccupancy', target: 0.5 }
   */
  readonly loadMetric?: { readonly namespace: string; readonly metricName: string; readonly target: number };
  /**
   * NLB health check of both target groups.
   * @default the RelayHealthCheckProps defaults (/readyz, 10 s, 2 s timeout, 3/3)
   */
  readonly healthCheck?: RelayHealthCheckProps;
  /**
   * Lifecycle hook heartbeat: how long a terminating relay may drain, seconds.
   * @default 300
   */
  readonly drainSeconds?: number;
  /**
   * NLB deregistration delay, seconds; must not exceed drainSeconds.
   * @default 240
   */
  readonly deregistrationDelaySeconds?: number;
  /**
   * Seconds a new relay gets before its health counts (install + first /readyz).
   * @default 180
   */
  readonly warmupSeconds?: number;
}

const DEFAULT_IMAGE = 'resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64';

export class RelayFleet extends Construct {
  readonly launchTemplate: LaunchTemplate;
  readonly asg: AutoscalingGroup;
  readonly nlb: Lb;
  readonly forwardTargetGroup: LbTargetGroup;
  readonly healthTargetGroup: LbTargetGroup;
  readonly lifecycleHook: AutoscalingLifecycleHook;
  /** The installer's script exactly as rendered (before the bootstrap placeholder is filled in). */
  readonly bootScript: string;

  constructor(scope: Construct, id: string, props: RelayFleetProps) {
    super(scope, id);
    const what = `RelayFleet ${id}`;
    const min = props.minSize ?? 3;
    const max = props.maxSize ?? 12;
    const hc = props.healthCheck ?? {};
    const path = hc.path ?? '/readyz';
    const interval = hc.intervalSeconds ?? 10;
    const timeout = hc.timeoutSeconds ?? 2;
    const healthy = hc.healthyThreshold ?? 3;
    const unhealthy = hc.unhealthyThreshold ?? 3;
    const drain = props.drainSeconds ?? 300;
    const dereg = props.deregistrationDelaySeconds ?? 240;
    const warmup = props.warmupSeconds ?? 180;
    const placeholder = props.bootstrapPlaceholder ?? KAFKA_BOOTSTRAP_PLACEHOLDER;
    const metric = props.loadMetric ?? { namespace: 'Edgelog/Relay', metricName: 'BufferOccupancy', target: 0.5 };

    invariant(/^[A-Za-z0-9-]{1,29}$/.test(props.name) && !props.name.startsWith('internal-'), what, `name: 1-29 letters, digits or hyphens, got ${props.name}`);
    invariant(min >= 1 && min <= max, what, `minSize (${min}) must be 1..maxSize (${max})`);
    invariant(min >= props.subnetIds.length, what, `minSize (${min}) below the AZ count (${props.subnetIds.length}) leaves an AZ without a relay`);
    invariant(props.subnetIds.length >= 2 && props.lbSubnetIds.length >= 2, what, 'relays and the NLB need subnets in at least two AZs');
    invariant(path.startsWith('/'), what, `healthCheck.path must start with '/', got ${path}`);
    invariant(interval >= 5 && interval <= 300, what, `healthCheck.intervalSeconds: 5..300, got ${interval}`);
    invariant(timeout >= 2 && timeout < interval, what, `healthCheck.timeoutSeconds (${timeout}) must be 2..interval-1`);
    invariant([healthy, unhealthy].every((n) => n >= 2 && n <= 10), what, 'health check thresholds: 2..10');
    invariant(dereg <= drain, what, `deregistrationDelaySeconds (${dereg}) exceeds drainSeconds (${drain}): the hook would kill relays still draining`);
    invariant(drain >= 30 && drain <= 7200, what, `drainSeconds: 30..7200 (lifecycle hook heartbeat), got ${drain}`);
    invariant(props.forwardPort !== props.healthPort, what, 'forwardPort and healthPort must differ');
    invariant(props.configYaml.includes(placeholder), what, `configYaml lacks the bootstrap placeholder ${placeholder}`);
    invariant(metric.target > 0, what, 'loadMetric.target must be positive');

    // --- instance identity ---
    const role = new IamRole(this, 'role', {
      name: `${props.name}-relay`,
      assumeRolePolicy: Fn.jsonencode({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      }),
    });
    new IamRolePolicyAttachment(this, 'ssm', {
      role: role.name,
      policyArn: 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore',
    });
    const profile = new IamInstanceProfile(this, 'profile', { name: `${props.name}-relay`, role: role.name });

    // --- launch template ---
    this.bootScript = relayBootScript(props.install, props.configYaml,
      props.secrets ? { store: 'aws-secretsmanager', region: props.secrets.region, files: props.secrets.files } : undefined);
    this.launchTemplate = new LaunchTemplate(this, 'lt', {
      name: `${props.name}-relay`,
      description: `edgelog relay ${props.install.version}`,
      imageId: props.imageId ?? DEFAULT_IMAGE,
      instanceType: props.instanceType ?? 'c7g.large',
      updateDefaultVersion: true,
      userData: ec2UserData(this.bootScript, placeholder, props.kafkaBootstrap),
      iamInstanceProfile: { arn: profile.arn },
      vpcSecurityGroupIds: [props.relaySecurityGroupId],
      metadataOptions: {
        httpEndpoint: 'enabled',
        httpTokens: 'required',
        httpPutResponseHopLimit: 1,
        instanceMetadataTags: 'enabled',
      },
      monitoring: { enabled: true },
      blockDeviceMappings: [
        {
          deviceName: '/dev/xvda',
          ebs: { volumeSize: props.rootVolumeGiB ?? 30, volumeType: 'gp3', encrypted: 'true', deleteOnTermination: 'true' },
        },
      ],
      tagSpecifications: [
        { resourceType: 'instance', tags: { ...props.instanceTags } },
        { resourceType: 'volume', tags: { ...props.instanceTags } },
      ],
    });

    // --- load balancer ---
    this.nlb = new Lb(this, 'nlb', {
      name: props.name,
      loadBalancerType: 'network',
      internal: false,
      subnets: [...props.lbSubnetIds],
      securityGroups: [props.lbSecurityGroupId],
      enableCrossZoneLoadBalancing: true,
    });
    const healthCheck = {
      enabled: true,
      protocol: 'HTTP',
      port: String(props.healthPort),
      path,
      matcher: '200',
      interval,
      timeout,
      healthyThreshold: healthy,
      unhealthyThreshold: unhealthy,
    };
    const targetGroup = (key: string, tgName: string, port: number): LbTargetGroup =>
      new LbTargetGroup(this, key, {
        name: tgName,
        port,
        protocol: 'TCP',
        vpcId: props.vpcId,
        targetType: 'instance',
        deregistrationDelay: String(dereg),
        preserveClientIp: 'true',
        healthCheck,
      });
    this.forwardTargetGroup = targetGroup('tg-forward', props.name, props.forwardPort);
    // /readyz through the NLB, for Route 53 health checks of the whole region.
    this.healthTargetGroup = targetGroup('tg-health', `${props.name}-hc`, props.healthPort);
    new LbListener(this, 'listener-forward', {
      loadBalancerArn: this.nlb.arn,
      port: props.forwardPort,
      protocol: 'TCP',
      defaultAction: [{ type: 'forward', targetGroupArn: this.forwardTargetGroup.arn }],
    });
    new LbListener(this, 'listener-health', {
      loadBalancerArn: this.nlb.arn,
      port: props.healthPort,
      protocol: 'TCP',
      defaultAction: [{ type: 'forward', targetGroupArn: this.healthTargetGroup.arn }],
    });

    // --- autoscaling group ---
    this.asg = new AutoscalingGroup(this, 'asg', {
      name: props.name,
      minSize: min,
      maxSize: max,
      vpcZoneIdentifier: [...props.subnetIds],
      launchTemplate: { id: this.launchTemplate.id, version: Token.asString(this.launchTemplate.latestVersion) },
      targetGroupArns: [this.forwardTargetGroup.arn, this.healthTargetGroup.arn],
      healthCheckType: 'ELB',
      healthCheckGracePeriod: warmup,
      defaultInstanceWarmup: warmup,
      capacityRebalance: true,
      enabledMetrics: ['GroupDesiredCapacity', 'GroupInServiceInstances', 'GroupPendingInstances', 'GroupTerminatingInstances'],
      instanceRefresh: {
        strategy: 'Rolling',
        preferences: { minHealthyPercentage: 90, maxHealthyPercentage: 120, instanceWarmup: String(warmup) },
      },
      tag: Object.entries({ ...props.instanceTags, Name: `${props.name}-relay` }).map(([key, value]) => ({
        key,
        value,
        propagateAtLaunch: true,
      })),
      lifecycle: { ignoreChanges: ['desired_capacity'] },
    });
    this.lifecycleHook = new AutoscalingLifecycleHook(this, 'drain-hook', {
      name: `${props.name}-drain`,
      autoscalingGroupName: this.asg.name,
      lifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      heartbeatTimeout: drain,
      // If a relay cannot finish draining, terminate anyway: un-acked data is still on the edge nodes.
      defaultResult: 'CONTINUE',
    });
    new AutoscalingPolicy(this, 'scale-cpu', {
      name: `${props.name}-cpu`,
      autoscalingGroupName: this.asg.name,
      policyType: 'TargetTrackingScaling',
      estimatedInstanceWarmup: warmup,
      targetTrackingConfiguration: {
        targetValue: props.cpuTargetPercent ?? 50,
        predefinedMetricSpecification: { predefinedMetricType: 'ASGAverageCPUUtilization' },
      },
    });
    new AutoscalingPolicy(this, 'scale-load', {
      name: `${props.name}-load`,
      autoscalingGroupName: this.asg.name,
      policyType: 'TargetTrackingScaling',
      estimatedInstanceWarmup: warmup,
      targetTrackingConfiguration: {
        targetValue: metric.target,
        customizedMetricSpecification: {
          namespace: metric.namespace,
          metricName: metric.metricName,
          statistic: 'Average',
          metricDimension: [{ name: 'AutoScalingGroupName', value: this.asg.name }],
        },
      },
    });

    new IamRolePolicy(this, 'role-policy', {
      role: role.name,
      policy: Fn.jsonencode({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'KafkaWrite',
            Effect: 'Allow',
            Action: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster', 'kafka-cluster:WriteDataIdempotently'],
            Resource: props.kafkaClusterArn,
          },
          {
            Sid: 'KafkaTopics',
            Effect: 'Allow',
            // CreateTopic: the sink's create_topic makes the topic before the first record.
            Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData', 'kafka-cluster:CreateTopic'],
            Resource: `${Fn.replace(props.kafkaClusterArn, ':cluster/', ':topic/')}/*`,
          },
          ...(props.secrets ? [
            {
              Sid: 'RelaySecrets',
              Effect: 'Allow',
              Action: 'secretsmanager:GetSecretValue',
              Resource: [...props.secrets.arns],
            },
            {
              Sid: 'RelaySecretsKey',
              Effect: 'Allow',
              Action: 'kms:Decrypt',
              Resource: props.secrets.kmsKeyArn,
              // Only to decrypt a secret value through Secrets Manager, not arbitrary ciphertext.
              Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${props.secrets.region}.amazonaws.com` } },
            },
          ] : []),
          {
            Sid: 'LoadMetric',
            Effect: 'Allow',
            Action: 'cloudwatch:PutMetricData',
            Resource: '*',
            Condition: { StringEquals: { 'cloudwatch:namespace': metric.namespace } },
          },
          {
            Sid: 'Drain',
            Effect: 'Allow',
            Action: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
            Resource: this.asg.arn,
          },
        ],
      }),
    });
  }
}
