/**
 * What L7 detection reads of one access-log record, taken from the reader's reused HttpLogView
 * without building a string: hashes of the text slots (host, user agent, path), the client
 * address as a number, and the request's traits (page or static asset, login attempt, sensitive
 * path, referer/cookie present, query present). One RequestTraits is reused for every record.
 *
 * Hashes are over the bytes as logged (escapes not decoded): they only have to be stable within
 * one log; text is materialised later, for the few values a report or a signature names.
 */
import { isAsset, isLoginPath } from '../../core/http-paths.js';
import { parseV4 } from '../../sources/accesslog/numbers.js';
import { type HttpLogView, Slot } from '../../sources/accesslog/view.js';
import { mix32 } from '../core/sketch/hash.js';

export { parseV4 };

/** A slot of the view as (text, start, end), or absent: the one way this module reads text. */
export class SlotText {
  s = '';
  a = 0;
  b = 0;
  /** Point at slot `k` of `v`; false when the slot is not logged (absent or `-`). */
  of(v: HttpLogView, k: Slot): boolean {
    if (!v.has(k)) return false;
    const a = v.start[k] as number;
    if (a < 0) {
      const s = v.str[k];
      if (s === undefined) return false;
      this.s = s;
      this.a = 0;
      this.b = s.length;
    } else {
      // Stored only when it changes: the piece of the log is young and this object old, and each
      // store of it ran the write barrier's slow path (callgrind: 1.5% of the detection pass, for
      // about a dozen of these calls per record, nearly all with the same piece).
      const text = v.text;
      if (this.s !== text) this.s = text;
      this.a = a;
      this.b = v.end[k] as number;
    }
    return !(this.b - this.a === 1 && this.s.charCodeAt(this.a) === 0x2d);
  }
  get length(): number {
    return this.b - this.a;
  }
  hash(): number {
    return hashRange(this.s, this.a, this.b);
  }
  /** The slot's text, detached from the line (for keeping). */
  text(): string {
    return detach(this.s.slice(this.a, this.b));
  }
  /** Case-sensitive prefix test. */
  startsWith(p: string): boolean {
    return this.b - this.a >= p.length && this.s.startsWith(p, this.a);
  }
}

/**
 * A copy of `s` that holds no reference to the string it was cut from. V8 makes a slice a view of
 * its parent: a kept path would keep the reader's 64 KiB piece of the log alive, and a reservoir
 * of rows scattered over a file kept most of the file (2 M lines: 880 MB resident). `' ' + s` is
 * a pair of strings that V8 flattens into one new string (a copy of s's chars) when it is sliced;
 * the slice is a view of that copy, which holds nothing else. Measured: 6x cheaper than UTF-16
 * out through a Buffer and back, which was a tenth of a run's time on sampled rows.
 */
export function detach(s: string): string {
  return s.length === 0 ? '' : ` ${s}`.slice(1);
}

/** FNV-1a over the char codes of s[a, b), mixed; never 0 (0 marks an empty slot in tables). */
export function hashRange(s: string, a: number, b: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = a; i < b; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  const m = mix32(h ^ (b - a));
  return m === 0 ? 1 : m;
}

export function hashString(s: string): number {
  return hashRange(s, 0, s.length);
}

/** Method codes. */
export const enum Method {
  OTHER = 0,
  GET = 1,
  POST = 2,
  HEAD = 3,
}

/**
 * Paths vulnerability scanners probe and a site's own visitors never ask for: secrets and VCS
 * metadata, dumps and backups, admin consoles of other software, known-vulnerable endpoints.
 * Matched as substrings of the lowercased path (a scanner repeats its list under /backup, /old …).
 */
export const SENSITIVE_MARKERS: readonly string[] = [
  '/.env',
  '/.git/',
  '/.git',
  '/.svn/',
  '/.hg/',
  '/.bzr/',
  '/.ds_store',
  '/.aws/',
  '/.ssh/',
  '/.htaccess',
  '/.htpasswd',
  '/.vscode/',
  '/.idea/',
  '/.docker',
  '/wp-admin',
  '/wp-config',
  '/wp-content/debug.log',
  '/wp-includes/',
  '/xmlrpc.php',
  '/phpmyadmin',
  '/pma/',
  '/phpinfo',
  '/info.php',
  '/config.php',
  '/config.json',
  '/config.yml',
  '/config.yaml',
  '/settings.py',
  '/web.config',
  '/docker-compose',
  '.sql',
  '.bak',
  '.swp',
  '.old',
  '/backup',
  '.tar.gz',
  '.tgz',
  '/site.zip',
  '/backup.zip',
  '/www.zip',
  '/server-status',
  '/server-info',
  '/actuator',
  '/swagger',
  '/api-docs',
  '/v2/api-docs',
  '/console',
  '/manager/html',
  '/solr/',
  '/_ignition',
  '/telescope',
  '/debug/',
  '/vendor/phpunit',
  '/eval-stdin.php',
  '/cgi-bin/',
  '/boaform',
  '/hnap1',
  '/owa/',
  '/etc/passwd',
  '../',
  '/shell',
  '/cmd.php',
  '/adminer',
  '/administrator',
  '/admin/',
  '/.well-known/security.txt~',
];

/** The traits of one record, refilled per record. */
export class RequestTraits {
  /** Epoch ms. */
  timeMs = 0;
  hostHash = 0;
  /** IPv4 address as int32 (`a | 0`), or the hash of an IPv6 / other client text; fam 4, 6, or 0 when absent. */
  ipKey = 0;
  fam = 0;
  /** Hash of the user agent (sparse: enough to tell one UA from another within a log). */
  uaHash = 0;
  method: Method = Method.OTHER;
  version = -1;
  status = -1;
  durationMs = -1;
  asset = false;
  login = false;
  sensitive = false;
  hasQuery = false;
  hasReferer = false;
  hasCookie = false;

