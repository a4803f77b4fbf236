/**
 * The signature of an L7 attack: a conjunction of HTTP-scheme constraints that its requests share
 * and the site's other requests do not, found on samples (the attack's class requests, and the
 * host's reference sample without the attack's sources) by a greedy search:
 *
 *   candidates: each trait the attack's requests (nearly) all share — one method, one path or a
 *   few, one HTTP version, no referer, no cookie, query present or absent, one user agent or a
 *   few (UA rotation over a small set), one JA3/JA4;
 *   step: take the candidate that removes the most reference requests while keeping ≥ 97 % of
 *   the attack's; stop when the estimated collateral is under the bar or nothing helps.
 *
 * The text is in the Rules language; measure.ts compiles it and measures coverage and collateral
 * over the whole log (the figures here are estimates from the samples).
 */
import { bytesLiteral } from '../../rules/literal.js';
import { Col } from './columns.js';
import type { Row } from './sample.js';

export interface Atom {
  /** Rules-language text. */
  text: string;
  /** Order in the printed conjunction (host, method, path, query, version, referer, cookie, UA, TLS). */
  rank: number;
  /** The one field the constraint reads, as a measuring column (columns.ts). */
  col: Col;
  test: (r: Row) => boolean;
}

/** One constraint of a signature's conjunction: its text and the field it reads. */
export interface Part {
  col: Col;
  text: string;
}

export interface FoundSignature {
  expression: string;
  atoms: string[];
  /** The conjunction's constraints, the host's first: `expression` is their texts joined by `and`. */
  parts: Part[];
  /** Estimates on the samples. */
  coverage: number;
  collateral: number;
}

/** Share of the attack's sampled requests a constraint must keep. */
const KEEP = 0.97;
/** Estimated collateral at which the search stops adding constraints. */
const ENOUGH = 0.0002;
/** At most this many values in a set constraint (`in {…}`). */
const MAX_SET = 8;

/** A byte string (one char per byte) as a Rules-language quoted string. */
export const quote = bytesLiteral;

/** The fewest values of `key` covering ≥ KEEP of the rows, or null when more than MAX_SET are needed. */
function coveringSet(rows: readonly Row[], key: (r: Row) => string): string[] | null {
  const counts = new Map<string, number>();
  for (const r of rows) {
    const k = key(r);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const sorted = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const out: string[] = [];
  let got = 0;
  for (const [k, n] of sorted) {
    if (got >= KEEP * rows.length) break;
    if (out.length >= MAX_SET) return null;
    out.push(k);
    got += n;
  }
  return got >= KEEP * rows.length ? out : null;
}

function setAtom(field: string, col: Col, values: string[], rank: number, key: (r: Row) => string): Atom {
  if (values.length === 1) {
    const v = values[0] as string;
    return { text: `${field} eq ${quote(v)}`, rank, col, test: (r) => key(r) === v };
  }
  const set = new Set(values);
  return { text: `${field} in {${[...values].sort().map(quote).join(' ')}}`, rank, col, test: (r) => set.has(key(r)) };
}

/** The candidate constraints the attack's rows (nearly) all satisfy. */
export function candidates(pos: readonly Row[]): Atom[] {
  const out: Atom[] = [];
  const share = (f: (r: Row) => boolean): number => pos.filter(f).length / Math.max(1, pos.length);
  const add = (field: string, col: Col, rank: number, key: (r: Row) => string): void => {
    const s = coveringSet(pos, key);
    if (s !== null) out.push(setAtom(field, col, s, rank, key));
  };
  add('http.request.method', Col.METHOD, 1, (r) => r.method);
  add('http.request.uri.path', Col.PATH, 2, (r) => r.path);
  // Query, referer and cookie are constrained only to be empty or not: their columns key on that.
  if (share((r) => r.query === '') >= KEEP) out.push({ text: 'http.request.uri.query eq ""', rank: 3, col: Col.QUERY, test: (r) => r.query === '' });
  else if (share((r) => r.query !== '') >= KEEP) out.push({ text: 'http.request.uri.query ne ""', rank: 3, col: Col.QUERY, test: (r) => r.query !== '' });
  add('http.request.version', Col.VERSION, 4, (r) => r.version);
  if (share((r) => r.referer === '') >= KEEP) out.push({ text: 'http.referer eq ""', rank: 5, col: Col.REFERER, test: (r) => r.referer === '' });
  if (share((r) => !r.cookie) >= KEEP) out.push({ text: 'http.cookie eq ""', rank: 6, col: Col.COOKIE, test: (r) => !r.cookie });
  add('http.user_agent', Col.UA, 7, (r) => r.ua);
  if (share((r) => r.ja3 !== '') >= KEEP) add('cf.bot_management.ja3_hash', Col.JA3, 8, (r) => r.ja3);
  if (share((r) => r.ja4 !== '') >= KEEP) add('cf.bot_management.ja4', Col.JA4, 9, (r) => r.ja4);
  return out;
}

/**
 * Search the conjunction. `pos`: the attack's sampled requests; `neg`: the host's other sampled
 * requests. `host`: the victim site (its constraint heads the expression; the samples are of
 * that host already).
 */
export function searchSignature(host: string, pos: readonly Row[], neg: readonly Row[]): FoundSignature {
  const atoms = candidates(pos);
  const chosen: Atom[] = [];
  let negLeft: readonly Row[] = neg;
  let posLeft: readonly Row[] = pos;
  for (;;) {
    if (negLeft.length <= ENOUGH * neg.length) break;
    let best: Atom | null = null;
    let bestNeg: Row[] = [];
    let bestPos: Row[] = [];
    for (const a of atoms) {
      if (chosen.includes(a)) continue;
      const p = posLeft.filter(a.test);
      // Every constraint keeps (nearly) all of the attack: the conjunction at least 95 % of it.
      if (p.length < KEEP * posLeft.length || p.length < 0.95 * pos.length) continue;
      const n = negLeft.filter(a.test);
      if (n.length >= negLeft.length) continue;
      if (best === null || n.length < bestNeg.length || (n.length === bestNeg.length && p.length > bestPos.length)) {
        best = a;
        bestNeg = n;
        bestPos = p;
      }
    }
    if (best === null) break;
    chosen.push(best);
    negLeft = bestNeg;
    posLeft = bestPos;
  }
  chosen.sort((a, b) => a.rank - b.rank);
  const parts: Part[] = [...(host !== '' ? [{ col: Col.HOST, text: `http.host eq ${quote(host)}` }] : []), ...chosen.map((a) => ({ col: a.col, text: a.text }))];
  return {
    expression: parts.map((p) => p.text).join(' and '),
    atoms: chosen.map((a) => a.text),
    parts,
    coverage: pos.length === 0 ? 0 : posLeft.length / pos.length,
    collateral: neg.length === 0 ? 0 : negLeft.length / neg.length,
  };
}
