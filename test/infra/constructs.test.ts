// Synth assertions for every construct: the properties that matter
// (encryption, auth, health checks, scaling, failover types, lifecycle hook,
// IMDSv2...), contradictory props rejected at construct time, and two
// instances of each construct side by side without ID or name clashes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { config } from '../../infra/config.ts';
import { DrillTemplate } from '../../infra/constructs/drill-template.ts';
import { GlobalFailover, type GlobalFailoverProps } from '../../infra/constructs/global-failover.ts';
import { KafkaCluster } from '../../infra/constructs/kafka-cluster.ts';
import { KafkaReplication } from '../../infra/constructs/kafka-replication.ts';
import { Network, type NetworkProps } from '../../infra/constructs/network.ts';
import { RelayFleet } from '../../infra/constructs/relay-fleet.ts';
import { SecondCloud } from '../../infra/constructs/second-cloud.ts';
import { InfraPropsError } from '../../infra/lib/errors.ts';
import { physicalName } from '../../infra/stacks/policy.ts';
import {
  awsStack,
  duplicatePhysicalNames,
  googleStack,
  one,
  relayProps,
  resources,
  secondCloudProps,
  synth,
  synthAll,
  tempApp,
  tempEdgelogApp,
  type Json,
} from './fixtures.ts';

const networkProps = (name: string, over: Partial<NetworkProps> = {}): NetworkProps => ({
  name,
  cidr: '10.10.0.0/16',
  availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'],
  edgeCidrs: config.edgeCidrs,
  healthCheckerCidrs: config.route53HealthCheckerCidrs,
  forwardPort: config.ports.forward,
  healthPort: config.ports.health,
  ...over,
});

const failoverProps = (name: string, over: Partial<GlobalFailoverProps> = {}): GlobalFailoverProps => ({
  name,
  zoneName: 'example.com',
  recordName: `${name}.example.com`,
  standbyRecordName: `${name}-standby.example.com`,
  primary: { key: 'primary', region: 'us-east-1', lbArn: 'arn:lb:1', lbDnsName: 'nlb1.example', lbZoneId: 'Z1' },
  secondary: { key: 'secondary', region: 'us-west-2', lbArn: 'arn:lb:2', lbDnsName: 'nlb2.example', lbZoneId: 'Z2' },
  tertiary: { key: 'gcp', ipAddress: '192.0.2.10' },
  forwardPort: config.ports.forward,
  healthPort: config.ports.health,
  ...over,
});

const rejects = (fn: () => unknown, pattern: RegExp): void => {
  assert.throws(fn, (e: unknown) => e instanceof InfraPropsError && pattern.test(e.message));
};

// The real app, synthesized once for the assertions below.
let whole: Record<string, Json> | undefined;
const app = (t: Parameters<typeof tempEdgelogApp>[0]): Record<string, Json> => (whole ??= synthAll(tempEdgelogApp(t).app));

test('Network: three AZs, three tiers, NAT per AZ, tier security groups open only what they need', (t) => {
  const tf = app(t).primary;
  const subnets = resources(tf, 'aws_subnet');
  assert.equal(subnets.length, 9);
  for (const tier of ['public', 'relay', 'data']) {
    const ofTier = subnets.filter((s) => s.tags['edgelog:tier'] === tier);
    assert.deepEqual(ofTier.map((s) => s.availability_zone).sort(), config.aws.primary.availabilityZones);
  }
  assert.ok(subnets.every((s) => s.map_public_ip_on_launch === false));
  assert.equal(resources(tf, 'aws_nat_gateway').length, 3);
  const ingress = resources(tf, 'aws_vpc_security_group_ingress_rule');
  const fromCidr = ingress.filter((r) => r.cidr_ipv4);
  // Only the LB takes traffic from CIDRs: edge ranges on the forward port, health checkers on the health port.
  assert.deepEqual(
    fromCidr.map((r) => `${r.cidr_ipv4}:${r.from_port}`).sort(),
    [...config.edgeCidrs.map((c) => `${c}:${config.ports.forward}`), ...config.route53HealthCheckerCidrs.map((c) => `${c}:${config.ports.health}`)].sort(),
  );
  assert.ok(fromCidr.every((r) => String(r.security_group_id).includes('network_lb-sg')));
  const brokerRules = ingress.filter((r) => String(r.security_group_id).includes('broker-sg'));
  assert.ok(brokerRules.every((r) => r.referenced_security_group_id), 'brokers only reachable from security groups');
});

