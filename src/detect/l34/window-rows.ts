/**
 * One second of the L3/L4 detector's per-destination window (core/table.ts KeyTable) as compact
 * bytes that add up: what a sensor publishes each second in the multi-node mode, and what the
 * correlator adds into its own detector (detector.ts mergeWindow) so that the window is decided
 * exactly as if one detector had seen every sensor's packets. Counters add, first/last times
 * widen, linear-counting bitmaps OR; nothing in a row depends on the sensor's own base second.
 *
 * The classes in a row are the sensor's post-connection-state classes (conn-state.ts stateClass
 * runs before KeyTable.add): a packet of a real conversation was already counted as OTHER where
 * both directions passed, so the correlator, which sees no handshake, adds verdicts, not packets.
 *
 * Format, version 1, little-endian:
 *
 *   header (36 bytes)
 *     u32 magic 0x52574c50 ("PLWR")   u8 version   u8 classes   u16 reserved (0)
 *     f64 second (absolute, an integer)   f64 packets (every packet the sensor counted that second)
 *     u32 rows   u32 left out (rows beyond maxRows, not sent)   u32 overflow (keys the sensor's table had no slot for)
 *   each row
 *     u8 family (4 | 6)   u8 bitmaps present (1 sources, 2 destination ports, 4 DNS names)   u32 class mask
 *     address (4 or 16 bytes)   f64 total packets   f64 total bytes   f64 aux (empty UDP datagrams)
 *     per class in the mask, ascending: f64 packets, bytes, first, last (ns from the start of `second`), samples
 *     per bitmap present, in flag order: u16 n, then n bit numbers (u16, < 1024) when n < 64,
 *       or n = 0xffff and the 128 bytes of the bitmap
 *
 * Bad bytes are data (a message from another process): decodeWindow checks the whole buffer before
 * anything reads a row, bounds every count by the bytes that remain (no loop outlives the buffer)
 * and throws a PalisadeError (E_FORMAT) naming the first fault.
 */
import { PalisadeError } from '../../core/errors.js';
import { BITMAP_WORDS, type KeyTable, Rec } from '../core/table.js';

export const WINDOW_ROWS_VERSION = 1;
/** "PLWR" read as a little-endian u32. */
const MAGIC = 0x52574c50;
const HEADER_BYTES = 36;
/** The smallest row: IPv4, no class, no bitmap. */
const MIN_ROW = 1 + 1 + 4 + 4 + 3 * 8;
const CLASS_BYTES = 5 * 8;
const BITMAP_BYTES = BITMAP_WORDS * 4;
const BITMAP_BITS = BITMAP_WORDS * 32;
/** n of a bitmap sent whole. */
const DENSE = 0xffff;
/** Bitmaps with fewer set bits than this go as a list of bit numbers (2 bytes each, under 128). */
const SPARSE_BELOW = 64;
/** Rows a window carries by default. */
export const MAX_ROWS = 4096;

/** The table's bitmaps a row can carry, in flag order (flag 1 << k). */
const BITMAPS = ['srcBits', 'portBits', 'nameBits'] as const;

