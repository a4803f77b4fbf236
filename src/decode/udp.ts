/**
 * UDP (RFC 768), then the tunnels that ride on it (VXLAN 4789, Teredo 3544) and the
 * application decoders. The payload ends at the UDP length when the capture holds it.
 */
import { decodeApp } from './app.js';
import { decodeEthernet } from './ethernet.js';
import { decodeIpv6 } from './ipv6.js';
import { type PacketView, Status, Tunnel } from './view.js';

export function decodeUdp(v: PacketView, off: number, end: number): void {
  const b = v.buf;
  const avail = end - off;
  if (avail < 8) {
    v.status |= Status.TRUNCATED;
    if (avail >= 4) {
      v.srcPort = ((b[off] as number) << 8) | (b[off + 1] as number);
      v.dstPort = ((b[off + 2] as number) << 8) | (b[off + 3] as number);
    }
    return;
  }
  v.l4Off = off;
  const sp = ((b[off] as number) << 8) | (b[off + 1] as number);
  const dp = ((b[off + 2] as number) << 8) | (b[off + 3] as number);
  v.srcPort = sp;
  v.dstPort = dp;
  const ulen = ((b[off + 4] as number) << 8) | (b[off + 5] as number);
  v.udpLen = ulen;
  let stop = end;
  if (ulen >= 8 && off + ulen < end) stop = off + ulen;
  v.payloadOff = off + 8;
  v.payloadLen = stop - (off + 8);
  v.payloadWireLen = ulen >= 8 ? ulen - 8 : v.payloadLen;
  if (ulen !== 0 && ulen < 8) {
    v.status |= Status.MALFORMED;
    return;
  }
  if (v.payloadLen === 0) return;
  if (dp === 4789 && v.payloadLen >= 8 + 14 && ((b[off + 8] as number) & 0x08) !== 0) {
    // VXLAN: 8-byte header with the I flag, then an inner Ethernet frame.
    v.tunnel |= Tunnel.VXLAN;
    decodeEthernet(v, off + 16, stop);
    return;
  }
  if ((sp === 3544 || dp === 3544) && teredo(v, off + 8, stop)) return;
  decodeApp(v, 17, off + 8, stop);
}

/** Teredo (RFC 4380): optional authentication and origin indications, then IPv6. */
function teredo(v: PacketView, p: number, end: number): boolean {
  const b = v.buf;
  if (end - p >= 4 && b[p] === 0 && b[p + 1] === 1) {
    const idLen = b[p + 2] as number;
    const auLen = b[p + 3] as number;
    p += 4 + idLen + auLen + 8 + 1;
  }
  if (end - p >= 8 && b[p] === 0 && b[p + 1] === 0) p += 8;
  if (end - p >= 40 && (b[p] as number) >> 4 === 6) {
    v.tunnel |= Tunnel.TEREDO;
    decodeIpv6(v, p, end);
    return true;
  }
  return false;
}