test('Network: a single NAT gateway when asked (test accounts)', (t) => {
  const stack = awsStack(tempApp(t));
  new Network(stack, 'n', networkProps('n', { natGateways: 'single' }));
  const tf = synth(stack);
  assert.equal(resources(tf, 'aws_nat_gateway').length, 1);
  assert.ok(resources(tf, 'aws_route').filter((r) => r.nat_gateway_id).every((r) => r.nat_gateway_id === resources(tf, 'aws_route').find((x) => x.nat_gateway_id)?.nat_gateway_id));
});

test('Network: contradictory props are rejected', (t) => {
  const stack = awsStack(tempApp(t));
  rejects(() => new Network(stack, 'a', networkProps('a', { edgeCidrs: ['0.0.0.0/0'] })), /whole internet/);
  rejects(() => new Network(stack, 'b', networkProps('b', { availabilityZones: ['us-east-1a'] })), /2 to 4 AZs/);
  rejects(() => new Network(stack, 'c', networkProps('c', { cidr: '10.0.0.0/24' })), /\/16 to \/20/);
  rejects(() => new Network(stack, 'd', networkProps('d', { healthPort: config.ports.forward })), /must differ/);
});

test('KafkaCluster: TLS, KMS at rest, IAM (SCRAM off by default), monitoring, logs, storage autoscaling, configuration', (t) => {
  const tf = app(t).primary;
  const msk = one(tf, 'aws_msk_cluster');
  assert.match(msk.encryption_info.encryption_at_rest_kms_key_arn, /aws_kms_key\..*\.arn/);
  assert.deepEqual(msk.encryption_info.encryption_in_transit, { client_broker: 'TLS', in_cluster: true });
  assert.deepEqual(msk.client_authentication, { sasl: { iam: true, scram: false }, unauthenticated: false });
  assert.equal(msk.enhanced_monitoring, 'PER_TOPIC_PER_PARTITION');
  assert.deepEqual(msk.open_monitoring.prometheus, { jmx_exporter: { enabled_in_broker: true }, node_exporter: { enabled_in_broker: true } });
  assert.equal(msk.logging_info.broker_logs.cloudwatch_logs.enabled, true);
  assert.equal(msk.number_of_broker_nodes, 3);
  assert.deepEqual(msk.broker_node_group_info.connectivity_info.vpc_connectivity.client_authentication.sasl, { iam: true, scram: false });
  assert.equal(one(tf, 'aws_kms_key').enable_key_rotation, true);
  const conf = one(tf, 'aws_msk_configuration');
  assert.match(conf.server_properties, /^min\.insync\.replicas=2$/m);
  assert.match(conf.server_properties, /^auto\.create\.topics\.enable=false$/m);
  assert.match(conf.server_properties, /^unclean\.leader\.election\.enable=false$/m);
  const target = one(tf, 'aws_appautoscaling_target');
  assert.equal(target.scalable_dimension, 'kafka:broker-storage:VolumeSize');
  assert.equal(target.max_capacity, config.kafka.maxVolumeGiB);
  const policy = one(tf, 'aws_appautoscaling_policy');
  assert.equal(policy.target_tracking_scaling_policy_configuration.predefined_metric_specification.predefined_metric_type, 'KafkaBrokerStorageUtilization');
  // Nothing uses SCRAM (relays and the Replicator use IAM): no SCRAM secret, association or ephemeral password.
  assert.equal(tf.resource.aws_msk_scram_secret_association, undefined);
  assert.equal(tf.ephemeral, undefined);
  assert.ok(Object.values(tf.resource.aws_secretsmanager_secret as Record<string, Json>).every((s) => !String(s.name).startsWith('AmazonMSK_')));
});

