// The only reasons a test may give for skipping itself. Each is something this
// host lacks (a privilege, a kernel feature, a tool or data outside the
// repository), never something the repository should provide: a skip for any
// other reason ("still a stub", "the registry has no kafka sink", "an npm
// engine failed to load") hides a regression, so test/run.ts fails the run
// on it. Add a category here only for a new kind of environment limit.

export interface SkipCategory {
  /** Short name printed next to each skip. */
  name: string;
  /** Matches the skip reason (case-insensitive). */
  pattern: RegExp;
}

export const skipAllowList: readonly SkipCategory[] = [
  { name: 'no root', pattern: /needs root|requires root|not running as root|running as root and setpriv/i },
  { name: 'no BPF', pattern: /\bbpf|\bbpffs|guard unavailable/i },
  { name: 'no netns', pattern: /network namespace|\bnetns\b|mount namespace|cannot listen on 127\.0\.0\.\d/i },
  { name: 'no nspawn', pattern: /nspawn/i },
  { name: 'no terraform/mirror', pattern: /terraform|provider mirror/i },
  { name: 'no AWS emulator', pattern: /moto not installed/i },
  { name: 'no AWS CLI', pattern: /AWS CLI not installed/i },
  { name: 'no io_uring/kernel feature', pattern: /io_uring|zero-copy send|kernel has no|PR_SET_MDWE/i },
  { name: 'no tmpfs mount', pattern: /cannot mount tmpfs/i },
  {
    name: 'host tool missing',
    pattern: /\b(openssl|promtool|systemd-analyze|setpriv|useradd|unshare|python3|java|javac|gcc|clang)\b[^;]*\b(not installed|not available|unavailable|not on PATH)|no C test binaries/i,
  },
  { name: 'host permissions', pattern: /not executable by other users/i },
  { name: 'no loghub data', pattern: /loghub samples not found|no samples at .*loghub|expected 12 loghub samples/i },
];

/** The category that allows this skip reason, or null when the skip must fail the run. */
export function allowedSkip(reason: string): SkipCategory | null {
  return skipAllowList.find((c) => c.pattern.test(reason)) ?? null;
}
