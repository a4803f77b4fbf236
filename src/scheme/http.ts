/**
 * HTTP scheme (spec §10.2): WAF custom rules, rate-limit rules and the edge proxy evaluate rules
 * against one HTTP request. `HttpRequestView` is what a request source (the proxy, an access-log
 * reader, a decoded capture) fills; the catalogue below derives every field from it.
 *
 * Text in the view is byte strings, one char per byte (what node:http hands over for the
 * request line and headers), so fields are the bytes exactly as received.
 */
import { isIPv4 } from 'node:net';
import { geoDb } from '../core/geoip.js';
import { parseAddr } from '../core/net/prefix.js';
import { countryCodeBytes, type GeoEntry, geoCache } from './geo-cache.js';
import { type Field, makeScheme, type Scheme } from './types.js';
import { arrayOf, BOOL, BYTES, INT, IP, IpValue, latin1, mapOf, type Slice, type Value } from './values.js';

export interface HttpRequestView {
  /** Method as sent (normally uppercase). */
  method: string;
  /** Request target as sent: path and query (origin form), e.g. `/a/b.php?x=1`. */
  target: string;
  /**
   * Path and query apart, when the source has them apart (an access log): `target` is then
   * `path` or `path?query`, and the path fields read these without splitting it.
   */
  path?: string;
  query?: string;
  /** Host the request was for (Host header or :authority). */
  host: string;
  /** `HTTP/1.0`, `HTTP/1.1`, `HTTP/2` or `HTTP/3`. */
  version: string;
  /** Header lines in the order received, names in their original case. */
  headers: ReadonlyArray<readonly [string, string]>;
  /**
   * Only some headers are known (a text access log names the few its format logs, in the
   * format's order): the fields listing names, values or order are then missing, not wrong.
   */
  headersPartial?: boolean;
  /**
   * A header's value by lowercased name, when the source can answer without building `headers`
   * (an access log keeps User-Agent, Referer and Cookie in slots). Same answer as a scan of headers.
   */
  header?(lower: string): string | undefined;
  /** More headers were sent than the source parsed. */
  headersTruncated?: boolean;
  /** Body bytes up to the inspection limit. */
  body?: Uint8Array;
  /** Full body size in bytes (defaults to body.length); NaN when the source did not record it. */
  bodySize?: number;
  bodyTruncated?: boolean;
  /** Client address (text form). */
  clientIp: string;
  /** The client connection is TLS. */
  ssl: boolean;
  /** Receive time in milliseconds since the Unix epoch (NaN when unknown). */
  timestampMs: number;
  /** Response status, once the response is known (access logs, the edge after the origin answered). */
  status?: number;
  serverIp?: string;
  serverPort?: number;
  tlsVersion?: string;
  tlsCipher?: string;
  ja3?: string;
  ja4?: string;
  rayId?: string;
  /** Per-request random bytes (cf.random_seed). */
  randomSeed?: Uint8Array;
  /** GeoIP of the client when the source knows better than the offline databases (e.g. `T1` for Tor). */
  geo?: { country?: string; continent?: string; city?: string; regionCode?: string; asn?: number; eu?: boolean };
  /** Scores and bot signals, when something upstream computed them. */
  threatScore?: number;
  bot?: { score?: number; verified?: boolean; category?: string; staticResource?: boolean; jsPassed?: boolean; corporateProxy?: boolean; detectionIds?: number[] };
  waf?: { score?: number; sqli?: number; xss?: number; rce?: number; class?: string };
}

type F = Field<HttpRequestView>;

const b = (s: string | undefined): Uint8Array | undefined => (s === undefined ? undefined : latin1(s));

/**
 * A Bytes field. Besides `get` it has the allocation-free `bytes` accessor the compiler prefers:
 * the byte string is copied into a buffer of the field's own (grown when a longer value comes),
 * which the caller reads before the next evaluation of the same field.
 */
