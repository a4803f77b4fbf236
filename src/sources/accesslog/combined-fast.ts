/**
 * The nginx/Apache `combined` format read in one pass: the shape nearly every line of such a log
 * has (a dotted-quad client, `-` as user, a 26-char CLF time, three digits of status, a byte count)
 * checked char by char where it is, and the three quoted fields ended by one search for a quote
 * each. Whatever does not have that shape (an IPv6 client, a user name, an escaped quote, a
 * malformed line) is left to the general parser (text-parser.ts), which then reads the line from
 * its start: a record made here is the one the general parser makes of the line, field for field.
 *
 * Why: the general parser searches each literal of the format with indexOf (a native call each,
 * eight a line) and dispatches on each field's kind; for the common format that was most of the
 * parsing's cost.
 */
import { FieldKind, type TextFormat } from './format.js';
import { isIpText } from './numbers.js';
import type { Finder } from './text-parser.js';
import { clfTimeInto } from './time.js';
import { type HttpLogView, Slot } from './view.js';

const COMBINED_KINDS = [
  FieldKind.CLIENT,
  FieldKind.USER,
  FieldKind.TIME_CLF,
  FieldKind.REQUEST,
  FieldKind.STATUS,
  FieldKind.RESPONSE_SIZE,
  FieldKind.REFERER,
  FieldKind.USER_AGENT,
];
const COMBINED_LITS = [' - ', ' [', '] "', '" ', ' ', ' "', '" "', '"'];

/** Is `f` the combined program (whatever its name: nginx's and Apache's compile alike)? */
export function isCombined(f: TextFormat): boolean {
  if (f.lead !== '' || f.kinds.length !== COMBINED_KINDS.length) return false;
  for (let i = 0; i < COMBINED_KINDS.length; i++) if (f.kinds[i] !== COMBINED_KINDS[i] || f.lits[i] !== COMBINED_LITS[i]) return false;
  return true;
}

/**
 * Read the combined fields of s[start, end) into v (reset by the caller) but the request line,
 * whose range goes to req[0..1]; returns where the trailing fields start, or -1: not the common
 * shape, let the general parser read the line. `fd` is the general parser's quote search over the
 * same piece of text (slot `quote`).
 */
export function parseCombined(s: string, start: number, end: number, v: HttpLogView, fd: Finder, quote: number, req: Int32Array): number {
  // Client: a dotted quad, read as it is scanned, ended by ` - ` (nothing before it can hold one).
  let p = start;
  let acc = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  let quad = true;
  for (; p < end; p++) {
    const c = s.charCodeAt(p);
    if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) {
        quad = false;
        break;
      }
    } else if (c === 0x2e) {
      if (digits === 0 || dots === 3) {
        quad = false;
        break;
      }
      acc = (acc << 8) | part;
      part = 0;
      digits = 0;
      dots++;
    } else break;
  }
  if (quad && dots === 3 && digits > 0) {
    if (p + 5 > end || s.charCodeAt(p) !== 0x20 || s.charCodeAt(p + 1) !== 0x2d || s.charCodeAt(p + 2) !== 0x20) return -1;
    v.setRange(Slot.CLIENT, start, p);
    v.hasV4 = true;
    v.clientV4 = (acc << 8) | part;
  } else {
    // Not a dotted quad: an IPv6 address (hex digits, colons, perhaps a dotted quad at its end).
    for (p = start; p < end; p++) {
      const c = s.charCodeAt(p) | 0x20;
      if (!((c >= 48 && c <= 58) || (c >= 97 && c <= 102) || c === 0x2e)) break;
    }
    if (p + 5 > end || s.charCodeAt(p) !== 0x20 || s.charCodeAt(p + 1) !== 0x2d || s.charCodeAt(p + 2) !== 0x20 || !isIpText(s, start, p)) return -1;
    v.setRange(Slot.CLIENT, start, p);
  }
  // User `-` (not logged), then ` [`.
  p += 3;
  if (s.charCodeAt(p) !== 0x2d || s.charCodeAt(p + 1) !== 0x20 || s.charCodeAt(p + 2) !== 0x5b) return -1;
  p += 3;
  // The time: `dd/Mon/yyyy:hh:mm:ss +zzzz` exactly (so no `]` inside it), then `] "`.
  if (
    p + 29 > end ||
    s.charCodeAt(p + 14) !== 0x3a ||
    s.charCodeAt(p + 17) !== 0x3a ||
    s.charCodeAt(p + 20) !== 0x20 ||
    s.charCodeAt(p + 26) !== 0x5d ||
    s.charCodeAt(p + 27) !== 0x20 ||
    s.charCodeAt(p + 28) !== 0x22 ||
    !clfTimeInto(s, p, p + 26, v.nums, 0)
  )
    return -1;
  // The request line, to the first unescaped quote, which `" ` must end.
  p += 29;
  let q = fd.find(quote, '"', p);
  if (q < 0 || q + 2 > end || s.charCodeAt(q + 1) !== 0x20 || (q > p && s.charCodeAt(q - 1) === 0x5c)) return -1;
  const reqStart = p;
  const reqEnd = q;
  // Status: three digits and a space.
  p = q + 2;
  const d0 = s.charCodeAt(p) - 48;
  const d1 = s.charCodeAt(p + 1) - 48;
  const d2 = s.charCodeAt(p + 2) - 48;
  if (d0 < 1 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9 || s.charCodeAt(p + 3) !== 0x20) return -1;
  // Bytes sent: digits, then ` "`.
  p += 4;
  let n = 0;
  let i = p;
  for (; i < end && i - p <= 15; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    n = n * 10 + c;
  }
  if (i === p || i - p > 15 || i + 2 > end || s.charCodeAt(i) !== 0x20 || s.charCodeAt(i + 1) !== 0x22) return -1;
  // Referer, to a quote that `" "` follows; then the user agent, to the next quote.
  p = i + 2;
  q = fd.find(quote, '"', p);
  if (q < 0 || q + 3 > end || s.charCodeAt(q + 1) !== 0x20 || s.charCodeAt(q + 2) !== 0x22 || (q > p && s.charCodeAt(q - 1) === 0x5c)) return -1;
  const refStart = p;
  const refEnd = q;
  p = q + 3;
  q = fd.find(quote, '"', p);
  if (q < 0 || q + 1 > end || (q > p && s.charCodeAt(q - 1) === 0x5c)) return -1;
  // Every check passed: the rest cannot send the line to the general parser.
  v.status = d0 * 100 + d1 * 10 + d2;
  v.responseSize = n;
  req[0] = reqStart;
  req[1] = reqEnd;
  if (refEnd > refStart && !(refEnd - refStart === 1 && s.charCodeAt(refStart) === 0x2d)) v.setRange(Slot.REFERER, refStart, refEnd);
  if (q > p && !(q - p === 1 && s.charCodeAt(p) === 0x2d)) v.setRange(Slot.USER_AGENT, p, q);
  return q + 1;
}
