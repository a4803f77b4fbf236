/**
 * IpTrie: longest-prefix match over IPv4 and IPv6 prefixes, each carrying a value.
 *
 * Prefixes are collected as inserted, then compiled into sorted disjoint intervals: each
 * interval is the address range where one prefix is the longest match (or no prefix: id -1).
 * Compiling is a sort plus one sweep with a stack of enclosing prefixes, since two CIDR
 * prefixes either nest or are disjoint. A lookup jumps through a direct index on the top bits
 * of the address (of the first 32-bit word for IPv6; about one bucket per interval) to the
 * candidate intervals and binary-searches them; a bucket inside a single interval answers
 * directly. Rows are interleaved [start, id] so a probe touches one cache line. No allocation,
 * no per-bit walk. One million prefixes take about 30 bytes each.
 *
 * Lookups answer a prefix id (insertion number; -1 for no match); `value(id)` gives its value.
 * Inserting again after lookups marks the trie dirty and the next lookup recompiles it.
 * Inserting the same prefix twice keeps the later value.
 */
import { type Prefix, parsePrefixes } from './prefix.js';

/** About one bucket per interval, so many buckets answer without a search; at most 2^20 buckets (8 MB). */
const MAX_INDEX_BITS = 20;
const BUCKET_TARGET = 1;
/** Index entries at or above this hold (id + 1) directly. */
const DIRECT = 0x80000000;

export interface TrieEntry<T> {
  prefix: Prefix;
  value: T;
  id: number;
}

export class IpTrie<T = true> {
  private readonly vals: T[] = [];

  // Pending IPv4 prefixes: network address (uint32), length, id.
  private p4s: Uint32Array = new Uint32Array(16);
  private p4l: Uint8Array = new Uint8Array(16);
  private p4id: Int32Array = new Int32Array(16);
  private n4 = 0;

  // Pending IPv6 prefixes: four big-endian words, length, id.
  private p6w: Uint32Array = new Uint32Array(64);
  private p6l: Uint8Array = new Uint8Array(16);
  private p6id: Int32Array = new Int32Array(16);
  private n6 = 0;

  private dirty = false;

  // Compiled IPv4: interval starts, ids, and the /16 index.
  /** Interleaved [start, id] pairs (id stored as uint32; 0xffffffff = no match): one cache line per probe. */
  private t4: Uint32Array = Uint32Array.of(0, 0xffffffff);
  private m4 = 1;
  private x4: Uint32Array = new Uint32Array(3);
  private base4 = 0;
  private shift4 = 31;
  private nb4 = 1;

  // Compiled IPv6: interval start words, ids, index over the top bits of word 0.
  /** Interleaved [w0, w1, w2, w3, id] rows. */
  private t6: Uint32Array = Uint32Array.of(0, 0, 0, 0, 0xffffffff);
  private m6 = 1;
  private x6: Uint32Array = new Uint32Array(3);
  private base6 = 0;
  private shift6 = 31;
  private nb6 = 1;

  /** Number of prefixes inserted (IPv4 + IPv6, duplicates included). */
  get size(): number {
    return this.n4 + this.n6;
  }

  get size4(): number {
    return this.n4;
  }

  get size6(): number {
    return this.n6;
  }

  /** Number of disjoint intervals after compiling (a measure of the lookup table size). */
  get intervals(): number {
    if (this.dirty) this.compile();
    return this.m4 + this.m6;
  }

  value(id: number): T {
    return this.vals[id] as T;
  }

  insert(p: Prefix, value: T): number {
    if (p.family === 4) {
      const a = p.addr;
      return this.insert4((((a[0] as number) << 24) | ((a[1] as number) << 16) | ((a[2] as number) << 8) | (a[3] as number)) >>> 0, p.len, value);
    }
    return this.insert6(p.addr, 0, p.len, value);
  }

  /** Insert an IPv4 prefix given as uint32 network address and length (host bits are cleared). */
  insert4(addr: number, len: number, value: T): number {
    if (!(len >= 0 && len <= 32)) throw new RangeError(`IPv4 prefix length ${len}`);
    if (this.n4 === this.p4s.length) {
      this.p4s = grow32(this.p4s);
      this.p4l = grow8(this.p4l);
      this.p4id = growI32(this.p4id);
    }
    const id = this.vals.length;
    this.vals.push(value);
    const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    this.p4s[this.n4] = (addr & mask) >>> 0;
    this.p4l[this.n4] = len;
    this.p4id[this.n4] = id;
    this.n4++;
    this.dirty = true;
    return id;
  }

