// Policy checks: the real app complies, and each rule fires when its
// property is broken, both on a mutated JSON document and through synth
// (escape hatches cannot slip past: the checks read the synthesized JSON).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { config } from '../../infra/config.ts';
import { KafkaCluster } from '../../infra/constructs/kafka-cluster.ts';
import { RelayFleet } from '../../infra/constructs/relay-fleet.ts';
import { AutoscalingGroup, AwsProvider, VpcSecurityGroupIngressRule } from '../../infra/lib/cdk.ts';
import { PolicyViolationError } from '../../infra/lib/errors.ts';
import { checkPolicies, type PolicyRule } from '../../infra/lib/policy.ts';
import { EdgelogStack } from '../../infra/lib/stack.ts';
import { awsStack, policy, relayProps, synth, synthAll, tempApp, tempEdgelogApp, type Json } from './fixtures.ts';

let clean: Record<string, Json> | undefined;
const stacks = (t: Parameters<typeof tempApp>[0]): Record<string, Json> => (clean ??= synthAll(tempEdgelogApp(t).app));

/** A deep copy of stack `name` after `mutate`, and the rules that fire on it. */
function firedAfter(t: Parameters<typeof tempApp>[0], name: string, mutate: (tf: Json) => void): Set<PolicyRule> {
  const tf = structuredClone(stacks(t)[name]);
  mutate(tf);
  return new Set(checkPolicies(tf, policy).map((v) => v.rule));
}

const first = (tf: Json, type: string): Json => Object.values(tf.resource[type] as Record<string, Json>)[0];
const all = (tf: Json, type: string): Json[] => Object.values(tf.resource[type] as Record<string, Json>);

function assertFires(fired: Set<PolicyRule>, rule: PolicyRule): void {
  assert.ok(fired.has(rule), `expected ${rule} to fire, got [${[...fired].join(', ')}]`);
}

test('the app as configured passes every policy', (t) => {
  for (const [name, tf] of Object.entries(stacks(t))) assert.deepEqual(checkPolicies(tf, policy), [], name);
});

test('kafka-encryption fires on unencrypted or unauthenticated Kafka', (t) => {
  assertFires(firedAfter(t, 'primary', (tf) => delete first(tf, 'aws_msk_cluster').encryption_info.encryption_at_rest_kms_key_arn), 'kafka-encryption');
  assertFires(firedAfter(t, 'primary', (tf) => (first(tf, 'aws_msk_cluster').encryption_info.encryption_in_transit.client_broker = 'TLS_PLAINTEXT')), 'kafka-encryption');
  assertFires(firedAfter(t, 'primary', (tf) => (first(tf, 'aws_msk_cluster').encryption_info.encryption_in_transit.in_cluster = false)), 'kafka-encryption');
  assertFires(firedAfter(t, 'primary', (tf) => delete first(tf, 'aws_msk_cluster').encryption_info), 'kafka-encryption');
  assertFires(firedAfter(t, 'primary', (tf) => (first(tf, 'aws_msk_cluster').client_authentication.unauthenticated = true)), 'kafka-encryption');
});

test('open-ingress fires on 0.0.0.0/0 or ::/0 to broker, forward or health ports, in every rule form', (t) => {
  const lbRule = (tf: Json) => all(tf, 'aws_vpc_security_group_ingress_rule').find((r) => r.cidr_ipv4 && r.from_port === config.ports.forward)!;
  assertFires(firedAfter(t, 'primary', (tf) => (lbRule(tf).cidr_ipv4 = '0.0.0.0/0')), 'open-ingress');
  assertFires(firedAfter(t, 'primary', (tf) => { const r = lbRule(tf); delete r.cidr_ipv4; r.cidr_ipv6 = '::/0'; }), 'open-ingress');
  assertFires(
    firedAfter(t, 'primary', (tf) => Object.assign(lbRule(tf), { cidr_ipv4: '0.0.0.0/0', ip_protocol: '-1', from_port: undefined, to_port: undefined })),
    'open-ingress',
  );
  assertFires(
    firedAfter(t, 'primary', (tf) => (first(tf, 'aws_security_group').ingress = [{ cidr_blocks: ['0.0.0.0/0'], from_port: 9092, to_port: 9098, protocol: 'tcp' }])),
    'open-ingress',
  );
  assertFires(
    firedAfter(t, 'primary', (tf) => (tf.resource.aws_security_group_rule = { raw: { type: 'ingress', cidr_blocks: ['0.0.0.0/0'], from_port: 9000, to_port: 9100, protocol: 'tcp' } })),
    'open-ingress',
  );
  assertFires(firedAfter(t, 'gcp', (tf) => (all(tf, 'google_compute_firewall')[0].source_ranges = ['0.0.0.0/0'])), 'open-ingress');
  // Not a false positive: the whole internet on an unprotected port (443) is allowed.
  assert.equal(firedAfter(t, 'primary', (tf) => Object.assign(lbRule(tf), { cidr_ipv4: '0.0.0.0/0', from_port: 443, to_port: 443 })).has('open-ingress'), false);
});

