/**
 * Per-client behaviour, bounded: an open-addressing table of at most `capacity` clients whose
 * counters live in flat typed arrays (no object per client). What a client did since first seen
 * (pages, static assets, referers, cookies, login attempts and their outcomes, 404s, sensitive
 * paths, 408s) is what tells a browser from a script: a browser fetches the assets of the page it
 * reads, sends the page back as referer and the site's cookies; a flood bot or a stuffing tool
 * does not.
 *
 * When the table is 3/4 full, clients idle for longer than `idleMs` are dropped; if that frees too
 * little, the least active half goes too. Both are counted (`evictedIdle`, `evictedBusy`): a
 * client dropped and seen again starts afresh, and the report says how many were.
 */

import { mix32 } from '../core/sketch/hash.js';

/** Counter columns per client (Int32, saturating far above anything a log holds). */
export const enum C {
  REQUESTS = 0,
  PAGES,
  ASSETS,
  REFERERS,
  COOKIES,
  LOGIN_POSTS,
  LOGIN_FAILS,
  LOGIN_OK,
  NOT_FOUND,
  SENSITIVE,
  TIMEOUTS,
  /** Requests in the current window, and the window they were counted in. */
  WIN_REQUESTS,
  WIN_PAGES,
  WINDOW,
  /** Host hash of the last request, and the trait hash of the last page request. */
  HOST,
  TRAIT,
  /** Hash of the last user agent, and how often it changed (UA rotation from one address). */
  UA,
  UA_CHANGES,
  COUNT,
}

/** Slots a table starts with. */
const FIRST_SLOTS = 4096;

export class ClientTable {
  /** Slots now (a power of two): the table starts small and doubles as clients come, up to maxSlots. The arrays below are alloc()'s. */
  capacity!: number;
  /** Slots at most: `maxClients` at 3/4 full. */
  readonly maxSlots: number;
  private mask!: number;
  /** Slot → key (int32: IPv4 address or hash); fam 0 marks an empty slot. */
  keys!: Int32Array;
  fam!: Uint8Array;
  first!: Float64Array;
  last!: Float64Array;
  n!: Int32Array;
  private size = 0;
  /** Text of IPv6 (or unparsed) clients, by slot: IPv4 is formatted from the key. */
  readonly text = new Map<number, string>();
  evictedIdle = 0;
  evictedBusy = 0;
  /** Set by find(): the slot was created by this call. */
  isNew = false;

  /**
   * `capacity`: clients tracked at most. The arrays start at FIRST_SLOTS and double when 3/4 full:
   * sized for the bound at once they were 60 MB for 262,144 clients, every page of which a log
   * of a few thousand addresses touched (each new client lands on a random one), and a first
   * touch of a page costs more than the reading of many lines.
   */
  constructor(
    capacity = 1 << 18,
    private readonly idleMs = 10 * 60_000,
  ) {
    let max = 1024;
    while (max < capacity / 0.75) max <<= 1;
    this.maxSlots = max;
    this.alloc(Math.min(max, FIRST_SLOTS));
  }

  /** Empty arrays of `cap` slots. */
  private alloc(cap: number): void {
    this.capacity = cap;
    this.mask = cap - 1;
    this.keys = new Int32Array(cap);
    this.fam = new Uint8Array(cap);
    this.first = new Float64Array(cap);
    this.last = new Float64Array(cap);
    this.n = new Int32Array(cap * C.COUNT);
  }

  get entries(): number {
    return this.size;
  }

  /**
   * The time find() is asked at (ms): set before calling, not passed (a double argument to a call
   * that is not inlined is boxed: garbage per record).
   */
  readonly now = new Float64Array(1);

  /**
   * The key find() is asked for, set before calling like `now`: an IPv4 address as an int32 is
   * outside V8's small integers for most first octets (64-191), and passed to a call that is not
   * inlined it is boxed (measured: 20 bytes per record of the detection pass).
   */
  readonly key = new Int32Array(1);

  /** The slot of the client this.key[0] (set first), created when new (its IPv6 text then comes from `text()`); never fails. */
  find(fam: number, text: (() => string) | null): number {
    const key = this.key[0] as number;
    const nowMs = this.now[0] as number;
    let i = mix32(key) & this.mask;
    const keys = this.keys;
    const famA = this.fam;
    for (;;) {
      const f = famA[i] as number;
      if (f === 0) break;
      if (keys[i] === key && f === fam) {
        this.isNew = false;
        return i;
      }
      i = (i + 1) & this.mask;
    }
    if (this.size >= (this.capacity * 3) >>> 2) {
      if (this.capacity < this.maxSlots) this.rebuild(null, this.capacity * 2);
      else this.evict(nowMs);
      return this.find(fam, text);
    }
    keys[i] = key;
    famA[i] = fam;
    this.first[i] = nowMs;
    this.last[i] = nowMs;
    this.n.fill(0, i * C.COUNT, (i + 1) * C.COUNT);
    this.n[i * C.COUNT + C.WINDOW] = -1;
    if (fam !== 4 && text !== null) this.text.set(i, text());
    this.size++;
    this.isNew = true;
    return i;
  }

