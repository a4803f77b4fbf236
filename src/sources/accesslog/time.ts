/**
 * Log timestamps to epoch milliseconds without Date parsing or allocation: access logs carry one
 * per line, so `[10/Oct/2000:13:55:36 -0700]` and ISO-8601 are read digit by digit from the line.
 * NaN means "not a time"; the caller decides whether that makes the line malformed.
 */

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function dig(s: string, i: number): number {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1000;
}
function num2(s: string, i: number): number {
  return dig(s, i) * 10 + dig(s, i + 1);
}

/** Month from the three letters at i ("Jan".."Dec", case as nginx/Apache write them), or 0. */
function month3(s: string, i: number): number {
  const k = (s.charCodeAt(i) << 16) | (s.charCodeAt(i + 1) << 8) | s.charCodeAt(i + 2);
  switch (k) {
    case 0x4a616e:
      return 1;
    case 0x466562:
      return 2;
    case 0x4d6172:
      return 3;
    case 0x417072:
      return 4;
    case 0x4d6179:
      return 5;
    case 0x4a756e:
      return 6;
    case 0x4a756c:
      return 7;
    case 0x417567:
      return 8;
    case 0x536570:
      return 9;
    case 0x4f6374:
      return 10;
    case 0x4e6f76:
      return 11;
    case 0x446563:
      return 12;
    default:
      return 0;
  }
}

/** s holds t at a. */
function sameAt(s: string, a: number, t: string): boolean {
  for (let i = t.length - 1; i >= 0; i--) if (s.charCodeAt(a + i) !== t.charCodeAt(i)) return false;
  return true;
}

/** The last date read by parseClfTime (`10/Oct/2000`) and its day number: a log's lines share dates. */
let lastDate = '';
let lastDays = 0;
/**
 * The same for the minute and zone (`10/Oct/2000:13:55` + ` -0700`): most lines repeat both. Kept
 * as char codes (MINUTE_CHARS, then ZONE_CHARS), not strings: a 17-char slice of the line is a
 * view of the reader's 64 KiB piece (keeping it alive), and comparing chars with a view, and with
 * strings of two representations in one loop, is slow (measured on the generated log, best of 40
 * passes: 110 ns a cached time as strings, 70 ns as codes).
 */
const MINUTE_CHARS = 17;
const ZONE_CHARS = 6;
const lastMinute = new Int32Array(MINUTE_CHARS + ZONE_CHARS);
let haveMinute = false;
const lastMinuteMs = new Float64Array(1);

/** s holds the last minute at a and the last zone at a + 20. */
function sameMinute(s: string, a: number): boolean {
  const m = lastMinute;
  // The minute's digits first: they are what changes.
  for (let i = MINUTE_CHARS - 1; i >= 0; i--) if (s.charCodeAt(a + i) !== m[i]) return false;
  for (let i = 0; i < ZONE_CHARS; i++) if (s.charCodeAt(a + 20 + i) !== m[MINUTE_CHARS + i]) return false;
  return true;
}

const scratch = new Float64Array(1);

/** `10/Oct/2000:13:55:36 -0700` at s[a..b) (brackets already stripped or not); NaN when not a time. */
export function parseClfTime(s: string, a: number, b: number): number {
  return clfTimeInto(s, a, b, scratch, 0) ? scratch[0] : Number.NaN;
}

/**
 * parseClfTime writing into out[i] (NaN when not a time) and saying whether it read one: the
 * line parser's form, since a double returned from a call that is not inlined is a heap number.
 */
