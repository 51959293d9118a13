// `edgelog install`: the same logic as the plain installer script shipped in
// the release (agent/install/install.sh), so cloud-init and operators run one code path.
import { runInstall, installHelp } from '../install/index.ts';

export const help = installHelp;

export function main(argv: string[]): Promise<number> {
  return runInstall(argv);
}
