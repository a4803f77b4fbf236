/**
 * One-second window state for a set of keys (destination addresses, or destination prefixes):
 * an open-addressing table of at most `capacity` keys whose per-key counters live in flat typed
 * arrays — packets and bytes per traffic class, first/last packet time per class, and small
 * linear-counting bitmaps for distinct sources, destination ports, DNS names and (for prefixes)
 * addresses hit. Cleared slot by slot at the end of each window, so memory is fixed whatever the
 * traffic: keys beyond capacity in one window are counted in `overflow`, never stored.
 *
 * Slots are dense: the open-addressing index (`hash`, `index`, twice the capacity) maps a key to
 * a slot number given in insertion order, so the slots a window uses are the first `nUsed` of
 * every per-slot array (a few cache lines per packet, sequential at window close).
 *
 * Generic over record kinds: the caller says how many traffic classes its records fall in.
 */

/** Bits per linear-counting bitmap (1,024 bits: accurate to a few thousand distinct values). */
const BITS = 1024;
const WORDS = BITS >>> 5;
/** 32-bit words per bitmap (for code that copies or ORs whole bitmaps: l34/window-rows.ts). */
export const BITMAP_WORDS = WORDS;

/** The counters of one (slot, class) pair in `rec`: REC_STRIDE numbers side by side. */
export const enum Rec {
  PACKETS = 0,
  BYTES = 1,
  /** Relative time (ns) of the class's first and last packet in the window. */
  FIRST = 2,
  LAST = 3,
  /** Packets actually seen: PACKETS for a capture; fewer when records stand for sampled traffic. */
  SAMPLES = 4,
  STRIDE = 5,
}

export class KeyTable {
  readonly cap: number;
  /** Traffic classes per slot. */
  readonly classes: number;
  private readonly mask: number;
  /** Index position → key hash, or 0 when empty (hash 0 is remapped). */
  private readonly hash: Int32Array;
  /** Index position → slot. */
  private readonly index: Int32Array;
  /** Slot → its index position (to empty the index at window close). */
  private readonly pos: Int32Array;
  /** 4 or 6 per slot; the address (or prefix) bytes are in `addr` (16 bytes per slot, IPv4 in the first 4). */
  readonly fam: Uint8Array;
  readonly addr: Uint8Array;
  /** IPv4 key as int32 (`a | 0`): int32 values stay small integers in V8, uint32 ones get boxed. */
  readonly v4: Int32Array;
  /** Base second of relative times (set by the detector). */
  base = 0;
  readonly total: Float64Array;
  readonly totalBytes: Float64Array;
  /**
   * Per slot and class (index (slot * classes + class) * Rec.STRIDE): packets, bytes, first and
   * last packet time (Rec), side by side so that counting a packet touches one cache line. Read
   * through packets(), bytes(), firstTime() and lastTime().
   */
  readonly rec: Float64Array;
  readonly srcBits: Int32Array;
  readonly portBits: Int32Array;
  readonly nameBits: Int32Array;
  readonly hitBits: Int32Array;
  /** Per slot: which bitmaps were written this window (1 src, 2 port, 4 name, 8 hits), so only those are cleared. */
  readonly touched: Uint8Array;
  /** Per slot: bit c set when class c has packets this window (merge and clear visit only those). */
  readonly clsMask: Int32Array;
  /** Per slot: index into the detector's victim samplers, -1 none. */
  readonly sampler: Int32Array;
  /** For destination slots: the prefix slot they belong to (set when the window closes). */
  readonly parent: Int32Array;
  /** For destination slots: the sampler of their prefix when the prefix is under attack, -1 none. */
  readonly psampler: Int32Array;
  /** For destination slots: which live measurements' victims are (or contain) the address (detector.ts). */
  readonly live: Int32Array;
  /** For destination slots: 1 when live, sampler or psampler names something. */
  readonly victim: Uint8Array;
  /** Per slot: one count the caller keeps for its own test this window (the L3/L4 detector: empty UDP datagrams); cleared with the slot. */
  readonly aux: Float64Array;
  readonly used: Int32Array;
  nUsed = 0;
  overflow = 0;

