/**
 * The second pass over the log: each attack's signature compiled with the Rules language against
 * the HTTP scheme (scheme/http-log.ts over the reader's view) and evaluated on every record of
 * the victim host. Per source address it keeps what attribution needs — requests, signature
 * matches and the attack class's requests within the attack's time — and per /24 the host's
 * requests, so a prefix is listed only when nothing else came from it. Bounded: at most
 * MAX_SOURCES addresses per attack (more are counted in `overflow`).
 */
import { compile, type NamedList, type Predicate } from '../../rules/compile.js';
import { httpScheme } from '../../scheme/http.js';
import { HttpLogRequest } from '../../scheme/http-log.js';
import { type HttpLogView, Slot } from '../../sources/accesslog/view.js';
import { mix32 } from '../core/sketch/hash.js';
import { Flag, flagsOf, type Ids, type RecordColumns } from './columns.js';
import { Kind } from './detector.js';
import { RequestTraits, SlotText } from './features.js';
import type { Part } from './signature.js';

export const MAX_SOURCES = 1 << 20;
/** /24 prefixes counted per attack host. */
export const MAX_PREFIXES = 1 << 18;

/** What one attack's pass measures. */
export interface MeasureTarget {
  kind: Kind;
  hostHash: number;
  expression: string;
  /**
   * The expression as a conjunction of one-field constraints (signature.ts parts), when it is one:
   * then it can be measured on the detection pass's columns (columns.ts) without reading the log.
   */
  parts?: readonly Part[];
  lists?: Record<string, NamedList>;
  /** The attack's time (ms), with the margin the caller wants. */
  fromMs: number;
  toMs: number;
}

/** Per-address tallies within the attack's time on its host (columns of `n`). */
export const enum T {
  REQUESTS = 0,
  MATCHED,
  CLASS,
  /** Scanner: sensitive probes (CLASS holds 404s then). */
  SENSITIVE,
  FIRST,
  LAST,
  /** Requests and matches outside the attack's time (counted once the address has a slot). */
  OUT_REQUESTS,
  OUT_MATCHED,
  COUNT,
}

/** Int32 keys to slot numbers, open addressing (a Map of numbers cost two lookups' worth per record). */
class SlotIndex {
  private keys = new Int32Array(2048);
  private vals = new Int32Array(2048).fill(-1);
  private mask = 2047;
  private size = 0;

  get(k: number): number {
    let i = mix32(k) & this.mask;
    for (;;) {
      const v = this.vals[i] as number;
      if (v < 0 || this.keys[i] === k) return v;
      i = (i + 1) & this.mask;
    }
  }

  set(k: number, v: number): void {
    let i = mix32(k) & this.mask;
    while ((this.vals[i] as number) >= 0 && this.keys[i] !== k) i = (i + 1) & this.mask;
    if ((this.vals[i] as number) < 0) this.size++;
    this.keys[i] = k;
    this.vals[i] = v;
    if (this.size * 2 > this.vals.length) this.grow();
  }

  private grow(): void {
    const { keys, vals } = this;
    this.keys = new Int32Array(keys.length * 2);
    this.vals = new Int32Array(keys.length * 2).fill(-1);
    this.mask = keys.length * 2 - 1;
    this.size = 0;
    for (let j = 0; j < keys.length; j++) if ((vals[j] as number) >= 0) this.set(keys[j] as number, vals[j] as number);
  }
}

/**
 * Host requests per /24 (IPv4 sources), whole log: one count per host, shared by that host's tallies.
 * Counted in an open-addressing table of typed arrays, the prefixes kept in the order first met;
 * the Map is made from them when read (`map`), in that order. A Map get and set per record were
 * a sixth of the measuring pass.
 */
export class Per24 {
  /** Slot → prefix + 1 (0: empty), and its count. */
  private keys = new Int32Array(1024);
  private counts = new Int32Array(1024);
  private mask = 1023;
  /** Slots in the order their prefixes were first met. */
  private order = new Int32Array(512);
  private size = 0;
  private made: Map<number, number> | null = null;
  requests = 0;
  /** Requests from clients that are not IPv4 (their networks are not counted by prefix). */
  others = 0;

