/**
 * HttpLogView: the one reused record every access-log reader fills, as PacketView is for packets.
 * A text line leaves offsets into the line (no string per field); a JSON line leaves the strings
 * JSON.parse made anyway. Numbers are numbers; -1 or NaN means "not logged". toHttpRequest()
 * makes the HttpRequest record (src/model/http.ts) only when someone asks for it.
 *
 * Text is latin1 (one char per byte, the HTTP scheme's byte strings); materialising decodes it
 * as UTF-8, so bad UTF-8 becomes U+FFFD there and nowhere earlier.
 */
import type { HttpRequest } from '../../model/http.js';
import { decodeEscapes, hasEscape } from './escape.js';

/** Text slots of a record. */
export const enum Slot {
  CLIENT = 0,
  VIA,
  USER,
  METHOD,
  PATH,
  QUERY,
  HOST,
  REFERER,
  USER_AGENT,
  COOKIE,
  JA3,
  JA4,
  SNI,
  ALPN,
  COUNTRY,
  TLS_PROTOCOL,
  TLS_CIPHER,
  COUNT,
}

/** Longest field kept; longer ones are cut here and counted (HttpLogView.truncated, ReadInfo). */
export const MAX_FIELD = 16 * 1024;
/** At most this many extra headers or key=value fields per record. */
export const MAX_EXTRA = 64;

export interface LogHeader {
  name: string;
  value?: string;
}

/** start[] value: the slot's text is in str[], not in the line. */
const IN_STR = -2;

export class HttpLogView {
  /**
   * The text the offsets index: the current line, or the reader's piece of the log that holds it
   * (text[lineStart, lineEnd) is the line). Offsets are into `text`.
   */
  text = '';
  lineStart = 0;
  lineEnd = 0;
  private lineCache: string | null = '';
  /** The current line (cut out of the reader's piece when asked). */
  get line(): string {
    if (this.lineCache === null) this.lineCache = this.text.slice(this.lineStart, this.lineEnd);
    return this.lineCache;
  }
  /** 1-based line number in its file, and the file's index among the inputs. */
  lineNo = 0;
  fileIndex = 0;
  /** Offsets are of escaped text (nginx/Apache quoted fields): decode on read. */
  escaped = false;
  /** Text is latin1 bytes (text logs), decoded as UTF-8 when materialised; JSON strings are Unicode already. */
  latin1 = true;
  readonly start = new Int32Array(Slot.COUNT);
  readonly end = new Int32Array(Slot.COUNT);
  /**
   * A slot is set in this record when its stamp is the record's generation: reset() moves the
   * generation on instead of clearing every slot (measured: the clearing was a tenth of a line's cost).
   */
  private readonly stamp = new Int32Array(Slot.COUNT);
  private gen = 1;
  readonly str: Array<string | undefined> = new Array(Slot.COUNT).fill(undefined);

  /**
   * Doubles live in a Float64Array behind accessors: a double stored in an object field is a
   * heap number (V8 with pointer compression does not unbox fields), so a plain `timeMs` field
   * would allocate on every line. nums[0] is timeMs: parsers write it there directly.
   */
  readonly nums = new Float64Array(5);
  /** Epoch milliseconds; NaN when the line had no time. */
  get timeMs(): number {
    return this.nums[0];
  }
  set timeMs(x: number) {
    this.nums[0] = x;
  }
  /** Milliseconds; -1 when not logged. */
  get durationMs(): number {
    return this.nums[3];
  }
  set durationMs(x: number) {
    this.nums[3] = x;
  }
  get originMs(): number {
    return this.nums[4];
  }
  set originMs(x: number) {
    this.nums[4] = x;
  }
  /** 10, 11, 20, 30 for HTTP/1.0 .. HTTP/3; 0 when the request line had no version; -1 unknown. */
  version = -1;
  /** METHOD URI [VERSION] understood; false keeps the raw request line in PATH (GoAccess does too). */
  requestOk = false;
  status = -1;
  /**
   * Response bytes and request bytes (body, or the whole request where that is what the log has);
   * -1 when not logged. Integers: plain fields (small integers are stored unboxed).
   */
  responseSize = -1;
  bodySize = -1;
  clientPort = -1;
  serverPort = -1;
  asn = -1;
  /**
   * The client as an IPv4 number, when the parser read it as a dotted quad (it checks the client
   * field anyway): detection then does not read it again. Any other write of the client slot clears it.
   */
  hasV4 = false;
  clientV4 = 0;
  /** Fields cut at MAX_FIELD in this record. */
  truncated = 0;

