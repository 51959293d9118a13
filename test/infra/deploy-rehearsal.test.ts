// The deploy rehearsal: what a user runs against a real account, run here
// against the AWS emulator. synth -> terraform init from the provider mirror
// only -> validate every AWS stack (0 errors, 0 warnings) -> plan + apply of
// primary, secondary and global against moto (endpoints from a test-only
// override file; what moto lacks is excluded by test/infra/rehearsal/exclusions.ts)
// -> read back through the AWS API (boto3) -> destroy, and the emulator holds
// exactly what it held before the apply. Details and figures:
// test/infra/rehearsal/README.md.
//
// Terraform runs directly on the synthesized stack directories, not through
// `cdktf deploy`: the CLI re-synthesizes before it deploys, which would undo
// the rehearsal's exclusions. A user on a real account runs
// `npx cdktf deploy primary secondary global` with the same stacks.
// Skips (saying why) only without terraform >= 1.11, the provider mirror or moto.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildApp } from '../../infra/app.ts';
import { config } from '../../infra/config.ts';
import { relayBootScript } from '../../infra/lib/user-data.ts';
import { awsRelayConfigYaml } from '../../infra/stacks/region.ts';
import { RELAY_SECRET_FILES } from '../../infra/constructs/relay-secrets.ts';
import { awsCliMissing, fetcher, putSecretValue } from '../install/secrets-fetch-run.ts';
import { inlineConstantOutputs } from './rehearsal/cross-stack.ts';
import { EXCLUDED, withoutExcluded } from './rehearsal/exclusions.ts';
import { motoMissing, startMoto, VENV_PYTHON, type Moto } from './rehearsal/moto.ts';
import { findMirror, run, terraformMissing, writeCliConfig, writeEndpointOverride, type Run } from './rehearsal/terraform.ts';

const AWS_STACKS = { primary: config.aws.primary.region, secondary: config.aws.secondary.region, global: config.aws.globalRegion } as const;
type StackName = keyof typeof AWS_STACKS;
const STACKS = Object.keys(AWS_STACKS) as StackName[];
const tfSkip = terraformMissing();
const applySkip = tfSkip ?? motoMissing() ?? awsCliMissing();
const READBACK = join(import.meta.dirname, 'rehearsal', 'readback.py');
type Json = Record<string, any>;

interface Validation { valid: boolean; error_count: number; warning_count: number; diagnostics: unknown[] }
interface Prepared {
  readonly base: string;
  dir(s: StackName): string;
  /** terraform in a stack dir; fails the test with the output tails (and moto's) unless it exits 0. */
  tf(s: StackName, args: string[], moto?: Moto): Promise<Run>;
  readonly validation: Record<StackName, Validation>;
  readonly seconds: number;
  /** moto with the hosted zone and the inventory before any apply, started alongside init/validate (null when moto is missing). */
  readonly emulator: Promise<Emulator> | null;
}

interface Emulator {
  readonly moto: Moto;
  py(args: string[]): Promise<string>;
  readback(mode: 'details' | 'inventory'): Promise<Json>;
  readonly before: Json;
}

const REGIONS = [...new Set(Object.values(AWS_STACKS))];

async function startEmulator(base: string): Promise<Emulator> {
  const moto = await startMoto(join(base, 'moto.log'));
  const py = async (args: string[]): Promise<string> => {
    const r = await run(VENV_PYTHON, args, base, process.env, 3 * 60_000);
    assert.equal(r.status, 0, `${args.join(' ')}:\n${r.stderr.slice(-4000)}\n--- moto log tail ---\n${moto.logTail(2000)}`);
    return r.stdout;
  };
  const readback = async (mode: 'details' | 'inventory') => JSON.parse(await py([READBACK, moto.endpoint, mode, ...REGIONS])) as Json;
  try {
    // The hosted zone exists before a deploy (the stacks look it up, never create it).
    await py(['-c', `import boto3,sys; boto3.client('route53',endpoint_url=sys.argv[1],region_name='us-east-1',aws_access_key_id='x',aws_secret_access_key='x').create_hosted_zone(Name=sys.argv[2],CallerReference='rehearsal')`, moto.endpoint, config.dns.zoneName]);
    return { moto, py, readback, before: await readback('inventory') };
  } catch (e) {
    await moto.stop();
    throw e;
  }
}