  private readonly t = new SlotText();

  constructor(private readonly isLogin: ((path: string) => boolean) | null = null) {}

  /** Read `v`; false when the record has no client or no time (nothing to attribute or place). */
  read(v: HttpLogView): boolean {
    const t = this.t;
    const time = v.timeMs;
    if (Number.isNaN(time)) return false;
    this.timeMs = time;
    if (!t.of(v, Slot.CLIENT)) return false;
    // The text parser has read a dotted quad already (v.clientV4); other readers leave it to us.
    const v4 = v.hasV4 ? v.clientV4 : parseV4(t.s, t.a, t.b);
    if (v4 !== -1) {
      this.ipKey = v4;
      this.fam = 4;
    } else {
      this.ipKey = t.hash();
      this.fam = 6;
    }
    this.hostHash = t.of(v, Slot.HOST) ? lowerHash(t.s, t.a, t.b) : 1;
    this.uaHash = t.of(v, Slot.USER_AGENT) ? cheapHash(t.s, t.a, t.b) : 1;
    this.hasReferer = t.of(v, Slot.REFERER) && t.length > 0;
    this.hasCookie = t.of(v, Slot.COOKIE) && t.length > 0;
    if (!this.hasCookie && v.cookies !== null) for (const _ in v.cookies) this.hasCookie = true;
    this.hasQuery = t.of(v, Slot.QUERY) && t.length > 0;
    this.method = t.of(v, Slot.METHOD) ? methodCode(t.s, t.a, t.b) : Method.OTHER;
    this.version = v.version;
    this.status = v.status;
    this.durationMs = v.durationMs;
    if (t.of(v, Slot.PATH)) {
      this.asset = isAsset(t.s, t.a, t.b);
      this.sensitive = !this.asset && isSensitive(t.s, t.a, t.b);
      this.login = this.method === Method.POST && (this.isLogin !== null ? this.isLogin(t.text()) : isLoginPath(t.s, t.a, t.b));
    } else {
      this.asset = false;
      this.sensitive = false;
      this.login = false;
    }
    return true;
  }
}

export function formatV4(k: number): string {
  return `${(k >>> 24) & 255}.${(k >>> 16) & 255}.${(k >>> 8) & 255}.${k & 255}`;
}

export function lowerHash(s: string, a: number, b: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = a; i < b; i++) {
    let c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) c |= 0x20;
    h = Math.imul(h ^ c, 0x01000193);
  }
  const m = mix32(h ^ (b - a));
  return m === 0 ? 1 : m;
}

function methodCode(s: string, a: number, b: number): Method {
  const n = b - a;
  const c = s.charCodeAt(a);
  if (n === 3 && c === 0x47 && s.charCodeAt(a + 1) === 0x45 && s.charCodeAt(a + 2) === 0x54) return Method.GET;
  if (n === 4 && c === 0x50 && s.startsWith('POST', a)) return Method.POST;
  if (n === 4 && c === 0x48 && s.startsWith('HEAD', a)) return Method.HEAD;
  return Method.OTHER;
}

/**
 * A user agent is hashed per record to see an address change it (UA rotation): its length, eight
 * chars spread over it and its last eight tell the UAs of one log apart at a fraction of the cost
 * of reading every char (the measuring columns key user agents by the same hash and compare the
 * text whole, columns.ts).
 */
export function cheapHash(s: string, a: number, b: number): number {
  let h = Math.imul(0x811c9dc5 ^ (b - a), 0x01000193);
  if (b - a <= 24) {
    for (let i = a; i < b; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  } else {
    const step = ((b - 8 - a) >> 3) + 1;
    for (let i = a; i < b - 8; i += step) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    for (let i = b - 8; i < b; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  }
  const m = mix32(h);
  return m === 0 ? 1 : m;
}

/**
 * Markers by their first two chars (`/` or `.`, then the lowercased second char): a path position
 * is tried only against the markers that can start there.
 */
const BY_PAIR: Array<readonly string[] | undefined> = (() => {
  const out: Array<string[] | undefined> = new Array(256).fill(undefined);
  for (const m of SENSITIVE_MARKERS) {
    const k = (m.charCodeAt(0) === 0x2f ? 0 : 128) + (m.charCodeAt(1) & 127);
    (out[k] ??= []).push(m);
  }
  return out;
})();

/** Does s[a, b) hold a marker (lowercased compare, no string built)? */
function isSensitive(s: string, a: number, b: number): boolean {
  if (b - a < 4) return false;
  for (let i = a; i < b - 1; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x2f && c !== 0x2e) continue;
    let d = s.charCodeAt(i + 1);
    if (d >= 65 && d <= 90) d |= 0x20;
    const list = BY_PAIR[(c === 0x2f ? 0 : 128) + (d & 127)];
    if (list === undefined) continue;
    for (let k = 0; k < list.length; k++) {
      const m = list[k] as string;
      if (i + m.length > b) continue;
      let j = 2;
      for (; j < m.length; j++) {
        let e = s.charCodeAt(i + j);
        if (e >= 65 && e <= 90) e |= 0x20;
        if (e !== m.charCodeAt(j)) break;
      }
      if (j === m.length) return true;
    }
  }
  return false;
}

/** The default login test on a path string (for signatures and tests). */
export function defaultIsLogin(path: string): boolean {
  return isLoginPath(path, 0, path.length);
}

export function isSensitivePath(path: string): boolean {
  return isSensitive(path, 0, path.length);
}
