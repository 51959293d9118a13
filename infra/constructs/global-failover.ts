// Cross-region failover for the relay entry point, two mechanisms side by side
// (edge agents may use either; the runbook says which to prefer):
//
// * Global Accelerator: two static anycast IPs, one endpoint group per AWS
//   region. The secondary group's traffic dial is 0 (active-passive); GA
//   ignores the dial when failing over, so it takes traffic only when the
//   primary NLB has no healthy relay. GA follows the NLB target health: a dead
//   region is detected in ~30 s (3 x 10 s /readyz probes) and new connections
//   move at once; no DNS caching is involved.
// * Route 53 failover records: `recordName` PRIMARY -> primary NLB, SECONDARY
//   -> `standbyRecordName`, itself PRIMARY -> secondary NLB and SECONDARY ->
//   the GCP entry point (a third target GA cannot reach). Detection is
//   failureThreshold x requestInterval (5 x 10 s = 50 s by default; a probe
//   slower than 2 s after connecting fails) plus the record TTL (60 s for
//   aliases, `ttl` for the GCP A record) plus resolver caching.

import {
  CloudwatchMetricAlarm,
  Construct,
  DataAwsRoute53Zone,
  GlobalacceleratorAccelerator,
  GlobalacceleratorEndpointGroup,
  GlobalacceleratorListener,
  Route53HealthCheck,
  Route53Record,
} from '../lib/cdk.ts';
import { awsProviderIn } from '../lib/aws-providers.ts';
import { invariant } from '../lib/errors.ts';

export interface AwsEntryPoint {
  /** Region key used in names and set identifiers (`primary`, `secondary`). */
  readonly key: string;
  readonly region: string;
  readonly lbArn: string;
  readonly lbDnsName: string;
  readonly lbZoneId: string;
}

export interface ExternalEntryPoint {
  readonly key: string;
  /** Public IPv4 of the external load balancer (GCP forwarding rule). */
  readonly ipAddress: string;
}

export interface GlobalFailoverProps {
  /** Name prefix (accelerator name: 1-64 chars). */
  readonly name: string;
  /** Existing public hosted zone. */
  readonly zoneName: string;
  /** The name edge agents ship to. */
  readonly recordName: string;
  /** Second-level failover name (needed only with a tertiary entry point). */
  readonly standbyRecordName: string;
  readonly primary: AwsEntryPoint;
  readonly secondary: AwsEntryPoint;
  /**
   * Last-resort target outside AWS (GCP), reached through DNS only.
   * @default none
   */
  readonly tertiary?: ExternalEntryPoint;
  readonly forwardPort: number;
  readonly healthPort: number;
  /**
   * Path Route 53 probes.
   * @default '/readyz'
   */
  readonly healthPath?: string;
  /**
   * Consecutive failed probes before Route 53 marks an entry point unhealthy (1-10).
   * @default 5 (the design brief: five slow checks)
   */
  readonly failureThreshold?: number;
  /**
   * Seconds between Route 53 probes: 10 (fast, billed extra) or 30.
   * @default 10
   */
  readonly requestInterval?: 10 | 30;
  /**
   * TTL of the tertiary A record, seconds.
   * @default 30
   */
  readonly ttl?: number;
  /**
   * Create the Global Accelerator.
   * @default true
   */
  readonly accelerator?: boolean;
  /**
   * Region where Route 53 publishes health check metrics (AWS: only us-east-1).
   * @default 'us-east-1'
   */
  readonly metricsRegion?: string;
}

export class GlobalFailover extends Construct {
  readonly healthChecks: Record<string, Route53HealthCheck> = {};
  readonly accelerator?: GlobalacceleratorAccelerator;
  /** In ALARM when the secondary region fails its health check: the drill's stop condition. */
  readonly secondaryUnhealthyAlarm: CloudwatchMetricAlarm;
  readonly metricsRegion: string;

