/**
 * What the measuring pass (measure.ts) needs of each record, kept column by column during the
 * detection pass, so the signatures can be measured without reading and parsing the log again.
 *
 * Per record: the numbers the tallies use (host, client, time, status, the traits that place a
 * request in an attack's class) and, for each field a signature can constrain, a value id: equal
 * ids mean equal bytes as logged (by a 64-bit hash of them: two 32-bit hashes, so two values of a
 * log share an id with odds of about n²/2⁶⁵ — below one in a million for a million distinct
 * values). For every id the first line that had it is kept: a signature's constraint on that field
 * is evaluated once per id, by the Rules language's compiled predicate on that real record (so the
 * scheme's reading of the field — escapes, absent versus empty — is the real one), and per record
 * it is a table lookup.
 *
 * Bounded: at most MAX_RECORDS records and MAX_IDS values per field. Past either bound the columns
 * are dropped (`overflowed`) and the caller measures by reading the log again, as before.
 */
import { type HttpLogView, Slot } from '../../sources/accesslog/view.js';
import { mix32 } from '../core/sketch/hash.js';
import { cheapHash, detach, lowerHash, Method, type RequestTraits, SlotText } from './features.js';

/** The fields a signature constrains (signature.ts atoms name theirs). */
export const enum Col {
  HOST = 0,
  METHOD,
  PATH,
  /** Absent, empty or not: the only query constraints are `eq ""` and `ne ""`. */
  QUERY,
  VERSION,
  /** Absent, empty or not (`http.referer eq ""`). */
  REFERER,
  /** Absent, empty or not, and whether named cookies were logged (`http.cookie eq ""`). */
  COOKIE,
  UA,
  JA3,
  JA4,
  COUNT,
}

/** Traits of a record that place it in an attack's class (measure.ts classOf). */
export const enum Flag {
  ASSET = 1,
  COOKIE = 2,
  LOGIN = 4,
  SENSITIVE = 8,
  REFERER = 16,
}

/** The class traits of the record `tr` has just read, as Flag bits. */
export function flagsOf(tr: RequestTraits): number {
  return (tr.asset ? Flag.ASSET : 0) | (tr.hasCookie ? Flag.COOKIE : 0) | (tr.login ? Flag.LOGIN : 0) | (tr.sensitive ? Flag.SENSITIVE : 0) | (tr.hasReferer ? Flag.REFERER : 0);
}

export const MAX_RECORDS = 1 << 22;
/** Version codes a record shape holds (-1 .. 30: unknown, none, HTTP/1.0 .. HTTP/3). */
const VERSIONS = 32;
/** Record shapes: query (3) × referer (3) × cookie (8) × request line understood (2) × version. */
const SHAPES = 3 * 3 * 8 * 2 * VERSIONS;
/** Records the columns first make room for. */
const FIRST_RECORDS = 1 << 20;
export const MAX_IDS = 1 << 18;

/** Open addressing over (h1, h2) pairs; ids are dense from 0. */
class IdTable {
  private k1: Int32Array;
  private k2: Int32Array;
  private ids: Int32Array;
  private mask: number;
  size = 0;

  constructor(cap = 64) {
    this.k1 = new Int32Array(cap);
    this.k2 = new Int32Array(cap);
    this.ids = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
  }

  /** The id of (h1, h2), or -1 - (the new id) when it is new (then size grew by one). */
  idOf(h1: number, h2: number): number {
    let i = mix32(h1 ^ Math.imul(h2, 0x9e3779b1)) & this.mask;
    for (;;) {
      const id = this.ids[i] as number;
      if (id < 0) break;
      if (this.k1[i] === h1 && this.k2[i] === h2) return id;
      i = (i + 1) & this.mask;
    }
    const id = this.size++;
    this.k1[i] = h1;
    this.k2[i] = h2;
    this.ids[i] = id;
    if (this.size * 2 > this.ids.length) this.grow();
    return -1 - id;
  }