test('KafkaCluster: SCRAM is opt-in, its users get KMS-encrypted AmazonMSK_ secrets written only through the write-only attribute', (t) => {
  const stack = awsStack(tempApp(t));
  const net = new Network(stack, 'net', networkProps('net'));
  new KafkaCluster(stack, 'kafka', { name: 'kafka', subnetIds: net.dataSubnetIds, securityGroupIds: [net.brokerSecurityGroup.id], scramAuth: true, scramUsers: ['mirror'] });
  const tf = synth(stack);
  assert.deepEqual(one(tf, 'aws_msk_cluster').client_authentication, { sasl: { iam: true, scram: true }, unauthenticated: false });
  const secret = one(tf, 'aws_secretsmanager_secret');
  assert.equal(secret.name, 'AmazonMSK_kafka_mirror');
  assert.ok(secret.kms_key_id, 'SCRAM secret encrypted with the customer key');
  assert.ok(one(tf, 'aws_secretsmanager_secret_version').secret_string_wo, 'password only through the write-only attribute');
  assert.equal(one(tf, 'aws_msk_scram_secret_association').secret_arn_list.length, 1);
});

test('RelaySecrets: three KMS-encrypted secret containers, no value in Terraform; the relay role reads exactly those ARNs', (t) => {
  const tf = app(t).primary;
  const secrets = Object.entries(tf.resource.aws_secretsmanager_secret as Record<string, Json>);
  const name = physicalName(config, 'primary');
  assert.deepEqual(secrets.map(([, s]) => s.name).sort(), [`${name}/relay/agents-secrets`, `${name}/relay/tls-cert`, `${name}/relay/tls-key`]);
  const key = Object.keys(tf.resource.aws_kms_key as Record<string, Json>)[0];
  for (const [, s] of secrets) assert.equal(s.kms_key_id, `\${aws_kms_key.${key}.key_id}`, `${s.name} under the stack's customer key`);
  assert.equal(tf.resource.aws_secretsmanager_secret_version, undefined, 'values are put by the operator, never by Terraform');
  const policy = one(tf, 'aws_iam_role_policy').policy as string;
  const idOf = (suffix: string) => secrets.find(([, s]) => s.name === `${name}/relay/${suffix}`)![0];
  const arns = ['tls-cert', 'tls-key', 'agents-secrets'].map((k) => `aws_secretsmanager_secret.${idOf(k)}.arn`).join(', ');
  assert.ok(policy.includes(`{"Sid" = "RelaySecrets", "Effect" = "Allow", "Action" = "secretsmanager:GetSecretValue", "Resource" = [${arns}]}`), policy);
  assert.ok(policy.includes(`{"Sid" = "RelaySecretsKey", "Effect" = "Allow", "Action" = "kms:Decrypt", "Resource" = aws_kms_key.${key}.arn, "Condition" = {"StringEquals" = {"kms:ViaService" = "secretsmanager.us-east-1.amazonaws.com"}}}`), policy);
  // The boot script fetches exactly these names into the files the relay YAML reads.
  const script = Buffer.from(/base64decode\("([^"]+)"\)/.exec(one(tf, 'aws_launch_template').user_data)![1], 'base64').toString();
  for (const [file, id] of [['relay.pem', 'tls-cert'], ['relay.key', 'tls-key'], ['agents.secrets', 'agents-secrets']]) {
    assert.match(script, new RegExp(`'${name}/relay/${id}' '/etc/edgelog/(tls/)?${file.replace('.', '\\.')}'`));
  }
  assert.match(script, /aws secretsmanager get-secret-value --region 'us-east-1'/);
});

test('GcpRelaySecrets: Secret Manager containers in the relays region, each readable by the relay service account only', (t) => {
  const tf = app(t).gcp;
  const secrets = Object.values(tf.resource.google_secret_manager_secret as Record<string, Json>);
  assert.equal(secrets.length, 3);
  for (const s of secrets) assert.deepEqual(s.replication, { user_managed: { replicas: [{ location: config.gcp.region }] } });
  const members = Object.values(tf.resource.google_secret_manager_secret_iam_member as Record<string, Json>);
  assert.equal(members.length, 3);
  for (const m of members) {
    assert.equal(m.role, 'roles/secretmanager.secretAccessor');
    assert.match(m.member, /^serviceAccount:\$\{google_service_account\..*\.email\}$/);
  }
  assert.equal(tf.resource.google_secret_manager_secret_version, undefined);
});

