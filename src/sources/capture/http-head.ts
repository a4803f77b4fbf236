/**
 * One HTTP/1.x request head (request line and header lines, RFC 9112 sections 3 and 5) taken
 * from a capture, parsed into the offsets an access-log record needs. The head is held as one
 * latin1 string (one char per byte, as the access-log readers keep their lines), so the record
 * points into it instead of cutting a string per field; only the header list, which the HTTP
 * scheme reads in order, is materialised.
 *
 * A head may be partial (a connection closed, or the capture ended, before its empty line): then
 * only its complete lines are read, which is what a server that timed the request out has seen.
 */
import type { LogHeader } from '../accesslog/view.js';

/** Field ranges into `text` (start, end); -1 when the request did not carry the field. */
export const enum F {
  METHOD = 0,
  PATH = 2,
  QUERY = 4,
  HOST = 6,
  USER_AGENT = 8,
  REFERER = 10,
  COOKIE = 12,
  COUNT = 14,
}

/** A request as read from the wire, kept until its record is emitted (after the response's status, if any). */
export class RequestHead {
  /** Field ranges: [F.X] start, [F.X + 1] end. */
  readonly at = new Int32Array(F.COUNT).fill(-1);
  /** 10 or 11 (HTTP/1.0, HTTP/1.1); 0 for a request line without a version. */
  version = 0;
  /** METHOD SP target [SP version] understood. */
  requestOk = false;
  headers: LogHeader[] = [];
  /** Content-Length of the request, -1 when absent. */
  contentLength = -1;
  chunked = false;
  /** The head never completed (status 408 unless the server answered otherwise). */
  partial = false;
  /** Cut at the per-connection limit (counted by the extractor). */
  cut = false;
  /** Epoch ms of the record: the last header byte (or the close), and the time since the request's first byte. */
  timeMs = 0;
  durationMs = 0;
  status = -1;
  client = '';
  clientPort = 0;
  serverPort = 0;
  /** The server's address (IPv4 as uint32, else -1), for the attack's victim. */
  server4 = -1;

  constructor(readonly text: string) {}
}

const SP = 0x20;
const HT = 0x09;
const CR = 0x0d;
const LF = 0x0a;

/** End of the line starting at p (index of its LF, or text.length when the line is not complete). */
function lineEnd(s: string, p: number): number {
  const i = s.indexOf('\n', p);
  return i < 0 ? s.length : i;
}

/** `s[a, b)` equals the lowercase `name` in any case. */
function nameIs(s: string, a: number, b: number, name: string): boolean {
  if (b - a !== name.length) return false;
  for (let i = 0; i < name.length; i++) {
    let c = s.charCodeAt(a + i);
    if (c >= 65 && c <= 90) c |= 0x20;
    if (c !== name.charCodeAt(i)) return false;
  }
  return true;
}

function setField(h: RequestHead, f: F, a: number, b: number): void {
  h.at[f] = a;
  h.at[f + 1] = b;
}

/**
 * Parse `text`, a head from its first byte (the caller saw a method there). A complete head ends
 * with its empty line; a partial one is read up to its last complete line.
 */