  private grow(): void {
    const { k1, k2, ids } = this;
    const cap = ids.length * 2;
    this.k1 = new Int32Array(cap);
    this.k2 = new Int32Array(cap);
    this.ids = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
    for (let j = 0; j < ids.length; j++) {
      const id = ids[j] as number;
      if (id < 0) continue;
      let i = mix32((k1[j] as number) ^ Math.imul(k2[j] as number, 0x9e3779b1)) & this.mask;
      while ((this.ids[i] as number) >= 0) i = (i + 1) & this.mask;
      this.k1[i] = k1[j] as number;
      this.k2[i] = k2[j] as number;
      this.ids[i] = id;
    }
  }
}

/** Same-hash entries met in one lookup before a column hashes every char instead of a sample. */
const MAX_CHAIN = 16;

/**
 * Text values to dense ids, exactly: a value is found by a cheap hash of its length, eight chars
 * spread over it and its last eight, then compared whole with the kept text (a native compare); values
 * that share the cheap hash sit side by side. Crafted values that all share it (a bot rotating
 * user agents that differ only where the sample does not look) would make lookups slow: past
 * MAX_CHAIN such neighbours the column rehashes everything by every char.
 */
class TextIds {
  private keys = new Int32Array(64);
  private ids = new Int32Array(64).fill(-1);
  private mask = 63;
  /** Kept text per id (detached; '' for the absent value), and whether it came from a JSON string. */
  private readonly text: string[] = [];
  private readonly fromStr: boolean[] = [];
  private absentId = -1;
  full = false;

  /**
   * `cheap` is the column's hash (features.ts: the host's and user agent's are the ones the
   * detection traits compute anyway, so the caller passes them in).
   */
  constructor(private readonly cheap: (s: string, a: number, b: number) => number = cheapHash) {}

  absent(): number {
    if (this.absentId >= 0) return this.absentId;
    this.absentId = this.text.length;
    this.text.push('');
    this.fromStr.push(false);
    return -1 - this.absentId;
  }

  hash(s: string, a: number, b: number): number {
    return this.full ? fullHash(s, a, b) : this.cheap(s, a, b);
  }

  /**
   * The id of s[a..b) whose hash is h (this.hash of it; a caller's precomputed hash that differs
   * from it only makes a second id for the same text, each measured alike), or -1 - (a new id).
   */
  idOf(s: string, a: number, b: number, str: boolean, h: number): number {
    let i = mix32(h) & this.mask;
    let chain = 0;
    for (;;) {
      const id = this.ids[i] as number;
      if (id < 0) break;
      if (this.keys[i] === h) {
        const t = this.text[id] as string;
        if (id !== this.absentId && t.length === b - a && this.fromStr[id] === str && sameText(s, a, t)) return id;
        if (++chain > MAX_CHAIN && !this.full) {
          this.full = true;
          this.rehash();
          return this.idOf(s, a, b, str, fullHash(s, a, b));
        }
      }
      i = (i + 1) & this.mask;
    }
    const id = this.text.length;
    this.text.push(detach(s.slice(a, b)));
    this.fromStr.push(str);
    this.keys[i] = h;
    this.ids[i] = id;
    if (this.text.length * 2 > this.ids.length) this.rehash();
    return -1 - id;
  }

  /** Rebuild the table (grown, or with the full hash) from the kept texts. */
  private rehash(): void {
    let cap = this.ids.length;
    while (this.text.length * 2 > cap) cap *= 2;
    this.keys = new Int32Array(cap);
    this.ids = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
    for (let id = 0; id < this.text.length; id++) {
      if (id === this.absentId) continue;
      const t = this.text[id] as string;
      const h = this.hash(t, 0, t.length);
      let i = mix32(h) & this.mask;
      while ((this.ids[i] as number) >= 0) i = (i + 1) & this.mask;
      this.keys[i] = h;
      this.ids[i] = id;
    }
  }
}

