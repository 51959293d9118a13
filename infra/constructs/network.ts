// VPC over three AZs with three subnet tiers: public (load balancers, NAT),
// relay (the relay fleet) and data (MSK brokers). Relays and brokers sit in
// separate private tiers so a drill can cut the relay tier without touching
// Kafka. Security groups open only what each tier needs:
//   lb     <- edge CIDRs on the forward port, Route 53 checkers on the health port
//   relay  <- lb on forward + health ports
//   broker <- relay on the SASL ports, itself (replicator ENIs, broker to broker)

import {
  Construct,
  Eip,
  InternetGateway,
  NatGateway,
  Route,
  RouteTable,
  RouteTableAssociation,
  SecurityGroup,
  Subnet,
  Vpc,
  VpcSecurityGroupEgressRule,
  VpcSecurityGroupIngressRule,
} from '../lib/cdk.ts';
import { invariant } from '../lib/errors.ts';
import { cidrSubnet, isAnywhere, isIpv4Cidr, prefixLength } from '../lib/net.ts';

export interface NetworkProps {
  /** Name prefix for every resource (`<project>-<env>-<region key>`). */
  readonly name: string;
  /** VPC range, /16 to /20 (each tier takes four /(n+4) slots). */
  readonly cidr: string;
  /** AZs to spread over; 2 to 4. */
  readonly availabilityZones: readonly string[];
  /** Ranges allowed to reach the forward port through the load balancer. Must not contain 0.0.0.0/0. */
  readonly edgeCidrs: readonly string[];
  /** Ranges allowed to reach the health port through the load balancer (Route 53 health checkers). */
  readonly healthCheckerCidrs: readonly string[];
  /** Agent -> relay forward port. */
  readonly forwardPort: number;
  /** Relay health listener (/readyz). */
  readonly healthPort: number;
  /**
   * Broker ports relays may use.
   * @default [9098] (MSK IAM over TLS: the relays' SASL/OAUTHBEARER with an MSK IAM token)
   */
  readonly clientBrokerPorts?: readonly number[];
  /**
   * One NAT gateway per AZ (an AZ outage does not cut the others' egress) or a single one (cheaper, test accounts).
   * @default 'per-az'
   */
  readonly natGateways?: 'per-az' | 'single';
}

export class Network extends Construct {
  readonly vpc: Vpc;
  readonly publicSubnetIds: string[];
  readonly relaySubnetIds: string[];
  readonly dataSubnetIds: string[];
  readonly lbSecurityGroup: SecurityGroup;
  readonly relaySecurityGroup: SecurityGroup;
  readonly brokerSecurityGroup: SecurityGroup;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const what = `Network ${id}`;
    const azs = props.availabilityZones;
    invariant(azs.length >= 2 && azs.length <= 4, what, `availabilityZones: expected 2 to 4 AZs, got ${azs.length}`);
    invariant(new Set(azs).size === azs.length, what, 'availabilityZones: duplicate AZ');
    invariant(isIpv4Cidr(props.cidr), what, `cidr: expected an IPv4 CIDR, got ${props.cidr}`);
    const bits = prefixLength(props.cidr);
    invariant(bits >= 16 && bits <= 20, what, `cidr: expected a /16 to /20, got /${bits}`);
    invariant(props.edgeCidrs.length > 0, what, 'edgeCidrs: at least one range is needed or no edge node can connect');
    for (const c of [...props.edgeCidrs, ...props.healthCheckerCidrs]) {
      invariant(isIpv4Cidr(c), what, `expected an IPv4 CIDR, got ${c}`);
      invariant(!isAnywhere(c), what, `${c} would open relay ports to the whole internet; list the edge sites' ranges`);
    }
    invariant(props.forwardPort !== props.healthPort, what, 'forwardPort and healthPort must differ');
    const brokerPorts = props.clientBrokerPorts ?? [9098];
    const natMode = props.natGateways ?? 'per-az';

    this.vpc = new Vpc(this, 'vpc', {
      cidrBlock: props.cidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: { Name: props.name },
    });
    const igw = new InternetGateway(this, 'igw', { vpcId: this.vpc.id, tags: { Name: props.name } });

    const publicRt = new RouteTable(this, 'public-rt', { vpcId: this.vpc.id, tags: { Name: `${props.name}-public` } });
    new Route(this, 'public-default', { routeTableId: publicRt.id, destinationCidrBlock: '0.0.0.0/0', gatewayId: igw.id });

