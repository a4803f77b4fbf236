/**
 * Frequent items (Misra–Gries with batched decrements) over int32 keys, with packet and byte
 * counts and an optional fixed-width identity per key.
 *
 * Why this and not Space-Saving with a heap: under a spoofed flood nearly every packet is a new
 * key. Here a new key costs one probe into a typed-array hash table; when the table is full we
 * subtract the median count from every entry and drop the ones that reach zero, in one O(n)
 * pass that happens at most once per capacity/2 insertions. Memory is fixed at construction.
 *
 * Guarantees (Misra–Gries): every key whose true count exceeds `decremented` is in the table,
 * and a reported count is at most `decremented` below the true one. `exact` is true while no
 * decrement has ever happened (every count is then exact).
 */
/** Counts sampled to find the purge median. */
const MEDIAN_SAMPLE = 2048;

export class FrequentItems {
  readonly capacity: number;
  private readonly mask: number;
  private keys: Int32Array;
  private counts: Float64Array;
  private bytesArr: Float64Array;
  private used: Uint8Array;
  private ids: Uint8Array;
  private idLens: Uint16Array;
  private size = 0;
  /** Total amount subtracted from every surviving counter so far (the error bound). */
  decremented = 0;
  readonly idWidth: number;

  /**
   * @param capacity number of slots (rounded up to a power of two); at most 3/4 are filled.
   * @param idWidth bytes of identity stored per key (0 when the key itself is the identity).
   */
  constructor(capacity = 65536, idWidth = 0) {
    let cap = 16;
    while (cap < capacity) cap <<= 1;
    this.capacity = cap;
    this.mask = cap - 1;
    this.idWidth = idWidth;
    this.keys = new Int32Array(cap);
    this.counts = new Float64Array(cap);
    this.bytesArr = new Float64Array(cap);
    this.used = new Uint8Array(cap);
    this.ids = new Uint8Array(cap * idWidth);
    this.idLens = new Uint16Array(idWidth > 0 ? cap : 0);
  }

  get exact(): boolean {
    return this.decremented === 0;
  }

  /**
   * Count `w` occurrences (1 unless the record stands for several packets) of `key` with `bytes` in
   * all. Returns the slot (for identity writes) when newly inserted, else -1.
   */
  add(key: number, bytes: number, w = 1): number {
    const mask = this.mask;
    let i = Math.imul(key, 0x9e3779b1) >>> 0;
    i = (i ^ (i >>> 15)) & mask;
    const used = this.used;
    const keys = this.keys;
    for (;;) {
      if (used[i] === 0) break;
      if (keys[i] === key) {
        this.counts[i] += w;
        this.bytesArr[i] += bytes;
        return -1;
      }
      i = (i + 1) & mask;
    }
    if (this.size >= (this.capacity * 3) >>> 2) {
      this.purge();
      return this.add(key, bytes, w);
    }
    used[i] = 1;
    keys[i] = key;
    this.counts[i] = w;
    this.bytesArr[i] = bytes;
    this.size++;
    return i;
  }

  /** Store identity bytes for a slot returned by add(). */
  setId(slot: number, src: Uint8Array, off: number, len: number): void {
    const w = this.idWidth;
    const n = len < w ? len : w;
    const base = slot * w;
    for (let j = 0; j < n; j++) this.ids[base + j] = src[off + j] as number;
    this.idLens[slot] = n;
  }

  // A second set of arrays, reused by every purge after the first: a purge under a spoofed
  // flood happens every few tens of thousands of packets, and fresh arrays each time (2 MB for
  // a conversation table) made the garbage collector a tenth of analyze's time.
  private spare: { keys: Int32Array; counts: Float64Array; bytes: Float64Array; used: Uint8Array; ids: Uint8Array; idLens: Uint16Array } | null = null;
  private readonly sample = new Float64Array(MEDIAN_SAMPLE);