export interface EncodeOptions {
  /** Rows at most (default MAX_ROWS): beyond it the rows with the most flood-class packets are kept. */
  maxRows?: number;
  /** Every packet the sensor counted this second (default: the rows' totals). */
  packets?: number;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

function bitsSet(bits: Int32Array, o: number): number {
  let n = 0;
  for (let w = 0; w < BITMAP_WORDS; w++) n += popcount(bits[o + w] as number);
  return n;
}

/** Packets of a slot outside class 0 (OTHER): what decides which rows a bounded window keeps. */
function floodPackets(dt: KeyTable, i: number): number {
  return (dt.total[i] as number) - ((dt.clsMask[i] as number) & 1 ? dt.packets(i, 0) : 0);
}

/**
 * The window of `second` (absolute) held by `dt`, whose relative times count from `base` (the
 * detector's base second), as bytes. Called once a second, before the table is cleared.
 */
export function encodeWindow(dt: KeyTable, second: number, base: number, opts: EncodeOptions = {}): Uint8Array {
  const maxRows = Math.max(0, Math.floor(opts.maxRows ?? MAX_ROWS));
  if (dt.classes > 32) throw new RangeError('window rows: at most 32 classes');
  // The slots sent, in slot order (the order the sensor met them: attack ids follow it).
  let slots: Int32Array = dt.used.subarray(0, dt.nUsed);
  let leftOut = 0;
  if (dt.nUsed > maxRows) {
    const keep = Int32Array.from(slots).sort((a, b) => floodPackets(dt, b) - floodPackets(dt, a) || a - b);
    slots = keep.subarray(0, maxRows).sort();
    leftOut = dt.nUsed - maxRows;
  }
  // Sizes first: one buffer, written once.
  let size = HEADER_BYTES;
  let packets = 0;
  for (let k = 0; k < slots.length; k++) {
    const i = slots[k] as number;
    packets += dt.total[i] as number;
    size += MIN_ROW + (dt.fam[i] === 6 ? 12 : 0) + popcount(dt.clsMask[i] as number) * CLASS_BYTES;
    const tf = dt.touched[i] as number;
    for (let b = 0; b < BITMAPS.length; b++) {
      if ((tf & (1 << b)) === 0) continue;
      const n = bitsSet(dt[BITMAPS[b]], i * BITMAP_WORDS);
      if (n > 0) size += 2 + (n < SPARSE_BELOW ? 2 * n : BITMAP_BYTES);
    }
  }
  const out = new Uint8Array(size);
  const d = new DataView(out.buffer);
  d.setUint32(0, MAGIC, true);
  d.setUint8(4, WINDOW_ROWS_VERSION);
  d.setUint8(5, dt.classes);
  d.setUint16(6, 0, true);
  d.setFloat64(8, second, true);
  d.setFloat64(16, opts.packets ?? packets, true);
  d.setUint32(24, slots.length, true);
  d.setUint32(28, leftOut, true);
  d.setUint32(32, dt.overflow, true);
  const shift = (second - base) * 1e9;
  let o = HEADER_BYTES;
  for (let k = 0; k < slots.length; k++) {
    const i = slots[k] as number;
    const fam = dt.fam[i] === 6 ? 6 : 4;
    const tf = dt.touched[i] as number;
    let present = 0;
    for (let b = 0; b < BITMAPS.length; b++) if ((tf & (1 << b)) !== 0 && bitsSet(dt[BITMAPS[b]], i * BITMAP_WORDS) > 0) present |= 1 << b;
    const mask = dt.clsMask[i] as number;
    d.setUint8(o, fam);
    d.setUint8(o + 1, present);
    d.setUint32(o + 2, mask >>> 0, true);
    o += 6;
    const alen = fam === 4 ? 4 : 16;
    out.set(dt.addr.subarray(i * 16, i * 16 + alen), o);
    o += alen;
    d.setFloat64(o, dt.total[i] as number, true);
    d.setFloat64(o + 8, dt.totalBytes[i] as number, true);
    d.setFloat64(o + 16, dt.aux[i] as number, true);
    o += 24;
    for (let m = mask; m !== 0; m &= m - 1) {
      const c = 31 - Math.clz32(m & -m);
      const r = (i * dt.classes + c) * Rec.STRIDE;
      d.setFloat64(o, dt.rec[r + Rec.PACKETS] as number, true);
      d.setFloat64(o + 8, dt.rec[r + Rec.BYTES] as number, true);
      d.setFloat64(o + 16, (dt.rec[r + Rec.FIRST] as number) - shift, true);
      d.setFloat64(o + 24, (dt.rec[r + Rec.LAST] as number) - shift, true);
      d.setFloat64(o + 32, dt.rec[r + Rec.SAMPLES] as number, true);
      o += CLASS_BYTES;
    }
    for (let b = 0; b < BITMAPS.length; b++) {
      if ((present & (1 << b)) === 0) continue;
      const bits = dt[BITMAPS[b]];
      const w0 = i * BITMAP_WORDS;
      const n = bitsSet(bits, w0);
      if (n < SPARSE_BELOW) {
        d.setUint16(o, n, true);
        o += 2;
        for (let w = 0; w < BITMAP_WORDS; w++) {
          for (let x = bits[w0 + w] as number; x !== 0; x &= x - 1) {
            d.setUint16(o, w * 32 + 31 - Math.clz32(x & -x), true);
            o += 2;
          }
        }
      } else {
        d.setUint16(o, DENSE, true);
        o += 2;
        for (let w = 0; w < BITMAP_WORDS; w++) d.setInt32(o + w * 4, bits[w0 + w] as number, true);
        o += BITMAP_BYTES;
      }
    }
  }
  return out;
}

function bad(what: string, at: number): never {
  throw new PalisadeError('E_FORMAT', `window rows: ${what} (byte ${at})`);
}

/**
 * A decoded window: the header's figures and accessors over the rows (reading the bytes in
 * place; nothing is copied). Built only by decodeWindow, which has checked every row.
 */
export class WindowRows {
  /** Absolute second of the window. */
  readonly second: number;
  /** Traffic classes per row (the sender's NCLS). */
  readonly classes: number;
  /** Every packet the sensor counted that second (rows or not). */
  readonly packets: number;
  /** Rows in the message. */
  readonly rows: number;
  /** Rows the sensor's window held beyond the bound and did not send. */
  readonly leftOut: number;
  /** Keys the sensor's table had no slot for that second. */
  readonly overflow: number;
  private readonly d: DataView;
  private readonly bytes: Uint8Array;
  /** Per row: its first byte, the first byte of its class block, of its bitmaps. */
  private readonly rowAt: Int32Array;
  private readonly clsAt: Int32Array;
  private readonly bmAt: Int32Array;

