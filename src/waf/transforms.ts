/**
 * ModSecurity transformation functions over latin1 "byte strings" (one char per byte).
 * Each returns the input string itself when nothing changed, so callers can skip work
 * (and multiMatch can tell whether a step changed the value).
 */
import * as crypto from 'node:crypto';

export type Transform = (s: string) => string;

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function isHex(c: number): boolean {
  return hexVal(c) >= 0;
}

const fromCode = String.fromCharCode;

/** Output buffer reused by the byte-at-a-time transformations (their output is never longer
 * than their input); read back with toString('latin1', 0, n). */
let scratch = Buffer.allocUnsafe(4096);
function scratchFor(n: number): Buffer {
  if (scratch.length < n) scratch = Buffer.allocUnsafe(n * 2);
  return scratch;
}

/** true when every character is a byte (the buffer paths need that; others use strings) */
function bytesOnly(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 255) return false;
  return true;
}

/** %XX and `+`; invalid escapes are kept as they are. */
export function urlDecode(s: string): string {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  if (bytesOnly(s)) {
    const n = s.length;
    const out = scratchFor(n);
    let o = 0;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c === 37 && i + 2 < n && isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2))) {
        out[o++] = hexVal(s.charCodeAt(i + 1)) * 16 + hexVal(s.charCodeAt(i + 2));
        i += 2;
      } else out[o++] = c === 43 ? 32 : c;
    }
    return out.toString('latin1', 0, o);
  }
  let out = '';
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 && i + 2 < n && isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2))) {
      out += fromCode(hexVal(s.charCodeAt(i + 1)) * 16 + hexVal(s.charCodeAt(i + 2)));
      i += 2;
    } else if (c === 43) out += ' ';
    else out += s[i];
  }
  return out;
}

/** Full-width ASCII (U+FF01..U+FF5E) maps to ASCII, other code points to their low byte. */
function uniByte(hi: number, lo: number): number {
  if (hi === 0xff && lo >= 0x01 && lo <= 0x5e) return lo + 0x20;
  return lo;
}

/** urlDecode plus IIS-style %uHHHH. */
export function urlDecodeUni(s: string): string {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  if (bytesOnly(s)) {
    const n = s.length;
    const out = scratchFor(n);
    let o = 0;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c === 37) {
        const c1 = s.charCodeAt(i + 1);
        if ((c1 === 117 || c1 === 85) && i + 5 < n) {
          const h0 = hexVal(s.charCodeAt(i + 2));
          const h1 = hexVal(s.charCodeAt(i + 3));
          const h2 = hexVal(s.charCodeAt(i + 4));
          const h3 = hexVal(s.charCodeAt(i + 5));
          if (h0 >= 0 && h1 >= 0 && h2 >= 0 && h3 >= 0) {
            out[o++] = uniByte(h0 * 16 + h1, h2 * 16 + h3);
            i += 5;
            continue;
          }
        }
        if (i + 2 < n && isHex(c1) && isHex(s.charCodeAt(i + 2))) {
          out[o++] = hexVal(c1) * 16 + hexVal(s.charCodeAt(i + 2));
          i += 2;
          continue;
        }
        out[o++] = 37;
      } else out[o++] = c === 43 ? 32 : c;
    }
    return out.toString('latin1', 0, o);
  }
  let out = '';
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 37) {
      const c1 = s.charCodeAt(i + 1);
      if ((c1 === 117 || c1 === 85) && i + 5 < n) {
        const h0 = hexVal(s.charCodeAt(i + 2));
        const h1 = hexVal(s.charCodeAt(i + 3));
        const h2 = hexVal(s.charCodeAt(i + 4));
        const h3 = hexVal(s.charCodeAt(i + 5));
        if (h0 >= 0 && h1 >= 0 && h2 >= 0 && h3 >= 0) {
          out += fromCode(uniByte(h0 * 16 + h1, h2 * 16 + h3));
          i += 5;
          continue;
        }
      }
      if (i + 2 < n && isHex(c1) && isHex(s.charCodeAt(i + 2))) {
        out += fromCode(hexVal(c1) * 16 + hexVal(s.charCodeAt(i + 2)));
        i += 2;
        continue;
      }
      out += '%';
    } else if (c === 43) out += ' ';
    else out += s[i];
  }
  return out;
}

const ENTITIES: Record<string, number> = { quot: 34, amp: 38, lt: 60, gt: 62, nbsp: 160 };

