/** IP literals of the Rules language (spec §4): any valid textual form, no leading zeros in IPv4 octets. */
import { formatIpv4, formatIpv6 } from '../core/net/ip.js';
import { parseAddr } from '../core/net/prefix.js';
import { IpValue } from '../scheme/values.js';

export function parseIpText(text: string): IpValue | null {
  if (text === '' || !/^[0-9A-Fa-f:.]+$/.test(text)) return null;
  const a = parseAddr(text);
  if (a === null) return null;
  if (a.family === 4) return IpValue.of4((((a.addr[0] as number) << 24) | ((a.addr[1] as number) << 16) | ((a.addr[2] as number) << 8) | (a.addr[3] as number)) >>> 0);
  return IpValue.of6(a.addr);
}

/** Canonical text: dotted quad, or RFC 5952 compressed lowercase IPv6. */
export function formatIp(ip: IpValue): string {
  return ip.fam === 4 ? formatIpv4(ip.v4) : formatIpv6(ip.v6 as Uint8Array);
}
