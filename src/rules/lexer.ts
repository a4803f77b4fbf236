/**
 * Lexical layer of the Rules language (spec §1, §4): scanning functions over the expression's
 * code points. The right-hand literal is lexed according to the left side's type, so the parser
 * calls these at a position rather than consuming a token stream. Every function returns where it
 * stopped; malformed input raises a `parse` RulesError at the spec's position.
 */

import { utf8 } from '../scheme/values.js';
import { RulesError } from './errors.js';

export const KEYWORDS = new Set(['and', 'or', 'xor', 'not', 'in', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'contains', 'matches', 'wildcard', 'strict', 'bitwise_and']);

/** The expression as code points, so offsets are code-point offsets (spec §1). */
export class Src {
  readonly cps: string[];
  readonly n: number;
  constructor(readonly text: string) {
    this.cps = Array.from(text);
    this.n = this.cps.length;
  }
  at(i: number): string {
    return i < this.n ? (this.cps[i] as string) : '';
  }
  startsWith(s: string, i: number): boolean {
    for (let k = 0; k < s.length; k++) if (this.cps[i + k] !== s[k]) return false;
    return true;
  }
  slice(a: number, b: number): string {
    return this.cps.slice(a, b).join('');
  }
  /** A short quote of the text at i for messages. */
  quote(i: number): string {
    if (i >= this.n) return 'the end of the expression';
    const s = this.slice(i, Math.min(this.n, i + 12));
    return `"${s}${i + 12 < this.n ? '…' : ''}"`;
  }
}

export function isWs(c: string): boolean {
  return c === ' ' || c === '\n' || c === '\r' || c === '\t';
}
export function skipWs(s: Src, i: number): number {
  while (i < s.n && isWs(s.cps[i] as string)) i++;
  return i;
}
export function isWordChar(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === '_';
}
function isIdentStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
}

/** Identifier at i: segments of [A-Za-z0-9_] joined by single dots, starting with a letter or _. Returns its end, or i. */
export function scanIdent(s: Src, i: number): number {
  if (!isIdentStart(s.at(i))) return i;
  let j = i;
  for (;;) {
    while (j < s.n && isWordChar(s.cps[j] as string)) j++;
    if (s.at(j) === '.' && isWordChar(s.at(j + 1))) j++;
    else return j;
  }
}

/** A plain word [A-Za-z0-9_]+ at i (keywords and word operators); returns its end. */
export function scanWord(s: Src, i: number): number {
  let j = i;
  while (j < s.n && isWordChar(s.cps[j] as string)) j++;
  return j;
}

export function fail(start: number, end: number, message: string): never {
  throw new RulesError('parse', start, Math.max(start, end), message);
}

/** True when a raw string starts at i: `r"` or `r#…#"`. */
export function isRawStart(s: Src, i: number): boolean {
  if (s.at(i) !== 'r') return false;
  let j = i + 1;
  while (s.at(j) === '#') j++;
  return s.at(j) === '"';
}

export interface StrLit {
  /** Decoded bytes (for regex-mode strings: the pattern text's bytes). */
  bytes: Uint8Array;
  end: number;
  raw: boolean;
}

/** Raw string at i (`r"…"`, `r#"…"#`, 1–255 `#`): content verbatim. */
export function scanRaw(s: Src, i: number): StrLit {
  let j = i + 1;
  let hashes = 0;
  while (s.at(j) === '#') {
    hashes++;
    j++;
  }
  if (hashes > 255) fail(i, j, 'a raw string has at most 255 "#"');
  j++; // opening quote
  const start = j;
  for (; j < s.n; j++) {
    if (s.cps[j] !== '"') continue;
    let k = 0;
    while (k < hashes && s.at(j + 1 + k) === '#') k++;
    if (k === hashes) return { bytes: utf8(s.slice(start, j)), end: j + 1 + hashes, raw: true };
  }
  return fail(i, s.n, `unterminated raw string: expected "${'#'.repeat(hashes)} before the end`);
}

const HEX = /^[0-9a-fA-F]$/;
const OCT = /^[0-7]$/;

/**
 * Quoted string at i (spec §4): `\"`, `\\`, `\xHH`, `\OOO` (≤ 255); any other escape is an error
 * at its backslash. Other characters stand for their UTF-8 bytes.
 */
