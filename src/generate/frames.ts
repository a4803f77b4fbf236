/**
 * Byte-level frame builders: Ethernet, IPv4, IPv6, TCP, UDP and ICMP headers written in place
 * with correct lengths and checksums (RFC 791 / 793 / 768 / 792 / 8200 / 4443).
 *
 * Every function writes at (b, o) and returns the number of bytes written; nothing allocates.
 * Checksums are one's-complement sums of 16-bit words: `sum16` accumulates, `fold` finishes.
 * Payload sums can be passed in precomputed (see PayloadBlob), so a 1,400-byte payload costs a
 * copy, not a checksum loop.
 */

export const ETH_LEN = 14;
export const IP4_LEN = 20;
export const IP6_LEN = 40;
export const UDP_LEN = 8;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;

/** Sum of big-endian 16-bit words of b[o, o+n); an odd last byte is padded with zero. */
export function sum16(b: Uint8Array, o: number, n: number): number {
  let s = 0;
  const end = o + (n & ~1);
  for (let i = o; i < end; i += 2) s += ((b[i] as number) << 8) | (b[i + 1] as number);
  if (n & 1) s += (b[o + n - 1] as number) << 8;
  return s;
}

/** Fold a running sum to the 16-bit one's-complement checksum. */
export function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return ~s & 0xffff;
}

/**
 * The sum of the same bytes placed one byte further (at an odd offset): the folded sum with its
 * bytes swapped (RFC 1071 section 2 (B), byte-order independence).
 */
export function swapSum(s: number): number {
  let x = s;
  while (x > 0xffff) x = (x & 0xffff) + Math.floor(x / 65536);
  return ((x & 0xff) << 8) | (x >>> 8);
}

function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 255;
  b[o + 1] = v & 255;
}

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 255;
  b[o + 1] = (v >>> 16) & 255;
  b[o + 2] = (v >>> 8) & 255;
  b[o + 3] = v & 255;
}

/** Ethernet II: locally administered MACs 02:00:5e:xx:xx:xx derived from 24-bit ids. */
export function writeEth(b: Uint8Array, o: number, dstId: number, srcId: number, etherType: number): number {
  b[o] = 0x02;
  b[o + 1] = 0x00;
  b[o + 2] = 0x5e;
  b[o + 3] = (dstId >>> 16) & 255;
  b[o + 4] = (dstId >>> 8) & 255;
  b[o + 5] = dstId & 255;
  b[o + 6] = 0x02;
  b[o + 7] = 0x00;
  b[o + 8] = 0x5e;
  b[o + 9] = (srcId >>> 16) & 255;
  b[o + 10] = (srcId >>> 8) & 255;
  b[o + 11] = srcId & 255;
  put16(b, o + 12, etherType);
  return ETH_LEN;
}

/**
 * IPv4 header without options. `fragField` is the 16-bit flags+offset word (0x4000 = DF,
 * 0x2000 = MF, low 13 bits = offset in 8-byte units).
 */
export function writeIp4(b: Uint8Array, o: number, totalLen: number, id: number, fragField: number, ttl: number, proto: number, src: number, dst: number, tos = 0): number {
  b[o] = 0x45;
  b[o + 1] = tos;
  put16(b, o + 2, totalLen);
  put16(b, o + 4, id);
  put16(b, o + 6, fragField);
  b[o + 8] = ttl;
  b[o + 9] = proto;
  b[o + 10] = 0;
  b[o + 11] = 0;
  put32(b, o + 12, src);
  put32(b, o + 16, dst);
  put16(b, o + 10, fold(sum16(b, o, IP4_LEN)));
  return IP4_LEN;
}

export function writeIp6(b: Uint8Array, o: number, payloadLen: number, next: number, hop: number, src: Uint8Array, dst: Uint8Array, flow = 0): number {
  put32(b, o, (0x60000000 | (flow & 0xfffff)) >>> 0);
  put16(b, o + 4, payloadLen);
  b[o + 6] = next;
  b[o + 7] = hop;
  b.set(src, o + 8);
  b.set(dst, o + 24);
  return IP6_LEN;
}

/** Pseudo-header sums for the TCP/UDP/ICMPv6 checksums. */
export function pseudo4(src: number, dst: number, proto: number, len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + len;
}

export function pseudo6(src: Uint8Array, dst: Uint8Array, next: number, len: number): number {
  return sum16(src, 0, 16) + sum16(dst, 0, 16) + next + (len >>> 16) + (len & 0xffff);
}

/** TCP header (checksum left zero); `opts` must be a multiple of 4 bytes. Returns header length. */
export function writeTcp(b: Uint8Array, o: number, sport: number, dport: number, seq: number, ack: number, flags: number, win: number, opts: Uint8Array | null): number {
  const hl = 20 + (opts ? opts.length : 0);
  put16(b, o, sport);
  put16(b, o + 2, dport);
  put32(b, o + 4, seq);
  put32(b, o + 8, ack);
  b[o + 12] = (hl >> 2) << 4;
  b[o + 13] = flags;
  put16(b, o + 14, win);
  b[o + 16] = 0;
  b[o + 17] = 0;
  b[o + 18] = 0;
  b[o + 19] = 0;
  if (opts) b.set(opts, o + 20);
  return hl;
}

export function writeUdp(b: Uint8Array, o: number, sport: number, dport: number, len: number): number {
  put16(b, o, sport);
  put16(b, o + 2, dport);
  put16(b, o + 4, len);
  b[o + 6] = 0;
  b[o + 7] = 0;
  return UDP_LEN;
}

/** Store a transport checksum at b[at] from a sum over pseudo header + segment. */
export function storeL4Checksum(b: Uint8Array, at: number, s: number, udp: boolean): void {
  let c = fold(s);
  if (udp && c === 0) c = 0xffff;
  put16(b, at, c);
}

export function storeIcmpChecksum(b: Uint8Array, o: number, len: number, pseudo: number): void {
  b[o + 2] = 0;
  b[o + 3] = 0;
  put16(b, o + 2, fold(pseudo + sum16(b, o, len)));
}

/**
 * A payload pattern with prefix sums of its 16-bit words, so the checksum of any prefix of it
 * is O(1): the generator takes payloads as prefixes of a few blobs.
 */
export class PayloadBlob {
  readonly pre: Float64Array;

  constructor(readonly bytes: Uint8Array) {
    const words = bytes.length >> 1;
    this.pre = new Float64Array(words + 1);
    for (let i = 0; i < words; i++) this.pre[i + 1] = (this.pre[i] as number) + (((bytes[2 * i] as number) << 8) | (bytes[2 * i + 1] as number));
  }

  /** Checksum sum of bytes [0, n) (n even offsets keep word alignment in the segment). */
  sum(n: number): number {
    let s = this.pre[n >> 1] as number;
    if (n & 1) s += (this.bytes[n - 1] as number) << 8;
    return s;
  }

  /** Checksum sum of bytes [off, off + n) for an even `off`. */
  sumAt(off: number, n: number): number {
    const w = off >> 1;
    let s = (this.pre[w + (n >> 1)] as number) - (this.pre[w] as number);
    if (n & 1) s += (this.bytes[off + n - 1] as number) << 8;
    return s;
  }
}

export { put16, put32 };
