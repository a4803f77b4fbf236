/**
 * nginx and Apache escape what they write inside quoted fields: nginx writes `"`, `\` and bytes
 * outside 0x20..0x7e as `\xHH`; Apache writes `\"`, `\\` and `\xhh`, plus `\n` `\t` `\r`. Lines
 * are read as latin1 (one char per byte), so a decoded `\xHH` is the char with that byte value.
 */

function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

/** True when s[a..b) holds a backslash (the only thing that needs decoding). */
export function hasEscape(s: string, a: number, b: number): boolean {
  for (let i = a; i < b; i++) if (s.charCodeAt(i) === 0x5c) return true;
  return false;
}

/** s[a..b) with escapes decoded; anything that is not a known escape is kept as written. */
export function decodeEscapes(s: string, a: number, b: number): string {
  let out = '';
  let from = a;
  for (let i = a; i < b; i++) {
    if (s.charCodeAt(i) !== 0x5c || i + 1 >= b) continue;
    const n = s.charCodeAt(i + 1);
    let ch = -1;
    let len = 2;
    if (n === 0x78 && i + 3 < b) {
      const h = hex(s.charCodeAt(i + 2));
      const l = hex(s.charCodeAt(i + 3));
      if (h >= 0 && l >= 0) {
        ch = (h << 4) | l;
        len = 4;
      }
    } else if (n === 0x22 || n === 0x5c) ch = n;
    else if (n === 0x6e) ch = 10;
    else if (n === 0x74) ch = 9;
    else if (n === 0x72) ch = 13;
    if (ch < 0) continue;
    out += s.slice(from, i) + String.fromCharCode(ch);
    i += len - 1;
    from = i + 1;
  }
  return from === a ? s.slice(a, b) : out + s.slice(from, b);
}

/** The inverse, nginx's way: for comparing with tools that keep the escaped text (GoAccess). */
export function encodeEscapes(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) out += `\\x${c.toString(16).toUpperCase().padStart(2, '0')}`;
    else out += s[i];
  }
  return out;
}