  /** Headers other than the slots' (text: name + offsets; JSON: name + value). */
  headerCount = 0;
  readonly headerNames: string[] = [];
  readonly headerStart = new Int32Array(MAX_EXTRA);
  readonly headerEnd = new Int32Array(MAX_EXTRA);
  readonly headerValues: Array<string | undefined> = [];
  /** JSON logs that give header order (Caddy, Traefik): the full ordered list, slots included. */
  orderedHeaders: LogHeader[] | null = null;
  cookies: Record<string, string> | null = null;
  /** The edge's challenge state (Palisade edge log only). */
  challenge: HttpRequest['challenge'] | null = null;
  /** What the edge did with the request (Palisade edge log only). */
  edge: HttpRequest['edge'] | null = null;

  reset(line: string): void {
    this.resetRange(line, 0, line.length);
    this.lineCache = line;
  }

  /** Reset for the line text[a, b) (offsets are then into text). */
  resetRange(text: string, a: number, b: number): void {
    // Stored only when it changes (a new piece of the log): the view is old and the piece young,
    // and a store of it runs the write barrier's slow path, once per line otherwise.
    if (this.text !== text) this.text = text;
    this.lineStart = a;
    this.lineEnd = b;
    this.lineCache = null;
    this.escaped = false;
    this.latin1 = true;
    this.gen = (this.gen + 1) | 0;
    if (this.gen === 0) {
      this.stamp.fill(0);
      this.gen = 1;
    }
    const nums = this.nums;
    nums[0] = Number.NaN;
    nums[3] = -1;
    nums[4] = -1;
    this.version = -1;
    this.requestOk = false;
    this.status = -1;
    this.responseSize = -1;
    this.bodySize = -1;
    this.clientPort = -1;
    this.serverPort = -1;
    this.asn = -1;
    this.hasV4 = false;
    this.truncated = 0;
    this.headerCount = 0;
    this.orderedHeaders = null;
    this.cookies = null;
    this.challenge = null;
    this.edge = null;
  }

  /** Point a slot at line[a..b), cut at MAX_FIELD. */
  setRange(slot: Slot, a: number, b: number): void {
    if (slot === Slot.CLIENT) this.hasV4 = false;
    if (b - a > MAX_FIELD) {
      b = a + MAX_FIELD;
      this.truncated++;
    }
    this.start[slot] = a;
    this.end[slot] = b;
    this.stamp[slot] = this.gen;
  }

  /** Forget a slot set earlier in this record. */
  clear(slot: Slot): void {
    this.stamp[slot] = 0;
  }

  setStr(slot: Slot, s: string | undefined): void {
    if (s === undefined) return;
    if (slot === Slot.CLIENT) this.hasV4 = false;
    if (s.length > MAX_FIELD) {
      s = s.slice(0, MAX_FIELD);
      this.truncated++;
    }
    this.start[slot] = IN_STR;
    this.str[slot] = s;
    this.stamp[slot] = this.gen;
  }

  has(slot: Slot): boolean {
    return this.stamp[slot] === this.gen;
  }

  /** A slot's text (latin1, escapes decoded), or undefined when not logged. `-` is not logged. */
  get(slot: Slot): string | undefined {
    if (this.stamp[slot] !== this.gen) return undefined;
    const a = this.start[slot];
    if (a === IN_STR) return this.str[slot];
    const b = this.end[slot];
    const s = this.text;
    if (this.escaped && hasEscape(s, a, b)) return decodeEscapes(s, a, b);
    return s.slice(a, b);
  }

