/**
 * `palisade compare`: two traffic populations side by side, field by field (issue 15, part 5).
 * For each feature (compare-features.ts): how far apart the two distributions are
 * (compare-stats.ts), the values B has more of, and that field's best separating condition; then
 * one suggested expression separating B from A with its match rates on both (compare-suggest.ts).
 *
 * Generic over the record: a scheme catalogue and its view (HTTP requests from access logs,
 * packets from captures), read as Populations — every record with whether it is in A, in B, or
 * both. Memory is bounded by the tables (features × 2 × capacity values), not the input.
 *
 * Passes: the first fills the tables; a second, when the input can be read again, evaluates the
 * candidate conditions so the printed rates are measured, not estimated. Stdin cannot be re-read:
 * then the rates are the tables' estimates and `measured` is false.
 */
import type { Lists } from '../rules/compile.js';
import type { Scheme } from '../scheme/types.js';
import { type Feature, MISSING, OPAQUE } from './compare-features.js';
import { distribution, divergence, overRepresented } from './compare-stats.js';
import { type Candidate, type Choice, candidateFor, choose, MAX_CANDIDATES, Measure, rangeCandidateFor, score } from './compare-suggest.js';
import { CappedTable } from './compare-table.js';

/** Records of both populations, each with its membership (a record may be in both, or neither). */
export interface Populations<V> {
  /** One pass over the records, in order. */
  read(emit: (view: V, inA: boolean, inB: boolean) => void): Promise<void>;
  /** read() may be called again and sees the same records. */
  readonly replayable: boolean;
}

export interface CompareOptions<V> {
  scheme: Scheme<V>;
  features: Feature<V>[];
  /** Named lists, as the --a/--b expressions had them; the conditions are compiled with the same ones. */
  lists?: Lists;
  /** Values tracked per feature and population (default 4096). */
  capacity?: number;
  /** Values per side that enter the divergence before the "other" bucket (default 32). */
  topK?: number;
  /** Over-represented values listed per field (default 5). */
  show?: number;
  /** Runner-up expressions listed (default 5). */
  alternatives?: number;
  /**
   * Fields that define the populations (those the --a/--b expressions read): shown in the table
   * but kept out of conditions, since separating B by the trait that selected it says nothing.
   */
  exclude?: ReadonlySet<string>;
}

export interface Rate {
  expression: string;
  /** Scheme fields the expression reads. */
  fields: string[];
  /** Records of B and A it matches, and as shares of each. */
  b_matched: number;
  a_matched: number;
  b_share: number;
  a_share: number;
}

export interface ValueRow {
  /** The value as text (UTF-8 decoded); "(missing)" when the field had no value, "(other form)" when unparsed. */
  value: string;
  b_share: number;
  a_share: number;
  /** b_share / a_share; null when A never shows it. */
  lift: number | null;
}

export interface FieldRow {
  /** Feature name: the field, or the field and the view taken of it (`http.referer (host)`). */
  feature: string;
  field: string;
  /** Jensen–Shannon divergence in bits, 0..1. */
  divergence: number;
  /** Total variation distance, 0..1. */
  tv: number;
  /** Distinct values tracked per side (capped). */
  distinct: { a: number; b: number };
  over_represented: ValueRow[];
  /** This field's best condition on its own, with its rates; null when B has no value worth one. */
  condition: Rate | null;
}

export interface CompareResult {
  scheme: string;
  a: { records: number };
  b: { records: number };
  /** True when the rates come from evaluating the expressions on every record; false: estimates from the tables. */
  measured: boolean;
  /** Fields kept out of the conditions because they define the populations. */
  split_fields: string[];
  fields: FieldRow[];
  suggestion: Rate | null;
  alternatives: Rate[];
}

/** A key as a person reads it. */
export function showKey(k: string): string {
  if (k === MISSING) return '(missing)';
  if (k === OPAQUE) return '(other form)';
  return Buffer.from(k, 'latin1').toString('utf8');
}

