// Small IPv4 CIDR arithmetic, done at synth so subnet ranges are literals in
// the plan (readable diffs) instead of cidrsubnet() calls.

function parse(cidr: string): { base: number; bits: number } {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m) throw new Error(`not an IPv4 CIDR: ${cidr}`);
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255) || bits > 32) throw new Error(`not an IPv4 CIDR: ${cidr}`);
  const base = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
  return { base, bits };
}

export function isIpv4Cidr(cidr: string): boolean {
  try {
    parse(cidr);
    return true;
  } catch {
    return false;
  }
}

export function prefixLength(cidr: string): number {
  return parse(cidr).bits;
}

/** Like Terraform's cidrsubnet(prefix, newbits, netnum). */
export function cidrSubnet(cidr: string, newBits: number, netNum: number): string {
  const { base, bits } = parse(cidr);
  const size = bits + newBits;
  if (size > 32 || netNum >= 2 ** newBits) throw new Error(`cidrSubnet(${cidr}, ${newBits}, ${netNum}) out of range`);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const addr = ((base & mask) + netNum * 2 ** (32 - size)) >>> 0;
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}/${size}`;
}

/** True for ranges that mean "anyone": 0.0.0.0/0 and ::/0. */
export function isAnywhere(cidr: string): boolean {
  return cidr === '0.0.0.0/0' || cidr === '::/0';
}
