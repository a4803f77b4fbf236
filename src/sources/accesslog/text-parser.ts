/**
 * Runs a compiled TextFormat (format.ts) over one line into the reused HttpLogView: literals are
 * matched with startsWith/indexOf, fields are left as offsets, numbers and times are read in
 * place. Returns false when the line does not fit the format (the reader counts it as malformed).
 *
 * What makes a line malformed follows GoAccess 1.7, the corpus's truth: the client must be an
 * address (not a host name or an X-Forwarded-For list), the time must parse, the status must be a
 * number, and every literal of the format must be where the format says. A request line that is
 * not `METHOD URI HTTP/x` (`-`, `""`, binary junk) does not make the line malformed: the record is
 * kept with the raw request line as its path, as GoAccess keeps it.
 */
import { isCombined, parseCombined } from './combined-fast.js';
import { FieldKind, nginxVariableKind, type TextFormat } from './format.js';
import { isIpText, parseV4, readDecimal, readUint } from './numbers.js';
import { clfTimeInto, parseIsoTime } from './time.js';
import { type HttpLogView, isHttpSlash, MAX_EXTRA, Slot, versionCode } from './view.js';

export interface TextParseOptions {
  /** Require an IP address in the client field (default true, as GoAccess does). */
  strictClient?: boolean;
  /** Read the combined format's common shape in one pass (combined-fast.ts; default true). False: the general reading only (tests compare the two). */
  oneShape?: boolean;
}

function isMethodChar(c: number): boolean {
  return (c >= 65 && c <= 90) || c === 0x2d || c === 0x5f;
}

/** Split a request line s[a..b) into method, path, query and version slots. */
export function splitRequest(s: string, a: number, b: number, v: HttpLogView, fd: Finder | null = null): void {
  let i = a;
  while (i < b && i - a <= 32 && isMethodChar(s.charCodeAt(i))) i++;
  if (i > a && i < b && i - a <= 32 && s.charCodeAt(i) === 0x20) {
    const uriStart = i + 1;
    let j = b;
    while (j > uriStart && s.charCodeAt(j - 1) !== 0x20) j--;
    let uriEnd = b;
    let version = 0;
    if (j > uriStart && b - j >= 6 && isHttpSlash(s, j)) {
      uriEnd = j - 1;
      version = versionCode(s, j, b);
    }
    if (uriEnd > uriStart) {
      v.setRange(Slot.METHOD, a, i);
      splitUri(s, uriStart, uriEnd, v, fd);
      v.version = version;
      v.requestOk = true;
      return;
    }
  }
  v.setRange(Slot.PATH, a, b);
  v.requestOk = false;
}

/**
 * `/p?q` at s[a..b) into PATH and QUERY (query without the `?`). `fd` searches s when it is a
 * piece of the log holding many lines; without it s is one line or one value, so indexOf cannot
 * run far past b.
 */
export function splitUri(s: string, a: number, b: number, v: HttpLogView, fd: Finder | null = null): void {
  let q = fd === null ? s.indexOf('?', a) : fd.find(F_QUESTION, '?', a);
  if (q < 0 || q > b) q = b;
  v.setRange(Slot.PATH, a, q);
  if (q < b) v.setRange(Slot.QUERY, q + 1, b);
}

/** Keys of trailing `key=value` fields that mean something beyond a header. */
const EXTRA_KEYS: Record<string, FieldKind> = {
  rt: FieldKind.DURATION_S,
  request_time: FieldKind.DURATION_S,
  urt: FieldKind.ORIGIN_S,
  upstream_response_time: FieldKind.ORIGIN_S,
  ja3: FieldKind.JA3,
  ja4: FieldKind.JA4,
  host: FieldKind.HOST,
  ua: FieldKind.USER_AGENT,
  referer: FieldKind.REFERER,
  cookie: FieldKind.HEADER,
  xff: FieldKind.HEADER,
};