export function htmlEntityDecode(s: string): string {
  if (s.indexOf('&') < 0) return s;
  let out = '';
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c !== 38) {
      out += s[i];
      continue;
    }
    let j = i + 1;
    if (s.charCodeAt(j) === 35) {
      j++;
      const hex = s.charCodeAt(j) === 120 || s.charCodeAt(j) === 88;
      if (hex) j++;
      const st = j;
      let v = 0;
      while (j < n && (hex ? isHex(s.charCodeAt(j)) : s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57)) {
        v = hex ? v * 16 + hexVal(s.charCodeAt(j)) : v * 10 + (s.charCodeAt(j) - 48);
        if (v > 0x10ffff) v = 0x10ffff;
        j++;
      }
      if (j === st) {
        out += '&';
        continue;
      }
      out += fromCode(v & 0xff);
      if (s.charCodeAt(j) === 59) j++;
      i = j - 1;
      continue;
    }
    const st = j;
    while (j < n && j - st < 8 && (s.charCodeAt(j) | 32) >= 97 && (s.charCodeAt(j) | 32) <= 122) j++;
    const name = s.slice(st, j).toLowerCase();
    const v = ENTITIES[name];
    if (v === undefined) {
      out += '&';
      continue;
    }
    out += fromCode(v);
    if (s.charCodeAt(j) === 59) j++;
    i = j - 1;
  }
  return out;
}

export function jsDecode(s: string): string {
  if (s.indexOf('\\') < 0) return s;
  let out = '';
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c !== 92 || i + 1 >= n) {
      out += s[i];
      continue;
    }
    const d = s[i + 1];
    if (d === 'u' && i + 5 < n) {
      const h = [2, 3, 4, 5].map((k) => hexVal(s.charCodeAt(i + k)));
      if (h.every((x) => x >= 0)) {
        out += fromCode(uniByte(h[0] * 16 + h[1], h[2] * 16 + h[3]));
        i += 5;
        continue;
      }
    }
    if (d === 'x' && i + 3 < n + 0 && isHex(s.charCodeAt(i + 2)) && isHex(s.charCodeAt(i + 3))) {
      out += fromCode(hexVal(s.charCodeAt(i + 2)) * 16 + hexVal(s.charCodeAt(i + 3)));
      i += 3;
      continue;
    }
    if (d >= '0' && d <= '7') {
      let j = i + 1;
      let v = 0;
      while (j < n && j < i + 4 && s[j] >= '0' && s[j] <= '7') {
        v = v * 8 + (s.charCodeAt(j) - 48);
        j++;
      }
      out += fromCode(v & 0xff);
      i = j - 1;
      continue;
    }
    switch (d) {
      case 'a':
        out += '\x07';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      default:
        out += d;
    }
    i++;
  }
  return out;
}

export function cssDecode(s: string): string {
  if (s.indexOf('\\') < 0) return s;
  let out = '';
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c !== 92) {
      out += s[i];
      continue;
    }
    if (i + 1 >= n) break; // a lone trailing backslash is dropped
    let j = i + 1;
    let digits = 0;
    while (j < n && digits < 6 && isHex(s.charCodeAt(j))) {
      j++;
      digits++;
    }
    if (digits > 0) {
      const hs = s.slice(i + 1, j);
      let v = Number.parseInt(hs.slice(-2), 16);
      if (digits >= 4) {
        const hi = Number.parseInt(hs.slice(-4, -2), 16);
        const full = Number.parseInt(hs, 16);
        if (hi === 0xff && full <= 0xffff) v = uniByte(hi, v);
      }
      out += fromCode(v);
      const w = s.charCodeAt(j);
      if (w === 32 || w === 9 || w === 10 || w === 13 || w === 12 || w === 11) j++;
      i = j - 1;
      continue;
    }
    if (s.charCodeAt(j) === 10) {
      i = j;
      continue;
    }
    out += s[j];
    i = j;
  }
  return out;
}

function isWs(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 160;
}

export function removeWhitespace(s: string): string {
  if (!/[\t-\r \xa0]/.test(s)) return s;
  let out = '';
  let changed = false;
  for (let i = 0; i < s.length; i++) {
    if (isWs(s.charCodeAt(i))) changed = true;
    else out += s[i];
  }
  return changed ? out : s;
}

