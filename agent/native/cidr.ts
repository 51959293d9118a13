// CIDR text in the form the guard's C side prints it: what config validation
// compares and what the guard's rule counters are labelled with. Its own
// module so validating a `guard:` section does not load the guard itself
// (the BPF loader, the capability probe: 6 MB of RSS imported into a bare
// Node process, less in an agent that shares their dependencies).

/** "10.1.2.3/8" -> "10.0.0.0/8", "2001:DB8::1" -> "2001:db8::1/128"; undefined when invalid. Matches the C side's text. */
export function canonicalCidr(text: string): string | undefined {
  const [addr, len, extra] = String(text).trim().split('/');
  if (extra !== undefined || !addr) return undefined;
  const bytes = parseIp(addr);
  if (!bytes) return undefined;
  const max = bytes.length * 8;
  if (len !== undefined && !/^\d{1,3}$/.test(len)) return undefined;
  const prefix = len === undefined ? max : Number(len);
  if (prefix > max) return undefined;
  for (let bit = prefix; bit < max; bit++) bytes[bit >> 3] &= ~(0x80 >> (bit & 7));
  return `${formatIp(bytes)}/${prefix}`;
}

function parseIp(s: string): number[] | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(s)) {
    const p = s.split('.').map(Number);
    return p.every((x) => x <= 255) ? p : undefined;
  }
  if (!s.includes(':') || !/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  let head = s, tail = '';
  const dbl = s.indexOf('::');
  if (dbl >= 0) { head = s.slice(0, dbl); tail = s.slice(dbl + 2); if (tail.includes('::')) return undefined; }
  const groups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      if (it.includes('.') && i === items.length - 1) {
        const v4 = parseIp(it);
        if (!v4 || v4.length !== 4) return undefined;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(it)) return undefined;
        out.push(parseInt(it, 16));
      }
    }
    return out;
  };
  const h = groups(head), t = groups(tail);
  if (!h || !t) return undefined;
  const fill = 8 - h.length - t.length;
  if (dbl >= 0 ? fill < 1 : fill !== 0) return undefined;
  const all = [...h, ...new Array(dbl >= 0 ? fill : 0).fill(0), ...t];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

function formatIp(b: number[]): string {
  if (b.length === 4) return b.join('.');
  // RFC 5952 like inet_ntop: longest run (>1) of zero groups becomes ::
  const g = Array.from({ length: 8 }, (_, i) => (b[2 * i] << 8) | b[2 * i + 1]);
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  // v4-mapped (::ffff:a.b.c.d) prints like glibc
  if (best === 0 && bestLen === 5 && g[5] === 0xffff) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}