/**
 * indexOf over a piece of the log that holds many lines, remembered per needle: the first
 * occurrence at or after `from` found once serves every later search from a position up to it.
 * A line that lacks a literal (malformed, hostile) then costs its search once per piece, not a
 * scan of the rest of the piece per line.
 */
export class Finder {
  text = '';
  private readonly from: Int32Array;
  private readonly at: Int32Array;

  constructor(n: number) {
    this.from = new Int32Array(n).fill(0x7fffffff);
    this.at = new Int32Array(n);
  }

  /** A new text: forget what was found in the last one. */
  begin(text: string): void {
    this.text = text;
    this.from.fill(0x7fffffff);
  }

  /** text.indexOf(needle, p), needle number k always the same string. */
  find(k: number, needle: string, p: number): number {
    const f = this.from[k] as number;
    const at = this.at[k] as number;
    if (f <= p && p <= at) return at === 0x7fffffff ? -1 : at;
    const e = this.text.indexOf(needle, p);
    this.from[k] = p;
    this.at[k] = e < 0 ? 0x7fffffff : e;
    return e;
  }
}

/** Finder slots after the format's literals. */
const F_QUESTION = 0;
const F_QUOTE = 1;
const F_SPACE = 2;
const F_EQUALS = 3;
const F_COUNT = 4;

export class TextLineParser {
  private readonly strictClient: boolean;
  private readonly n: number;
  private readonly finder: Finder;
  /** The combined format: most lines go through its one-pass reader (combined-fast.ts). */
  private readonly combined: boolean;
  private readonly req = new Int32Array(2);
  /** Whether the last record came from the one-pass reading (for tests). */
  lastOneShape = false;

  constructor(
    readonly format: TextFormat,
    opts: TextParseOptions = {},
  ) {
    this.strictClient = opts.strictClient !== false;
    this.n = format.kinds.length;
    this.finder = new Finder(F_COUNT + this.n);
    this.combined = isCombined(format) && this.strictClient && opts.oneShape !== false;
  }

  /** Parse `line` into `v` (reset first). False: the line does not fit the format. */
  parse(line: string, v: HttpLogView): boolean {
    this.finder.begin(line);
    return this.parseRange(line, 0, line.length, v);
  }

  /** Lines of `text` follow (parseRange's text must be the last one given here). */
  beginText(text: string): void {
    this.finder.begin(text);
  }

  /**
   * Parse the line text[start, end) into `v` (reset first; its offsets are into text), text
   * being the one last given to beginText. False: the line does not fit the format.
   */
  parseRange(line: string, start: number, end: number, v: HttpLogView): boolean {
    v.resetRange(line, start, end);
    v.escaped = true;
    const fd = this.finder;
    if (this.combined) {
      const t = parseCombined(line, start, end, v, fd, F_QUOTE, this.req);
      this.lastOneShape = t >= 0;
      if (t >= 0) {
        splitRequest(line, this.req[0] as number, this.req[1] as number, v, fd);
        if (t < end && !this.plainTrailing(line, t, end, v)) this.trailing(line, t, end, v);
        return true;
      }
      // Not the common shape: the general reading, from the line's start.
      v.resetRange(line, start, end);
      v.escaped = true;
    }
    const f = this.format;
    let p = start;
    if (f.lead !== '') {
      if (end - start < f.lead.length || !line.startsWith(f.lead, start)) return false;
      p = start + f.lead.length;
    }
    const { kinds, lits, quoted, names } = f;
    for (let i = 0; i < this.n; i++) {
      const lit = lits[i] as string;
      let e: number;
      if (lit === '') {
        e = p;
        while (e < end && line.charCodeAt(e) !== 0x20) e++;
      } else {
        e = fd.find(F_COUNT + i, lit, p);
        // Inside quotes, `\"` is an escaped quote (Apache), not the field's end.
        if (quoted[i]) while (e > p && e + lit.length <= end && oddBackslashes(line, e, start)) e = fd.find(F_COUNT + i, lit, e + 1);
        // Not in this line (the last field's closing literal may be cut with the line's end: `"ua` with no `"`).
        if (e < 0 || e + lit.length > end) return false;
      }
      if (!this.field(kinds[i] as FieldKind, names[i] as string, line, p, e, v)) return false;
      p = e + lit.length;
    }
    if (p < end) this.trailing(line, p, end, v);
    return true;
  }