  /** @internal decodeWindow's */
  constructor(bytes: Uint8Array, d: DataView, rowAt: Int32Array, clsAt: Int32Array, bmAt: Int32Array) {
    this.bytes = bytes;
    this.d = d;
    this.rowAt = rowAt;
    this.clsAt = clsAt;
    this.bmAt = bmAt;
    this.classes = d.getUint8(5);
    this.second = d.getFloat64(8, true);
    this.packets = d.getFloat64(16, true);
    this.rows = d.getUint32(24, true);
    this.leftOut = d.getUint32(28, true);
    this.overflow = d.getUint32(32, true);
  }

  fam(r: number): 4 | 6 {
    return this.bytes[this.rowAt[r] as number] === 6 ? 6 : 4;
  }

  /** Bitmaps the row carries (1 sources, 2 ports, 4 names: KeyTable.touched's bits). */
  bitmaps(r: number): number {
    return this.bytes[(this.rowAt[r] as number) + 1] as number;
  }

  clsMask(r: number): number {
    return this.d.getUint32((this.rowAt[r] as number) + 2, true) | 0;
  }

  /** Offset in `buf` of the row's address (4 or 16 bytes). */
  addrOffset(r: number): number {
    return (this.rowAt[r] as number) + 6;
  }

  get buf(): Uint8Array {
    return this.bytes;
  }

