/**
 * AWS access logs as built-in formats: Application Load Balancer (`alb`: space-separated, quoted
 * request and user agent, the request line with an absolute URI) and CloudFront standard logs
 * (`cloudfront`: TAB-separated W3C fields after `#Version`/`#Fields` comment lines, date and time
 * in two columns, user agent and referer percent-encoded). Field order as AWS documents it; the
 * fields AWS appends in later versions are read when present, never required.
 *
 * Each parser cuts the line into fields (offsets in reused arrays, no substring) and fills the
 * HttpLogView slots from them, as the compiled text formats do.
 */

import { isIpText, readDecimal, readUint } from './numbers.js';
import type { LineParser } from './parsers.js';
import { splitUri } from './text-parser.js';
import { daysFromCivil, parseIsoTime } from './time.js';
import { type HttpLogView, Slot, versionCode } from './view.js';

const MAX_FIELDS = 40;

/** Field boundaries of the current line. */
class Fields {
  readonly start = new Int32Array(MAX_FIELDS);
  readonly end = new Int32Array(MAX_FIELDS);
  n = 0;

  /** Split on single spaces, a field starting with `"` running to the next `"` (ALB quotes without escapes). */
  splitQuoted(s: string): void {
    let i = 0;
    const len = s.length;
    this.n = 0;
    while (i < len && this.n < MAX_FIELDS) {
      if (s.charCodeAt(i) === 0x22) {
        const close = s.indexOf('"', i + 1);
        const e = close < 0 ? len : close;
        this.push(i + 1, e);
        i = e + 1;
      } else {
        let e = s.indexOf(' ', i);
        if (e < 0) e = len;
        this.push(i, e);
        i = e;
      }
      if (i < len && s.charCodeAt(i) === 0x20) i++;
    }
  }

  splitTabs(s: string): void {
    let i = 0;
    this.n = 0;
    while (this.n < MAX_FIELDS) {
      let e = s.indexOf('\t', i);
      if (e < 0) e = s.length;
      this.push(i, e);
      if (e >= s.length) break;
      i = e + 1;
    }
  }

  private push(a: number, b: number): void {
    this.start[this.n] = a;
    this.end[this.n] = b;
    this.n++;
  }

  /** Field k is absent or `-`. */
  empty(s: string, k: number): boolean {
    if (k >= this.n) return true;
    const a = this.start[k] as number;
    const b = this.end[k] as number;
    return b <= a || (b - a === 1 && s.charCodeAt(a) === 0x2d);
  }
}

/** Set a slot to field k unless it is `-` or absent. */
function slot(v: HttpLogView, f: Fields, s: string, k: number, sl: Slot): void {
  if (!f.empty(s, k)) v.setRange(sl, f.start[k] as number, f.end[k] as number);
}

// ---- ALB ------------------------------------------------------------------------------------

const ALB_TYPES = new Set(['http', 'https', 'h2', 'grpcs', 'ws', 'wss']);
/** Field positions (AWS: "Access log entries", Application Load Balancers). */
const enum Alb {
  TYPE = 0,
  TIME,
  ELB,
  CLIENT,
  TARGET,
  REQUEST_PROCESSING,
  TARGET_PROCESSING,
  RESPONSE_PROCESSING,
  ELB_STATUS,
  TARGET_STATUS,
  RECEIVED_BYTES,
  SENT_BYTES,
  REQUEST,
  USER_AGENT,
  SSL_CIPHER,
  SSL_PROTOCOL,
  TARGET_GROUP,
  TRACE_ID,
  DOMAIN_NAME,
}

/** `GET https://host:443/p?q HTTP/1.1` at s[a..b): method, host (no port), path, query, version. */
function albRequest(s: string, a: number, b: number, v: HttpLogView): void {
  const sp = s.indexOf(' ', a);
  const last = s.lastIndexOf(' ', b - 1);
  if (sp < 0 || sp >= b || last <= sp) {
    v.setRange(Slot.PATH, a, b);
    v.requestOk = false;
    return;
  }
  v.setRange(Slot.METHOD, a, sp);
  v.version = versionCode(s, last + 1, b);
  let u = sp + 1;
  const uEnd = last;
  const scheme = s.indexOf('://', u);
  if (scheme > 0 && scheme < uEnd) {
    const hostStart = scheme + 3;
    let pathStart = s.indexOf('/', hostStart);
    if (pathStart < 0 || pathStart > uEnd) pathStart = uEnd;
    let hostEnd = s.lastIndexOf(':', pathStart - 1);
    // A port after the host (not a colon of an IPv6 literal's brackets).
    if (hostEnd < hostStart || s.charCodeAt(pathStart - 1) === 0x5d) hostEnd = pathStart;
    if (hostEnd > hostStart) v.setRange(Slot.HOST, hostStart, hostEnd);
    u = pathStart;
  }
  if (u < uEnd) splitUri(s, u, uEnd, v);
  else v.setStr(Slot.PATH, '/');
  v.requestOk = true;
}