  /** Requests per /24 (by IPv4 address >>> 8), in the order the prefixes were first met. */
  get map(): ReadonlyMap<number, number> {
    if (this.made === null) {
      const m = new Map<number, number>();
      for (let j = 0; j < this.size; j++) {
        const i = this.order[j] as number;
        m.set((this.keys[i] as number) - 1, this.counts[i] as number);
      }
      this.made = m;
    }
    return this.made;
  }

  /**
   * One request from a client of family `fam` in the /24 `p` (its IPv4 address >>> 8, shifted by
   * the caller: a small integer to pass, where the int32 address is not).
   */
  add(fam: number, p: number): void {
    this.requests++;
    if (fam !== 4) {
      this.others++;
      return;
    }
    this.made = null;
    const k = p + 1;
    let i = mix32(k) & this.mask;
    for (;;) {
      const x = this.keys[i] as number;
      if (x === k) {
        this.counts[i]++;
        return;
      }
      if (x === 0) break;
      i = (i + 1) & this.mask;
    }
    // Beyond the cap a /24 is not counted, so it can never be listed as clean.
    if (this.size >= MAX_PREFIXES) return;
    this.keys[i] = k;
    this.counts[i] = 1;
    if (this.size === this.order.length) {
      const o = new Int32Array(this.size * 2);
      o.set(this.order);
      this.order = o;
    }
    this.order[this.size++] = i;
    if (this.size * 2 > this.keys.length) this.grow();
  }

  private grow(): void {
    const { keys, counts, order } = this;
    const cap = keys.length * 2;
    this.keys = new Int32Array(cap);
    this.counts = new Int32Array(cap);
    this.mask = cap - 1;
    for (let j = 0; j < this.size; j++) {
      const o = order[j] as number;
      const k = keys[o] as number;
      let i = mix32(k) & this.mask;
      while (this.keys[i] !== 0) i = (i + 1) & this.mask;
      this.keys[i] = k;
      this.counts[i] = counts[o] as number;
      order[j] = i;
    }
  }
}

export class Tally {
  private readonly index = new SlotIndex();
  keys = new Int32Array(1024);
  fam = new Uint8Array(1024);
  n = new Float64Array(1024 * T.COUNT);
  readonly text = new Map<number, string>();
  size = 0;
  overflow = 0;
  /** Signature matches (whole log, all sources). */
  matched = 0;

  constructor(private readonly host: Per24) {}

  /** Host requests (whole log). */
  get hostRequests(): number {
    return this.host.requests;
  }
  /** Host requests per /24 (IPv4 sources), whole log. */
  get per24(): ReadonlyMap<number, number> {
    return this.host.map;
  }
  /** Host requests from clients that are not IPv4, whole log. */
  get otherRequests(): number {
    return this.host.others;
  }

  /** The address's slot, or -1 when it has none. */
  find(key: number, fam: number): number {
    return this.index.get(fam === 4 ? key : -1 - (key >>> 1));
  }

  slot(key: number, fam: number, t: number, text: () => string): number {
    const k = fam === 4 ? key : -1 - (key >>> 1);
    const i = this.index.get(k);
    if (i >= 0) return i;
    if (this.size >= MAX_SOURCES) {
      this.overflow++;
      return -1;
    }
    if (this.size === this.keys.length) {
      const grow = <A extends Int32Array | Uint8Array | Float64Array>(a: A): A => {
        const b = new (a.constructor as new (n: number) => A)(a.length * 2);
        b.set(a);
        return b;
      };
      this.keys = grow(this.keys);
      this.fam = grow(this.fam);
      this.n = grow(this.n);
    }
    const j = this.size++;
    this.index.set(k, j);
    this.keys[j] = key;
    this.fam[j] = fam;
    this.n[j * T.COUNT + T.FIRST] = t;
    if (fam !== 4) this.text.set(j, text());
    return j;
  }

  get(i: number, c: T): number {
    return this.n[i * T.COUNT + c] as number;
  }

  address(i: number): string {
    if (this.fam[i] === 4) {
      const k = this.keys[i] as number;
      return `${(k >>> 24) & 255}.${(k >>> 16) & 255}.${(k >>> 8) & 255}.${k & 255}`;
    }
    return this.text.get(i) ?? '';
  }
}

