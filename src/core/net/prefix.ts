/**
 * Address and prefix text forms for IP lists: IPv4 / IPv6 addresses, CIDR prefixes and
 * `a-b` ranges (split into the minimal CIDR cover). Used when importing lists and exporting
 * rules, never on the per-packet path.
 */

import { formatIpv6 } from './ip.js';

/** One prefix: family, network address (big-endian bytes: 4 or 16) and length. */
export interface Prefix {
  family: 4 | 6;
  /** Network address with host bits zero. */
  addr: Uint8Array;
  len: number;
}

/** Parse a dotted-quad IPv4 address to 4 bytes, or null. Leading zeros in an octet are refused. */
export function parseV4Bytes(s: string): Uint8Array | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] as string;
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

/** Parse any textual IPv6 form (with an optional dotted IPv4 tail) to 16 bytes, or null. */
export function parseV6Bytes(s: string): Uint8Array | null {
  if (s.length < 2 || s.length > 45 || s.includes('%')) return null;
  let head = s;
  let tail4: Uint8Array | null = null;
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) >= 0) {
    tail4 = parseV4Bytes(s.slice(lastColon + 1));
    if (tail4 === null) return null;
    head = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const dbl = head.indexOf('::');
  if (dbl >= 0 && head.indexOf('::', dbl + 1) >= 0) return null;
  const groups: string[] = [];
  if (dbl >= 0) {
    const left = head.slice(0, dbl);
    const right = head.slice(dbl + 2);
    const l = left === '' ? [] : left.split(':');
    const r = right === '' ? [] : right.split(':');
    const fill = 8 - l.length - r.length;
    if (fill < 1) return null;
    groups.push(...l, ...new Array<string>(fill).fill('0'), ...r);
  } else {
    groups.push(...head.split(':'));
  }
  if (groups.length !== 8) return null;
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = groups[i] as string;
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    const n = Number.parseInt(g, 16);
    out[2 * i] = n >> 8;
    out[2 * i + 1] = n & 255;
  }
  if (tail4 !== null) out.set(tail4, 12);
  return out;
}

export function parseAddr(s: string): { family: 4 | 6; addr: Uint8Array } | null {
  if (s.includes(':')) {
    const b = parseV6Bytes(s);
    return b === null ? null : { family: 6, addr: b };
  }
  const b = parseV4Bytes(s);
  return b === null ? null : { family: 4, addr: b };
}

export interface ParseOptions {
  /** Accept a prefix whose host bits are set and clear them (lists in the wild do this). Default true. */
  lenient?: boolean;
}

/**
 * Parse `addr`, `addr/len` or `a-b` (range, split into CIDRs). Returns the prefixes, or a string
 * saying what is wrong.
 */
export function parsePrefixes(text: string, opts: ParseOptions = {}): Prefix[] | string {
  const s = text.trim();
  if (s === '') return 'empty entry';
  const dash = s.indexOf('-');
  if (dash > 0 && !s.includes('/')) {
    const a = parseAddr(s.slice(0, dash).trim());
    const b = parseAddr(s.slice(dash + 1).trim());
    if (a === null || b === null) return `not an address range: "${s}"`;
    if (a.family !== b.family) return `range mixes IPv4 and IPv6: "${s}"`;
    if (compareBytes(a.addr, b.addr) > 0) return `range start is after its end: "${s}"`;
    return rangeToPrefixes(a.family, a.addr, b.addr);
  }
  const slash = s.indexOf('/');
  const addrText = slash >= 0 ? s.slice(0, slash) : s;
  const a = parseAddr(addrText);
  if (a === null) return `not an IP address or prefix: "${s}"`;
  const max = a.family === 4 ? 32 : 128;
  let len = max;
  if (slash >= 0) {
    const lt = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(lt)) return `bad prefix length in "${s}"`;
    len = Number(lt);
    if (len > max) return `prefix length ${len} is over ${max} in "${s}"`;
  }
  const masked = maskBytes(a.addr, len);
  if (opts.lenient === false && compareBytes(masked, a.addr) !== 0) return `host bits set in "${s}"`;
  return [{ family: a.family, addr: masked, len }];
}

export function maskBytes(addr: Uint8Array, len: number): Uint8Array {
  const out = Uint8Array.from(addr);
  for (let i = 0; i < out.length; i++) {
    const bits = len - i * 8;
    if (bits >= 8) continue;
    out[i] = bits <= 0 ? 0 : (out[i] as number) & (0xff << (8 - bits)) & 0xff;
  }
  return out;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

function toBig(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

function fromBig(v: bigint, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = Number(v & 255n);
    v >>= 8n;
  }
  return out;
}

/** The minimal list of CIDR prefixes covering [a, b] exactly. */
export function rangeToPrefixes(family: 4 | 6, a: Uint8Array, b: Uint8Array): Prefix[] {
  const bits = family === 4 ? 32 : 128;
  const bytes = bits / 8;
  let lo = toBig(a);
  const hi = toBig(b);
  const out: Prefix[] = [];
  while (lo <= hi) {
    // Largest block aligned at lo that does not pass hi.
    let size = 0;
    while (size < bits && ((lo >> BigInt(size)) & 1n) === 0n && lo + (1n << BigInt(size + 1)) - 1n <= hi) size++;
    out.push({ family, addr: fromBig(lo, bytes), len: bits - size });
    lo += 1n << BigInt(size);
  }
  return out;
}

export function formatPrefix(p: Prefix): string {
  const a = formatAddr(p.family, p.addr);
  return p.len === (p.family === 4 ? 32 : 128) ? a : `${a}/${p.len}`;
}

export function formatPrefixCidr(p: Prefix): string {
  return `${formatAddr(p.family, p.addr)}/${p.len}`;
}

export function formatAddr(family: 4 | 6, b: Uint8Array): string {
  return family === 4 ? `${b[0]}.${b[1]}.${b[2]}.${b[3]}` : formatIpv6(b, 0, false);
}
