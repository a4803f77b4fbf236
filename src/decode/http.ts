/**
 * HTTP/1.x (RFC 9112) on any TCP port: a request line (method, request-target, version) with the
 * Host and User-Agent header values, or a response status line. Only the first segment of a
 * message is looked at, as the packet decoder sees it; nothing is reassembled.
 *
 * Requests are recognised by a registered method name followed by a space, which keeps random
 * payloads on odd ports from passing as HTTP; responses by `HTTP/1.d SP ddd`.
 */
import { App, type PacketView } from './view.js';

function lit(s: string): Uint8Array {
  const a = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i);
  return a;
}

/** Methods of RFC 9110 and the WebDAV/patch extensions seen in practice. */
const METHODS: Uint8Array[] = [
  'GET',
  'POST',
  'HEAD',
  'PUT',
  'DELETE',
  'OPTIONS',
  'PATCH',
  'CONNECT',
  'TRACE',
  'PROPFIND',
  'PROPPATCH',
  'MKCOL',
  'COPY',
  'MOVE',
  'LOCK',
  'UNLOCK',
  'REPORT',
  'SEARCH',
  'PURGE',
].map(lit);
const MAX_METHOD = 9;
const HOST = lit('host');
const USER_AGENT = lit('user-agent');

function isMethod(b: Uint8Array, p: number, len: number): boolean {
  for (let m = 0; m < METHODS.length; m++) {
    const name = METHODS[m] as Uint8Array;
    if (name.length !== len) continue;
    let i = 0;
    while (i < len && b[p + i] === name[i]) i++;
    if (i === len) return true;
  }
  return false;
}

/** `b[p..]` starts with the lowercase name `lower` in any case, followed by ':'. */
function headerIs(b: Uint8Array, p: number, end: number, lower: Uint8Array): boolean {
  const n = lower.length;
  if (p + n >= end || b[p + n] !== 0x3a) return false;
  for (let i = 0; i < n; i++) {
    const c = b[p + i] as number;
    const l = lower[i] as number;
    if (c !== l && !(l >= 0x61 && l <= 0x7a && c === l - 32)) return false;
  }
  return true;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

/** "HTTP/1." then a digit at p; returns the minor version or -1. */
function version(b: Uint8Array, p: number, end: number): number {
  if (p + 8 > end) return -1;
  if (b[p] !== 0x48 || b[p + 1] !== 0x54 || b[p + 2] !== 0x54 || b[p + 3] !== 0x50) return -1;
  if (b[p + 4] !== 0x2f || b[p + 5] !== 0x31 || b[p + 6] !== 0x2e || !isDigit(b[p + 7])) return -1;
  return (b[p + 7] as number) - 0x30;
}

export function decodeHttp(v: PacketView, off: number, end: number): boolean {
  v.appDirty = true; // its fields are written below: the next reset clears them
  const b = v.buf;
  const minor = version(b, off, end);
  if (minor >= 0) {
    if (off + 12 > end || b[off + 8] !== 0x20 || !isDigit(b[off + 9]) || !isDigit(b[off + 10]) || !isDigit(b[off + 11])) return false;
    v.app = App.HTTP_RESPONSE;
    v.httpMinor = minor;
    v.httpStatus = ((b[off + 9] as number) - 0x30) * 100 + ((b[off + 10] as number) - 0x30) * 10 + ((b[off + 11] as number) - 0x30);
    return true;
  }
  let p = off;
  const mEnd = Math.min(off + MAX_METHOD + 1, end);
  while (p < mEnd && (b[p] as number) >= 0x41 && (b[p] as number) <= 0x5a) p++;
  if (p >= end || b[p] !== 0x20 || !isMethod(b, off, p - off)) return false;
  v.app = App.HTTP_REQUEST;
  v.httpMethodOff = off;
  v.httpMethodLen = p - off;
  const u = p + 1;
  p = u;
  while (p < end && b[p] !== 0x20 && b[p] !== 0x0d && b[p] !== 0x0a) p++;
  if (p === u) return true;
  v.httpUriOff = u;
  v.httpUriLen = p - u;
  if (p < end && b[p] === 0x20) {
    const mv = version(b, p + 1, end);
    if (mv >= 0) v.httpMinor = mv;
  }
  // Headers: each line after the request line until the empty line.
  while (p < end && b[p] !== 0x0a) p++;
  p++;
  while (p < end) {
    const c = b[p] as number;
    if (c === 0x0d || c === 0x0a) break;
    let name = 0;
    if (v.httpHostOff < 0 && headerIs(b, p, end, HOST)) name = 1;
    else if (v.httpUaOff < 0 && headerIs(b, p, end, USER_AGENT)) name = 2;
    if (name !== 0) {
      let s = p + (name === 1 ? HOST.length : USER_AGENT.length) + 1;
      while (s < end && (b[s] === 0x20 || b[s] === 0x09)) s++;
      let e = s;
      while (e < end && b[e] !== 0x0d && b[e] !== 0x0a) e++;
      p = e;
      while (e > s && (b[e - 1] === 0x20 || b[e - 1] === 0x09)) e--;
      if (s >= end) break; // the name was the last thing captured
      if (name === 1) {
        v.httpHostOff = s;
        v.httpHostLen = e - s;
      } else {
        v.httpUaOff = s;
        v.httpUaLen = e - s;
      }
    }
    if (v.httpHostOff >= 0 && v.httpUaOff >= 0) break; // the rest (cookies...) is not needed
    while (p < end && b[p] !== 0x0a) p++;
    p++;
  }
  return true;
}

function text(v: PacketView, off: number, len: number): string {
  return off < 0 ? '' : Buffer.from(v.buf.buffer, v.buf.byteOffset + off, len).toString('latin1');
}

export function httpMethod(v: PacketView): string {
  return text(v, v.httpMethodOff, v.httpMethodLen);
}

export function httpUri(v: PacketView): string {
  return text(v, v.httpUriOff, v.httpUriLen);
}

export function httpHost(v: PacketView): string {
  return text(v, v.httpHostOff, v.httpHostLen);
}

export function httpUserAgent(v: PacketView): string {
  return text(v, v.httpUaOff, v.httpUaLen);
}
