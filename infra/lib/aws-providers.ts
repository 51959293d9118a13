// Resources in a second region go through an aliased AWS provider.
// hashicorp/aws 5.x has no per-resource `region` argument (that came with
// 6.0), so with the pinned 5.100.0 a construct that needs, say, the MSK
// cluster policy in the source region asks `awsProviderIn(scope, region)`:
// undefined when the stack's default provider already serves that region,
// else a provider aliased by the region name with the same default tags,
// created once per stack.

import { AwsProvider, Construct, TerraformStack } from './cdk.ts';
import { InfraPropsError } from './errors.ts';

export function awsProviderIn(scope: Construct, region: string): AwsProvider | undefined {
  const stack = TerraformStack.of(scope);
  const providers = stack.node.children.filter((c): c is AwsProvider => c instanceof AwsProvider);
  const fallback = providers.find((p) => p.alias === undefined);
  if (!fallback) throw new InfraPropsError(`stack ${stack.node.id}`, `a resource in ${region} needs the stack's default AWS provider first`);
  if (fallback.region === region) return undefined;
  const existing = providers.find((p) => p.alias === region);
  if (existing) return existing;
  return new AwsProvider(stack, `aws-${region}`, {
    alias: region,
    region,
    ...(fallback.defaultTags ? { defaultTags: fallback.defaultTags } : {}),
  });
}
