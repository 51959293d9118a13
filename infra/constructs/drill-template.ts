// AWS FIS experiment template that takes the primary region's relays out,
// for the cloud failover drill (infra/RUNBOOK.md). Two ways to cut them:
//
// * 'disrupt-connectivity' (default): aws:network:disrupt-connectivity on the
//   relay subnets (found by tag) for `durationMinutes`. Relays stay up but
//   cannot be reached; the NLB marks them unhealthy, replacements the ASG
//   launches land in the same cut subnets, so the region stays down for the
//   whole window and then heals by itself. Brokers (data tier) are untouched.
// * 'stop-instances': aws:ec2:stop-instances on relay instances (by tag),
//   restarted after `durationMinutes`. Closer to a crash, but the ASG replaces
//   stopped relays, so the outage lasts only until replacements are ready.
//
// A stop condition (the failover target's health alarm) ends the experiment
// early if the region we fail over to is itself unhealthy.

import { CloudwatchLogGroup, Construct, FisExperimentTemplate, Fn, IamRole, IamRolePolicy } from '../lib/cdk.ts';
import { awsProviderIn } from '../lib/aws-providers.ts';
import { invariant } from '../lib/errors.ts';

export interface DrillTemplateProps {
  /** Name prefix for the role, log group and template tag. */
  readonly name: string;
  /** Region the relays (and so the experiment) are in. */
  readonly region: string;
  /** Tag that marks the relay subnets / instances of that region, e.g. { 'edgelog:tier': 'relay' }. */
  readonly targetTags: Readonly<Record<string, string>>;
  /**
   * How the relays are cut.
   * @default 'disrupt-connectivity'
   */
  readonly action?: 'disrupt-connectivity' | 'stop-instances';
  /**
   * Length of the outage, minutes (1-720).
   * @default 10
   */
  readonly durationMinutes?: number;
  /**
   * Alarm that stops the experiment; must be in `region`.
   * @default none (the experiment runs to its end unless stopped by hand)
   */
  readonly stopConditionAlarm?: { readonly arn: string; readonly region: string };
}

export class DrillTemplate extends Construct {
  readonly template: FisExperimentTemplate;
  readonly role: IamRole;

  constructor(scope: Construct, id: string, props: DrillTemplateProps) {
    super(scope, id);
    const what = `DrillTemplate ${id}`;
    const action = props.action ?? 'disrupt-connectivity';
    const minutes = props.durationMinutes ?? 10;
    const tags = Object.entries(props.targetTags);
    invariant(tags.length > 0, what, 'targetTags: without a tag filter the experiment would hit every subnet or instance in the region');
    invariant(Number.isInteger(minutes) && minutes >= 1 && minutes <= 720, what, `durationMinutes: 1..720, got ${minutes}`);
    invariant(
      !props.stopConditionAlarm || props.stopConditionAlarm.region === props.region,
      what,
      `stop condition alarm is in ${props.stopConditionAlarm?.region}, the experiment in ${props.region}: FIS only reads alarms in its own region`,
    );

    const provider = awsProviderIn(this, props.region);
    const inRegion = provider ? { provider } : {};
    const logs = new CloudwatchLogGroup(this, 'logs', { ...inRegion, name: `/edgelog/fis/${props.name}`, retentionInDays: 90 });
    this.role = new IamRole(this, 'role', {
      name: `${props.name}-fis`,
      assumeRolePolicy: Fn.jsonencode({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'fis.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      }),
    });
    const tagCondition = Object.fromEntries(tags.map(([k, v]) => [`aws:ResourceTag/${k}`, v]));
    const actions =
      action === 'disrupt-connectivity'
        ? [
            // What aws:network:disrupt-connectivity needs: it swaps the subnets' network ACL for a deny-all copy.
            { Effect: 'Allow', Action: ['ec2:DescribeSubnets', 'ec2:DescribeNetworkAcls', 'ec2:DescribeVpcs', 'ec2:DescribeManagedPrefixLists', 'ec2:GetManagedPrefixListEntries'], Resource: '*' },
            { Effect: 'Allow', Action: ['ec2:CreateNetworkAcl', 'ec2:CreateNetworkAclEntry', 'ec2:DeleteNetworkAcl', 'ec2:CreateTags', 'ec2:ReplaceNetworkAclAssociation'], Resource: '*' },
          ]
        : [
            { Effect: 'Allow', Action: ['ec2:DescribeInstances'], Resource: '*' },
            { Effect: 'Allow', Action: ['ec2:StopInstances', 'ec2:StartInstances'], Resource: '*', Condition: { StringEquals: tagCondition } },
          ];
    new IamRolePolicy(this, 'role-policy', {
      role: this.role.name,
      policy: Fn.jsonencode({
        Version: '2012-10-17',
        Statement: [
          ...actions,
          { Effect: 'Allow', Action: ['logs:CreateLogDelivery', 'logs:PutResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:DescribeLogGroups'], Resource: '*' },
        ],
      }),
    });

    const duration = `PT${minutes}M`;
    const resourceTag = tags.map(([key, value]) => ({ key, value }));
    this.template = new FisExperimentTemplate(this, 'template', {
      ...inRegion,
      description: `edgelog drill: cut the relays in ${props.region} for ${minutes} min (${action})`,
      roleArn: this.role.arn,
      stopCondition: props.stopConditionAlarm
        ? [{ source: 'aws:cloudwatch:alarm', value: props.stopConditionAlarm.arn }]
        : [{ source: 'none' }],
      logConfiguration: { logSchemaVersion: 2, cloudwatchLogsConfiguration: { logGroupArn: `${logs.arn}:*` } },
      target: [
        action === 'disrupt-connectivity'
          ? { name: 'relay-subnets', resourceType: 'aws:ec2:subnet', selectionMode: 'ALL', resourceTag }
          : { name: 'relay-instances', resourceType: 'aws:ec2:instance', selectionMode: 'ALL', resourceTag, filter: [{ path: 'State.Name', values: ['running'] }] },
      ],
      action: [
        action === 'disrupt-connectivity'
          ? {
              name: 'cut-relays',
              actionId: 'aws:network:disrupt-connectivity',
              parameter: [{ key: 'duration', value: duration }, { key: 'scope', value: 'all' }],
              target: { key: 'Subnets', value: 'relay-subnets' },
            }
          : {
              name: 'stop-relays',
              actionId: 'aws:ec2:stop-instances',
              parameter: [{ key: 'startInstancesAfterDuration', value: duration }],
              target: { key: 'Instances', value: 'relay-instances' },
            },
      ],
      tags: { Name: props.name },
    });
  }
}
