/**
 * L7 detection over HTTP records (an access log, in time order), per site (host), with no
 * configuration. The per-record path reads the reused HttpLogView through RequestTraits (hashes
 * and numbers, no strings), counts into the shared window table (detect/core KeyTable, one slot
 * per host, one traffic class per column below) and the bounded client table, and offers the
 * record to bounded reservoirs. Each window close judges every host:
 *
 * - http_flood: the host's aggregate request rate is above its learnt baseline (detect/core
 *   Baselines) and the surplus comes from clients that behave like scripts: pages without the
 *   static assets a browser fetches, no cookie (a referer is as easy to forge as a user agent, so
 *   it only serves the signature). Per-IP rate plays no part: a bot at one request a second is as
 *   much part of the flood as one at fifty. A flash crowd is a surge of browsers (assets,
 *   cookies) and does not fire; crawlers and monitors are scripts but part of the baseline.
 * - credential_stuffing: failed logins (4xx answers to POSTs on a login endpoint) from addresses
 *   with no browser session (no asset fetched, never logged in), most login attempts failing;
 *   over a minute (busy) or ten minutes with many new failing addresses (slow: 2–4 per address).
 * - scanner: requests for paths a site's visitors never ask for (secrets, VCS metadata, dumps,
 *   other software's admin consoles) answered with an error or sent without referer, and bursts
 *   of 404s from one address; fast (one address) or slow (several addresses over ten minutes).
 * - slowloris: 408s (the server closed a connection whose request never completed) above a floor.
 *
 * Attack lifecycles are detect/core's (onset, open, quiet end). What each attack's requests share
 * is found afterwards (signature.ts) from the samples kept here, and measured over the log.
 */
import type { Vector } from '../../model/attack.js';
import type { HttpLogView } from '../../sources/accesslog/view.js';
import { Slot } from '../../sources/accesslog/view.js';
import { Baselines } from '../core/baseline.js';
import { type AttackState, classKey, Lifecycles } from '../core/lifecycle.js';
import { mix32 } from '../core/sketch/hash.js';
import { KeyTable } from '../core/table.js';
import { C, ClientTable } from './clients.js';
import { Method, RequestTraits, SlotText } from './features.js';
import { type LineRow, lineRow, materialise, Rand, Reservoir, type Row } from './sample.js';

/** Traffic classes of the window table (class 0, the ordinary class, is not used). */
export const enum Cls {
  ALL = 1,
  /** Requests of script-like clients (lagged one window: judged with a window of hindsight). */
  BOT = 2,
  LOGIN_FAIL = 3,
  LOGIN = 4,
  TIMEOUT = 5,
  PROBE = 6,
  COUNT = 7,
}

/** What an attack is, as a lifecycle class. */
export const enum Kind {
  FLOOD = 0,
  STUFFING = 1,
  SCANNER = 2,
  SLOWLORIS = 3,
}
export const KINDS = 4;
export const VECTOR_OF: readonly Vector[] = ['http_flood', 'credential_stuffing', 'scanner', 'slowloris'];

export interface L7Options {
  /** Window length (ms); default 5 s. */
  windowMs?: number;
  /** Is a POST to this path a login attempt? Default: paths ending in /login, /signin, /wp-login.php, /auth, … */
  isLogin?: (path: string) => boolean;
  /** Clients tracked at once (default 262,144); older and quieter ones are evicted, counted. */
  maxClients?: number;
  /** Sites tracked (default 1,024); requests for further hosts are counted under `(other)`. */
  maxHosts?: number;
  /** Sampled requests per host (reference) and per attack. */
  hostSample?: number;
  attackSample?: number;
}