test('KafkaCluster: contradictory props are rejected', (t) => {
  const stack = awsStack(tempApp(t));
  const base = { subnetIds: ['s1', 's2', 's3'], securityGroupIds: ['sg'] };
  rejects(() => new KafkaCluster(stack, 'a', { ...base, name: 'a', iamAuth: false, scramAuth: false }), /unauthenticated/);
  rejects(() => new KafkaCluster(stack, 'b', { ...base, name: 'b', scramAuth: false, scramUsers: ['u'] }), /scramAuth is false/);
  rejects(() => new KafkaCluster(stack, 'c', { ...base, name: 'c', volumeGiB: 2000, maxVolumeGiB: 1000 }), /could never scale/);
  rejects(() => new KafkaCluster(stack, 'd', { ...base, name: 'd', subnetIds: ['s1'] }), /two AZs/);
});

test('KafkaReplication: identical topic names, consumer offsets, prerequisites in the source region', (t) => {
  const tf = app(t).secondary;
  const rep = one(tf, 'aws_msk_replicator');
  // hashicorp/aws 5.x: no per-resource region; the replicator uses the stack's default provider (its region).
  assert.equal(rep.provider, undefined);
  assert.equal(tf.provider.aws.find((p: Json) => !p.alias).region, config.aws.secondary.region);
  const info = rep.replication_info_list;
  assert.match(info.source_kafka_cluster_arn, /terraform_remote_state\.cross-stack-reference-input-primary/);
  assert.match(info.target_kafka_cluster_arn, /aws_msk_cluster\./);
  assert.equal(info.topic_replication[0].topic_name_configuration.type, 'IDENTICAL');
  assert.deepEqual(info.topic_replication[0].topics_to_replicate, config.kafka.topics);
  assert.equal(info.consumer_group_replication[0].synchronise_consumer_group_offsets, true);
  assert.equal(rep.kafka_cluster.length, 2);
  const policy = one(tf, 'aws_msk_cluster_policy');
  // In the source region through an aliased provider (hashicorp/aws 5.x has no per-resource region).
  assert.equal(policy.provider, `aws.${config.aws.primary.region}`);
  const alias = tf.provider.aws.find((p: Json) => p.alias === config.aws.primary.region);
  assert.equal(alias?.region, config.aws.primary.region);
  assert.deepEqual(alias?.default_tags, tf.provider.aws.find((p: Json) => !p.alias).default_tags);
  assert.match(policy.policy, /kafka:CreateVpcConnection/);
  const role = resources(tf, 'aws_iam_role').find((r) => String(r.name).endsWith('-replicator'));
  assert.ok(role && /kafka\.amazonaws\.com/.test(role.assume_role_policy));
  assert.equal(resources(app(t).primary, 'aws_msk_replicator').length, 0);
});

test('KafkaReplication: contradictory props are rejected', (t) => {
  const stack = awsStack(tempApp(t));
  const base = { subnetIds: ['s1', 's2', 's3'], securityGroupIds: ['sg'] };
  const plain = new KafkaCluster(stack, 'plain', { ...base, name: 'plain' });
  const multi = new KafkaCluster(stack, 'multi', { ...base, name: 'multi', multiVpcConnectivity: true });
  const end = (cluster: KafkaCluster, region: string) => ({ cluster, region, subnetIds: ['s1'], securityGroupIds: ['sg'] });
  rejects(() => new KafkaReplication(stack, 'r1', { name: 'r1', source: end(plain, 'us-east-1'), target: end(multi, 'us-west-2'), topics: ['t'] }), /multiVpcConnectivity/);
  rejects(() => new KafkaReplication(stack, 'r2', { name: 'r2', source: end(multi, 'us-east-1'), target: end(plain, 'us-east-1'), topics: ['t'] }), /same region/);
  rejects(() => new KafkaReplication(stack, 'r3', { name: 'r3', source: end(multi, 'us-east-1'), target: end(plain, 'us-west-2'), topics: [] }), /nothing to replicate/);
});

