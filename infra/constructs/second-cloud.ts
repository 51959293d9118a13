// The GCP leg: Managed Service for Apache Kafka (cluster + topic), a relay
// fleet as a regional managed instance group (instance template with the
// agent installer's cloud-init, autoscaler on CPU and the relays' buffer
// occupancy, autohealing on /readyz) behind an external passthrough network
// load balancer. Its public IP is the last failover target in DNS.
//
// Replication AWS -> GCP: MirrorMaker 2 (MirrorSourceConnector) from the
// primary MSK cluster into this cluster. The google provider this app pins
// (hashicorp/google 6.x via @cdktf/provider-google 16.x) has no Managed Kafka
// Connect resources, so the connector is documented in infra/README.md rather
// than provisioned here.

import {
  ComputeAddress,
  ComputeFirewall,
  ComputeForwardingRule,
  ComputeInstanceTemplate,
  ComputeNetwork,
  ComputeRegionAutoscaler,
  ComputeRegionBackendService,
  ComputeRegionHealthCheck,
  ComputeRegionInstanceGroupManager,
  ComputeRouter,
  ComputeRouterNat,
  ComputeSubnetwork,
  Construct,
  ManagedKafkaCluster,
  ManagedKafkaTopic,
  ProjectIamMember,
  ServiceAccount,
} from '../lib/cdk.ts';
import { invariant } from '../lib/errors.ts';
import { isAnywhere, isIpv4Cidr } from '../lib/net.ts';
import { GcpRelaySecrets } from './relay-secrets-gcp.ts';
import { gceUserData, relayBootScript, type AgentInstall } from '../lib/user-data.ts';

/** Google health checker and passthrough NLB probe ranges (Cloud Load Balancing docs). */
export const GCP_HEALTH_CHECK_RANGES = ['35.191.0.0/16', '130.211.0.0/22', '209.85.152.0/22', '209.85.204.0/22'] as const;

export interface SecondCloudProps {
  /** Name prefix: lowercase letters, digits, hyphens; at most 20 characters (GCP names cap at 63 with suffixes). */
  readonly name: string;
  readonly project: string;
  readonly region: string;
  /** Zones the MIG spreads over (2 or more in `region`). */
  readonly zones: readonly string[];
  readonly subnetCidr: string;
  readonly forwardPort: number;
  readonly healthPort: number;
  /** Edge site ranges allowed to the forward port (passthrough LB keeps client IPs). Never 0.0.0.0/0. */
  readonly edgeCidrs: readonly string[];
  /** Route 53 health checker ranges allowed to the health port (the DNS failover probes this entry point). */
  readonly healthCheckerCidrs: readonly string[];
  readonly install: AgentInstall;
  /** The relay's edgelog.yaml (brokers already filled in: GCP bootstrap names are predictable). */
  readonly configYaml: string;
  /** Topic to create (same name as on AWS). */
  readonly topic: string;
  /**
   * Kafka vCPUs (minimum 3).
   * @default 3
   */
  readonly kafkaVcpus?: number;
  /**
   * Kafka memory, GiB (1 to 8 per vCPU).
   * @default 12
   */
  readonly kafkaMemoryGiB?: number;
  /**
   * Partitions of the topic.
   * @default 12
   */
  readonly partitions?: number;
  /**
   * Relay machine type.
   * @default 't2a-standard-2'
   */
  readonly machineType?: string;
  /**
   * Boot disk type; must be one the machine series supports (C4A: hyperdisk-balanced only).
   * @default 'hyperdisk-balanced'
   */
  readonly bootDiskType?: string;
  /**
   * Boot image (arm64 for c4a). Ubuntu because its GCE images run cloud-init, which
   * executes the `user-data` script once per instance (Debian GCE images only run startup-script).
   * @default 'ubuntu-os-cloud/ubuntu-2404-lts-arm64'
   */
  readonly image?: string;
  /**
   * Fewest relays.
   * @default 2
   */
  readonly minReplicas?: number;
  /**
   * Most relays.
   * @default 10
   */
  readonly maxReplicas?: number;
  /**
   * Average CPU (0..1) the autoscaler keeps.
   * @default 0.5
   */
  readonly cpuTarget?: number;
  /**
   * Buffer occupancy (0..1) the autoscaler keeps, from the relays' custom metric.
   * @default 0.5
   */
  readonly bufferOccupancyTarget?: number;
  /**
   * Health check path.
   * @default '/readyz'
   */
  readonly healthPath?: string;
  /**
   * Seconds a relay may drain when removed.
   * @default 300
   */
  readonly drainSeconds?: number;
}

