/**
 * Crafted Ethernet frames for mitigation tests (IPv4/IPv6 + TCP/UDP/ICMP, valid IP and L4
 * checksums), decoded into PacketViews, and written to pcap files for tcpreplay.
 */
import { writeFileSync } from 'node:fs';
import { parseV4Bytes, parseV6Bytes } from '../../src/core/net/prefix.js';
import { decodeFrame } from '../../src/decode/frame.js';
import { PacketView } from '../../src/decode/view.js';
import { pcapFile } from '../helpers/build.js';

export interface PacketSpec {
  src: string;
  dst: string;
  proto: 'tcp' | 'udp' | 'icmp' | 'gre';
  sport?: number;
  dport?: number;
  /** TCP flags byte (default SYN). */
  flags?: number;
  ttl?: number;
  payload?: number;
  icmpType?: number;
  icmpCode?: number;
  /** Seconds since the start of the capture. */
  t?: number;
}

export const DST_MAC = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];
export const SRC_MAC = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];

function sum16(bytes: number[], start = 0): number {
  let s = start;
  for (let i = 0; i < bytes.length; i += 2) s += ((bytes[i] as number) << 8) | (bytes[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

function csum(bytes: number[], start = 0): number {
  return ~sum16(bytes, start) & 0xffff;
}

export function frame(p: PacketSpec, dstMac = DST_MAC, srcMac = SRC_MAC): Uint8Array {
  const v6 = p.src.includes(':');
  const src = Array.from((v6 ? parseV6Bytes(p.src) : parseV4Bytes(p.src)) as Uint8Array);
  const dst = Array.from((v6 ? parseV6Bytes(p.dst) : parseV4Bytes(p.dst)) as Uint8Array);
  const payload = new Array<number>(p.payload ?? 0).fill(0x61);
  let l4: number[];
  let protoNum: number;
  if (p.proto === 'tcp') {
    protoNum = 6;
    l4 = [
      (p.sport ?? 1234) >> 8,
      (p.sport ?? 1234) & 255,
      (p.dport ?? 80) >> 8,
      (p.dport ?? 80) & 255,
      0,
      0,
      0,
      1,
      0,
      0,
      0,
      0,
      0x50,
      p.flags ?? 0x02,
      0xfa,
      0xf0,
      0,
      0,
      0,
      0,
      ...payload,
    ];
  } else if (p.proto === 'udp') {
    protoNum = 17;
    const len = 8 + payload.length;
    l4 = [(p.sport ?? 1234) >> 8, (p.sport ?? 1234) & 255, (p.dport ?? 53) >> 8, (p.dport ?? 53) & 255, len >> 8, len & 255, 0, 0, ...payload];
  } else if (p.proto === 'icmp') {
    protoNum = v6 ? 58 : 1;
    l4 = [p.icmpType ?? (v6 ? 128 : 8), p.icmpCode ?? 0, 0, 0, 0, 1, 0, 1, ...payload];
  } else {
    protoNum = 47;
    l4 = [0, 0, 0x08, 0x00, ...payload];
  }
  // L4 checksum over the pseudo-header.
  const pseudo = v6 ? [...src, ...dst, 0, 0, l4.length >> 8, l4.length & 255, 0, 0, 0, protoNum] : [...src, ...dst, 0, protoNum, l4.length >> 8, l4.length & 255];
  const ck = p.proto === 'icmp' && !v6 ? csum(l4) : p.proto === 'gre' ? -1 : csum(l4, sum16(pseudo));
  const at = p.proto === 'tcp' ? 16 : p.proto === 'udp' ? 6 : 2;
  if (ck >= 0) {
    const c = ck === 0 && p.proto === 'udp' ? 0xffff : ck;
    l4[at] = c >> 8;
    l4[at + 1] = c & 255;
  }
  let ip: number[];
  if (v6) {
    ip = [0x60, 0, 0, 0, l4.length >> 8, l4.length & 255, protoNum, p.ttl ?? 64, ...src, ...dst];
  } else {
    const tot = 20 + l4.length;
    ip = [0x45, 0, tot >> 8, tot & 255, 0, 1, 0x40, 0, p.ttl ?? 64, protoNum, 0, 0, ...src, ...dst];
    const c = csum(ip);
    ip[10] = c >> 8;
    ip[11] = c & 255;
  }
  return Uint8Array.from([...dstMac, ...srcMac, ...(v6 ? [0x86, 0xdd] : [0x08, 0x00]), ...ip, ...l4]);
}

/** Decode a frame into a fresh PacketView. */
export function decode(f: Uint8Array, t = 0): PacketView {
  const v = new PacketView();
  v.buf = f;
  v.frameOff = 0;
  v.frameEnd = f.length;
  v.caplen = f.length;
  v.wirelen = f.length;
  v.linkType = 1;
  v.tsSec = Math.floor(t);
  v.tsNsec = Math.round((t - Math.floor(t)) * 1e9);
  v.reset();
  decodeFrame(v);
  return v;
}

export function writePcap(path: string, frames: { data: Uint8Array; t: number }[]): void {
  const recs = frames.map((f) => ({ sec: 1_700_000_000 + Math.floor(f.t), frac: Math.round((f.t - Math.floor(f.t)) * 1e6), data: f.data }));
  writeFileSync(path, pcapFile(recs));
}