export function clfTimeInto(s: string, a: number, b: number, out: Float64Array, i: number): boolean {
  out[i] = Number.NaN;
  if (s.charCodeAt(a) === 0x5b) a++;
  if (b - a < 20) return false;
  // Compared char by char where they are: s may be a piece of the log holding many lines, where
  // indexOf would search the rest of it on a miss, and a slice to compare with === would allocate.
  if (haveMinute && b - a >= 26 && s.charCodeAt(a + 17) === 0x3a && sameMinute(s, a)) {
    const sec = num2(s, a + 18);
    if (sec >= 0 && sec <= 60) {
      out[i] = lastMinuteMs[0] + sec * 1000;
      return true;
    }
  }
  let days: number;
  if (lastDate !== '' && sameAt(s, a, lastDate)) days = lastDays;
  else {
    const d = num2(s, a);
    const m = month3(s, a + 3);
    const y = num2(s, a + 7) * 100 + num2(s, a + 9);
    if (s.charCodeAt(a + 2) !== 0x2f || s.charCodeAt(a + 6) !== 0x2f || m === 0 || d < 1 || d > 31 || y < 0) return false;
    days = daysFromCivil(y, m, d);
    lastDate = s.slice(a, a + 11);
    lastDays = days;
  }
  if (s.charCodeAt(a + 11) !== 0x3a) return false;
  const hh = num2(s, a + 12);
  const mm = num2(s, a + 15);
  const ss = num2(s, a + 18);
  if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60) return false;
  let off = 0;
  if (b - a >= 26 && s.charCodeAt(a + 20) === 0x20) {
    const sign = s.charCodeAt(a + 21);
    const oh = num2(s, a + 22);
    const om = num2(s, a + 24);
    if ((sign !== 0x2b && sign !== 0x2d) || oh < 0 || om < 0) return false;
    off = (sign === 0x2d ? -1 : 1) * (oh * 60 + om);
  }
  const minuteMs = ((days * 24 + hh) * 60 + mm - off) * 60000;
  if (b - a >= 26) {
    for (let i = 0; i < MINUTE_CHARS; i++) lastMinute[i] = s.charCodeAt(a + i);
    for (let i = 0; i < ZONE_CHARS; i++) lastMinute[MINUTE_CHARS + i] = s.charCodeAt(a + 20 + i);
    haveMinute = true;
    lastMinuteMs[0] = minuteMs;
  }
  out[i] = minuteMs + ss * 1000;
  return true;
}

/**
 * ISO-8601 / RFC 3339 at s[a..b): `2000-10-10T13:55:36`, optional fraction, then `Z`, `+hh:mm`,
 * `+hhmm` or nothing (read as UTC). A space instead of `T` is accepted (nginx-style exports).
 */
export function parseIsoTime(s: string, a: number, b: number): number {
  if (b - a < 19) return Number.NaN;
  const y = num2(s, a) * 100 + num2(s, a + 2);
  const m = num2(s, a + 5);
  const d = num2(s, a + 8);
  const t = s.charCodeAt(a + 10);
  if (s.charCodeAt(a + 4) !== 0x2d || s.charCodeAt(a + 7) !== 0x2d || (t !== 0x54 && t !== 0x20 && t !== 0x74)) return Number.NaN;
  const hh = num2(s, a + 11);
  const mm = num2(s, a + 14);
  const ss = num2(s, a + 17);
  if (y < 0 || m < 1 || m > 12 || d < 1 || d > 31 || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60) return Number.NaN;
  let i = a + 19;
  let frac = 0;
  if (i < b && (s.charCodeAt(i) === 0x2e || s.charCodeAt(i) === 0x2c)) {
    i++;
    let scale = 100;
    while (i < b) {
      const c = dig(s, i);
      if (c < 0) break;
      frac += c * scale;
      scale /= 10;
      i++;
    }
  }
  let off = 0;
  if (i < b) {
    const z = s.charCodeAt(i);
    if (z === 0x2b || z === 0x2d) {
      const oh = num2(s, i + 1);
      const om = s.charCodeAt(i + 3) === 0x3a ? num2(s, i + 4) : num2(s, i + 3);
      if (oh < 0 || om < 0) return Number.NaN;
      off = (z === 0x2d ? -1 : 1) * (oh * 60 + om);
    } else if (z !== 0x5a && z !== 0x7a) return Number.NaN;
  }
  return ((daysFromCivil(y, m, d) * 24 + hh) * 60 + mm - off) * 60000 + ss * 1000 + Math.floor(frac);
}

/**
 * A number that is a time of unknown unit (Cloudflare's EdgeStartTimestamp is ns, ms or s
 * depending on the job's timestamp option): judged by magnitude, fine until the year 2286.
 */
export function epochToMs(n: number): number {
  if (!Number.isFinite(n) || n < 0) return Number.NaN;
  // Rounded, not cut: a nanosecond count above 2^53 has already lost its last digits in JSON.parse.
  if (n >= 1e17) return Math.round(n / 1e6);
  if (n >= 1e14) return Math.round(n / 1e3);
  if (n >= 1e11) return n;
  return Math.round(n * 1000);
}

/** A time from a JSON value: number (epoch in s/ms/µs/ns) or text (ISO-8601, or digits). */
export function jsonTimeToMs(v: unknown): number {
  if (typeof v === 'number') return epochToMs(v);
  if (typeof v === 'string') {
    const iso = parseIsoTime(v, 0, v.length);
    if (!Number.isNaN(iso)) return iso;
    const clf = parseClfTime(v, 0, v.length);
    if (!Number.isNaN(clf)) return clf;
    if (v.length > 0 && v.length < 25) {
      const n = Number(v);
      if (!Number.isNaN(n)) return epochToMs(n);
    }
  }
  return Number.NaN;
}
