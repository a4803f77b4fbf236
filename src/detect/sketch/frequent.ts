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

  /** Count one occurrence of `key` with `bytes`. Returns the slot (for identity writes) when newly inserted, else -1. */
  add(key: number, bytes: number): number {
    const mask = this.mask;
    let i = Math.imul(key, 0x9e3779b1) >>> 0;
    i = (i ^ (i >>> 15)) & mask;
    const used = this.used;
    const keys = this.keys;
    for (;;) {
      if (used[i] === 0) break;
      if (keys[i] === key) {
        this.counts[i] += 1;
        this.bytesArr[i] += bytes;
        return -1;
      }
      i = (i + 1) & mask;
    }
    if (this.size >= (this.capacity * 3) >>> 2) {
      this.purge();
      return this.add(key, bytes);
    }
    used[i] = 1;
    keys[i] = key;
    this.counts[i] = 1;
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

  /** Subtract the median count from everyone; drop entries that reach zero; rehash survivors. */
  private purge(): void {
    const cap = this.capacity;
    const live = new Float64Array(this.size);
    let n = 0;
    for (let i = 0; i < cap; i++) if (this.used[i]) live[n++] = this.counts[i] as number;
    live.sort();
    const dec = Math.max(1, live[n >>> 1] as number);
    this.decremented += dec;
    const oldKeys = this.keys;
    const oldCounts = this.counts;
    const oldBytes = this.bytesArr;
    const oldUsed = this.used;
    const oldIds = this.ids;
    const oldIdLens = this.idLens;
    this.keys = new Int32Array(cap);
    this.counts = new Float64Array(cap);
    this.bytesArr = new Float64Array(cap);
    this.used = new Uint8Array(cap);
    this.ids = new Uint8Array(cap * this.idWidth);
    this.idLens = new Uint16Array(this.idWidth > 0 ? cap : 0);
    this.size = 0;
    const w = this.idWidth;
    for (let i = 0; i < cap; i++) {
      if (!oldUsed[i]) continue;
      const c = (oldCounts[i] as number) - dec;
      if (c <= 0) continue;
      const key = oldKeys[i] as number;
      let j = Math.imul(key, 0x9e3779b1) >>> 0;
      j = (j ^ (j >>> 15)) & this.mask;
      while (this.used[j]) j = (j + 1) & this.mask;
      this.used[j] = 1;
      this.keys[j] = key;
      this.counts[j] = c;
      this.bytesArr[j] = oldBytes[i] as number;
      if (w > 0) {
        this.ids.set(oldIds.subarray(i * w, i * w + w), j * w);
        this.idLens[j] = oldIdLens[i] as number;
      }
      this.size++;
    }
  }

  /** The `k` largest entries, by count. Identity is a copy of the stored bytes (or null). */
  top(k: number): Array<{ key: number; count: number; bytes: number; id: Uint8Array | null }> {
    const out: Array<{ key: number; count: number; bytes: number; id: Uint8Array | null }> = [];
    for (let i = 0; i < this.capacity; i++) {
      if (!this.used[i]) continue;
      out.push({
        key: this.keys[i] as number,
        count: this.counts[i] as number,
        bytes: this.bytesArr[i] as number,
        id: this.idWidth > 0 ? this.ids.slice(i * this.idWidth, i * this.idWidth + (this.idLens[i] as number)) : null,
      });
    }
    out.sort((a, b) => b.count - a.count || b.bytes - a.bytes || a.key - b.key);
    return out.slice(0, k);
  }

  get entries(): number {
    return this.size;
  }
}