export class SecondCloud extends Construct {
  readonly kafka: ManagedKafkaCluster;
  readonly mig: ComputeRegionInstanceGroupManager;
  readonly address: ComputeAddress;
  readonly instanceTemplate: ComputeInstanceTemplate;
  readonly bootScript: string;
  readonly clusterId: string;

  constructor(scope: Construct, id: string, props: SecondCloudProps) {
    super(scope, id);
    const what = `SecondCloud ${id}`;
    const vcpus = props.kafkaVcpus ?? 3;
    const mem = props.kafkaMemoryGiB ?? 12;
    const min = props.minReplicas ?? 2;
    const max = props.maxReplicas ?? 10;
    const path = props.healthPath ?? '/readyz';
    invariant(/^[a-z][a-z0-9-]{0,19}$/.test(props.name), what, `name: lowercase, starts with a letter, at most 20 chars, got ${props.name}`);
    invariant(vcpus >= 3, what, `kafkaVcpus: at least 3, got ${vcpus}`);
    invariant(mem >= vcpus && mem <= 8 * vcpus, what, `kafkaMemoryGiB (${mem}) must be 1..8 GiB per vCPU (${vcpus} vCPU)`);
    invariant(min >= 1 && min <= max, what, `minReplicas (${min}) must be 1..maxReplicas (${max})`);
    invariant(props.zones.length >= 2 && props.zones.every((z) => z.startsWith(`${props.region}-`)), what, `zones: two or more zones of ${props.region}`);
    invariant(isIpv4Cidr(props.subnetCidr), what, `subnetCidr: IPv4 CIDR, got ${props.subnetCidr}`);
    invariant(props.edgeCidrs.length > 0, what, 'edgeCidrs: at least one range');
    for (const c of [...props.edgeCidrs, ...props.healthCheckerCidrs]) {
      invariant(isIpv4Cidr(c) && !isAnywhere(c), what, `${c}: list specific ranges, never the whole internet`);
    }
    invariant(path.startsWith('/'), what, `healthPath must start with '/', got ${path}`);
    this.clusterId = `${props.name}-kafka`;

    const network = new ComputeNetwork(this, 'network', { name: `${props.name}-net`, project: props.project, autoCreateSubnetworks: false });
    const subnet = new ComputeSubnetwork(this, 'subnet', {
      name: `${props.name}-relays`,
      project: props.project,
      region: props.region,
      network: network.id,
      ipCidrRange: props.subnetCidr,
      privateIpGoogleAccess: true,
    });
    const router = new ComputeRouter(this, 'router', { name: `${props.name}-router`, project: props.project, region: props.region, network: network.id });
    new ComputeRouterNat(this, 'nat', {
      name: `${props.name}-nat`,
      project: props.project,
      region: props.region,
      router: router.name,
      natIpAllocateOption: 'AUTO_ONLY',
      sourceSubnetworkIpRangesToNat: 'ALL_SUBNETWORKS_ALL_IP_RANGES',
    });
    const fw = (key: string, sources: readonly string[], port: number, why: string): void => {
      new ComputeFirewall(this, `fw-${key}`, {
        name: `${props.name}-${key}`,
        project: props.project,
        network: network.id,
        direction: 'INGRESS',
        description: why,
        sourceRanges: [...sources],
        targetTags: [`${props.name}-relay`],
        allow: [{ protocol: 'tcp', ports: [String(port)] }],
      });
    };
    fw('forward', props.edgeCidrs, props.forwardPort, 'edge agents (forward protocol)');
    fw('health', [...GCP_HEALTH_CHECK_RANGES, ...props.healthCheckerCidrs], props.healthPort, 'Google and Route 53 health checks (/readyz)');

    this.kafka = new ManagedKafkaCluster(this, 'kafka', {
      project: props.project,
      location: props.region,
      clusterId: this.clusterId,
      capacityConfig: { vcpuCount: String(vcpus), memoryBytes: String(mem * 1024 ** 3) },
      gcpConfig: { accessConfig: { networkConfigs: [{ subnet: `projects/${props.project}/regions/${props.region}/subnetworks/${subnet.name}` }] } },
      rebalanceConfig: { mode: 'AUTO_REBALANCE_ON_SCALE_UP' },
    });
    new ManagedKafkaTopic(this, 'topic', {
      project: props.project,
      location: props.region,
      cluster: this.kafka.clusterId,
      topicId: props.topic,
      partitionCount: props.partitions ?? 12,
      replicationFactor: 3,
      configs: { 'min.insync.replicas': '2', 'cleanup.policy': 'delete' },
    });

    const sa = new ServiceAccount(this, 'relay-sa', { project: props.project, accountId: `${props.name}-relay`, displayName: 'edgelog relays' });
    for (const role of ['roles/managedkafka.client', 'roles/monitoring.metricWriter', 'roles/logging.logWriter']) {
      new ProjectIamMember(this, `relay-${role.split('/')[1].replace('.', '-')}`, { project: props.project, role, member: `serviceAccount:${sa.email}` });
    }

    const secrets = new GcpRelaySecrets(this, 'relay-secrets', { project: props.project, region: props.region, name: props.name, readerEmail: sa.email });
    this.bootScript = relayBootScript(props.install, props.configYaml, { store: 'gcp-secretmanager', project: props.project, files: secrets.files });
    this.instanceTemplate = new ComputeInstanceTemplate(this, 'template', {
      project: props.project,
      region: props.region,
      namePrefix: `${props.name}-relay-`,
      machineType: props.machineType ?? 'c4a-standard-2',
      tags: [`${props.name}-relay`],
      disk: [{ sourceImage: props.image ?? 'ubuntu-os-cloud/ubuntu-2404-lts-arm64', boot: true, autoDelete: true, diskSizeGb: 30, diskType: props.bootDiskType ?? 'hyperdisk-balanced' }],
      // No access_config: relays have no public IP; egress goes through Cloud NAT.
      networkInterface: [{ subnetwork: subnet.id }],
      metadata: {
        'user-data': gceUserData(this.bootScript),
        'enable-oslogin': 'TRUE',
        'block-project-ssh-keys': 'TRUE',
      },
      serviceAccount: { email: sa.email, scopes: ['cloud-platform'] },
      shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
      lifecycle: { createBeforeDestroy: true },
    });

    const hc = new ComputeRegionHealthCheck(this, 'health', {
      name: `${props.name}-readyz`,
      project: props.project,
      region: props.region,
      checkIntervalSec: 10,
      timeoutSec: 2,
      healthyThreshold: 3,
      unhealthyThreshold: 3,
      httpHealthCheck: { port: props.healthPort, requestPath: path },
    });
    this.mig = new ComputeRegionInstanceGroupManager(this, 'mig', {
      name: `${props.name}-relays`,
      project: props.project,
      region: props.region,
      baseInstanceName: `${props.name}-relay`,
      distributionPolicyZones: [...props.zones],
      version: [{ name: 'current', instanceTemplate: this.instanceTemplate.selfLinkUnique }],
      namedPort: [{ name: 'forward', port: props.forwardPort }],
      autoHealingPolicies: { healthCheck: hc.id, initialDelaySec: 180 },
      updatePolicy: {
        type: 'PROACTIVE',
        minimalAction: 'REPLACE',
        instanceRedistributionType: 'PROACTIVE',
        maxSurgeFixed: props.zones.length,
        maxUnavailableFixed: 0,
      },
    });
    new ComputeRegionAutoscaler(this, 'autoscaler', {
      name: `${props.name}-relays`,
      project: props.project,
      region: props.region,
      target: this.mig.id,
      autoscalingPolicy: {
        minReplicas: min,
        maxReplicas: max,
        cooldownPeriod: 180,
        cpuUtilization: { target: props.cpuTarget ?? 0.5 },
        metric: [
          {
            name: 'custom.googleapis.com/edgelog/relay/buffer_occupancy',
            target: props.bufferOccupancyTarget ?? 0.5,
            type: 'GAUGE',
          },
        ],
      },
    });
    const backend = new ComputeRegionBackendService(this, 'backend', {
      name: `${props.name}-relays`,
      project: props.project,
      region: props.region,
      loadBalancingScheme: 'EXTERNAL',
      protocol: 'TCP',
      healthChecks: [hc.id],
      connectionDrainingTimeoutSec: props.drainSeconds ?? 300,
      backend: [{ group: this.mig.instanceGroup, balancingMode: 'CONNECTION' }],
    });
    this.address = new ComputeAddress(this, 'address', { name: `${props.name}-ingest`, project: props.project, region: props.region, addressType: 'EXTERNAL' });
    new ComputeForwardingRule(this, 'forwarding', {
      name: `${props.name}-ingest`,
      project: props.project,
      region: props.region,
      loadBalancingScheme: 'EXTERNAL',
      ipAddress: this.address.address,
      ipProtocol: 'TCP',
      ports: [String(props.forwardPort), String(props.healthPort)],
      backendService: backend.id,
    });
  }
}
