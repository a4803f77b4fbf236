/**
 * GRE (RFC 2784/2890) and enhanced GRE (PPTP, RFC 2637): optional checksum, key, sequence and
 * acknowledgement words, then the inner packet by protocol type: IPv4, IPv6, transparent
 * Ethernet bridging (0x6558, e.g. ERSPAN-less bridging), or PPP (PPTP) carrying IP.
 */
import { decodeEthernet, decodeEtherType } from './ethernet.js';
import { type PacketView, Status, Tunnel } from './view.js';

export function decodeGre(v: PacketView, off: number, end: number): void {
  const b = v.buf;
  if (end - off < 4) {
    v.status |= Status.TRUNCATED;
    return;
  }
  v.l4Off = off;
  const f0 = b[off] as number;
  const f1 = b[off + 1] as number;
  const ver = f1 & 7;
  const proto = ((b[off + 2] as number) << 8) | (b[off + 3] as number);
  v.greProto = proto;
  let p = off + 4;
  if (f0 & 0x80) p += 4; // checksum + reserved
  if (f0 & 0x20) p += 4; // key (mandatory in version 1)
  if (f0 & 0x10) p += 4; // sequence number
  if (ver === 1 && f1 & 0x80) p += 4; // PPTP acknowledgement
  if (p > end) {
    v.status |= Status.TRUNCATED;
    return;
  }
  v.payloadOff = p;
  v.payloadLen = end - p;
  if (ver > 1) return;
  v.tunnel |= Tunnel.GRE;
  if (proto === 0x6558) {
    decodeEthernet(v, p, end);
  } else if (proto === 0x880b) {
    // PPP in enhanced GRE: optional address/control bytes (FF 03), then a 1- or 2-byte protocol.
    if (end - p >= 2 && b[p] === 0xff && b[p + 1] === 0x03) p += 2;
    if (end - p < 1) return;
    let pp = b[p] as number;
    if ((pp & 1) === 0 && end - p >= 2) {
      pp = (pp << 8) | (b[p + 1] as number);
      p += 2;
    } else p += 1;
    if (pp === 0x21) decodeEtherType(v, 0x0800, p, end);
    else if (pp === 0x57) decodeEtherType(v, 0x86dd, p, end);
  } else if (proto === 0x0800 || proto === 0x86dd) {
    decodeEtherType(v, proto, p, end);
  }
}
