import type { EdgelogInfraConfig } from '../config.ts';
import type { PolicyOptions } from '../lib/policy.ts';

/** The policy every stack of this app is checked against, derived from the config. */
export function policyFor(cfg: EdgelogInfraConfig): PolicyOptions {
  return {
    requiredTags: Object.keys(cfg.tags),
    protectedPorts: [...cfg.ports.brokers, cfg.ports.forward, cfg.ports.health],
  };
}

/** `<project>-<env>-<suffix>`: the one naming rule for physical names. */
export function physicalName(cfg: EdgelogInfraConfig, suffix: string): string {
  return `${cfg.project}-${cfg.environment}-${suffix}`;
}
