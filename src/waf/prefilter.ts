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

class Unknown extends Error {}

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
      if (a.i !== source.length) throw new Unknown();
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
    const p = this.p;
    const c = p[this.i];
    let min = 1;
    if (c === '*' || c === '?') {
      min = 0;
      this.i++;
    } else if (c === '+') this.i++;
    else if (c === '{') {
      const m = /^\{(\d+)(,\d*)?\}/.exec(p.slice(this.i, this.i + 24));
      if (!m) return 1;
      min = Number(m[1]);
      this.i += m[0].length;
    } else return 1;
    if (p[this.i] === '?') this.i++;
    return min;
  }

  /** can the atom match (a non-empty string, or nothing when zero-width) within `allowed`? */
  private atom(): boolean {
    const p = this.p;
    const c = p[this.i];
    if (c === '(') {
      this.i++;
      let zeroWidth = false;
      if (p[this.i] === '?') {
        const rest = p.slice(this.i, this.i + 3);
        if (rest.startsWith('?:')) this.i += 2;
        else if (rest.startsWith('?=') || rest.startsWith('?!')) {
          this.i += 2;
          zeroWidth = true;
        } else if (rest.startsWith('?<=') || rest.startsWith('?<!')) {
          this.i += 3;
          zeroWidth = true;
        } else if (rest.startsWith('?<')) {
          const e = p.indexOf('>', this.i);
          if (e < 0) throw new Unknown();
          this.i = e + 1;
        } else throw new Unknown();
      }
      const r = this.alt();
      if (p[this.i] !== ')') throw new Unknown();
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
    if (d === undefined) throw new Unknown();
    if (d === 'b' || d === 'B') return true; // zero-width
    if (d >= '1' && d <= '9') {
      while (p[this.i] >= '0' && p[this.i] <= '9') this.i++;
      return true; // back-reference: unknown
    }
    if (d === 'k') throw new Unknown();
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
        if (!/^[0-9a-fA-F]{2}$/.test(p.slice(this.i, this.i + 2))) throw new Unknown();
        this.i += 2;
        return code;
      }
      case 'u': {
        if (p[this.i] === '{' || !/^[0-9a-fA-F]{4}$/.test(p.slice(this.i, this.i + 4))) throw new Unknown();
        const code = Number.parseInt(p.slice(this.i, this.i + 4), 16);
        this.i += 4;
        return code;
      }
      case 'c':
      case 'p':
      case 'P':
        throw new Unknown();
      default:
        // an escaped literal: a letter here would be an escape we do not know
        if (/[a-zA-Z]/.test(d)) throw new Unknown();
        return d.charCodeAt(0);
    }
  }

  /** classes a character class can match */
  private cls(): number {
    const { set, above, neg } = this.classSet();
    if (neg) return maskOf((c) => set[c] === 0, true);
    return maskOf((c) => set[c] === 1, above);
  }

  /** The folded symbols (prefilter pairs) a class at `[` matches; null when it is negated or
   * reaches above 0xff. */
  classSymbols(): Set<number> | null {
    const { set, above, neg } = this.classSet();
    if (neg || above) return null;
    const out = new Set<number>();
    for (let c = 0; c < 256; c++) if (set[c] === 1) out.add(sym(c));
    return out;
  }

  /** The character code of a single-character escape at `\\` (-1 for a shorthand), past it. */
  escapeLiteral(): number {
    const d = this.p[this.i + 1];
    this.i += 2;
    if (SHORTHAND[d] !== undefined) return -1;
    return this.escapeCode(d);
  }

  /** the bytes a class at `[` lists, whether it reaches above 0xff, whether it is negated */
  private classSet(): { set: Uint8Array; above: boolean; neg: boolean } {
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
        if (d === undefined) throw new Unknown();
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
          if (d === undefined) throw new Unknown();
          this.i += 2;
          if (SHORTHAND[d] !== undefined) throw new Unknown();
          hi = d === 'b' ? 8 : this.escapeCode(d);
        } else hi = p.charCodeAt(this.i++);
        if (hi < prev) throw new Unknown();
        for (let c = prev; c <= hi && c < 256; c++) set[c] = 1;
        if (hi > 0xff) above = true;
        prev = -1;
        continue;
      } else code = p.charCodeAt(this.i++);
      if (code < 256) set[code] = 1;
      else above = true;
      prev = code;
    }
    if (p[this.i] !== ']') throw new Unknown();
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

// ------------------------------------------------------------------ literal factors