  /** Insert an IPv6 prefix given as 16 bytes at `off` of `buf` and a length. */
  insert6(buf: Uint8Array, off: number, len: number, value: T): number {
    if (!(len >= 0 && len <= 128)) throw new RangeError(`IPv6 prefix length ${len}`);
    if (this.n6 === this.p6l.length) {
      const w = new Uint32Array(this.p6w.length * 2);
      w.set(this.p6w);
      this.p6w = w;
      this.p6l = grow8(this.p6l);
      this.p6id = growI32(this.p6id);
    }
    const id = this.vals.length;
    this.vals.push(value);
    for (let i = 0; i < 4; i++) {
      const o = off + 4 * i;
      let w = (((buf[o] as number) << 24) | ((buf[o + 1] as number) << 16) | ((buf[o + 2] as number) << 8) | (buf[o + 3] as number)) >>> 0;
      const bits = len - 32 * i;
      if (bits <= 0) w = 0;
      else if (bits < 32) w = (w & (0xffffffff << (32 - bits))) >>> 0;
      this.p6w[4 * this.n6 + i] = w;
    }
    this.p6l[this.n6] = len;
    this.p6id[this.n6] = id;
    this.n6++;
    this.dirty = true;
    return id;
  }

  /** Insert `addr`, `addr/len` or `a-b` text; throws on malformed text. Returns the ids. */
  insertText(text: string, value: T): number[] {
    const ps = parsePrefixes(text);
    if (typeof ps === 'string') throw new SyntaxError(ps);
    return ps.map((p) => this.insert(p, value));
  }

