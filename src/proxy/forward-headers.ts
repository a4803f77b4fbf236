/**
 * The request head the origin receives: the client's header lines in their order, minus the
 * hop-by-hop ones (RFC 9110 §7.6.1) and the forwarding headers we do not trust, plus ours (Via,
 * X-Forwarded-For/-Proto/-Host, Forwarded, the request id). And the response head the client
 * receives: the origin's, minus its hop-by-hop lines, plus Via.
 *
 * Output is a flat header array [name, value, name, value, ...], built in one pass.
 */
import { nameIs } from './framing.js';
import { isFieldName } from './origin-response.js';
import { REQUEST_ID_HEADER } from './request-id.js';

/** What the forwarding headers say about this hop. */
export interface Hop {
  /** The address that sent us this request (after PROXY protocol). */
  hopIp: string;
  /** The forwarding headers of the hop are believed (a trusted proxy). */
  trusted: boolean;
  proto: 'http' | 'https';
  /** Host as the client asked for it (Host or :authority). */
  host: string | undefined;
  /** `1.1` or `2.0`: the protocol we received, for Via. */
  via: string;
  requestId: string;
  /** The Connection header's tokens (names of more hop-by-hop headers), lowercased. */
  connectionTokens: readonly string[] | null;
}

/** Hop-by-hop and forwarding headers dropped from every request, by length then name. */
function dropped(name: string, trusted: boolean): boolean {
  switch (name.length) {
    case 2:
      return nameIs(name, 'te');
    case 6:
      return nameIs(name, 'expect');
    case 7:
      return nameIs(name, 'upgrade');
    case 9:
      return nameIs(name, 'forwarded') && !trusted;
    case 10:
      return nameIs(name, 'connection') || nameIs(name, 'keep-alive');
    case 15:
      return nameIs(name, 'x-forwarded-for');
    case 16:
      return nameIs(name, 'proxy-connection') || (!trusted && nameIs(name, 'x-forwarded-host'));
    case 17:
      return nameIs(name, 'transfer-encoding') || (!trusted && nameIs(name, 'x-forwarded-proto'));
    case 19:
      return nameIs(name, 'proxy-authorization') || nameIs(name, REQUEST_ID_HEADER);
    default:
      return false;
  }
}

/** `for=` / `host=` values: IPv6 in brackets and anything beyond a token quoted (RFC 7239 §6). */
function fwdNode(ip: string): string {
  return ip.includes(':') ? `"[${ip}]"` : ip;
}
function quoted(s: string): string {
  return s.includes('"') || s.includes('\\') ? `"${s.replace(/["\\]/g, '\\$&')}"` : `"${s}"`;
}

/**
 * The origin's request headers. `raw` is node's rawHeaders; `extra` the gate's Pass headers.
 * Pseudo-headers (HTTP/2) are dropped; an HTTP/2 request's `:authority` becomes Host and its
 * split Cookie lines become one (an HTTP/1.1 origin expects one).
 */
