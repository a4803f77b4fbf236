/**
 * JA4 TLS client fingerprint, as FoxIO specifies it (github.com/FoxIO-LLC/ja4,
 * technical_details/JA4.md): `a_b_c` where
 *   a = protocol (t TCP, q QUIC) + version (highest supported_versions entry, else the hello's
 *       legacy_version) + d/i (SNI extension present or not) + 2-digit cipher count + 2-digit
 *       extension count + first and last character of the first ALPN value;
 *   b = first 12 hex digits of SHA-256 over the cipher suites as 4-digit hex, sorted, comma-joined;
 *   c = the same over the sorted extension types without SNI (0000) and ALPN (0010), then `_`
 *       and the signature algorithms in wire order (no `_` when there are none).
 * GREASE values are ignored everywhere. Computed on demand; a floods of hellos from a few client
 * stacks repeats the same few fingerprints, so results are memoised on a 53-bit key read from the
 * hello without allocating (ordered ciphers and signature algorithms, extension types as a set,
 * GREASE folded to one value), and the SHA-256 work is done once per distinct client stack.
 */
import { createHash } from 'node:crypto';
import { type ClientHelloFields, clientHelloFields, isGrease, tlsBuf } from './tls.js';
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
  const sortedCiphers = ciphers
    .sort((x, y) => x - y)
    .map(hex4)
    .join(',');
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

const MEMO_MAX = 4096;
const memo = new Map<number, string>();

/** 32-bit finaliser (murmur3 fmix32). */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Everything JA4 reads from the hello, hashed without allocating: two ordered 32-bit hashes
 * plus an order-free sum over extension types (JA4 sorts them; Chrome shuffles them).
 * -1 when the hello is cut short, so such hellos are not memoised.
 */
function helloKey(v: PacketView): number {
  const b = tlsBuf(v);
  const hs = v.tlsHelloOff;
  const stop = hs + v.tlsHelloLen;
  const u16 = (q: number) => ((b[q] as number) << 8) | (b[q + 1] as number);
  const g = (x: number) => (isGrease(x) ? 0x0a0a : x);
  let h1 = v.tlsQuic ? 0x51 : 0x54;
  let h2 = 0x9e3779b9;
  const step = (x: number): void => {
    h1 = Math.imul(h1 ^ x, 0x01000193);
    h2 = Math.imul((h2 + x) ^ (h2 >>> 15), 0x2c1b3c6d);
  };
  let p = hs + 4;
  if (p + 2 > stop) return -1;
  step(u16(p));
  p += 34;
  if (p + 1 > stop) return -1;
  p += 1 + (b[p] as number);
  if (p + 2 > stop) return -1;
  const cEnd = p + 2 + u16(p);
  if (cEnd > stop) return -1;
  for (let q = p + 2; q + 2 <= cEnd; q += 2) step(g(u16(q)));
  step(0x10000);
  p = cEnd;
  if (p + 1 > stop) return -1;
  p += 1 + (b[p] as number);
  if (p + 2 > stop) return -1;
  const eEnd = Math.min(p + 2 + u16(p), stop);
  p += 2;
  let extSum = 0;
  while (p + 4 <= eEnd) {
    const type = g(u16(p));
    const d = p + 4;
    const dEnd = d + u16(p + 2);
    if (dEnd > eEnd) break;
    extSum = (extSum + fmix(type + 1)) >>> 0;
    if (type === 13 || type === 43 || type === 16) {
      // Signature algorithms, supported versions and ALPN: their contents count, in order.
      step(0x20000 + type);
      for (let q = d; q < dEnd; q++) step(b[q] as number);
    }
    p = dEnd;
  }
  step(extSum);
  return (fmix(h1) % 0x200000) * 0x100000000 + fmix(h2);
}

/** JA4 of the view's ClientHello, '' when there is none. */
export function ja4(v: PacketView): string {
  if (v.tlsHelloOff < 0) return '';
  const key = helloKey(v);
  if (key >= 0) {
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
  }
  const f = clientHelloFields(v);
  if (f === null) return '';
  const fp = ja4FromFields(f, v.tlsQuic);
  if (key >= 0) {
    if (memo.size >= MEMO_MAX) memo.clear();
    memo.set(key, fp);
  }
  return fp;
}

/** JA4_r: the same with the lists in clear instead of hashed. */
export function ja4Raw(v: PacketView): string {
  const f = clientHelloFields(v);
  if (f === null) return '';
  const p = ja4Parts(f, v.tlsQuic);
  return p.sigAlgs === '' ? `${p.a}_${p.ciphers}_${p.extensions}` : `${p.a}_${p.ciphers}_${p.extensions}_${p.sigAlgs}`;
}
