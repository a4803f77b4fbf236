/**
 * TLS ClientHello (RFC 8446 section 4.1.2; RFC 5246 for 1.2 and below): legacy_version, the
 * first SNI host_name (RFC 6066), the first ALPN protocol (RFC 7301) and the highest
 * supported_versions entry (GREASE ignored, RFC 8701). Hellos are often cut by the snap length
 * or split over segments, so the walk reads as far as the captured bytes go and records only
 * values it saw whole.
 *
 * The hot path only stores offsets. `clientHelloFields()` (used by the JA3/JA4 code, which runs
 * once per hello, not per packet) re-walks the same bytes and builds arrays.
 */
import { App, type PacketView } from './view.js';

export function isGrease(x: number): boolean {
  return (x & 0x0f0f) === 0x0a0a && x >> 8 === (x & 0xff);
}

/** A TLS record (type 22 handshake, version 3.x) holding a ClientHello (handshake type 1). */
export function looksLikeClientHello(b: Uint8Array, off: number, end: number): boolean {
  return end - off >= 9 && b[off] === 0x16 && b[off + 1] === 0x03 && (b[off + 2] as number) <= 0x04 && b[off + 5] === 0x01;
}

/** Decode the record at [off, end) if it carries a ClientHello. */
export function decodeTls(v: PacketView, off: number, end: number): boolean {
  v.appDirty = true; // its fields are written below: the next reset clears them
  if (!looksLikeClientHello(v.buf, off, end)) return false;
  parseClientHello(v, v.buf, off + 5, end);
  return true;
}

/**
 * Parse the handshake message at `hs` (its type byte) in `b`, bounded by `end`. Sets the tls*
 * fields (offsets into `b`) and app. Also used on the CRYPTO stream of a QUIC Initial.
 */
export function parseClientHello(v: PacketView, b: Uint8Array, hs: number, end: number): void {
  v.appDirty = true; // its fields are written below: the next reset clears them
  v.app = App.TLS_CLIENT_HELLO;
  v.tlsBuf = b;
  v.tlsHelloOff = hs;
  const declared = hs + 4 + ((((b[hs + 1] as number) << 16) | ((b[hs + 2] as number) << 8) | (b[hs + 3] as number)) >>> 0);
  const stop = Math.min(declared, end);
  v.tlsHelloLen = stop - hs;
  let p = hs + 4;
  if (p + 2 > stop) return;
  v.tlsVersion = ((b[p] as number) << 8) | (b[p + 1] as number);
  p += 2 + 32;
  if (p + 1 > stop) return;
  p += 1 + (b[p] as number); // session id
  if (p + 2 > stop) return;
  p += 2 + (((b[p] as number) << 8) | (b[p + 1] as number)); // cipher suites
  if (p + 1 > stop) return;
  p += 1 + (b[p] as number); // compression methods
  if (p + 2 > stop) return;
  const extsEnd0 = p + 2 + (((b[p] as number) << 8) | (b[p + 1] as number));
  const extsEnd = Math.min(extsEnd0, stop);
  p += 2;
  while (p + 4 <= extsEnd) {
    const type = ((b[p] as number) << 8) | (b[p + 1] as number);
    const len = ((b[p + 2] as number) << 8) | (b[p + 3] as number);
    const d = p + 4;
    const dEnd = d + len;
    if (dEnd > extsEnd) break;
    if (type === 0) sni(v, b, d, dEnd);
    else if (type === 16) alpn(v, b, d, dEnd);
    else if (type === 43) supportedVersions(v, b, d, dEnd);
    p = dEnd;
  }
}

function sni(v: PacketView, b: Uint8Array, p: number, end: number): void {
  if (v.tlsSniOff >= 0 || p + 2 > end) return;
  p += 2; // server_name_list length
  while (p + 3 <= end) {
    const nameType = b[p] as number;
    const len = ((b[p + 1] as number) << 8) | (b[p + 2] as number);
    if (p + 3 + len > end) return;
    if (nameType === 0) {
      v.tlsSniOff = p + 3;
      v.tlsSniLen = len;
      return;
    }
    p += 3 + len;
  }
}

function alpn(v: PacketView, b: Uint8Array, p: number, end: number): void {
  if (v.tlsAlpnOff >= 0 || p + 3 > end) return;
  const len = b[p + 2] as number;
  if (p + 3 + len > end) return;
  v.tlsAlpnOff = p + 3;
  v.tlsAlpnLen = len;
}

