/**
 * The value cache: what the engine has worked out about each distinct value (transformed values,
 * character classes, pair filters, operator verdicts), kept across requests.
 */
import type { Entry } from './collections.js';
import { gramsMiss, gramsOf } from './factors.js';
import { classMask, KNOWN } from './prefilter.js';
import type { TransformChains } from './rule.js';

/** Bounds of the value cache: distinct values, and characters of those values. */
const CACHE_ROWS = 4096;
const CACHE_CHARS = 4 << 20;
/** placements remembered in order for the next transaction (`ValueCache.place`) */
const LAST_PLACED = 512;

/**
 * What the engine has worked out about each distinct value it has seen, kept across requests:
 * a row per value with a column per transformation chain id (the transformed value, its
 * character classes, the bound on those classes, its pair filter), then a column per
 * transformation function for that function applied to the untransformed value, and a verdict
 * per rule: 1 when the rule's operator is known not to match the value (after the rule's
 * transformations).
 *
 * All of it depends on the value alone (transformations are pure, and verdicts are kept only
 * for operators whose outcome depends on nothing else: `Operator.pure`). Header values, cookie
 * and argument names, paths and many argument values repeat from request to request, so most
 * of a benign request's work is done once. The cache is bounded in rows and characters and
 * emptied when it outgrows them (between transactions: rows are never taken from one in
 * progress). Transactions use it in turn; one that finds it busy gets a cache of its own.
 */
export class ValueCache {
  values: (string | undefined)[] = [];
  /** classes of the cell's (transformed) value | KNOWN (0 = not computed yet); a raw value's
   * are on its entry (`Entry.classBounds[0]`) */
  classes = new Int32Array(0);
  /** pair filter of the cell's value (two ints per cell), valid where `pairFilterKnown` is 1 */
  pairFilters = new Int32Array(0);
  pairFilterKnown = new Uint8Array(0);
  /** row index * `verdictColumns` + `Rule.verdictColumn`: 1 when that rule's operator does not match the value */
  verdicts = new Uint8Array(0);
  /** by `Rule.unionSlot`: classes any value of those targets can have after that chain | KNOWN (per
   * transaction) */
  readonly classUnions: Int32Array;
  private readonly rowOf = new Map<string, number>();
  /**
   * The values placed by the last transactions, in the order they were placed, and their rows.
   * Requests of one site are alike, so the k-th value a transaction places is most often the
   * k-th one the previous placed: comparing the two strings costs less than hashing a fresh
   * string (every request brings new ones) for `rowOf`.
   */
  private readonly lastValues: string[] = [];
  private readonly lastRows: number[] = [];
  private placed = 0;
  /** per row (offset / rowWidth): the bounds table of its value's raw classes, once known */
  private rowBounds: (Int32Array | undefined)[] = [];
  /** counts the times the cache was emptied (rows handed out before are void) */
  epoch = 0;
  private rows = 0;
  private chars = 0;
  busy = false;
  /** chain id -> column of its last function applied to the untransformed value */
  readonly rawColumn: Int32Array;
  readonly rowWidth: number;

  /** raw classes -> per chain id, the classes the value can have after that chain | KNOWN */
  private readonly boundsTables = new Map<number, Int32Array>();

  constructor(
    private readonly chains: TransformChains,
    unionSlots: number,
    readonly verdictColumns: number,
  ) {
    const chainFn = chains.fn;
    this.classUnions = new Int32Array(unionSlots + 1);
    this.rawColumn = new Int32Array(chainFn.length);
    const cols = new Map<(s: string) => string, number>();
    for (let id = 1; id < chainFn.length; id++) {
      const f = chainFn[id];
      if (f === null) continue;
      let col = cols.get(f);
      if (col === undefined) {
        col = chainFn.length + cols.size;
        cols.set(f, col);
      }
      this.rawColumn[id] = col;
    }
    this.rowWidth = chainFn.length + cols.size;
  }

