// File identity = device + inode + a fingerprint of the first bytes.
//
// dev+ino alone is not enough: after a file is deleted its inode is free and
// the next file created may get the same number, and a checkpoint would then
// skip the new file's first bytes. A hash of the first `fingerprint_bytes`
// bytes tells the two apart (log lines start with timestamps).
//
// Files shorter than fingerprint_bytes are fingerprinted over what exists,
// and the length is recorded with the hash: a checkpoint matches a file when
// the file's first `len` bytes hash to the recorded value. Appending never
// changes those bytes, so a checkpoint taken while the file was short still
// matches after it grew; the tailer then widens the fingerprint to the full
// length (re-fingerprinting) so later matches are as strong as possible.
// These reads are rare (open, and once per poll while a file is short or at
// EOF), so they allocate their few bytes instead of sharing a scratch buffer
// between concurrently running tailers.

// node:crypto through process.getBuiltinModule: an ESM import reads every
// export, and the lazy ones (webcrypto and the rest) cost about 0.8 MB of RSS.
const { hash } = process.getBuiltinModule('node:crypto') as typeof import('node:crypto');
import type { FileHandle } from 'node:fs/promises';

export interface Fingerprint {
  /** 16 hex chars (64 bits of SHA-256): collisions between a node's files are not a practical concern. */
  hex: string;
  /** Bytes hashed (min(file size, fingerprint_bytes) at the time). */
  len: number;
}

/** Fingerprint the first min(size, maxBytes) bytes; null when the file is empty (nothing identifies it yet). */
export async function fingerprintFile(fh: FileHandle, size: number, maxBytes: number): Promise<Fingerprint | null> {
  const want = Math.min(size, maxBytes);
  if (want <= 0) return null;
  const buf = Buffer.allocUnsafe(want);
  const got = await readPrefix(fh, want, buf);
  if (got === 0) return null;
  return { hex: hexOf(buf.subarray(0, got)), len: got };
}

/** Does the file still start with the bytes that produced `fp`? */
export async function fingerprintMatches(fh: FileHandle, fp: Fingerprint): Promise<boolean> {
  const buf = Buffer.allocUnsafe(fp.len);
  const got = await readPrefix(fh, fp.len, buf);
  if (got < fp.len) return false;
  return hexOf(buf) === fp.hex;
}

/**
 * Extend `fp` to min(size, maxBytes) bytes, but only if the file still starts
 * with the bytes `fp` was taken over: otherwise the content was replaced, and
 * widening would make the old identity match the new content. Returns null
 * when there is nothing to widen, 'replaced' when the prefix no longer matches.
 */
export async function widenFingerprint(fh: FileHandle, fp: Fingerprint, size: number, maxBytes: number): Promise<Fingerprint | null | 'replaced'> {
  const want = Math.min(size, maxBytes);
  if (want <= fp.len) return null;
  const buf = Buffer.allocUnsafe(want);
  const got = await readPrefix(fh, want, buf);
  if (got < fp.len || hexOf(buf.subarray(0, fp.len)) !== fp.hex) return 'replaced';
  if (got === fp.len) return null;
  return { hex: hexOf(buf.subarray(0, got)), len: got };
}

export function hexOf(bytes: Buffer): string {
  return hash('sha256', bytes, 'hex').slice(0, 16);
}

async function readPrefix(fh: FileHandle, want: number, buf: Buffer): Promise<number> {
  let got = 0;
  while (got < want) {
    const { bytesRead } = await fh.read(buf, got, want - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}
