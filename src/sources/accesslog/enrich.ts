/**
 * Enrichment of HttpRequest records (DESIGN.md "HttpRequest"): the client's AS number and country
 * from the offline databases (core/geoip.ts) where the log did not give them, and its prefix,
 * /24 for IPv4 and /48 for IPv6 — the unit a botnet's addresses and carrier NATs cluster in;
 * what the request is (a static asset or a page, a login endpoint's); the names of its cookies;
 * and, where the log keeps the client's header order, that order (a client's fingerprint: a
 * browser's and a script's differ even when the script copies the browser's user agent).
 *
 * What the log says wins (Cloudflare's ClientASN/ClientCountry, the edge's own enrichment):
 * the edge saw the connection, the offline tables are a guess from the address.
 */
import { geoDb } from '../../core/geoip.js';
import { isAsset, isLoginPath } from '../../core/http-paths.js';
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

export interface EnrichOptions {
  /** The record's headers are the client's, in its order (JSON logs that keep them, the edge's log); a text log's are not. */
  orderedHeaders?: boolean;
  /** The site's login endpoints (core/http-paths.ts loginMatcher); default: the usual ones. */
  isLogin?: ((path: string) => boolean) | null;
}

/**
 * Fill `r.enrichment` in place (and return `r`): asn, country and prefix where missing (a client
 * that is no address — a Unix socket, `-` — gets none: absent, never invented); static and login;
 * cookie names; the header order where known.
 */
export function enrichRequest(r: HttpRequest, opts: EnrichOptions = {}): HttpRequest {
  const e = lookup(r.client.ip);
  const out: NonNullable<HttpRequest['enrichment']> = { ...r.enrichment };
  if (e.prefix !== null) {
    if (out.asn === undefined && e.asn !== undefined) out.asn = e.asn;
    if (out.country === undefined && e.country !== undefined) out.country = e.country;
    if (out.prefix === undefined) out.prefix = e.prefix;
  }
  const path = r.path;
  out.static = isAsset(path, 0, path.length);
  out.login = opts.isLogin ? opts.isLogin(path) : isLoginPath(path, 0, path.length);
  if (r.cookies !== undefined) out.cookie_names = Object.keys(r.cookies).sort();
  if (opts.orderedHeaders && r.headers.length > 0) out.header_order = r.headers.map((h) => h.name.toLowerCase()).join(',');
  r.enrichment = out;
  return r;
}