  constructor(scope: Construct, id: string, props: GlobalFailoverProps) {
    super(scope, id);
    const what = `GlobalFailover ${id}`;
    const threshold = props.failureThreshold ?? 5;
    const interval = props.requestInterval ?? 10;
    const path = props.healthPath ?? '/readyz';
    const withGa = props.accelerator ?? true;
    this.metricsRegion = props.metricsRegion ?? 'us-east-1';
    invariant(threshold >= 1 && threshold <= 10, what, `failureThreshold: 1..10, got ${threshold}`);
    invariant(interval === 10 || interval === 30, what, `requestInterval: 10 or 30, got ${interval}`);
    invariant(props.primary.region !== props.secondary.region, what, 'primary and secondary are in the same region: no regional failover');
    invariant(props.primary.key !== props.secondary.key && props.primary.key !== props.tertiary?.key, what, 'entry point keys must differ');
    invariant(props.recordName !== props.standbyRecordName, what, 'recordName and standbyRecordName must differ');
    for (const n of [props.recordName, props.standbyRecordName]) {
      invariant(n === props.zoneName || n.endsWith(`.${props.zoneName}`), what, `${n} is not in zone ${props.zoneName}`);
    }
    invariant(path.startsWith('/'), what, `healthPath must start with '/', got ${path}`);
    invariant(!withGa || /^[A-Za-z0-9-]{1,64}$/.test(props.name), what, `name: 1-64 letters, digits or hyphens for the accelerator, got ${props.name}`);

    const zone = new DataAwsRoute53Zone(this, 'zone', { name: props.zoneName, privateZone: false });
    const check = (key: string, target: { fqdn: string } | { ipAddress: string }): Route53HealthCheck => {
      const hc = new Route53HealthCheck(this, `hc-${key}`, {
        type: 'HTTP',
        ...target,
        port: props.healthPort,
        resourcePath: path,
        failureThreshold: threshold,
        requestInterval: interval,
        measureLatency: true,
        tags: { Name: `${props.name}-${key}` },
      });
      this.healthChecks[key] = hc;
      return hc;
    };
    const hcPrimary = check(props.primary.key, { fqdn: props.primary.lbDnsName });
    const hcSecondary = check(props.secondary.key, { fqdn: props.secondary.lbDnsName });

    const failover = (
      key: string,
      name: string,
      type: 'PRIMARY' | 'SECONDARY',
      target: { alias: { name: string; zoneId: string } } | { records: string[] },
      healthCheckId?: string,
    ): Route53Record =>
      new Route53Record(this, key, {
        zoneId: zone.zoneId,
        name,
        type: 'A',
        setIdentifier: `${props.name}-${key}`,
        failoverRoutingPolicy: { type },
        ...(healthCheckId === undefined ? {} : { healthCheckId }),
        ...('alias' in target
          ? { alias: { ...target.alias, evaluateTargetHealth: true } }
          : { records: target.records, ttl: props.ttl ?? 30 }),
      });
    const nlb = (e: AwsEntryPoint) => ({ alias: { name: e.lbDnsName, zoneId: e.lbZoneId } });

    failover('record-primary', props.recordName, 'PRIMARY', nlb(props.primary), hcPrimary.id);
    if (props.tertiary) {
      const hcTertiary = check(props.tertiary.key, { ipAddress: props.tertiary.ipAddress });
      failover('record-secondary', props.recordName, 'SECONDARY', { alias: { name: props.standbyRecordName, zoneId: zone.zoneId } });
      failover('standby-secondary', props.standbyRecordName, 'PRIMARY', nlb(props.secondary), hcSecondary.id);
      failover('standby-tertiary', props.standbyRecordName, 'SECONDARY', { records: [props.tertiary.ipAddress] }, hcTertiary.id);
    } else {
      failover('record-secondary', props.recordName, 'SECONDARY', nlb(props.secondary), hcSecondary.id);
    }

    const metricsProvider = awsProviderIn(this, this.metricsRegion);
    this.secondaryUnhealthyAlarm = new CloudwatchMetricAlarm(this, 'secondary-unhealthy', {
      ...(metricsProvider ? { provider: metricsProvider } : {}),
      alarmName: `${props.name}-${props.secondary.key}-unhealthy`,
      alarmDescription: 'The failover target is unhealthy: stop any drill against the primary region.',
      namespace: 'AWS/Route53',
      metricName: 'HealthCheckStatus',
      dimensions: { HealthCheckId: hcSecondary.id },
      statistic: 'Minimum',
      period: 60,
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: 'LessThanThreshold',
      treatMissingData: 'breaching',
    });

    if (withGa) {
      // Global Accelerator is a global service: the provider sends its calls to us-west-2 itself.
      this.accelerator = new GlobalacceleratorAccelerator(this, 'accelerator', {
        name: props.name,
        ipAddressType: 'IPV4',
        enabled: true,
      });
      const listener = new GlobalacceleratorListener(this, 'listener', {
        acceleratorArn: this.accelerator.arn,
        protocol: 'TCP',
        // An agent keeps its relay region while it is healthy (fewer reconnects, ordered sequences).
        clientAffinity: 'SOURCE_IP',
        portRange: [{ fromPort: props.forwardPort, toPort: props.forwardPort }],
      });
      for (const [e, dial] of [[props.primary, 100], [props.secondary, 0]] as const) {
        new GlobalacceleratorEndpointGroup(this, `endpoints-${e.key}`, {
            listenerArn: listener.arn,
          endpointGroupRegion: e.region,
          trafficDialPercentage: dial,
          // For NLB endpoints GA uses the NLB's target health; these apply to EC2/EIP endpoints only.
          healthCheckIntervalSeconds: 10,
          thresholdCount: 3,
          endpointConfiguration: [{ endpointId: e.lbArn, weight: 100, clientIpPreservationEnabled: true }],
        });
      }
    }
  }
}