  /**
   * Subtract (about) the median count from everyone; drop entries that reach zero; rehash
   * survivors. The median is taken over an evenly strided sample of slots: any decrement keeps
   * the Misra–Gries bound (it is added to `decremented`); the median only sets how much is freed.
   * Under a spoofed flood this runs every capacity/2 or so new keys, so its cost is per packet:
   * one pass over the table (the rehash), a quickselect, no allocation after the first purge.
   */
  private purge(): void {
    const cap = this.capacity;
    const mask = this.mask;
    // The sample: every step-th slot, live ones only. A purge starts with the table 3/4 full and
    // slots are in hash order, so this is about MEDIAN_SAMPLE entries drawn evenly from all of
    // them, for a look at about 4/3 MEDIAN_SAMPLE slots instead of a walk over all of them.
    const step = Math.max(1, Math.floor((cap * 3) / 4 / MEDIAN_SAMPLE));
    const sample = this.sample;
    let n = 0;
    const used0 = this.used;
    const counts0 = this.counts;
    for (let i = 0; i < cap && n < MEDIAN_SAMPLE; i += step) if (used0[i] !== 0) sample[n++] = counts0[i] as number;
    const dec = Math.max(1, n > 0 ? select(sample, n, n >>> 1) : 0);
    this.decremented += dec;
    const oldKeys = this.keys;
    const oldCounts = this.counts;
    const oldBytes = this.bytesArr;
    const oldUsed = this.used;
    const oldIds = this.ids;
    const oldIdLens = this.idLens;
    const w = this.idWidth;
    const next = this.spare ?? {
      keys: new Int32Array(cap),
      counts: new Float64Array(cap),
      bytes: new Float64Array(cap),
      used: new Uint8Array(cap),
      ids: new Uint8Array(cap * w),
      idLens: new Uint16Array(w > 0 ? cap : 0),
    };
    const keys = next.keys;
    const counts = next.counts;
    const bytes = next.bytes;
    const used = next.used;
    const ids = next.ids;
    const idLens = next.idLens;
    used.fill(0);
    this.keys = keys;
    this.counts = counts;
    this.bytesArr = bytes;
    this.used = used;
    this.ids = ids;
    this.idLens = idLens;
    this.spare = { keys: oldKeys, counts: oldCounts, bytes: oldBytes, used: oldUsed, ids: oldIds, idLens: oldIdLens };
    let size = 0;
    for (let i = 0; i < cap; i++) {
      if (oldUsed[i] === 0) continue;
      const c = (oldCounts[i] as number) - dec;
      if (c <= 0) continue;
      const key = oldKeys[i] as number;
      let j = Math.imul(key, 0x9e3779b1) >>> 0;
      j = (j ^ (j >>> 15)) & mask;
      while (used[j] !== 0) j = (j + 1) & mask;
      used[j] = 1;
      keys[j] = key;
      counts[j] = c;
      bytes[j] = oldBytes[i] as number;
      if (w > 0) {
        // A byte loop, not ids.set(oldIds.subarray(..)): a subarray is an object, and a purge
        // under a spoofed flood moves tens of thousands of survivors.
        const len = oldIdLens[i] as number;
        const from = i * w;
        const to = j * w;
        for (let k = 0; k < len; k++) ids[to + k] = oldIds[from + k] as number;
        idLens[j] = len;
      }
      size++;
    }
    this.size = size;
  }

  /** Whether slot a ranks before slot b: count, then bytes, descending; then key ascending. */
  private before(a: number, b: number): boolean {
    const ca = this.counts[a] as number;
    const cb = this.counts[b] as number;
    if (ca !== cb) return ca > cb;
    const ba = this.bytesArr[a] as number;
    const bb = this.bytesArr[b] as number;
    if (ba !== bb) return ba > bb;
    return (this.keys[a] as number) < (this.keys[b] as number);
  }

  /**
   * The `k` largest entries, by count. Identity is a copy of the stored bytes (or null).
   * Selects slots with a k-long insertion list first, so only k entries are materialised.
   */
  top(k: number): Array<{ key: number; count: number; bytes: number; id: Uint8Array | null }> {
    const best: number[] = [];
    if (k > 0) {
      for (let i = 0; i < this.capacity; i++) {
        if (!this.used[i]) continue;
        if (best.length === k && !this.before(i, best[k - 1] as number)) continue;
        let at = best.length === k ? k - 1 : best.length;
        while (at > 0 && this.before(i, best[at - 1] as number)) {
          best[at] = best[at - 1] as number;
          at--;
        }
        best[at] = i;
        if (best.length > k) best.length = k;
      }
    }
    return best.map((i) => ({
      key: this.keys[i] as number,
      count: this.counts[i] as number,
      bytes: this.bytesArr[i] as number,
      id: this.idWidth > 0 ? this.ids.slice(i * this.idWidth, i * this.idWidth + (this.idLens[i] as number)) : null,
    }));
  }

  get entries(): number {
    return this.size;
  }
}

/**
 * The k-th smallest of a[0, n) (what a sort would put at k), by quickselect in place: no copy
 * and O(n), where TypedArray sort cost a purge as much as its two passes over the table.
 */
function select(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1] as number;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((a[i] as number) < pivot) i++;
      while ((a[j] as number) > pivot) j--;
      if (i <= j) {
        const t = a[i] as number;
        a[i] = a[j] as number;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k] as number;
  }
  return a[k] as number;
}
