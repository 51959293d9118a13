# Reads back, through the AWS API (boto3 against the emulator), what a reviewer
# checks after a deploy; prints one JSON document for the rehearsal test.
#   python readback.py ENDPOINT details REGION [REGION...]    what the read-back asserts on
#   python readback.py ENDPOINT inventory REGION [REGION...]  ids of everything that exists
# The inventory leaves out what AWS keeps after a delete on purpose (KMS keys
# pending deletion, secrets in their recovery window, terminated instances,
# deleted NAT gateways) and what AWS itself owns (keys behind alias/aws/*), so
# "before apply" and "after destroy" compare equal when nothing is left.
import base64, json, sys
import boto3

endpoint, mode, regions = sys.argv[1], sys.argv[2], list(dict.fromkeys(sys.argv[3:]))


def client(svc, region):
    return boto3.client(svc, region_name=region, endpoint_url=endpoint,
                        aws_access_key_id='rehearsal', aws_secret_access_key='rehearsal')


def role_policies(iam):
    out = {}
    for role in iam.list_roles()['Roles']:
        name = role['RoleName']
        inline = {p: iam.get_role_policy(RoleName=name, PolicyName=p)['PolicyDocument']
                  for p in iam.list_role_policies(RoleName=name)['PolicyNames']}
        attached = [a['PolicyArn'] for a in iam.list_attached_role_policies(RoleName=name)['AttachedPolicies']]
        out[name] = {'inline': inline, 'attached': attached, 'assume': role['AssumeRolePolicyDocument']}
    return out


def details():
    out = {'regions': {}}
    for region in regions:
        asg, ec2, elb = client('autoscaling', region), client('ec2', region), client('elbv2', region)
        kms, sm = client('kms', region), client('secretsmanager', region)
        r = {}
        r['asgs'] = asg.describe_auto_scaling_groups()['AutoScalingGroups']
        r['hooks'] = {g['AutoScalingGroupName']: asg.describe_lifecycle_hooks(AutoScalingGroupName=g['AutoScalingGroupName'])['LifecycleHooks'] for g in r['asgs']}
        r['policies'] = asg.describe_policies()['ScalingPolicies']
        r['launch_templates'] = []
        for lt in ec2.describe_launch_templates()['LaunchTemplates']:
            v = ec2.describe_launch_template_versions(LaunchTemplateId=lt['LaunchTemplateId'], Versions=['$Latest'])['LaunchTemplateVersions'][0]['LaunchTemplateData']
            ud = v.get('UserData')
            v['UserDataDecoded'] = base64.b64decode(ud).decode('utf-8') if ud else None
            r['launch_templates'].append({'name': lt['LaunchTemplateName'], 'data': v})
        r['security_groups'] = ec2.describe_security_groups()['SecurityGroups']
        r['sg_rules'] = ec2.describe_security_group_rules()['SecurityGroupRules']
        r['load_balancers'] = elb.describe_load_balancers()['LoadBalancers']
        r['listeners'] = [l for lb in r['load_balancers'] for l in elb.describe_listeners(LoadBalancerArn=lb['LoadBalancerArn'])['Listeners']]
        r['target_groups'] = elb.describe_target_groups()['TargetGroups']
        for tg in r['target_groups']:
            tg['Attributes'] = {a['Key']: a['Value'] for a in elb.describe_target_group_attributes(TargetGroupArn=tg['TargetGroupArn'])['Attributes']}
        r['secrets'] = [sm.describe_secret(SecretId=s['ARN']) for s in sm.list_secrets()['SecretList']]
        r['kms_keys'] = [kms.describe_key(KeyId=k['KeyId'])['KeyMetadata'] for k in kms.list_keys()['Keys']]
        fis = client('fis', region)
        r['fis_templates'] = [fis.get_experiment_template(id=t['id'])['experimentTemplate'] for t in fis.list_experiment_templates()['experimentTemplates']]
        r['alarms'] = client('cloudwatch', region).describe_alarms()['MetricAlarms']
        out['regions'][region] = r
    out['roles'] = role_policies(client('iam', regions[0]))
    r53 = client('route53', regions[0])
    out['zones'] = r53.list_hosted_zones()['HostedZones']
    out['records'] = {z['Name']: r53.list_resource_record_sets(HostedZoneId=z['Id'])['ResourceRecordSets'] for z in out['zones']}
    out['health_checks'] = r53.list_health_checks()['HealthChecks']
    return out