  private field(kind: FieldKind, name: string, s: string, a: number, b: number, v: HttpLogView): boolean {
    const dash = b - a === 1 && s.charCodeAt(a) === 0x2d;
    switch (kind) {
      case FieldKind.SKIP:
        return true;
      case FieldKind.CLIENT: {
        const v4 = parseV4(s, a, b);
        if (v4 === -1 && this.strictClient && !isIpText(s, a, b)) return false;
        v.setRange(Slot.CLIENT, a, b);
        if (v4 !== -1) {
          v.hasV4 = true;
          v.clientV4 = v4;
        }
        return true;
      }
      case FieldKind.TIME_CLF:
        return clfTimeInto(s, a, b, v.nums, 0);
      case FieldKind.TIME_ISO:
        v.timeMs = parseIsoTime(s, a, b);
        return !Number.isNaN(v.timeMs);
      case FieldKind.TIME_EPOCH: {
        const t = readDecimal(s, a, b);
        v.timeMs = t < 0 ? Number.NaN : Math.round(t * 1000);
        return t >= 0;
      }
      case FieldKind.STATUS: {
        const st = readUint(s, a, b);
        if (!(st >= 100 && st <= 999)) return false;
        v.status = st;
        return true;
      }
      case FieldKind.RESPONSE_SIZE:
      case FieldKind.BODY_SIZE: {
        const n = readUint(s, a, b);
        if (Number.isNaN(n)) return false;
        if (kind === FieldKind.RESPONSE_SIZE) v.responseSize = n;
        else v.bodySize = n;
        return true;
      }
      case FieldKind.REQUEST:
        // `-` and `""` are request lines too (kept raw as the path, as GoAccess keeps them).
        splitRequest(s, a, b, v, this.finder);
        return true;
      default:
        if (!dash && b > a) this.value(kind, name, s, a, b, v);
        return true;
    }
  }

  /** Fields that never make a line malformed. */
  private value(kind: FieldKind, name: string, s: string, a: number, b: number, v: HttpLogView): void {
    switch (kind) {
      case FieldKind.CLIENT:
        v.setRange(Slot.CLIENT, a, b);
        break;
      case FieldKind.USER:
        v.setRange(Slot.USER, a, b);
        break;
      case FieldKind.REQUEST:
        splitRequest(s, a, b, v, this.finder);
        break;
      case FieldKind.METHOD:
        v.setRange(Slot.METHOD, a, b);
        v.requestOk = true;
        break;
      case FieldKind.URI:
        splitUri(s, a, b, v, this.finder);
        break;
      case FieldKind.PATH:
        v.setRange(Slot.PATH, a, b);
        break;
      case FieldKind.QUERY:
        v.setRange(Slot.QUERY, a, b);
        break;
      case FieldKind.PROTOCOL:
        v.version = versionCode(s, a, b);
        break;
      case FieldKind.HOST:
        v.setRange(Slot.HOST, a, b);
        break;
      case FieldKind.REFERER:
        v.setRange(Slot.REFERER, a, b);
        break;
      case FieldKind.USER_AGENT:
        v.setRange(Slot.USER_AGENT, a, b);
        break;
      case FieldKind.CLIENT_PORT:
        v.clientPort = readUint(s, a, b);
        break;
      case FieldKind.SERVER_PORT:
        v.serverPort = readUint(s, a, b);
        break;
      case FieldKind.DURATION_S:
        v.durationMs = readDecimal(s, a, b, 1000);
        break;
      case FieldKind.DURATION_MS:
        v.durationMs = readDecimal(s, a, b);
        break;
      case FieldKind.DURATION_US: {
        const us = readDecimal(s, a, b);
        v.durationMs = us < 0 ? -1 : us / 1000;
        break;
      }
      case FieldKind.ORIGIN_S:
        v.originMs = readDecimal(s, a, b, 1000);
        break;
      case FieldKind.TLS_PROTOCOL:
        v.setRange(Slot.TLS_PROTOCOL, a, b);
        break;
      case FieldKind.TLS_CIPHER:
        v.setRange(Slot.TLS_CIPHER, a, b);
        break;
      case FieldKind.JA3:
        v.setRange(Slot.JA3, a, b);
        break;
      case FieldKind.JA4:
        v.setRange(Slot.JA4, a, b);
        break;
      case FieldKind.COOKIE:
        if (v.cookies === null) v.cookies = {};
        v.cookies[name] = s.slice(a, b);
        break;
      case FieldKind.HEADER: {
        const l = name.toLowerCase();
        if (l === 'cookie') v.setRange(Slot.COOKIE, a, b);
        else v.addHeaderRange(name, a, b);
        break;
      }
      default:
        break;
    }
  }