/**
 * A second, finer test for operators whose needed classes every value has (patterns of
 * letters only: SQL keywords, Java class names, PHP functions). For such a pattern we find a
 * set of FACTORS, strings one of which every match contains (`union.*?select` always contains
 * `union`). A value's character pairs are folded into a 64-bit Bloom filter (`GRAMS`); a factor
 * can only occur in a value whose filter has all of the factor's pairs. Letters are folded to
 * lower case and every character above 0x7f to one symbol, so case-insensitive patterns and
 * case folding in V8 need no special care.
 */

/** the symbol a character stands for in the pair filter */
function sym(c: number): number {
  return c >= 0x80 ? 0x80 : c >= 65 && c <= 90 ? c | 0x20 : c;
}

function gramBit(a: number, b: number): number {
  return Math.imul((a << 8) | b, 0x9e3779b1) >>> 26;
}

/** Values longer than this have most pairs, so most bits of the filter set: they are not
 * scanned and pass every pair test. */
const GRAMS_MAX_LENGTH = 256;

/** The pair filter of `s` as [low 32 bits, high 32 bits]. */
export function gramsOf(s: string, out: Int32Array, at: number): void {
  let lo = 0;
  let hi = 0;
  const n = s.length;
  if (n > GRAMS_MAX_LENGTH) {
    lo = -1;
    hi = -1;
  } else if (n > 1) {
    let prev = sym(s.charCodeAt(0));
    for (let i = 1; i < n; i++) {
      const c = sym(s.charCodeAt(i));
      const h = gramBit(prev, c);
      if (h < 32) lo |= 1 << h;
      else hi |= 1 << (h - 32);
      prev = c;
    }
  }
  out[at] = lo;
  out[at + 1] = hi;
}

