/**
 * Enrichment of HttpRequest records (DESIGN.md "HttpRequest"): the client's AS number and country
 * from the offline databases (core/geoip.ts) where the log did not give them, and its prefix,
 * /24 for IPv4 and /48 for IPv6 — the unit a botnet's addresses and carrier NATs cluster in.
 *
 * What the log says wins (Cloudflare's ClientASN/ClientCountry, the edge's own enrichment):
 * the edge saw the connection, the offline tables are a guess from the address.
 */
import { geoDb } from '../../core/geoip.js';
import { formatIpv4, formatIpv6 } from '../../core/net/ip.js';
import { parseAddr } from '../../core/net/prefix.js';
import type { HttpRequest } from '../../model/http.js';

/** Prefix lengths the enrichment groups addresses by. */
export const PREFIX_V4 = 24;
export const PREFIX_V6 = 48;

/** `a.b.c.0/24` or `x:y:z::/48` of an address, null when the text is no address. */
export function clientPrefix(ip: string): string | null {
  const a = parseAddr(ip);
  if (a === null) return null;
  const b = a.addr;
  if (a.family === 4) {
    const u = (((b[0] as number) << 24) | ((b[1] as number) << 16) | ((b[2] as number) << 8)) >>> 0;
    return `${formatIpv4(u)}/${PREFIX_V4}`;
  }
  const m = new Uint8Array(16);
  m.set(b.subarray(0, PREFIX_V6 / 8));
  return `${formatIpv6(m, 0, false)}/${PREFIX_V6}`;
}

const LIMIT = 65536;
/** Lookups cached per address (a flood repeats its sources), cleared when full so memory stays flat. */
const cache = new Map<string, { asn?: number; country?: string; prefix: string | null }>();

function lookup(ip: string): { asn?: number; country?: string; prefix: string | null } {
  let e = cache.get(ip);
  if (e === undefined) {
    if (cache.size >= LIMIT) cache.clear();
    const g = geoDb().lookup(ip);
    e = { asn: g.asn, country: g.country, prefix: clientPrefix(ip) };
    cache.set(ip, e);
  }
  return e;
}

/**
 * Fill `r.enrichment` in place (and return `r`): asn, country and prefix where missing. A client
 * that is no address (a Unix socket, `-`) gets nothing: absent, never invented.
 */
export function enrichRequest(r: HttpRequest): HttpRequest {
  const e = lookup(r.client.ip);
  if (e.prefix === null) return r;
  const out: NonNullable<HttpRequest['enrichment']> = { ...r.enrichment };
  if (out.asn === undefined && e.asn !== undefined) out.asn = e.asn;
  if (out.country === undefined && e.country !== undefined) out.country = e.country;
  if (out.prefix === undefined) out.prefix = e.prefix;
  r.enrichment = out;
  return r;
}
