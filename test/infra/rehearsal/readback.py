# Reads back, through the AWS API (boto3 against the emulator), what a reviewer
# checks after a deploy; prints one JSON document for the rehearsal test.
# Usage: python readback.py ENDPOINT REGION [REGION...]
import base64, json, sys
import boto3

endpoint, regions = sys.argv[1], sys.argv[2:]
def client(svc, region):
    return boto3.client(svc, region_name=region, endpoint_url=endpoint, aws_access_key_id='rehearsal', aws_secret_access_key='rehearsal')

out = {'regions': {}}
for region in regions:
    asg, ec2, elb = client('autoscaling', region), client('ec2', region), client('elbv2', region)
    r = {}
    r['asgs'] = asg.describe_auto_scaling_groups()['AutoScalingGroups']
    r['hooks'] = {g['AutoScalingGroupName']: asg.describe_lifecycle_hooks(AutoScalingGroupName=g['AutoScalingGroupName'])['LifecycleHooks'] for g in r['asgs']}
    r['policies'] = asg.describe_policies()['ScalingPolicies']
    lts = ec2.describe_launch_templates()['LaunchTemplates']
    r['launch_templates'] = []
    for lt in lts:
        v = ec2.describe_launch_template_versions(LaunchTemplateId=lt['LaunchTemplateId'], Versions=['$Latest'])['LaunchTemplateVersions'][0]['LaunchTemplateData']
        ud = v.get('UserData')
        v['UserDataDecoded'] = base64.b64decode(ud).decode('utf-8') if ud else None
        r['launch_templates'].append({'name': lt['LaunchTemplateName'], 'data': v})
    r['security_groups'] = ec2.describe_security_groups()['SecurityGroups']
    r['sg_rules'] = ec2.describe_security_group_rules()['SecurityGroupRules']
    r['load_balancers'] = elb.describe_load_balancers()['LoadBalancers']
    r['target_groups'] = elb.describe_target_groups()['TargetGroups']
    r['secrets'] = client('secretsmanager', region).list_secrets()['SecretList']
    r['kms_keys'] = [client('kms', region).describe_key(KeyId=k['KeyId'])['KeyMetadata'] for k in client('kms', region).list_keys()['Keys']]
    r['fis_templates'] = [client('fis', region).get_experiment_template(id=t['id'])['experimentTemplate'] for t in client('fis', region).list_experiment_templates()['experimentTemplates']]
    r['alarms'] = client('cloudwatch', region).describe_alarms()['MetricAlarms']
    r['vpcs'] = [v for v in ec2.describe_vpcs()['Vpcs'] if not v.get('IsDefault')]
    r['instances'] = [i for res in ec2.describe_instances()['Reservations'] for i in res['Instances'] if i['State']['Name'] != 'terminated']
    r['roles'] = [x['RoleName'] for x in client('iam', region).list_roles()['Roles']]
    out['regions'][region] = r
r53 = client('route53', regions[0])
out['zones'] = r53.list_hosted_zones()['HostedZones']
out['records'] = {z['Name']: r53.list_resource_record_sets(HostedZoneId=z['Id'])['ResourceRecordSets'] for z in out['zones']}
out['health_checks'] = r53.list_health_checks()['HealthChecks']
print(json.dumps(out, default=str))