/** Sliding horizons, in windows (with the default 5 s: one minute and ten). */
const SHORT = 12;
const LONG = 120;
/** Per-host ring columns. */
const enum R {
  FAILS = 0,
  LOGINS,
  NEW_FAILERS,
  /** Failed logins from addresses that never logged in and fetched no asset: no browser session behind them. */
  BLIND_FAILS,
  /** Login attempts from such addresses (an app without a session logs in too, and mostly succeeds). */
  BLIND_LOGINS,
  PROBES,
  NEW_PROBERS,
  TIMEOUTS,
  COUNT,
}

export interface L7Track extends AttackState {
  kind: Kind;
  host: HostState;
  /** Requests of the attack's class in its active windows, and its learnt rate per window before. */
  baseline: number;
  sample: Reservoir;
  /** The firing figures at detection, for the evidence. */
  firing: Record<string, number>;
}

/** One site. */
export class HostState {
  /** Requests per window over the last LONG windows, by ring column. */
  readonly ring = new Float64Array(LONG * R.COUNT);
  readonly sums = new Float64Array(R.COUNT * 2);
  /** This window's counts of the ring columns. */
  readonly cur = new Float64Array(R.COUNT);
  /** Time of the first and last class event of the current streak, per kind (NaN: quiet). */
  readonly firstEvt = new Float64Array(KINDS).fill(Number.NaN);
  readonly lastEvt = new Float64Array(KINDS).fill(Number.NaN);
  readonly quietWindows = new Int32Array(KINDS);
  /** Bot-like requests of the previous window (judged at this close). */
  bot = 0;
  windows = 0;
  /** The window whose close last moved the rings on. */
  lastWin = -1;
  requests = 0;
  /** The host's slot in the window table, and the window it was taken in (the table is cleared per window). */
  tableSlot = -1;
  slotWin = -1;
  /** Open attack per kind, or null. */
  readonly open: Array<L7Track | null> = [null, null, null, null];
  /** 408 request times, by whole second (the server's header timeout shows as a peak). */
  readonly timeoutSecs = new Int32Array(301);
  readonly ref: Reservoir;

  constructor(
    readonly id: number,
    readonly name: string,
    size: number,
    rand: Rand,
  ) {
    this.ref = new Reservoir(size, rand);
  }

  sum(col: number, long: boolean): number {
    return this.sums[col * 2 + (long ? 1 : 0)] as number;
  }
}

export class L7Detector {
  readonly windowMs: number;
  readonly traits: RequestTraits;
  readonly clients: ClientTable;
  private readonly table: KeyTable;
  private readonly baselines = new Baselines(Cls.COUNT);
  readonly lifecycles: Lifecycles<L7Track>;
  readonly hosts: HostState[] = [];
  private readonly hostIndex = new Map<number, HostState>();
  private lastHostHash = 0;
  private lastHost: HostState | null = null;
  private readonly maxHosts: number;
  private readonly rand = new Rand(0x1234567);
  private readonly hostSample: number;
  private readonly attackSample: number;
  private readonly slot = new SlotText();
  /** Window bookkeeping: the base (ms), the current window's number and end. */
  base = Number.NaN;
  /** The base in whole seconds: the window table's times count from it (add). */
  private baseSec = 0;
  private win = 0;
  private winEnd = 0;
  /** Clients active in the current and the previous window (slots; remapped when the table is rebuilt). */
  private cur: Int32Array;
  private prev: Int32Array;
  private nCur = 0;
  private nPrev = 0;
  /** Per client: requests and pages in the previous window it was active in (for the lagged judgement). */
  private prevReq: Int32Array;
  private prevPages: Int32Array;
  private hostOf: Int32Array;
  records = 0;
  /** Records without a time or a client (not judged). */
  unplaced = 0;
  firstMs = Number.NaN;
  lastMs = Number.NaN;

