/**
 * The edge's HTTP/1.1 request head (RFC 9112 §2–5), parsed strictly: what a reverse proxy passes
 * on must mean one thing to every parser behind it. Refused (400): a request line that is not
 * `method SP target SP HTTP/1.0|1.1`, a target with a space or a control byte, bare CR or LF,
 * obs-fold, whitespace before a colon, a header name that is not a token, a control byte in a
 * value, HTTP/1.1 without Host. Framing ambiguities (Content-Length with Transfer-Encoding, ...)
 * are framing.ts's checks, made by the exchange on every protocol.
 */
import { METHODS } from 'node:http';
import { nameIs } from './framing.js';
import { isFieldName, TCHAR } from './origin-response.js';

export interface RequestHead {
  method: string;
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: number;
  /** [name, value, name, value, ...]: names as sent, values without surrounding whitespace. */
  raw: string[];
}

/**
 * The methods node's parser (llhttp) knows; others were refused before the edge had its own
 * parser, and still are (400): a front end has no use for methods its origins never see.
 */
const KNOWN_METHODS = new Set(METHODS);

const TARGET_BAD = /[^\x21-\x7e]/;

/**
 * Does b[0, end) hold what no request head may: a control byte other than tab, DEL, or a CR or LF
 * that is not part of a CRLF? One pass over the bytes (a third cheaper than a regular expression
 * over the decoded string: the edge bench's heads are 450 bytes).
 */
function badHeadBytes(b: Buffer, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const c = b[i] as number;
    if ((c >= 32 && c !== 127) || c === 9) continue;
    if (c === 13 && b[i + 1] === 10) {
      i++;
      continue;
    }
    return true;
  }
  return false;
}

/**
 * Parse the head in b[0, end), ending with its blank line (CRLF CRLF). null: malformed.
 */
export function parseRequestHead(b: Buffer, end = b.length): RequestHead | null {
  // One pass for the bytes refused anywhere; the rest is structure.
  if (badHeadBytes(b, end)) return null;
  const s = b.toString('latin1', 0, end);
  const lineEnd = s.indexOf('\r\n');
  const sp1 = s.indexOf(' ');
  if (sp1 <= 0 || sp1 > lineEnd) return null;
  const method = s.slice(0, sp1);
  if (!KNOWN_METHODS.has(method)) return null;
  const sp2 = s.indexOf(' ', sp1 + 1);
  if (sp2 < 0 || sp2 > lineEnd || sp2 === sp1 + 1 || lineEnd - sp2 !== 9) return null;
  const target = s.slice(sp1 + 1, sp2);
  // Visible ASCII only, as llhttp wants it (raw UTF-8 in a target is refused there too).
  if (TARGET_BAD.test(target)) return null;
  // `HTTP/1.0` or `HTTP/1.1`, nothing else (HTTP/0.9 has no version; 2 and 3 do not come as text).
  if (!s.startsWith('HTTP/1.', sp2 + 1)) return null;
  const last = s.charCodeAt(lineEnd - 1);
  if (last !== 48 && last !== 49) return null;
  const minor = last - 48;
  const raw: string[] = [];
  let host = false;
  const last2 = s.length - 2;
  let pos = lineEnd + 2;
  while (pos < last2) {
    const le = s.indexOf('\r\n', pos);
    const colon = s.indexOf(':', pos);
    // No colon on the line, an empty or non-token name (a space before the colon, obs-fold's
    // leading whitespace, a bare LF inside the name) all fail here.
    if (colon < 0 || colon > le || !isFieldName(s, pos, colon)) return null;
    let vs = colon + 1;
    let ve = le;
    while (vs < ve && (s.charCodeAt(vs) === 32 || s.charCodeAt(vs) === 9)) vs++;
    while (ve > vs && (s.charCodeAt(ve - 1) === 32 || s.charCodeAt(ve - 1) === 9)) ve--;
    const name = s.slice(pos, colon);
    if (colon - pos === 4 && nameIs(name, 'host')) host = true;
    raw.push(name, s.slice(vs, ve));
    pos = le + 2;
  }
  if (minor === 1 && !host) return null;
  return { method, target, minor, raw };
}

/**
 * A head not all come yet that can already be refused: a byte that is not a token's before the
 * method's space (TLS or other binary on the plain port), or a bare LF anywhere. Scans b[from, end).
 */
export function badPartialHead(b: Buffer, from: number): boolean {
  const sp = b.indexOf(32);
  const methodEnd = sp < 0 ? b.length : sp;
  for (let i = from; i < b.length; i++) {
    const c = b[i] as number;
    if (c === 10 && (i === 0 || b[i - 1] !== 13)) return true;
    if (i < methodEnd && (c > 127 || TCHAR[c] === 0)) return true;
  }
  return false;
}
