/**
 * Reading an origin's HTTP/1.1 response (RFC 9112): the head, checked strictly, and the framing
 * of the body that follows it (§6.3). A reverse proxy must never pass on a response whose framing
 * is ambiguous (Content-Length with Transfer-Encoding, differing lengths, obs-fold): such a head is
 * an error here, answered 502 by the exchange, and the connection is not reused.
 */
import { nameIs } from './framing.js';

/** Longest response head accepted (node's and undici's default). */
export const MAX_HEAD_BYTES = 16 * 1024;

/** How the body after a head is delimited. */
export const enum Framing {
  NONE = 0,
  LENGTH = 1,
  CHUNKED = 2,
  /** HTTP/1.0 style: the body ends when the origin closes the connection. */
  CLOSE = 3,
}

export interface ResponseHead {
  status: number;
  /** Header lines as [name, value, name, value, ...], values with their whitespace trimmed. */
  headers: string[];
  framing: Framing;
  /** Framing.LENGTH: the body's length. */
  length: number;
  /** The connection may carry another request after this response. */
  keepAlive: boolean;
  /** The origin's Keep-Alive `timeout=` hint in ms, or -1. */
  keepAliveMs: number;
}

export class BadResponse extends Error {
  readonly code = 'ORIGIN_BAD_RESPONSE';
}

/** Token characters (RFC 9110 §5.6.2), by char code. */
export const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TCHAR[c] = 1;
for (let c = 65; c <= 90; c++) TCHAR[c] = 1;
for (let c = 97; c <= 122; c++) TCHAR[c] = 1;

/** Is s[from, to) a header field name (a non-empty token)? */
export function isFieldName(s: string, from = 0, to = s.length): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c > 127 || TCHAR[c] === 0) return false;
  }
  return true;
}

/** A control character other than tab, or a CR not followed by LF: never in a valid head. */
const BAD_CHARS = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)/;

/** Where the head ends in `b` (the index after its blank line), or -1 when it has not all come. */
export function headEnd(b: Buffer): number {
  const crlf = b.indexOf('\r\n\r\n');
  const lf = b.indexOf('\n\n');
  if (crlf < 0) return lf < 0 ? -1 : lf + 2;
  if (lf >= 0 && lf < crlf) return lf + 2;
  return crlf + 4;
}

/**
 * Parse the head `s` (latin1, ending with its blank line). `headRequest`: the request was HEAD
 * (no body follows whatever the head says).
 */
export function parseHead(s: string, headRequest: boolean): ResponseHead {
  if (BAD_CHARS.test(s)) throw new BadResponse('a control character in the response head');
  // Status line: HTTP/1.x SP 3DIGIT [SP reason]
  if (s.length < 12 || !s.startsWith('HTTP/1.')) throw new BadResponse('not an HTTP/1.x status line');
  const minor = s.charCodeAt(7);
  if ((minor !== 48 && minor !== 49) || s.charCodeAt(8) !== 32) throw new BadResponse('not an HTTP/1.x status line');
  const d0 = s.charCodeAt(9) - 48;
  const d1 = s.charCodeAt(10) - 48;
  const d2 = s.charCodeAt(11) - 48;
  if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) throw new BadResponse('a status code out of range');
  const status = d0 * 100 + d1 * 10 + d2;
  const after = s.charCodeAt(12);
  if (after !== 32 && after !== 13 && after !== 10) throw new BadResponse('a malformed status line');
  let p = s.indexOf('\n', 12) + 1;
  const headers: string[] = [];
  let length = -1;
  let te: string | undefined;
  let close = minor === 48;
  let keepAliveMs = -1;
  const end = s.length;
  for (;;) {
    const nl = s.indexOf('\n', p);
    if (nl < 0) throw new BadResponse('a header line without its end');
    const lineEnd = s.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    if (lineEnd === p) break; // the blank line
    const c0 = s.charCodeAt(p);
    if (c0 === 32 || c0 === 9) throw new BadResponse('a folded header line (obs-fold)');
    const colon = s.indexOf(':', p);
    if (colon < 0 || colon > lineEnd || colon === p) throw new BadResponse('a header line without a name');
    if (!isFieldName(s, p, colon)) throw new BadResponse('a header name that is not a token');
    let v0 = colon + 1;
    let v1 = lineEnd;
    while (v0 < v1 && (s.charCodeAt(v0) === 32 || s.charCodeAt(v0) === 9)) v0++;
    while (v1 > v0 && (s.charCodeAt(v1 - 1) === 32 || s.charCodeAt(v1 - 1) === 9)) v1--;
    const name = s.slice(p, colon);
    const value = s.slice(v0, v1);
    headers.push(name, value);
    switch (name.length) {
      case 14:
        if (nameIs(name, 'content-length')) {
          const n = lengthOf(value);
          if (length >= 0 && n !== length) throw new BadResponse('differing Content-Length values');
          length = n;
        }
        break;
      case 17:
        if (nameIs(name, 'transfer-encoding')) te = te === undefined ? value : `${te}, ${value}`;
        break;
      case 10:
        if (nameIs(name, 'connection')) {
          const l = value.toLowerCase();
          if (/(?:^|,)\s*close\s*(?:,|$)/.test(l)) close = true;
          else if (minor === 48 && /(?:^|,)\s*keep-alive\s*(?:,|$)/.test(l)) close = false;
        } else if (nameIs(name, 'keep-alive')) {
          const m = /(?:^|[,;\s])timeout\s*=\s*(\d{1,6})/i.exec(value);
          if (m !== null) keepAliveMs = Number(m[1]) * 1000;
        }
        break;
    }
    p = nl + 1;
    if (p >= end) throw new BadResponse('a head without its blank line');
  }
  let framing: Framing;
  if (headRequest || status < 200 || status === 204 || status === 304) framing = Framing.NONE;
  else if (te !== undefined) {
    if (length >= 0) throw new BadResponse('both Transfer-Encoding and Content-Length');
    const codings = te.toLowerCase().split(',');
    const last = (codings[codings.length - 1] as string).trim();
    for (let i = 0; i < codings.length - 1; i++) if ((codings[i] as string).trim() === 'chunked') throw new BadResponse('chunked is not the last transfer coding');
    framing = last === 'chunked' ? Framing.CHUNKED : Framing.CLOSE;
  } else if (length >= 0) framing = Framing.LENGTH;
  else framing = Framing.CLOSE;
  if (framing === Framing.CLOSE) close = true;
  return { status, headers, framing, length: length < 0 ? 0 : length, keepAlive: !close, keepAliveMs };
}

