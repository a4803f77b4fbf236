/**
 * Literal factors: a second, finer prefilter (after prefilter.ts's character classes) for
 * operators whose needed classes every value has, i.e. patterns of letters only: SQL keywords,
 * Java class names, PHP functions. For such a pattern we find a set of FACTORS, strings one of
 * which every match contains (`union.*?select` always contains `union`). A value's character
 * pairs are folded into a 64-bit Bloom filter (`gramsOf`); a factor can only occur in a value
 * whose filter has all of the factor's pairs. Letters are folded to lower case and every
 * character above 0x7f to one symbol, so case-insensitive patterns and case folding in V8 need
 * no special care.
 */
import { classBytesAt, escapeAt, groupAt, quantifierAt, UnknownPattern } from './prefilter.js';

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
    const q = quantifierAt(this.p, this.i);
    if (q === null) return a;
    this.i = q.end;
    const { min, max } = q;
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
      const [zeroWidth, body] = groupAt(p, this.i);
      this.i = body;
      const r = this.alt();
      if (p[this.i] !== ')') throw new UnknownPattern();
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
      if (d === undefined) throw new UnknownPattern();
      if (d === 'b' || d === 'B') {
        this.i += 2;
        return EMPTY;
      }
      if ((d >= '1' && d <= '9') || d === 'k') throw new UnknownPattern();
      if ('dDwWsS'.includes(d)) {
        this.i += 2;
        return ANY;
      }
      // a single-character escape
      const [code, end] = escapeAt(p, this.i);
      this.i = end;
      return code < 0 ? ANY : { exact: [String.fromCharCode(sym(code))], factors: null };
    }
    this.i++;
    return { exact: [String.fromCharCode(sym(c.charCodeAt(0)))], factors: null };
  }

  /** a class of up to four symbols is exact */
  private cls(): Info {
    const [bytes, end] = classBytesAt(this.p, this.i);
    this.i = end;
    if (bytes === null) return ANY;
    const syms = new Set<number>();
    for (let c = 0; c < 256; c++) if (bytes[c] === 1) syms.add(sym(c));
    if (syms.size === 0 || syms.size > 4) return ANY;
    return { exact: [...syms].map((s) => String.fromCharCode(s)), factors: null };
  }
}