  constructor(opts: L7Options = {}) {
    this.windowMs = opts.windowMs ?? 5000;
    this.traits = new RequestTraits(opts.isLogin ?? null);
    this.clients = new ClientTable(opts.maxClients ?? 1 << 18);
    this.maxHosts = opts.maxHosts ?? 1024;
    // KeyTable masks its probes with capacity * 2 - 1: the capacity must be a power of two.
    let slots = 16;
    while (slots < this.maxHosts + 1) slots <<= 1;
    this.table = new KeyTable(slots, Cls.COUNT);
    this.lifecycles = new Lifecycles<L7Track>(2 * 60_000);
    this.hostSample = opts.hostSample ?? 8192;
    this.attackSample = opts.attackSample ?? 2048;
    const cap = this.clients.capacity;
    this.cur = new Int32Array(cap);
    this.prev = new Int32Array(cap);
    this.prevReq = new Int32Array(cap);
    this.prevPages = new Int32Array(cap);
    this.hostOf = new Int32Array(cap);
    this.clients.onMove = (moved) => this.remap(moved);
  }

  /** One record (the reader's reused view); false when it has no time or client (not judged). */
  add(v: HttpLogView): boolean {
    const tr = this.traits;
    if (!tr.read(v)) {
      this.unplaced++;
      return false;
    }
    this.records++;
    const t = tr.timeMs;
    if (Number.isNaN(this.base)) {
      this.base = Math.floor(t / this.windowMs) * this.windowMs;
      this.winEnd = this.base + this.windowMs;
      this.firstMs = t;
      this.baseSec = Math.floor(this.base / 1000);
    }
    // Records a little out of order (merged files, a server logging at completion) stay in the current window.
    while (t >= this.winEnd) this.closeWindow(t);
    if (!(t <= this.lastMs)) this.lastMs = t;
    const host = tr.hostHash === this.lastHostHash && this.lastHost !== null ? this.lastHost : this.hostFor(v);
    host.requests++;
    const table = this.table;
    // The host's slot found once a window: slot4 is not inlined here, and its hash argument (an
    // int32 outside V8's small integers) was boxed per record.
    let ts = host.tableSlot;
    if (host.slotWin !== this.win) {
      ts = host.tableSlot = table.slot4(host.id, mix32(host.id + 1));
      host.slotWin = this.win;
    }
    // Seconds since the first window's start, not epoch seconds (the table's base stays 0): an
    // epoch second is past V8's small integers, boxed when passed to a call that is not inlined.
    const whole = Math.floor(t / 1000);
    const sec = whole - this.baseSec;
    const nsec = (t - whole * 1000) * 1e6;
    if (ts >= 0) table.add(ts, Cls.ALL, 0, sec, nsec, 1, 1);

    const cl = this.clients;
    cl.now[0] = t;
    this.view = v;
    cl.key[0] = tr.ipKey;
    const c = cl.find(tr.fam, tr.fam === 4 ? null : this.viewText);
    this.view = null;
    if (cl.isNew) this.prevReq[c] = this.prevPages[c] = 0;
    cl.last[c] = t;
    const n = cl.n;
    const o = c * C.COUNT;
    n[o + C.REQUESTS]++;
    if (n[o + C.WINDOW] !== this.win) {
      if (n[o + C.WINDOW] === this.win - 1) {
        // Active last window too: keep that window's counts for the lagged judgement.
        this.prevReq[c] = n[o + C.WIN_REQUESTS] as number;
        this.prevPages[c] = n[o + C.WIN_PAGES] as number;
      } else this.prevReq[c] = this.prevPages[c] = 0;
      n[o + C.WINDOW] = this.win;
      n[o + C.WIN_REQUESTS] = 0;
      n[o + C.WIN_PAGES] = 0;
      this.cur[this.nCur++] = c;
    }
    n[o + C.WIN_REQUESTS]++;
    this.hostOf[c] = host.id;
    if (tr.asset) n[o + C.ASSETS]++;
    else {
      n[o + C.PAGES]++;
      n[o + C.WIN_PAGES]++;
    }
    if (tr.hasReferer) n[o + C.REFERERS]++;
    if (tr.hasCookie) n[o + C.COOKIES]++;
    if (n[o + C.UA] !== tr.uaHash) {
      if (n[o + C.REQUESTS] > 1) n[o + C.UA_CHANGES]++;
      n[o + C.UA] = tr.uaHash;
    }
    const status = tr.status;
    if (status === 404) n[o + C.NOT_FOUND]++;
    const cur = host.cur;
    if (tr.login) {
      n[o + C.LOGIN_POSTS]++;
      cur[R.LOGINS]++;
      const sessionless = n[o + C.ASSETS] === 0 && n[o + C.LOGIN_OK] === 0;
      if (sessionless) cur[R.BLIND_LOGINS]++;
      if (ts >= 0) table.add(ts, Cls.LOGIN, 0, sec, nsec, 1, 1);
      if (status >= 400 && status < 500) {
        if (n[o + C.LOGIN_FAILS]++ === 0) cur[R.NEW_FAILERS]++;
        cur[R.FAILS]++;
        if (sessionless) cur[R.BLIND_FAILS]++;
        if (ts >= 0) table.add(ts, Cls.LOGIN_FAIL, 0, sec, nsec, 1, 1);
        // The attack's time is that of the sessionless failures (a user mistyping does not start it).
        if (sessionless) this.event(host, Kind.STUFFING);
      } else if (status >= 200 && status < 400) n[o + C.LOGIN_OK]++;
    }
    // A probe: a sensitive path refused or asked without referer, or a 404 from an address whose answers are mostly 404s.
    let probe = false;
    if (tr.sensitive && (status >= 400 || !tr.hasReferer)) {
      probe = true;
      if (n[o + C.SENSITIVE]++ === 0 && (n[o + C.NOT_FOUND] as number) < 10) cur[R.NEW_PROBERS]++;
    } else if (status === 404) {
      const nf = n[o + C.NOT_FOUND] as number;
      if (nf >= 10 && nf * 2 >= (n[o + C.REQUESTS] as number)) {
        probe = true;
        if (nf === 10 && n[o + C.SENSITIVE] === 0) cur[R.NEW_PROBERS]++;
      }
    }
    if (probe) {
      cur[R.PROBES]++;
      if (ts >= 0) table.add(ts, Cls.PROBE, 0, sec, nsec, 1, 1);
      this.event(host, Kind.SCANNER);
    }
    if (status === 408) {
      n[o + C.TIMEOUTS]++;
      cur[R.TIMEOUTS]++;
      if (ts >= 0) table.add(ts, Cls.TIMEOUT, 0, sec, nsec, 1, 1);
      this.event(host, Kind.SLOWLORIS);
      if (tr.durationMs >= 0) host.timeoutSecs[Math.min(300, Math.round(tr.durationMs / 1000))]++;
    }

    // Samples: the host's reference, and the class requests of its open attacks.
    const at = host.ref.wants();
    let row: Row | null = null;
    let lr: LineRow | null = null;
    const lines = this.sampleLines;
    if (at >= 0) {
      if (lines) host.ref.putLine(at, (lr = lineRow(v, tr.ipKey, tr.fam)));
      else host.ref.put(at, (row = materialise(v, tr.ipKey, tr.fam)));
    }
    for (let k = 0; k < KINDS; k++) {
      const a = host.open[k];
      if (a === null || a === undefined) continue;
      if (!this.inClass(k, probe, tr.login && status >= 400 && status < 500, status === 408, tr.asset, n, o)) continue;
      const j = a.sample.wants();
      if (j < 0) continue;
      if (lines) a.sample.putLine(j, lr ?? (lr = lineRow(v, tr.ipKey, tr.fam)));
      else a.sample.put(j, row ?? (row = materialise(v, tr.ipKey, tr.fam)));
    }
    return true;
  }