  /** Longest match for an IPv4 address (uint32): the prefix id, or -1. */
  lookup4(addr: number): number {
    if (this.dirty) this.compile();
    const a = addr >>> 0;
    let k = a - this.base4;
    k = k < 0 ? 0 : (k >>> this.shift4) + 1;
    if (k > this.nb4) k = this.nb4;
    const x = this.x4;
    let lo = x[2 * k] as number;
    if (lo >= DIRECT) return ((lo & 0x7fffffff) - 1) | 0;
    let hi = x[2 * k + 1] as number;
    const t = this.t4;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((t[2 * mid] as number) <= a) lo = mid;
      else hi = mid - 1;
    }
    return (t[2 * lo + 1] as number) | 0;
  }

  /** Longest match for the IPv6 address in bytes [off, off+16) of buf: the prefix id, or -1. */
  lookup6(buf: Uint8Array, off: number): number {
    const w0 = (((buf[off] as number) << 24) | ((buf[off + 1] as number) << 16) | ((buf[off + 2] as number) << 8) | (buf[off + 3] as number)) >>> 0;
    const w1 = (((buf[off + 4] as number) << 24) | ((buf[off + 5] as number) << 16) | ((buf[off + 6] as number) << 8) | (buf[off + 7] as number)) >>> 0;
    const w2 = (((buf[off + 8] as number) << 24) | ((buf[off + 9] as number) << 16) | ((buf[off + 10] as number) << 8) | (buf[off + 11] as number)) >>> 0;
    const w3 = (((buf[off + 12] as number) << 24) | ((buf[off + 13] as number) << 16) | ((buf[off + 14] as number) << 8) | (buf[off + 15] as number)) >>> 0;
    return this.lookup6Words(w0, w1, w2, w3);
  }

  /** Longest match for an IPv6 address given as four big-endian uint32 words. */
  lookup6Words(w0: number, w1: number, w2: number, w3: number): number {
    if (this.dirty) this.compile();
    let k = w0 - this.base6;
    k = k < 0 ? 0 : (k >>> this.shift6) + 1;
    if (k > this.nb6) k = this.nb6;
    const x = this.x6;
    let lo = x[2 * k] as number;
    if (lo >= DIRECT) return ((lo & 0x7fffffff) - 1) | 0;
    let hi = x[2 * k + 1] as number;
    const t = this.t6;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      const r = 5 * mid;
      const a0 = t[r] as number;
      let le: boolean;
      if (a0 !== w0) le = a0 < w0;
      else {
        const a1 = t[r + 1] as number;
        if (a1 !== w1) le = a1 < w1;
        else {
          const a2 = t[r + 2] as number;
          le = a2 !== w2 ? a2 < w2 : (t[r + 3] as number) <= w3;
        }
      }
      if (le) lo = mid;
      else hi = mid - 1;
    }
    return (t[5 * lo + 4] as number) | 0;
  }

  /** Every inserted prefix with its value (in insertion order per family, IPv4 first). */
  *entries(): IterableIterator<TrieEntry<T>> {
    for (let i = 0; i < this.n4; i++) {
      const s = this.p4s[i] as number;
      yield {
        prefix: {
          family: 4,
          addr: Uint8Array.of(s >>> 24, (s >>> 16) & 255, (s >>> 8) & 255, s & 255),
          len: this.p4l[i] as number,
        },
        value: this.vals[this.p4id[i] as number] as T,
        id: this.p4id[i] as number,
      };
    }
    for (let i = 0; i < this.n6; i++) {
      const addr = new Uint8Array(16);
      for (let j = 0; j < 4; j++) {
        const w = this.p6w[4 * i + j] as number;
        addr[4 * j] = w >>> 24;
        addr[4 * j + 1] = (w >>> 16) & 255;
        addr[4 * j + 2] = (w >>> 8) & 255;
        addr[4 * j + 3] = w & 255;
      }
      yield {
        prefix: { family: 6, addr, len: this.p6l[i] as number },
        value: this.vals[this.p6id[i] as number] as T,
        id: this.p6id[i] as number,
      };
    }
  }

  /** Compile pending prefixes into the lookup tables (done automatically on the next lookup). */
  compile(): this {
    this.compile4();
    this.compile6();
    this.dirty = false;
    return this;
  }

  private compile4(): void {
    const n = this.n4;
    const s = this.p4s;
    const l = this.p4l;
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => (s[a] as number) - (s[b] as number) || (l[a] as number) - (l[b] as number) || a - b);
    const outS: number[] = [];
    const outI: number[] = [];
    const emit = intervalEmitter(outS, outI);
    emit(0, -1);
    const stackEnd: number[] = [];
    const stackId: number[] = [];
    for (let j = 0; j < n; j++) {
      const i = order[j] as number;
      // Same prefix inserted again: the last one wins.
      if (j + 1 < n) {
        const nx = order[j + 1] as number;
        if (s[nx] === s[i] && l[nx] === l[i]) continue;
      }
      const start = s[i] as number;
      const len = l[i] as number;
      const end = start + (len === 32 ? 0 : 2 ** (32 - len) - 1);
      while (stackEnd.length > 0 && (stackEnd[stackEnd.length - 1] as number) < start) {
        const e = stackEnd.pop() as number;
        stackId.pop();
        emit(e + 1, stackId.length > 0 ? (stackId[stackId.length - 1] as number) : -1);
      }
      emit(start, this.p4id[i] as number);
      stackEnd.push(end);
      stackId.push(this.p4id[i] as number);
    }
    while (stackEnd.length > 0) {
      const e = stackEnd.pop() as number;
      stackId.pop();
      if (e < 0xffffffff) emit(e + 1, stackId.length > 0 ? (stackId[stackId.length - 1] as number) : -1);
    }
    const m = outS.length;
    const t = new Uint32Array(2 * m);
    for (let i = 0; i < m; i++) {
      t[2 * i] = outS[i] as number;
      t[2 * i + 1] = (outI[i] as number) >>> 0;
    }
    this.t4 = t;
    this.m4 = m;
    const ix = buildIndex(t, 2, m);
    this.base4 = ix.base;
    this.shift4 = ix.shift;
    this.nb4 = ix.nb;
    const x = ix.x;
    this.x4 = x;
  }

  private compile6(): void {
    const n = this.n6;
    const w = this.p6w;
    const l = this.p6l;
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => {
      for (let k = 0; k < 4; k++) {
        const d = (w[4 * a + k] as number) - (w[4 * b + k] as number);
        if (d !== 0) return d;
      }
      return (l[a] as number) - (l[b] as number) || a - b;
    });
    const big = (i: number): bigint =>
      (BigInt(w[4 * i] as number) << 96n) | (BigInt(w[4 * i + 1] as number) << 64n) | (BigInt(w[4 * i + 2] as number) << 32n) | BigInt(w[4 * i + 3] as number);
    const MAX = (1n << 128n) - 1n;
    const outS: bigint[] = [];
    const outI: number[] = [];
    const emit = intervalEmitter(outS, outI);
    emit(0n, -1);
    const stackEnd: bigint[] = [];
    const stackId: number[] = [];
    const same = (a: number, b: number): boolean =>
      w[4 * a] === w[4 * b] && w[4 * a + 1] === w[4 * b + 1] && w[4 * a + 2] === w[4 * b + 2] && w[4 * a + 3] === w[4 * b + 3] && l[a] === l[b];
    for (let j = 0; j < n; j++) {
      const i = order[j] as number;
      if (j + 1 < n && same(order[j + 1] as number, i)) continue;
      const start = big(i);
      const len = l[i] as number;
      const end = start + ((1n << BigInt(128 - len)) - 1n);
      while (stackEnd.length > 0 && (stackEnd[stackEnd.length - 1] as bigint) < start) {
        const e = stackEnd.pop() as bigint;
        stackId.pop();
        emit(e + 1n, stackId.length > 0 ? (stackId[stackId.length - 1] as number) : -1);
      }
      emit(start, this.p6id[i] as number);
      stackEnd.push(end);
      stackId.push(this.p6id[i] as number);
    }
    while (stackEnd.length > 0) {
      const e = stackEnd.pop() as bigint;
      stackId.pop();
      if (e < MAX) emit(e + 1n, stackId.length > 0 ? (stackId[stackId.length - 1] as number) : -1);
    }
    const m = outS.length;
    const t = new Uint32Array(5 * m);
    for (let i = 0; i < m; i++) {
      const v = outS[i] as bigint;
      t[5 * i] = Number((v >> 96n) & 0xffffffffn);
      t[5 * i + 1] = Number((v >> 64n) & 0xffffffffn);
      t[5 * i + 2] = Number((v >> 32n) & 0xffffffffn);
      t[5 * i + 3] = Number(v & 0xffffffffn);
      t[5 * i + 4] = (outI[i] as number) >>> 0;
    }
    this.t6 = t;
    this.m6 = m;
    const ix = buildIndex(t, 5, m);
    this.base6 = ix.base;
    this.shift6 = ix.shift;
    this.nb6 = ix.nb;
    const x = ix.x;
    this.x6 = x;
  }
}