function lengthOf(v: string): number {
  const n = v.length;
  if (n === 0 || n > 15) throw new BadResponse('a Content-Length that is not a length');
  let x = 0;
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i) - 48;
    if (c < 0 || c > 9) throw new BadResponse('a Content-Length that is not a length');
    x = x * 10 + c;
  }
  return x;
}

const enum Ck {
  SIZE = 0,
  EXT = 1,
  SIZE_LF = 2,
  DATA = 3,
  DATA_CR = 4,
  DATA_LF = 5,
  TRAILER = 6,
  DONE = 7,
}

/**
 * The chunked coding's decoder (RFC 9112 §7.1): hands the data on as slices of what arrives;
 * chunk extensions are skipped, trailer fields dropped (never forwarded: the client's response
 * is framed anew by node).
 */
export class ChunkedDecoder {
  /** `strict`: every line ends with CRLF (a request's body: a bare LF is a smuggling vector between parsers). */
  constructor(private readonly strict = false) {}
  private state = Ck.SIZE;
  private cr = false;
  private size = 0;
  private digits = 0;
  private left = 0;
  private lineLen = 0;
  private trailerBytes = 0;

  get done(): boolean {
    return this.state === Ck.DONE;
  }

  /**
   * Decode `b`; `data` receives each piece of body. Returns where the coding ended in `b` (the
   * index after the last CRLF) or -1 when more is to come; throws BadResponse on a broken coding.
   */
  push(b: Buffer, data: (piece: Buffer) => void): number {
    const n = b.length;
    let i = 0;
    while (i < n) {
      switch (this.state) {
        case Ck.DATA: {
          const take = Math.min(this.left, n - i);
          data(take === n && i === 0 ? b : b.subarray(i, i + take));
          this.left -= take;
          i += take;
          if (this.left === 0) this.state = Ck.DATA_CR;
          break;
        }
        case Ck.SIZE: {
          const c = b[i] as number;
          const h = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
          if (h >= 0) {
            if (++this.digits > 12) throw new BadResponse('a chunk size too large');
            this.size = this.size * 16 + h;
            i++;
          } else {
            if (this.digits === 0) throw new BadResponse('a chunk without its size');
            if (c === 13) this.state = Ck.SIZE_LF;
            else if (c === 10) {
              this.bareLf();
              this.endSizeLine();
            } else if (c === 59 || c === 32 || c === 9) this.state = Ck.EXT;
            else throw new BadResponse('a malformed chunk size');
            if (this.state !== Ck.SIZE) i++;
          }
          break;
        }
        case Ck.EXT: {
          const c = b[i++] as number;
          if (++this.lineLen > 4096) throw new BadResponse('a chunk extension too long');
          if (c === 13) this.state = Ck.SIZE_LF;
          else if (c === 10) {
            this.bareLf();
            this.endSizeLine();
          }
          break;
        }
        case Ck.SIZE_LF:
          if (b[i++] !== 10) throw new BadResponse('a chunk size line without its LF');
          this.endSizeLine();
          break;
        case Ck.DATA_CR: {
          const c = b[i++] as number;
          if (c === 13) this.state = Ck.DATA_LF;
          else if (c === 10) {
            this.bareLf();
            this.nextChunk();
          } else throw new BadResponse('chunk data longer than its size');
          break;
        }
        case Ck.DATA_LF:
          if (b[i++] !== 10) throw new BadResponse('chunk data without its CRLF');
          this.nextChunk();
          break;
        case Ck.TRAILER: {
          const c = b[i++] as number;
          if (++this.trailerBytes > 16 * 1024) throw new BadResponse('chunked trailers too long');
          if (c === 10) {
            if (!this.cr) this.bareLf();
            this.cr = false;
            if (this.lineLen === 0) {
              this.state = Ck.DONE;
              return i;
            }
            this.lineLen = 0;
          } else if (c === 13) this.cr = true;
          else {
            this.cr = false;
            this.lineLen++;
          }
          break;
        }
        case Ck.DONE:
          return i;
      }
    }
    return this.state === Ck.DONE ? i : -1;
  }

  private bareLf(): void {
    if (this.strict) throw new BadResponse('a chunk line ended by a bare LF');
  }

  private endSizeLine(): void {
    this.lineLen = 0;
    if (this.size === 0) this.state = Ck.TRAILER;
    else {
      this.left = this.size;
      this.state = Ck.DATA;
    }
  }

  private nextChunk(): void {
    this.size = 0;
    this.digits = 0;
    this.state = Ck.SIZE;
  }
}
