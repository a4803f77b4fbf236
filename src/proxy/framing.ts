/**
 * Request head checks beyond what the HTTP/1.1 parser already refuses (h1-head.ts on plain
 * connections, node's llhttp over TLS), and the facts the rest of the edge needs from the head,
 * in one pass over `rawHeaders`.
 *
 * The parsers answer 400 for malformed request lines, invalid header names or values, obs-fold,
 * bare CR or LF, and invalid chunk sizes (test/proxy/framing.test.ts holds each case against the
 * live edge). Refused here, for every protocol, so nothing ambiguous reaches the origin:
 * Content-Length together with Transfer-Encoding, more than one Content-Length,
 * a Transfer-Encoding other than exactly `chunked`, Transfer-Encoding on HTTP/1.0, more than one
 * Host, a Content-Length that is not plain digits, too many header lines, and a body announced
 * larger than the limit. The body is always re-framed by origin-pool.ts towards the origin, so the
 * client's framing bytes are never passed on as they came.
 */

/** What a head check found; the status to answer, or 0 when the head is fine. */
export interface HeadFacts {
  host: string | undefined;
  /** -1 when absent. */
  contentLength: number;
  chunked: boolean;
  /** The Connection header's tokens, lowercased, or null. */
  connectionTokens: string[] | null;
  xff: string | undefined;
  xfProto: string | undefined;
  incomingId: string | undefined;
  upgrade: string | undefined;
  expectContinue: boolean;
}

export interface HeadLimits {
  maxHeaderCount: number;
  maxBodyBytes: number;
}

/** Case-insensitive equality with a lowercase constant, without lowercasing unless lengths match. */
export function nameIs(name: string, lower: string): boolean {
  return name.length === lower.length && (name === lower || name.toLowerCase() === lower);
}

const DIGITS = /^\d{1,15}$/;

/** A Content-Length value's length, or -1 when it is not plain digits (a list, a sign, spaces inside). */
export function lengthValue(v: string): number {
  return DIGITS.test(v) ? Number(v) : -1;
}

/**
 * Fill `f` from `raw` (node's rawHeaders: name, value, name, value ...). Returns 0, or the
 * status to answer: 400 for ambiguous framing, 413 for an announced body over the limit, 431
 * for too many header lines.
 */
export function checkHead(raw: readonly string[], http10: boolean, limits: HeadLimits, f: HeadFacts): number {
  if (raw.length > limits.maxHeaderCount * 2) return 431;
  let hosts = 0;
  let tes = 0;
  let te = '';
  let cls = 0;
  let cl = '';
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    switch (name.length) {
      case 4:
        if (nameIs(name, 'host')) {
          hosts++;
          f.host = value;
        }
        break;
      case 6:
        if (nameIs(name, 'expect')) f.expectContinue = value.toLowerCase() === '100-continue';
        break;
      case 7:
        if (nameIs(name, 'upgrade')) f.upgrade = value;
        break;
      case 10:
        if (nameIs(name, 'connection')) f.connectionTokens = tokens(value, f.connectionTokens);
        break;
      case 14:
        if (nameIs(name, 'content-length')) {
          cls++;
          cl = value;
        }
        break;
      case 15:
        if (nameIs(name, 'x-forwarded-for')) f.xff = f.xff === undefined ? value : `${f.xff}, ${value}`;
        break;
      case 17:
        if (nameIs(name, 'transfer-encoding')) {
          tes++;
          te = value;
        } else if (nameIs(name, 'x-forwarded-proto')) f.xfProto = value;
        break;
      case 19:
        if (nameIs(name, 'palisade-request-id')) f.incomingId = value;
        break;
    }
  }
  if (hosts > 1) return 400;
  if (tes > 0) {
    // Exactly one Transfer-Encoding, exactly `chunked`: anything else ("gzip, chunked",
    // "chunked, chunked", " chunked\t", a second line) is a smuggling vector between parsers.
    if (tes > 1 || te.trim().toLowerCase() !== 'chunked' || http10 || cls > 0) return 400;
    f.chunked = true;
  }
  if (cls > 0) {
    const v = cl.trim();
    if (cls > 1 || !DIGITS.test(v)) return 400;
    f.contentLength = Number(v);
    if (f.contentLength > limits.maxBodyBytes) return 413;
  }
  return 0;
}

/** Does a comma-separated header value (Connection, ...) hold `token` (lowercase)? */
export function hasToken(value: string, token: string): boolean {
  const v = value.toLowerCase();
  if (!v.includes(token)) return false;
  for (const t of v.split(',')) if (t.trim() === token) return true;
  return false;
}

function tokens(value: string, into: string[] | null): string[] {
  const out = into ?? [];
  for (const t of value.split(',')) {
    const s = t.trim().toLowerCase();
    if (s !== '') out.push(s);
  }
  return out;
}
