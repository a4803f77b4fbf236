/**
 * Cheap exclusion tests for operators, by character class.
 *
 * Every byte belongs to one of 31 classes (letters, digits, the space, control bytes,
 * bytes above 0x7f, and the punctuation characters, most of them alone). A value's MASK is the
 * set of classes of its characters: one scan, kept per value and transformation chain.
 *
 * For an operator we compute once a NEED mask: any value the operator can match contains a
 * character of one of those classes. When `(mask & need) === 0` the operator cannot match and
 * is not run. Most attack patterns need a quote, a bracket, `<`, `;`, `$`..., which benign
 * values (words, numbers, a browser's header lines) lack.
 *
 * A transformation's result is bounded the same way (`TRANSFER`): from the classes of its input
 * we know which classes its output can have (lower-casing adds none; URL decoding adds any only
 * when there is a `%`), so a rule whose chain cannot produce a needed class skips the value
 * without transforming it.
 *
 * The pattern analysis reads the JavaScript pattern our translator produced and is
 * conservative: whatever it does not understand counts as "can match". Soundness is tested
 * against every CRS pattern and transformation (test/waf/prefilter.test.ts).
 */

/** Bit of each character class. Both cases of a letter share one class, so case-insensitive
 * patterns need no special care (V8 folds case within ASCII, and within the rest, for non-`u`
 * patterns, never across the two). */
export const C = {
  letter: 1 << 0,
  digit: 1 << 1,
  /** the space character only: it is common in benign values, tabs and line ends are not */
  space: 1 << 2,
  /** bytes below 0x20 (tabs and line ends included), and 0x7f */
  ctrl: 1 << 3,
  /** 0x80 and above, and every character above 0xff */
  high: 1 << 4,
  bang: 1 << 5, // ! ^ ~
  dquote: 1 << 6,
  hashAt: 1 << 7, // # @
  dollar: 1 << 8,
  percent: 1 << 9,
  amp: 1 << 10,
  squote: 1 << 11,
  paren: 1 << 12, // ( )
  star: 1 << 13,
  plus: 1 << 14,
  comma: 1 << 15,
  dash: 1 << 16,
  dot: 1 << 17,
  slash: 1 << 18,
  colon: 1 << 19,
  semi: 1 << 20,
  lt: 1 << 21,
  eq: 1 << 22,
  gt: 1 << 23,
  question: 1 << 24,
  bracket: 1 << 25, // [ ]
  backslash: 1 << 26,
  underscore: 1 << 27,
  backtick: 1 << 28,
  brace: 1 << 29, // { }
  pipe: 1 << 30,
} as const;

/** every class */
export const ALL = 0x7fffffff;
/** set in every stored mask, so 0 can mean "not computed yet" */
export const KNOWN = 1 << 31;

const PUNCT: Record<string, number> = {
  '!': C.bang,
  '^': C.bang,
  '~': C.bang,
  '"': C.dquote,
  '#': C.hashAt,
  '@': C.hashAt,
  $: C.dollar,
  '%': C.percent,
  '&': C.amp,
  "'": C.squote,
  '(': C.paren,
  ')': C.paren,
  '*': C.star,
  '+': C.plus,
  ',': C.comma,
  '-': C.dash,
  '.': C.dot,
  '/': C.slash,
  ':': C.colon,
  ';': C.semi,
  '<': C.lt,
  '=': C.eq,
  '>': C.gt,
  '?': C.question,
  '[': C.bracket,
  ']': C.bracket,
  '\\': C.backslash,
  _: C.underscore,
  '`': C.backtick,
  '{': C.brace,
  '}': C.brace,
  '|': C.pipe,
};

/** byte -> its class bit */
export const CLASS = new Int32Array(256);
for (let c = 0; c < 256; c++) {
  const ch = String.fromCharCode(c);
  CLASS[c] =
    (c >= 65 && c <= 90) || (c >= 97 && c <= 122) ? C.letter : c >= 48 && c <= 57 ? C.digit : c === 32 ? C.space : c < 32 || c === 127 ? C.ctrl : c >= 128 ? C.high : PUNCT[ch];
}

