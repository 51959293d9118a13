// Shared helpers for the infra tests: temp-dir apps (cdktf's App creates its
// outdir on construction), in-memory synth of one stack, resource lookups and
// minimal props for each construct.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { buildApp, type EdgelogApp } from '../../infra/app.ts';
import { config, KAFKA_BOOTSTRAP_PLACEHOLDER, relayConfigYaml } from '../../infra/config.ts';
import type { RelayFleetProps } from '../../infra/constructs/relay-fleet.ts';
import type { SecondCloudProps } from '../../infra/constructs/second-cloud.ts';
import { App, AwsProvider, GoogleProvider, Testing } from '../../infra/lib/cdk.ts';
import { EdgelogStack } from '../../infra/lib/stack.ts';
import { policyFor } from '../../infra/stacks/policy.ts';

export type Json = Record<string, any>;

/** A fresh App in a temp outdir removed when the test ends. */
export function tempApp(t: TestContext): App {
  const outdir = mkdtempSync(join(tmpdir(), 'edgelog-infra-'));
  t.after(() => rmSync(outdir, { recursive: true, force: true }));
  return new App({ outdir, stackTraces: false, skipBackendValidation: true });
}

/** The whole edgelog app (config.ts) in a temp outdir. */
export function tempEdgelogApp(t: TestContext): EdgelogApp {
  const outdir = mkdtempSync(join(tmpdir(), 'edgelog-infra-'));
  t.after(() => rmSync(outdir, { recursive: true, force: true }));
  return buildApp({ outdir, stackTraces: false });
}

export const policy = policyFor(config);

/** An empty AWS stack with the required default tags (so it passes policy on its own). */
export function awsStack(app: App, id = 'test', region = 'us-east-1'): EdgelogStack {
  const stack = new EdgelogStack(app, id, policy);
  new AwsProvider(stack, 'aws', { region, defaultTags: [{ tags: { ...config.tags } }] });
  return stack;
}

export function googleStack(app: App, id = 'gtest'): EdgelogStack {
  const stack = new EdgelogStack(app, id, policy);
  new GoogleProvider(stack, 'google', { project: 'p', region: 'europe-west1', defaultLabels: { ...config.tags } });
  return stack;
}

/** Synthesized Terraform JSON of one stack (policy checks included), metadata stripped, keys sorted. */
export function synth(stack: EdgelogStack): Json {
  return JSON.parse(Testing.synth(stack)) as Json;
}

export function resources(tf: Json, type: string): Json[] {
  return Object.values((tf.resource?.[type] ?? {}) as Record<string, Json>);
}

export function one(tf: Json, type: string): Json {
  const all = resources(tf, type);
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return all[0];
}

/**
 * Every stack of an app as JSON, the way app.synth() sees them: all stacks are
 * prepared first, so cross-stack outputs exist whichever stack is read first.
 */
export function synthAll(app: App): Record<string, Json> {
  const stacks = app.node.findAll().filter((c): c is EdgelogStack => c instanceof EdgelogStack);
  for (const s of stacks) s.prepareStack();
  return Object.fromEntries(stacks.map((s) => [s.node.id, synth(s)]));
}

/** Props for a RelayFleet with literal ids (no network construct needed). */
export function relayProps(name = 'edgelog-test-relay', over: Partial<RelayFleetProps> = {}): RelayFleetProps {
  return {
    name,
    vpcId: 'vpc-1',
    subnetIds: ['subnet-r1', 'subnet-r2', 'subnet-r3'],
    lbSubnetIds: ['subnet-p1', 'subnet-p2', 'subnet-p3'],
    relaySecurityGroupId: 'sg-relay',
    lbSecurityGroupId: 'sg-lb',
    forwardPort: config.ports.forward,
    healthPort: config.ports.health,
    instanceTags: { ...config.tags, 'edgelog:role': 'relay' },
    install: config.agent,
    configYaml: relayConfigYaml({
      forwardPort: config.ports.forward,
      healthPort: config.ports.health,
      brokers: KAFKA_BOOTSTRAP_PLACEHOLDER,
      topic: 'edgelog.logs',
      tokenProvider: 'aws-msk-iam',
      topicLayout: config.kafka.topicLayout,
    }),
    kafkaBootstrap: 'b-1.example:9096',
    kafkaClusterArn: 'arn:aws:kafka:us-east-1:111111111111:cluster/test/abc',
    ...over,
  };
}

export function secondCloudProps(name = 'edgelog-gcp', over: Partial<SecondCloudProps> = {}): SecondCloudProps {
  return {
    name,
    project: 'p',
    region: 'europe-west1',
    zones: ['europe-west1-b', 'europe-west1-c', 'europe-west1-d'],
    subnetCidr: '10.20.0.0/20',
    forwardPort: config.ports.forward,
    healthPort: config.ports.health,
    edgeCidrs: config.edgeCidrs,
    healthCheckerCidrs: config.route53HealthCheckerCidrs,
    install: config.agent,
    configYaml: relayConfigYaml({
      forwardPort: config.ports.forward,
      healthPort: config.ports.health,
      brokers: 'bootstrap.x.europe-west1.managedkafka.p.cloud.goog:9092',
      topic: 'edgelog.logs',
      tokenProvider: 'gcp-metadata',
      topicLayout: config.kafka.topicLayout,
    }),
    topic: 'edgelog.logs',
    ...over,
  };
}

/** Attributes that carry a physical (cloud-side) name, which must be unique per resource type. */
const NAME_KEYS = ['name', 'name_prefix', 'cluster_name', 'replicator_name', 'alarm_name', 'cluster_id', 'account_id'];
// (topic_id is scoped to its cluster: the same topic name on two clusters is intended.)

/** `type: name` pairs used more than once in one stack's JSON. */
export function duplicatePhysicalNames(tf: Json): string[] {
  const seen = new Set<string>();
  const dupes: string[] = [];
  for (const [type, byId] of Object.entries((tf.resource ?? {}) as Record<string, Record<string, Json>>)) {
    for (const r of Object.values(byId)) {
      for (const k of NAME_KEYS) {
        // Failover records share a DNS name by design; their set_identifier must be unique instead.
        const v = type === 'aws_route53_record' ? (k === 'name' ? r.set_identifier : undefined) : r[k];
        if (typeof v !== 'string' || v.includes('${')) continue;
        const key = `${type}: ${v}`;
        if (seen.has(key)) dupes.push(key);
        seen.add(key);
      }
    }
  }
  return dupes;
}
