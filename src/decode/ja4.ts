/**
 * JA4 TLS client fingerprint, as FoxIO specifies it (github.com/FoxIO-LLC/ja4,
 * technical_details/JA4.md): `a_b_c` where
 *   a = protocol (t TCP, q QUIC) + version (highest supported_versions entry, else the hello's
 *       legacy_version) + d/i (SNI extension present or not) + 2-digit cipher count + 2-digit
 *       extension count + first and last character of the first ALPN value;
 *   b = first 12 hex digits of SHA-256 over the cipher suites as 4-digit hex, sorted, comma-joined;
 *   c = the same over the sorted extension types without SNI (0000) and ALPN (0010), then `_`
 *       and the signature algorithms in wire order (no `_` when there are none).
 * GREASE values are ignored everywhere. Computed on demand (allocates; once per hello).
 */
import { createHash } from 'node:crypto';
import { type ClientHelloFields, clientHelloFields, isGrease } from './tls.js';
import type { PacketView } from './view.js';

const VERSIONS = new Map<number, string>([
  [0x0304, '13'],
  [0x0303, '12'],
  [0x0302, '11'],
  [0x0301, '10'],
  [0x0300, 's3'],
  [0x0200, 's2'],
  [0x0002, 's2'],
  [0xfeff, 'd1'],
  [0xfefd, 'd2'],
  [0xfefc, 'd3'],
]);

const EMPTY = '000000000000';

function hex4(x: number): string {
  return x.toString(16).padStart(4, '0');
}

function count(n: number): string {
  return n > 99 ? '99' : n.toString().padStart(2, '0');
}

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function alpnChars(a: Uint8Array | null): string {
  if (a === null || a.length === 0) return '00';
  const first = a[0] as number;
  const last = a[a.length - 1] as number;
  if (isAlnum(first) && isAlnum(last)) return String.fromCharCode(first, last);
  const h = Buffer.from(a).toString('hex');
  return (h[0] as string) + (h[h.length - 1] as string);
}

function sha12(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 12);
}

/** The raw (sorted, unhashed) JA4 parts; exported for tests and for `ja4_r`-style output. */
export function ja4Parts(f: ClientHelloFields, quic: boolean): { a: string; ciphers: string; extensions: string; sigAlgs: string } {
  const ciphers = f.ciphers.filter((x) => !isGrease(x));
  const exts = f.extensions.filter((x) => !isGrease(x));
  const versions = f.versions.filter((x) => !isGrease(x));
  const hasVersionsExt = f.extensions.includes(43);
  const ver = hasVersionsExt ? (versions.length > 0 ? Math.max(...versions) : 0) : f.version;
  const a = `${quic ? 'q' : 't'}${VERSIONS.get(ver) ?? '00'}${f.hasSni ? 'd' : 'i'}${count(ciphers.length)}${count(exts.length)}${alpnChars(f.alpn)}`;
  const sortedCiphers = ciphers.sort((x, y) => x - y).map(hex4).join(',');
  const sortedExts = exts
    .filter((x) => x !== 0x0000 && x !== 0x0010)
    .sort((x, y) => x - y)
    .map(hex4)
    .join(',');
  const sigAlgs = f.sigAlgs
    .filter((x) => !isGrease(x))
    .map(hex4)
    .join(',');
  return { a, ciphers: sortedCiphers, extensions: sortedExts, sigAlgs };
}

/** JA4 from parsed hello fields. */
export function ja4FromFields(f: ClientHelloFields, quic: boolean): string {
  const p = ja4Parts(f, quic);
  const b = p.ciphers === '' ? EMPTY : sha12(p.ciphers);
  const c = p.extensions === '' ? EMPTY : sha12(p.sigAlgs === '' ? p.extensions : `${p.extensions}_${p.sigAlgs}`);
  return `${p.a}_${b}_${c}`;
}

/** JA4 of the view's ClientHello, '' when there is none. */
export function ja4(v: PacketView): string {
  const f = clientHelloFields(v);
  return f === null ? '' : ja4FromFields(f, v.tlsQuic);
}

/** JA4_r: the same with the lists in clear instead of hashed. */
export function ja4Raw(v: PacketView): string {
  const f = clientHelloFields(v);
  if (f === null) return '';
  const p = ja4Parts(f, v.tlsQuic);
  return p.sigAlgs === '' ? `${p.a}_${p.ciphers}_${p.extensions}` : `${p.a}_${p.ciphers}_${p.extensions}_${p.sigAlgs}`;
}