/**
 * What addColumns reads of per-record columns: the detection pass's RecordColumns, or any store
 * with the same shape (the edge's live protection keeps a ring of its recent requests so).
 */
export type MeasureColumns = Pick<
  RecordColumns,
  'size' | 'hostHash' | 'ipKey' | 'fam' | 'timeMs' | 'status' | 'flags' | 'ids' | 'repLine' | 'repFile' | 'otherClients' | 'idCount'
>;

/** Is this record in the attack's class (the behaviour the vector is about)? 1: class, 2: sensitive probe (scanner). */
function classOf(kind: Kind, flags: number, status: number): number {
  switch (kind) {
    case Kind.FLOOD:
      return (flags & (Flag.ASSET | Flag.COOKIE)) === 0 ? 1 : 0;
    case Kind.STUFFING:
      return (flags & Flag.LOGIN) !== 0 && status >= 400 && status < 500 ? 1 : 0;
    case Kind.SCANNER:
      return (flags & Flag.SENSITIVE) !== 0 && (status >= 400 || (flags & Flag.REFERER) === 0) ? 2 : status === 404 ? 1 : 0;
    default:
      return status === 408 ? 1 : 0;
  }
}

/** Can every target be measured on columns? (Each is a conjunction of constraints on known fields.) */
export function columnar(targets: readonly MeasureTarget[]): boolean {
  return targets.every((t) => t.parts !== undefined && t.parts.length > 0);
}

/** The targets of one victim host (its /24 counts are shared). */
interface HostGroup {
  hostHash: number;
  per24: Per24;
  targets: number[];
}

export class Measurer {
  readonly tallies: Tally[];
  private readonly preds: Array<Predicate<HttpLogRequest>>;
  private readonly groups: HostGroup[] = [];
  private readonly req = new HttpLogRequest();
  private readonly tr: RequestTraits;
  private readonly slotText = new SlotText();
  /** The view whose client text count() takes for an address that is not IPv4 (add's record). */
  private client: HttpLogView | null = null;
  private otherClients: Map<number, string> | null = null;
  /** The time of the record being counted (count()). */
  private readonly now = new Float64Array(1);
  /**
   * And its client's key, not passed either: an IPv4 address as an int32 is outside V8's small
   * integers half the time, and a call that is not inlined would box it.
   */
  private readonly key = new Int32Array(1);

  constructor(
    private readonly targets: readonly MeasureTarget[],
    isLogin: ((path: string) => boolean) | null,
  ) {
    this.tr = new RequestTraits(isLogin);
    this.tallies = targets.map((t, k) => {
      let g = this.groups.find((x) => x.hostHash === t.hostHash);
      if (g === undefined) {
        g = { hostHash: t.hostHash, per24: new Per24(), targets: [] };
        this.groups.push(g);
      }
      g.targets.push(k);
      return new Tally(g.per24);
    });
    this.preds = targets.map((t) => compile(t.expression, httpScheme, t.lists ? { lists: t.lists } : {}) as Predicate<HttpLogRequest>);
  }

  private group(hostHash: number): HostGroup | null {
    const gs = this.groups;
    for (let j = 0; j < gs.length; j++) if ((gs[j] as HostGroup).hostHash === hostHash) return gs[j] as HostGroup;
    return null;
  }

  add(v: HttpLogView): void {
    const tr = this.tr;
    if (!tr.read(v)) return;
    const g = this.group(tr.hostHash);
    if (g === null) return;
    g.per24.add(tr.fam, tr.ipKey >>> 8);
    this.req.point(v);
    this.client = v;
    const flags = flagsOf(tr);
    for (let j = 0; j < g.targets.length; j++) {
      const k = g.targets[j] as number;
      const m = (this.preds[k] as Predicate<HttpLogRequest>)(this.req);
      this.now[0] = tr.timeMs;
      this.key[0] = tr.ipKey;
      this.count(k, m, tr.fam, tr.status, flags);
    }
  }

  /**
   * The client text of the record being counted (this.key[0]), for Tally.slot. Made once: a
   * closure made in count() over its arguments put them in a context allocated on every call
   * (measured: 175 bytes per record of the measuring pass), whether or not the closure was made.
   */
  private readonly keyText = (): string => this.clientText(this.key[0] as number);

