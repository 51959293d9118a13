// Loads native/build/libedgelog_native.so through ffi-rs once per process and
// exposes its functions as typed calls. Every function returns 0 / count or
// -errno; failures become NativeCallError with the library's own detail
// (edgelog_last_error). Out-parameters and arrays go through native scratch
// memory viewed as Buffers (createExternalBuffer), so nothing is copied back.

import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { EdgelogError, NativeUnavailableError } from '../core/errors.ts';

// ffi-rs is CommonJS with a native addon; load it lazily so an agent on a
// platform without its prebuilt binary still starts (and falls back).
const require = createRequire(import.meta.url);
type Ffi = typeof import('ffi-rs');
export type External = import('ffi-rs').JsExternal;

/** ABI version this binding speaks (EDGELOG_NATIVE_ABI_VERSION). */
export const ABI_VERSION = 3;
const LIB = 'edgelog_native';

/** A failed native call: `errno` is the positive errno, `detail` the library's message. */
export class NativeCallError extends EdgelogError {
  readonly errno: number;
  readonly fn: string;
  constructor(fn: string, errno: number, detail: string, retriable = false) {
    super('EDGELOG_NATIVE_CALL', `${fn}: ${detail || `errno ${errno}`}`, { retriable });
    this.errno = errno;
    this.fn = fn;
  }
}

/** Where the library is looked for: EDGELOG_NATIVE_LIB (packaged artifact) wins, else the repo build output. */
export function nativeLibraryPath(): string {
  const env = process.env.EDGELOG_NATIVE_LIB;
  if (env) return resolve(env);
  const here = dirname(fileURLToPath(import.meta.url));
  return resolve(here, '../../native/build/libedgelog_native.so');
}

// prettier-ignore
function signatures(D: Ffi['DataType']) {
  const P = D.External, I = D.I32, U = D.U32, S = D.String, B = D.U8Array, Q = D.U64, V = D.Void;
  const f = (retType: number, paramsType: number[]) => ({ library: LIB, retType, paramsType });
  return {
    edgelog_abi_version: f(I, []),
    edgelog_last_error: f(S, []),
    edgelog_mem_alloc: f(P, [Q]),
    edgelog_mem_free: f(V, [P]),
    edgelog_crc32c: f(U, [U, B, Q]),
    edgelog_crc32c_hw: f(I, []),
    guard_probe_bpf: f(I, []),
    guard_open: f(I, [S, B, P]),
    guard_attach: f(I, [P]),
    guard_detach: f(I, [P]),
    guard_is_attached: f(I, [P]),
    guard_add_deny: f(I, [P, S, P]),
    guard_remove_deny: f(I, [P, S]),
    guard_add_allow: f(I, [P, S, P]),
    guard_remove_allow: f(I, [P, S]),
    guard_set_rate: f(I, [P, Q, Q, Q, Q]),
    guard_set_ports: f(I, [P, P, U]),
    guard_read_counters: f(I, [P, P]),
    guard_close: f(V, [P]),
    uring_probe: f(I, []),
    uring_probe_send_zc: f(I, []),
    uring_sender_open: f(I, [B, P]),
    uring_sender_connect: f(I, [P, S, I]),
    uring_sender_adopt_fd: f(I, [P, I]),
    uring_sender_disconnect: f(I, [P]),
    uring_sender_buffer: f(P, [P, U]),
    uring_sender_buffer_size: f(U, [P]),
    uring_sender_buffer_count: f(U, [P]),
    uring_sender_send_area: f(P, [P]),
    uring_sender_completion_area: f(P, [P]),
    uring_sender_submit: f(I, [P, P, U]),
    uring_sender_reap: f(I, [P, P, U, U, U]),
    uring_sender_inflight: f(U, [P]),
    uring_sender_eventfd: f(I, [P]),
    uring_sender_stats: f(I, [P, P]),
    uring_sender_close: f(V, [P]),
  } as const;
}

type Fns = { [K in keyof ReturnType<typeof signatures>]: (args: unknown[]) => any };

export interface NativeLib {
  readonly path: string;
  readonly ffi: Ffi;
  readonly fn: Fns;
  /** Throw NativeCallError when rc < 0; return rc otherwise. */
  check(fnName: string, rc: number, retriableErrnos?: readonly number[]): number;
  /** Native scratch memory viewed as a Buffer (freed with freeScratch). */
  scratch(size: number): Scratch;
  freeScratch(s: Scratch): void;
  /** Read a pointer-sized out-parameter as an External. */
  readPointer(slot: External): External;
}

export interface Scratch {
  readonly ptr: External;
  readonly buf: Buffer;
}

let cached: NativeLib | undefined;
let cachedError: NativeUnavailableError | undefined;

