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
import { type Field, makeScheme, type Scheme } from './types.js';
import { arrayOf, BOOL, BYTES, INT, IP, IpValue, latin1, mapOf, type Value } from './values.js';

export interface HttpRequestView {
  /** Method as sent (normally uppercase). */
  method: string;
  /** Request target as sent: path and query (origin form), e.g. `/a/b.php?x=1`. */
  target: string;
  /** Host the request was for (Host header or :authority). */
  host: string;
  /** `HTTP/1.0`, `HTTP/1.1`, `HTTP/2` or `HTTP/3`. */
  version: string;
  /** Header lines in the order received, names in their original case. */
  headers: ReadonlyArray<readonly [string, string]>;
  /** More headers were sent than the source parsed. */
  headersTruncated?: boolean;
  /** Body bytes up to the inspection limit. */
  body?: Uint8Array;
  /** Full body size in bytes (defaults to body.length). */
  bodySize?: number;
  bodyTruncated?: boolean;
  /** Client address (text form). */
  clientIp: string;
  /** The client connection is TLS. */
  ssl: boolean;
  /** Receive time in milliseconds since the Unix epoch. */
  timestampMs: number;
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
const bytes = (name: string, doc: string, get: (r: HttpRequestView) => string | undefined): F => ({ name, type: BYTES, doc, get: (r) => b(get(r)) });
const int = (name: string, doc: string, get: (r: HttpRequestView) => number | undefined): F => ({
  name,
  type: INT,
  doc,
  get,
  int: (r) => get(r) ?? Number.NaN,
});
const bool = (name: string, doc: string, get: (r: HttpRequestView) => boolean | undefined): F => ({ name, type: BOOL, doc, get: (r) => get(r) === true });
const strArray = (name: string, doc: string, get: (r: HttpRequestView) => string[]): F => ({ name, type: arrayOf(BYTES), doc, get: (r) => get(r).map(latin1) });
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
  for (const [k, v] of r.headers) if (k.toLowerCase() === lower) return v;
  return undefined;
}
function splitTarget(t: string): { path: string; query: string } {
  const q = t.indexOf('?');
  return q < 0 ? { path: t, query: '' } : { path: t.slice(0, q), query: t.slice(q + 1) };
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;
/** Cloudflare-style URL normalisation: decode unreserved %XX, uppercase the rest, remove dot segments. */
export function normalizePath(p: string): string {
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
  const t = splitTarget(r.target);
  return { path: normalizePath(t.path), query: t.query };
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
  return pairs(splitTarget(r.target).query, /&/, false);
}
function cookies(r: HttpRequestView): Array<[string, string]> {
  const out: Array<[string, string]> = [];
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
function clientGeo(r: HttpRequestView) {
  const g = geoDb().lookup(unmap(r.clientIp));
  return { country: r.geo?.country ?? g.country, continent: r.geo?.continent, city: r.geo?.city, regionCode: r.geo?.regionCode, asn: r.geo?.asn ?? g.asn, eu: r.geo?.eu };
}
/** Node reports IPv4 clients of a dual-stack socket as ::ffff:a.b.c.d; rules see the IPv4 address. */
function unmap(text: string): string {
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(text) ? text.slice(7) : text;
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
  bytes('http.request.uri.path', 'path (normalised)', (r) => normalizedTarget(r).path),
  bytes('http.request.uri.path.extension', 'lowercased extension of the last path segment, without the dot; "" if none', (r) => extension(normalizedTarget(r).path)),
  bytes('http.request.uri.query', 'query without "?", "" if none', (r) => splitTarget(r.target).query),
  bytes('http.request.full_uri', 'scheme, host, path and query (normalised)', (r) => {
    const t = normalizedTarget(r);
    return fullUri(r, t.path, t.query);
  }),
  bytes('raw.http.request.uri', 'path and query as sent', (r) => r.target),
  bytes('raw.http.request.uri.path', 'path as sent', (r) => splitTarget(r.target).path),
  bytes('raw.http.request.uri.query', 'query as sent', (r) => splitTarget(r.target).query),
  bytes('raw.http.request.full_uri', 'scheme, host, path and query as sent', (r) => {
    const t = splitTarget(r.target);
    return fullUri(r, t.path, t.query);
  }),
  bytes('http.user_agent', 'User-Agent header, "" when absent', (r) => header(r, 'user-agent') ?? ''),
  bytes('http.cookie', 'Cookie header, "" when absent', (r) => header(r, 'cookie') ?? ''),
  bytes('http.referer', 'Referer header, "" when absent', (r) => header(r, 'referer') ?? ''),
  bytes('http.x_forwarded_for', 'X-Forwarded-For header, "" when absent', (r) => header(r, 'x-forwarded-for') ?? ''),
  bytes('http.request.version', 'HTTP/1.0, HTTP/1.1, HTTP/2 or HTTP/3', (r) => r.version),
  strMap('http.request.headers', 'header values by lowercased name, in order received', (r) => r.headers.map(([k, v]) => [k.toLowerCase(), v])),
  strArray('http.request.headers.names', 'header names (original case), in order', (r) => r.headers.map(([k]) => k)),
  strArray('http.request.headers.values', 'header values, in order', (r) => r.headers.map(([, v]) => v)),
  bool('http.request.headers.truncated', 'too many headers to parse all', (r) => r.headersTruncated),
  strMap('http.request.cookies', 'cookies by (URL-decoded) name', cookies),
  strMap('http.request.uri.args', 'query arguments by name (as sent)', queryArgs),
  strArray('http.request.uri.args.names', 'query argument names, in order', (r) => queryArgs(r).map(([k]) => k)),
  strArray('http.request.uri.args.values', 'query argument values, in order', (r) => queryArgs(r).map(([, v]) => v)),
  strArray('http.request.accepted_languages', 'languages from Accept-Language, by preference', languages),
  { name: 'http.request.body.raw', type: BYTES, doc: 'body up to the inspection limit', get: (r) => r.body ?? new Uint8Array(0) },
  int('http.request.body.size', 'body size in bytes', (r) => r.bodySize ?? r.body?.length ?? 0),
  bool('http.request.body.truncated', 'body longer than the inspection limit', (r) => r.bodyTruncated),
  bytes('http.request.body.mime', 'media type of the body', mime),
  strMap('http.request.body.form', 'urlencoded form fields by name', form),
  strArray('http.request.body.form.names', 'urlencoded form field names', (r) => form(r).map(([k]) => k)),
  strArray('http.request.body.form.values', 'urlencoded form field values', (r) => form(r).map(([, v]) => v)),
  int('http.request.timestamp.sec', 'receive time, Unix seconds', (r) => Math.floor(r.timestampMs / 1000)),
  int('http.request.timestamp.msec', 'receive time, milliseconds 0-999', (r) => ((r.timestampMs % 1000) + 1000) % 1000),
  { name: 'ip.src', type: IP, doc: 'client address', get: (r) => ipValue(r.clientIp) },
  bytes('ip.src.country', 'ISO 3166-1 alpha-2 country of the client (T1 = Tor)', (r) => clientGeo(r).country),
  bytes('ip.src.continent', 'continent code of the client', (r) => clientGeo(r).continent),
  bytes('ip.src.city', 'city of the client', (r) => clientGeo(r).city),
  bytes('ip.src.region_code', 'region code of the client', (r) => clientGeo(r).regionCode),
  int('ip.src.asnum', 'AS number of the client', (r) => clientGeo(r).asn),
  bool('ip.src.is_in_european_union', 'client located in the EU', (r) => clientGeo(r).eu),
  bytes('ip.geoip.country', 'deprecated alias of ip.src.country', (r) => clientGeo(r).country),
  bytes('ip.geoip.continent', 'deprecated alias of ip.src.continent', (r) => clientGeo(r).continent),
  int('ip.geoip.asnum', 'deprecated alias of ip.src.asnum', (r) => clientGeo(r).asn),
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
  bytes('http.request.headers.order', 'lowercased header names joined by "," in order [PX]', (r) => r.headers.map(([k]) => k.toLowerCase()).join(',')),
];

export const httpScheme: Scheme<HttpRequestView> = makeScheme('http', HTTP_FIELDS);