    const tier = (kind: 'public' | 'relay' | 'data', slot: number): string[] =>
      azs.map((az, i) => {
        const subnet = new Subnet(this, `${kind}-${i}`, {
          vpcId: this.vpc.id,
          availabilityZone: az,
          cidrBlock: cidrSubnet(props.cidr, 4, slot * 4 + i),
          mapPublicIpOnLaunch: false,
          tags: { Name: `${props.name}-${kind}-${az}`, 'edgelog:tier': kind },
        });
        return subnet.id;
      });
    this.publicSubnetIds = tier('public', 0);
    this.relaySubnetIds = tier('relay', 1);
    this.dataSubnetIds = tier('data', 2);
    this.publicSubnetIds.forEach((subnetId, i) => new RouteTableAssociation(this, `public-assoc-${i}`, { subnetId, routeTableId: publicRt.id }));

    const nats = (natMode === 'single' ? [0] : azs.map((_, i) => i)).map((i) => {
      const eip = new Eip(this, `nat-eip-${i}`, { domain: 'vpc', tags: { Name: `${props.name}-nat-${i}` } });
      return new NatGateway(this, `nat-${i}`, {
        allocationId: eip.allocationId,
        subnetId: this.publicSubnetIds[i],
        tags: { Name: `${props.name}-nat-${i}` },
        dependsOn: [igw],
      });
    });
    azs.forEach((_, i) => {
      const rt = new RouteTable(this, `private-rt-${i}`, { vpcId: this.vpc.id, tags: { Name: `${props.name}-private-${i}` } });
      new Route(this, `private-default-${i}`, {
        routeTableId: rt.id,
        destinationCidrBlock: '0.0.0.0/0',
        natGatewayId: nats[natMode === 'single' ? 0 : i].id,
      });
      new RouteTableAssociation(this, `relay-assoc-${i}`, { subnetId: this.relaySubnetIds[i], routeTableId: rt.id });
      new RouteTableAssociation(this, `data-assoc-${i}`, { subnetId: this.dataSubnetIds[i], routeTableId: rt.id });
    });

    const sg = (key: string, description: string): SecurityGroup => {
      const g = new SecurityGroup(this, `${key}-sg`, {
        name: `${props.name}-${key}`,
        description,
        vpcId: this.vpc.id,
        tags: { Name: `${props.name}-${key}` },
      });
      new VpcSecurityGroupEgressRule(this, `${key}-egress`, {
        securityGroupId: g.id,
        ipProtocol: '-1',
        cidrIpv4: '0.0.0.0/0',
        description: 'all egress (artifact download, AWS APIs, Kafka)',
      });
      return g;
    };
    this.lbSecurityGroup = sg('lb', 'edgelog relay NLB: edge sites on the forward port, health checkers on /readyz');
    this.relaySecurityGroup = sg('relay', 'edgelog relays: only from the NLB');
    this.brokerSecurityGroup = sg('broker', 'edgelog MSK brokers: only from relays and the replicator');

    props.edgeCidrs.forEach((cidr, i) =>
      new VpcSecurityGroupIngressRule(this, `lb-forward-${i}`, {
        securityGroupId: this.lbSecurityGroup.id,
        cidrIpv4: cidr,
        ipProtocol: 'tcp',
        fromPort: props.forwardPort,
        toPort: props.forwardPort,
        description: 'edge agents (forward protocol)',
      }),
    );
    props.healthCheckerCidrs.forEach((cidr, i) =>
      new VpcSecurityGroupIngressRule(this, `lb-health-${i}`, {
        securityGroupId: this.lbSecurityGroup.id,
        cidrIpv4: cidr,
        ipProtocol: 'tcp',
        fromPort: props.healthPort,
        toPort: props.healthPort,
        description: 'Route 53 health checkers (/readyz)',
      }),
    );
    for (const [key, port] of [['forward', props.forwardPort], ['health', props.healthPort]] as const) {
      new VpcSecurityGroupIngressRule(this, `relay-${key}`, {
        securityGroupId: this.relaySecurityGroup.id,
        referencedSecurityGroupId: this.lbSecurityGroup.id,
        ipProtocol: 'tcp',
        fromPort: port,
        toPort: port,
        description: `from the NLB (${key})`,
      });
    }
    for (const port of brokerPorts) {
      new VpcSecurityGroupIngressRule(this, `broker-from-relay-${port}`, {
        securityGroupId: this.brokerSecurityGroup.id,
        referencedSecurityGroupId: this.relaySecurityGroup.id,
        ipProtocol: 'tcp',
        fromPort: port,
        toPort: port,
        description: 'relays (Kafka clients)',
      });
    }
    new VpcSecurityGroupIngressRule(this, 'broker-self', {
      securityGroupId: this.brokerSecurityGroup.id,
      referencedSecurityGroupId: this.brokerSecurityGroup.id,
      ipProtocol: 'tcp',
      fromPort: 9092,
      toPort: 9098,
      description: 'brokers and the MSK Replicator ENIs',
    });
  }
}
