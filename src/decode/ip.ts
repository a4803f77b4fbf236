/** IP dispatch helpers shared by the link decoders and the tunnel decoders. */
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { type PacketView, Status } from './view.js';

export { decodeIpv4, decodeIpv6 };

/** For link types with no protocol field (raw IP, MPLS): the version nibble decides. */
export function decodeIpByVersion(v: PacketView, off: number, end: number): void {
  if (end - off < 1) {
    v.status |= Status.TRUNCATED;
    return;
  }
  const ver = (v.buf[off] as number) >> 4;
  if (ver === 4) decodeIpv4(v, off, end);
  else if (ver === 6) decodeIpv6(v, off, end);
  else v.status |= Status.MALFORMED;
}
