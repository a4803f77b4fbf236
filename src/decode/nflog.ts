/**
 * NFLOG (DLT 239): a 4-byte header (family, version, resource id) then TLVs in host byte order
 * (little-endian on every platform that writes these captures). TLV type 9 is the packet payload,
 * which starts at the IP header.
 */
import { decodeIpv4, decodeIpv6 } from './ip.js';
import { type PacketView, Status } from './view.js';

const NFULA_PAYLOAD = 9;

export function decodeNflog(v: PacketView, off: number, end: number): void {
  if (end - off < 4) {
    v.status |= Status.TRUNCATED;
    return;
  }
  const b = v.buf;
  const family = b[off] as number;
  let p = off + 4;
  for (let guard = 0; guard < 64 && end - p >= 4; guard++) {
    const tlen = (b[p] as number) | ((b[p + 1] as number) << 8);
    const ttype = ((b[p + 2] as number) | ((b[p + 3] as number) << 8)) & 0x7fff;
    if (tlen < 4) {
      v.status |= Status.MALFORMED;
      return;
    }
    if (ttype === NFULA_PAYLOAD) {
      const stop = Math.min(end, p + tlen);
      if (family === 2) decodeIpv4(v, p + 4, stop);
      else if (family === 10) decodeIpv6(v, p + 4, stop);
      else v.status |= Status.UNSUPPORTED;
      return;
    }
    p += (tlen + 3) & ~3;
  }
  if (p < end) v.status |= Status.TRUNCATED;
}