  constructor(capacity: number, classes: number) {
    this.cap = capacity;
    this.classes = classes;
    this.mask = capacity * 2 - 1;
    this.hash = new Int32Array(capacity * 2);
    this.index = new Int32Array(capacity * 2);
    this.pos = new Int32Array(capacity);
    const n = capacity;
    this.fam = new Uint8Array(n);
    this.addr = new Uint8Array(n * 16);
    this.v4 = new Int32Array(n);
    this.total = new Float64Array(n);
    this.totalBytes = new Float64Array(n);
    this.rec = new Float64Array(n * classes * Rec.STRIDE);
    this.srcBits = new Int32Array(n * WORDS);
    this.portBits = new Int32Array(n * WORDS);
    this.nameBits = new Int32Array(n * WORDS);
    this.hitBits = new Int32Array(n * 8);
    this.touched = new Uint8Array(n);
    this.clsMask = new Int32Array(n);
    this.sampler = new Int32Array(n).fill(-1);
    this.parent = new Int32Array(n).fill(-1);
    this.psampler = new Int32Array(n).fill(-1);
    this.live = new Int32Array(n);
    this.victim = new Uint8Array(n);
    this.aux = new Float64Array(n);
    this.used = new Int32Array(capacity);
  }

  /**
   * The slot of a key (IPv4: `v4` with fam 4; IPv6: 16 bytes at buf[off]), inserting it if new.
   * Returns -1 when the window already holds `capacity` keys. `isNew` tells the caller to
   * initialise what it attaches to the slot.
   */
  isNew = false;

  slot4(a: number, h: number): number {
    const hh = h === 0 ? 1 : h;
    let q = hh & this.mask;
    for (;;) {
      const x = this.hash[q] as number;
      if (x === 0) break;
      if (x === hh) {
        const i = this.index[q] as number;
        if (this.fam[i] === 4 && this.v4[i] === a) {
          this.isNew = false;
          return i;
        }
      }
      q = (q + 1) & this.mask;
    }
    const i = this.claim(q, hh, 4);
    if (i < 0) return -1;
    this.v4[i] = a;
    const o = i * 16;
    this.addr[o] = a >>> 24;
    this.addr[o + 1] = (a >>> 16) & 255;
    this.addr[o + 2] = (a >>> 8) & 255;
    this.addr[o + 3] = a & 255;
    return i;
  }

  /** Take the next dense slot for a new key at hash position q (-1 when the window's table is full). */
  private claim(q: number, hh: number, fam: 4 | 6): number {
    if (this.nUsed >= this.cap) {
      this.overflow++;
      return -1;
    }
    const i = this.nUsed++;
    this.hash[q] = hh;
    this.index[q] = i;
    this.pos[i] = q;
    this.fam[i] = fam;
    this.used[i] = i;
    this.isNew = true;
    return i;
  }

  slot6(buf: Uint8Array, off: number, len: number, h: number): number {
    const hh = h === 0 ? 1 : h;
    let q = hh & this.mask;
    for (;;) {
      const x = this.hash[q] as number;
      if (x === 0) break;
      if (x === hh) {
        const i = this.index[q] as number;
        if (this.fam[i] === 6 && this.same(i, buf, off, len)) {
          this.isNew = false;
          return i;
        }
      }
      q = (q + 1) & this.mask;
    }
    const i = this.claim(q, hh, 6);
    if (i < 0) return -1;
    const o = i * 16;
    for (let k = 0; k < 16; k++) this.addr[o + k] = k < len ? (buf[off + k] as number) : 0;
    return i;
  }

  private same(i: number, buf: Uint8Array, off: number, len: number): boolean {
    const o = i * 16;
    for (let k = 0; k < len; k++) if (this.addr[o + k] !== buf[off + k]) return false;
    return true;
  }

