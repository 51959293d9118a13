import { EdgelogError } from '../../agent/core/errors.ts';

/** Construct props that contradict each other or the cloud's limits; thrown at construct time. */
export class InfraPropsError extends EdgelogError {
  constructor(construct: string, message: string) {
    super('EDGELOG_INFRA_PROPS', `${construct}: ${message}`);
  }
}

/** The synthesized Terraform JSON breaks a policy (see infra/lib/policy.ts). */
export class PolicyViolationError extends EdgelogError {
  readonly violations: readonly { rule: string; resource: string; message: string }[];
  constructor(stack: string, violations: readonly { rule: string; resource: string; message: string }[]) {
    super(
      'EDGELOG_INFRA_POLICY',
      `stack ${stack}: ${violations.length} policy violation(s):\n` +
        violations.map((v) => `  [${v.rule}] ${v.resource}: ${v.message}`).join('\n'),
    );
    this.violations = violations;
  }
}

/** Throw InfraPropsError unless `ok`. */
export function invariant(ok: boolean, construct: string, message: string): asserts ok {
  if (!ok) throw new InfraPropsError(construct, message);
}