export function parseHead(text: string, partial: boolean): RequestHead {
  const h = new RequestHead(text);
  h.partial = partial;
  const s = text;
  const n = s.length;
  // Request line: METHOD SP request-target SP HTTP-version.
  let e = lineEnd(s, 0);
  const complete = e < n;
  let lineStop = e > 0 && s.charCodeAt(e - 1) === CR ? e - 1 : e;
  const sp1 = s.indexOf(' ', 0);
  if (sp1 <= 0 || sp1 >= lineStop) {
    // Only the method has arrived (or not even that): what there is stays the method.
    setField(h, F.METHOD, 0, sp1 > 0 ? sp1 : lineStop);
    return h;
  }
  setField(h, F.METHOD, 0, sp1);
  const u = sp1 + 1;
  let sp2 = s.indexOf(' ', u);
  if (sp2 < 0 || sp2 > lineStop) sp2 = lineStop;
  if (complete || sp2 < lineStop) {
    let p0 = u;
    // Absolute form (a proxy's request): the path starts after the authority.
    if (s.startsWith('http://', u) || s.startsWith('https://', u)) {
      const auth = s.indexOf('/', s.indexOf('//', u) + 2);
      if (auth >= 0 && auth < sp2) {
        setField(h, F.HOST, s.indexOf('//', u) + 2, auth);
        p0 = auth;
      }
    }
    const q = s.indexOf('?', p0);
    if (q >= 0 && q < sp2) {
      setField(h, F.PATH, p0, q);
      setField(h, F.QUERY, q + 1, sp2);
    } else setField(h, F.PATH, p0, sp2);
    if (sp2 < lineStop) {
      const vs = sp2 + 1;
      if (lineStop - vs === 8 && s.startsWith('HTTP/1.', vs)) {
        const minor = s.charCodeAt(vs + 7) - 48;
        h.version = minor === 1 ? 11 : minor === 0 ? 10 : 0;
      }
      h.requestOk = h.version !== 0;
    } else h.requestOk = complete;
  }
  if (!complete) return h;
  // Header lines up to the empty line; a partial head's last, unfinished line is left out.
  let p = e + 1;
  while (p < n) {
    e = lineEnd(s, p);
    if (e >= n) break; // a line without its LF has not finished arriving
    lineStop = e > p && s.charCodeAt(e - 1) === CR ? e - 1 : e;
    if (lineStop === p) break; // the empty line
    const c0 = s.charCodeAt(p);
    if (c0 === SP || c0 === HT) {
      // Obsolete line folding (RFC 9112 5.2): a continuation of the previous value, not a header.
      p = e + 1;
      continue;
    }
    const colon = s.indexOf(':', p);
    if (colon > p && colon < lineStop) {
      let a = colon + 1;
      while (a < lineStop && (s.charCodeAt(a) === SP || s.charCodeAt(a) === HT)) a++;
      let b = lineStop;
      while (b > a && (s.charCodeAt(b - 1) === SP || s.charCodeAt(b - 1) === HT)) b--;
      const name = s.slice(p, colon);
      h.headers.push({ name, value: s.slice(a, b) });
      slotHeader(h, s, p, colon, a, b);
    }
    p = e + 1;
  }
  return h;
}

/** The headers a record keeps in slots, and the ones that frame the body. */
function slotHeader(h: RequestHead, s: string, n0: number, n1: number, a: number, b: number): void {
  const at = h.at;
  switch (n1 - n0) {
    case 4:
      if (at[F.HOST] === -1 && nameIs(s, n0, n1, 'host')) setField(h, F.HOST, a, b);
      return;
    case 6:
      if (at[F.COOKIE] === -1 && nameIs(s, n0, n1, 'cookie')) setField(h, F.COOKIE, a, b);
      return;
    case 7:
      if (at[F.REFERER] === -1 && nameIs(s, n0, n1, 'referer')) setField(h, F.REFERER, a, b);
      return;
    case 10:
      if (at[F.USER_AGENT] === -1 && nameIs(s, n0, n1, 'user-agent')) setField(h, F.USER_AGENT, a, b);
      return;
    case 14:
      if (nameIs(s, n0, n1, 'content-length')) {
        const v = Number(s.slice(a, b));
        if (Number.isInteger(v) && v >= 0) h.contentLength = v;
      }
      return;
    case 17:
      if (nameIs(s, n0, n1, 'transfer-encoding') && s.slice(a, b).toLowerCase().includes('chunked')) h.chunked = true;
      return;
  }
}

/** Where the head in b[from, to) ends (just past its empty line), or -1; `from` may point into the middle of a head. */
export function headEnd(b: Uint8Array, from: number, to: number): number {
  for (let i = from; i < to; i++) {
    if (b[i] !== LF) continue;
    const c = b[i + 1];
    if (c === LF && i + 1 < to) return i + 2;
    if (c === CR && i + 2 < to && b[i + 2] === LF) return i + 3;
  }
  return -1;
}

/**
 * A request line without a version (HTTP/0.9, `GET /path`) is a whole request: where it ends
 * when b[start, to) holds such a line, else -1. (Only looked for within a head's first segment.)
 */
export function simpleRequestEnd(b: Uint8Array, start: number, to: number): number {
  let spaces = 0;
  for (let i = start; i < to; i++) {
    const c = b[i];
    if (c === SP && ++spaces === 2) return -1;
    if (c === LF) return i + 1;
  }
  return -1;
}