function bytes(name: string, doc: string, get: (r: HttpRequestView) => string | undefined): F {
  let scratch = new Uint8Array(256);
  return {
    name,
    type: BYTES,
    doc,
    get: (r) => b(get(r)),
    bytes(r, out: Slice): boolean {
      const s = get(r);
      if (s === undefined) return false;
      const n = s.length;
      if (n > scratch.length) scratch = new Uint8Array(Math.max(n, scratch.length * 2));
      const buf = scratch;
      for (let i = 0; i < n; i++) buf[i] = s.charCodeAt(i) & 255;
      return out.set(buf, 0, n);
    },
  };
}
/** An Int field; undefined and NaN are missing. */
const int = (name: string, doc: string, get: (r: HttpRequestView) => number | undefined): F => ({
  name,
  type: INT,
  doc,
  get: (r) => {
    const x = get(r);
    return x === undefined || Number.isNaN(x) ? undefined : x;
  },
  int: (r) => get(r) ?? Number.NaN,
});
const bool = (name: string, doc: string, get: (r: HttpRequestView) => boolean | undefined): F => ({ name, type: BOOL, doc, get: (r) => get(r) === true });
const strArray = (name: string, doc: string, get: (r: HttpRequestView) => string[] | undefined): F => ({ name, type: arrayOf(BYTES), doc, get: (r) => get(r)?.map(latin1) });
/** The header list, or undefined when only some headers are known (names and order would be the source's, not the client's). */
const fullHeaders = (r: HttpRequestView): ReadonlyArray<readonly [string, string]> | undefined => (r.headersPartial === true ? undefined : r.headers);
const strMap = (name: string, doc: string, get: (r: HttpRequestView) => Array<[string, string]>): F => ({
  name,
  type: mapOf(arrayOf(BYTES)),
  doc,
  get(r): Value {
    const m = new Map<string, Value>();
    for (const [k, v] of get(r)) {
      const a = m.get(k) as Value[] | undefined;
      if (a) a.push(latin1(v));
      else m.set(k, [latin1(v)]);
    }
    return m;
  },
});

