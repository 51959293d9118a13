// Builds the whole app: primary and secondary AWS regions, GCP, and the
// global stack that ties their entry points together. Deploy order follows
// the references: primary -> secondary (replicator) -> global; gcp is
// independent (global takes its address from config).

import { config as defaultConfig, type EdgelogInfraConfig } from './config.ts';
import { checkDeploySettings } from './lib/deploy-settings.ts';
import { App } from './lib/cdk.ts';
import { GcpStack } from './stacks/gcp.ts';
import { GlobalStack } from './stacks/global.ts';
import { RegionStack } from './stacks/region.ts';

export interface EdgelogApp {
  readonly app: App;
  readonly primary: RegionStack;
  readonly secondary: RegionStack;
  readonly gcp: GcpStack;
  readonly global: GlobalStack;
}

export const STACK_NAMES = ['primary', 'secondary', 'gcp', 'global'] as const;

export function buildApp(
  opts: { readonly outdir?: string; readonly config?: EdgelogInfraConfig; readonly stackTraces?: boolean } = {},
): EdgelogApp {
  const cfg = opts.config ?? defaultConfig;
  checkDeploySettings(cfg);
  const app = new App({
    ...(opts.outdir ? { outdir: opts.outdir } : {}),
    ...(opts.stackTraces === false ? { stackTraces: false } : {}),
    skipBackendValidation: true,
  });
  const primary = new RegionStack(app, 'primary', { config: cfg, region: cfg.aws.primary });
  const secondary = new RegionStack(app, 'secondary', { config: cfg, region: cfg.aws.secondary, replicateFrom: primary });
  const gcp = new GcpStack(app, 'gcp', { config: cfg });
  const global = new GlobalStack(app, 'global', { config: cfg, primary, secondary });
  return { app, primary, secondary, gcp, global };
}
