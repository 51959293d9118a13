// The second cloud: GCP Managed Kafka plus a relay fleet behind a passthrough NLB.

import { gcpKafkaBootstrap, relayConfigYaml, type EdgelogInfraConfig } from '../config.ts';
import { SecondCloud } from '../constructs/second-cloud.ts';
import { Construct, GoogleProvider, TerraformOutput } from '../lib/cdk.ts';
import { EdgelogStack } from '../lib/stack.ts';
import { physicalName, policyFor } from './policy.ts';

/** The relay YAML the GCP instance template carries. */
export function gcpRelayConfigYaml(cfg: EdgelogInfraConfig): string {
  return relayConfigYaml({
    forwardPort: cfg.ports.forward,
    healthPort: cfg.ports.health,
    brokers: gcpKafkaBootstrap(`${physicalName(cfg, 'gcp')}-kafka`, cfg.gcp.region, cfg.gcp.project),
    topic: cfg.kafka.topics[0]!,
    tokenProvider: 'gcp-metadata',
    topicLayout: cfg.kafka.topicLayout,
  });
}

export class GcpStack extends EdgelogStack {
  readonly cloud: SecondCloud;

  constructor(scope: Construct, id: string, props: { readonly config: EdgelogInfraConfig }) {
    const cfg = props.config;
    super(scope, id, policyFor(cfg));
    const g = cfg.gcp;
    new GoogleProvider(this, 'google', { project: g.project, region: g.region, defaultLabels: { ...cfg.tags } });
    const name = physicalName(cfg, 'gcp');
    this.cloud = new SecondCloud(this, 'cloud', {
      name,
      project: g.project,
      region: g.region,
      zones: g.zones,
      subnetCidr: g.subnetCidr,
      forwardPort: cfg.ports.forward,
      healthPort: cfg.ports.health,
      edgeCidrs: cfg.edgeCidrs,
      healthCheckerCidrs: cfg.route53HealthCheckerCidrs,
      install: cfg.agent,
      configYaml: gcpRelayConfigYaml(cfg),
      topic: cfg.kafka.topics[0],
      kafkaVcpus: g.kafkaVcpus,
      kafkaMemoryGiB: g.kafkaMemoryGiB,
      machineType: g.machineType,
      bootDiskType: g.bootDiskType,
      minReplicas: g.minReplicas,
      maxReplicas: g.maxReplicas,
    });
    new TerraformOutput(this, 'ingest-ip', { value: this.cloud.address.address });
  }
}
