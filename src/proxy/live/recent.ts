/**
 * The last N requests the edge finished, kept so a signature can be measured (detect/l7/measure.ts:
 * coverage, collateral, attribution of addresses) the way the offline path measures it over the
 * whole log. A live stream cannot be read again, so live figures are estimates over this buffer:
 * the decisions say so, and how many requests it held.
 *
 * A ring of columns: numbers in typed arrays, text as references to interned strings (a site's
 * hosts, paths, user agents and referers repeat; one copy each, the table bounded and emptied when
 * full). The query is kept cut at QUERY_MAX chars (a signature only asks whether there is one) and
 * the cookie only as present or not (likewise: `http.cookie eq ""`).
 */
import { type RequestTraits, SlotText } from '../../detect/l7/features.js';
import { type HttpLogView, Slot } from '../../sources/accesslog/view.js';

const QUERY_MAX = 256;
/** Distinct strings interned before the table starts again. */
const INTERN_MAX = 1 << 16;

/** The cookie slot of a replayed record that had a cookie (its value is not kept). */
const SOME_COOKIE = '_=1';

class Interner {
  private readonly m = new Map<string, string>();
  of(s: string | undefined): string | undefined {
    if (s === undefined) return undefined;
    const x = this.m.get(s);
    if (x !== undefined) return x;
    if (this.m.size >= INTERN_MAX) this.m.clear();
    this.m.set(s, s);
    return s;
  }
}

const TEXT: readonly Slot[] = [Slot.CLIENT, Slot.HOST, Slot.METHOD, Slot.PATH, Slot.USER_AGENT, Slot.REFERER, Slot.JA3, Slot.JA4];

export class RecentRequests {
  readonly capacity: number;
  /** Requests held (≤ capacity) and ever added. */
  size = 0;
  added = 0;
  private next = 0;
  private readonly timeMs: Float64Array;
  private readonly hostHash: Int32Array;
  private readonly status: Int16Array;
  private readonly version: Int8Array;
  private readonly flags: Uint8Array;
  private readonly text: Array<Array<string | undefined>>;
  private readonly query: Array<string | undefined>;
  private readonly intern = new Interner();
  private readonly t = new SlotText();

  constructor(capacity: number) {
    this.capacity = Math.max(1, capacity | 0);
    const n = this.capacity;
    this.timeMs = new Float64Array(n);
    this.hostHash = new Int32Array(n);
    this.status = new Int16Array(n);
    this.version = new Int8Array(n);
    this.flags = new Uint8Array(n);
    this.text = TEXT.map(() => new Array<string | undefined>(n).fill(undefined));
    this.query = new Array<string | undefined>(n).fill(undefined);
  }

  /** Keep `v`, whose traits `tr` (the detector's) have just been read. */
  add(v: HttpLogView, tr: RequestTraits): void {
    const i = this.next;
    this.timeMs[i] = tr.timeMs;
    this.hostHash[i] = tr.hostHash;
    this.status[i] = tr.status;
    this.version[i] = v.version;
    this.flags[i] = (tr.hasCookie ? 1 : 0) | (v.requestOk ? 2 : 0);
    for (let c = 0; c < TEXT.length; c++) (this.text[c] as Array<string | undefined>)[i] = this.intern.of(v.get(TEXT[c] as Slot));
    const q = this.t.of(v, Slot.QUERY) ? this.t.s.slice(this.t.a, Math.min(this.t.b, this.t.a + QUERY_MAX)) : undefined;
    this.query[i] = q;
    this.next = (i + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
    this.added++;
  }

  /** Time of the oldest request held (NaN when empty). */
  get oldestMs(): number {
    if (this.size === 0) return Number.NaN;
    return this.timeMs[this.size < this.capacity ? 0 : this.next] as number;
  }

  /**
   * Each request held, oldest first, refilled into `v` (reset each time) and handed to `f`;
   * `hosts`: only the requests for these hosts (by the traits' host hash).
   */
  replay(v: HttpLogView, f: (v: HttpLogView) => void, hosts: ReadonlySet<number> | null = null): void {
    const start = this.size < this.capacity ? 0 : this.next;
    for (let k = 0; k < this.size; k++) {
      const i = (start + k) % this.capacity;
      if (hosts !== null && !hosts.has(this.hostHash[i] as number)) continue;
      v.reset('');
      v.latin1 = true;
      v.timeMs = this.timeMs[i] as number;
      for (let c = 0; c < TEXT.length; c++) {
        const s = (this.text[c] as Array<string | undefined>)[i];
        if (s !== undefined) v.setStr(TEXT[c] as Slot, s);
      }
      const q = this.query[i];
      if (q !== undefined) v.setStr(Slot.QUERY, q);
      const fl = this.flags[i] as number;
      if (fl & 1) v.setStr(Slot.COOKIE, SOME_COOKIE);
      v.requestOk = (fl & 2) !== 0;
      v.version = this.version[i] as number;
      v.status = this.status[i] as number;
      f(v);
    }
  }
}