function parseAlb(f: Fields, line: string, v: HttpLogView): boolean {
  v.reset(line);
  f.splitQuoted(line);
  if (f.n <= Alb.SSL_PROTOCOL) return false;
  if (!ALB_TYPES.has(line.slice(f.start[Alb.TYPE], f.end[Alb.TYPE]))) return false;
  const t = parseIsoTime(line, f.start[Alb.TIME] as number, f.end[Alb.TIME] as number);
  if (Number.isNaN(t)) return false;
  v.timeMs = t;
  // client:port (an IPv6 client is written without brackets: the port is after the last colon).
  const ca = f.start[Alb.CLIENT] as number;
  const cb = f.end[Alb.CLIENT] as number;
  const colon = line.lastIndexOf(':', cb - 1);
  if (colon <= ca || !isIpText(line, ca, colon)) return false;
  v.setRange(Slot.CLIENT, ca, colon);
  v.clientPort = readUint(line, colon + 1, cb);
  const status = readUint(line, f.start[Alb.ELB_STATUS] as number, f.end[Alb.ELB_STATUS] as number);
  if (Number.isNaN(status)) return false;
  v.status = status;
  const recv = readUint(line, f.start[Alb.RECEIVED_BYTES] as number, f.end[Alb.RECEIVED_BYTES] as number);
  const sent = readUint(line, f.start[Alb.SENT_BYTES] as number, f.end[Alb.SENT_BYTES] as number);
  v.bodySize = Number.isNaN(recv) ? -1 : recv;
  v.responseSize = Number.isNaN(sent) ? -1 : sent;
  // Durations in seconds, -1 when the load balancer could not send or receive: the total only when all three are known.
  const t1 = decimal(line, f, Alb.REQUEST_PROCESSING);
  const t2 = decimal(line, f, Alb.TARGET_PROCESSING);
  const t3 = decimal(line, f, Alb.RESPONSE_PROCESSING);
  if (t1 >= 0 && t2 >= 0 && t3 >= 0) v.durationMs = t1 + t2 + t3;
  if (t2 >= 0) v.originMs = t2;
  albRequest(line, f.start[Alb.REQUEST] as number, f.end[Alb.REQUEST] as number, v);
  slot(v, f, line, Alb.USER_AGENT, Slot.USER_AGENT);
  slot(v, f, line, Alb.SSL_CIPHER, Slot.TLS_CIPHER);
  slot(v, f, line, Alb.SSL_PROTOCOL, Slot.TLS_PROTOCOL);
  slot(v, f, line, Alb.DOMAIN_NAME, Slot.SNI);
  return true;
}

/** A duration in seconds at field k, as milliseconds; -1 when `-1`, `-` or absent. */
function decimal(s: string, f: Fields, k: number): number {
  if (f.empty(s, k) || s.charCodeAt(f.start[k] as number) === 0x2d) return -1;
  return readDecimal(s, f.start[k] as number, f.end[k] as number, 1000);
}

// ---- CloudFront -------------------------------------------------------------------------------

/** Field positions (AWS: CloudFront standard logging, "Log file fields"). */
const enum Cf {
  DATE = 0,
  TIME,
  EDGE_LOCATION,
  SC_BYTES,
  C_IP,
  METHOD,
  CS_HOST,
  URI_STEM,
  STATUS,
  REFERER,
  USER_AGENT,
  URI_QUERY,
  COOKIE,
  EDGE_RESULT,
  REQUEST_ID,
  HOST_HEADER,
  PROTOCOL,
  CS_BYTES,
  TIME_TAKEN,
  FORWARDED_FOR,
  SSL_PROTOCOL,
  SSL_CIPHER,
  RESPONSE_RESULT,
  PROTOCOL_VERSION,
  FLE_STATUS,
  FLE_FIELDS,
  C_PORT,
}

