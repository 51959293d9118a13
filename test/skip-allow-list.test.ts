// The skip allow-list: environment limits pass, anything the repository
// itself should provide fails the run (test/run.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowedSkip } from './skip-allow-list.ts';

test('environment reasons are allowed, each under its category', () => {
  const cases: Array<[string, string]> = [
    ['needs root to mount a tmpfs', 'no root'],
    ['pinning part skipped: no private bpffs mount (Operation not permitted)', 'no BPF'],
    ['guard unavailable: BPF_PROG_LOAD EPERM', 'no BPF'],
    ['network namespaces unavailable: unshare failed', 'no netns'],
    ['blackhole needs network namespaces: EPERM', 'no netns'],
    ['systemd-nspawn not available', 'no nspawn'],
    ['terraform binary or provider mirror missing', 'no terraform/mirror'],
    ['io_uring unavailable: ENOSYS', 'no io_uring/kernel feature'],
    ['kernel has no PR_SET_MDWE (Linux < 6.3)', 'no io_uring/kernel feature'],
    ['cannot mount tmpfs: EPERM', 'no tmpfs mount'],
    ['openssl not installed', 'host tool missing'],
    ['promtool not installed (Debian package prometheus; .ci/setup.sh installs it)', 'host tool missing'],
    ['loghub samples not found (../shared/data/loghub)', 'no loghub data'],
  ];
  for (const [reason, cat] of cases) assert.equal(allowedSkip(reason)?.name, cat, reason);
});

test('reasons that hide a regression are refused', () => {
  for (const reason of [
    '',
    'agent/cli/install.ts is still a stub; the lead wires runInstall',
    'the registry has no kafka sink / otlp_proto encoder yet',
    'component types not registered yet: kafka',
    '@platformatic/kafka failed to load: Cannot find module',
    'zstd unavailable: Cannot find module',
    'node_modules/node/bin/node missing (run .ci/setup.sh)',
    'flaky on a loaded machine',
  ]) assert.equal(allowedSkip(reason), null, JSON.stringify(reason));
});
