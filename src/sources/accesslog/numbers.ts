/** Numbers and addresses read in place from a line (no substring, no Number() per field). */

/** Unsigned decimal integer at s[a..b); -1 for `-` or empty; NaN when not digits. */
export function readUint(s: string, a: number, b: number): number {
  if (b <= a || (b - a === 1 && s.charCodeAt(a) === 0x2d)) return -1;
  if (b - a > 15) return Number.NaN;
  let n = 0;
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return Number.NaN;
    n = n * 10 + c;
  }
  return n;
}

/**
 * A decimal like `0.123` or `12` at the start of s[a..b), times `mul` (nginx's upstream times may
 * be lists, `0.010, 0.002`: the first is read); -1 for `-`, empty or no digits. Digits are summed
 * as an integer and divided once, so `0.120` s is 120 ms exactly, not 120.00000000000001.
 */
export function readDecimal(s: string, a: number, b: number, mul = 1): number {
  let n = 0;
  let div = 1;
  let frac = false;
  let any = false;
  for (let i = a; i < b && i - a < 20; i++) {
    const ch = s.charCodeAt(i);
    if (ch === 0x2e && !frac) {
      frac = true;
      continue;
    }
    const c = ch - 48;
    if (c < 0 || c > 9) break;
    any = true;
    n = n * 10 + c;
    if (frac) div *= 10;
  }
  return any ? (n * mul) / div : -1;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 102);
}

/**
 * s[a..b) looks like an IPv4 or IPv6 address (what GoAccess asks of %h, so that host names,
 * X-Forwarded-For lists and `unix:` in the client field make the line malformed as they do there).
 */
export function isIpText(s: string, a: number, b: number): boolean {
  const n = b - a;
  if (n < 2 || n > 45) return false;
  let colons = 0;
  let dots = 0;
  let part = 0;
  let digits = 0;
  let v4ok = true;
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x3a) {
      colons++;
      digits = 0;
      part = 0;
    } else if (c === 0x2e) {
      if (digits === 0 || part > 255) v4ok = false;
      dots++;
      digits = 0;
      part = 0;
    } else if (c >= 48 && c <= 57) {
      part = part * 10 + c - 48;
      digits++;
    } else if (isHex(c)) {
      v4ok = false;
      digits++;
    } else return false;
  }
  if (colons === 0) return v4ok && dots === 3 && digits > 0 && part <= 255;
  return colons >= 2 && colons <= 7 && (dots === 0 || dots === 3);
}

/** Dotted-quad IPv4 in s[a, b) as int32, or -1 (which is 255.255.255.255: not a client). */
export function parseV4(s: string, a: number, b: number): number {
  let acc = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else if (c === 0x2e) {
      if (digits === 0 || dots === 3) return -1;
      acc = (acc << 8) | part;
      part = 0;
      digits = 0;
      dots++;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return (acc << 8) | part;
}
