/**
 * Transport dispatch (by IP protocol number) and tunnel bookkeeping. Tunnels (GRE, IP-in-IP,
 * VXLAN, Teredo) are decoded through to the inner packet, because that is the customer traffic;
 * the outermost addresses are kept in the view's outer* fields.
 */
import { decodeGre } from './gre.js';
import { decodeIcmp, decodeIcmpv6 } from './icmp.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { decodeTcp } from './tcp.js';
import { decodeUdp } from './udp.js';
import { type PacketView, Status, Tunnel } from './view.js';

const MAX_TUNNEL_DEPTH = 4;

export function decodeTransport(v: PacketView, proto: number, off: number, end: number, wireLen: number): void {
  v.l4Proto = proto;
  switch (proto) {
    case 6:
      decodeTcp(v, off, end, wireLen);
      return;
    case 17:
      decodeUdp(v, off, end);
      return;
    case 1:
      decodeIcmp(v, off, end);
      return;
    case 58:
      decodeIcmpv6(v, off, end);
      return;
    case 47:
      decodeGre(v, off, end);
      return;
    case 4:
      v.tunnel |= Tunnel.IPIP;
      decodeIpv4(v, off, end);
      return;
    case 41:
      v.tunnel |= Tunnel.IPIP;
      decodeIpv6(v, off, end);
      return;
    default:
      // ESP, SCTP, OSPF, ...: the payload is whatever follows the IP header.
      v.payloadOff = off;
      v.payloadLen = end - off;
      v.payloadWireLen = wireLen;
  }
}

/**
 * Called by the IP decoders before they write a header. For an inner header, save the outer
 * addresses (first time only) and clear the outer packet's L3/L4 fields. Returns false when
 * the nesting is deeper than any real network builds (a decompression-bomb-like packet).
 */
export function enterTunnel(v: PacketView, off: number): boolean {
  if (v.ipVersion === 0) {
    v.outerIpOff = off;
    return true;
  }
  if (v.tunnelDepth === 0) {
    v.outerIpVersion = v.ipVersion;
    v.outerSrc4 = v.src4;
    v.outerDst4 = v.dst4;
    v.outerSrc6Off = v.src6Off;
    v.outerDst6Off = v.dst6Off;
  }
  if (++v.tunnelDepth > MAX_TUNNEL_DEPTH) {
    v.status |= Status.MALFORMED;
    return false;
  }
  v.ipHdrLen = 0;
  v.ipLen = 0;
  v.ipId = 0;
  v.ipFlags = 0;
  v.fragOffset = 0;
  v.isFragment = false;
  v.ipOptType = -1;
  v.src4 = 0;
  v.dst4 = 0;
  v.src6Off = -1;
  v.dst6Off = -1;
  v.ip6Ext = 0;
  v.resetL4();
  return true;
}