  /**
   * Count `w` packets (1 for a captured packet; more for a sampled or flow record) of class c and
   * `wirelen` bytes each at capture time sec.nsec (kept as two small integers: no boxing).
   */
  add(i: number, c: number, wirelen: number, sec: number, nsec: number, w: number, samples: number): void {
    const t = (sec - this.base) * 1e9 + nsec;
    const r = (i * this.classes + c) * Rec.STRIDE;
    const bytes = w === 1 ? wirelen : wirelen * w;
    this.total[i] += w;
    this.totalBytes[i] += bytes;
    // bytes/first/last/samples are not cleared between windows: the first packet of a class sets them.
    if (this.rec[r + Rec.PACKETS] === 0) {
      this.rec[r + Rec.FIRST] = t;
      this.rec[r + Rec.BYTES] = bytes;
      this.rec[r + Rec.SAMPLES] = samples;
      this.clsMask[i] |= 1 << c;
    } else {
      this.rec[r + Rec.BYTES] += bytes;
      this.rec[r + Rec.SAMPLES] += samples;
    }
    this.rec[r + Rec.PACKETS] += w;
    this.rec[r + Rec.LAST] = t;
  }

  /** Packets of class c in slot i this window that were seen, not inferred from a sampling rate. */
  samples(i: number, c: number): number {
    return this.rec[(i * this.classes + c) * Rec.STRIDE + Rec.SAMPLES] as number;
  }

  /** Packets of class c in slot i this window. */
  packets(i: number, c: number): number {
    return this.rec[(i * this.classes + c) * Rec.STRIDE + Rec.PACKETS] as number;
  }

  /** Bytes of class c in slot i this window (valid when packets(i, c) > 0). */
  bytes(i: number, c: number): number {
    return this.rec[(i * this.classes + c) * Rec.STRIDE + Rec.BYTES] as number;
  }

  /** Relative time (ns) of the first packet of class c in slot i this window (valid when packets(i, c) > 0). */
  firstTime(i: number, c: number): number {
    return this.rec[(i * this.classes + c) * Rec.STRIDE + Rec.FIRST] as number;
  }

  /** Relative time (ns) of the last packet of class c in slot i this window (valid when packets(i, c) > 0). */
  lastTime(i: number, c: number): number {
    return this.rec[(i * this.classes + c) * Rec.STRIDE + Rec.LAST] as number;
  }

  /** Add destination slot i of `o` into prefix slot p of this table (window close). */
  merge(p: number, o: KeyTable, i: number, lastOctet: number): void {
    this.total[p] += o.total[i] as number;
    this.totalBytes[p] += o.totalBytes[i] as number;
    let mask = o.clsMask[i] as number;
    this.clsMask[p] |= mask;
    while (mask !== 0) {
      const c = 31 - Math.clz32(mask);
      mask &= ~(1 << c);
      const from = (i * o.classes + c) * Rec.STRIDE;
      const to = (p * this.classes + c) * Rec.STRIDE;
      const n = o.rec[from + Rec.PACKETS] as number;
      if (this.rec[to + Rec.PACKETS] === 0) {
        this.rec[to + Rec.FIRST] = o.rec[from + Rec.FIRST] as number;
        this.rec[to + Rec.LAST] = o.rec[from + Rec.LAST] as number;
        this.rec[to + Rec.BYTES] = o.rec[from + Rec.BYTES] as number;
        this.rec[to + Rec.SAMPLES] = 0;
      } else {
        if ((o.rec[from + Rec.FIRST] as number) < (this.rec[to + Rec.FIRST] as number)) this.rec[to + Rec.FIRST] = o.rec[from + Rec.FIRST] as number;
        if ((o.rec[from + Rec.LAST] as number) > (this.rec[to + Rec.LAST] as number)) this.rec[to + Rec.LAST] = o.rec[from + Rec.LAST] as number;
        this.rec[to + Rec.BYTES] += o.rec[from + Rec.BYTES] as number;
      }
      this.rec[to + Rec.PACKETS] += n;
      this.rec[to + Rec.SAMPLES] += o.rec[from + Rec.SAMPLES] as number;
    }
    if ((o.touched[i] as number) & 1) {
      for (let w = 0; w < WORDS; w++) this.srcBits[p * WORDS + w] |= o.srcBits[i * WORDS + w] as number;
      this.touched[p] |= 1;
    }
    this.setHit(p, lastOctet);
  }

