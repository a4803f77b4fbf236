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
import { Flag, type RecordColumns } from './columns.js';
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

export class Tally {
  readonly index = new Map<number, number>();
  keys = new Int32Array(1024);
  fam = new Uint8Array(1024);
  n = new Float64Array(1024 * T.COUNT);
  readonly text = new Map<number, string>();
  size = 0;
  overflow = 0;
  /** Host requests (whole log), and signature matches (whole log, all sources). */
  hostRequests = 0;
  matched = 0;
  /** Host requests per /24 (IPv4 sources), whole log. */
  readonly per24 = new Map<number, number>();

  slot(key: number, fam: number, t: number, text: () => string): number {
    const k = fam === 4 ? key : -1 - (key >>> 1);
    const i = this.index.get(k);
    if (i !== undefined) return i;
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

function flagsOf(tr: RequestTraits): number {
  return (tr.asset ? Flag.ASSET : 0) | (tr.hasCookie ? Flag.COOKIE : 0) | (tr.login ? Flag.LOGIN : 0) | (tr.sensitive ? Flag.SENSITIVE : 0) | (tr.hasReferer ? Flag.REFERER : 0);
}

/** Can every target be measured on columns? (Each is a conjunction of constraints on known fields.) */
export function columnar(targets: readonly MeasureTarget[]): boolean {
  return targets.every((t) => t.parts !== undefined && t.parts.length > 0);
}

export class Measurer {
  readonly tallies: Tally[];
  private readonly preds: Array<Predicate<HttpLogRequest>>;
  private readonly req = new HttpLogRequest();
  private readonly tr: RequestTraits;
  private readonly slotText = new SlotText();

  constructor(
    private readonly targets: readonly MeasureTarget[],
    isLogin: ((path: string) => boolean) | null,
  ) {
    this.tr = new RequestTraits(isLogin);
    this.tallies = targets.map(() => new Tally());
    this.preds = targets.map((t) => compile(t.expression, httpScheme, t.lists ? { lists: t.lists } : {}) as Predicate<HttpLogRequest>);
  }

  add(v: HttpLogView): void {
    const tr = this.tr;
    if (!tr.read(v)) return;
    let pointed = false;
    const flags = flagsOf(tr);
    this.client = v;
    for (let k = 0; k < this.targets.length; k++) {
      const target = this.targets[k] as MeasureTarget;
      if (tr.hostHash !== target.hostHash) continue;
      if (!pointed) {
        this.req.point(v);
        pointed = true;
      }
      const m = (this.preds[k] as Predicate<HttpLogRequest>)(this.req);
      this.count(k, m, tr.timeMs, tr.ipKey, tr.fam, tr.status, flags);
    }
  }

  /** The view whose client text count() takes for an address that is not IPv4 (add's record). */
  private client: HttpLogView | null = null;
  private otherClients: Map<number, string> | null = null;

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
  addColumns(cols: RecordColumns, parse: (line: string, fileIndex: number) => HttpLogView | null): void {
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
        return { ids: cols.ids[p.col] as Uint8Array | Uint16Array | Int32Array, ok };
      }),
    );
    this.otherClients = cols.otherClients;
    const { hostHash, ipKey, fam, timeMs, status, flags } = cols;
    for (let k = 0; k < this.targets.length; k++) {
      const target = this.targets[k] as MeasureTarget;
      const want = target.hostHash;
      const conds = truth[k] as Array<{ ids: Uint8Array | Uint16Array | Int32Array; ok: Uint8Array }>;
      const nc = conds.length;
      for (let i = 0; i < cols.size; i++) {
        if (hostHash[i] !== want) continue;
        let m = true;
        for (let j = 0; j < nc && m; j++) {
          const c = conds[j] as { ids: Uint8Array | Uint16Array | Int32Array; ok: Uint8Array };
          m = c.ok[c.ids[i] as number] === 1;
        }
        this.count(k, m, timeMs[i] as number, ipKey[i] as number, fam[i] as number, status[i] as number, flags[i] as number);
      }
    }
    this.otherClients = null;
  }

  /** One record of target k's host: its tallies. */
  private count(k: number, m: boolean, t: number, ipKey: number, fam: number, status: number, flags: number): void {
    const target = this.targets[k] as MeasureTarget;
    const tally = this.tallies[k] as Tally;
    tally.hostRequests++;
    if (fam === 4) {
      const p = ipKey >>> 8;
      const n24 = tally.per24.get(p);
      // Beyond the cap a /24 is not counted, so it can never be listed as clean.
      if (n24 !== undefined) tally.per24.set(p, n24 + 1);
      else if (tally.per24.size < MAX_PREFIXES) tally.per24.set(p, 1);
    }
    if (m) tally.matched++;
    const inside = t >= target.fromMs && t <= target.toMs;
    const cls = inside ? classOf(target.kind, flags, status) : 0;
    let i = tally.index.get(fam === 4 ? ipKey : -1 - (ipKey >>> 1)) ?? -1;
    if (i < 0) {
      if (!m && cls === 0) return;
      i = tally.slot(ipKey, fam, t, () => this.clientText(ipKey));
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