test('RelayFleet: IMDSv2, /readyz health checks, ELB health, scaling on CPU and buffer occupancy, drain hook, refresh', (t) => {
  const tf = app(t).primary;
  const lt = one(tf, 'aws_launch_template');
  assert.equal(lt.metadata_options.http_tokens, 'required');
  assert.equal(lt.metadata_options.http_put_response_hop_limit, 1);
  assert.equal(lt.block_device_mappings[0].ebs.encrypted, 'true');
  const tgs = resources(tf, 'aws_lb_target_group');
  assert.equal(tgs.length, 2);
  for (const tg of tgs) {
    assert.equal(tg.protocol, 'TCP');
    assert.deepEqual(tg.health_check, {
      enabled: true,
      protocol: 'HTTP',
      port: String(config.ports.health),
      path: '/readyz',
      matcher: '200',
      interval: 10,
      timeout: 2,
      healthy_threshold: 3,
      unhealthy_threshold: 3,
    });
  }
  const lb = one(tf, 'aws_lb');
  assert.equal(lb.load_balancer_type, 'network');
  assert.equal(lb.internal, false);
  assert.deepEqual(resources(tf, 'aws_lb_listener').map((l) => l.port).sort(), [config.ports.forward, config.ports.health].sort());
  const asg = one(tf, 'aws_autoscaling_group');
  assert.equal(asg.health_check_type, 'ELB');
  assert.equal(asg.min_size, config.relay.minSize);
  assert.equal(asg.max_size, config.relay.maxSize);
  assert.equal(asg.vpc_zone_identifier.length, 3);
  assert.equal(asg.target_group_arns.length, 2);
  assert.equal(asg.instance_refresh.strategy, 'Rolling');
  assert.equal(asg.instance_refresh.preferences.min_healthy_percentage, 90);
  for (const key of Object.keys(config.tags)) {
    assert.ok(asg.tag.some((x: Json) => x.key === key && x.propagate_at_launch === true), `instances get tag ${key}`);
  }
  const hook = one(tf, 'aws_autoscaling_lifecycle_hook');
  assert.equal(hook.lifecycle_transition, 'autoscaling:EC2_INSTANCE_TERMINATING');
  assert.equal(hook.heartbeat_timeout, config.relay.drainSeconds);
  assert.equal(hook.default_result, 'CONTINUE');
  const policies = resources(tf, 'aws_autoscaling_policy');
  assert.equal(policies.length, 2);
  assert.ok(policies.every((p) => p.policy_type === 'TargetTrackingScaling'));
  const cpu = policies.find((p) => p.target_tracking_configuration.predefined_metric_specification);
  assert.equal(cpu?.target_tracking_configuration.predefined_metric_specification.predefined_metric_type, 'ASGAverageCPUUtilization');
  assert.equal(cpu?.target_tracking_configuration.target_value, config.relay.cpuTargetPercent);
  const custom = policies.find((p) => p.target_tracking_configuration.customized_metric_specification)?.target_tracking_configuration;
  assert.equal(custom?.customized_metric_specification.namespace, 'Edgelog/Relay');
  assert.equal(custom?.customized_metric_specification.metric_name, 'BufferOccupancy');
  assert.equal(custom?.target_value, config.relay.bufferOccupancyTarget);
  const tgDelay = Number(tgs[0].deregistration_delay);
  assert.ok(tgDelay <= hook.heartbeat_timeout, 'NLB drains before the hook gives up');
  const rolePolicy = resources(tf, 'aws_iam_role_policy').map((p) => String(p.policy)).join('\n');
  assert.match(rolePolicy, /autoscaling:CompleteLifecycleAction/);
  assert.match(rolePolicy, /kafka-cluster:WriteData/);
});

test('RelayFleet: contradictory props are rejected', (t) => {
  const stack = awsStack(tempApp(t));
  rejects(() => new RelayFleet(stack, 'a', relayProps('a', { minSize: 5, maxSize: 3 })), /minSize/);
  rejects(() => new RelayFleet(stack, 'b', relayProps('b', { minSize: 2 })), /leaves an AZ without a relay/);
  rejects(() => new RelayFleet(stack, 'c', relayProps('c', { drainSeconds: 60, deregistrationDelaySeconds: 120 })), /still draining/);
  rejects(() => new RelayFleet(stack, 'd', relayProps('d', { healthCheck: { intervalSeconds: 10, timeoutSeconds: 10 } })), /timeoutSeconds/);
  rejects(() => new RelayFleet(stack, 'e', relayProps('e', { configYaml: 'role: relay\n' })), /placeholder/);
  rejects(() => new RelayFleet(stack, 'f', relayProps('a-name-that-is-far-too-long-for-an-nlb')), /1-29/);
  rejects(() => new RelayFleet(stack, 'g', relayProps('g', { healthCheck: { path: 'readyz' } })), /start with/);
});