  /**
   * Add one class's counters from elsewhere (another sensor's window: l34/window-rows.ts) into
   * slot i: packets, bytes and samples add up, first/last (relative ns, this table's base) widen.
   */
  addCounts(i: number, c: number, packets: number, bytes: number, first: number, last: number, samples: number): void {
    const r = (i * this.classes + c) * Rec.STRIDE;
    if (this.rec[r + Rec.PACKETS] === 0) {
      this.rec[r + Rec.FIRST] = first;
      this.rec[r + Rec.LAST] = last;
      this.rec[r + Rec.BYTES] = bytes;
      this.rec[r + Rec.SAMPLES] = samples;
      this.clsMask[i] |= 1 << c;
    } else {
      if (first < (this.rec[r + Rec.FIRST] as number)) this.rec[r + Rec.FIRST] = first;
      if (last > (this.rec[r + Rec.LAST] as number)) this.rec[r + Rec.LAST] = last;
      this.rec[r + Rec.BYTES] += bytes;
      this.rec[r + Rec.SAMPLES] += samples;
    }
    this.rec[r + Rec.PACKETS] += packets;
  }

  setSrc(i: number, h: number): void {
    const b = h & (BITS - 1);
    this.srcBits[i * WORDS + (b >>> 5)] |= 1 << (b & 31);
    this.touched[i] |= 1;
  }

  setPort(i: number, h: number): void {
    const b = h & (BITS - 1);
    this.portBits[i * WORDS + (b >>> 5)] |= 1 << (b & 31);
    this.touched[i] |= 2;
  }

  setName(i: number, h: number): void {
    const b = h & (BITS - 1);
    this.nameBits[i * WORDS + (b >>> 5)] |= 1 << (b & 31);
    this.touched[i] |= 4;
  }

  setHit(i: number, octet: number): void {
    this.hitBits[i * 8 + (octet >>> 5)] |= 1 << (octet & 31);
    this.touched[i] |= 8;
  }

  /** Linear-counting estimate of the distinct values set in a slot's bitmap. */
  distinct(bits: Int32Array, i: number): number {
    let zeros = 0;
    const o = i * WORDS;
    for (let w = 0; w < WORDS; w++) zeros += 32 - popcount(bits[o + w] as number);
    if (zeros === 0) return Math.round(BITS * Math.log(BITS));
    return Math.round(-BITS * Math.log(zeros / BITS));
  }

  hits(i: number): number {
    let n = 0;
    for (let w = 0; w < 8; w++) n += popcount(this.hitBits[i * 8 + w] as number);
    return n;
  }

  /** Empty the table for the next window (only the slots that were used). */
  clear(): void {
    for (let u = 0; u < this.nUsed; u++) {
      const i = this.used[u] as number;
      this.hash[this.pos[i] as number] = 0;
      this.total[i] = 0;
      this.totalBytes[i] = 0;
      this.aux[i] = 0;
      const o = i * this.classes;
      let mask = this.clsMask[i] as number;
      while (mask !== 0) {
        const c = 31 - Math.clz32(mask);
        mask &= ~(1 << c);
        this.rec[(o + c) * Rec.STRIDE + Rec.PACKETS] = 0;
      }
      this.clsMask[i] = 0;
      const tf = this.touched[i] as number;
      if (tf !== 0) {
        // Plain loops: a builtin fill() call costs more than 32 stores (this runs per key and window).
        const b = i * WORDS;
        if (tf & 1) for (let w = 0; w < WORDS; w++) this.srcBits[b + w] = 0;
        if (tf & 2) for (let w = 0; w < WORDS; w++) this.portBits[b + w] = 0;
        if (tf & 4) for (let w = 0; w < WORDS; w++) this.nameBits[b + w] = 0;
        if (tf & 8) for (let w = 0; w < 8; w++) this.hitBits[i * 8 + w] = 0;
        this.touched[i] = 0;
      }
      this.sampler[i] = -1;
      this.parent[i] = -1;
      this.psampler[i] = -1;
      this.live[i] = 0;
      this.victim[i] = 0;
    }
    // Open addressing needs the probe chains gone too: every used slot was zeroed above, and
    // unused slots were never written.
    this.nUsed = 0;
    this.overflow = 0;
  }
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}