/** The classes of the characters of `s` (0 for the empty string). */
export function classMask(s: string): number {
  let m = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    m |= c < 256 ? CLASS[c] : C.high;
  }
  return m;
}

/**
 * Classes in the order the need analysis tries to allow them: the most common in benign values
 * first, so the classes left needed are the rarest ones an operator cannot do without.
 */
const BENIGN_ORDER: number[] = [
  C.letter,
  C.digit,
  C.space,
  C.dot,
  C.dash,
  C.underscore,
  C.slash,
  C.comma,
  C.eq,
  C.semi,
  C.colon,
  C.paren,
  C.amp,
  C.plus,
  C.star,
  C.question,
  C.percent,
  C.high,
  C.hashAt,
  C.bang,
  C.pipe,
  C.squote,
  C.dquote,
  C.bracket,
  C.brace,
  C.dollar,
  C.backslash,
  C.lt,
  C.gt,
  C.backtick,
  C.ctrl,
];

/** thrown where a pattern uses something the analyses do not model (they then assume nothing) */
export class UnknownPattern extends Error {}

/**
 * The need mask of a translated pattern: a match always contains a character of one of these
 * classes. 0 when there is no such set (the pattern can match an empty string or the analysis
 * is unsure): the value must always be tested.
 */
export function patternNeed(source: string): number {
  try {
    const classes = new Map<number, [number, number]>();
    const can = (allowed: number): boolean => {
      const a = new Analyzer(source, allowed, classes);
      const r = a.alt();
      if (a.i !== source.length) throw new UnknownPattern();
      return r;
    };
    if (can(0)) return 0;
    let allowed = 0;
    for (const bit of BENIGN_ORDER) if (!can(allowed | bit)) allowed |= bit;
    return ALL & ~allowed;
  } catch {
    return 0;
  }
}

/** Classes of the bytes `c` for which `pred(c)` holds, plus `high` when characters above 0xff may. */
function maskOf(pred: (c: number) => boolean, aboveFF: boolean): number {
  let m = aboveFF ? C.high : 0;
  for (let c = 0; c < 256; c++) if (pred(c)) m |= CLASS[c];
  return m;
}

const isWord = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
// \s also matches \xa0 and Unicode spaces above 0xff
const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13) || c === 0xa0;
const SHORTHAND: Record<string, number> = {
  d: maskOf(isDigit, false),
  D: maskOf((c) => !isDigit(c), true),
  w: maskOf(isWord, false),
  W: maskOf((c) => !isWord(c), true),
  s: maskOf(isSpace, true),
  S: maskOf((c) => !isSpace(c), true),
};

/** Can the pattern match some string whose characters all belong to the `allowed` classes?
 * Answers true when unsure. */
class Analyzer {
  i = 0;
  constructor(
    private readonly p: string,
    private readonly allowed: number,
    /** position of a `[` -> the classes it matches and the position after its `]` (the same
     * pattern is analysed once per class tried) */
    private readonly classes: Map<number, [number, number]>,
  ) {}

  alt(): boolean {
    let any = false;
    for (;;) {
      if (this.seq()) any = true;
      if (this.p[this.i] !== '|') break;
      this.i++;
    }
    return any;
  }

  private seq(): boolean {
    let ok = true;
    while (this.i < this.p.length && this.p[this.i] !== '|' && this.p[this.i] !== ')') {
      const atom = this.atom();
      const min = this.quant();
      if (min > 0 && !atom) ok = false;
    }
    return ok;
  }

  private quant(): number {
    const q = quantifierAt(this.p, this.i);
    if (q === null) return 1;
    this.i = q.end;
    return q.min;
  }

