/**
 * How far apart two populations are on one feature, from their capped tables: the divergence of
 * the two distributions over the values either side ranks in its top k plus one "other" bucket
 * for the rest, and the values B has more of.
 *
 * The measure is the Jensen–Shannon divergence in bits (0: same distribution, 1: no value in
 * common). It is chosen over Kullback–Leibler because the usual case here is a value one side
 * never shows (the bots' UA is absent from A), where KL is infinite; it is symmetric and bounded,
 * so fields of very different cardinality rank on one scale. Total variation (half the L1
 * distance, the share of requests that would have to change value) is given beside it, as the
 * plainer reading of the same gap.
 */
import type { CappedTable } from './compare-table.js';

export interface ValueCounts {
  key: string;
  a: number;
  b: number;
}

export interface Distribution {
  /** The union of both top-k, with each side's count. */
  values: ValueCounts[];
  /** Records outside those values, per side. */
  otherA: number;
  otherB: number;
  totalA: number;
  totalB: number;
}

export function distribution(ta: CappedTable, tb: CappedTable, k: number): Distribution {
  const keys = new Set<string>();
  for (const e of ta.top(k)) keys.add(e.value);
  for (const e of tb.top(k)) keys.add(e.value);
  const values: ValueCounts[] = [];
  let sa = 0;
  let sb = 0;
  for (const key of keys) {
    const a = ta.count(key);
    const b = tb.count(key);
    sa += a;
    sb += b;
    values.push({ key, a, b });
  }
  return { values, otherA: Math.max(0, ta.total - sa), otherB: Math.max(0, tb.total - sb), totalA: ta.total, totalB: tb.total };
}

function xlog(p: number, m: number): number {
  return p > 0 ? p * Math.log2(p / m) : 0;
}

/** Jensen–Shannon divergence (bits) and total variation of the two sides of a distribution; 0 when a side is empty. */
export function divergence(d: Distribution): { jsd: number; tv: number } {
  if (d.totalA === 0 || d.totalB === 0) return { jsd: 0, tv: 0 };
  let jsd = 0;
  let tv = 0;
  const add = (ca: number, cb: number): void => {
    const p = ca / d.totalA;
    const q = cb / d.totalB;
    const m = (p + q) / 2;
    jsd += 0.5 * xlog(p, m) + 0.5 * xlog(q, m);
    tv += 0.5 * Math.abs(p - q);
  };
  for (const v of d.values) add(v.a, v.b);
  add(d.otherA, d.otherB);
  // Rounding can leave a hair below 0 or above 1.
  return { jsd: Math.min(1, Math.max(0, jsd)), tv: Math.min(1, Math.max(0, tv)) };
}

export interface OverRepresented {
  key: string;
  /** Shares of each side (0..1). */
  a: number;
  b: number;
  /** b / a; null when A never shows the value. */
  lift: number | null;
}

/** The values whose share is larger in B, by how much larger (b − a), at most n. */
export function overRepresented(d: Distribution, n: number): OverRepresented[] {
  if (d.totalA === 0 || d.totalB === 0) return [];
  return d.values
    .map((v) => ({ key: v.key, a: v.a / d.totalA, b: v.b / d.totalB }))
    .filter((v) => v.b > v.a)
    .sort((x, y) => y.b - y.a - (x.b - x.a) || (x.key < y.key ? -1 : 1))
    .slice(0, n)
    .map((v) => ({ ...v, lift: v.a > 0 ? v.b / v.a : null }));
}