  /** The slot of a client, or -1. */
  lookup(key: number, fam: number): number {
    let i = mix32(key) & this.mask;
    for (;;) {
      const f = this.fam[i] as number;
      if (f === 0) return -1;
      if (this.keys[i] === key && f === fam) return i;
      i = (i + 1) & this.mask;
    }
  }

  get(i: number, c: C): number {
    return this.n[i * C.COUNT + c] as number;
  }

  /** The address as text. */
  address(i: number): string {
    if (this.fam[i] === 4) {
      const k = this.keys[i] as number;
      return `${(k >>> 24) & 255}.${(k >>> 16) & 255}.${(k >>> 8) & 255}.${k & 255}`;
    }
    return this.text.get(i) ?? `#${(this.keys[i] as number) >>> 0}`;
  }

  /** Slots in use (for window-close and end-of-input walks). */
  *slots(): IterableIterator<number> {
    for (let i = 0; i < this.capacity; i++) if (this.fam[i] !== 0) yield i;
  }

  /** Callback before a slot is dropped (the detector keeps what attribution needs). */
  onEvict: ((slot: number) => void) | null = null;

  private evict(nowMs: number): void {
    const before = this.size;
    const keepAfter = nowMs - this.idleMs;
    const drop = new Uint8Array(this.capacity);
    let dropped = 0;
    for (let i = 0; i < this.capacity; i++) {
      if (this.fam[i] !== 0 && (this.last[i] as number) < keepAfter) {
        drop[i] = 1;
        dropped++;
      }
    }
    this.evictedIdle += dropped;
    if (before - dropped > this.capacity >>> 1) {
      // Still too full: drop the clients with the fewest requests, down to half the table.
      const counts: number[] = [];
      for (let i = 0; i < this.capacity; i++) if (this.fam[i] !== 0 && drop[i] === 0) counts.push(this.n[i * C.COUNT + C.REQUESTS] as number);
      counts.sort((x, y) => x - y);
      const need = before - dropped - (this.capacity >>> 1);
      const cut = counts[Math.min(counts.length - 1, need)] as number;
      let more = 0;
      // Every client at or under the cut goes, wherever it sits: dropping the first ones by slot
      // would leave the survivors packed in one part of the table and make probes there run long.
      for (let i = 0; i < this.capacity; i++) {
        if (this.fam[i] !== 0 && drop[i] === 0 && (this.n[i * C.COUNT + C.REQUESTS] as number) <= cut) {
          drop[i] = 1;
          more++;
        }
      }
      this.evictedBusy += more;
      dropped += more;
    }
    this.rebuild(drop, this.capacity);
  }

  /** Reinsert the survivors (open addressing cannot leave holes in probe chains) into `cap` slots. */
  private rebuild(drop: Uint8Array | null, cap: number): void {
    const old = this.capacity;
    const { keys, fam, first, last, n } = this;
    const text = new Map(this.text);
    this.alloc(cap);
    this.text.clear();
    this.size = 0;
    const moved = new Int32Array(old).fill(-1);
    for (let i = 0; i < old; i++) {
      if (fam[i] === 0) continue;
      if (drop !== null && drop[i] === 1) {
        this.onEvict?.(i);
        continue;
      }
      const key = keys[i] as number;
      let j = mix32(key) & this.mask;
      while (this.fam[j] !== 0) j = (j + 1) & this.mask;
      this.keys[j] = key;
      this.fam[j] = fam[i] as number;
      this.first[j] = first[i] as number;
      this.last[j] = last[i] as number;
      // int by int: a subarray per client was a view object each (a tenth of a second per growth at 100k clients)
      for (let c = 0, from = i * C.COUNT, to = j * C.COUNT; c < C.COUNT; c++) this.n[to + c] = n[from + c] as number;
      const t = text.get(i);
      if (t !== undefined) this.text.set(j, t);
      moved[i] = j;
      this.size++;
    }
    this.onMove?.(moved);
  }

  /** Callback after a rebuild (the table may have grown: `capacity` is the new size): old slot → new slot (-1 when dropped). */
  onMove: ((moved: Int32Array) => void) | null = null;
}
