/**
 * The suggested expression separating B from A. Two steps:
 *
 * 1. From the tables (no second look at the records), each feature proposes one condition: the
 *    set of its values that best separates B, chosen greedily by how much more often B shows them.
 * 2. Those conditions are compiled with the Rules compiler and evaluated on every record of a
 *    second pass (Measure): per population, how many records each condition matches and how many
 *    each pair matches together. The suggestion is the best single condition, or the best
 *    conjunction of two conditions on different fields when it is clearly better; its rates are
 *    those counts, i.e. exactly what evaluating the printed expression gives.
 *
 * "Best" is coverage of B minus COLLATERAL_WEIGHT × the share of A matched: a rule that blocks
 * customers costs more than one that lets a little attack through, so a point of A matched
 * weighs as much as ten points of B missed.
 */
import type { Lists, Predicate } from '../rules/compile.js';
import { compile } from '../rules/compile.js';
import type { Scheme } from '../scheme/types.js';
import type { Feature } from './compare-features.js';
import { isExpressible } from './compare-features.js';
import type { CappedTable } from './compare-table.js';

export const COLLATERAL_WEIGHT = 10;
/** At most this many values in one condition (a longer set reads as a list, not a signature). */
const MAX_VALUES = 12;
/** A value joins a condition only if it adds at least this share of B. */
const MIN_GAIN = 0.01;
/** A conjunction must beat the best single condition's score by this much to be preferred. */
const PAIR_MARGIN = 0.02;
/** Conditions measured in the second pass: one per feature, at most 32 (one bit each in a mask). */
export const MAX_CANDIDATES = 32;

export function score(cov: number, coll: number): number {
  return cov - COLLATERAL_WEIGHT * coll;
}

export interface Candidate {
  /** Index of the feature in the compared list. */
  feature: number;
  keys: string[];
  expression: string;
  /** Shares predicted from the tables. */
  cov: number;
  coll: number;
}

/** One feature's condition from its tables, or null when no value of B is worth a condition. */
export function candidateFor<V>(index: number, f: Feature<V>, ta: CappedTable, tb: CappedTable, lookAt = 64): Candidate | null {
  const na = ta.total;
  const nb = tb.total;
  if (na === 0 || nb === 0) return null;
  const vals = tb
    .top(lookAt)
    .filter((e) => isExpressible(e.value))
    .map((e) => ({ key: e.value, b: e.count / nb, a: ta.count(e.value) / na }))
    // Most over-represented first: B's share against A's, A smoothed by half a record.
    .sort((x, y) => y.b / (y.a + 0.5 / na) - x.b / (x.a + 0.5 / na) || y.b - x.b);
  const keys: string[] = [];
  let cov = 0;
  let coll = 0;
  for (const v of vals) {
    if (keys.length >= MAX_VALUES) break;
    if (v.b < MIN_GAIN) continue;
    if (score(cov + v.b, coll + v.a) <= score(cov, coll)) continue;
    keys.push(v.key);
    cov += v.b;
    coll += v.a;
  }
  if (keys.length === 0) return null;
  keys.sort();
  return { feature: index, keys, expression: f.condition(keys), cov, coll };
}