  /** A slot's text as written in the line (escapes kept), or undefined. */
  raw(slot: Slot): string | undefined {
    if (this.stamp[slot] !== this.gen) return undefined;
    const a = this.start[slot];
    return a === IN_STR ? this.str[slot] : this.text.slice(a, this.end[slot]);
  }

  addHeaderRange(name: string, a: number, b: number): void {
    const i = this.headerCount;
    if (i >= MAX_EXTRA) return;
    if (b - a > MAX_FIELD) {
      b = a + MAX_FIELD;
      this.truncated++;
    }
    this.headerNames[i] = name;
    this.headerStart[i] = a;
    this.headerEnd[i] = b;
    this.headerValues[i] = undefined;
    this.headerCount = i + 1;
  }

  addHeader(name: string, value: string | undefined): void {
    const i = this.headerCount;
    if (i >= MAX_EXTRA) return;
    if (value !== undefined && value.length > MAX_FIELD) {
      value = value.slice(0, MAX_FIELD);
      this.truncated++;
    }
    this.headerNames[i] = name;
    this.headerStart[i] = IN_STR;
    this.headerValues[i] = value;
    this.headerCount = i + 1;
  }

  headerValue(i: number): string | undefined {
    const a = this.headerStart[i];
    if (a === IN_STR) return this.headerValues[i];
    const b = this.headerEnd[i];
    if (this.escaped && hasEscape(this.text, a, b)) return decodeEscapes(this.text, a, b);
    return this.text.slice(a, b);
  }

  /** The HttpRequest record (model/http.ts), text decoded as UTF-8. */
  toHttpRequest(): HttpRequest {
    const t = (slot: Slot): string | undefined => {
      const v = this.get(slot);
      return v === undefined ? undefined : this.latin1 ? utf8(v) : v;
    };
    const u = (v: string): string => (this.latin1 ? utf8(v) : v);
    const client: HttpRequest['client'] = { ip: t(Slot.CLIENT) ?? '' };
    if (this.clientPort >= 0 && this.clientPort <= 65535) client.port = this.clientPort;
    const via = t(Slot.VIA);
    if (via !== undefined) client.via = via;
    const headers: HttpRequest['headers'] = [];
    if (this.orderedHeaders !== null) {
      for (const h of this.orderedHeaders) headers.push(h.value === undefined ? { name: h.name } : { name: h.name, value: u(h.value) });
    } else {
      // A text log names only the headers its format logs; their order is the format's, not the client's.
      const host = t(Slot.HOST);
      if (host !== undefined && host !== '') headers.push({ name: 'Host', value: host });
      const ua = t(Slot.USER_AGENT);
      if (ua !== undefined) headers.push({ name: 'User-Agent', value: ua });
      const ref = t(Slot.REFERER);
      if (ref !== undefined) headers.push({ name: 'Referer', value: ref });
      const ck = t(Slot.COOKIE);
      if (ck !== undefined) headers.push({ name: 'Cookie', value: ck });
      for (let i = 0; i < this.headerCount; i++) {
        const v = this.headerValue(i);
        headers.push(v === undefined ? { name: this.headerNames[i] } : { name: this.headerNames[i], value: u(v) });
      }
    }
    const r: HttpRequest = {
      time: Number.isNaN(this.timeMs) ? new Date(0).toISOString() : new Date(this.timeMs).toISOString(),
      client,
      // The schema has no "no method": a request line that is not METHOD URI VERSION keeps
      // itself in path and says `-` here (GoAccess shows `---`).
      method: this.requestOk ? (t(Slot.METHOD) ?? '-') : '-',
      host: t(Slot.HOST) ?? '',
      path: t(Slot.PATH) ?? '',
      query: t(Slot.QUERY) ?? '',
      version: versionText(this.version),
      headers,
      body_size: Math.max(this.bodySize, 0),
    };
    const cookieHeader = this.cookies ?? (this.has(Slot.COOKIE) ? parseCookies(t(Slot.COOKIE) ?? '') : null);
    if (cookieHeader !== null) r.cookies = cookieHeader;
    const ua = t(Slot.USER_AGENT);
    if (ua !== undefined) r.user_agent = ua;
    const ref = t(Slot.REFERER);
    if (ref !== undefined) r.referer = ref;
    if (this.status >= 100 && this.status <= 999) r.status = this.status;
    if (this.challenge !== null) r.challenge = this.challenge;
    if (this.edge !== null) r.edge = this.edge;
    if (this.responseSize >= 0) r.response_size = this.responseSize;
    if (this.durationMs >= 0) r.duration_ms = this.durationMs;
    if (this.originMs >= 0) r.origin_ms = this.originMs;
    const tls: NonNullable<HttpRequest['tls']> = {};
    const ja3 = t(Slot.JA3);
    if (ja3) tls.ja3 = ja3;
    const ja4 = t(Slot.JA4);
    if (ja4) tls.ja4 = ja4;
    const sni = t(Slot.SNI);
    if (sni) tls.sni = sni;
    const alpn = t(Slot.ALPN);
    if (alpn) tls.alpn = alpn;
    if (Object.keys(tls).length > 0) r.tls = tls;
    const enr: NonNullable<HttpRequest['enrichment']> = {};
    if (this.asn >= 0) enr.asn = this.asn;
    const cc = t(Slot.COUNTRY);
    if (cc) enr.country = cc.toUpperCase();
    if (Object.keys(enr).length > 0) r.enrichment = enr;
    return r;
  }
}