const NEEDS_COMPRESS = /[\t\n\v\f\r\xa0]| {2}/;

export function compressWhitespace(s: string): string {
  if (!NEEDS_COMPRESS.test(s)) return s;
  let out = '';
  let inWs = false;
  for (let i = 0; i < s.length; i++) {
    if (isWs(s.charCodeAt(i))) {
      if (!inWs) out += ' ';
      inWs = true;
    } else {
      out += s[i];
      inWs = false;
    }
  }
  return out === s ? s : out;
}

export function removeNulls(s: string): string {
  return s.indexOf('\0') < 0 ? s : s.replace(/\0/g, '');
}

export function replaceNulls(s: string): string {
  return s.indexOf('\0') < 0 ? s : s.replace(/\0/g, ' ');
}

export function replaceComments(s: string): string {
  if (s.indexOf('/*') < 0) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    const st = s.indexOf('/*', i);
    if (st < 0) {
      out += s.slice(i);
      break;
    }
    out += `${s.slice(i, st)} `;
    const en = s.indexOf('*/', st + 2);
    if (en < 0) break;
    i = en + 2;
  }
  return out;
}

export function removeComments(s: string): string {
  return s.replace(/\/\*[\s\S]*?(?:\*\/|$)|<!--[\s\S]*?(?:-->|$)|--[^\n]*|#[^\n]*/g, '');
}

/** Windows/Unix command-line normalisation (the `cmdLine` transformation). */
const CMDLINE_CHANGES = /[\\"'^,;A-Z\t-\r]|^ | {2}| $| [/(]/;

export function cmdLine(s: string): string {
  if (!CMDLINE_CHANGES.test(s)) return s;
  if (bytesOnly(s)) {
    const n = s.length;
    const out = scratchFor(n);
    let o = 0;
    let space = false;
    for (let i = 0; i < n; i++) {
      let c = s.charCodeAt(i);
      if (c === 92 || c === 34 || c === 39 || c === 94) continue;
      if (c === 44 || c === 59) c = 32;
      if (c === 32 || (c >= 9 && c <= 13)) {
        space = true;
        continue;
      }
      if (c === 47 || c === 40) space = false;
      else if (space && o > 0) out[o++] = 32;
      space = false;
      out[o++] = c >= 65 && c <= 90 ? c + 32 : c;
    }
    return out.toString('latin1', 0, o);
  }
  let out = '';
  let space = false;
  for (let i = 0; i < s.length; i++) {
    let c = s[i];
    if (c === '\\' || c === '"' || c === "'" || c === '^') continue;
    if (c === ',' || c === ';') c = ' ';
    const code = c.charCodeAt(0);
    if (code === 32 || (code >= 9 && code <= 13)) {
      space = true;
      continue;
    }
    if (c === '/' || c === '(') {
      space = false;
    } else if (space && out.length > 0) {
      out += ' ';
    }
    space = false;
    out += code >= 65 && code <= 90 ? fromCode(code + 32) : c;
  }
  return out;
}

const PATH_CHANGES = /\/\/|(?:^|\/)\.\.?(?:\/|$)/;

export function normalizePath(s: string): string {
  if (!PATH_CHANGES.test(s)) return s;
  const abs = s.startsWith('/');
  const trailing = s.endsWith('/') || s.endsWith('/.') || s.endsWith('/..') || s === '.' || s === '..';
  const parts = s.split('/');
  const out: string[] = [];
  for (const part of parts) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop();
      else if (!abs) out.push('..');
      continue;
    }
    out.push(part);
  }
  let r = (abs ? '/' : '') + out.join('/');
  if (trailing && out.length) r += '/';
  if (r === '' && !abs) r = trailing && s !== '' ? '' : '';
  return r;
}

export function normalizePathWin(s: string): string {
  return normalizePath(s.indexOf('\\') < 0 ? s : s.replace(/\\/g, '/'));
}

/** UTF-8 sequences become %uHHHH (so a later urlDecodeUni folds them). */
const HIGH = /[\x80-\xff]/;

