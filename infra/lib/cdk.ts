// The ONE module through which infra/ touches cdktf, constructs and the
// prebuilt providers. cdktf was archived in Dec 2025; its maintained fork,
// CDK Terrain, publishes the same API under `cdktn` (and `@cdktn/provider-*`).
// Switching is a change to the import specifiers below and nothing else
// (see infra/README.md, "Switching to CDK Terrain").
//
// Provider classes are imported per submodule (`lib/<resource>/index.js`), not
// from the package root: the root index loads every resource of the provider
// (thousands of modules) and makes a synth take many seconds.

export { Construct } from 'constructs';
export type { IConstruct } from 'constructs';
export {
  App,
  Aspects,
  Fn,
  LocalBackend,
  TerraformOutput,
  TerraformStack,
  Testing,
  Token,
} from 'cdktf';
export type { IAspect } from 'cdktf';

// --- AWS (hashicorp/aws 5.100.0 through @cdktf/provider-aws 20.1.0, pinned: the provider
// version a Terraform mirror here can verify; see infra/README.md for moving to 6.x) ---
export { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
export { Vpc } from '@cdktf/provider-aws/lib/vpc/index.js';
export { Subnet } from '@cdktf/provider-aws/lib/subnet/index.js';
export { InternetGateway } from '@cdktf/provider-aws/lib/internet-gateway/index.js';
export { Eip } from '@cdktf/provider-aws/lib/eip/index.js';
export { NatGateway } from '@cdktf/provider-aws/lib/nat-gateway/index.js';
export { RouteTable } from '@cdktf/provider-aws/lib/route-table/index.js';
export { Route } from '@cdktf/provider-aws/lib/route/index.js';
export { RouteTableAssociation } from '@cdktf/provider-aws/lib/route-table-association/index.js';
export { SecurityGroup } from '@cdktf/provider-aws/lib/security-group/index.js';
export { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule/index.js';
export { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule/index.js';
export { KmsKey } from '@cdktf/provider-aws/lib/kms-key/index.js';
export { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias/index.js';
export { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
export { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm/index.js';
export { MskCluster } from '@cdktf/provider-aws/lib/msk-cluster/index.js';
export { MskConfiguration } from '@cdktf/provider-aws/lib/msk-configuration/index.js';
export { MskClusterPolicy } from '@cdktf/provider-aws/lib/msk-cluster-policy/index.js';
export { MskReplicator } from '@cdktf/provider-aws/lib/msk-replicator/index.js';
export { MskScramSecretAssociation } from '@cdktf/provider-aws/lib/msk-scram-secret-association/index.js';
export { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret/index.js';
export { SecretsmanagerSecretVersion } from '@cdktf/provider-aws/lib/secretsmanager-secret-version/index.js';
export { AppautoscalingTarget } from '@cdktf/provider-aws/lib/appautoscaling-target/index.js';
export { AppautoscalingPolicy } from '@cdktf/provider-aws/lib/appautoscaling-policy/index.js';
export { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
export { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy/index.js';
export { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment/index.js';
export { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile/index.js';
export { LaunchTemplate } from '@cdktf/provider-aws/lib/launch-template/index.js';
export { AutoscalingGroup } from '@cdktf/provider-aws/lib/autoscaling-group/index.js';
export { AutoscalingPolicy } from '@cdktf/provider-aws/lib/autoscaling-policy/index.js';
export { AutoscalingLifecycleHook } from '@cdktf/provider-aws/lib/autoscaling-lifecycle-hook/index.js';
export { Lb } from '@cdktf/provider-aws/lib/lb/index.js';
export { LbTargetGroup } from '@cdktf/provider-aws/lib/lb-target-group/index.js';
export { LbListener } from '@cdktf/provider-aws/lib/lb-listener/index.js';
export { DataAwsRoute53Zone } from '@cdktf/provider-aws/lib/data-aws-route53-zone/index.js';
export { Route53HealthCheck } from '@cdktf/provider-aws/lib/route53-health-check/index.js';
export { Route53Record } from '@cdktf/provider-aws/lib/route53-record/index.js';
export { GlobalacceleratorAccelerator } from '@cdktf/provider-aws/lib/globalaccelerator-accelerator/index.js';
export { GlobalacceleratorListener } from '@cdktf/provider-aws/lib/globalaccelerator-listener/index.js';
export { GlobalacceleratorEndpointGroup } from '@cdktf/provider-aws/lib/globalaccelerator-endpoint-group/index.js';
export { FisExperimentTemplate } from '@cdktf/provider-aws/lib/fis-experiment-template/index.js';

// --- Google Cloud (hashicorp/google 6.x through @cdktf/provider-google 16.x) ---
export { GoogleProvider } from '@cdktf/provider-google/lib/provider/index.js';
export { ComputeNetwork } from '@cdktf/provider-google/lib/compute-network/index.js';
export { ComputeSubnetwork } from '@cdktf/provider-google/lib/compute-subnetwork/index.js';
export { ComputeRouter } from '@cdktf/provider-google/lib/compute-router/index.js';
export { ComputeRouterNat } from '@cdktf/provider-google/lib/compute-router-nat/index.js';
export { ComputeFirewall } from '@cdktf/provider-google/lib/compute-firewall/index.js';
export { ComputeAddress } from '@cdktf/provider-google/lib/compute-address/index.js';
export { ComputeInstanceTemplate } from '@cdktf/provider-google/lib/compute-instance-template/index.js';
export { ComputeRegionHealthCheck } from '@cdktf/provider-google/lib/compute-region-health-check/index.js';
export { ComputeRegionInstanceGroupManager } from '@cdktf/provider-google/lib/compute-region-instance-group-manager/index.js';
export { ComputeRegionAutoscaler } from '@cdktf/provider-google/lib/compute-region-autoscaler/index.js';
export { ComputeRegionBackendService } from '@cdktf/provider-google/lib/compute-region-backend-service/index.js';
export { ComputeForwardingRule } from '@cdktf/provider-google/lib/compute-forwarding-rule/index.js';
export { ManagedKafkaCluster } from '@cdktf/provider-google/lib/managed-kafka-cluster/index.js';
export { ManagedKafkaTopic } from '@cdktf/provider-google/lib/managed-kafka-topic/index.js';
export { ServiceAccount } from '@cdktf/provider-google/lib/service-account/index.js';
export { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member/index.js';
export { SecretManagerSecret } from '@cdktf/provider-google/lib/secret-manager-secret/index.js';
export { SecretManagerSecretIamMember } from '@cdktf/provider-google/lib/secret-manager-secret-iam-member/index.js';