  /** An IPv4 row's address as int32 (as the detector keys it). */
  v4(r: number): number {
    const o = this.addrOffset(r);
    const b = this.bytes;
    return ((b[o] as number) << 24) | ((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number);
  }

  private countsAt(r: number): number {
    return this.addrOffset(r) + (this.fam(r) === 4 ? 4 : 16);
  }

  total(r: number): number {
    return this.d.getFloat64(this.countsAt(r), true);
  }

  totalBytes(r: number): number {
    return this.d.getFloat64(this.countsAt(r) + 8, true);
  }

  aux(r: number): number {
    return this.d.getFloat64(this.countsAt(r) + 16, true);
  }

  /** Byte offset of class c's counters in row r (c must be in its mask). */
  private recAt(r: number, c: number): number {
    const below = this.clsMask(r) & ((1 << c) - 1);
    return (this.clsAt[r] as number) + popcount(below) * CLASS_BYTES;
  }

  packetsOf(r: number, c: number): number {
    return this.d.getFloat64(this.recAt(r, c), true);
  }

  bytesOf(r: number, c: number): number {
    return this.d.getFloat64(this.recAt(r, c) + 8, true);
  }

  /** First and last packet of class c, in ns from the start of `second`. */
  firstOf(r: number, c: number): number {
    return this.d.getFloat64(this.recAt(r, c) + 16, true);
  }

  lastOf(r: number, c: number): number {
    return this.d.getFloat64(this.recAt(r, c) + 24, true);
  }

  samplesOf(r: number, c: number): number {
    return this.d.getFloat64(this.recAt(r, c) + 32, true);
  }

  /** The latest last-packet time of the row's classes (ns from the start of `second`; -Infinity: none). */
  lastAny(r: number): number {
    let t = Number.NEGATIVE_INFINITY;
    for (let m = this.clsMask(r); m !== 0; m &= m - 1) {
      const x = this.lastOf(r, 31 - Math.clz32(m & -m));
      if (x > t) t = x;
    }
    return t;
  }

  /**
   * OR bitmap k (0 sources, 1 ports, 2 names) of row r into `out` from word `at` (BITMAP_WORDS
   * words). Returns false when the row does not carry it.
   */
  orBitmap(r: number, k: number, out: Int32Array, at: number): boolean {
    const present = this.bitmaps(r);
    if ((present & (1 << k)) === 0) return false;
    let o = this.bmAt[r] as number;
    for (let b = 0; b < k; b++) if ((present & (1 << b)) !== 0) o = this.skipBitmap(o);
    const n = this.d.getUint16(o, true);
    o += 2;
    if (n === DENSE) for (let w = 0; w < BITMAP_WORDS; w++) out[at + w] = (out[at + w] as number) | this.d.getInt32(o + w * 4, true);
    else
      for (let j = 0; j < n; j++) {
        const bit = this.d.getUint16(o + j * 2, true);
        out[at + (bit >>> 5)] = (out[at + (bit >>> 5)] as number) | (1 << (bit & 31));
      }
    return true;
  }

  private skipBitmap(o: number): number {
    const n = this.d.getUint16(o, true);
    return o + 2 + (n === DENSE ? BITMAP_BYTES : 2 * n);
  }
}

/** Check and open a window's bytes; throws PalisadeError (E_FORMAT) on anything malformed. */
export function decodeWindow(bytes: Uint8Array): WindowRows {
  const len = bytes.length;
  if (len < HEADER_BYTES) bad(`${len} bytes, shorter than the ${HEADER_BYTES}-byte header`, 0);
  const d = new DataView(bytes.buffer, bytes.byteOffset, len);
  if (d.getUint32(0, true) !== MAGIC) bad('not a window (magic)', 0);
  const version = d.getUint8(4);
  if (version !== WINDOW_ROWS_VERSION) bad(`version ${version}, this reader knows ${WINDOW_ROWS_VERSION}`, 4);
  const classes = d.getUint8(5);
  if (classes < 1 || classes > 32) bad(`${classes} classes`, 5);
  if (d.getUint16(6, true) !== 0) bad('reserved bits set', 6);
  const second = d.getFloat64(8, true);
  if (!Number.isSafeInteger(second) || second < 0) bad(`second ${second}`, 8);
  const packets = d.getFloat64(16, true);
  if (!(packets >= 0 && packets < Number.POSITIVE_INFINITY)) bad(`packets ${packets}`, 16);
  const rows = d.getUint32(24, true);
  // Every row takes MIN_ROW bytes at least: a count the bytes cannot hold is refused before any loop.
  if (rows > (len - HEADER_BYTES) / MIN_ROW) bad(`${rows} rows do not fit in ${len} bytes`, 24);
  const rowAt = new Int32Array(rows);
  const clsAt = new Int32Array(rows);
  const bmAt = new Int32Array(rows);
  const classMask = classes === 32 ? 0 : ~((1 << classes) - 1);
  let o = HEADER_BYTES;
  const need = (n: number, what: string): void => {
    if (o + n > len) bad(`row ${what} runs past the end`, o);
  };
  const count = (at: number, what: string): void => {
    const x = d.getFloat64(at, true);
    if (!(x >= 0 && x < Number.POSITIVE_INFINITY)) bad(`${what} ${x}`, at);
  };
  const time = (at: number): void => {
    const x = d.getFloat64(at, true);
    // ns from the window's second: a late packet may sit before it, never days away.
    if (!(Math.abs(x) < 1e14)) bad(`time ${x}`, at);
  };
  for (let r = 0; r < rows; r++) {
    rowAt[r] = o;
    need(6, 'head');
    const fam = d.getUint8(o);
    if (fam !== 4 && fam !== 6) bad(`address family ${fam}`, o);
    const present = d.getUint8(o + 1);
    if ((present & ~7) !== 0) bad(`bitmap flags ${present}`, o + 1);
    const mask = d.getUint32(o + 2, true) | 0;
    if ((mask & classMask) !== 0) bad(`class mask ${mask >>> 0} beyond ${classes} classes`, o + 2);
    o += 6 + (fam === 4 ? 4 : 16);
    const nc = popcount(mask);
    need(24 + nc * CLASS_BYTES, 'counters');
    count(o, 'total');
    count(o + 8, 'total bytes');
    count(o + 16, 'aux');
    o += 24;
    clsAt[r] = o;
    for (let k = 0; k < nc; k++) {
      count(o, 'packets');
      count(o + 8, 'bytes');
      time(o + 16);
      time(o + 24);
      count(o + 32, 'samples');
      o += CLASS_BYTES;
    }
    bmAt[r] = o;
    for (let b = 0; b < BITMAPS.length; b++) {
      if ((present & (1 << b)) === 0) continue;
      need(2, 'bitmap');
      const n = d.getUint16(o, true);
      o += 2;
      if (n === DENSE) {
        need(BITMAP_BYTES, 'bitmap');
        o += BITMAP_BYTES;
        continue;
      }
      if (n > BITMAP_BITS) bad(`${n} bits in a ${BITMAP_BITS}-bit bitmap`, o - 2);
      need(2 * n, 'bitmap');
      for (let j = 0; j < n; j++) if (d.getUint16(o + 2 * j, true) >= BITMAP_BITS) bad('bit number out of range', o + 2 * j);
      o += 2 * n;
    }
  }
  if (o !== len) bad(`${len - o} bytes after the last row`, o);
  return new WindowRows(bytes, d, rowAt, clsAt, bmAt);
}

/**
 * Add row r of `w` into slot i of `dt` (a detector's destination table, base second `base`): counts
 * add, times move from the row's second to the table's base, bitmaps OR.
 */
export function addRow(w: WindowRows, r: number, dt: KeyTable, i: number, base: number): void {
  const shift = (w.second - base) * 1e9;
  dt.total[i] = (dt.total[i] as number) + w.total(r);
  dt.totalBytes[i] = (dt.totalBytes[i] as number) + w.totalBytes(r);
  dt.aux[i] = (dt.aux[i] as number) + w.aux(r);
  for (let m = w.clsMask(r); m !== 0; m &= m - 1) {
    const c = 31 - Math.clz32(m & -m);
    const n = w.packetsOf(r, c);
    if (n === 0) continue;
    dt.addCounts(i, c, n, w.bytesOf(r, c), w.firstOf(r, c) + shift, w.lastOf(r, c) + shift, w.samplesOf(r, c));
  }
  for (let b = 0; b < BITMAPS.length; b++) if (w.orBitmap(r, b, dt[BITMAPS[b]], i * BITMAP_WORDS)) dt.touched[i] = (dt.touched[i] as number) | (1 << b);
}