  private clientText(ipKey: number): string {
    if (this.otherClients !== null) return this.otherClients.get(ipKey) ?? '';
    const v = this.client;
    return v !== null && this.slotText.of(v, Slot.CLIENT) ? this.slotText.text() : '';
  }

  /**
   * Every record the detection pass kept in columns: each target's constraints are evaluated
   * once per distinct value of their field, on the first record that had it (`parse` reads that
   * line again with its input's parser into a view), and looked up per record.
   */
  addColumns(cols: MeasureColumns, parse: (line: string, fileIndex: number) => HttpLogView | null): void {
    const truth = this.targets.map((t) =>
      (t.parts ?? []).map((p) => {
        const pred = compile(p.text, httpScheme, t.lists ? { lists: t.lists } : {}) as Predicate<HttpLogRequest>;
        const n = cols.idCount(p.col);
        const ok = new Uint8Array(n);
        const lines = cols.repLine[p.col] as string[];
        const files = cols.repFile[p.col] as number[];
        for (let id = 0; id < n; id++) {
          const v = parse(lines[id] as string, files[id] as number);
          ok[id] = v !== null && pred(this.req.point(v)) ? 1 : 0;
        }
        return { ids: cols.ids[p.col] as Ids, ok };
      }),
    );
    this.otherClients = cols.otherClients;
    // One call per record, not the whole pass in this loop: a loop that runs 2 M times is
    // optimised on the stack (OSR), and each early deoptimisation (a target kind or branch met
    // for the first time) sent it back to the interpreter for a long stretch, boxing every double.
    for (let i = 0; i < cols.size; i++) this.columnRecord(cols, truth, i);
    this.otherClients = null;
  }

  /** Record i of the columns, each of its host's targets matched by the ids' truth tables. */
  private columnRecord(cols: MeasureColumns, truth: ReadonlyArray<ReadonlyArray<{ ids: Ids; ok: Uint8Array }>>, i: number): void {
    const g = this.group(cols.hostHash[i] as number);
    if (g === null) return;
    const key = cols.ipKey[i] as number;
    const f = cols.fam[i] as number;
    g.per24.add(f, key >>> 8);
    this.now[0] = cols.timeMs[i] as number;
    const status = cols.status[i] as number;
    const flags = cols.flags[i] as number;
    for (let j = 0; j < g.targets.length; j++) {
      const k = g.targets[j] as number;
      const conds = truth[k] as ReadonlyArray<{ ids: Ids; ok: Uint8Array }>;
      let m = true;
      for (let c = 0; c < conds.length && m; c++) {
        const cd = conds[c] as { ids: Ids; ok: Uint8Array };
        m = cd.ok[cd.ids[i] as number] === 1;
      }
      this.key[0] = key;
      this.count(k, m, f, status, flags);
    }
  }

  /**
   * One record of target k's host, at time this.now[0], from this.key[0]: its tallies. (The time is not an argument:
   * a double passed to a call that is not inlined is boxed, 16 bytes per record and target.)
   */
  private count(k: number, m: boolean, fam: number, status: number, flags: number): void {
    const t = this.now[0] as number;
    const ipKey = this.key[0] as number;
    const target = this.targets[k] as MeasureTarget;
    const tally = this.tallies[k] as Tally;
    if (m) tally.matched++;
    const inside = t >= target.fromMs && t <= target.toMs;
    const cls = inside ? classOf(target.kind, flags, status) : 0;
    let i = tally.find(ipKey, fam);
    if (i < 0) {
      if (!m && cls === 0) return;
      i = tally.slot(ipKey, fam, t, this.keyText);
      if (i < 0) return;
    }
    const o = i * T.COUNT;
    const n = tally.n;
    if (!inside) {
      n[o + T.OUT_REQUESTS]++;
      if (m) n[o + T.OUT_MATCHED]++;
      return;
    }
    if (n[o + T.REQUESTS]++ === 0) n[o + T.FIRST] = t;
    if (m) n[o + T.MATCHED]++;
    if (cls === 2) n[o + T.SENSITIVE]++;
    else if (cls === 1) n[o + T.CLASS]++;
    n[o + T.LAST] = t;
  }
}