  /**
   * Keep sampled requests as their lines until resolveRows (a reading of lines that can be
   * parsed again, analyze-log.ts): much less garbage than a row of strings per sampled request.
   */
  sampleLines = false;

  /** Make rows of the lines kept (sampleLines), reading them again with `parse`; after finish(). */
  resolveRows(tracks: readonly L7Track[], parse: (line: string, fileIndex: number) => HttpLogView | null): void {
    const made = new Map<LineRow, Row | null>();
    for (const h of this.hosts) h.ref.resolve(parse, made);
    for (const t of tracks) t.sample.resolve(parse, made);
  }

  private inClass(k: Kind, probe: boolean, fail: boolean, timeout: boolean, asset: boolean, n: Int32Array, o: number): boolean {
    switch (k) {
      case Kind.FLOOD:
        return !asset && n[o + C.ASSETS] === 0 && n[o + C.COOKIES] === 0 && !otherVector(n, o);
      case Kind.STUFFING:
        return fail;
      case Kind.SCANNER:
        return probe;
      default:
        return timeout;
    }
  }

  /** A class event of a kind on a host: the streak's first and last times. */
  private event(h: HostState, k: Kind): void {
    // The record's time from the traits, not an argument: a double passed to a call that is not
    // inlined is boxed, and V8 boxed add()'s time for these calls on every record, not only on events.
    const t = this.traits.timeMs;
    if (Number.isNaN(h.firstEvt[k] as number)) h.firstEvt[k] = t;
    h.lastEvt[k] = t;
    h.quietWindows[k] = 0;
  }