/** Pair filters of the factors, two ints each; null when the factors cannot help. */
function factorGrams(factors: string[] | null): Int32Array | null {
  if (factors === null || factors.length === 0 || factors.length > MAX_FACTORS) return null;
  const seen = new Set<string>();
  const out: number[] = [];
  const g = new Int32Array(2);
  for (const f of factors) {
    if (f.length < 2) return null;
    gramsOf(f, g, 0);
    const key = `${g[0]},${g[1]}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(g[0], g[1]);
  }
  return Int32Array.from(out);
}

/** True when no factor's pairs are all in the value's filter (lo, hi): the operator cannot match. */
export function gramsMiss(g: Int32Array, lo: number, hi: number): boolean {
  for (let i = 0; i < g.length; i += 2) if ((g[i] & ~lo) === 0 && (g[i + 1] & ~hi) === 0) return false;
  return true;
}

const MAX_FACTORS = 64;
const MAX_EXACT = 16;

/** what a pattern node can match: `exact`, every string it can match (folded), when few;
 * `factors`, strings one of which each match contains; null for either = unknown/any */
interface Info {
  exact: string[] | null;
  factors: string[] | null;
}

const ANY: Info = { exact: null, factors: null };
const EMPTY: Info = { exact: [''], factors: null };

function fold(s: string): string {
  let o = '';
  for (let i = 0; i < s.length; i++) o += String.fromCharCode(sym(s.charCodeAt(i)));
  return o;
}

function matchSet(i: Info): string[] | null {
  return i.exact ?? i.factors;
}

/** the more selective of two factor sets (null = none) */
function better(a: string[] | null, b: string[] | null): string[] | null {
  const score = (s: string[] | null): number => {
    if (s === null || s.length === 0 || s.length > MAX_FACTORS) return -1;
    let min = Number.POSITIVE_INFINITY;
    for (const x of s) min = Math.min(min, x.length);
    return min < 2 ? -1 : min * 1000 - s.length;
  };
  return score(b) > score(a) ? b : a;
}

function uniq(s: string[]): string[] {
  return [...new Set(s)];
}

/** Literal factors of a translated pattern (null when none is known). */
export function patternFactors(source: string): string[] | null {
  try {
    const f = new Factors(source);
    const info = f.alt();
    if (f.i !== source.length) return null;
    const set = matchSet(info);
    return better(null, set) === null ? null : set;
  } catch {
    return null;
  }
}

/** Pair filters of a translated pattern's factors, or null. */
export function patternGrams(source: string): Int32Array | null {
  return factorGrams(patternFactors(source));
}

/** Pair filters of @pm phrases (each phrase is its own factor), or null. */
export function phrasesGrams(phrases: string[]): Int32Array | null {
  return factorGrams(phrases.map(fold));
}

class Factors {
  i = 0;
  constructor(private readonly p: string) {}

  alt(): Info {
    const branches: Info[] = [];
    for (;;) {
      branches.push(this.seq());
      if (this.p[this.i] !== '|') break;
      this.i++;
    }
    if (branches.length === 1) return branches[0];
    if (branches.every((b) => b.exact !== null)) {
      const all = uniq(branches.flatMap((b) => b.exact as string[]));
      if (all.length <= MAX_EXACT) return { exact: all, factors: null };
    }
    const sets: string[] = [];
    for (const b of branches) {
      const m = matchSet(b);
      if (m === null) return ANY;
      sets.push(...m);
    }
    return { exact: null, factors: uniq(sets) };
  }

  private seq(): Info {
    let run: string[] | null = [''];
    let best: string[] | null = null;
    let allExact = true;
    while (this.i < this.p.length && this.p[this.i] !== '|' && this.p[this.i] !== ')') {
      const a = this.quantified(this.atom());
      if (a.exact !== null) {
        if (run !== null && run.length * a.exact.length <= MAX_EXACT) {
          const next: string[] = [];
          for (const x of run) for (const y of a.exact) next.push(x + y);
          run = uniq(next);
        } else {
          best = better(best, run);
          allExact = false;
          run = a.exact;
        }
      } else {
        allExact = false;
        best = better(best, run);
        best = better(best, a.factors);
        run = null;
      }
    }
    if (allExact) return { exact: run, factors: null };
    return { exact: null, factors: better(best, run) };
  }

  private quantified(a: Info): Info {
    const p = this.p;
    const c = p[this.i];
    let min = 1;
    let max = 1;
    if (c === '*' || c === '?' || c === '+') {
      min = c === '+' ? 1 : 0;
      max = c === '?' ? 1 : Number.POSITIVE_INFINITY;
      this.i++;
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(this.i, this.i + 24));
      if (!m) return a;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3]);
      this.i += m[0].length;
    } else return a;
    if (p[this.i] === '?' || p[this.i] === '+') this.i++;
    if (min === 1 && max === 1) return a;
    if (min === 0) {
      if (max === 1 && a.exact !== null && a.exact.length < MAX_EXACT) return { exact: uniq(['', ...a.exact]), factors: null };
      return ANY;
    }
    // at least once: each match contains one of the atom's matches
    return { exact: null, factors: matchSet(a) };
  }

  private atom(): Info {
    const p = this.p;
    const c = p[this.i];
    if (c === '(') {
      this.i++;
      let zeroWidth = false;
      if (p[this.i] === '?') {
        const rest = p.slice(this.i, this.i + 3);
        if (rest.startsWith('?:')) this.i += 2;
        else if (rest.startsWith('?=') || rest.startsWith('?!')) {
          this.i += 2;
          zeroWidth = true;
        } else if (rest.startsWith('?<=') || rest.startsWith('?<!')) {
          this.i += 3;
          zeroWidth = true;
        } else if (rest.startsWith('?<')) {
          const e = p.indexOf('>', this.i);
          if (e < 0) throw new Unknown();
          this.i = e + 1;
        } else throw new Unknown();
      }
      const r = this.alt();
      if (p[this.i] !== ')') throw new Unknown();
      this.i++;
      return zeroWidth ? EMPTY : r;
    }
    if (c === '^' || c === '$') {
      this.i++;
      return EMPTY;
    }
    if (c === '.') {
      this.i++;
      return ANY;
    }
    if (c === '[') return this.cls();
    if (c === '\\') {
      const d = p[this.i + 1];
      if (d === undefined) throw new Unknown();
      if (d === 'b' || d === 'B') {
        this.i += 2;
        return EMPTY;
      }
      if ((d >= '1' && d <= '9') || d === 'k') throw new Unknown();
      if ('dDwWsS'.includes(d)) {
        this.i += 2;
        return ANY;
      }
      // a single-character escape: the class analyser knows them
      const a = new Analyzer(p, ALL, new Map());
      a.i = this.i;
      const code = a.escapeLiteral();
      this.i = a.i;
      return code < 0 ? ANY : { exact: [String.fromCharCode(sym(code))], factors: null };
    }
    this.i++;
    return { exact: [String.fromCharCode(sym(c.charCodeAt(0)))], factors: null };
  }

  /** a class of up to four symbols is exact */
  private cls(): Info {
    const a = new Analyzer(this.p, ALL, new Map());
    a.i = this.i;
    const syms = a.classSymbols();
    this.i = a.i;
    if (syms === null || syms.size === 0 || syms.size > 4) return ANY;
    return { exact: [...syms].map((s) => String.fromCharCode(s)), factors: null };
  }
}