test('imdsv2 fires when a launch template allows IMDSv1', (t) => {
  assertFires(firedAfter(t, 'primary', (tf) => (first(tf, 'aws_launch_template').metadata_options.http_tokens = 'optional')), 'imdsv2');
  assertFires(firedAfter(t, 'primary', (tf) => delete first(tf, 'aws_launch_template').metadata_options), 'imdsv2');
});

test('required-tags fires on a provider, an ASG or a resource missing a required tag', (t) => {
  assertFires(firedAfter(t, 'primary', (tf) => delete tf.provider.aws[0].default_tags[0].tags.owner), 'required-tags');
  assertFires(firedAfter(t, 'global', (tf) => delete tf.provider.aws[0].default_tags), 'required-tags');
  assertFires(firedAfter(t, 'gcp', (tf) => delete tf.provider.google[0].default_labels.cost_center), 'required-tags');
  assertFires(firedAfter(t, 'primary', (tf) => { for (const tag of first(tf, 'aws_autoscaling_group').tag) tag.propagate_at_launch = false; }), 'required-tags');
  assertFires(firedAfter(t, 'primary', (tf) => (first(tf, 'aws_vpc').tags.project = '')), 'required-tags');
});

test('relay-lb fires on a relay fleet without a health-checked load balancer', (t) => {
  assertFires(firedAfter(t, 'primary', (tf) => (first(tf, 'aws_autoscaling_group').target_group_arns = [])), 'relay-lb');
  assertFires(firedAfter(t, 'primary', (tf) => (first(tf, 'aws_autoscaling_group').health_check_type = 'EC2')), 'relay-lb');
  assertFires(firedAfter(t, 'primary', (tf) => { for (const tg of all(tf, 'aws_lb_target_group')) tg.health_check.enabled = false; }), 'relay-lb');
  assertFires(firedAfter(t, 'primary', (tf) => { for (const tg of all(tf, 'aws_lb_target_group')) delete tg.health_check.path; }), 'relay-lb');
  assertFires(firedAfter(t, 'primary', (tf) => { for (const tg of all(tf, 'aws_lb_target_group')) tg.health_check = { enabled: true, protocol: 'TCP' }; }), 'relay-lb');
  assertFires(firedAfter(t, 'primary', (tf) => delete tf.resource.aws_lb_listener), 'relay-lb');
  assertFires(firedAfter(t, 'gcp', (tf) => delete tf.resource.google_compute_region_backend_service), 'relay-lb');
  assertFires(firedAfter(t, 'gcp', (tf) => delete first(tf, 'google_compute_region_instance_group_manager').auto_healing_policies), 'relay-lb');
});

test('synth refuses a stack that breaks a policy through an escape hatch', (t) => {
  const app = tempApp(t);
  const imds = awsStack(app, 'imds');
  new RelayFleet(imds, 'relays', relayProps()).launchTemplate.addOverride('metadata_options.http_tokens', 'optional');
  assert.throws(() => synth(imds), (e: unknown) => e instanceof PolicyViolationError && e.violations.some((v) => v.rule === 'imdsv2'));

  const kafka = awsStack(app, 'kafka');
  new KafkaCluster(kafka, 'k', { name: 'k', subnetIds: ['a', 'b'], securityGroupIds: ['sg'] }).cluster.addOverride(
    'encryption_info.encryption_in_transit.client_broker',
    'PLAINTEXT',
  );
  assert.throws(() => synth(kafka), (e: unknown) => e instanceof PolicyViolationError && /client_broker encryption is PLAINTEXT/.test(e.message));

  const open = awsStack(app, 'open');
  new VpcSecurityGroupIngressRule(open, 'raw', { securityGroupId: 'sg', cidrIpv4: '0.0.0.0/0', ipProtocol: 'tcp', fromPort: 9098, toPort: 9098 });
  assert.throws(() => synth(open), (e: unknown) => e instanceof PolicyViolationError && e.violations.some((v) => v.rule === 'open-ingress'));

  const bare = awsStack(app, 'bare');
  new AutoscalingGroup(bare, 'asg', {
    minSize: 1,
    maxSize: 1,
    tag: Object.entries(config.tags).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
  });
  assert.throws(() => synth(bare), (e: unknown) => e instanceof PolicyViolationError && e.violations.some((v) => v.rule === 'relay-lb'));

  const untagged = new EdgelogStack(app, 'untagged', policy);
  new AwsProvider(untagged, 'aws', { region: 'us-east-1' });
  assert.throws(() => synth(untagged), (e: unknown) => e instanceof PolicyViolationError && e.violations.some((v) => v.rule === 'required-tags'));
});
