// Base stack: every synth of every stack runs the policy checks on the
// resolved Terraform JSON and refuses to write a non-compliant plan.
//
// State: a local backend at infra/state/terraform.<stack>.tfstate, given as a
// path relative to the stack's working directory (infra/cdktf.out/stacks/<stack>)
// so the synthesized JSON (and the cross-stack remote-state lookups) do not
// depend on where synth ran. For a team, swap in an S3 backend here (one place).

import { Construct, LocalBackend, TerraformStack } from './cdk.ts';
import { PolicyViolationError } from './errors.ts';
import { checkPolicies, type PolicyOptions } from './policy.ts';

export class EdgelogStack extends TerraformStack {
  readonly policy: PolicyOptions;

  constructor(scope: Construct, id: string, policy: PolicyOptions) {
    super(scope, id);
    this.policy = policy;
    new LocalBackend(this, { path: `../../../state/terraform.${id}.tfstate` });
  }

  override toTerraform(): any {
    const tf = super.toTerraform();
    const violations = checkPolicies(tf, this.policy);
    if (violations.length > 0) throw new PolicyViolationError(this.node.id, violations);
    return tf;
  }
}