/**
 * Direct index over the first word of the interval starts. Bucket 0 holds addresses below
 * `base` (the first listed start); bucket k ≥ 1 covers [base + (k-1) << shift, base + k << shift);
 * addresses past the last bucket fall into it. x[k]..x[k+1] are the candidate intervals.
 */
function buildIndex(t: Uint32Array, stride: number, m: number): { x: Uint32Array; base: number; shift: number; nb: number } {
  const first = (i: number): number => t[stride * i] as number;
  const zeroTail = (i: number): boolean => {
    for (let j = 1; j < stride - 1; j++) if (t[stride * i + j] !== 0) return false;
    return true;
  };
  const base = m > 1 ? first(1) : 0;
  const span = m > 1 ? first(m - 1) - base : 0;
  let bits = 1;
  while (bits < MAX_INDEX_BITS && 2 ** bits * BUCKET_TARGET < m) bits++;
  let shift = 0;
  while (shift < 32 && span / 2 ** shift >= 2 ** bits) shift++;
  const nb = Math.floor(span / 2 ** shift) + 1;
  const x = new Uint32Array(nb + 2);
  x[0] = 0;
  let p = 0;
  for (let k = 1; k <= nb; k++) {
    const a = base + (k - 1) * 2 ** shift;
    // Interval containing (a, 0, 0, 0): the last start <= it.
    while (p + 1 < m && (first(p + 1) < a || (first(p + 1) === a && zeroTail(p + 1)))) p++;
    x[k] = p;
  }
  x[nb + 1] = m - 1;
  // Pairs [lo, hi] per bucket; a bucket inside one interval holds its id directly (one load).
  const pairs = new Uint32Array(2 * (nb + 1));
  for (let k = 0; k <= nb; k++) {
    const lo = x[k] as number;
    const hi = x[k + 1] as number;
    if (lo === hi) {
      pairs[2 * k] = (DIRECT | (((t[stride * lo + stride - 1] as number) + 1) & 0x7fffffff)) >>> 0;
    } else {
      pairs[2 * k] = lo;
    }
    pairs[2 * k + 1] = hi;
  }
  return { x: pairs, base, shift, nb };
}

function grow32(a: Uint32Array): Uint32Array {
  const b = new Uint32Array(a.length * 2);
  b.set(a);
  return b;
}
function grow8(a: Uint8Array): Uint8Array {
  const b = new Uint8Array(a.length * 2);
  b.set(a);
  return b;
}
function growI32(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

/**
 * Appends interval starts and their owner ids (an id per start, -1 for none) while compiling the
 * sorted prefixes, merging as it goes: a start equal to the previous one replaces its id, and an
 * interval with the same id as the one before is no new interval. Shared by IPv4 (numbers) and
 * IPv6 (bigints).
 */
function intervalEmitter<T extends number | bigint>(starts: T[], ids: number[]): (from: T, id: number) => void {
  return (from, id) => {
    const m = ids.length;
    if (m > 0 && starts[m - 1] === from) {
      ids[m - 1] = id;
      if (m > 1 && ids[m - 2] === id) {
        starts.pop();
        ids.pop();
      }
      return;
    }
    if (m > 0 && ids[m - 1] === id) return;
    starts.push(from);
    ids.push(id);
  };
}