  /** The record add() is reading, for viewText. */
  private view: HttpLogView | null = null;
  /**
   * The client text of add()'s record, for ClientTable.find. Made once: a closure made in add()
   * over its `v` put v in a context allocated on every call, whether or not the closure was made
   * (measured: 72 bytes per record).
   */
  private readonly viewText = (): string => {
    const v = this.view;
    return v !== null && this.slot.of(v, Slot.CLIENT) ? this.slot.text() : '';
  };

  /**
   * The host of the record the traits have read (not the last host: add() tried that). The hash is
   * not an argument: an int32 outside V8's small integers passed to a call that is not inlined is
   * boxed. A log is mostly one site, and a Map lookup by such a hash boxes it too: add() tries the
   * last host first.
   */
  private hostFor(v: HttpLogView): HostState {
    const hash = this.traits.hostHash;
    const h = this.hostIndex.get(hash);
    if (h !== undefined) {
      this.lastHostHash = hash;
      this.lastHost = h;
      return h;
    }
    if (this.hosts.length >= this.maxHosts) {
      const other = this.hostIndex.get(0);
      if (other) return other;
      const o = new HostState(this.hosts.length, '(other)', this.hostSample, this.rand);
      this.hosts.push(o);
      this.hostIndex.set(0, o);
      return o;
    }
    const name = this.slot.of(v, Slot.HOST) ? this.slot.text().toLowerCase() : '';
    const s = new HostState(this.hosts.length, name, this.hostSample, this.rand);
    this.hosts.push(s);
    this.hostIndex.set(hash, s);
    return s;
  }

  private remap(moved: Int32Array): void {
    const fix = (list: Int32Array, n: number): number => {
      let k = 0;
      for (let i = 0; i < n; i++) {
        const j = moved[list[i] as number] as number;
        if (j >= 0) list[k++] = j;
      }
      return k;
    };
    // Per-client side arrays follow their client (into arrays of the table's new size when it grew).
    const req = this.prevReq;
    const pages = this.prevPages;
    const hostOf = this.hostOf;
    const cap = this.clients.capacity;
    this.prevReq = new Int32Array(cap);
    this.prevPages = new Int32Array(cap);
    this.hostOf = new Int32Array(cap);
    if (this.cur.length !== cap) {
      const cur = new Int32Array(cap);
      cur.set(this.cur.subarray(0, this.nCur));
      this.cur = cur;
      const prev = new Int32Array(cap);
      prev.set(this.prev.subarray(0, this.nPrev));
      this.prev = prev;
    }
    for (let i = 0; i < moved.length; i++) {
      const j = moved[i] as number;
      if (j < 0) continue;
      this.prevReq[j] = req[i] as number;
      this.prevPages[j] = pages[i] as number;
      this.hostOf[j] = hostOf[i] as number;
    }
    this.nCur = fix(this.cur, this.nCur);
    this.nPrev = fix(this.prev, this.nPrev);
  }

