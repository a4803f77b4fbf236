/**
 * ICMP (RFC 792) and ICMPv6 (RFC 4443): type and code. Error messages quote the offending
 * packet; we do not decode the quote as a layer of this packet (it is not traffic to or from
 * these addresses), but the payload offset points at it.
 */
import { type PacketView, Status } from './view.js';

export function decodeIcmp(v: PacketView, off: number, end: number): void {
  decodeIcmpCommon(v, off, end);
}

export function decodeIcmpv6(v: PacketView, off: number, end: number): void {
  decodeIcmpCommon(v, off, end);
}

function decodeIcmpCommon(v: PacketView, off: number, end: number): void {
  const b = v.buf;
  if (end - off < 4) {
    v.status |= Status.TRUNCATED;
    if (end - off >= 1) v.icmpType = b[off] as number;
    return;
  }
  v.l4Off = off;
  v.icmpType = b[off] as number;
  v.icmpCode = b[off + 1] as number;
  const p = end - off >= 8 ? off + 8 : end;
  v.payloadOff = p;
  v.payloadLen = end - p;
}