  /**
   * trailing() for what holds no quote (` rt=0.012 host=example.com`), char by char: words are
   * space-separated, each `key=value` at its first `=`. False, having done nothing, when there is
   * a quote: trailing() reads that.
   */
  private plainTrailing(s: string, p: number, end: number, v: HttpLogView): boolean {
    // The next quote by the finder (remembered: the next line's request line is searched from
    // there), not a walk over the fields first: measured with callgrind on 300k lines of the
    // mixed log, the walk was 2% of the detection pass's instructions.
    const q = this.finder.find(F_QUOTE, '"', p);
    if (q >= 0 && q < end) return false;
    let fields = 0;
    while (p < end && fields < MAX_EXTRA) {
      while (p < end && s.charCodeAt(p) === 0x20) p++;
      if (p >= end) break;
      const k = p;
      let eq = -1;
      while (p < end) {
        const c = s.charCodeAt(p);
        if (c === 0x20) break;
        if (c === 0x3d && eq < 0) eq = p;
        p++;
      }
      if (eq < 0) continue;
      fields++;
      this.keyValue(s, k, eq, eq + 1, p, v);
    }
    return true;
  }

  /** The trailing field `key=value` at s[k..eq) = s[a..b): a field of the record, or a header. */
  private keyValue(s: string, k: number, eq: number, a: number, b: number, v: HttpLogView): void {
    if (k === eq || (b - a === 1 && s.charCodeAt(a) === 0x2d)) return;
    // The usual keys (rt=, host=) are matched in place: no key string per field.
    const known = knownKey(s, k, eq);
    if (known !== FieldKind.SKIP) {
      this.value(known, '', s, a, b, v);
      return;
    }
    const key = s.slice(k, eq);
    const nk = nginxVariableKind(key);
    if (nk.kind !== FieldKind.SKIP && nk.kind !== FieldKind.HEADER) this.value(nk.kind, nk.name, s, a, b, v);
    else v.addHeaderRange(nk.kind === FieldKind.HEADER ? nk.name : key === 'xff' ? 'X-Forwarded-For' : key, a, b);
  }