function header(r: HttpRequestView, lower: string): string | undefined {
  if (r.header !== undefined) return r.header(lower);
  for (const [k, v] of r.headers) if (k.toLowerCase() === lower) return v;
  return undefined;
}
/** The path as sent, without splitting a target the source already split. */
function rawPath(r: HttpRequestView): string {
  if (r.path !== undefined) return r.path;
  const t = r.target;
  const q = t.indexOf('?');
  return q < 0 ? t : t.slice(0, q);
}
function rawQuery(r: HttpRequestView): string {
  if (r.path !== undefined) return r.query ?? '';
  const t = r.target;
  const q = t.indexOf('?');
  return q < 0 ? '' : t.slice(q + 1);
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;
/** Cloudflare-style URL normalisation: decode unreserved %XX, uppercase the rest, remove dot segments. */
export function normalizePath(p: string): string {
  // Most paths are already normal: absolute, no escapes, no dot segments (every segment follows a '/').
  if (p.charCodeAt(0) === 0x2f && p.indexOf('%') < 0 && p.indexOf('/.') < 0) return p;
  let s = p.replace(/%([0-9a-fA-F]{2})/g, (m, h: string) => {
    const c = String.fromCharCode(Number.parseInt(h, 16));
    return UNRESERVED.test(c) ? c : m.toUpperCase();
  });
  const out: string[] = [];
  for (const seg of s.split('/')) {
    if (seg === '.') continue;
    if (seg === '..') {
      if (out.length > 1) out.pop();
      continue;
    }
    out.push(seg);
  }
  s = out.join('/');
  if ((p.endsWith('/.') || p.endsWith('/..')) && !s.endsWith('/')) s += '/';
  return s.startsWith('/') || p === '' ? s : `/${s}`;
}
function normalizedTarget(r: HttpRequestView): { path: string; query: string } {
  return { path: normalizePath(rawPath(r)), query: rawQuery(r) };
}
function fullUri(r: HttpRequestView, path: string, query: string): string {
  return `${r.ssl ? 'https' : 'http'}://${r.host}${path}${query === '' && !r.target.includes('?') ? '' : `?${query}`}`;
}

function pairs(text: string, sep: RegExp, decode: boolean): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (text === '') return out;
  for (const part of text.split(sep)) {
    const p = part.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    const k = eq < 0 ? p : p.slice(0, eq);
    const v = eq < 0 ? '' : p.slice(eq + 1);
    out.push(decode ? [formDecode(k), formDecode(v)] : [k, v]);
  }
  return out;
}
function formDecode(s: string): string {
  return s.replace(/\+/g, ' ').replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
}
function queryArgs(r: HttpRequestView): Array<[string, string]> {
  return pairs(rawQuery(r), /&/, false);
}
function cookies(r: HttpRequestView): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (r.header !== undefined) {
    // A source that answers header() gives every Cookie line joined (it may know cookies it has no header line for).
    for (const [n, val] of pairs(r.header('cookie') ?? '', /;/, false)) out.push([formDecode(n), val]);
    return out;
  }
  for (const [k, v] of r.headers) {
    if (k.toLowerCase() !== 'cookie') continue;
    for (const [n, val] of pairs(v, /;/, false)) out.push([formDecode(n), val]);
  }
  return out;
}
function mime(r: HttpRequestView): string {
  return (header(r, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}
function form(r: HttpRequestView): Array<[string, string]> {
  if (mime(r) !== 'application/x-www-form-urlencoded' || !r.body) return [];
  let s = '';
  for (const x of r.body) s += String.fromCharCode(x);
  return pairs(s, /&/, true);
}
function languages(r: HttpRequestView): string[] {
  const h = header(r, 'accept-language');
  if (!h) return [];
  const items = h.split(',').map((p, i) => {
    const [tag = '', ...params] = p.trim().split(';');
    const q = params.map((x) => /^\s*q=([0-9.]+)\s*$/.exec(x)?.[1]).find((x) => x !== undefined);
    return { tag: tag.trim(), q: q === undefined ? 1 : Number(q), i };
  });
  return items
    .filter((x) => x.tag !== '' && x.q > 0)
    .sort((a, c) => c.q - a.q || a.i - c.i)
    .map((x) => x.tag);
}
/** The offline databases' answer for the client (cached per address); what the source says comes first. */
function offlineGeo(r: HttpRequestView): GeoEntry {
  const v4 = ipv4Of(r.clientIp);
  if (v4 >= 0) return geoCache.lookup4(v4);
  return geoDb().lookup(unmap(r.clientIp));
}
function geoCountry(r: HttpRequestView): string | undefined {
  return r.geo?.country ?? offlineGeo(r).country;
}
function geoAsn(r: HttpRequestView): number | undefined {
  return r.geo?.asn ?? offlineGeo(r).asn;
}
/** Node reports IPv4 clients of a dual-stack socket as ::ffff:a.b.c.d; rules see the IPv4 address. */
function unmap(text: string): string {
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(text) ? text.slice(7) : text;
}

/**
 * A dotted-quad IPv4 address (also as ::ffff:a.b.c.d) as uint32, -1 when the text is anything
 * else. Read in place: ip.src on every request of a log must not build an address object.
 */
export function ipv4Of(text: string): number {
  let i = 0;
  const n = text.length;
  if (n > 7 && text.charCodeAt(0) === 0x3a) {
    if (!/^::ffff:/i.test(text)) return -1;
    i = 7;
  }
  let u = 0;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (i >= n || text.charCodeAt(i) !== 0x2e) return -1;
      i++;
    }
    let x = 0;
    let digits = 0;
    while (i < n) {
      const c = text.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      // No leading zeros (01.2.3.4 is octal to some parsers), at most 3 digits.
      if (digits === 1 && x === 0) return -1;
      x = x * 10 + c;
      if (++digits > 3) return -1;
      i++;
    }
    if (digits === 0 || x > 255) return -1;
    u = u * 256 + x;
  }
  return i === n ? u : -1;
}

/** The client address as a scheme field: IPv4 read in place, IPv6 parsed into a reused slice. */
const IP_SRC: F = {
  name: 'ip.src',
  type: IP,
  doc: 'client address',
  get: (r) => ipValue(r.clientIp),
  ipFam(r) {
    if (ipv4Of(r.clientIp) >= 0) return 4;
    return ipValue(r.clientIp)?.fam ?? 0;
  },
  ip4: (r) => ipv4Of(r.clientIp),
  ip6(r, out) {
    const v = ipValue(r.clientIp);
    return v !== undefined && v.fam === 6 && out.set(v.v6 as Uint8Array, 0, 16);
  },
};

/** ip.src.country as a Bytes field whose fast accessor points at one interned array per code. */
const COUNTRY_DOC = 'ISO 3166-1 alpha-2 country of the client (T1 = Tor)';
function countryField(name: string, doc: string): F {
  return {
    name,
    type: BYTES,
    doc,
    get: (r) => b(geoCountry(r)),
    bytes(r, out) {
      const c = geoCountry(r);
      if (c === undefined) return false;
      const a = countryCodeBytes(c);
      return out.set(a, 0, a.length);
    },
  };
}

