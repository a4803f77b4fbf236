/**
 * GRE encapsulation (RFC 2784, IPv4 payload, no checksum/key/sequence): the packet described in
 * the emitter's Pkt (an IPv4 TCP or UDP packet with its own addresses, TTL and checksum) becomes
 * the payload of an outer IPv4 packet of protocol 47. The inner headers go into a scratch buffer
 * used as the outer packet's head; the inner payload stays a blob tail, so nothing is allocated.
 */
import type { Emitter } from './emitter.js';
import { pseudo4, put16, storeL4Checksum, sum16, swapSum, writeIp4, writeTcp, writeUdp } from './frames.js';

/** GRE + inner IPv4 + the largest TCP header + an inner head of up to a full segment. */
export const GRE_SCRATCH = 4 + 20 + 60 + 1500;
/** GRE and inner IPv4 headers: what a 1500-byte link MTU leaves the inner packet (1476). */
export const GRE_OVERHEAD = 24;

export interface Outer {
  src: number;
  dst: number;
  ttl: number;
  ipId: number;
}

export function emitInGre(e: Emitter, t: number, proto: 6 | 17, outer: Outer, scratch: Uint8Array): void {
  const p = e.p;
  const b = scratch;
  b[0] = 0;
  b[1] = 0;
  put16(b, 2, 0x0800);
  const l4hl = proto === 6 ? 20 + (p.opts ? p.opts.length : 0) : 8;
  const headLen = p.headLen;
  const l4len = l4hl + headLen + p.payLen;
  const src = p.src as number;
  const dst = p.dst as number;
  writeIp4(b, 4, 20 + l4len, p.ipId & 0xffff, p.df ? 0x4000 : 0, p.ttl, proto, src, dst, p.tos);
  if (proto === 6) writeTcp(b, 24, p.sport, p.dport, p.seq >>> 0, p.ack >>> 0, p.flags, p.win, p.opts);
  else writeUdp(b, 24, p.sport, p.dport, l4len);
  if (headLen > 0) b.set((p.head as Uint8Array).subarray(0, headLen), 24 + l4hl);
  let tail = 0;
  if (p.payLen > 0) tail = p.blob ? p.blob.sumAt(p.blobOff, p.payLen) : sum16(p.pay as Uint8Array, 0, p.payLen);
  if ((l4hl + headLen) & 1) tail = swapSum(tail);
  storeL4Checksum(b, 24 + (proto === 6 ? 16 : 6), pseudo4(src, dst, proto, l4len) + sum16(b, 24, l4hl + headLen) + tail, proto === 17);
  p.head = b;
  p.headLen = 24 + l4hl + headLen;
  p.src = outer.src;
  p.dst = outer.dst;
  p.ttl = outer.ttl;
  p.ipId = outer.ipId;
  p.df = false;
  p.tos = 0;
  p.fragField = 0;
  p.proto = 47;
  p.opts = null;
  e.raw(t);
}

/**
 * One GRE tunnel between a remote site's router and a protected router: the outer endpoints of
 * both directions (each with its own IP id counter) and the scratch its packets are built in.
 */
export class GreTunnel {
  readonly scratch = new Uint8Array(GRE_SCRATCH);

  constructor(
    /** Site router → protected router. */
    readonly up: Outer,
    /** Protected router → site router. */
    readonly down: Outer,
  ) {}

  emit(e: Emitter, t: number, proto: 6 | 17, upward: boolean): void {
    const o = upward ? this.up : this.down;
    o.ipId = (o.ipId + 1) & 0xffff;
    emitInGre(e, t, proto, o, this.scratch);
  }
}