export function requestHeaders(raw: readonly string[], hop: Hop, h2: boolean, extra: ReadonlyArray<readonly [string, string]> | undefined): string[] {
  const out: string[] = [];
  const conn = hop.connectionTokens;
  let xff: string | undefined;
  let fwd: string | undefined;
  let via: string | undefined;
  let xfProto = false;
  let xfHost = false;
  let cookie: string | undefined;
  let sawHost = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    if (name.charCodeAt(0) === 58) continue; // ':' pseudo-header
    if (dropped(name, hop.trusted)) {
      if (name.length === 15 && hop.trusted) xff = xff === undefined ? value : `${xff}, ${value}`;
      else if (name.length === 2 && value.trim().toLowerCase() === 'trailers') out.push(name, value);
      continue;
    }
    if (conn?.includes(name.toLowerCase())) continue;
    switch (name.length) {
      case 3:
        if (nameIs(name, 'via')) {
          via = via === undefined ? value : `${via}, ${value}`;
          continue;
        }
        break;
      case 4:
        if (nameIs(name, 'host')) sawHost = true;
        break;
      case 6:
        if (h2 && nameIs(name, 'cookie')) {
          cookie = cookie === undefined ? value : `${cookie}; ${value}`;
          continue;
        }
        break;
      case 9:
        // Only reached when trusted: kept, extended below.
        if (nameIs(name, 'forwarded')) {
          fwd = fwd === undefined ? value : `${fwd}, ${value}`;
          continue;
        }
        break;
      case 16:
        if (nameIs(name, 'x-forwarded-host')) xfHost = true;
        break;
      case 17:
        if (nameIs(name, 'x-forwarded-proto')) xfProto = true;
        break;
    }
    out.push(name, value);
  }
  if (!sawHost && hop.host !== undefined) out.push('host', hop.host);
  if (cookie !== undefined) out.push('cookie', cookie);
  const ours = `${hop.via} palisade`;
  out.push('via', via === undefined ? ours : `${via}, ${ours}`);
  out.push('x-forwarded-for', xff === undefined ? hop.hopIp : `${xff}, ${hop.hopIp}`);
  if (!xfProto) out.push('x-forwarded-proto', hop.proto);
  if (!xfHost && hop.host !== undefined) out.push('x-forwarded-host', hop.host);
  let f = `for=${fwdNode(hop.hopIp)};proto=${hop.proto}`;
  if (hop.host !== undefined) f += `;host=${quoted(hop.host)}`;
  out.push('forwarded', fwd === undefined ? f : `${fwd}, ${f}`);
  out.push(REQUEST_ID_HEADER, hop.requestId);
  if (extra !== undefined)
    for (const [k, v] of extra) {
      // The client's lines were checked by node's parser; the gate's are checked here, as they go
      // into the origin's head as they are.
      if (!isFieldName(k) || BAD_VALUE.test(v)) throw new TypeError(`a header the origin request cannot carry: ${JSON.stringify(k)}`);
      out.push(k, v);
    }
  return out;
}

const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;

/** Response header names never passed to the client (they describe the origin connection). */
function responseDropped(name: string): boolean {
  switch (name.length) {
    case 7:
      return nameIs(name, 'upgrade');
    case 10:
      return nameIs(name, 'connection') || nameIs(name, 'keep-alive');
    case 16:
      return nameIs(name, 'proxy-connection');
    case 17:
      return nameIs(name, 'transfer-encoding');
    case 18:
      return nameIs(name, 'proxy-authenticate');
    default:
      return false;
  }
}

/**
 * The client's response headers from the origin's head (name, value, ... as origin-pool.ts reads them),
 * names in the origin's case and order, as a flat array for writeHead. Transfer-Encoding goes:
 * node frames the body again itself (chunked for HTTP/1.1 without a length, DATA frames for
 * HTTP/2); so do the headers the origin's Connection names.
 */
export function responseHeaders(raw: readonly string[], viaProto: string): string[] {
  const out: string[] = [];
  let conn: string[] | null = null;
  let via: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    if (responseDropped(name)) {
      if (name.length === 10 && nameIs(name, 'connection')) {
        for (const t of value.split(',')) {
          const x = t.trim().toLowerCase();
          if (x !== '' && x !== 'close' && x !== 'keep-alive') (conn ??= []).push(x);
        }
      }
      continue;
    }
    if (name.length === 3 && nameIs(name, 'via')) {
      via = via === undefined ? value : `${via}, ${value}`;
      continue;
    }
    out.push(name, value);
  }
  if (conn !== null) {
    // Rare: drop what the origin's Connection header named, wherever it came in the head.
    const named = conn;
    const kept: string[] = [];
    for (let i = 0; i < out.length; i += 2) if (!named.includes((out[i] as string).toLowerCase())) kept.push(out[i] as string, out[i + 1] as string);
    out.length = 0;
    out.push(...kept);
  }
  const ours = `${viaProto} palisade`;
  out.push('via', via === undefined ? ours : `${via}, ${ours}`);
  return out;
}