  /**
   * A live stream's clock moved to `t` (ms): close the windows that ended by then even though no
   * record came (quiet windows end attacks, and a live detector is asked between requests). A
   * log's reading never calls it: its records' own times close its windows.
   */
  advance(t: number): void {
    if (Number.isNaN(this.base)) return;
    while (t >= this.winEnd) this.closeWindow(t);
  }

  /** Close the current window (the next record is at time `t`, or the input ended). */
  private closeWindow(t: number): void {
    const endT = this.winEnd;
    this.judgeBots();
    const table = this.table;
    for (let u = 0; u < table.nUsed; u++) {
      const i = table.used[u] as number;
      const h = this.hosts[table.v4[i] as number] as HostState;
      this.judgeHost(h, i, endT);
    }
    // Hosts with no request this window still move their rings on (quiet windows end attacks).
    for (const h of this.hosts) if (h.lastWin !== this.win) this.advanceRing(h);
    this.lifecycles.endQuiet(endT);
    for (const h of this.hosts) for (let k = 0; k < KINDS; k++) if (h.open[k] !== null && this.lifecycles.openAttack(classKey(h.id, k)) === undefined) h.open[k] = null;
    this.lifecycles.nextWindow();
    table.clear();
    const swap = this.prev;
    this.prev = this.cur;
    this.cur = swap;
    this.nPrev = this.nCur;
    this.nCur = 0;
    this.win++;
    this.winEnd += this.windowMs;
    // A long gap: jump over the empty windows (their rings are zeros: advanced once each, at most LONG).
    if (t - this.winEnd > this.windowMs * LONG) {
      for (const h of this.hosts) for (let k = 0; k < LONG; k++) this.advanceRing(h);
      const skip = Math.floor((t - this.winEnd) / this.windowMs);
      this.win += skip + 1;
      this.winEnd += skip * this.windowMs;
      this.nPrev = 0;
    }
  }

  /** The previous window's clients, judged with this window's hindsight: did they fetch assets, send referers or cookies? */
  private judgeBots(): void {
    const n = this.clients.n;
    for (let u = 0; u < this.nPrev; u++) {
      const c = this.prev[u] as number;
      const o = c * C.COUNT;
      const inPrev = n[o + C.WINDOW] === this.win - 1;
      const pages = inPrev ? (n[o + C.WIN_PAGES] as number) : (this.prevPages[c] as number);
      if (pages === 0) continue;
      // A browser fetches the assets of the pages it shows and carries the site's cookies; a referer
      // is not asked for (a bot sets one as easily as a user agent).
      if (n[o + C.ASSETS] !== 0 || n[o + C.COOKIES] !== 0) continue;
      // Requests another vector explains (failed logins, probes, 408s) are that vector's, not a flood's.
      if (otherVector(n, o)) continue;
      const req = inPrev ? (n[o + C.WIN_REQUESTS] as number) : (this.prevReq[c] as number);
      const h = this.hosts[this.hostOf[c] as number] as HostState;
      h.bot += req;
    }
  }

