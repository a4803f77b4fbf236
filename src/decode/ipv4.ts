/**
 * IPv4 (RFC 791): header, options (first option type kept), fragments. The datagram ends at
 * min(captured end, total length) so Ethernet padding and trailers (F5, FCS) are not payload.
 * Non-first fragments carry no transport header: l4Off stays -1 and fragOffset > 0 says why.
 */
import { decodeTransport, enterTunnel } from './transport.js';
import { type PacketView, Status } from './view.js';

export function decodeIpv4(v: PacketView, off: number, end: number): void {
  const b = v.buf;
  const avail = end - off;
  if (avail < 1) {
    v.status |= Status.TRUNCATED;
    return;
  }
  const vihl = b[off] as number;
  if (vihl >> 4 !== 4) {
    v.status |= Status.MALFORMED;
    return;
  }
  if (!enterTunnel(v, off)) return;
  v.ipVersion = 4;
  v.ipOff = off;
  const hlen = (vihl & 0x0f) << 2;
  if (avail < 20) {
    v.status |= Status.TRUNCATED;
    if (avail >= 4) v.ipLen = ((b[off + 2] as number) << 8) | (b[off + 3] as number);
    if (avail >= 9) v.ttl = b[off + 8] as number;
    if (avail >= 10) v.ipProto = b[off + 9] as number;
    if (avail >= 16) v.src4 = readU32(b, off + 12);
    return;
  }
  v.ipHdrLen = hlen;
  const tos = b[off + 1] as number;
  v.ipDscp = tos >> 2;
  v.ipEcn = tos & 3;
  let total = ((b[off + 2] as number) << 8) | (b[off + 3] as number);
  v.ipId = ((b[off + 4] as number) << 8) | (b[off + 5] as number);
  const ff = ((b[off + 6] as number) << 8) | (b[off + 7] as number);
  v.ipFlags = ff >> 13;
  v.fragOffset = ff & 0x1fff;
  v.isFragment = v.fragOffset !== 0 || (ff & 0x2000) !== 0;
  v.ttl = b[off + 8] as number;
  v.ipProto = b[off + 9] as number;
  v.src4 = readU32(b, off + 12);
  v.dst4 = readU32(b, off + 16);
  if (hlen < 20) {
    v.status |= Status.MALFORMED;
    return;
  }
  // Total length 0 is what TSO/GSO captures on the sending host show: trust the captured bytes.
  if (total === 0) total = Math.max(avail, v.wirelen - (off - v.frameOff));
  v.ipLen = total;
  if (total < hlen) {
    v.status |= Status.MALFORMED;
    return;
  }
  if (hlen > avail) {
    // Header claims more than was captured: cut off by snaplen, or a bogus IHL.
    v.status |= total >= hlen && v.caplen < v.wirelen ? Status.TRUNCATED : Status.MALFORMED;
    return;
  }
  if (hlen > 20) v.ipOptType = b[off + 20] as number;
  const dgramEnd = off + total < end ? off + total : end;
  if (v.fragOffset !== 0) {
    v.payloadOff = off + hlen;
    v.payloadLen = dgramEnd - (off + hlen);
    v.payloadWireLen = total - hlen;
    return;
  }
  decodeTransport(v, v.ipProto, off + hlen, dgramEnd, total - hlen);
}

export function readU32(b: Uint8Array, o: number): number {
  return (((b[o] as number) << 24) | ((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number)) >>> 0;
}