export async function compare<V>(pops: Populations<V>, opts: CompareOptions<V>): Promise<CompareResult> {
  const { scheme, features } = opts;
  const cap = opts.capacity ?? 4096;
  const tablesA = features.map(() => new CappedTable(cap));
  const tablesB = features.map(() => new CappedTable(cap));
  let na = 0;
  let nb = 0;
  const nf = features.length;
  await pops.read((v, inA, inB) => {
    if (!inA && !inB) return;
    if (inA) na++;
    if (inB) nb++;
    for (let i = 0; i < nf; i++) {
      const k = (features[i] as Feature<V>).key(v);
      if (inA) (tablesA[i] as CappedTable).add(k);
      if (inB) (tablesB[i] as CappedTable).add(k);
    }
  });

  const candidates: Candidate[] = [];
  const exclude = opts.exclude ?? new Set<string>();
  for (let i = 0; i < nf; i++) {
    if (exclude.has((features[i] as Feature<V>).field)) continue;
    const c = candidateFor(i, features[i] as Feature<V>, tablesA[i] as CappedTable, tablesB[i] as CappedTable);
    if (c) candidates.push(c);
    // A numeric field whose B values spread may be told better by a range than by a dozen values.
    const r = rangeCandidateFor(i, features[i] as Feature<V>, tablesA[i] as CappedTable, tablesB[i] as CappedTable, c ? score(c.cov, c.coll) + 0.01 : 0);
    if (r && r.expression !== c?.expression) candidates.push(r);
  }
  // More than fit in a mask: keep the most promising by their estimated score.
  candidates.sort((x, y) => score(y.cov, y.coll) - score(x.cov, x.coll));
  candidates.length = Math.min(candidates.length, MAX_CANDIDATES);

  const fieldOf = (c: Candidate): string => (features[c.feature] as Feature<V>).field;
  const rateOf = (expression: string, parts: Candidate[], b: number, a: number): Rate => ({
    expression,
    fields: [...new Set(parts.map(fieldOf))],
    b_matched: b,
    a_matched: a,
    b_share: nb > 0 ? b / nb : 0,
    a_share: na > 0 ? a / na : 0,
  });

  const perFeature = new Map<number, Rate>();
  let suggestion: Rate | null = null;
  let alternatives: Rate[] = [];
  // Nothing to measure is not an estimate: `measured` says whether the input allowed a second pass.
  const measured = pops.replayable;
  if (measured && candidates.length > 0) {
    const m = new Measure(candidates, scheme, opts.lists);
    await pops.read((v, inA, inB) => {
      if (inA || inB) m.add(v, inA, inB);
    });
    // A field's condition: the better of its set and range forms, as measured.
    const rateScore = (r: Rate): number => score(r.b_share, r.a_share);
    candidates.forEach((c, i) => {
      const s = m.matched(i, i);
      const r = rateOf(c.expression, [c], s.b, s.a);
      const had = perFeature.get(c.feature);
      if (!had || rateScore(r) > rateScore(had)) perFeature.set(c.feature, r);
    });
    const toRate = (ch: Choice): Rate =>
      rateOf(
        ch.expression,
        ch.parts.map((p) => candidates[p] as Candidate),
        ch.b,
        ch.a,
      );
    const { best, ranked } = choose(m, fieldOf, opts.alternatives ?? 5);
    suggestion = best ? toRate(best) : null;
    alternatives = ranked.map(toRate);
  } else if (!measured) {
    // Estimates: each field's condition from its tables; the suggestion is the best of them.
    for (const c of candidates) {
      const had = candidates.find((o) => o !== c && o.feature === c.feature);
      if (had && score(had.cov, had.coll) > score(c.cov, c.coll)) continue;
      perFeature.set(c.feature, rateOf(c.expression, [c], Math.round(c.cov * nb), Math.round(c.coll * na)));
    }
    const seen = new Set<string>();
    const ranked = [...candidates]
      .sort((x, y) => score(y.cov, y.coll) - score(x.cov, x.coll))
      .map((c) => perFeature.get(c.feature) as Rate)
      .filter((r) => {
        // One per field and counts, as in the measured list (a path and its shape).
        const k = `${r.fields.join('+')}/${r.b_matched}/${r.a_matched}`;
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
    suggestion = ranked[0] ?? null;
    alternatives = ranked.slice(1, 1 + (opts.alternatives ?? 5));
  }

  const topK = opts.topK ?? 32;
  const show = opts.show ?? 5;
  const fields: FieldRow[] = features.map((f, i) => {
    const ta = tablesA[i] as CappedTable;
    const tb = tablesB[i] as CappedTable;
    const d = distribution(ta, tb, topK);
    const { jsd, tv } = divergence(d);
    return {
      feature: f.name,
      field: f.field,
      divergence: round(jsd),
      tv: round(tv),
      distinct: { a: ta.tracked, b: tb.tracked },
      over_represented: overRepresented(d, show).map((o) => ({ value: showKey(o.key), b_share: round(o.b), a_share: round(o.a), lift: o.lift === null ? null : round(o.lift) })),
      condition: perFeature.get(i) ?? null,
    };
  });
  fields.sort((x, y) => y.divergence - x.divergence || x.feature.localeCompare(y.feature));
  return { scheme: scheme.name, a: { records: na }, b: { records: nb }, measured, split_fields: [...exclude].sort(), fields, suggestion, alternatives };
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