// Synth + init + validate once; the validate test asserts on it, the apply test builds on it.
let prepared: Promise<Prepared> | undefined;
let baseDir: string | undefined;
let emulator: Promise<Emulator> | null = null;
after(async () => {
  const e = await emulator?.catch(() => null);
  await e?.moto.stop();
  if (baseDir) rmSync(baseDir, { recursive: true, force: true });
});

function prepare(): Promise<Prepared> {
  prepared ??= (async () => {
    const t0 = performance.now();
    const base = mkdtempSync(join(tmpdir(), `edgelog-rehearsal-${process.pid}-`));
    baseDir = base;
    // moto starts while Terraform initializes: its start and the baseline
    // inventory cost nothing on the critical path.
    if (!applySkip) {
      emulator = startEmulator(base);
      emulator.catch(() => undefined); // awaited (and reported) by the apply test
    }
    const out = join(base, 'cdktf.out');
    buildApp({ outdir: out, stackTraces: false }).app.synth();
    const rc = join(base, 'terraformrc');
    writeCliConfig(rc, findMirror()!);
    const env = { ...process.env, TF_CLI_CONFIG_FILE: rc, TF_IN_AUTOMATION: '1', TF_INPUT: '0', CHECKPOINT_DISABLE: '1' };
    const dir = (s: StackName) => join(out, 'stacks', s);
    const tf = async (s: StackName, args: string[], moto?: Moto): Promise<Run> => {
      const r = await run('terraform', [...args, '-no-color'], dir(s), env, 8 * 60_000);
      const motoLog = moto ? `\n--- moto log tail ---\n${moto.logTail(3000)}` : '';
      assert.equal(r.status, 0, `terraform ${args[0]} ${s} failed:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-6000)}${motoLog}`);
      return r;
    };
    const validation = {} as Record<StackName, Validation>;
    // The three stacks side by side: each terraform process mostly waits on its provider plugin.
    await Promise.all(STACKS.map(async (s) => {
      await tf(s, ['init', '-input=false']);
      validation[s] = JSON.parse((await tf(s, ['validate', '-json'])).stdout) as Validation;
    }));
    return { base, dir, tf, validation, seconds: (performance.now() - t0) / 1000, emulator };
  })();
  return prepared;
}

test('deploy rehearsal: terraform init from the mirror only, validate every AWS stack with 0 errors and 0 warnings', { skip: tfSkip ?? false, timeout: 10 * 60_000 }, async (t) => {
  const p = await prepare();
  for (const s of STACKS) {
    const v = p.validation[s];
    t.diagnostic(`validate ${s}: valid=${v.valid} errors=${v.error_count} warnings=${v.warning_count}`);
    assert.deepEqual({ valid: v.valid, errors: v.error_count, warnings: v.warning_count }, { valid: true, errors: 0, warnings: 0 }, JSON.stringify(v.diagnostics));
  }
  t.diagnostic(`synth + init + validate: ${p.seconds.toFixed(0)} s`);
});