test('GlobalFailover: PRIMARY/SECONDARY chain to the secondary region then GCP, /readyz checks, accelerator per region', (t) => {
  const tf = app(t).global;
  const checks = resources(tf, 'aws_route53_health_check');
  assert.equal(checks.length, 3);
  for (const hc of checks) {
    assert.equal(hc.type, 'HTTP');
    assert.equal(hc.resource_path, '/readyz');
    assert.equal(hc.port, config.ports.health);
    assert.equal(hc.failure_threshold, 5);
    assert.equal(hc.request_interval, 10);
  }
  const records = resources(tf, 'aws_route53_record');
  const byName = (n: string) => records.filter((r) => r.name === n).map((r) => r.failover_routing_policy.type).sort();
  assert.deepEqual(byName(config.dns.recordName), ['PRIMARY', 'SECONDARY']);
  assert.deepEqual(byName(config.dns.standbyRecordName), ['PRIMARY', 'SECONDARY']);
  const primary = records.find((r) => r.name === config.dns.recordName && r.failover_routing_policy.type === 'PRIMARY');
  assert.equal(primary?.alias.evaluate_target_health, true);
  assert.match(primary?.alias.name, /cross-stack-reference-input-primary/);
  const gcp = records.find((r) => r.name === config.dns.standbyRecordName && r.failover_routing_policy.type === 'SECONDARY');
  // From configuration, not from the gcp stack's state.
  assert.equal(gcp?.records[0], config.gcp.frontEndAddress);
  assert.ok(records.filter((r) => !r.alias).every((r) => r.health_check_id), 'non-alias failover records carry a health check');
  const groups = resources(tf, 'aws_globalaccelerator_endpoint_group');
  assert.deepEqual(groups.map((g) => `${g.endpoint_group_region}:${g.traffic_dial_percentage}`).sort(), ['us-east-1:100', 'us-west-2:0']);
  assert.equal(one(tf, 'aws_globalaccelerator_listener').port_range[0].from_port, config.ports.forward);
  const alarm = one(tf, 'aws_cloudwatch_metric_alarm');
  assert.equal(alarm.namespace, 'AWS/Route53');
  assert.equal(alarm.provider, undefined, 'metrics region = the global stack provider region (us-east-1)');
});

test('GlobalFailover: DNS only, two AWS regions, no accelerator', (t) => {
  const stack = awsStack(tempApp(t));
  const props = failoverProps('dns', { accelerator: false });
  delete (props as { tertiary?: unknown }).tertiary;
  new GlobalFailover(stack, 'dns', props);
  const tf = synth(stack);
  assert.equal(resources(tf, 'aws_globalaccelerator_accelerator').length, 0);
  const records = resources(tf, 'aws_route53_record');
  assert.deepEqual(records.map((r) => `${r.name}:${r.failover_routing_policy.type}`).sort(), ['dns.example.com:PRIMARY', 'dns.example.com:SECONDARY']);
  assert.ok(records.every((r) => r.health_check_id && r.alias.evaluate_target_health === true));
});

test('GlobalFailover: contradictory props are rejected', (t) => {
  const stack = awsStack(tempApp(t));
  rejects(() => new GlobalFailover(stack, 'a', failoverProps('a', { requestInterval: 20 as 10 })), /10 or 30/);
  rejects(() => new GlobalFailover(stack, 'b', failoverProps('b', { recordName: 'x.other.org' })), /not in zone/);
  rejects(
    () => new GlobalFailover(stack, 'c', failoverProps('c', { secondary: { key: 'secondary', region: 'us-east-1', lbArn: 'a', lbDnsName: 'd', lbZoneId: 'z' } })),
    /same region/,
  );
  rejects(() => new GlobalFailover(stack, 'd', failoverProps('d', { failureThreshold: 0 })), /failureThreshold/);
});

