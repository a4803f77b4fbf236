/**
 * Types and runtime values of the Rules language (spec §4).
 *
 * Types are strings so messages can print them as the spec writes them: `Bool`, `Int`, `Bytes`,
 * `Ip`, `Array<T>`, `Map<T>`.
 *
 * Runtime values: Bool is a boolean, Int a number (i64 literals are range-checked at compile
 * time; values past 2^53 lose precision, which no packet or HTTP field reaches), Bytes a
 * Uint8Array, Ip an IpValue, Array a JS array, Map a JS Map keyed by the key's bytes as a
 * latin1 string. A missing value (spec §9) is `undefined`.
 */

export type Type = string;

export const BOOL = 'Bool';
export const INT = 'Int';
export const BYTES = 'Bytes';
export const IP = 'Ip';

export function arrayOf(t: Type): Type {
  return `Array<${t}>`;
}
export function mapOf(t: Type): Type {
  return `Map<${t}>`;
}
export function isArray(t: Type): boolean {
  return t.startsWith('Array<');
}
export function isMap(t: Type): boolean {
  return t.startsWith('Map<');
}
/** Element type of an Array or Map type. */
export function elemOf(t: Type): Type {
  return t.slice(t.indexOf('<') + 1, -1);
}

/** An IP address: IPv4 as uint32 in `v4`, IPv6 as 16 big-endian bytes in `v6`. */
export class IpValue {
  constructor(
    readonly fam: 4 | 6,
    readonly v4: number,
    readonly v6: Uint8Array | null,
  ) {}

  static of4(u: number): IpValue {
    return new IpValue(4, u >>> 0, null);
  }
  static of6(b: Uint8Array): IpValue {
    return new IpValue(6, 0, b);
  }
}

export type Value = boolean | number | Uint8Array | IpValue | Value[] | Map<string, Value>;

/** A window on bytes: what Bytes fields fill without allocating. */
export class Slice {
  buf: Uint8Array = new Uint8Array(0);
  off = 0;
  len = 0;
  set(buf: Uint8Array, off: number, len: number): true {
    this.buf = buf;
    this.off = off;
    this.len = len;
    return true;
  }
}

const enc = new TextEncoder();
/** UTF-8 bytes of a JS string. */
export function utf8(s: string): Uint8Array {
  return enc.encode(s);
}
/** Bytes of a byte string (one char per byte, as node:http delivers header text). */
export function latin1(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 255;
  return out;
}
/** Bytes as a byte string (map keys, messages). */
export function bytesKey(b: Uint8Array, off = 0, len = b.length): string {
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(b[off + i] as number);
  return s;
}
