/**
 * A capped frequency table (space-saving, Metwally et al. 2005): at most `capacity` distinct
 * values are tracked, whatever the input's cardinality. When a new value arrives at a full table
 * it takes the place of the least-counted one and inherits that count (+1), recorded as the
 * entry's possible overestimate. A value seen more than total/capacity times is always tracked,
 * so the heavy values of a population (an attack's UA, its /24s) survive however late they start
 * — which a table that only admits its first `capacity` values would miss.
 *
 * The counts of the tracked values sum to the total, so "other" (everything outside a top-k) is
 * the total minus the top-k counts, and no request is lost from a distribution.
 */

export interface TableEntry {
  value: string;
  /** Counted occurrences (may overestimate by up to `error`). */
  count: number;
  /** Upper bound of the overestimate (the count inherited when the value replaced another). */
  error: number;
}

export class CappedTable {
  private readonly index = new Map<string, number>();
  private readonly keys: string[] = [];
  private readonly counts: Float64Array;
  private readonly errors: Float64Array;
  /** Min-heap of slots by count: the slot to recycle is heap[0]. */
  private readonly heap: Int32Array;
  /** Position of each slot in heap. */
  private readonly pos: Int32Array;
  private size = 0;
  /** The last value added and its slot (a slot is recycled only by add, which updates both). */
  private lastKey: string | null = null;
  private lastSlot = 0;
  /** Every value added, tracked or not. */
  total = 0;

  constructor(readonly capacity: number) {
    this.counts = new Float64Array(capacity);
    this.errors = new Float64Array(capacity);
    this.heap = new Int32Array(capacity);
    this.pos = new Int32Array(capacity);
  }

  add(value: string): void {
    this.total++;
    // Consecutive records often share a value (method, host, version, a bot's UA): compare with
    // the last one before hashing the string for the map.
    const slot = value === this.lastKey ? this.lastSlot : this.index.get(value);
    if (slot !== undefined) {
      this.counts[slot]++;
      this.down(this.pos[slot] as number);
      this.lastKey = value;
      this.lastSlot = slot;
      return;
    }
    if (this.size < this.capacity) {
      const s = this.size++;
      this.keys[s] = value;
      this.counts[s] = 1;
      this.errors[s] = 0;
      this.index.set(value, s);
      this.heap[s] = s;
      this.pos[s] = s;
      this.up(s);
      this.lastKey = value;
      this.lastSlot = s;
      return;
    }
    const s = this.heap[0] as number;
    this.index.delete(this.keys[s] as string);
    this.keys[s] = value;
    this.index.set(value, s);
    this.errors[s] = this.counts[s] as number;
    this.counts[s]++;
    this.down(0);
    this.lastKey = value;
    this.lastSlot = s;
  }

  /** Counted occurrences of a value; 0 for a value not tracked. */
  count(value: string): number {
    const s = this.index.get(value);
    return s === undefined ? 0 : (this.counts[s] as number);
  }

  /** Distinct values tracked (at most capacity). */
  get tracked(): number {
    return this.size;
  }

  /** The k most counted values, most first (ties by value, so output is deterministic). */
  top(k: number): TableEntry[] {
    const out: TableEntry[] = [];
    for (let s = 0; s < this.size; s++) out.push({ value: this.keys[s] as string, count: this.counts[s] as number, error: this.errors[s] as number });
    out.sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
    return out.slice(0, k);
  }

  private less(i: number, j: number): boolean {
    return (this.counts[this.heap[i] as number] as number) < (this.counts[this.heap[j] as number] as number);
  }

  private swap(i: number, j: number): void {
    const a = this.heap[i] as number;
    const b = this.heap[j] as number;
    this.heap[i] = b;
    this.heap[j] = a;
    this.pos[b] = i;
    this.pos[a] = j;
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) return;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.size) return;
      const r = l + 1;
      const m = r < this.size && this.less(r, l) ? r : l;
      if (!this.less(m, i)) return;
      this.swap(i, m);
      i = m;
    }
  }
}
