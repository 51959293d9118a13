// Global entry point (Route 53 failover chain + Global Accelerator) and the
// failover drill template. References the region stacks' NLBs and the GCP
// stack's address (from config).

import type { EdgelogInfraConfig } from '../config.ts';
import { DrillTemplate } from '../constructs/drill-template.ts';
import { GlobalFailover } from '../constructs/global-failover.ts';
import { AwsProvider, Construct, TerraformOutput } from '../lib/cdk.ts';
import { EdgelogStack } from '../lib/stack.ts';
import { physicalName, policyFor } from './policy.ts';
import type { RegionStack } from './region.ts';

export interface GlobalStackProps {
  readonly config: EdgelogInfraConfig;
  readonly primary: RegionStack;
  readonly secondary: RegionStack;
}

export class GlobalStack extends EdgelogStack {
  readonly failover: GlobalFailover;
  readonly drill: DrillTemplate;

  constructor(scope: Construct, id: string, props: GlobalStackProps) {
    const cfg = props.config;
    super(scope, id, policyFor(cfg));
    new AwsProvider(this, 'aws', { region: cfg.aws.globalRegion, defaultTags: [{ tags: { ...cfg.tags, 'edgelog:region-role': 'global' } }] });
    const entry = (s: RegionStack) => ({
      key: s.region.key,
      region: s.region.region,
      lbArn: s.relays.nlb.arn,
      lbDnsName: s.relays.nlb.dnsName,
      lbZoneId: s.relays.nlb.zoneId,
    });
    this.failover = new GlobalFailover(this, 'failover', {
      name: physicalName(cfg, 'ingest'),
      zoneName: cfg.dns.zoneName,
      recordName: cfg.dns.recordName,
      standbyRecordName: cfg.dns.standbyRecordName,
      primary: entry(props.primary),
      secondary: entry(props.secondary),
      // The GCP entry point from configuration, not from the gcp stack's state.
      ...(cfg.gcp.frontEndAddress ? { tertiary: { key: 'gcp', ipAddress: cfg.gcp.frontEndAddress } } : {}),
      forwardPort: cfg.ports.forward,
      healthPort: cfg.ports.health,
    });
    this.drill = new DrillTemplate(this, 'drill', {
      name: physicalName(cfg, 'primary-relays-drill'),
      region: props.primary.region.region,
      targetTags: { 'edgelog:tier': 'relay', 'edgelog:region-role': props.primary.region.key },
      stopConditionAlarm: { arn: this.failover.secondaryUnhealthyAlarm.arn, region: this.failover.metricsRegion },
    });
    if (this.failover.accelerator) {
      new TerraformOutput(this, 'accelerator-ips', { value: this.failover.accelerator.ipSets });
    }
    new TerraformOutput(this, 'drill-template-id', { value: this.drill.template.id });
  }
}