/** Load the library (once). Throws NativeUnavailableError saying why and how to fix it. */
export function loadNative(): NativeLib {
  if (cached) return cached;
  if (cachedError) throw cachedError;
  try {
    cached = open();
    return cached;
  } catch (err) {
    cachedError = err instanceof NativeUnavailableError
      ? err
      : new NativeUnavailableError('native library', `cannot load: ${(err as Error).message}`, 'run `make -C native` (needs gcc, clang, libbpf-dev, liburing-dev) or set EDGELOG_NATIVE_LIB');
    throw cachedError;
  }
}

/** Like loadNative but returns undefined (with the reason) instead of throwing. */
export function tryLoadNative(): { lib?: NativeLib; error?: NativeUnavailableError } {
  try {
    return { lib: loadNative() };
  } catch (err) {
    return { error: err as NativeUnavailableError };
  }
}

function open(): NativeLib {
  const path = nativeLibraryPath();
  if (!existsSync(path)) {
    throw new NativeUnavailableError('native library', `${path} not found`,
      process.env.EDGELOG_NATIVE_LIB ? 'point EDGELOG_NATIVE_LIB at an existing libedgelog_native.so' : 'build it: `make -C native` (or `npm run setup`)');
  }
  let ffi: Ffi;
  try {
    ffi = require('ffi-rs') as Ffi;
  } catch (err) {
    throw new NativeUnavailableError('native library', `ffi-rs not loadable: ${(err as Error).message}`, 'reinstall npm dependencies (`npm ci`) on a platform with ffi-rs prebuilt binaries');
  }
  ffi.open({ library: LIB, path });
  const fn = ffi.define(signatures(ffi.DataType) as never) as unknown as Fns;
  const abi = fn.edgelog_abi_version([]) as number;
  if (abi !== ABI_VERSION) {
    ffi.close(LIB);
    throw new NativeUnavailableError('native library', `ABI version ${abi} at ${path}, agent expects ${ABI_VERSION}`, 'rebuild the native library from the same checkout (`make -C native`)');
  }
  const lib: NativeLib = {
    path,
    ffi,
    fn,
    check(fnName, rc, retriableErrnos = []) {
      if (rc >= 0) return rc;
      const detail = fn.edgelog_last_error([]) as string;
      throw new NativeCallError(fnName, -rc, detail, retriableErrnos.includes(-rc));
    },
    scratch(size) {
      const ptr = fn.edgelog_mem_alloc([size]) as External;
      if (ffi.isNullPointer(ptr)) throw new NativeCallError('edgelog_mem_alloc', 12, fn.edgelog_last_error([]) as string);
      return { ptr, buf: ffi.createExternalBuffer(ptr, size) };
    },
    freeScratch(s) {
      fn.edgelog_mem_free([s.ptr]);
    },
    readPointer(slot) {
      return ffi.restorePointer({ retType: [ffi.DataType.External], paramsValue: [slot] })[0] as unknown as External;
    },
  };
  return lib;
}

/** errno values the bindings name (Linux). */
export const Errno = {
  EPERM: 1, ENOENT: 2, EINTR: 4, EIO: 5, EAGAIN: 11, ENOMEM: 12, EACCES: 13, EBUSY: 16, ENODEV: 19, EINVAL: 22,
  EPIPE: 32, ENOSYS: 38, EOPNOTSUPP: 95, ECONNRESET: 104, ENOTCONN: 107, ETIMEDOUT: 110, ECONNREFUSED: 111,
  EHOSTUNREACH: 113, ECANCELED: 125,
} as const;

let libcTrim: (() => number) | null | undefined;

/**
 * glibc's malloc_trim(0): whole free pages inside the C heap (holes a burst
 * left between live allocations, which glibc only hands back from the top)
 * go back to the kernel. The idle trim calls it after its collection.
 * Through ffi-rs, loaded for it when the native library has not been (an
 * agent quiet from the start): idle agent (one quiet file) 72.5 vs 73.6 MB
 * at the commit before with engine builtin, ffi-rs's own pages included;
 * 89.2 vs 92-94 MB with engine platformatic (bench/idle-rss.ts, median of 3).
 * true when memory was released, false when none was, null where it is not
 * available (no ffi-rs, or a C library without malloc_trim such as musl).
 */
export function mallocTrim(): boolean | null {
  if (libcTrim === undefined) {
    try {
      const ffi = cached?.ffi ?? require('ffi-rs') as Ffi;
      ffi.open({ library: 'libc', path: 'libc.so.6' });
      const call = { library: 'libc', funcName: 'malloc_trim', retType: ffi.DataType.I32, paramsType: [ffi.DataType.I64], paramsValue: [0] };
      ffi.load(call); // resolves the symbol now: a C library without it fails here, once
      libcTrim = () => ffi.load(call) as number;
    } catch {
      libcTrim = null;
    }
  }
  return libcTrim === null ? null : libcTrim() === 1;
}