  /** Gives `e` the row of its value (a new one for a value not seen yet). */
  place(e: Entry, generation: number): void {
    e.generation = generation;
    // an entry kept between transactions (the initial TX) still knows its row
    if (e.cache === this && e.epoch === this.epoch) return;
    e.cache = this;
    e.epoch = this.epoch;
    const k = this.placed++;
    let at: number | undefined;
    if (k < this.lastValues.length && this.lastValues[k] === e.value) at = this.lastRows[k];
    else {
      at = this.rowOf.get(e.value);
      if (at === undefined) {
        at = this.row();
        this.rowOf.set(e.value, at);
        this.chars += e.value.length;
      }
      if (k < LAST_PLACED) {
        this.lastValues[k] = e.value;
        this.lastRows[k] = at;
      }
    }
    e.row = at;
    e.verdictRow = (at / this.rowWidth) * this.verdictColumns;
  }

  /** The bounds after each chain of the value of `e` (placed): worked out once per value. */
  boundsOfRow(e: Entry): Int32Array {
    const r = e.row / this.rowWidth;
    let b = this.rowBounds[r];
    if (b === undefined) {
      b = this.boundsFor(classMask(e.value) | KNOWN);
      this.rowBounds[r] = b;
    }
    return b;
  }

  /** The bounds after each chain for a value with `raw` classes (they depend on nothing else,
   * and values share few distinct class sets). */
  boundsFor(raw: number): Int32Array {
    const known = this.boundsTables.get(raw);
    if (known !== undefined) return known;
    const table = new Int32Array(this.chains.parent.length);
    table[0] = raw;
    const fill = (id: number): number => {
      if (table[id] !== 0) return table[id];
      const p = this.chains.parent[id];
      table[id] = this.chains.classesAfter[id](p === 0 ? raw : fill(p)) | KNOWN;
      return table[id];
    };
    for (let id = 1; id < table.length; id++) fill(id);
    if (this.boundsTables.size >= 4096) this.boundsTables.clear();
    this.boundsTables.set(raw, table);
    return table;
  }

  /** offset of a fresh row */
  private row(): number {
    const at = this.rows * this.rowWidth;
    this.rows++;
    const need = at + this.rowWidth;
    if (need > this.values.length) {
      const cap = Math.max(need, this.values.length * 2);
      for (let i = this.values.length; i < cap; i++) this.values.push(undefined);
      this.classes = grow(this.classes, cap);
      this.pairFilters = grow(this.pairFilters, cap * 2);
      this.pairFilterKnown = grow(this.pairFilterKnown, cap);
      this.verdicts = grow(this.verdicts, (cap / this.rowWidth) * this.verdictColumns);
    }
    return at;
  }

  /** Does the pair filter of `v`, the value of `cell`, rule out every factor in `g`? */
  pairFilterMisses(cell: number, v: string, g: Int32Array): boolean {
    if (this.pairFilterKnown[cell] === 0) {
      gramsOf(v, this.pairFilters, cell * 2);
      this.pairFilterKnown[cell] = 1;
    }
    return gramsMiss(g, this.pairFilters[cell * 2], this.pairFilters[cell * 2 + 1]);
  }

  /** Start of a transaction: per-transaction state cleared, everything forgotten when the cache
   * has outgrown its bounds (the arrays are kept for the next values unless one transaction made
   * them much larger). */
  begin(): void {
    this.classUnions.fill(0);
    this.placed = 0;
    if (this.rows < CACHE_ROWS && this.chars < CACHE_CHARS) return;
    this.rowOf.clear();
    this.lastValues.length = 0;
    this.lastRows.length = 0;
    this.rowBounds = [];
    this.epoch++;
    if (this.rows > CACHE_ROWS * 2) {
      this.values = [];
      this.classes = new Int32Array(0);
      this.pairFilters = new Int32Array(0);
      this.pairFilterKnown = new Uint8Array(0);
      this.verdicts = new Uint8Array(0);
    } else {
      const cells = this.rows * this.rowWidth;
      this.values.fill(undefined, 0, cells);
      this.classes.fill(0, 0, cells);
      this.pairFilterKnown.fill(0, 0, cells);
      this.verdicts.fill(0, 0, this.rows * this.verdictColumns);
    }
    this.rows = 0;
    this.chars = 0;
  }
}

function grow<T extends Int32Array | Uint8Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}
