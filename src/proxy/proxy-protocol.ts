/**
 * PROXY protocol v1 (text) and v2 (binary) headers, as a load balancer in front of the edge
 * sends them before the client's first byte (haproxy's proxy-protocol.txt). The parser is
 * incremental in the simplest way: it is called again with the whole prefix received so far
 * until it says `ok` or `bad`; it never throws and never reads past what it was given.
 */
import { isIP } from 'node:net';
import { formatIpv6 } from '../core/net/ip.js';

/** v2's fixed 12-byte signature. */
const V2_SIG = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** The spec's longest v1 line, CRLF included. */
export const V1_MAX = 107;

export type ProxyHeader =
  | { status: 'need' }
  | { status: 'bad'; reason: string }
  /**
   * `length` bytes form the header; the client's data follows. `src` is undefined for v1
   * `UNKNOWN`, v2 `LOCAL` and address families other than TCP over IPv4/IPv6 (the peer's own
   * address is then the client, as the spec says).
   */
  | { status: 'ok'; length: number; version: 1 | 2; src?: string; srcPort?: number; dst?: string; dstPort?: number };

const NEED: ProxyHeader = { status: 'need' };

export function parseProxyHeader(b: Uint8Array): ProxyHeader {
  if (b.length === 0) return NEED;
  if (b[0] === 0x0d) return parseV2(b);
  if (b[0] === 0x50) return parseV1(b);
  return { status: 'bad', reason: 'no PROXY protocol header' };
}

function parseV1(b: Uint8Array): ProxyHeader {
  const prefix = 'PROXY ';
  for (let i = 0; i < prefix.length && i < b.length; i++) if (b[i] !== prefix.charCodeAt(i)) return { status: 'bad', reason: 'no PROXY protocol header' };
  let end = -1;
  const lim = Math.min(b.length, V1_MAX);
  for (let i = 0; i < lim; i++) {
    if (b[i] === 0x0a) {
      end = i;
      break;
    }
  }
  if (end < 0) return b.length >= V1_MAX ? { status: 'bad', reason: 'PROXY v1 line longer than 107 bytes' } : NEED;
  if (end === 0 || b[end - 1] !== 0x0d) return { status: 'bad', reason: 'PROXY v1 line not ended by CRLF' };
  const line = Buffer.from(b.buffer, b.byteOffset, end - 1).toString('latin1');
  const parts = line.split(' ');
  const length = end + 1;
  if (parts[1] === 'UNKNOWN') return { status: 'ok', length, version: 1 };
  if (parts.length !== 6) return { status: 'bad', reason: 'PROXY v1 line does not have 6 fields' };
  const [, proto, src, dst, sp, dp] = parts as [string, string, string, string, string, string];
  const fam = proto === 'TCP4' ? 4 : proto === 'TCP6' ? 6 : 0;
  if (fam === 0) return { status: 'bad', reason: 'PROXY v1 protocol is not TCP4, TCP6 or UNKNOWN' };
  if (isIP(src) !== fam || isIP(dst) !== fam) return { status: 'bad', reason: 'PROXY v1 address does not match its protocol' };
  const srcPort = port(sp);
  const dstPort = port(dp);
  if (srcPort < 0 || dstPort < 0) return { status: 'bad', reason: 'PROXY v1 port is not 0-65535' };
  return { status: 'ok', length, version: 1, src, srcPort, dst, dstPort };
}

function port(s: string): number {
  if (!/^(0|[1-9]\d{0,4})$/.test(s)) return -1;
  const n = Number(s);
  return n <= 65535 ? n : -1;
}

function parseV2(b: Uint8Array): ProxyHeader {
  const n = Math.min(b.length, 12);
  for (let i = 0; i < n; i++) if (b[i] !== V2_SIG[i]) return { status: 'bad', reason: 'no PROXY protocol header' };
  if (b.length < 16) return NEED;
  const verCmd = b[12] as number;
  if (verCmd >> 4 !== 2) return { status: 'bad', reason: 'PROXY v2 version is not 2' };
  const cmd = verCmd & 15;
  if (cmd > 1) return { status: 'bad', reason: 'PROXY v2 command is not LOCAL or PROXY' };
  const fam = b[13] as number;
  const len = ((b[14] as number) << 8) | (b[15] as number);
  const length = 16 + len;
  if (b.length < length) return NEED;
  if (cmd === 0) return { status: 'ok', length, version: 2 };
  const a = 16;
  // TCP over IPv4 (0x11) and IPv6 (0x21); UDP and UNIX sockets keep the peer's address.
  if (fam === 0x11) {
    if (len < 12) return { status: 'bad', reason: 'PROXY v2 IPv4 addresses truncated' };
    const src = `${b[a]}.${b[a + 1]}.${b[a + 2]}.${b[a + 3]}`;
    const dst = `${b[a + 4]}.${b[a + 5]}.${b[a + 6]}.${b[a + 7]}`;
    return { status: 'ok', length, version: 2, src, dst, srcPort: u16(b, a + 8), dstPort: u16(b, a + 10) };
  }
  if (fam === 0x21) {
    if (len < 36) return { status: 'bad', reason: 'PROXY v2 IPv6 addresses truncated' };
    return { status: 'ok', length, version: 2, src: formatIpv6(b, a), dst: formatIpv6(b, a + 16), srcPort: u16(b, a + 32), dstPort: u16(b, a + 34) };
  }
  if (fam === 0x00 || fam === 0x12 || fam === 0x22 || fam === 0x31 || fam === 0x32) return { status: 'ok', length, version: 2 };
  return { status: 'bad', reason: 'PROXY v2 address family unknown' };
}

function u16(b: Uint8Array, o: number): number {
  return ((b[o] as number) << 8) | (b[o + 1] as number);
}

/** A v1 line, for tests and for tools that speak the protocol to the edge. */
export function proxyV1(src: string, dst: string, srcPort: number, dstPort: number): string {
  return `PROXY ${isIP(src) === 6 ? 'TCP6' : 'TCP4'} ${src} ${dst} ${srcPort} ${dstPort}\r\n`;
}

/** A v2 PROXY header for TCP over IPv4 (dotted quads), optionally with TLV bytes after the addresses. */
export function proxyV2v4(src: string, dst: string, srcPort: number, dstPort: number, tlv: Uint8Array = new Uint8Array(0)): Buffer {
  const out = Buffer.alloc(28 + tlv.length);
  V2_SIG.copy(out, 0);
  out[12] = 0x21;
  out[13] = 0x11;
  out.writeUInt16BE(12 + tlv.length, 14);
  src.split('.').forEach((x, i) => {
    out[16 + i] = Number(x);
  });
  dst.split('.').forEach((x, i) => {
    out[20 + i] = Number(x);
  });
  out.writeUInt16BE(srcPort, 24);
  out.writeUInt16BE(dstPort, 26);
  out.set(tlv, 28);
  return out;
}
