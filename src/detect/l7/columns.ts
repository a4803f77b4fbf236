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
import { detach, type RequestTraits, SlotText } from './features.js';

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

export const MAX_RECORDS = 1 << 22;
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

/** A column's value ids, in the narrowest array its id count allows. */
type Ids = Uint8Array | Uint16Array | Int32Array;

/** The view's slot of each text column (-1: a column keyed otherwise). */
const TEXT_SLOT: readonly number[] = [Slot.HOST, Slot.METHOD, Slot.PATH, -1, -1, -1, -1, Slot.USER_AGENT, Slot.JA3, Slot.JA4];

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
  /** Per column, per id: the first line with that value and its input's index. */
  readonly repLine: string[][] = [];
  readonly repFile: number[][] = [];
  /** Client text of records whose client is not IPv4 (by ipKey). */
  readonly otherClients = new Map<number, string>();
  private readonly h = new Int32Array(2);
  private readonly t = new SlotText();

  constructor(private readonly maxRecords = MAX_RECORDS) {
    for (let c = 0; c < Col.COUNT; c++) {
      this.ids.push(new Uint8Array(0));
      this.tables.push(new IdTable());
      this.repLine.push([]);
      this.repFile.push([]);
    }
  }

  /** Record `v`, whose traits `tr` has just read. */
  add(v: HttpLogView, tr: RequestTraits): void {
    if (this.overflowed) return;
    const i = this.size;
    if (i === this.hostHash.length && !this.grow()) return;
    this.hostHash[i] = tr.hostHash;
    this.ipKey[i] = tr.ipKey;
    this.fam[i] = tr.fam;
    this.timeMs[i] = tr.timeMs;
    this.status[i] = tr.status;
    this.flags[i] =
      (tr.asset ? Flag.ASSET : 0) | (tr.hasCookie ? Flag.COOKIE : 0) | (tr.login ? Flag.LOGIN : 0) | (tr.sensitive ? Flag.SENSITIVE : 0) | (tr.hasReferer ? Flag.REFERER : 0);
    if (tr.fam !== 4 && !this.otherClients.has(tr.ipKey) && this.t.of(v, Slot.CLIENT)) this.otherClients.set(tr.ipKey, this.t.text());
    const h = this.h;
    for (let c = 0; c < Col.COUNT; c++) {
      this.key(c, v);
      const id = this.setId(c, i, h[0] as number, h[1] as number, v);
      if (id < 0) return;
    }
    this.size = i + 1;
  }

  /** The key of column c for record v, into this.h. */
  private key(c: Col, v: HttpLogView): void {
    const h = this.h;
    const t = this.t;
    switch (c) {
      case Col.QUERY:
      case Col.REFERER: {
        const slot = c === Col.QUERY ? Slot.QUERY : Slot.REFERER;
        h[0] = !v.has(slot) ? 0 : t.of(v, slot) && t.length > 0 ? 2 : 1;
        h[1] = 0;
        return;
      }
      case Col.COOKIE: {
        let named = 0;
        if (v.cookies !== null) for (const _ in v.cookies) named = 4;
        h[0] = (!v.has(Slot.COOKIE) ? 0 : t.of(v, Slot.COOKIE) && t.length > 0 ? 2 : 1) | named;
        h[1] = 0;
        return;
      }
      case Col.VERSION:
        // The request line's shape decides what the version field reads.
        h[0] = v.version;
        h[1] = v.requestOk ? 1 : 0;
        return;
      default: {
        const slot = TEXT_SLOT[c] as Slot;
        if (!v.has(slot)) {
          h[0] = 0;
          h[1] = 0;
          return;
        }
        const a = v.start[slot] as number;
        const s = a < 0 ? (v.str[slot] ?? '') : v.line;
        const from = a < 0 ? 0 : a;
        const to = a < 0 ? s.length : (v.end[slot] as number);
        // Two FNV-style hashes with different primes in one walk; the method's also says whether
        // the request line was understood (a raw line kept as the path reads no method).
        let h1 = 0x811c9dc5 | 0;
        let h2 = (0x01000193 ^ (to - from) ^ (c === Col.METHOD && v.requestOk ? 0x40000000 : 0) ^ (a < 0 ? 0x20000000 : 0)) | 0;
        for (let k = from; k < to; k++) {
          const ch = s.charCodeAt(k);
          h1 = Math.imul(h1 ^ ch, 0x01000193);
          h2 = Math.imul(h2 ^ ch, 0x5bd1e995);
        }
        h[0] = mix32(h1) | 1;
        h[1] = mix32(h2 ^ (to - from));
      }
    }
  }

  private setId(c: Col, i: number, h1: number, h2: number, v: HttpLogView): number {
    const tb = this.tables[c] as IdTable;
    let id = tb.idOf(h1, h2);
    if (id < 0) {
      id = -1 - id;
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
        wide.set(ids);
        this.ids[c] = wide;
      }
    }
    (this.ids[c] as Ids)[i] = id;
    return id;
  }

  /** Double the record arrays; false (and overflowed) past maxRecords. */
  private grow(): boolean {
    const n = this.hostHash.length;
    if (n >= this.maxRecords) {
      this.overflow(`more than ${this.maxRecords.toLocaleString('en-US')} records`);
      return false;
    }
    const cap = Math.min(this.maxRecords, Math.max(1 << 16, n * 2));
    const wider = <A extends Int32Array | Uint8Array | Uint16Array | Int16Array | Float64Array>(a: A): A => {
      const b = new (a.constructor as new (k: number) => A)(cap);
      b.set(a);
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
    for (let c = 0; c < Col.COUNT; c++) {
      this.ids[c] = new Uint8Array(0);
      this.repLine[c] = [];
      this.repFile[c] = [];
    }
    this.otherClients.clear();
  }

  /** Distinct values seen in column c. */
  idCount(c: Col): number {
    return (this.repLine[c] as string[]).length;
  }
}