  private advanceRing(h: HostState): void {
    h.lastWin = this.win;
    const w = h.windows++ % LONG;
    const ring = h.ring;
    for (let col = 0; col < R.COUNT; col++) {
      const add = h.cur[col] as number;
      const oldShort = h.windows > SHORT ? (ring[((h.windows - 1 - SHORT + LONG) % LONG) * R.COUNT + col] as number) : 0;
      const oldLong = h.windows > LONG ? (ring[w * R.COUNT + col] as number) : 0;
      ring[w * R.COUNT + col] = add;
      h.sums[col * 2] = (h.sums[col * 2] as number) + add - oldShort;
      h.sums[col * 2 + 1] = (h.sums[col * 2 + 1] as number) + add - oldLong;
      h.cur[col] = 0;
    }
    for (let k = 0; k < KINDS; k++) {
      // A streak ends after two quiet minutes (ten for scanners, whose slow kind probes minutes apart).
      if (++h.quietWindows[k] > (k === Kind.SCANNER ? LONG : 2 * SHORT)) {
        h.firstEvt[k] = Number.NaN;
        h.lastEvt[k] = Number.NaN;
      }
    }
  }

  private judgeHost(h: HostState, i: number, endT: number): void {
    const table = this.table;
    const sec = Math.floor(endT / 1000) - 1 - this.baseSec;
    if (h.bot > 0) table.add(i, Cls.BOT, 0, sec, 0, h.bot, 1);
    const bot = h.bot;
    h.bot = 0;
    this.advanceRing(h);
    const bl = this.baselines;
    const warm = bl.isWarm(h.id);
    const all = table.packets(i, Cls.ALL);
    const baseAll = bl.rate(h.id, Cls.ALL);
    const baseBot = bl.rate(h.id, Cls.BOT);

    // http_flood: the aggregate above its baseline, and the surplus from script-like clients.
    const surplus = all - baseAll;
    const botSurplus = bot - baseBot;
    const floodFires = warm && all > 1.3 * baseAll + 5 * (this.windowMs / 1000) && botSurplus >= Math.max(5 * (this.windowMs / 1000), 0.3 * surplus, baseBot);
    this.step(h, Kind.FLOOD, floodFires, floodFires ? bot : 0, endT, baseBot, { requests: all, baseline: baseAll, script_like: bot, script_like_baseline: baseBot });

    // credential_stuffing: failed logins with no browser session behind them (no asset fetched,
    // never logged in), most such attempts failing; over a minute (busy) or ten minutes from many
    // new addresses (slow: 2–4 attempts each). Not judged against a learnt failure rate (a slow
    // attack would be learnt as the norm within minutes) nor against all logins (a crowd of real
    // users signing in would drown it).
    const fails = h.sum(R.FAILS, false);
    const logins = h.sum(R.LOGINS, false);
    const failsL = h.sum(R.FAILS, true);
    const blind = h.sum(R.BLIND_FAILS, false);
    const blindL = h.sum(R.BLIND_FAILS, true);
    const baseFail = bl.rate(h.id, Cls.LOGIN_FAIL);
    const busy = blind >= 10 && blind >= 0.5 * h.sum(R.BLIND_LOGINS, false);
    const slow = blindL >= 20 && h.sum(R.NEW_FAILERS, true) >= 10 && blindL >= 0.6 * h.sum(R.BLIND_LOGINS, true);
    const stuffFires = busy || slow;
    this.step(h, Kind.STUFFING, stuffFires, table.packets(i, Cls.LOGIN_FAIL), endT, baseFail, {
      failed_logins_1m: fails,
      failed_logins_without_session_1m: blind,
      failed_logins_without_session_10m: blindL,
      logins_1m: logins,
      failed_logins_10m: failsL,
      logins_10m: h.sum(R.LOGINS, true),
      new_failing_sources_10m: h.sum(R.NEW_FAILERS, true),
    });

    // scanner: probes from one address (fast) or a few probes from several new addresses (slow).
    const probes = h.sum(R.PROBES, false);
    const probesL = h.sum(R.PROBES, true);
    const probers = h.sum(R.NEW_PROBERS, true);
    const scanFires = probes >= 10 || (probers >= 3 && probesL >= 6);
    this.step(h, Kind.SCANNER, scanFires, table.packets(i, Cls.PROBE), endT, 0, { probes_1m: probes, probes_10m: probesL, new_probing_sources_10m: probers });

    // slowloris: connections closed by the server's header timeout.
    const timeouts = h.sum(R.TIMEOUTS, false);
    const baseTo = bl.rate(h.id, Cls.TIMEOUT);
    const slowFires = timeouts >= 20 && (!warm || timeouts / SHORT > 3 * baseTo + 0.4);
    this.step(h, Kind.SLOWLORIS, slowFires, table.packets(i, Cls.TIMEOUT), endT, baseTo, { timeouts_1m: timeouts });

    // Learn the baselines from the classes no attack holds.
    let mask = 0;
    if (h.open[Kind.FLOOD] !== null) mask |= (1 << Cls.ALL) | (1 << Cls.BOT);
    if (h.open[Kind.STUFFING] !== null) mask |= (1 << Cls.LOGIN_FAIL) | (1 << Cls.LOGIN);
    if (h.open[Kind.SCANNER] !== null) mask |= 1 << Cls.PROBE;
    if (h.open[Kind.SLOWLORIS] !== null) mask |= 1 << Cls.TIMEOUT;
    // A window that surged without firing (a flash crowd, an attack ramping up) teaches nothing
    // either: a baseline learnt from an attack's first minutes would hide the rest of it.
    if (warm && all > 1.3 * baseAll + 25) mask |= (1 << Cls.ALL) | (1 << Cls.BOT);
    for (const c of [Cls.LOGIN_FAIL, Cls.LOGIN, Cls.TIMEOUT, Cls.PROBE]) if (table.packets(i, c) > 3 * bl.rate(h.id, c) + 2) mask |= 1 << c;
    bl.learn(h.id, table, i, mask);
  }