test('SecondCloud: managed Kafka and topic, MIG with autoscaler and autohealing, passthrough LB with /readyz', (t) => {
  const tf = app(t).gcp;
  const kafka = one(tf, 'google_managed_kafka_cluster');
  assert.equal(kafka.capacity_config.vcpu_count, String(config.gcp.kafkaVcpus));
  assert.equal(kafka.capacity_config.memory_bytes, String(config.gcp.kafkaMemoryGiB * 1024 ** 3));
  const topic = one(tf, 'google_managed_kafka_topic');
  assert.equal(topic.topic_id, config.kafka.topics[0]);
  assert.equal(topic.replication_factor, 3);
  const hc = one(tf, 'google_compute_region_health_check');
  assert.deepEqual(hc.http_health_check, { port: config.ports.health, request_path: '/readyz' });
  const mig = one(tf, 'google_compute_region_instance_group_manager');
  assert.match(mig.auto_healing_policies.health_check, /google_compute_region_health_check/);
  assert.equal(mig.distribution_policy_zones.length, 3);
  const scaler = one(tf, 'google_compute_region_autoscaler');
  assert.equal(scaler.autoscaling_policy.min_replicas, config.gcp.minReplicas);
  assert.ok(scaler.autoscaling_policy.cpu_utilization.target > 0);
  assert.match(scaler.autoscaling_policy.metric[0].name, /buffer_occupancy/);
  const be = one(tf, 'google_compute_region_backend_service');
  assert.equal(be.load_balancing_scheme, 'EXTERNAL');
  assert.match(be.backend[0].group, /instance_group/);
  const fr = one(tf, 'google_compute_forwarding_rule');
  assert.deepEqual(fr.ports, [String(config.ports.forward), String(config.ports.health)]);
  const tpl = one(tf, 'google_compute_instance_template');
  assert.equal(tpl.network_interface[0].access_config, undefined, 'relays have no public IP');
  assert.equal(tpl.shielded_instance_config.enable_secure_boot, true);
});

test('SecondCloud: contradictory props are rejected', (t) => {
  const stack = googleStack(tempApp(t));
  rejects(() => new SecondCloud(stack, 'a', secondCloudProps('a', { kafkaVcpus: 3, kafkaMemoryGiB: 64 })), /per vCPU/);
  rejects(() => new SecondCloud(stack, 'b', secondCloudProps('b', { minReplicas: 4, maxReplicas: 2 })), /minReplicas/);
  rejects(() => new SecondCloud(stack, 'c', secondCloudProps('c', { edgeCidrs: ['0.0.0.0/0'] })), /whole internet/);
  rejects(() => new SecondCloud(stack, 'd', secondCloudProps('d', { zones: ['us-central1-a', 'us-central1-b'] })), /zones/);
  rejects(() => new SecondCloud(stack, 'E', secondCloudProps('E')), /lowercase/);
});

test('DrillTemplate: FIS cuts the relay subnets for a bounded time, stops on the failover target alarm', (t) => {
  const tf = app(t).global;
  const fis = one(tf, 'aws_fis_experiment_template');
  assert.equal(fis.provider, undefined, 'the global stack provider is in the primary region');
  assert.equal(config.aws.globalRegion, config.aws.primary.region);
  assert.equal(fis.action[0].action_id, 'aws:network:disrupt-connectivity');
  assert.deepEqual(fis.action[0].parameter, [{ key: 'duration', value: 'PT10M' }, { key: 'scope', value: 'all' }]);
  assert.equal(fis.target[0].resource_type, 'aws:ec2:subnet');
  assert.deepEqual(fis.target[0].resource_tag, [
    { key: 'edgelog:tier', value: 'relay' },
    { key: 'edgelog:region-role', value: 'primary' },
  ]);
  assert.equal(fis.stop_condition[0].source, 'aws:cloudwatch:alarm');
  assert.match(fis.stop_condition[0].value, /aws_cloudwatch_metric_alarm\./);
  // Every relay subnet carries the tags the experiment selects on (provider default tag + subnet tag).
  const relaySubnets = resources(app(t).primary, 'aws_subnet').filter((s) => s.tags['edgelog:tier'] === 'relay');
  assert.equal(relaySubnets.length, 3);
  assert.equal(app(t).primary.provider.aws[0].default_tags[0].tags['edgelog:region-role'], 'primary');
});

