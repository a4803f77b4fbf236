/** IP address text forms (RFC 5952 for IPv6). Used when printing, never on the hot path; parsing is prefix.ts. */

export function formatIpv4(u: number): string {
  return `${u >>> 24}.${(u >>> 16) & 255}.${(u >>> 8) & 255}.${u & 255}`;
}

/**
 * RFC 5952 text of 16 address bytes at `off`. IPv4-mapped addresses keep the dotted tail
 * (::ffff:a.b.c.d) as inet_ntop does, unless `dottedMapped` is false (list exports print them as
 * plain hex groups, as ipset and nft do).
 */
export function formatIpv6(b: Uint8Array, off = 0, dottedMapped = true): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(((b[off + 2 * i] as number) << 8) | (b[off + 2 * i + 1] as number));
  if (dottedMapped && words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    return `::ffff:${b[off + 12]}.${b[off + 13]}.${b[off + 14]}.${b[off + 15]}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLen).join(':');
  return `${left}::${right}`;
}
