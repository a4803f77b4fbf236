/**
 * The last N requests the edge finished, kept so a signature can be measured (detect/l7/measure.ts:
 * coverage, collateral, attribution of addresses) the way the offline path measures it over the
 * whole log. A live stream cannot be read again, so live figures are estimates over this buffer:
 * the decisions say so, and how many requests it held.
 *
 * The same columns the offline detection pass keeps (detect/l7/columns.ts RecordColumns) — per
 * record the numbers the tallies use and a value id per field a signature can constrain — in a
 * ring. Measuring then evaluates each constraint once per distinct value of its field and looks
 * the answer up per record (Measurer.addColumns), so a pass over 200,000 requests takes
 * milliseconds rather than blocking the proxy's event loop for most of a second.
 *
 * Value ids: per field, a map from the value as the constraint reads it (the text; for the query,
 * the referer and the cookie only absent / empty / present, which is all a signature asks of
 * them; the version with whether the request line was understood) to a dense id. Ids die with the
 * records that used them: when a field's table reaches twice the ring's size it is rebuilt from
 * the records held, so it stays bounded under values that never repeat (cache-busting paths).
 */
import { Col, flagsOf } from '../../detect/l7/columns.js';
import type { RequestTraits } from '../../detect/l7/features.js';
import type { MeasureColumns } from '../../detect/l7/measure.js';
import { HttpLogView, Slot } from '../../sources/accesslog/view.js';

/** The value of an absent field (a string no header or path holds). */
const ABSENT = '\u0000';
/** Text fields and the view's slot they read. */
const TEXT_SLOT: ReadonlyArray<Slot | -1> = [Slot.HOST, Slot.METHOD, Slot.PATH, -1, -1, -1, -1, Slot.USER_AGENT, Slot.JA3, Slot.JA4];

/** The time-ordered copy handed to the Measurer (its arrays reused between passes). */
interface Snapshot extends Omit<MeasureColumns, 'size' | 'repLine' | 'repFile'> {
  size: number;
  repLine: string[][];
  repFile: number[][];
}

export class RecentRequests {
  readonly capacity: number;
  /** Requests held (≤ capacity) and ever added. */
  size = 0;
  added = 0;
  private next = 0;
  private readonly hostHash: Int32Array;
  private readonly ipKey: Int32Array;
  private readonly fam: Uint8Array;
  private readonly timeMs: Float64Array;
  private readonly status: Int16Array;
  private readonly flags: Uint8Array;
  private readonly ids: Int32Array[] = [];
  private readonly dict: Array<Map<string, number>> = [];
  /** Per field, per id: the value (the representative a constraint is evaluated on). */
  private readonly values: string[][] = [];
  /** Client text of clients that are not IPv4, by ipKey (bounded: emptied when it outgrows the ring). */
  private readonly others = new Map<number, string>();
  private snap: Snapshot | null = null;
  private readonly view = new HttpLogView();

  constructor(capacity: number) {
    this.capacity = Math.max(1, capacity | 0);
    const n = this.capacity;
    this.hostHash = new Int32Array(n);
    this.ipKey = new Int32Array(n);
    this.fam = new Uint8Array(n);
    this.timeMs = new Float64Array(n);
    this.status = new Int16Array(n);
    this.flags = new Uint8Array(n);
    for (let c = 0; c < Col.COUNT; c++) {
      this.ids.push(new Int32Array(n));
      this.dict.push(new Map());
      this.values.push([]);
    }
  }