function fullHash(s: string, a: number, b: number): number {
  let h = Math.imul(0x811c9dc5 ^ (b - a), 0x01000193);
  for (let i = a; i < b; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return mix32(h);
}

/**
 * s[a..a+t.length) equals t (lengths already equal). Short texts char by char; long ones as a
 * slice compared whole (native; startsWith at an offset goes char by char, 4x slower; indexOf from
 * a was faster still but on a miss searches the rest of s, which is a piece of the log holding
 * many lines: a user agent sharing another's cheap hash would cost a scan of it per record).
 */
function sameText(s: string, a: number, t: string): boolean {
  const n = t.length;
  if (n > 32) return s.slice(a, a + n) === t;
  for (let i = n - 1; i >= 0; i--) if (s.charCodeAt(a + i) !== t.charCodeAt(i)) return false;
  return true;
}

/** A column's value ids, in the narrowest array its id count allows. */
export type Ids = Uint8Array | Uint16Array | Int32Array;

export class RecordColumns {
  size = 0;
  overflowed = false;
  /** Why the columns were dropped, for the analysis's `measured_on`. */
  overflowWhy = '';
  hostHash = new Int32Array(0);
  ipKey = new Int32Array(0);
  fam = new Uint8Array(0);
  timeMs = new Float64Array(0);
  status = new Int16Array(0);
  flags = new Uint8Array(0);
  readonly ids: Ids[] = [];
  private readonly tables: IdTable[] = [];
  private readonly texts: TextIds[] = [];
  /** Per column, per id: the first line with that value and its input's index. */
  readonly repLine: string[][] = [];
  readonly repFile: number[][] = [];
  /** Client text of records whose client is not IPv4 (by ipKey). */
  readonly otherClients = new Map<number, string>();
  private readonly t = new SlotText();
  /** Bytes per id of each column's array (1, 2 or 4). */
  private readonly width = new Uint8Array(Col.COUNT).fill(1);
  /** The METHOD column's id of GET, POST, HEAD as logged in the line (by features.ts Method), -1 until met. */
  private readonly methodIds = new Int32Array(4).fill(-1);
  /** Ids of the keyed columns' small keys (see add), -1 until met. */
  private readonly direct = new Int32Array(Col.COUNT * 128).fill(-1);
  /** The four keyed columns' ids (a byte each, QUERY lowest) by record shape (see add), -1 until met. */
  private readonly shapes = new Int32Array(SHAPES).fill(-1);

  /**
   * `expected`: about how many records the log holds (from its size, when known): the columns make
   * room for that many at once (bounded by maxRecords), before the heap has grown.
   */
  constructor(
    private readonly maxRecords = MAX_RECORDS,
    private readonly expected = 0,
  ) {
    for (let c = 0; c < Col.COUNT; c++) {
      this.ids.push(new Uint8Array(0));
      this.tables.push(new IdTable());
      this.texts.push(new TextIds(c === Col.HOST ? lowerHash : cheapHash));
      this.repLine.push([]);
      this.repFile.push([]);
    }
  }

  /**
   * Record `v`, whose traits `tr` has just read. Column by column in straight code, not a loop
   * over the columns: each column's key is a different kind of thing, and the loop's dispatch per
   * column was a fifth of the columns' cost.
   */
  add(v: HttpLogView, tr: RequestTraits): void {
    if (this.overflowed) return;
    const i = this.size;
    if (i === this.hostHash.length && !this.grow()) return;
    this.hostHash[i] = tr.hostHash;
    this.ipKey[i] = tr.ipKey;
    this.fam[i] = tr.fam;
    this.timeMs[i] = tr.timeMs;
    this.status[i] = tr.status;
    this.flags[i] = flagsOf(tr);
    if (tr.fam !== 4 && !this.otherClients.has(tr.ipKey) && this.t.of(v, Slot.CLIENT)) this.otherClients.set(tr.ipKey, this.t.text());
    // The host's and user agent's hashes are the traits' (same functions, computed already).
    if (!this.text(Col.HOST, Slot.HOST, v, tr.hostHash, i)) return;
    let id: number;
    if (tr.method !== Method.OTHER && (v.start[Slot.METHOD] as number) >= 0) {
      // GET, POST and HEAD are those bytes exactly (features.ts methodCode): their ids are kept.
      id = this.methodIds[tr.method] as number;
      if (id < 0) {
        id = this.textId(Col.METHOD, Slot.METHOD, v, 0);
        if (id < 0) id = this.newId(Col.METHOD, -1 - id, v);
        if (id < 0) return;
        this.methodIds[tr.method] = id;
      }
      this.put(Col.METHOD, i, id);
    } else if (!this.text(Col.METHOD, Slot.METHOD, v, 0, i)) return;
    if (!this.text(Col.PATH, Slot.PATH, v, 0, i)) return;
    const t = this.t;
    // Absent (0), `-` or empty (1), or a value (2, what the traits' hasQuery/hasReferer say): the only constraints these columns meet.
    const query = !v.has(Slot.QUERY) ? 0 : tr.hasQuery ? 2 : 1;
    const referer = !v.has(Slot.REFERER) ? 0 : tr.hasReferer ? 2 : 1;
    let named = 0;
    if (v.cookies !== null) for (const _ in v.cookies) named = 4;
    const cookie = (!v.has(Slot.COOKIE) ? 0 : t.of(v, Slot.COOKIE) && t.length > 0 ? 2 : 1) | named;
    // The request line's shape decides what the version field reads.
    const version = v.version;
    const ok = v.requestOk ? 1 : 0;
    // The four keyed columns' ids by one lookup of the record's shape (their keys together) when
    // it was met before: four lookups and stores through keyed() were a tenth of the columns' cost.
    const shape = version >= -1 && version < VERSIONS - 1 ? query + 3 * (referer + 3 * (cookie + 8 * (ok + 2 * (version + 1)))) : -1;
    const packed = shape >= 0 ? (this.shapes[shape] as number) : -1;
    if (packed >= 0) {
      (this.ids[Col.QUERY] as Uint8Array)[i] = packed & 0xff;
      (this.ids[Col.VERSION] as Uint8Array)[i] = (packed >>> 8) & 0xff;
      (this.ids[Col.REFERER] as Uint8Array)[i] = (packed >>> 16) & 0xff;
      (this.ids[Col.COOKIE] as Uint8Array)[i] = packed >>> 24;
    } else {
      const q = this.keyed(Col.QUERY, query, 0, v, i);
      if (q < 0) return;
      const ver = this.keyed(Col.VERSION, version, ok, v, i);
      if (ver < 0) return;
      const r = this.keyed(Col.REFERER, referer, 0, v, i);
      if (r < 0) return;
      const ck = this.keyed(Col.COOKIE, cookie, 0, v, i);
      if (ck < 0) return;
      // Kept when every id fits a byte of the Uint8Array columns (the last one 7 bits: packed stays positive).
      if (
        shape >= 0 &&
        q <= 0xff &&
        ver <= 0xff &&
        r <= 0xff &&
        ck <= 0x7f &&
        this.width[Col.QUERY] === 1 &&
        this.width[Col.VERSION] === 1 &&
        this.width[Col.REFERER] === 1 &&
        this.width[Col.COOKIE] === 1
      )
        this.shapes[shape] = q | (ver << 8) | (r << 16) | (ck << 24);
    }
    if (!this.text(Col.UA, Slot.USER_AGENT, v, tr.uaHash, i)) return;
    if (!this.text(Col.JA3, Slot.JA3, v, 0, i)) return;
    if (!this.text(Col.JA4, Slot.JA4, v, 0, i)) return;
    this.size = i + 1;
  }

  /** Store text column c's id for record i; false when the columns overflowed. `h`: the traits' hash of it, 0 for none. */
  private text(c: Col, slot: Slot, v: HttpLogView, h: number, i: number): boolean {
    let id = this.textId(c, slot, v, h);
    if (id < 0) id = this.newId(c, -1 - id, v);
    if (id < 0) return false;
    this.put(c, i, id);
    return true;
  }

  /** Store keyed column c's id of the key (h0, h1) for record i and return it; -1 when the columns overflowed. */
  private keyed(c: Col, h0: number, h1: number, v: HttpLogView, i: number): number {
    // Small keys (absent/empty/set, a version and whether the request line was understood) by direct index.
    const d = h1 >= 0 && h1 <= 1 && h0 >= -1 && h0 < 63 ? c * 128 + (h0 + 1) * 2 + h1 : -1;
    let id = d >= 0 ? (this.direct[d] as number) : -1;
    if (id < 0) {
      id = (this.tables[c] as IdTable).idOf(h0, h1);
      if (id < 0) id = this.newId(c, -1 - id, v);
      if (id < 0) return -1;
      if (d >= 0) this.direct[d] = id;
    }
    this.put(c, i, id);
    return id;
  }

  private put(c: Col, i: number, id: number): void {
    // One store per array type (a store to the Ids union was a polymorphic one per field per record).
    const col = this.ids[c] as Ids;
    const w = this.width[c] as number;
    if (w === 1) (col as Uint8Array)[i] = id;
    else if (w === 2) (col as Uint16Array)[i] = id;
    else (col as Int32Array)[i] = id;
  }

  /** The id of text column c's value in v (slot `slot`; `h` its hash when the traits have it, else 0), or -1 - (a new id). */
  private textId(c: Col, slot: Slot, v: HttpLogView, h: number): number {
    const tx = this.texts[c] as TextIds;
    if (!v.has(slot)) return tx.absent();
    const a = v.start[slot] as number;
    const s = a < 0 ? (v.str[slot] ?? '') : v.text;
    const from = a < 0 ? 0 : a;
    const to = a < 0 ? s.length : (v.end[slot] as number);
    return tx.idOf(s, from, to, a < 0, tx.full || h === 0 ? tx.hash(s, from, to) : h);
  }

  /** A value first seen in v: keep its line; -1 (and overflowed) past MAX_IDS. */
  private newId(c: Col, id: number, v: HttpLogView): number {
    if (id >= MAX_IDS) {
      this.overflow(`more than ${MAX_IDS} distinct values of one field`);
      return -1;
    }
    (this.repLine[c] as string[]).push(detach(v.line));
    (this.repFile[c] as number[]).push(v.fileIndex);
    const ids = this.ids[c] as Ids;
    // Widen the column when its ids outgrow it.
    if ((ids instanceof Uint8Array && id > 255) || (ids instanceof Uint16Array && id > 65535)) {
      const wide = id > 65535 ? new Int32Array(ids.length) : new Uint16Array(ids.length);
      wide.set(ids.subarray(0, this.size));
      this.ids[c] = wide;
      this.width[c] = id > 65535 ? 4 : 2;
      // The shapes hold ids of byte-wide columns only.
      this.shapes.fill(-1);
    }
    return id;
  }

  /** Double the record arrays; false (and overflowed) past maxRecords. */
  private grow(): boolean {
    const n = this.hostHash.length;
    if (n >= this.maxRecords) {
      this.overflow(`more than ${this.maxRecords.toLocaleString('en-US')} records`);
      return false;
    }
    // A million records first, then the bound: a typed array's pages are taken as they are
    // written, not when it is made, and each growth copied the columns and set off a full
    // collection (the new arrays' size counts as memory pressure), six of them for 2 M records.
    const cap = Math.min(this.maxRecords, n === 0 ? Math.max(FIRST_RECORDS, this.expected) : this.maxRecords);
    const wider = <A extends Int32Array | Uint8Array | Uint16Array | Int16Array | Float64Array>(a: A): A => {
      const b = new (a.constructor as new (k: number) => A)(cap);
      b.set(a.subarray(0, this.size) as A);
      return b;
    };
    this.hostHash = wider(this.hostHash);
    this.ipKey = wider(this.ipKey);
    this.fam = wider(this.fam);
    this.timeMs = wider(this.timeMs);
    this.status = wider(this.status);
    this.flags = wider(this.flags);
    for (let c = 0; c < Col.COUNT; c++) this.ids[c] = wider(this.ids[c] as Ids);
    return true;
  }

  private overflow(why: string): void {
    this.overflowed = true;
    this.overflowWhy = why;
    this.size = 0;
    this.hostHash = new Int32Array(0);
    this.ipKey = new Int32Array(0);
    this.fam = new Uint8Array(0);
    this.timeMs = new Float64Array(0);
    this.status = new Int16Array(0);
    this.flags = new Uint8Array(0);
    this.width.fill(1);
    this.methodIds.fill(-1);
    this.direct.fill(-1);
    this.shapes.fill(-1);
    for (let c = 0; c < Col.COUNT; c++) {
      this.ids[c] = new Uint8Array(0);
      this.repLine[c] = [];
      this.repFile[c] = [];
      this.tables[c] = new IdTable();
      this.texts[c] = new TextIds(c === Col.HOST ? lowerHash : cheapHash);
    }
    this.otherClients.clear();
  }

  /** Distinct values seen in column c. */
  idCount(c: Col): number {
    return (this.repLine[c] as string[]).length;
  }
}