  /** Lifecycle step of one kind on one host at a window close. */
  private step(h: HostState, k: Kind, fires: boolean, count: number, endT: number, baseline: number, firing: Record<string, number>): void {
    const lc = this.lifecycles;
    const key = classKey(h.id, k);
    const open = lc.openAttack(key);
    // A flood is judged per window (its script-like count lags one window): it spans the windows that fired.
    const last = k === Kind.FLOOD ? endT : (h.lastEvt[k] as number);
    if (!fires) return;
    if (open !== undefined) {
      lc.activeWindow(open, count, 0, Number.isNaN(last) ? endT : last, endT, this.win);
      return;
    }
    const first = k === Kind.FLOOD ? endT - 2 * this.windowMs : (h.firstEvt[k] as number);
    const tr: L7Track = {
      id: lc.takeId(),
      victimKey: h.id,
      cls: k,
      start: Number.isNaN(first) ? endT - this.windowMs : first,
      detected: endT,
      end: endT,
      lastActive: endT,
      peakPps: 0,
      peakBps: 0,
      windowPackets: 0,
      windowBytes: 0,
      windows: 0,
      activeWins: new Set(),
      kind: k,
      host: h,
      baseline,
      sample: new Reservoir(this.attackSample, this.rand),
      firing,
    };
    lc.begin(key, tr);
    h.open[k] = tr;
    lc.activeWindow(tr, count, 0, Number.isNaN(last) ? endT : last, endT, this.win);
  }

  /** End of input: close the last window; every attack ends. */
  finish(): L7Track[] {
    if (!Number.isNaN(this.base)) {
      this.closeWindow(this.winEnd);
      // One more close judges the last window's clients (the lagged script-like count).
      this.closeWindow(this.winEnd);
    }
    return this.lifecycles.finish().sort((a, b) => a.id - b.id);
  }
}

/** Has the client done what another vector is about: failed logins, probes, 408s? */
export function otherVector(n: Int32Array, o: number): boolean {
  const nf = n[o + C.NOT_FOUND] as number;
  return n[o + C.LOGIN_FAILS] !== 0 || n[o + C.SENSITIVE] !== 0 || n[o + C.TIMEOUTS] !== 0 || (nf >= 10 && nf * 2 >= (n[o + C.REQUESTS] as number));
}

export { Method };