test('deploy rehearsal: apply, read back and destroy the AWS stacks against moto', { skip: applySkip ?? false, timeout: 15 * 60_000 }, async (t) => {
  const p = await prepare();
  const t0 = performance.now();
  assert.ok(p.emulator, 'moto was started with the synth');
  const { moto, readback, before } = await p.emulator;

  // Rehearsal copies: excluded resources out, stand-ins in, constant cross-stack outputs inlined.
  const copies = {} as Record<StackName, Json>;
  const removed = {} as Record<StackName, string[]>;
  for (const s of STACKS) {
    const r = withoutExcluded(JSON.parse(readFileSync(join(p.dir(s), 'cdk.tf.json'), 'utf8')), AWS_STACKS[s]);
    copies[s] = r.tf;
    removed[s] = r.removed;
  }
  const needs = inlineConstantOutputs(copies) as Record<StackName, StackName[]>;
  t.diagnostic(`apply order: ${STACKS.map((s) => `${s} after [${needs[s].join(', ')}]`).join('; ')}`);
  const resourceCount = (tf: Json) => Object.values(tf.resource as Record<string, Json>).reduce((n, g) => n + Object.keys(g).length, 0);
  for (const s of STACKS) {
    assert.ok(Object.values(copies[s].resource as Record<string, Json>).every((g) => Object.values(g).every((r: Json) => r.count === undefined && r.for_each === undefined)), 'one instance per resource block (the count below relies on it)');
    writeFileSync(join(p.dir(s), 'cdk.tf.json'), JSON.stringify(copies[s], null, 2));
    writeEndpointOverride(p.dir(s), copies[s], moto.endpoint);
  }

  // Apply: each stack as soon as the stacks whose state it reads are applied.
  const seconds: Record<string, number> = {};
  const added = {} as Record<StackName, number>;
  const applyDone = {} as Record<StackName, Promise<void>>;
  const apply = async (s: StackName): Promise<void> => {
    await Promise.all(needs[s].map((n) => applyDone[n]));
    const a0 = performance.now();
    // One apply (plan and apply in one process: each terraform run starts the
    // 700 MB provider again, which costs seconds of CPU on a loaded machine).
    const a = await p.tf(s, ['apply', '-input=false', '-auto-approve', '-parallelism=20'], moto);
    seconds[`apply ${s}`] = Math.round((performance.now() - a0) / 1000);
    added[s] = Number(/Resources: (\d+) added/.exec(a.stdout)?.[1] ?? NaN);
  };
  for (const s of STACKS) applyDone[s] = apply(s);
  const applied = await Promise.allSettled(STACKS.map((s) => applyDone[s]));
  for (const r of applied) if (r.status === 'rejected') throw r.reason;

  const state = {} as Record<StackName, Json[]>;
  for (const s of STACKS) {
    t.diagnostic(`apply ${s}: ${added[s]} resources added in ${seconds[`apply ${s}`]} s; excluded: ${removed[s].join(', ') || 'none'}`);
    assert.equal(added[s], resourceCount(copies[s]), `${s}: every resource of the rehearsal copy is created`);
    // State holds no secret: the SCRAM password is ephemeral and write-only.
    const raw = readFileSync(join(p.dir(s), copies[s].terraform.backend.local.path as string), 'utf8');
    assert.doesNotMatch(raw, /"random_password"\s*:\s*"[^"]+"/);
    assert.doesNotMatch(raw, /"secret_string(_wo)?"\s*:\s*"[^"]+"/);
    state[s] = (JSON.parse(raw) as Json).resources.filter((r: Json) => r.mode === 'managed');
  }
  const stateOf = (s: StackName, type: string): Json[] => state[s].filter((r) => r.type === type).map((r) => r.instances[0].attributes as Json);

  // Read back what a reviewer checks.
  const rb = await readback('details');
  const fetched: Record<string, string> = {};
  for (const key of ['primary', 'secondary'] as const) {
    const region = config.aws[key].region;
    const r = rb.regions[region];
    const name = `${config.project}-${config.environment}-${key}`;
    const asg = r.asgs.find((g: any) => g.AutoScalingGroupName === name);
    assert.ok(asg, `${region}: ASG ${name}`);
    assert.equal(asg.MinSize, config.relay.minSize);
    assert.equal(asg.MaxSize, config.relay.maxSize);
    assert.equal(asg.HealthCheckType, 'ELB');
    assert.equal(asg.TargetGroupARNs.length, 2);
    const hook = r.hooks[name].find((h: any) => h.LifecycleHookName === `${name}-drain`);
    assert.equal(hook?.LifecycleTransition, 'autoscaling:EC2_INSTANCE_TERMINATING');
    assert.equal(hook?.HeartbeatTimeout, config.relay.drainSeconds);
    assert.equal(hook?.DefaultResult, 'CONTINUE');
    const policies = r.policies.filter((x: any) => x.AutoScalingGroupName === name);
    assert.deepEqual(policies.map((x: any) => x.PolicyName).sort(), [`${name}-cpu`, `${name}-load`]);
    const cpu = policies.find((x: any) => x.PolicyName === `${name}-cpu`).TargetTrackingConfiguration;
    assert.equal(cpu.PredefinedMetricSpecification.PredefinedMetricType, 'ASGAverageCPUUtilization');
    const load = policies.find((x: any) => x.PolicyName === `${name}-load`).TargetTrackingConfiguration.CustomizedMetricSpecification;
    assert.deepEqual([load.Namespace, load.MetricName], ['Edgelog/Relay', 'BufferOccupancy']);

    const lt = r.launch_templates.find((l: any) => l.name === `${name}-relay`).data;
    assert.equal(lt.MetadataOptions.HttpTokens, 'required', 'IMDSv2 only');
    assert.equal(lt.MetadataOptions.HttpPutResponseHopLimit, 1);
    assert.ok(lt.BlockDeviceMappings.length > 0 && lt.BlockDeviceMappings.every((b: any) => b.Ebs.Encrypted === true), 'encrypted volumes');
    // User data = the installer's cloud-init, with the region's brokers (the
    // MSK stand-in of whichever listener the relays use) where the placeholder was.
    const script = relayBootScript(config.agent, awsRelayConfigYaml(config), {
      store: 'aws-secretsmanager', region, files: Object.entries(RELAY_SECRET_FILES).map(([k, path]) => ({ secretId: `${name}/relay/${k}`, path })),
    });
    const msk = EXCLUDED.find((e) => e.type === 'aws_msk_cluster')!.stands;
    const candidates = Object.entries(msk).filter(([k]) => k.startsWith('bootstrap_brokers'))
      .map(([, v]) => script.replace('@@EDGELOG_KAFKA_BOOTSTRAP@@', v.replaceAll('{region}', region)));
    assert.ok(candidates.includes(lt.UserDataDecoded), `${name}: launch template user data is the installer's cloud-init`);
    assert.ok(candidates.every((c) => c !== script), 'the boot script carries the bootstrap placeholder');

    // Security groups: exactly the designed ingress.
    const sg = (suffix: string) => r.security_groups.find((g: any) => g.GroupName === `${name}-${suffix}`);
    const ingress = (g: any) => r.sg_rules.filter((x: any) => x.GroupId === g.GroupId && !x.IsEgress)
      .map((x: any) => `${x.FromPort}-${x.ToPort}/${x.IpProtocol} from ${x.CidrIpv4 ?? x.ReferencedGroupInfo?.GroupId}`).sort();
    const lb = sg('lb'), relay = sg('relay'), broker = sg('broker');
    assert.ok(lb && relay && broker, `security groups of ${name}: ${r.security_groups.map((g: any) => g.GroupName).join(', ')}`);
    const f = config.ports.forward, h = config.ports.health;
    assert.deepEqual(ingress(lb), [
      ...config.edgeCidrs.map((c) => `${f}-${f}/tcp from ${c}`),
      ...config.route53HealthCheckerCidrs.map((c) => `${h}-${h}/tcp from ${c}`),
    ].sort());
    assert.deepEqual(ingress(relay), [`${f}-${f}/tcp from ${lb.GroupId}`, `${h}-${h}/tcp from ${lb.GroupId}`].sort());
    const brokerIn = ingress(broker);
    assert.ok(brokerIn.length > 0 && brokerIn.every((x: string) => x.endsWith(`from ${relay.GroupId}`) || x.endsWith(`from ${broker.GroupId}`)),
      `brokers only from relays and themselves: ${brokerIn.join(', ')}`);

    // NLB: internet-facing, a TCP listener on each port forwarding to the ASG's target groups, /readyz health checks.
    const nlb = r.load_balancers.find((x: any) => x.LoadBalancerName === name);
    assert.equal(nlb?.Type, 'network');
    // The provider leaves Scheme out for a public NLB (AWS's default is
    // internet-facing) and moto echoes what it was sent; internal would say so.
    assert.notEqual(nlb.Scheme, 'internal');
    const listeners = r.listeners.filter((x: any) => x.LoadBalancerArn === nlb.LoadBalancerArn);
    assert.deepEqual(listeners.map((x: any) => `${x.Port}/${x.Protocol}`).sort(), [`${f}/TCP`, `${h}/TCP`].sort());
    for (const l of listeners) {
      const tg = r.target_groups.find((g: any) => g.TargetGroupArn === l.DefaultActions[0].TargetGroupArn);
      assert.ok(tg && asg.TargetGroupARNs.includes(tg.TargetGroupArn), `listener ${l.Port} forwards to an ASG target group`);
      assert.equal(tg.Port, l.Port);
      assert.deepEqual([tg.HealthCheckProtocol, tg.HealthCheckPath, String(tg.HealthCheckPort)], ['HTTP', '/readyz', String(h)]);
      assert.ok(Number(tg.Attributes['deregistration_delay.timeout_seconds']) <= config.relay.drainSeconds, 'deregistration ends before the drain hook');
    }

    // The relays' secrets: three containers under the stack's customer key
    // (the MSK key), no SCRAM secret (SCRAM is opt-in and off).
    const kmsKey = r.kms_keys.find((k: any) => k.Description.startsWith(`${name}:`) && k.KeyManager === 'CUSTOMER' && k.KeyState === 'Enabled');
    assert.ok(kmsKey, `${name}: customer KMS key`);
    const relaySecrets = Object.keys(RELAY_SECRET_FILES).map((k) => r.secrets.find((x: any) => x.Name === `${name}/relay/${k}`));
    assert.ok(relaySecrets.every(Boolean), `relay secrets of ${name}: ${r.secrets.map((x: any) => x.Name).join(', ')}`);
    for (const sec of relaySecrets) assert.ok([kmsKey.KeyId, kmsKey.Arn].includes(sec.KmsKeyId), `${sec.Name} encrypted with ${kmsKey.KeyId}, got ${sec.KmsKeyId}`);
    assert.ok(!r.secrets.some((x: any) => x.Name.startsWith('AmazonMSK_')), 'no SCRAM secret');
    // The relay role's policy, read back through IAM, grants exactly these ARNs and the key via Secrets Manager only.
    const inline = Object.values(rb.roles[`${name}-relay`]?.inline ?? {}) as Json[];
    assert.equal(inline.length, 1, `${name}-relay: one inline policy`);
    const stmts = inline[0].Statement as Json[];
    assert.deepEqual(stmts.find((x) => x.Sid === 'RelaySecrets'), {
      Sid: 'RelaySecrets', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: relaySecrets.map((x: any) => x.ARN),
    });
    assert.deepEqual(stmts.find((x) => x.Sid === 'RelaySecretsKey'), {
      Sid: 'RelaySecretsKey', Effect: 'Allow', Action: 'kms:Decrypt', Resource: kmsKey.Arn,
      Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com` } },
    });
    assert.ok(stmts.every((x) => x.Sid !== 'RelaySecrets' || !JSON.stringify(x.Resource).includes('*')), 'no wildcard on secrets');

    // The boot script's fetch step, taken from the applied user data, against the
    // emulator: nothing written while the secrets have no value; after the
    // runbook's `aws secretsmanager put-secret-value` it writes each file 0640.
    fetched[region] = await fetchRelaySecrets(lt.UserDataDecoded, moto.endpoint, region, relaySecrets.map((x: any) => x.Name), join(p.base, `node-${key}`));
  }

  for (const [region, what] of Object.entries(fetched)) t.diagnostic(`secrets fetch ${region}: ${what}`);

  // IAM, read generically from state: every role, inline policy and attachment
  // the stacks applied exists in the emulator with the same documents.
  for (const s of STACKS) {
    for (const role of stateOf(s, 'aws_iam_role')) {
      assert.deepEqual(rb.roles[role.name]?.assume, JSON.parse(role.assume_role_policy), `${s}: trust policy of ${role.name}`);
    }
    for (const pol of stateOf(s, 'aws_iam_role_policy')) {
      assert.deepEqual(rb.roles[pol.role]?.inline[pol.name], JSON.parse(pol.policy), `${s}: policy ${pol.name} of ${pol.role}`);
    }
    for (const att of stateOf(s, 'aws_iam_role_policy_attachment')) {
      assert.ok(rb.roles[att.role]?.attached.includes(att.policy_arn), `${s}: ${att.policy_arn} attached to ${att.role}`);
    }
  }

  // Route 53: failover chain and health checks.
  const zone = rb.zones.find((z: any) => z.Name === `${config.dns.zoneName}.`);
  const records = rb.records[zone.Name].filter((x: any) => x.Failover);
  const byName = (n: string) => records.filter((x: any) => x.Name === `${n}.`).map((x: any) => x.Failover).sort();
  assert.deepEqual(byName(config.dns.recordName), ['PRIMARY', 'SECONDARY']);
  assert.deepEqual(byName(config.dns.standbyRecordName), ['PRIMARY', 'SECONDARY']);
  const nlbDns = (s: 'primary' | 'secondary') => stateOf(s, 'aws_lb')[0]!.dns_name as string;
  const primaryRecord = records.find((x: any) => x.Name === `${config.dns.recordName}.` && x.Failover === 'PRIMARY');
  assert.equal(primaryRecord.AliasTarget?.DNSName.replace(/\.$/, ''), nlbDns('primary'), 'the primary record points at the primary NLB');
  const standby = records.find((x: any) => x.Name === `${config.dns.standbyRecordName}.` && x.Failover === 'PRIMARY');
  assert.equal(standby.AliasTarget?.DNSName.replace(/\.$/, ''), nlbDns('secondary'), 'the standby record points at the secondary NLB');
  assert.ok(records.every((x: any) => x.HealthCheckId || x.AliasTarget?.EvaluateTargetHealth), 'every failover record is health-checked');
  assert.equal(rb.health_checks.length, stateOf('global', 'aws_route53_health_check').length);
  assert.ok(rb.health_checks.length >= 2);
  for (const c of rb.health_checks) {
    assert.deepEqual([c.HealthCheckConfig.ResourcePath, c.HealthCheckConfig.Port, c.HealthCheckConfig.FailureThreshold], ['/readyz', config.ports.health, 5]);
  }

  // Alarms (generic from state) and the FIS template with its stop condition.
  const alarms = Object.values(rb.regions as Record<string, Json>).flatMap((r) => r.alarms as Json[]);
  for (const want of stateOf('global', 'aws_cloudwatch_metric_alarm')) {
    const got = alarms.find((a) => a.AlarmName === want.alarm_name);
    assert.ok(got, `alarm ${want.alarm_name}`);
    assert.deepEqual([got.Namespace, got.MetricName, got.ComparisonOperator, got.Threshold], [want.namespace, want.metric_name, want.comparison_operator, want.threshold]);
  }
  const fis = rb.regions[config.aws.primary.region].fis_templates;
  assert.equal(fis.length, 1);
  assert.deepEqual(Object.values(fis[0].actions).map((a: any) => a.actionId), ['aws:network:disrupt-connectivity']);
  const alarmArns = stateOf('global', 'aws_cloudwatch_metric_alarm').map((a) => a.arn);
  assert.ok(fis[0].stopConditions.length > 0 && fis[0].stopConditions.every((c: any) => c.source === 'aws:cloudwatch:alarm' && alarmArns.includes(c.value)), 'FIS stops on the failover target alarm');
  assert.ok(Object.values(fis[0].targets).every((x: any) => x.resourceTags?.['edgelog:tier'] === 'relay'), 'FIS targets the relay tier only');

  // Destroy all stacks side by side; afterwards the emulator holds exactly
  // what it held before the apply. A consumer's destroy still reads its
  // producers' state (terraform_remote_state), which the producers' own
  // destroys rewrite meanwhile, so it reads a copy taken now. Each destroy
  // plans from the state the apply just wrote (-refresh=false): re-reading
  // every resource from the emulator would check nothing the read-back has not.
  const snapshots = join(p.base, 'state-after-apply');
  mkdirSync(snapshots);
  for (const s of STACKS) {
    const reads = copies[s].data?.terraform_remote_state as Record<string, Json> | undefined;
    if (!reads) continue;
    for (const [key, read] of Object.entries(reads)) {
      const copy = join(snapshots, `${s}-${key}.tfstate`);
      copyFileSync(join(p.dir(s), read.config.path as string), copy);
      read.config.path = copy;
    }
    writeFileSync(join(p.dir(s), 'cdk.tf.json'), JSON.stringify(copies[s], null, 2));
  }
  const destroyed = await Promise.allSettled(STACKS.map(async (s) => {
    const d0 = performance.now();
    await p.tf(s, ['destroy', '-input=false', '-auto-approve', '-refresh=false', '-parallelism=20'], moto);
    seconds[`destroy ${s}`] = Math.round((performance.now() - d0) / 1000);
  }));
  for (const r of destroyed) if (r.status === 'rejected') throw r.reason;
  const afterDestroy = await readback('inventory');
  assert.deepEqual(afterDestroy, before, 'destroy leaves nothing the apply created');
  t.diagnostic(`apply + read-back + destroy: ${Math.round((performance.now() - t0) / 1000)} s (${JSON.stringify(seconds)}; resources added ${JSON.stringify(added)})`);
});

/**
 * The relay boot script's secrets step against the emulator: with no values it
 * writes nothing and says which secret is missing (exit 75 in one-shot mode);
 * after the operator's put-secret-value it writes every file, 0640, with the
 * exact value, and never prints one.
 */
async function fetchRelaySecrets(userData: string, endpoint: string, region: string, names: string[], dir: string): Promise<string> {
  const f = fetcher(userData, dir, endpoint, region);
  const paths = Object.values(RELAY_SECRET_FILES).map((p) => join(f.root, p));
  const empty = await f.run(true);
  assert.equal(empty.code, 75, `fetch before values: exit 75 (missing), got ${empty.code}: ${empty.stderr}`);
  for (const n of names) assert.match(empty.stderr, new RegExp(`${n.replaceAll('/', '\\/')} not available yet`));
  assert.ok(paths.every((p) => !existsSync(p)), 'nothing written while a secret has no value');
  const values = names.map((n) => `${n} ${randomBytes(12).toString('hex')}`);
  for (const [i, n] of names.entries()) {
    const file = join(dir, `value-${i}`);
    writeFileSync(file, values[i]!, { mode: 0o600 });
    await putSecretValue(endpoint, region, n, file);
  }
  const done = await f.run(true);
  assert.equal(done.code, 0, `fetch after put-secret-value: ${done.stderr}`);
  for (const [i, p] of paths.entries()) {
    // The CLI's text output ends the value with a newline.
    assert.equal(readFileSync(p, 'utf8'), `${values[i]}\n`, p);
    assert.equal(statSync(p).mode & 0o777, 0o640, `${p} mode`);
    assert.equal(statSync(p).uid, 0, `${p} owned by root`);
  }
  for (const v of values) assert.ok(!done.stderr.includes(v) && !done.stdout.includes(v), 'a secret value was printed');
  return `${paths.length} files written 0640 after put-secret-value, none before`;
}