export function versionText(v: number): HttpRequest['version'] {
  // The schema has no value for HTTP/0.9 or an unknown version: those read as HTTP/1.0.
  return v === 11 ? 'HTTP/1.1' : v === 20 ? 'HTTP/2' : v === 30 ? 'HTTP/3' : 'HTTP/1.0';
}

/** `HTTP/1.1`, `HTTP/2.0`, `HTTP/2`, `h2`, `HTTP/3.0` ... to 10/11/20/30, 0 when unknown. */
/** s[a..a+5) is `HTTP/` (char compares: startsWith at an offset is slow on a sliced line). */
export function isHttpSlash(s: string, a: number): boolean {
  return s.charCodeAt(a) === 0x48 && s.charCodeAt(a + 1) === 0x54 && s.charCodeAt(a + 2) === 0x54 && s.charCodeAt(a + 3) === 0x50 && s.charCodeAt(a + 4) === 0x2f;
}

export function versionCode(s: string, a: number, b: number): number {
  const n = b - a;
  if (n >= 6 && isHttpSlash(s, a)) {
    const maj = s.charCodeAt(a + 5) - 48;
    const min = n >= 8 && s.charCodeAt(a + 6) === 0x2e ? s.charCodeAt(a + 7) - 48 : 0;
    if (maj === 1) return min === 1 ? 11 : min === 0 ? 10 : 0;
    if (maj === 2) return 20;
    if (maj === 3) return 30;
    return 0;
  }
  if (n === 2 && s.charCodeAt(a) === 0x68) {
    const d = s.charCodeAt(a + 1);
    return d === 0x32 ? 20 : d === 0x33 ? 30 : 0;
  }
  return 0;
}

const HIGH = /[\x80-\xff]/;

/** latin1 text (one char per byte) as UTF-8; invalid sequences become U+FFFD. */
export function utf8(s: string): string {
  if (!HIGH.test(s)) return s;
  return Buffer.from(s, 'latin1').toString('utf8');
}

/** `a=1; b=2` to { a: '1', b: '2' } (the first value of a name wins, as most servers read it). */
export function parseCookies(h: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of h.split(';')) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim();
    if (name === '' || name === '-' || Object.hasOwn(out, name)) continue;
    out[name] = eq < 0 ? '' : part.slice(eq + 1).trim();
  }
  return out;
}