  /** can the atom match (a non-empty string, or nothing when zero-width) within `allowed`? */
  private atom(): boolean {
    const p = this.p;
    const c = p[this.i];
    if (c === '(') {
      const [zeroWidth, body] = groupAt(p, this.i);
      this.i = body;
      const r = this.alt();
      if (p[this.i] !== ')') throw new UnknownPattern();
      this.i++;
      // look-arounds consume nothing: counting them as satisfiable over-approximates the matches
      return zeroWidth ? true : r;
    }
    if (c === '[') {
      let known = this.classes.get(this.i);
      if (known === undefined) {
        const at = this.i;
        known = [this.cls(), this.i];
        this.classes.set(at, known);
      } else this.i = known[1];
      return (known[0] & this.allowed) !== 0;
    }
    if (c === '^' || c === '$') {
      this.i++;
      return true;
    }
    if (c === '.') {
      this.i++;
      return this.allowed !== 0;
    }
    if (c === '\\') return this.escape();
    this.i++;
    return (charMask(c.charCodeAt(0)) & this.allowed) !== 0;
  }

  /** an escape outside a class */
  private escape(): boolean {
    const p = this.p;
    const d = p[this.i + 1];
    this.i += 2;
    if (d === undefined) throw new UnknownPattern();
    if (d === 'b' || d === 'B') return true; // zero-width
    if (d >= '1' && d <= '9') {
      while (p[this.i] >= '0' && p[this.i] <= '9') this.i++;
      return true; // back-reference: unknown
    }
    if (d === 'k') throw new UnknownPattern();
    const m = this.escapeMask(d);
    return (m & this.allowed) !== 0;
  }

  /** classes matched by the escape `\d` whose letter was just consumed (hex digits follow for x/u) */
  private escapeMask(d: string): number {
    const s = SHORTHAND[d];
    if (s !== undefined) return s;
    const code = this.escapeCode(d);
    return charMask(code);
  }

  /** character code of a single-character escape (i already past the letter) */
  escapeCode(d: string): number {
    const p = this.p;
    switch (d) {
      case 'n':
        return 10;
      case 'r':
        return 13;
      case 't':
        return 9;
      case 'f':
        return 12;
      case 'v':
        return 11;
      case '0':
        return 0;
      case 'x': {
        const code = Number.parseInt(p.slice(this.i, this.i + 2), 16);
        if (!/^[0-9a-fA-F]{2}$/.test(p.slice(this.i, this.i + 2))) throw new UnknownPattern();
        this.i += 2;
        return code;
      }
      case 'u': {
        if (p[this.i] === '{' || !/^[0-9a-fA-F]{4}$/.test(p.slice(this.i, this.i + 4))) throw new UnknownPattern();
        const code = Number.parseInt(p.slice(this.i, this.i + 4), 16);
        this.i += 4;
        return code;
      }
      case 'c':
      case 'p':
      case 'P':
        throw new UnknownPattern();
      default:
        // an escaped literal: a letter here would be an escape we do not know
        if (/[a-zA-Z]/.test(d)) throw new UnknownPattern();
        return d.charCodeAt(0);
    }
  }

  /** classes a character class can match */
  private cls(): number {
    const { set, above, neg } = this.classSet();
    if (neg) return maskOf((c) => set[c] === 0, true);
    return maskOf((c) => set[c] === 1, above);
  }

