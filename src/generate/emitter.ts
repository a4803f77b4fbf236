/**
 * Emitter: turns a packet description into one Ethernet frame in the pcap writer's buffer.
 *
 * Components fill the reusable `Pkt` (reset before each packet, so nothing leaks from one packet
 * to the next) and call tcp() / udp() / icmp() / raw(). Addresses are numbers (IPv4) or 16-byte
 * arrays (IPv6). Payloads are either bytes (checksummed here) or a prefix of a PayloadBlob (sum
 * precomputed).
 */
import type { PcapWriter } from '../sources/capture/pcap-writer.js';
import {
  ETH_LEN,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  IP4_LEN,
  IP6_LEN,
  type PayloadBlob,
  pseudo4,
  pseudo6,
  storeIcmpChecksum,
  storeL4Checksum,
  sum16,
  swapSum,
  UDP_LEN,
  writeEth,
  writeIp4,
  writeIp6,
  writeTcp,
  writeUdp,
} from './frames.js';

export type Addr = number | Uint8Array;

export class Pkt {
  src: Addr = 0;
  dst: Addr = 0;
  ttl = 64;
  ipId = 0;
  tos = 0;
  df = false;
  /** Raw IPv4 flags+offset word for raw() (fragments). */
  fragField = 0;
  proto = 0;
  sport = 0;
  dport = 0;
  seq = 0;
  ack = 0;
  flags = 0;
  win = 0;
  opts: Uint8Array | null = null;
  /** Bytes written before the payload (a per-packet header: QUIC, RTP, GRE + inner IP…). */
  head: Uint8Array | null = null;
  headLen = 0;
  pay: Uint8Array | null = null;
  payLen = 0;
  blob: PayloadBlob | null = null;
  /** Where in the blob the payload starts (even). */
  blobOff = 0;
  icmpType = 8;
  icmpCode = 0;
  icmpRest = 0;
  flow = 0;

  reset(): this {
    this.src = 0;
    this.dst = 0;
    this.ttl = 64;
    this.ipId = 0;
    this.tos = 0;
    this.df = false;
    this.fragField = 0;
    this.proto = 0;
    this.sport = 0;
    this.dport = 0;
    this.seq = 0;
    this.ack = 0;
    this.flags = 0;
    this.win = 0;
    this.opts = null;
    this.head = null;
    this.headLen = 0;
    this.pay = null;
    this.payLen = 0;
    this.blob = null;
    this.blobOff = 0;
    this.icmpType = 8;
    this.icmpCode = 0;
    this.icmpRest = 0;
    this.flow = 0;
    return this;
  }
}

/** Traffic-time origin of every scenario: 2026-03-02T10:00:00Z. */
export const EPOCH_SEC = 1772445600;

function macId(a: Addr): number {
  if (typeof a === 'number') return (Math.imul(a, 0x9e3779b1) >>> 8) & 0xffffff;
  return (((a[13] as number) << 16) | ((a[14] as number) << 8) | (a[15] as number)) ^ 0x600000;
}

export class Emitter {
  readonly p = new Pkt();
  /** Bytes on the wire of the last frame written. */
  lastLen = 0;

  constructor(private readonly w: PcapWriter) {}

  private begin(max: number): number {
    return this.w.reserve(max);
  }

  private end(len: number, tNs: number): void {
    const sec = Math.floor(tNs / 1e9);
    const ns = tNs - sec * 1e9;
    this.lastLen = len;
    this.w.commit(len, len, EPOCH_SEC + sec, this.w.nano ? ns : Math.floor(ns / 1000));
  }

  /** Writes Ethernet + IP for an L4 of `l4len` bytes; returns the L4 offset and the pseudo sum. */
  private l3(b: Uint8Array, o: number, proto: number, l4len: number): number {
    const p = this.p;
    if (typeof p.src === 'number') {
      writeEth(b, o, macId(p.dst), macId(p.src), ETHERTYPE_IPV4);
      writeIp4(b, o + ETH_LEN, IP4_LEN + l4len, p.ipId & 0xffff, p.fragField | (p.df ? 0x4000 : 0), p.ttl, proto, p.src, p.dst as number, p.tos);
      return o + ETH_LEN + IP4_LEN;
    }
    writeEth(b, o, macId(p.dst), macId(p.src), ETHERTYPE_IPV6);
    writeIp6(b, o + ETH_LEN, l4len, proto, p.ttl, p.src, p.dst as Uint8Array, p.flow);
    return o + ETH_LEN + IP6_LEN;
  }

