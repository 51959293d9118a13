// Native helpers (tc/eBPF guard, io_uring sender) and host capability detection.
export { loadNative, tryLoadNative, nativeLibraryPath, NativeCallError, ABI_VERSION } from './lib.ts';
export { capabilities, reportCapabilities, requireFeature, useNative, effectiveCaps, kernelVersion } from './capabilities.ts';
export type { Feature, FeatureStatus, CapabilityReport } from './capabilities.ts';
export { GuardController } from './guard.ts';
export { canonicalCidr } from './cidr.ts';
export type { GuardRules, GuardRate, GuardOptions, GuardCounters, RuleCounter } from './guard.ts';
export { UringSender, UringSendError, UringShortSendError, C_SENT, C_BUF_FREE, C_ZC, C_ZC_COPIED } from './uring-sender.ts';
export type { UringSenderOptions, Completion, UringStats } from './uring-sender.ts';
export { doctorReport, formatDoctor } from './doctor.ts';
export type { DoctorLine } from './doctor.ts';
export { validateGuardConfig, guardDefaults } from './guard-config.ts';
export type { GuardConfig } from './guard-config.ts';