  /** the bytes a class at `[` lists, whether it reaches above 0xff, whether it is negated */
  classSet(): { set: Uint8Array; above: boolean; neg: boolean } {
    const p = this.p;
    this.i++;
    let neg = false;
    if (p[this.i] === '^') {
      neg = true;
      this.i++;
    }
    const set = new Uint8Array(256);
    let above = false;
    let prev = -1;
    while (this.i < p.length && p[this.i] !== ']') {
      let code: number;
      if (p[this.i] === '\\') {
        const d = p[this.i + 1];
        if (d === undefined) throw new UnknownPattern();
        this.i += 2;
        if (SHORTHAND[d] !== undefined) {
          // a shorthand: mark the bytes it covers
          const pred =
            d === 'd'
              ? isDigit
              : d === 'D'
                ? (c: number) => !isDigit(c)
                : d === 'w'
                  ? isWord
                  : d === 'W'
                    ? (c: number) => !isWord(c)
                    : d === 's'
                      ? isSpace
                      : (c: number) => !isSpace(c);
          for (let c = 0; c < 256; c++) if (pred(c)) set[c] = 1;
          if (d !== 'd' && d !== 'w') above = true;
          prev = -1;
          continue;
        }
        code = d === 'b' ? 8 : this.escapeCode(d);
      } else if (p[this.i] === '-' && prev >= 0 && p[this.i + 1] !== ']') {
        this.i++;
        let hi: number;
        if (p[this.i] === '\\') {
          const d = p[this.i + 1];
          if (d === undefined) throw new UnknownPattern();
          this.i += 2;
          if (SHORTHAND[d] !== undefined) throw new UnknownPattern();
          hi = d === 'b' ? 8 : this.escapeCode(d);
        } else hi = p.charCodeAt(this.i++);
        if (hi < prev) throw new UnknownPattern();
        for (let c = prev; c <= hi && c < 256; c++) set[c] = 1;
        if (hi > 0xff) above = true;
        prev = -1;
        continue;
      } else code = p.charCodeAt(this.i++);
      if (code < 256) set[code] = 1;
      else above = true;
      prev = code;
    }
    if (p[this.i] !== ']') throw new UnknownPattern();
    this.i++;
    return { set, above, neg };
  }
}

/** classes a literal character matches (itself; case folding stays within its class) */
function charMask(code: number): number {
  return code < 256 ? CLASS[code] : C.high;
}

/**
 * The need mask of @pm phrases: each phrase found in a value brings all its classes, so the
 * value has at least the rarest class of one phrase. The automaton reads the low byte of
 * characters above 0xff, which may be any byte: `high` is always needed.
 */
export function phrasesNeed(phrases: string[]): number {
  let need = C.high;
  for (const p of phrases) {
    if (p === '') return 0;
    const m = classMask(p.toLowerCase()) | classMask(p.toUpperCase());
    let rare = 0;
    for (const bit of BENIGN_ORDER) if (m & bit) rare = bit;
    need |= rare;
  }
  return need;
}

/** Need of an operator that matches when some byte is not `allowed` (low byte of each char). */
export function outsideNeed(allowed: Uint8Array): number {
  return maskOf((c) => allowed[c] === 0, true) | C.high;
}

type Transfer = (m: number) => number;

const same: Transfer = (m) => m;
/** may produce anything, even from an empty input (the SHA-1 of nothing is 20 bytes) */
const any: Transfer = () => ALL;
/** URL decoding: `%` can make any byte, `+` a space */
const urlDecoded: Transfer = (m) => (m & C.percent ? ALL : m & C.plus ? m | C.space : m);
/** a decoder that only acts on an escape character, which can make any byte */
const escapes =
  (esc: number): Transfer =>
  (m) =>
    m & esc ? ALL : m;
/** case mapping: characters above 0xff may map to ASCII letters (U+0130 lower-cases to `i` and a
 * combining dot) */
const cased: Transfer = (m) => (m & C.high ? m | C.letter : m);

/**
 * For each transformation, the classes its output can have given its input's classes (an
 * over-approximation; a transformation not listed may produce anything).
 */