  private pseudo(proto: number, len: number): number {
    const p = this.p;
    return typeof p.src === 'number' ? pseudo4(p.src, p.dst as number, proto, len) : pseudo6(p.src, p.dst as Uint8Array, proto, len);
  }

  private ipLen(): number {
    return typeof this.p.src === 'number' ? IP4_LEN : IP6_LEN;
  }

  /** Copy head + payload to b[at]; returns their checksum sum. */
  private payload(b: Uint8Array, at: number): number {
    const p = this.p;
    const h = p.headLen;
    let s = 0;
    if (h > 0) {
      const head = p.head as Uint8Array;
      b.set(h === head.length ? head : head.subarray(0, h), at);
      s = sum16(b, at, h);
    }
    if (p.payLen === 0) return s;
    if (p.blob) {
      const off = p.blobOff;
      b.set(p.blob.bytes.subarray(off, off + p.payLen), at + h);
      const bs = off === 0 ? p.blob.sum(p.payLen) : p.blob.sumAt(off, p.payLen);
      // After an odd-length head the blob's words straddle byte pairs: its sum byte-swapped.
      return s + ((h & 1) === 0 ? bs : swapSum(bs));
    }
    const src = p.pay as Uint8Array;
    if (p.payLen === src.length) b.set(src, at + h);
    else b.set(src.subarray(0, p.payLen), at + h);
    return s + ((h & 1) === 0 ? sum16(b, at + h, p.payLen) : swapSum(sum16(b, at + h, p.payLen)));
  }

  tcp(tNs: number): void {
    const p = this.p;
    const hl = 20 + (p.opts ? p.opts.length : 0);
    const l4len = hl + p.headLen + p.payLen;
    const len = ETH_LEN + this.ipLen() + l4len;
    const o = this.begin(len);
    const b = this.w.buf;
    const l4 = this.l3(b, o, 6, l4len);
    writeTcp(b, l4, p.sport, p.dport, p.seq >>> 0, p.ack >>> 0, p.flags, p.win, p.opts);
    const ps = this.payload(b, l4 + hl);
    storeL4Checksum(b, l4 + 16, this.pseudo(6, l4len) + sum16(b, l4, hl) + ps, false);
    this.end(len, tNs);
  }

  udp(tNs: number): void {
    const p = this.p;
    const l4len = UDP_LEN + p.headLen + p.payLen;
    const len = ETH_LEN + this.ipLen() + l4len;
    const o = this.begin(len);
    const b = this.w.buf;
    const l4 = this.l3(b, o, 17, l4len);
    writeUdp(b, l4, p.sport, p.dport, l4len);
    const ps = this.payload(b, l4 + UDP_LEN);
    storeL4Checksum(b, l4 + 6, this.pseudo(17, l4len) + sum16(b, l4, UDP_LEN) + ps, true);
    this.end(len, tNs);
  }

  /** ICMP (IPv4) or ICMPv6 (IPv6) message: type, code, 4 bytes of rest-of-header, payload. */
  icmp(tNs: number): void {
    const p = this.p;
    const v6 = typeof p.src !== 'number';
    const proto = v6 ? 58 : 1;
    const l4len = 8 + p.headLen + p.payLen;
    const len = ETH_LEN + this.ipLen() + l4len;
    const o = this.begin(len);
    const b = this.w.buf;
    const l4 = this.l3(b, o, proto, l4len);
    b[l4] = p.icmpType;
    b[l4 + 1] = p.icmpCode;
    b[l4 + 4] = (p.icmpRest >>> 24) & 255;
    b[l4 + 5] = (p.icmpRest >>> 16) & 255;
    b[l4 + 6] = (p.icmpRest >>> 8) & 255;
    b[l4 + 7] = p.icmpRest & 255;
    this.payload(b, l4 + 8);
    storeIcmpChecksum(b, l4, l4len, v6 ? this.pseudo(58, l4len) : 0);
    this.end(len, tNs);
  }

  /** An IP packet of protocol `p.proto` whose bytes after the IP header are the payload as is. */
  raw(tNs: number): void {
    const p = this.p;
    const l4len = p.headLen + p.payLen;
    const len = ETH_LEN + this.ipLen() + l4len;
    const o = this.begin(len);
    const b = this.w.buf;
    const l4 = this.l3(b, o, p.proto, l4len);
    this.payload(b, l4);
    this.end(len, tNs);
  }
}
