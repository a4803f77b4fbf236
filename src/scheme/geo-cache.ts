/**
 * GeoIP and ASN lookups for the address fields of a scheme (ip.src.country, ip.dst.asnum ...),
 * cached per address because a flood repeats its sources. One cache serves every scheme that
 * reads addresses (packets, flow records), so a flow and the packets it stands for share entries.
 * Bounded: a full table is cleared, so memory stays flat whatever the traffic.
 */
import { geoDb } from '../core/geoip.js';
import { formatIpv4, formatIpv6 } from '../core/net/ip.js';

export interface GeoEntry {
  country?: string;
  asn?: number;
}

const LIMIT = 65536;

class GeoCache {
  /** IPv4 keyed by the uint32 itself, so a hit allocates nothing. */
  private readonly m4 = new Map<number, GeoEntry>();
  private readonly m6 = new Map<string, GeoEntry>();

  lookup4(addr: number): GeoEntry {
    const u = addr >>> 0;
    let g = this.m4.get(u);
    if (g === undefined) {
      if (this.m4.size >= LIMIT) this.m4.clear();
      g = geoDb().lookup(formatIpv4(u));
      this.m4.set(u, g);
    }
    return g;
  }

  /** The 16 address bytes at buf[off]. */
  lookup6(buf: Uint8Array, off: number): GeoEntry {
    const text = formatIpv6(buf, off);
    let g = this.m6.get(text);
    if (g === undefined) {
      if (this.m6.size >= LIMIT) this.m6.clear();
      g = geoDb().lookup(text);
      this.m6.set(text, g);
    }
    return g;
  }
}

export const geoCache = new GeoCache();

/** Country codes as bytes, made once per code so Bytes fields point at them without allocating. */
const countryBytes = new Map<string, Uint8Array>();
export function countryCodeBytes(code: string): Uint8Array {
  let b = countryBytes.get(code);
  if (b === undefined) {
    b = new Uint8Array(code.length);
    for (let i = 0; i < code.length; i++) b[i] = code.charCodeAt(i) & 255;
    countryBytes.set(code, b);
  }
  return b;
}