def inventory():
    out = {}
    for region in regions:
        ec2, elb, asg = client('ec2', region), client('elbv2', region), client('autoscaling', region)
        kms, sm = client('kms', region), client('secretsmanager', region)
        # Keys behind alias/aws/* belong to AWS (the EBS default key appears when the first volume does).
        aws_managed = {a.get('TargetKeyId') for a in kms.list_aliases()['Aliases'] if a['AliasName'].startswith('alias/aws/')}
        inv = {
            'vpcs': [v['VpcId'] for v in ec2.describe_vpcs()['Vpcs']],
            'subnets': [s['SubnetId'] for s in ec2.describe_subnets()['Subnets']],
            'route_tables': [t['RouteTableId'] for t in ec2.describe_route_tables()['RouteTables']],
            'internet_gateways': [g['InternetGatewayId'] for g in ec2.describe_internet_gateways()['InternetGateways']],
            'nat_gateways': [g['NatGatewayId'] for g in ec2.describe_nat_gateways()['NatGateways'] if g['State'] not in ('deleted', 'deleting')],
            'eips': [a.get('AllocationId') for a in ec2.describe_addresses()['Addresses']],
            'security_groups': [g['GroupId'] for g in ec2.describe_security_groups()['SecurityGroups']],
            'security_group_rules': [x['SecurityGroupRuleId'] for x in ec2.describe_security_group_rules()['SecurityGroupRules']],
            'launch_templates': [t['LaunchTemplateName'] for t in ec2.describe_launch_templates()['LaunchTemplates']],
            'instances': [i['InstanceId'] for res in ec2.describe_instances()['Reservations'] for i in res['Instances'] if i['State']['Name'] != 'terminated'],
            'asgs': [g['AutoScalingGroupName'] for g in asg.describe_auto_scaling_groups()['AutoScalingGroups']],
            'scaling_policies': [p['PolicyName'] for p in asg.describe_policies()['ScalingPolicies']],
            'load_balancers': [b['LoadBalancerName'] for b in elb.describe_load_balancers()['LoadBalancers']],
            'target_groups': [g['TargetGroupName'] for g in elb.describe_target_groups()['TargetGroups']],
            'kms_keys': [k['KeyId'] for k in kms.list_keys()['Keys'] if k['KeyId'] not in aws_managed
                         and kms.describe_key(KeyId=k['KeyId'])['KeyMetadata']['KeyState'] != 'PendingDeletion'],
            'kms_aliases': [a['AliasName'] for a in kms.list_aliases()['Aliases'] if not a['AliasName'].startswith('alias/aws/')],
            'secrets': [s['Name'] for s in sm.list_secrets()['SecretList'] if not s.get('DeletedDate')],
            'alarms': [a['AlarmName'] for a in client('cloudwatch', region).describe_alarms()['MetricAlarms']],
            'log_groups': [g['logGroupName'] for g in client('logs', region).describe_log_groups()['logGroups']],
            'fis_templates': [t['id'] for t in client('fis', region).list_experiment_templates()['experimentTemplates']],
        }
        out[region] = {k: sorted(v) for k, v in inv.items()}
    iam, r53 = client('iam', regions[0]), client('route53', regions[0])
    out['global'] = {
        'roles': sorted(r['RoleName'] for r in iam.list_roles()['Roles']),
        'instance_profiles': sorted(p['InstanceProfileName'] for p in iam.list_instance_profiles()['InstanceProfiles']),
        'records': sorted(f"{x['Name']} {x['Type']} {x.get('SetIdentifier', '')}" for z in r53.list_hosted_zones()['HostedZones']
                          for x in r53.list_resource_record_sets(HostedZoneId=z['Id'])['ResourceRecordSets']),
        'health_checks': sorted(c['Id'] for c in r53.list_health_checks()['HealthChecks']),
    }
    return out


print(json.dumps(details() if mode == 'details' else inventory(), default=str))