  /** Keep `v`, whose traits `tr` (the detector's) have just been read. */
  add(v: HttpLogView, tr: RequestTraits): void {
    const i = this.next;
    this.hostHash[i] = tr.hostHash;
    this.ipKey[i] = tr.ipKey;
    this.fam[i] = tr.fam;
    this.timeMs[i] = tr.timeMs;
    this.status[i] = tr.status;
    this.flags[i] = flagsOf(tr);
    if (tr.fam !== 4 && !this.others.has(tr.ipKey)) {
      if (this.others.size >= this.capacity) this.others.clear();
      this.others.set(tr.ipKey, v.get(Slot.CLIENT) ?? '');
    }
    for (let c = 0; c < Col.COUNT; c++) (this.ids[c] as Int32Array)[i] = this.idOf(c, fieldValue(c, v, tr));
    this.next = (i + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
    this.added++;
  }

  /** Time of the oldest request held (NaN when empty). */
  get oldestMs(): number {
    if (this.size === 0) return Number.NaN;
    return this.timeMs[this.size < this.capacity ? 0 : this.next] as number;
  }

  private idOf(c: number, value: string): number {
    const d = this.dict[c] as Map<string, number>;
    const id = d.get(value);
    if (id !== undefined) return id;
    if (d.size >= 2 * this.capacity) this.compact(c);
    const n = d.size;
    d.set(value, n);
    (this.values[c] as string[]).push(value);
    return n;
  }

  /** Rebuild field c's ids from the records held (the others' values are gone from the ring). */
  private compact(c: number): void {
    const ids = this.ids[c] as Int32Array;
    const old = this.values[c] as string[];
    const d = new Map<string, number>();
    const values: string[] = [];
    const remap = new Int32Array(old.length).fill(-1);
    for (let i = 0; i < this.size; i++) {
      const o = ids[i] as number;
      let n = remap[o] as number;
      if (n < 0) {
        n = values.length;
        remap[o] = n;
        values.push(old[o] as string);
        d.set(old[o] as string, n);
      }
      ids[i] = n;
    }
    this.dict[c] = d;
    this.values[c] = values;
  }

  /**
   * The records held, oldest first, as the Measurer's columns (addColumns), and the `parse` that
   * turns a field's representative value back into a view its constraint can be evaluated on.
   * Valid until the next add.
   */
  columns(): { cols: MeasureColumns; parse: (line: string, field: number) => HttpLogView | null } {
    const n = this.size;
    let s = this.snap;
    if (s === null || s.hostHash.length < n) {
      const ids = this.ids.map(() => new Int32Array(this.capacity));
      s = {
        size: 0,
        hostHash: new Int32Array(this.capacity),
        ipKey: new Int32Array(this.capacity),
        fam: new Uint8Array(this.capacity),
        timeMs: new Float64Array(this.capacity),
        status: new Int16Array(this.capacity),
        flags: new Uint8Array(this.capacity),
        ids,
        repLine: [],
        repFile: [],
        otherClients: this.others,
        idCount: (c: Col) => (this.values[c] as string[]).length,
      };
      this.snap = s;
    }
    // Oldest first: the tallies take an address's first and last times in order.
    const start = n < this.capacity ? 0 : this.next;
    const copy = <A extends Int32Array | Uint8Array | Int16Array | Float64Array>(from: A, to: A): void => {
      const tail = from.subarray(start, n);
      to.set(tail as never, 0);
      if (start > 0) to.set(from.subarray(0, start) as never, tail.length);
    };
    copy(this.hostHash, s.hostHash);
    copy(this.ipKey, s.ipKey);
    copy(this.fam, s.fam);
    copy(this.timeMs, s.timeMs);
    copy(this.status, s.status);
    copy(this.flags, s.flags);
    for (let c = 0; c < Col.COUNT; c++) copy(this.ids[c] as Int32Array, s.ids[c] as Int32Array);
    s.size = n;
    // A field's representatives are its values; `repFile` carries the field to `parse`.
    s.repLine = this.values;
    s.repFile = this.values.map((vs, c) => new Array<number>(vs.length).fill(c));
    return { cols: s, parse: (line, field) => this.represent(line, field) };
  }

  /** A view holding only field `c` at `value` (the constraints read one field each). */
  private represent(value: string, c: number): HttpLogView {
    const v = this.view;
    v.reset('');
    v.latin1 = true;
    v.requestOk = true;
    const slot = TEXT_SLOT[c] as number;
    if (slot >= 0) {
      if (value !== ABSENT) v.setStr(slot as Slot, value);
      if (c === Col.METHOD) v.requestOk = value !== ABSENT;
      return v;
    }
    switch (c) {
      case Col.QUERY:
        if (value !== '0') v.setStr(Slot.QUERY, value === '2' ? 'q' : '');
        break;
      case Col.REFERER:
        if (value !== '0') v.setStr(Slot.REFERER, value === '2' ? 'https://referer.invalid/' : '');
        break;
      case Col.COOKIE:
        if (value !== '0') v.setStr(Slot.COOKIE, value === '2' ? '_=1' : '');
        break;
      case Col.VERSION: {
        const bar = value.indexOf('|');
        v.version = Number(value.slice(0, bar));
        v.requestOk = value.slice(bar + 1) === '1';
        break;
      }
      default:
        break;
    }
    return v;
  }
}

/** The value of field c a constraint reads, as the key of its id. */
function fieldValue(c: number, v: HttpLogView, tr: RequestTraits): string {
  const slot = TEXT_SLOT[c] as number;
  if (slot >= 0) return v.get(slot as Slot) ?? ABSENT;
  switch (c) {
    case Col.QUERY:
      return presence(v, Slot.QUERY);
    case Col.REFERER:
      return presence(v, Slot.REFERER);
    case Col.COOKIE:
      return tr.hasCookie ? '2' : presence(v, Slot.COOKIE);
    case Col.VERSION:
      return versionKey(v.version, v.requestOk);
    default:
      return ABSENT;
  }
}

/** The version field's keys, made once (a string per request would be garbage on the hot path). */
const VERSION_KEYS = new Map<number, string>();
function versionKey(version: number, ok: boolean): string {
  const k = version * 2 + (ok ? 1 : 0);
  let s = VERSION_KEYS.get(k);
  if (s === undefined) {
    s = `${version}|${ok ? 1 : 0}`;
    VERSION_KEYS.set(k, s);
  }
  return s;
}

/** '0' absent, '1' empty, '2' present with text. */
function presence(v: HttpLogView, slot: Slot): string {
  const s = v.get(slot);
  return s === undefined ? '0' : s === '' || s === '-' ? '1' : '2';
}