test('DrillTemplate: stop-instances variant and contradictory props', (t) => {
  const stack = awsStack(tempApp(t));
  new DrillTemplate(stack, 'stop', { name: 'stop', region: 'us-east-1', targetTags: { 'edgelog:role': 'relay' }, action: 'stop-instances', durationMinutes: 5 });
  const fis = one(synth(stack), 'aws_fis_experiment_template');
  assert.equal(fis.action[0].action_id, 'aws:ec2:stop-instances');
  assert.deepEqual(fis.action[0].parameter, [{ key: 'startInstancesAfterDuration', value: 'PT5M' }]);
  assert.equal(fis.stop_condition[0].source, 'none');
  rejects(() => new DrillTemplate(stack, 'a', { name: 'a', region: 'us-east-1', targetTags: {} }), /every subnet/);
  rejects(
    () => new DrillTemplate(stack, 'b', { name: 'b', region: 'eu-west-1', targetTags: { k: 'v' }, stopConditionAlarm: { arn: 'arn', region: 'us-east-1' } }),
    /own region/,
  );
  rejects(() => new DrillTemplate(stack, 'c', { name: 'c', region: 'us-east-1', targetTags: { k: 'v' }, durationMinutes: 0 }), /durationMinutes/);
});

test('two instances of every construct in one stack: no ID or physical-name clash', (t) => {
  const app = tempApp(t);
  const stack = awsStack(app);
  for (const n of ['one', 'two']) {
    const net = new Network(stack, `net-${n}`, networkProps(`net-${n}`));
    const kafka = new KafkaCluster(stack, `kafka-${n}`, {
      name: `kafka-${n}`,
      subnetIds: net.dataSubnetIds,
      securityGroupIds: [net.brokerSecurityGroup.id],
      scramAuth: true,
      scramUsers: ['relay'],
      multiVpcConnectivity: true,
    });
    new RelayFleet(stack, `relays-${n}`, relayProps(`relays-${n}`, { kafkaClusterArn: kafka.cluster.arn, kafkaBootstrap: kafka.bootstrapBrokersIam }));
    new GlobalFailover(stack, `failover-${n}`, failoverProps(`failover-${n}`));
    new DrillTemplate(stack, `drill-${n}`, { name: `drill-${n}`, region: 'us-east-1', targetTags: { 'edgelog:tier': `relay-${n}` } });
  }
  const k1 = new KafkaCluster(stack, 'src', { name: 'src', subnetIds: ['a', 'b'], securityGroupIds: ['sg'], multiVpcConnectivity: true });
  const k2 = new KafkaCluster(stack, 'dst', { name: 'dst', subnetIds: ['a', 'b'], securityGroupIds: ['sg'] });
  for (const n of ['one', 'two']) {
    new KafkaReplication(stack, `rep-${n}`, {
      name: `rep-${n}`,
      source: { cluster: k1, region: 'us-east-1', subnetIds: ['a'], securityGroupIds: ['sg'] },
      target: { cluster: k2, region: 'us-west-2', subnetIds: ['b'], securityGroupIds: ['sg'] },
      topics: ['t'],
    });
  }
  const gstack = googleStack(app);
  new SecondCloud(gstack, 'gcp-one', secondCloudProps('gcp-one'));
  new SecondCloud(gstack, 'gcp-two', secondCloudProps('gcp-two'));

  const tf = synth(stack);
  assert.deepEqual(duplicatePhysicalNames(tf), []);
  assert.equal(resources(tf, 'aws_msk_cluster').length, 4);
  assert.equal(resources(tf, 'aws_autoscaling_group').length, 2);
  assert.equal(resources(tf, 'aws_msk_replicator').length, 2);
  const gtf = synth(gstack);
  assert.deepEqual(duplicatePhysicalNames(gtf), []);
  assert.equal(resources(gtf, 'google_compute_region_instance_group_manager').length, 2);
});

test('the clash detector catches two constructs given the same name', (t) => {
  const stack = awsStack(tempApp(t));
  new RelayFleet(stack, 'a', relayProps('same-name'));
  new RelayFleet(stack, 'b', relayProps('same-name'));
  const dupes = duplicatePhysicalNames(synth(stack));
  assert.ok(dupes.includes('aws_lb: same-name'), dupes.join(', '));
  assert.ok(dupes.includes('aws_autoscaling_group: same-name'));
});

test('the same construct id twice in one scope is refused by the construct tree', (t) => {
  const stack = awsStack(tempApp(t));
  new RelayFleet(stack, 'relays', relayProps('x'));
  assert.throws(() => new RelayFleet(stack, 'relays', relayProps('y')), /There is already a Construct with name 'relays'/);
});