function two(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** `2014-05-23` and `01:13:11` (UTC) in two fields, to epoch ms; NaN when either is not that. */
function cfTime(s: string, d: number, t: number): number {
  if (s.charCodeAt(d + 4) !== 0x2d || s.charCodeAt(d + 7) !== 0x2d || s.charCodeAt(t + 2) !== 0x3a || s.charCodeAt(t + 5) !== 0x3a) return Number.NaN;
  const y = two(s, d) * 100 + two(s, d + 2);
  const m = two(s, d + 5);
  const day = two(s, d + 8);
  const hh = two(s, t);
  const mm = two(s, t + 3);
  const ss = two(s, t + 6);
  if (y < 0 || m < 1 || m > 12 || day < 1 || day > 31 || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60) return Number.NaN;
  return ((daysFromCivil(y, m, day) * 24 + hh) * 60 + mm) * 60000 + ss * 1000;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/** Percent-decoding once (CloudFront encodes spaces and more in the user agent and referer), as bytes. */
function percentDecoded(s: string, a: number, b: number): string {
  let out = '';
  let from = a;
  for (let i = a; i + 2 < b; i++) {
    if (s.charCodeAt(i) !== 0x25) continue;
    const h = hexDigit(s.charCodeAt(i + 1));
    const l = hexDigit(s.charCodeAt(i + 2));
    if (h < 0 || l < 0) continue;
    out += s.slice(from, i) + String.fromCharCode(h * 16 + l);
    from = i + 3;
    i += 2;
  }
  return out + s.slice(from, b);
}

function encodedSlot(v: HttpLogView, f: Fields, s: string, k: number, sl: Slot): void {
  if (f.empty(s, k)) return;
  const a = f.start[k] as number;
  const b = f.end[k] as number;
  const p = s.indexOf('%', a);
  if (p < 0 || p >= b) v.setRange(sl, a, b);
  else v.setStr(sl, percentDecoded(s, a, b));
}

function parseCloudFront(f: Fields, line: string, v: HttpLogView): boolean {
  v.reset(line);
  f.splitTabs(line);
  if (f.n <= Cf.TIME_TAKEN) return false;
  const t = cfTime(line, f.start[Cf.DATE] as number, f.start[Cf.TIME] as number);
  if (Number.isNaN(t) || (f.end[Cf.DATE] as number) - (f.start[Cf.DATE] as number) !== 10 || (f.end[Cf.TIME] as number) - (f.start[Cf.TIME] as number) !== 8) return false;
  v.timeMs = t;
  const ca = f.start[Cf.C_IP] as number;
  const cb = f.end[Cf.C_IP] as number;
  if (!isIpText(line, ca, cb)) return false;
  v.setRange(Slot.CLIENT, ca, cb);
  const status = readUint(line, f.start[Cf.STATUS] as number, f.end[Cf.STATUS] as number);
  if (Number.isNaN(status)) return false;
  v.status = status;
  if (f.empty(line, Cf.METHOD) || f.empty(line, Cf.URI_STEM)) return false;
  slot(v, f, line, Cf.METHOD, Slot.METHOD);
  v.setRange(Slot.PATH, f.start[Cf.URI_STEM] as number, f.end[Cf.URI_STEM] as number);
  slot(v, f, line, Cf.URI_QUERY, Slot.QUERY);
  v.requestOk = true;
  // The Host the viewer sent; the distribution's own name when that column is missing.
  slot(v, f, line, f.empty(line, Cf.HOST_HEADER) ? Cf.CS_HOST : Cf.HOST_HEADER, Slot.HOST);
  encodedSlot(v, f, line, Cf.REFERER, Slot.REFERER);
  encodedSlot(v, f, line, Cf.USER_AGENT, Slot.USER_AGENT);
  encodedSlot(v, f, line, Cf.COOKIE, Slot.COOKIE);
  const sc = readUint(line, f.start[Cf.SC_BYTES] as number, f.end[Cf.SC_BYTES] as number);
  const cs = readUint(line, f.start[Cf.CS_BYTES] as number, f.end[Cf.CS_BYTES] as number);
  v.responseSize = Number.isNaN(sc) ? -1 : sc;
  v.bodySize = Number.isNaN(cs) ? -1 : cs;
  const taken = decimal(line, f, Cf.TIME_TAKEN);
  if (taken >= 0) v.durationMs = taken;
  slot(v, f, line, Cf.SSL_PROTOCOL, Slot.TLS_PROTOCOL);
  slot(v, f, line, Cf.SSL_CIPHER, Slot.TLS_CIPHER);
  if (!f.empty(line, Cf.PROTOCOL_VERSION)) v.version = versionCode(line, f.start[Cf.PROTOCOL_VERSION] as number, f.end[Cf.PROTOCOL_VERSION] as number);
  if (!f.empty(line, Cf.C_PORT)) {
    const port = readUint(line, f.start[Cf.C_PORT] as number, f.end[Cf.C_PORT] as number);
    if (!Number.isNaN(port)) v.clientPort = port;
  }
  return true;
}

/** The AWS formats by name: each call makes a parser with its own field arrays. */
export const AWS_FORMATS: Readonly<Record<string, () => LineParser>> = {
  alb: () => {
    const f = new Fields();
    return { name: 'alb', kind: 'text', weight: Alb.DOMAIN_NAME + 1, parse: (line, v) => parseAlb(f, line, v) };
  },
  cloudfront: () => {
    const f = new Fields();
    return { name: 'cloudfront', kind: 'text', weight: Cf.C_PORT + 1, parse: (line, v) => parseCloudFront(f, line, v) };
  },
};