/** Sorted numeric values of a table with cumulative counts: how many fall in lo..hi in O(log n). */
class NumericCounts {
  readonly xs: number[] = [];
  private readonly cum: number[] = [0];
  constructor(t: CappedTable) {
    const es = t
      .top(t.tracked)
      .map((e) => ({ x: /^-?[0-9]+$/.test(e.value) ? Number(e.value) : Number.NaN, n: e.count }))
      .filter((e) => !Number.isNaN(e.x))
      .sort((p, q) => p.x - q.x);
    for (const e of es) {
      this.xs.push(e.x);
      this.cum.push((this.cum[this.cum.length - 1] as number) + e.n);
    }
  }
  get total(): number {
    return this.cum[this.cum.length - 1] as number;
  }
  /** Index of the first value >= x. */
  private lower(x: number): number {
    let lo = 0;
    let hi = this.xs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.xs[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  between(lo: number, hi: number): number {
    return (this.cum[this.lower(hi + 1)] as number) - (this.cum[this.lower(lo)] as number);
  }
  /** About `n` values spread evenly by count (quantiles), smallest and largest included. */
  quantiles(n: number): number[] {
    const out = new Set<number>();
    const total = this.total;
    let k = 0;
    for (let i = 0; i < this.xs.length; i++) {
      if ((this.cum[i + 1] as number) >= (k * total) / n || i === 0 || i === this.xs.length - 1) {
        out.add(this.xs[i] as number);
        while ((k * total) / n <= (this.cum[i + 1] as number)) k++;
      }
    }
    return [...out].sort((p, q) => p - q);
  }
}

/**
 * A numeric feature's range condition lo..hi from its tables: of the intervals whose ends are
 * quantiles of B's values (64 of them), the one with the best score; values either table lost
 * to "other" are not counted, and the second pass measures the truth. Null when the feature has
 * no range form or no interval scores above `beat` (the set condition's score).
 */
export function rangeCandidateFor<V>(index: number, f: Feature<V>, ta: CappedTable, tb: CappedTable, beat: number): Candidate | null {
  const range = f.range;
  const na = ta.total;
  const nb = tb.total;
  if (!range || na === 0 || nb === 0) return null;
  const b = new NumericCounts(tb);
  const a = new NumericCounts(ta);
  const ends = b.quantiles(64);
  let best: Candidate | null = null;
  let bestScore = beat;
  for (let i = 0; i < ends.length; i++) {
    for (let j = i; j < ends.length; j++) {
      const lo = ends[i] as number;
      const hi = ends[j] as number;
      const cov = b.between(lo, hi) / nb;
      const coll = a.between(lo, hi) / na;
      const sc = score(cov, coll);
      if (sc > bestScore) {
        bestScore = sc;
        best = { feature: index, keys: [String(lo), String(hi)], expression: range(lo, hi), cov, coll };
      }
    }
  }
  return best;
}

/** Counts of each condition and of each pair of conditions, per population, over one pass. */
export class Measure<V> {
  readonly preds: Predicate<V>[];
  private readonly n: number;
  readonly pairA: Float64Array;
  readonly pairB: Float64Array;
  recordsA = 0;
  recordsB = 0;

  constructor(
    readonly candidates: Candidate[],
    scheme: Scheme<V>,
    lists: Lists | undefined,
  ) {
    this.preds = candidates.map((c) => compile(c.expression, scheme, { lists }));
    this.n = candidates.length;
    // pair[i * n + j], i <= j; the diagonal holds the single counts.
    this.pairA = new Float64Array(this.n * this.n);
    this.pairB = new Float64Array(this.n * this.n);
  }

  add(view: V, inA: boolean, inB: boolean): void {
    if (inA) this.recordsA++;
    if (inB) this.recordsB++;
    let mask = 0;
    const preds = this.preds;
    for (let i = 0; i < preds.length; i++) if ((preds[i] as Predicate<V>)(view)) mask |= 1 << i;
    if (mask === 0) return;
    if (inA) this.count(this.pairA, mask);
    if (inB) this.count(this.pairB, mask);
  }

  private count(pairs: Float64Array, mask: number): void {
    const n = this.n;
    for (let i = 0; i < n; i++) {
      if (!(mask & (1 << i))) continue;
      for (let j = i; j < n; j++) if (mask & (1 << j)) pairs[i * n + j]++;
    }
  }

  /** Records of A and B that conditions i and j (i = j: condition i alone) both match. */
  matched(i: number, j: number): { a: number; b: number } {
    const [x, y] = i <= j ? [i, j] : [j, i];
    return { a: this.pairA[x * this.n + y] as number, b: this.pairB[x * this.n + y] as number };
  }
}

export interface Choice {
  /** Indexes into the candidates: one, or two (a conjunction). */
  parts: number[];
  expression: string;
  a: number;
  b: number;
  score: number;
}

function conj(x: string, y: string): string {
  const p = (s: string): string => (/\s(or|and)\s/.test(s) ? `(${s})` : s);
  return `${p(x)} and ${p(y)}`;
}

/**
 * The suggestion and the runners-up, best first, from a finished Measure. `features` maps a
 * candidate to its field, so a conjunction always combines two different fields.
 */
export function choose<V>(m: Measure<V>, fieldOf: (c: Candidate) => string, alternatives: number): { best: Choice | null; ranked: Choice[] } {
  const na = m.recordsA;
  const nb = m.recordsB;
  if (na === 0 || nb === 0) return { best: null, ranked: [] };
  const cs = m.candidates;
  const singles: Choice[] = [];
  const pairs: Choice[] = [];
  for (let i = 0; i < cs.length; i++) {
    const s = m.matched(i, i);
    singles.push({ parts: [i], expression: (cs[i] as Candidate).expression, a: s.a, b: s.b, score: score(s.b / nb, s.a / na) });
    for (let j = i + 1; j < cs.length; j++) {
      if (fieldOf(cs[i] as Candidate) === fieldOf(cs[j] as Candidate)) continue;
      const p = m.matched(i, j);
      pairs.push({ parts: [i, j], expression: conj((cs[i] as Candidate).expression, (cs[j] as Candidate).expression), a: p.a, b: p.b, score: score(p.b / nb, p.a / na) });
    }
  }
  const byScore = (x: Choice, y: Choice): number => y.score - x.score || x.parts.length - y.parts.length || x.expression.length - y.expression.length;
  singles.sort(byScore);
  pairs.sort(byScore);
  const single = singles[0];
  const pair = pairs[0];
  let best: Choice | null = single ?? null;
  if (pair && (!single || pair.score > single.score + PAIR_MARGIN)) best = pair;
  if (best && best.b === 0) best = null;
  // A runner-up on the same fields with the same counts as one already listed says nothing new
  // (the same values seen through another view of the field: a path and its shape).
  // A pair no better on either side than one of its conditions alone is that condition, longer.
  const dominated = (c: Choice): boolean =>
    c.parts.length === 2 &&
    c.parts.some((p) => {
      const s = m.matched(p, p);
      return s.b >= c.b && s.a <= c.a;
    });
  const keyOf = (c: Choice): string => `${c.parts.map((p) => fieldOf(cs[p] as Candidate)).join('+')}/${c.b}/${c.a}`;
  const seen = new Set<string>(best ? [keyOf(best)] : []);
  const ranked: Choice[] = [];
  for (const c of [...singles, ...pairs].sort(byScore)) {
    if (ranked.length >= alternatives) break;
    const k = keyOf(c);
    if (c === best || c.b === 0 || seen.has(k) || dominated(c)) continue;
    seen.add(k);
    ranked.push(c);
  }
  return { best, ranked };
}