  /**
   * What follows the format: `key=value` / `key="value"` fields (nginx configs that append
   * `rt=$request_time ua="$upstream_addr"` to a known format) become fields or headers; other
   * words (Traefik's request count, router and duration after combined) are ignored.
   */
  private trailing(s: string, p: number, end: number, v: HttpLogView): void {
    let fields = 0;
    const fd = this.finder;
    const lineStart = v.lineStart;
    // The next quote, found again only once passed: most trailing fields have none (-1 for good).
    let q = fd.find(F_QUOTE, '"', p);
    while (p < end && fields < MAX_EXTRA) {
      while (p < end && s.charCodeAt(p) === 0x20) p++;
      if (p >= end) break;
      // The word's end and its `=` by indexOf (native): char by char this was a fifth of a line.
      let sp = fd.find(F_SPACE, ' ', p);
      if (sp < 0 || sp > end) sp = end;
      let eq = fd.find(F_EQUALS, '=', p);
      if (eq >= sp) eq = -1;
      if (q >= 0 && q < p) q = fd.find(F_QUOTE, '"', p);
      let i = sp;
      const wordStart = p;
      let careful = false;
      if (q >= 0 && q < sp && (eq < 0 || q < eq)) {
        careful = true;
        // A quote before any `=` (a quoted word, which may hold spaces): the careful walk.
        i = p;
        eq = -1;
        while (i < end) {
          const c = s.charCodeAt(i);
          if (c === 0x20) break;
          if (c === 0x3d && eq < 0) {
            eq = i;
            if (s.charCodeAt(i + 1) === 0x22) break;
          }
          if (c === 0x22 && eq < 0) {
            const close = fd.find(F_QUOTE, '"', i + 1);
            i = close < 0 || close >= end ? end : close + 1;
            continue;
          }
          i++;
        }
      }
      if (eq < 0) {
        p = i;
        continue;
      }
      let a = eq + 1;
      let b: number;
      if (s.charCodeAt(a) === 0x22) {
        a++;
        let close = fd.find(F_QUOTE, '"', a);
        while (close > a && close < end && oddBackslashes(s, close, lineStart)) close = fd.find(F_QUOTE, '"', close + 1);
        b = close < 0 || close > end ? end : close;
        p = b + 1;
      } else {
        // Unquoted: to the next space, which is the word's end unless the careful walk ran.
        if (careful) {
          b = fd.find(F_SPACE, ' ', a);
          if (b < 0 || b > end) b = end;
        } else b = sp;
        p = b;
      }
      fields++;
      this.keyValue(s, careful ? keyStart(s, eq, lineStart) : wordStart, eq, a, b, v);
    }
  }
}

/** Start of the key of a `key=value` word whose `=` is at eq: back to the previous space, or the line's start. */
function keyStart(s: string, eq: number, lineStart: number): number {
  let i = eq;
  while (i > lineStart && s.charCodeAt(i - 1) !== 0x20) i--;
  return i;
}

/** EXTRA_KEYS without the header ones, by key length. */
const KNOWN_BY_LENGTH: Array<Array<readonly [string, FieldKind]>> = (() => {
  const out: Array<Array<readonly [string, FieldKind]>> = [];
  for (const [key, kind] of Object.entries(EXTRA_KEYS)) if (kind !== FieldKind.HEADER) (out[key.length] ??= []).push([key, kind]);
  return out;
})();

/** The kind of the trailing key s[k..eq) when it is one of EXTRA_KEYS's non-header keys, else SKIP. */
function knownKey(s: string, k: number, eq: number): FieldKind {
  const list = KNOWN_BY_LENGTH[eq - k];
  if (list === undefined) return FieldKind.SKIP;
  outer: for (let i = 0; i < list.length; i++) {
    const e = list[i] as readonly [string, FieldKind];
    const key = e[0];
    // Char compares: startsWith at an offset is slow on a sliced line.
    for (let j = 0; j < key.length; j++) if (s.charCodeAt(k + j) !== key.charCodeAt(j)) continue outer;
    return e[1];
  }
  return FieldKind.SKIP;
}

/** An odd run of backslashes before s[i], counted back to the line's start at most. */
function oddBackslashes(s: string, i: number, lineStart: number): boolean {
  let n = 0;
  while (i - 1 - n >= lineStart && s.charCodeAt(i - 1 - n) === 0x5c) n++;
  return (n & 1) === 1;
}