export const TRANSFER: Record<string, Transfer> = {
  none: same,
  lowercase: cased,
  uppercase: cased,
  urldecode: urlDecoded,
  urldecodeuni: urlDecoded,
  htmlentitydecode: escapes(C.amp),
  jsdecode: escapes(C.backslash),
  escapeseqdecode: escapes(C.backslash),
  cssdecode: escapes(C.backslash),
  // removes \ " ' ^, turns , ; and white space into single spaces, lower-cases ASCII
  cmdline: (m) => m | (m & (C.comma | C.semi | C.ctrl) ? C.space : 0),
  compresswhitespace: (m) => (m & (C.ctrl | C.high) ? m | C.space : m),
  removewhitespace: same,
  removenulls: same,
  replacenulls: (m) => (m & C.ctrl ? m | C.space : m),
  replacecomments: (m) => (m & C.slash ? m | C.space : m),
  removecomments: same,
  removecommentschar: same,
  normalisepath: (m) => (m & C.dot ? m | C.slash : m),
  normalizepath: (m) => (m & C.dot ? m | C.slash : m),
  normalisepathwin: (m) => (m & (C.dot | C.backslash) ? m | C.slash : m),
  normalizepathwin: (m) => (m & (C.dot | C.backslash) ? m | C.slash : m),
  utf8tounicode: (m) => (m & C.high ? m | C.percent | C.letter | C.digit : m),
  hexencode: (m) => (m === 0 ? 0 : C.letter | C.digit),
  length: () => C.digit,
  trim: same,
  trimleft: same,
  trimright: same,
  base64decode: any,
  base64decodeext: any,
  hexdecode: any,
  sqlhexdecode: (m) => (m & C.digit ? ALL : m),
  sha1: any,
  md5: any,
};

export function transferOf(name: string): Transfer {
  return TRANSFER[name] ?? any;
}

/** The character code of the single-character escape at `p[i]` (a backslash) and the position
 * after it; -1 for a class shorthand (`\\d`, `\\w`, `\\s`...). */
export function escapeAt(p: string, i: number): [number, number] {
  const a = new Analyzer(p, ALL, new Map());
  a.i = i + 2;
  const d = p[i + 1];
  if (d === undefined) throw new UnknownPattern();
  const code = SHORTHAND[d] !== undefined ? -1 : a.escapeCode(d);
  return [code, a.i];
}

/** The bytes a class at `p[i]` (`[`) matches, null when it is negated or reaches above 0xff,
 * and the position after it. */
export function classBytesAt(p: string, i: number): [Uint8Array | null, number] {
  const a = new Analyzer(p, ALL, new Map());
  a.i = i;
  const { set, above, neg } = a.classSet();
  return [neg || above ? null : set, a.i];
}

/** The group opening at `p[i]` (`(`, `(?:`, a look-around, a named group): whether it is
 * zero-width (a look-around) and the position of its body. */
export function groupAt(p: string, i: number): [boolean, number] {
  i++;
  if (p[i] !== '?') return [false, i];
  const rest = p.slice(i, i + 3);
  if (rest.startsWith('?:')) return [false, i + 2];
  if (rest.startsWith('?=') || rest.startsWith('?!')) return [true, i + 2];
  if (rest.startsWith('?<=') || rest.startsWith('?<!')) return [true, i + 3];
  if (rest.startsWith('?<')) {
    const e = p.indexOf('>', i);
    if (e < 0) throw new UnknownPattern();
    return [false, e + 1];
  }
  throw new UnknownPattern();
}

/** The quantifier at `p[i]` (`*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`, then a lazy `?` or a
 * possessive `+`): its bounds and the position after it; null when there is none. */
export function quantifierAt(p: string, i: number): { min: number; max: number; end: number } | null {
  const c = p[i];
  let min: number;
  let max: number;
  if (c === '*' || c === '?' || c === '+') {
    min = c === '+' ? 1 : 0;
    max = c === '?' ? 1 : Number.POSITIVE_INFINITY;
    i++;
  } else if (c === '{') {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(i, i + 24));
    if (!m) return null;
    min = Number(m[1]);
    max = m[2] === undefined ? min : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3]);
    i += m[0].length;
  } else return null;
  if (p[i] === '?' || p[i] === '+') i++;
  return { min, max, end: i };
}