export function utf8toUnicode(s: string): string {
  if (!HIGH.test(s)) return s;
  let out = '';
  let changed = false;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      out += s[i];
      continue;
    }
    let len = 0;
    let cp = 0;
    if ((c & 0xe0) === 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) === 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) === 0xf0) {
      len = 4;
      cp = c & 0x07;
    }
    let ok = len > 0 && i + len <= n;
    for (let k = 1; ok && k < len; k++) {
      const d = s.charCodeAt(i + k);
      if ((d & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (d & 0x3f);
    }
    if (!ok) {
      out += s[i];
      continue;
    }
    changed = true;
    out += `%u${(cp & 0xffff).toString(16).padStart(4, '0')}`;
    i += len - 1;
  }
  return changed ? out : s;
}

const B64 = new Int8Array(256).fill(-1);
for (let i = 0; i < 64; i++) B64['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;
let b64out = Buffer.allocUnsafe(1024);

/** Decodes the leading run of base64 characters (a partial last group gives what bytes it
 * completes), as Buffer.from(run, 'base64') does, without the intermediate strings. */
export function base64Decode(s: string): string {
  const n = s.length;
  if (b64out.length < n) b64out = Buffer.allocUnsafe(n * 2);
  const out = b64out;
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    const v = c < 256 ? B64[c] : -1;
    if (v < 0) break;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out.toString('latin1', 0, o);
}

export function base64DecodeExt(s: string): string {
  return Buffer.from(s.replace(/[^A-Za-z0-9+/]/g, ''), 'base64').toString('latin1');
}

export function base64Encode(s: string): string {
  return Buffer.from(s, 'latin1').toString('base64');
}

export function hexEncode(s: string): string {
  return Buffer.from(s, 'latin1').toString('hex');
}

export function hexDecode(s: string): string {
  return Buffer.from(s.length % 2 ? s.slice(0, -1) : s, 'hex').toString('latin1');
}

/** Digest of the bytes of `s` as a byte string. The one-shot `crypto.hash` (Node 20.12) costs
 * about a third of a Hash object, which CRS pays on every request (t:sha1 of the User-Agent). */
function digest(alg: 'sha1' | 'md5', s: string): string {
  const bytes = Buffer.from(s, 'latin1');
  if (typeof crypto.hash === 'function') return crypto.hash(alg, bytes, 'binary');
  return crypto.createHash(alg).update(bytes).digest().toString('latin1');
}

export function sha1(s: string): string {
  return digest('sha1', s);
}

export function md5(s: string): string {
  return digest('md5', s);
}

const UPPER = /[A-Z\xc0-\xde]/;

export function lowercase(s: string): string {
  return UPPER.test(s) ? s.toLowerCase() : s;
}

export function uppercase(s: string): string {
  return s.toUpperCase();
}

export function trim(s: string): string {
  return s.replace(/^[\t-\r ]+|[\t-\r ]+$/g, '');
}

export function trimLeft(s: string): string {
  return s.replace(/^[\t-\r ]+/, '');
}

export function trimRight(s: string): string {
  return s.replace(/[\t-\r ]+$/, '');
}

export function length(s: string): string {
  return String(s.length);
}

/** Escape sequences as in ANSI C (`escapeSeqDecode`). */
export function escapeSeqDecode(s: string): string {
  return jsDecode(s);
}

export const TRANSFORMS: Record<string, Transform> = {
  lowercase,
  uppercase,
  urldecode: urlDecode,
  urldecodeuni: urlDecodeUni,
  htmlentitydecode: htmlEntityDecode,
  jsdecode: jsDecode,
  cssdecode: cssDecode,
  cmdline: cmdLine,
  compresswhitespace: compressWhitespace,
  removewhitespace: removeWhitespace,
  removenulls: removeNulls,
  replacenulls: replaceNulls,
  replacecomments: replaceComments,
  removecomments: removeComments,
  removecommentschar: (s) => s.replace(/\/\*|\*\/|--|#/g, ''),
  normalisepath: normalizePath,
  normalizepath: normalizePath,
  normalisepathwin: normalizePathWin,
  normalizepathwin: normalizePathWin,
  base64decode: base64Decode,
  base64decodeext: base64DecodeExt,
  base64encode: base64Encode,
  hexdecode: hexDecode,
  hexencode: hexEncode,
  sqlhexdecode: (s) => s.replace(/0x([0-9a-fA-F]{2})+/g, (m) => hexDecode(m.slice(2))),
  utf8tounicode: utf8toUnicode,
  sha1,
  md5,
  length,
  trim,
  trimleft: trimLeft,
  trimright: trimRight,
  escapeseqdecode: escapeSeqDecode,
  urlencode: (s) => encodeURIComponent(s),
};
