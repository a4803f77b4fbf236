/**
 * decodeFrame: entry point of the decoder chain. Dispatches on the capture's link type and
 * fills the PacketView from L2 to L7. Never throws on bad bytes: it sets `status` bits instead.
 */
import { decodeEthernet } from './ethernet.js';
import { decodeIpByVersion, decodeIpv4, decodeIpv6 } from './ip.js';
import { decodeNflog } from './nflog.js';
import { decodeRadiotap } from './radiotap.js';
import { decodeLinuxSll, decodeLinuxSll2 } from './sll.js';
import { Link, type PacketView, Status } from './view.js';

export function decodeFrame(v: PacketView): void {
  const off = v.frameOff;
  const end = v.frameEnd;
  switch (v.linkType) {
    case Link.ETHERNET:
      decodeEthernet(v, off, end);
      return;
    case Link.RAW:
    case 12: // DLT_RAW on some BSDs (pcap files written there keep the DLT value)
    case 14:
      decodeIpByVersion(v, off, end);
      return;
    case Link.IPV4:
      decodeIpv4(v, off, end);
      return;
    case Link.IPV6:
      decodeIpv6(v, off, end);
      return;
    case Link.NULL:
    case Link.LOOP:
      decodeNull(v, off, end);
      return;
    case Link.LINUX_SLL:
      decodeLinuxSll(v, off, end);
      return;
    case Link.LINUX_SLL2:
      decodeLinuxSll2(v, off, end);
      return;
    case Link.NFLOG:
      decodeNflog(v, off, end);
      return;
    case Link.IEEE802_11_RADIOTAP:
      decodeRadiotap(v, off, end);
      return;
    default:
      v.status |= Status.UNSUPPORTED;
  }
}

/**
 * BSD loopback: a 4-byte address family in the writer's byte order (NULL) or network order
 * (LOOP). IPv6 has three family values depending on the writing OS (24 BSD, 28 FreeBSD, 30 macOS).
 */
function decodeNull(v: PacketView, off: number, end: number): void {
  if (end - off < 4) {
    v.status |= Status.TRUNCATED;
    return;
  }
  const b = v.buf;
  const be = ((b[off] as number) << 24) | ((b[off + 1] as number) << 16) | ((b[off + 2] as number) << 8) | (b[off + 3] as number);
  const le = ((b[off + 3] as number) << 24) | ((b[off + 2] as number) << 16) | ((b[off + 1] as number) << 8) | (b[off] as number);
  const fam = v.linkType === Link.LOOP ? be : be >>> 0 < 256 ? be : le;
  if (fam === 2) decodeIpv4(v, off + 4, end);
  else if (fam === 24 || fam === 28 || fam === 30) decodeIpv6(v, off + 4, end);
  else v.status |= Status.UNSUPPORTED;
}