function ipValue(raw: string | undefined): IpValue | undefined {
  if (raw === undefined) return undefined;
  const text = unmap(raw);
  const a = parseAddr(isIPv4(text) || text.includes(':') ? text : '');
  if (a === null) return undefined;
  return a.family === 4
    ? IpValue.of4((((a.addr[0] as number) << 24) | ((a.addr[1] as number) << 16) | ((a.addr[2] as number) << 8) | (a.addr[3] as number)) >>> 0)
    : IpValue.of6(a.addr);
}
function extension(path: string): string {
  const seg = path.slice(path.lastIndexOf('/') + 1);
  const dot = seg.lastIndexOf('.');
  return dot < 0 ? '' : seg.slice(dot + 1).toLowerCase();
}

export const HTTP_FIELDS: F[] = [
  bytes('http.host', 'Host of the request', (r) => r.host),
  bytes('http.request.method', 'method as sent', (r) => r.method),
  bytes('http.request.uri', 'path and query (normalised)', (r) => {
    const t = normalizedTarget(r);
    return r.target.includes('?') ? `${t.path}?${t.query}` : t.path;
  }),
  bytes('http.request.uri.path', 'path (normalised)', (r) => normalizePath(rawPath(r))),
  bytes('http.request.uri.path.extension', 'lowercased extension of the last path segment, without the dot; "" if none', (r) => extension(normalizePath(rawPath(r)))),
  bytes('http.request.uri.query', 'query without "?", "" if none', rawQuery),
  bytes('http.request.full_uri', 'scheme, host, path and query (normalised)', (r) => {
    const t = normalizedTarget(r);
    return fullUri(r, t.path, t.query);
  }),
  bytes('raw.http.request.uri', 'path and query as sent', (r) => r.target),
  bytes('raw.http.request.uri.path', 'path as sent', rawPath),
  bytes('raw.http.request.uri.query', 'query as sent', rawQuery),
  bytes('raw.http.request.full_uri', 'scheme, host, path and query as sent', (r) => {
    return fullUri(r, rawPath(r), rawQuery(r));
  }),
  bytes('http.user_agent', 'User-Agent header, "" when absent', (r) => header(r, 'user-agent') ?? ''),
  bytes('http.cookie', 'Cookie header, "" when absent', (r) => header(r, 'cookie') ?? ''),
  bytes('http.referer', 'Referer header, "" when absent', (r) => header(r, 'referer') ?? ''),
  bytes('http.x_forwarded_for', 'X-Forwarded-For header, "" when absent', (r) => header(r, 'x-forwarded-for') ?? ''),
  bytes('http.request.version', 'HTTP/1.0, HTTP/1.1, HTTP/2 or HTTP/3', (r) => (r.version === '' ? undefined : r.version)),
  strMap('http.request.headers', 'header values by lowercased name, in order received', (r) => r.headers.map(([k, v]) => [k.toLowerCase(), v])),
  strArray('http.request.headers.names', 'header names (original case), in order', (r) => fullHeaders(r)?.map(([k]) => k)),
  strArray('http.request.headers.values', 'header values, in order', (r) => fullHeaders(r)?.map(([, v]) => v)),
  bool('http.request.headers.truncated', 'too many headers to parse all', (r) => r.headersTruncated),
  strMap('http.request.cookies', 'cookies by (URL-decoded) name', cookies),
  strMap('http.request.uri.args', 'query arguments by name (as sent)', queryArgs),
  strArray('http.request.uri.args.names', 'query argument names, in order', (r) => queryArgs(r).map(([k]) => k)),
  strArray('http.request.uri.args.values', 'query argument values, in order', (r) => queryArgs(r).map(([, v]) => v)),
  strArray('http.request.accepted_languages', 'languages from Accept-Language, by preference', languages),
  { name: 'http.request.body.raw', type: BYTES, doc: 'body up to the inspection limit', get: (r) => r.body ?? new Uint8Array(0) },
  int('http.request.body.size', 'body size in bytes (missing when the source did not record it)', (r) => r.bodySize ?? r.body?.length ?? 0),
  bool('http.request.body.truncated', 'body longer than the inspection limit', (r) => r.bodyTruncated),
  bytes('http.request.body.mime', 'media type of the body', mime),
  strMap('http.request.body.form', 'urlencoded form fields by name', form),
  strArray('http.request.body.form.names', 'urlencoded form field names', (r) => form(r).map(([k]) => k)),
  strArray('http.request.body.form.values', 'urlencoded form field values', (r) => form(r).map(([, v]) => v)),
  int('http.request.timestamp.sec', 'receive time, Unix seconds', (r) => Math.floor(r.timestampMs / 1000)),
  int('http.response.code', 'response status code (from the log, or the edge once the origin answered)', (r) => r.status),
  int('http.request.timestamp.msec', 'receive time, milliseconds 0-999', (r) => ((r.timestampMs % 1000) + 1000) % 1000),
  IP_SRC,
  countryField('ip.src.country', COUNTRY_DOC),
  bytes('ip.src.continent', 'continent code of the client', (r) => r.geo?.continent),
  bytes('ip.src.city', 'city of the client', (r) => r.geo?.city),
  bytes('ip.src.region_code', 'region code of the client', (r) => r.geo?.regionCode),
  int('ip.src.asnum', 'AS number of the client', geoAsn),
  bool('ip.src.is_in_european_union', 'client located in the EU', (r) => r.geo?.eu),
  countryField('ip.geoip.country', 'deprecated alias of ip.src.country'),
  bytes('ip.geoip.continent', 'deprecated alias of ip.src.continent', (r) => r.geo?.continent),
  int('ip.geoip.asnum', 'deprecated alias of ip.src.asnum', geoAsn),
  bool('ssl', 'the client connection is TLS', (r) => r.ssl),
  int('cf.threat_score', 'IP reputation score 0-100 (higher is worse)', (r) => r.threatScore),
  bool('cf.client.bot', 'known good bot', (r) => r.bot?.verified),
  bool('cf.bot_management.verified_bot', 'known good bot', (r) => r.bot?.verified),
  bytes('cf.verified_bot_category', 'category of the verified bot', (r) => r.bot?.category),
  int('cf.bot_management.score', '1 (bot) - 99 (human)', (r) => r.bot?.score),
  bool('cf.bot_management.static_resource', 'request for a static resource', (r) => r.bot?.staticResource),
  bool('cf.bot_management.js_detection.passed', 'JavaScript detection passed', (r) => r.bot?.jsPassed),
  bool('cf.bot_management.corporate_proxy', 'request from a corporate proxy', (r) => r.bot?.corporateProxy),
  bytes('cf.bot_management.ja3_hash', 'JA3 fingerprint of the TLS ClientHello', (r) => r.ja3),
  bytes('cf.bot_management.ja4', 'JA4 fingerprint of the TLS ClientHello', (r) => r.ja4),
  { name: 'cf.bot_management.detection_ids', type: arrayOf(INT), doc: 'bot detection ids', get: (r) => r.bot?.detectionIds?.slice() ?? [] },
  int('cf.waf.score', 'attack score 1 (attack) - 99 (clean)', (r) => r.waf?.score),
  int('cf.waf.score.sqli', 'SQL injection score', (r) => r.waf?.sqli),
  int('cf.waf.score.xss', 'XSS score', (r) => r.waf?.xss),
  int('cf.waf.score.rce', 'RCE score', (r) => r.waf?.rce),
  bytes('cf.waf.score.class', 'attack, likely_attack, likely_clean or clean', (r) => r.waf?.class),
  { name: 'cf.edge.server_ip', type: IP, doc: 'address the request arrived on', get: (r) => ipValue(r.serverIp) },
  int('cf.edge.server_port', 'port the request arrived on', (r) => r.serverPort),
  bytes('cf.tls_version', 'TLS version, e.g. TLSv1.3', (r) => r.tlsVersion),
  bytes('cf.tls_cipher', 'TLS cipher suite', (r) => r.tlsCipher),
  bytes('cf.ray_id', 'request id', (r) => r.rayId),
  { name: 'cf.random_seed', type: BYTES, doc: 'random bytes per request', get: (r) => r.randomSeed },
  bytes('http.request.headers.order', 'lowercased header names joined by "," in order [PX]', (r) =>
    fullHeaders(r)
      ?.map(([k]) => k.toLowerCase())
      .join(','),
  ),
];

export const httpScheme: Scheme<HttpRequestView> = makeScheme('http', HTTP_FIELDS);

/** The first value of header `lower` (a lowercase name), undefined when absent: the view's own `header()` when it has one (no pair list built), else a scan. */
export function headerOf(v: HttpRequestView, lower: string): string | undefined {
  if (v.header !== undefined) return v.header(lower);
  const hs = v.headers;
  for (let i = 0; i < hs.length; i++) {
    const h = hs[i] as readonly [string, string];
    if (h[0].length === lower.length && h[0].toLowerCase() === lower) return h[1];
  }
  return undefined;
}