export function scanQuoted(s: Src, i: number): StrLit {
  const out: number[] = [];
  let j = i + 1;
  while (j < s.n) {
    const c = s.cps[j] as string;
    if (c === '"') return { bytes: Uint8Array.from(out), end: j + 1, raw: false };
    if (c !== '\\') {
      if (c.charCodeAt(0) < 128) out.push(c.charCodeAt(0));
      else for (const b of utf8(c)) out.push(b);
      j++;
      continue;
    }
    const n = s.at(j + 1);
    if (n === '"' || n === '\\') {
      out.push(n.charCodeAt(0));
      j += 2;
    } else if (n === 'x') {
      out.push(escapeDigits(s, i, j, 2, HEX, 16, 'bad escape: \\x needs exactly two hex digits'));
      j += 4;
    } else if (OCT.test(n)) {
      const v = escapeDigits(s, i, j, 3, OCT, 8, 'bad escape: an octal escape is exactly three digits (\\000 to \\377)', 1);
      if (v > 255) fail(j, j + 4, `bad escape: \\${s.slice(j + 1, j + 4)} is above \\377`);
      out.push(v);
      j += 4;
    } else if (n === '') {
      fail(i, s.n, 'unterminated string');
    } else {
      fail(j, j + 2, `bad escape "\\${n}": only \\" \\\\ \\xHH and \\OOO are escapes in strings`);
    }
  }
  return fail(i, s.n, 'unterminated string: expected a closing "');
}

/**
 * The value of the `count` digits of an escape whose backslash is at j (`\xHH`: digits from j+2;
 * `\OOO`: from j+1, `skip` = 1). A non-digit is a bad escape at the backslash, covering the escape
 * up to and including that character (not a closing quote). Only when the input ends among the
 * digits is the string unterminated, at its opening quote i: `"\x"` is a bad escape, `"\x4` is
 * unterminated.
 */
function escapeDigits(s: Src, i: number, j: number, count: number, digit: RegExp, radix: number, bad: string, skip = 2): number {
  const from = j + skip;
  for (let k = from; k < from + count; k++) {
    const c = s.at(k);
    if (c === '') fail(i, s.n, 'unterminated string: expected a closing "');
    if (!digit.test(c)) fail(j, c === '"' ? k : k + 1, bad);
  }
  return Number.parseInt(s.slice(from, from + count), radix);
}

/**
 * Quoted pattern after `matches` (spec §5.1): a backslash and the next character are both kept,
 * except `\"` outside a character class, which becomes `"`; inside a class an unescaped `"` does
 * not end the string.
 */
export function scanRegexQuoted(s: Src, i: number): StrLit {
  let text = '';
  let depth = 0;
  let classStart = -1;
  let j = i + 1;
  while (j < s.n) {
    const c = s.cps[j] as string;
    if (c === '\\') {
      const n = s.at(j + 1);
      if (n === '') break;
      text += n === '"' && depth === 0 ? '"' : c + n;
      j += 2;
      continue;
    }
    if (depth === 0) {
      if (c === '"') return { bytes: utf8(text), end: j + 1, raw: false };
      if (c === '[') {
        depth = 1;
        classStart = j;
      }
    } else if (c === '[') {
      depth++;
    } else if (c === ']') {
      // A ']' right after '[' or '[^' is a literal member, not the end of the class.
      const prev = s.slice(classStart + 1, j);
      if (!(depth === 1 && (prev === '' || prev === '^'))) depth--;
    }
    text += c;
    j++;
  }
  return fail(i, s.n, depth > 0 ? 'unterminated string (inside a character class a " does not end the string)' : 'unterminated string: expected a closing "');
}

/** A bare literal token: the longest run of chars in `cls` at i. */
export function scanRun(s: Src, i: number, cls: RegExp): number {
  let j = i;
  while (j < s.n && cls.test(s.cps[j] as string)) j++;
  return j;
}

export const INT_CHARS = /^[0-9A-Za-z_]$/;
export const IP_CHARS = /^[0-9A-Za-z_.:]$/;
export const SET_IP_CHARS = /^[0-9A-Za-z_.:/]$/;

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/** Int literal text (spec §4): decimal, 0x hex, leading-0 octal, optional '-'. Null when malformed or out of i64. */
export function parseIntText(t: string): number | null {
  const neg = t.startsWith('-');
  const body = neg ? t.slice(1) : t;
  let big: bigint;
  if (/^0x[0-9a-fA-F]+$/.test(body)) big = BigInt(body);
  else if (/^0[0-7]*$/.test(body)) big = body === '0' ? 0n : BigInt(`0o${body.slice(1) || '0'}`);
  else if (/^[1-9][0-9]*$/.test(body)) big = BigInt(body);
  else return null;
  if (neg) big = -big;
  if (big < I64_MIN || big > I64_MAX) return null;
  return Number(big);
}

/** Hex byte string (spec §4): two or more two-hex-digit bytes separated by ':', '-' or '.'. */
export function parseHexBytes(t: string): Uint8Array | null {
  if (!/^[0-9a-fA-F]{2}([:.-][0-9a-fA-F]{2})+$/.test(t)) return null;
  return Uint8Array.from(t.split(/[:.-]/), (x) => Number.parseInt(x, 16));
}
export const HEX_CHARS = /^[0-9A-Za-z_:.-]$/;