function supportedVersions(v: PacketView, b: Uint8Array, p: number, end: number): void {
  if (p + 1 > end) return;
  const listEnd0 = p + 1 + (b[p] as number);
  const listEnd = Math.min(listEnd0, end);
  let max = 0;
  for (let q = p + 1; q + 2 <= listEnd; q += 2) {
    const ver = ((b[q] as number) << 8) | (b[q + 1] as number);
    if (!isGrease(ver) && ver > max) max = ver;
  }
  v.tlsMaxVersion = max;
}

/** The buffer the tls* offsets index (the packet for TCP, the view's scratch for QUIC). */
export function tlsBuf(v: PacketView): Uint8Array {
  return v.tlsBuf;
}

function text(b: Uint8Array, off: number, len: number): string {
  return Buffer.from(b.buffer, b.byteOffset + off, len).toString('latin1');
}

/** SNI host name, '' when absent. */
export function tlsSni(v: PacketView): string {
  return v.tlsSniOff < 0 ? '' : text(tlsBuf(v), v.tlsSniOff, v.tlsSniLen);
}

/** First ALPN protocol, '' when absent. */
export function tlsAlpn(v: PacketView): string {
  return v.tlsAlpnOff < 0 ? '' : text(tlsBuf(v), v.tlsAlpnOff, v.tlsAlpnLen);
}

/** Everything the fingerprints need, GREASE included (each fingerprint filters as its spec says). */
export interface ClientHelloFields {
  version: number;
  ciphers: number[];
  /** Extension types in wire order. */
  extensions: number[];
  groups: number[];
  pointFormats: number[];
  sigAlgs: number[];
  versions: number[];
  /** First ALPN protocol's bytes, null when there is no ALPN value. */
  alpn: Uint8Array | null;
  hasSni: boolean;
}

/** Re-walk the ClientHello at v.tlsHelloOff; null when there is none. Allocates: not for the hot path. */
export function clientHelloFields(v: PacketView): ClientHelloFields | null {
  if (v.tlsHelloOff < 0) return null;
  const b = tlsBuf(v);
  const hs = v.tlsHelloOff;
  const stop = hs + v.tlsHelloLen;
  const f: ClientHelloFields = { version: 0, ciphers: [], extensions: [], groups: [], pointFormats: [], sigAlgs: [], versions: [], alpn: null, hasSni: false };
  const u16 = (q: number) => ((b[q] as number) << 8) | (b[q + 1] as number);
  let p = hs + 4;
  if (p + 2 > stop) return f;
  f.version = u16(p);
  p += 34;
  if (p + 1 > stop) return f;
  p += 1 + (b[p] as number);
  if (p + 2 > stop) return f;
  const cEnd = p + 2 + u16(p);
  for (let q = p + 2; q + 2 <= cEnd && q + 2 <= stop; q += 2) f.ciphers.push(u16(q));
  p = cEnd;
  if (p + 1 > stop) return f;
  p += 1 + (b[p] as number);
  if (p + 2 > stop) return f;
  const eEnd = Math.min(p + 2 + u16(p), stop);
  p += 2;
  while (p + 4 <= eEnd) {
    const type = u16(p);
    const d = p + 4;
    const dEnd = d + u16(p + 2);
    if (dEnd > eEnd) break;
    f.extensions.push(type);
    if (type === 0) f.hasSni = true;
    else if (type === 10 && d + 2 <= dEnd) {
      for (let q = d + 2; q + 2 <= Math.min(d + 2 + u16(d), dEnd); q += 2) f.groups.push(u16(q));
    } else if (type === 11 && d + 1 <= dEnd) {
      for (let q = d + 1; q < Math.min(d + 1 + (b[d] as number), dEnd); q++) f.pointFormats.push(b[q] as number);
    } else if (type === 13 && d + 2 <= dEnd) {
      for (let q = d + 2; q + 2 <= Math.min(d + 2 + u16(d), dEnd); q += 2) f.sigAlgs.push(u16(q));
    } else if (type === 43 && d + 1 <= dEnd) {
      for (let q = d + 1; q + 2 <= Math.min(d + 1 + (b[d] as number), dEnd); q += 2) f.versions.push(u16(q));
    } else if (type === 16 && f.alpn === null && d + 3 <= dEnd) {
      const n = b[d + 2] as number;
      if (d + 3 + n <= dEnd) f.alpn = b.slice(d + 3, d + 3 + n);
    }
    p = dEnd;
  }
  return f;
}
