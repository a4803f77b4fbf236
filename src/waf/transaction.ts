/**
 * One request's evaluation state: the variable collections ModSecurity exposes, the rule
 * loop for a phase (chains, skipAfter, ctl, setvar, capture, disruptive actions) and the
 * per-(value, transformation chain) cache that lets the many CRS rules sharing a `t:` chain
 * transform each argument once.
 */
import { type EngineSettings, type Macro, parseMacro, type Rule, type SetVar, type Target } from './rules.js';

/** operator parameters with macros, split once (they come from the rules, so the set is bounded) */
const macroCache = new Map<string, Macro>();

import { multipartStrictError, type Pair, parseCookies, parseJson, parseMultipart, parseUrlEncoded, parseXml } from './bodies.js';
import { gramsMiss, gramsOf } from './factors.js';
import type { OpContext, Operator } from './operators.js';
import { classMask, KNOWN } from './prefilter.js';

const NO_EST = new Int32Array(0);

/** One value of a variable. */
export class Entry {
  /** the transaction (`Transaction.gen`) that last looked up this value's row in the `ValueCache` */
  gen = 0;
  /** offset of that row */
  row = 0;
  /** offset of its verdicts */
  vrow = 0;
  /** per chain id, the classes the value can have after it (`Transaction.estOf`; it depends on
   * the value alone, so it stays valid) */
  est: Int32Array = NO_EST;
  /** the cache, and its epoch, that gave the row */
  cache: ValueCache | null = null;
  epoch = 0;
  readonly lname: string;
  constructor(
    readonly coll: string,
    readonly name: string,
    readonly value: string,
    lname?: string,
  ) {
    this.lname = lname ?? name.toLowerCase();
  }
  get key(): string {
    return this.name === '' ? this.coll : `${this.coll}:${this.name}`;
  }
}

/** Bounds of the value cache: distinct values, and characters of those values. */
const CACHE_ROWS = 4096;
const CACHE_CHARS = 4 << 20;

/**
 * What the engine has worked out about each distinct value it has seen, kept across requests:
 * a row per value with a column per transformation chain id (the transformed value, its
 * character classes, the bound on those classes, its pair filter), then a column per
 * transformation function for that function applied to the untransformed value, and a verdict
 * per rule: 1 when the rule's operator is known not to match the value (after the rule's
 * transformations).
 *
 * All of it depends on the value alone (transformations are pure, and verdicts are kept only
 * for operators whose outcome depends on nothing else: `Operator.pure`). Header values, cookie
 * and argument names, paths and many argument values repeat from request to request, so most
 * of a benign request's work is done once. The cache is bounded in rows and characters and
 * emptied when it outgrows them (between transactions: rows are never taken from one in
 * progress). Transactions use it in turn; one that finds it busy gets a cache of its own.
 */
export class ValueCache {
  vals: (string | undefined)[] = [];
  /** classes of the cell's (transformed) value | KNOWN (0 = not computed yet); a raw value's
   * are on its entry (`Entry.est[0]`) */
  mask = new Int32Array(0);
  /** pair filter of the cell's value (two ints per cell), valid where `gramsKnown` is 1 */
  grams = new Int32Array(0);
  gramsKnown = new Uint8Array(0);
  /** row index * `ruleCount` + `Rule.vid`: 1 when that rule's operator does not match the value */
  verdicts = new Uint8Array(0);
  /** by `Rule.pair`: classes any value of those targets can have after that chain | KNOWN (per
   * transaction) */
  readonly unions: Int32Array;
  private readonly rowOf = new Map<string, number>();
  /** counts the times the cache was emptied (rows handed out before are void) */
  epoch = 0;
  private rows = 0;
  private chars = 0;
  busy = false;
  /** chain id -> column of its last function applied to the untransformed value */
  readonly rawColumn: Int32Array;
  readonly width: number;

  /** raw classes -> per chain id, the classes the value can have after that chain | KNOWN */
  private readonly estTables = new Map<number, Int32Array>();

  constructor(
    chainFn: (((s: string) => string) | null)[],
    private readonly chainParent: number[],
    private readonly chainMask: ((m: number) => number)[],
    pairs: number,
    readonly ruleCount: number,
  ) {
    this.unions = new Int32Array(pairs + 1);
    this.rawColumn = new Int32Array(chainFn.length);
    const cols = new Map<(s: string) => string, number>();
    for (let id = 1; id < chainFn.length; id++) {
      const f = chainFn[id];
      if (f === null) continue;
      let col = cols.get(f);
      if (col === undefined) {
        col = chainFn.length + cols.size;
        cols.set(f, col);
      }
      this.rawColumn[id] = col;
    }
    this.width = chainFn.length + cols.size;
  }

  /** Gives `e` the row of its value (a new one for a value not seen yet). */
  place(e: Entry, gen: number): void {
    e.gen = gen;
    // an entry kept between transactions (the initial TX) still knows its row
    if (e.cache === this && e.epoch === this.epoch) return;
    e.cache = this;
    e.epoch = this.epoch;
    let at = this.rowOf.get(e.value);
    if (at === undefined) {
      at = this.row();
      this.rowOf.set(e.value, at);
      this.chars += e.value.length;
    }
    e.row = at;
    e.vrow = (at / this.width) * this.ruleCount;
  }

  /** The bounds after each chain for a value with `raw` classes (they depend on nothing else,
   * and values share few distinct class sets). */
  estTable(raw: number): Int32Array {
    const known = this.estTables.get(raw);
    if (known !== undefined) return known;
    const table = new Int32Array(this.chainParent.length);
    table[0] = raw;
    const fill = (id: number): number => {
      if (table[id] !== 0) return table[id];
      const p = this.chainParent[id];
      table[id] = this.chainMask[id](p === 0 ? raw : fill(p)) | KNOWN;
      return table[id];
    };
    for (let id = 1; id < table.length; id++) fill(id);
    if (this.estTables.size >= 4096) this.estTables.clear();
    this.estTables.set(raw, table);
    return table;
  }

  /** offset of a fresh row */
  private row(): number {
    const at = this.rows * this.width;
    this.rows++;
    const need = at + this.width;
    if (need > this.vals.length) {
      const cap = Math.max(need, this.vals.length * 2);
      for (let i = this.vals.length; i < cap; i++) this.vals.push(undefined);
      this.mask = grow(this.mask, cap);
      this.grams = grow(this.grams, cap * 2);
      this.gramsKnown = grow(this.gramsKnown, cap);
      this.verdicts = grow(this.verdicts, (cap / this.width) * this.ruleCount);
    }
    return at;
  }

  /** Does the pair filter of `v`, the value of `cell`, rule out every factor in `g`? */
  gramsMissAt(cell: number, v: string, g: Int32Array): boolean {
    if (this.gramsKnown[cell] === 0) {
      gramsOf(v, this.grams, cell * 2);
      this.gramsKnown[cell] = 1;
    }
    return gramsMiss(g, this.grams[cell * 2], this.grams[cell * 2 + 1]);
  }

  /** Start of a transaction: per-transaction state cleared, everything forgotten when the cache
   * has outgrown its bounds (the arrays are kept for the next values unless one transaction made
   * them much larger). */
  begin(): void {
    this.unions.fill(0);
    if (this.rows < CACHE_ROWS && this.chars < CACHE_CHARS) return;
    this.rowOf.clear();
    this.epoch++;
    if (this.rows > CACHE_ROWS * 2) {
      this.vals = [];
      this.mask = new Int32Array(0);
      this.grams = new Int32Array(0);
      this.gramsKnown = new Uint8Array(0);
      this.verdicts = new Uint8Array(0);
    } else {
      const cells = this.rows * this.width;
      this.vals.fill(undefined, 0, cells);
      this.mask.fill(0, 0, cells);
      this.gramsKnown.fill(0, 0, cells);
      this.verdicts.fill(0, 0, this.rows * this.ruleCount);
    }
    this.rows = 0;
    this.chars = 0;
  }
}

function grow<T extends Int32Array | Uint8Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

/** numbers transactions: an entry is placed in the value cache once per transaction */
let generation = 0;

export interface WafRequest {
  method: string;
  /** request target as sent, e.g. `/a/b.php?x=1` */
  uri: string;
  /** e.g. `HTTP/1.1` */
  protocol: string;
  /** header lines in order, names as sent; values as latin1 byte strings */
  headers: [string, string][];
  body?: Buffer | string | null;
  remoteAddr?: string;
  remotePort?: number;
  serverPort?: number;
  /** the raw request line, when the caller has it */
  requestLine?: string;
}

export interface WafResponse {
  status: number;
  protocol?: string;
  headers: [string, string][];
  body?: Buffer | string | null;
}

export interface MatchedRule {
  id: number;
  msg: string;
  data: string;
  severity: string | null;
}

export interface PhaseLists {
  /** rules per phase 1..5 (index 0 unused), markers included */
  phases: Rule[][];
  settings: EngineSettings;
  chainParent: number[];
  chainFn: (((s: string) => string) | null)[];
  /** per chain id: the classes its last function's output can have, given its input's */
  chainMask: ((m: number) => number)[];
  /** how many `Rule.pair` ids there are */
  pairs: number;
  /** how many `Rule.vid` ids there are */
  ruleCount: number;
  /** the transformation cache transactions take turns to use (set up by `precomputePhase1`) */
  valueCache?: ValueCache | null;
  /** TX after the request-independent phase-1 rules, computed once by `precomputePhase1` */
  txInit?: Map<string, Entry> | null;
  /** a copy of `txInit` that one transaction at a time uses in place and puts back */
  txShared?: SharedTx | null;
  /** per phase, per list index: 1 when the rule's effect is already in `txInit` or its outcome is
   * the same for every request and changes nothing (or it can never run) */
  skips?: (Uint8Array | null)[];
}

/**
 * A rule decided once at start-up matched and skips ahead (skipAfter, or skip:N counting rules,
 * not markers): mark what it jumps over as skipped too. Returns the index to continue after.
 */
function skipOver(list: Rule[], skip: Uint8Array, i: number, r: Rule): number {
  if (r.skipIndex >= 0) {
    for (let k = i + 1; k <= r.skipIndex; k++) skip[k] = 1;
    return r.skipIndex;
  }
  let k = r.skip;
  while (k > 0 && i + 1 < list.length) {
    i++;
    skip[i] = 1;
    if ((list[i] as Rule).marker === null) k--;
  }
  return i;
}

const MULTI = new Set([
  'ARGS',
  'ARGS_GET',
  'ARGS_POST',
  'ARGS_NAMES',
  'ARGS_GET_NAMES',
  'ARGS_POST_NAMES',
  'REQUEST_HEADERS',
  'REQUEST_HEADERS_NAMES',
  'REQUEST_COOKIES',
  'REQUEST_COOKIES_NAMES',
  'FILES',
  'FILES_NAMES',
  'FILES_SIZES',
  'FILES_TMPNAMES',
  'MULTIPART_PART_HEADERS',
  'RESPONSE_HEADERS',
  'RESPONSE_HEADERS_NAMES',
]);

const STORE_COLLS = new Set(['TX', 'IP', 'SESSION', 'GLOBAL', 'RESOURCE', 'USER', 'ENV', 'GEO']);

function latin1(b: Buffer | string | null | undefined): string {
  if (b == null) return '';
  return typeof b === 'string' ? b : b.toString('latin1');
}

let uniqueCounter = 0;

const CAP_KEYS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

export class Transaction implements OpContext {
  caps: (string | undefined)[] = new Array(10).fill(undefined);
  readonly matched: MatchedRule[] = [];
  interrupted = false;
  status = 200;
  engineOff = false;
  detectOnly: boolean;
  allowAll = false;
  allowRequest = false;
  bodyProcessor: string | null = null;
  /** when set, milliseconds spent in each rule (by id) are added here */
  timings: Map<number, number> | null = null;
  forceBodyVar = false;

  private readonly colls = new Map<string, Entry[]>();
  private readonly scalars = new Map<string, Entry>();
  private readonly stores = new Map<string, Map<string, Entry>>();
  private removedIds: ((id: number) => boolean)[] = [];
  private removedTags: RegExp[] = [];
  private removedTargets: { id?: (id: number) => boolean; tag?: RegExp; coll: string; name: string | null }[] = [];
  private targetCache: (Entry[] | undefined)[] = [];
  /** values of one collection selection after exclusions, by `Rule.cids` id */
  private compCache: (Entry[] | undefined)[] = [];
  private matchedVar: Entry | null = null;
  private readonly chainParent: number[];
  private readonly chainFn: (((s: string) => string) | null)[];
  private readonly chainMask: ((m: number) => number)[];
  /** the TX collection (also in `stores`), for the many look-ups of TX variables */
  private txMap: Map<string, Entry> = new Map();
  /** the waf's shared initial TX while this transaction uses it */
  private shared: SharedTx | null = null;
  private matchedVars: Entry[] = [];
  private currentRule: Rule | null = null;
  private readonly gen = ++generation;
  private readonly vc: ValueCache;

  constructor(
    private readonly lists: PhaseLists,
    readonly req: WafRequest,
    private readonly resp: WafResponse | null,
    presets: [string, string][],
  ) {
    this.chainParent = lists.chainParent;
    this.chainFn = lists.chainFn;
    this.chainMask = lists.chainMask;
    const vc = lists.valueCache;
    if (vc && !vc.busy) {
      vc.busy = true;
      vc.begin();
      this.vc = vc;
    } else this.vc = new ValueCache(lists.chainFn, lists.chainParent, lists.chainMask, lists.pairs, lists.ruleCount);
    this.detectOnly = lists.settings.ruleEngine === 'detectiononly';
    if (lists.settings.ruleEngine === 'off') this.engineOff = true;
    const init = lists.txInit;
    let tx: Map<string, Entry>;
    if (init && lists.txShared && !lists.txShared.busy) {
      // the shared copy of the initial TX, put back by `release` (no per-request copy)
      lists.txShared.busy = true;
      this.shared = lists.txShared;
      tx = lists.txShared.map;
    } else tx = init ? new Map(init) : new Map<string, Entry>();
    this.stores.set('TX', tx);
    this.txMap = tx;
    for (const [k, v] of presets) {
      if (this.shared !== null) this.undo(k.toLowerCase());
      tx.set(k.toLowerCase(), new Entry('TX', k, v));
    }
    this.buildRequestVars();
  }

  // ------------------------------------------------------------------ variables

  /** Before TX variable `key` of the shared initial TX changes: remember what to put back. */
  private undo(key: string): void {
    const sh = this.shared as SharedTx;
    // repeats are harmless: `release` puts entries back newest first, so the oldest wins
    sh.undoKeys.push(key);
    sh.undoPrev.push(sh.map.get(key));
  }

  /** Ends the transaction: puts the shared initial TX back as it was. */
  release(): void {
    if (this.vc === this.lists.valueCache && this.vc.busy) this.vc.busy = false;
    const sh = this.shared;
    if (sh === null) return;
    this.shared = null;
    const m = sh.map;
    if (sh.reordered) {
      // a variable of the initial TX was deleted: rebuild (iteration order matters)
      m.clear();
      for (const [k, e] of sh.init) m.set(k, e);
      sh.reordered = false;
    } else {
      for (let i = sh.undoKeys.length - 1; i >= 0; i--) {
        const prev = sh.undoPrev[i];
        if (prev === undefined) m.delete(sh.undoKeys[i]);
        else m.set(sh.undoKeys[i], prev);
      }
    }
    sh.undoKeys.length = 0;
    sh.undoPrev.length = 0;
    sh.busy = false;
  }

  private store(coll: string): Map<string, Entry> {
    let m = this.stores.get(coll);
    if (!m) {
      m = new Map();
      this.stores.set(coll, m);
    }
    return m;
  }

  private setColl(name: string, pairs: Pair[]): void {
    const entries = this.coll(name);
    const namesColl = `${name}_NAMES`;
    const names = MULTI.has(namesColl) ? this.coll(namesColl) : null;
    for (const [k, v] of pairs) {
      const lk = k.toLowerCase();
      entries.push(new Entry(name, k, v, lk));
      names?.push(new Entry(namesColl, k, k, lk));
    }
  }

  private coll(name: string): Entry[] {
    let c = this.colls.get(name);
    if (!c) {
      c = [];
      this.colls.set(name, c);
    }
    return c;
  }

  setScalar(name: string, value: string): void {
    this.scalars.set(name, new Entry(name, '', value));
  }

  private buildRequestVars(): void {
    const r = this.req;
    const uri = r.uri;
    const q = uri.indexOf('?');
    const path = q < 0 ? uri : uri.slice(0, q);
    const query = q < 0 ? '' : uri.slice(q + 1);
    let filename = path;
    const abs = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/]*/.exec(filename);
    if (abs) filename = filename.slice(abs[0].length) || '/';
    const slash = Math.max(filename.lastIndexOf('/'), filename.lastIndexOf('\\'));
    this.setScalar('REQUEST_METHOD', r.method);
    this.setScalar('REQUEST_PROTOCOL', r.protocol);
    this.setScalar('REQUEST_URI', abs ? uri.slice(abs[0].length) : uri);
    this.setScalar('REQUEST_URI_RAW', uri);
    this.setScalar('REQUEST_FILENAME', filename);
    this.setScalar('REQUEST_BASENAME', filename.slice(slash + 1));
    this.setScalar('QUERY_STRING', query);
    this.setScalar('REQUEST_LINE', r.requestLine ?? `${r.method} ${uri}${r.protocol ? ` ${r.protocol}` : ''}`);
    this.setScalar('REMOTE_ADDR', r.remoteAddr ?? '127.0.0.1');
    this.setScalar('REMOTE_PORT', String(r.remotePort ?? 0));
    this.setScalar('SERVER_PORT', String(r.serverPort ?? 80));
    this.setScalar('DURATION', '0');
    this.setScalar('REQBODY_ERROR', '0');
    this.setScalar('REQBODY_PROCESSOR_ERROR', '0');
    this.setScalar('REQBODY_ERROR_MSG', '');
    this.setScalar('INBOUND_DATA_ERROR', '0');
    const args: Pair[] = [];
    parseUrlEncoded(query, args, this.lists.settings.argumentsLimit);
    this.setColl('ARGS_GET', args);
    this.setColl('ARGS', args);
    this.setColl('REQUEST_HEADERS', r.headers);
    const cookies: Pair[] = [];
    for (const [k, v] of r.headers) if (k.length === 6 && k.toLowerCase() === 'cookie') parseCookies(v, cookies);
    this.setColl('REQUEST_COOKIES', cookies);
    for (const e of this.coll('REQUEST_HEADERS')) if (e.lname === 'host') this.setScalar('SERVER_NAME', e.value);
    let argsLen = 0;
    for (const [k, v] of args) argsLen += k.length + v.length;
    this.setScalar('ARGS_COMBINED_SIZE', String(argsLen));
    this.coll('ARGS_POST');
    this.coll('ARGS_POST_NAMES');
    this.setScalar('REQBODY_PROCESSOR', this.defaultProcessor() ?? '');
  }

  private defaultProcessor(): string | null {
    const lct = (this.header('content-type') ?? '').toLowerCase();
    if (lct.startsWith('application/x-www-form-urlencoded')) return 'URLENCODED';
    if (lct.startsWith('multipart/form-data')) return 'MULTIPART';
    return null;
  }

  header(name: string): string | null {
    const ln = name.toLowerCase();
    for (const e of this.coll('REQUEST_HEADERS')) if (e.lname === ln) return e.value;
    return null;
  }

  /** The body or the response adds values: what was worked out about the targets' values goes. */
  private forgetTargets(): void {
    this.targetCache = [];
    this.compCache = [];
    this.vc.unions.fill(0);
  }

  /** Parses the request body with the selected processor (called before phase 2). */
  processBody(): void {
    this.forgetTargets();
    const s = this.lists.settings;
    let body = latin1(this.req.body);
    const ct = this.header('content-type') ?? '';
    if (!s.requestBodyAccess) return;
    if (body.length > s.requestBodyLimit) {
      if (s.requestBodyLimitAction === 'reject' && !this.detectOnly) {
        this.interrupted = true;
        this.status = 413;
        return;
      }
      body = body.slice(0, s.requestBodyLimit);
      this.setScalar('INBOUND_DATA_ERROR', '1');
    }
    const proc = this.bodyProcessor ?? this.defaultProcessor();
    this.setScalar('REQBODY_PROCESSOR', proc ?? '');
    this.setScalar('REQUEST_BODY_LENGTH', String(body.length));
    const err = (msg: string): void => {
      this.setScalar('REQBODY_ERROR', '1');
      this.setScalar('REQBODY_PROCESSOR_ERROR', '1');
      this.setScalar('REQBODY_ERROR_MSG', msg);
      this.setScalar('REQBODY_PROCESSOR_ERROR_MSG', msg);
    };
    const post: Pair[] = [];
    if (proc !== 'MULTIPART' && body.length > s.requestBodyNoFilesLimit) {
      // bodies without files have the lower limit; detection-only inspects the first part
      if (!this.detectOnly && s.requestBodyLimitAction === 'reject') {
        this.interrupted = true;
        this.status = 413;
        return;
      }
      body = body.slice(0, s.requestBodyNoFilesLimit);
      this.setScalar('INBOUND_DATA_ERROR', '1');
    }
    if (proc === 'URLENCODED') {
      parseUrlEncoded(body, post, s.argumentsLimit);
      this.setScalar('REQUEST_BODY', body);
    } else if (proc === 'MULTIPART') {
      const m = parseMultipart(body, ct);
      post.push(...m.args);
      this.setColl('FILES', m.files);
      this.setColl('FILES_SIZES', m.fileSizes);
      this.setColl('MULTIPART_PART_HEADERS', m.partHeaders);
      this.setScalar('FILES_COMBINED_SIZE', String(m.combinedFileSize));
      const f = m.flags;
      this.setScalar('MULTIPART_BOUNDARY_QUOTED', String(f.boundaryQuoted));
      this.setScalar('MULTIPART_BOUNDARY_WHITESPACE', String(f.boundaryWhitespace));
      this.setScalar('MULTIPART_DATA_BEFORE', String(f.dataBefore));
      this.setScalar('MULTIPART_DATA_AFTER', String(f.dataAfter));
      this.setScalar('MULTIPART_HEADER_FOLDING', String(f.headerFolding));
      this.setScalar('MULTIPART_LF_LINE', String(f.lfLine));
      this.setScalar('MULTIPART_CRLF_LF_LINES', String(f.crlfLfLines));
      this.setScalar('MULTIPART_MISSING_SEMICOLON', String(f.missingSemicolon));
      this.setScalar('MULTIPART_INVALID_QUOTING', String(f.invalidQuoting));
      this.setScalar('MULTIPART_INVALID_PART', String(f.invalidPart));
      this.setScalar('MULTIPART_INVALID_HEADER_FOLDING', String(f.invalidHeaderFolding));
      this.setScalar('MULTIPART_FILE_LIMIT_EXCEEDED', String(f.fileLimitExceeded));
      this.setScalar('MULTIPART_UNMATCHED_BOUNDARY', String(f.unmatchedBoundary));
      this.setScalar('MULTIPART_STRICT_ERROR', String(multipartStrictError(m)));
      if (m.error) err(m.error);
    } else if (proc === 'JSON') {
      const e = parseJson(body, post, s.jsonDepthLimit, s.argumentsLimit);
      if (e) err(e);
    } else if (proc === 'XML') {
      const x = parseXml(body);
      if (x.error) err(x.error);
      else {
        this.coll('XML').push(new Entry('XML', '/*', x.text));
        for (const a of x.attrs) this.coll('XML_ATTRS').push(new Entry('XML', '//@*', a));
      }
    }
    if (this.forceBodyVar && proc !== 'URLENCODED') this.setScalar('REQUEST_BODY', body);
    if (post.length) {
      this.setColl('ARGS_POST', post);
      const args = this.coll('ARGS');
      const names = this.coll('ARGS_NAMES');
      for (const [k, v] of post) {
        args.push(new Entry('ARGS', k, v));
        names.push(new Entry('ARGS_NAMES', k, k));
      }
      let len = 0;
      for (const e of args) len += e.name.length + e.value.length;
      this.setScalar('ARGS_COMBINED_SIZE', String(len));
    }
  }

  private buildResponseVars(): void {
    this.forgetTargets();
    const r = this.resp;
    if (!r) return;
    this.setScalar('RESPONSE_STATUS', String(r.status));
    this.setScalar('RESPONSE_PROTOCOL', r.protocol ?? 'HTTP/1.1');
    this.setColl('RESPONSE_HEADERS', r.headers);
    let ct = '';
    for (const [k, v] of r.headers) if (k.toLowerCase() === 'content-type') ct = v;
    this.setScalar('RESPONSE_CONTENT_TYPE', ct);
    const body = latin1(r.body);
    this.setScalar('RESPONSE_CONTENT_LENGTH', String(body.length));
    const s = this.lists.settings;
    const mime = ct.split(';')[0].trim().toLowerCase();
    if (s.responseBodyAccess && s.responseBodyMimeTypes.includes(mime)) {
      this.setScalar('RESPONSE_BODY', body.slice(0, s.responseBodyLimit));
    }
  }

  /** Values of one target (before exclusions), appended to `out`. */
  private collect(t: Target, out: Entry[]): void {
    const c = t.coll;
    // single-valued variables first (no name is both a scalar and a collection)
    const sc = this.scalars.get(c);
    if (sc !== undefined) {
      out.push(sc);
      return;
    }
    if (STORE_COLLS.has(c)) {
      const m = this.stores.get(c);
      if (!m) return;
      if (t.sel === null) for (const e of m.values()) out.push(e);
      else if (t.sel.kind === 'name') {
        const e = m.get(t.sel.name);
        if (e) out.push(e);
      } else if (t.sel.prefix !== undefined) {
        // names of stored variables are kept lower-case in `lname`
        const pre = t.sel.prefix;
        for (const e of m.values()) if (e.lname.startsWith(pre)) out.push(e);
      } else {
        const re = t.sel.re;
        const f = t.sel.factors;
        for (const e of m.values()) if ((f === undefined || hasFactor(e.lname, f)) && re.test(e.name)) out.push(e);
      }
      return;
    }
    if (c === 'XML') {
      const src = t.sel && t.sel.kind === 'name' && t.sel.name.includes('@') ? 'XML_ATTRS' : 'XML';
      const l = this.colls.get(src);
      if (l) for (const e of l) out.push(e);
      return;
    }
    if (c === 'MATCHED_VAR') {
      if (this.matchedVar) out.push(new Entry('MATCHED_VAR', '', this.matchedVar.value));
      return;
    }
    if (c === 'MATCHED_VAR_NAME') {
      if (this.matchedVar) out.push(new Entry('MATCHED_VAR_NAME', '', this.matchedVar.key));
      return;
    }
    if (c === 'MATCHED_VARS') {
      for (const e of this.matchedVars) if (selects(t, e)) out.push(e);
      return;
    }
    if (c === 'MATCHED_VARS_NAMES') {
      for (const e of this.matchedVars) if (selects(t, e)) out.push(new Entry('MATCHED_VARS_NAMES', e.key, e.key));
      return;
    }
    if (c === 'REQUEST_BODY' && !this.scalars.has('REQUEST_BODY')) return;
    if (c === 'TIME_EPOCH') {
      out.push(new Entry(c, '', String(Math.floor(Date.now() / 1000))));
      return;
    }
    const l = this.colls.get(c);
    if (l) {
      if (t.sel === null) for (const e of l) out.push(e);
      else if (t.sel.kind === 'name') {
        const n = t.sel.name;
        for (const e of l) if (e.lname === n) out.push(e);
      } else {
        const re = t.sel.re;
        for (const e of l) if (re.test(e.name)) out.push(e);
      }
      return;
    }
    if (c === 'UNIQUE_ID') {
      // made on first use: only the CRS sampling rules read it, and the clock costs
      const id = new Entry(c, '', `${Date.now().toString(36)}${(uniqueCounter++).toString(36)}`);
      this.scalars.set(c, id);
      out.push(id);
      return;
    }
    const s = this.scalars.get(c);
    if (s) out.push(s);
  }

  private targetsOf(rule: Rule, out: Entry[]): void {
    let excl = rule.excls;
    if (excl === null) {
      excl = [];
      for (const t of rule.targets) if (t.excl) excl.push(t);
      rule.excls = excl;
    }
    const removed = this.removedTargets.length ? this.removedTargetsFor(rule) : null;
    const cids = removed === null ? rule.cids : null;
    for (let ti = 0; ti < rule.targets.length; ti++) {
      const t = rule.targets[ti];
      if (t.excl) continue;
      const cid = cids !== null && ti < cids.length ? cids[ti] : 0;
      if (cid !== 0) {
        // the same selection (with the same exclusions) as an earlier rule's: shared
        let c = this.compCache[cid];
        if (c === undefined) {
          c = [];
          this.collect(t, c);
          if (excl.length !== 0) {
            let w = 0;
            for (let i = 0; i < c.length; i++) if (!excluded(c[i], excl, null)) c[w++] = c[i];
            c.length = w;
          }
          this.compCache[cid] = c;
        }
        for (let i = 0; i < c.length; i++) out.push(c[i]);
        continue;
      }
      if (t.count) {
        const tmp: Entry[] = [];
        this.collect(t, tmp);
        let n = 0;
        for (const e of tmp) if (!excluded(e, excl, removed)) n++;
        out.push(new Entry(t.coll, t.sel && t.sel.kind === 'name' ? t.sel.name : '', String(n)));
        continue;
      }
      if (excl.length === 0 && removed === null) this.collect(t, out);
      else {
        const st = out.length;
        this.collect(t, out);
        let w = st;
        for (let i = st; i < out.length; i++) if (!excluded(out[i], excl, removed)) out[w++] = out[i];
        if (w !== out.length) out.length = w;
      }
    }
  }

  private removedTargetsFor(rule: Rule): Target[] | null {
    let out: Target[] | null = null;
    for (const rt of this.removedTargets) {
      if (rt.id ? rt.id(rule.id) : rt.tag ? rule.tags.some((t) => (rt.tag as RegExp).test(t)) : false) {
        out ??= [];
        out.push({ coll: rt.coll, sel: rt.name === null ? null : { kind: 'name', name: rt.name }, count: false, excl: true });
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ macros

  /** First value of a variable reference, as used by %{...}. */
  private lookup(coll: string, key: string | null): string {
    if (coll === 'RULE') {
      const r = this.currentRule;
      if (!r) return '';
      if (key === 'id') return String(r.id);
      if (key === 'msg') return r.msg ? this.expandMacro(r.msg) : '';
      if (key === 'severity') return r.severity ?? '';
      if (key === 'logdata') return r.logdata ? this.expandMacro(r.logdata) : '';
      return '';
    }
    if (coll === 'MATCHED_VAR') return this.matchedVar?.value ?? '';
    if (coll === 'MATCHED_VAR_NAME') return this.matchedVar?.key ?? '';
    if (coll === 'TX') return key === null ? '' : (this.txMap.get(key)?.value ?? '');
    if (STORE_COLLS.has(coll)) {
      if (key === null) return '';
      return this.stores.get(coll)?.get(key)?.value ?? '';
    }
    const tmp: Entry[] = [];
    this.collect({ coll, sel: key === null ? null : { kind: 'name', name: key }, count: false, excl: false }, tmp);
    return tmp.length ? tmp[0].value : '';
  }

  expandMacro(m: Macro): string {
    if (m.length === 1 && typeof m[0] === 'string') return m[0];
    let s = '';
    for (const part of m) s += typeof part === 'string' ? part : this.lookup(part.coll, part.key);
    return s;
  }

  expand(param: string): string {
    let m = macroCache.get(param);
    if (m === undefined) {
      m = parseMacro(param);
      if (macroCache.size < 10000) macroCache.set(param, m);
    }
    return this.expandMacro(m);
  }

  // ------------------------------------------------------------------ actions

  private doSetVar(sv: SetVar): void {
    const coll = sv.coll;
    const store = this.store(coll);
    const name = sv.staticName ?? this.expandMacro(sv.name);
    const key = sv.staticKey ?? name.toLowerCase();
    if (this.shared !== null && store === this.shared.map) {
      this.undo(key);
      if (sv.op === 'del' && this.shared.init.has(key)) this.shared.reordered = true;
    }
    if (sv.op === 'del') {
      store.delete(key);
      return;
    }
    const val = this.expandMacro(sv.value);
    if (sv.op === '=') {
      store.set(key, new Entry(coll, name, val, key));
      return;
    }
    const cur = Number.parseInt(store.get(key)?.value ?? '0', 10) || 0;
    const delta = Number.parseInt(val, 10) || 0;
    store.set(key, new Entry(coll, name, String(sv.op === '+' ? cur + delta : cur - delta), key));
  }

  private doCtl(what: string, value: string): void {
    switch (what) {
      case 'ruleengine': {
        const v = value.toLowerCase();
        if (v === 'off') this.engineOff = true;
        else if (v === 'detectiononly') this.detectOnly = true;
        else if (v === 'on') this.detectOnly = false;
        break;
      }
      case 'requestbodyprocessor':
        this.bodyProcessor = value.toUpperCase();
        this.setScalar('REQBODY_PROCESSOR', this.bodyProcessor);
        break;
      case 'forcerequestbodyvariable':
        this.forceBodyVar = value.toLowerCase() === 'on';
        break;
      case 'ruleremovebyid':
        this.removedIds.push(idMatch(value));
        break;
      case 'ruleremovebytag':
        this.removedTags.push(new RegExp(value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i'));
        break;
      case 'ruleremovetargetbyid':
      case 'ruleremovetargetbytag': {
        const semi = value.indexOf(';');
        if (semi < 0) break;
        const who = value.slice(0, semi);
        const tgt = value.slice(semi + 1);
        const colon = tgt.indexOf(':');
        const coll = (colon < 0 ? tgt : tgt.slice(0, colon)).toUpperCase();
        const name = colon < 0 ? null : tgt.slice(colon + 1).toLowerCase();
        if (what === 'ruleremovetargetbyid') this.removedTargets.push({ id: idMatch(who), coll, name });
        else this.removedTargets.push({ tag: new RegExp(`^${who.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'i'), coll, name });
        break;
      }
      default:
        break;
    }
  }

  private isRemoved(r: Rule): boolean {
    for (const f of this.removedIds) if (f(r.id)) return true;
    if (this.removedTags.length) for (const re of this.removedTags) if (r.tags.some((t) => re.test(t))) return true;
    return false;
  }

  // ------------------------------------------------------------------ rule loop

  /** Runs phase 1..5. Body processing happens between phases 1 and 2. */
  runPhase(phase: number): void {
    if (phase === 3) this.buildResponseVars();
    if (this.engineOff) return;
    if (this.allowAll && phase !== 5) return;
    if (this.allowRequest && phase <= 2) return;
    const list = this.lists.phases[phase];
    const scratch: Entry[] = [];
    const pre = this.lists.skips?.[phase] ?? null;
    for (let i = 0; i < list.length; i++) {
      const r = list[i];
      if (r.marker !== null) continue;
      if (pre !== null && pre[i] === 1) continue;
      if ((this.removedIds.length || this.removedTags.length) && this.isRemoved(r)) continue;
      if (this.matchedVars.length !== 0) this.matchedVars.length = 0;
      let hit: boolean;
      if (this.timings === null) hit = this.evalRule(r, scratch, 0);
      else {
        const t0 = performance.now();
        hit = this.evalRule(r, scratch, 0);
        this.timings.set(r.id, (this.timings.get(r.id) ?? 0) + performance.now() - t0);
      }
      if (!hit) continue;
      // whole chain matched
      if (r.log) this.logMatch(r);
      if (r.disruptive !== 'pass' && r.disruptive !== null && !this.detectOnly) {
        if (r.disruptive === 'allow') {
          if (r.allowScope === 'phase') return;
          if (r.allowScope === 'request') this.allowRequest = true;
          else this.allowAll = true;
          return;
        }
        this.interrupted = true;
        this.status = r.disruptive === 'redirect' ? 302 : r.status || 403;
        return;
      }
      if (this.engineOff) return;
      if (r.skipIndex >= 0) i = r.skipIndex;
      else if (r.skip > 0) {
        let k = r.skip;
        while (k > 0 && i + 1 < list.length) {
          i++;
          if (list[i].marker === null) k--;
        }
      }
    }
  }

  private logMatch(r: Rule): void {
    this.currentRule = r;
    this.matched.push({
      id: r.id,
      msg: r.msg ? this.expandMacro(r.msg) : '',
      data: r.logdata ? this.expandMacro(r.logdata) : '',
      severity: r.severity,
    });
    this.currentRule = null;
  }

  /** The values a rule inspects, from the per-request cache when the target list allows it. */
  private resolve(r: Rule): Entry[] {
    const id = r.tid;
    if (id !== 0 && this.removedTargets.length === 0) {
      let l = this.targetCache[id];
      if (l === undefined) {
        l = [];
        this.targetsOf(r, l);
        this.targetCache[id] = l;
      }
      return l;
    }
    const l: Entry[] = [];
    this.targetsOf(r, l);
    return l;
  }

  /** Evaluates one rule (and its chain). Returns true when the whole chain matched. */
  private evalRule(r: Rule, scratch: Entry[], depth: number): boolean {
    this.currentRule = r;
    if (r.targets.length === 0) {
      // SecAction-like: no variables
      if (!r.negated === r.op.match('', this, r.capture)) this.onMatch(r, null);
      else return false;
    } else if (r.fast !== 0 && this.removedTargets.length === 0) {
      // one named variable of a collection such as TX: no list to build
      const e = (r.fastColl === 'TX' ? this.txMap : this.stores.get(r.fastColl))?.get(r.fastKey);
      if (r.fast === 1) {
        if (e === undefined || !this.test(r, e)) return false;
        this.onMatch(r, e);
      } else {
        const c = new Entry(r.fastColl, r.fastKey, e === undefined ? '0' : '1', r.fastKey);
        if (!this.test(r, c)) return false;
        this.onMatch(r, c);
      }
    } else {
      const need = r.op.need;
      if (r.pair !== 0 && need !== 0 && !r.negated && this.removedTargets.length === 0) {
        // no value of these targets can have a class the operator needs: the rule cannot match
        let u = this.vc.unions[r.pair];
        if (u === 0) u = this.unionOf(r, this.resolve(r));
        if ((u & need) === 0) return false;
      }
      const list = this.resolve(r);
      let any = false;
      for (let k = 0; k < list.length; k++) {
        const e = list[k];
        if (this.test(r, e)) {
          any = true;
          this.onMatch(r, e);
        }
      }
      if (!any) return false;
    }
    if (r.chain) {
      const ok = this.evalRule(r.chain, scratch, depth + 1);
      this.currentRule = r;
      return ok;
    }
    return true;
  }

  /** Does `r`'s operator match `e`'s value after `r`'s single transformation chain? (negation
   * not applied) Verdicts are kept per value for pure operators; the class bound on the
   * transformed value and the literal factors rule out most values before the operator runs. */
  private matchValue(r: Rule, e: Entry): boolean {
    if (e.gen !== this.gen) this.giveRow(e);
    const vc = this.vc;
    const vi = e.vrow + r.vid;
    // (a verdict is only ever kept for a pure operator)
    if (vc.verdicts[vi] === 1) return false;
    const op = r.op;
    const tchain = r.tchain;
    const cell = e.row + tchain;
    let hit = true;
    let v: string | undefined;
    if (tchain === 0) v = e.value;
    else {
      v = vc.vals[cell];
      if (v === undefined) v = this.chainValue(e, tchain);
      if (op.need !== 0) {
        // the transformed value's own classes, when the bound was not enough
        let m = vc.mask[cell];
        if (m === 0) m = this.exactMask(e, tchain, v);
        if ((m & op.need) === 0) hit = false;
      }
    }
    // none of the operator's literal factors can be in the value
    if (hit && op.grams !== null && vc.gramsMissAt(cell, v, op.grams)) hit = false;
    if (hit) hit = op.match(v, this, r.capture);
    if (!hit && op.pure) vc.verdicts[vi] = 1;
    return hit;
  }

  /** Does `r` (its operator, negation applied) match value `e`? */
  private test(r: Rule, e: Entry): boolean {
    if (r.multiMatch) return this.testSteps(r, e);
    const need = r.op.need;
    // a value without a class the operator needs is not even looked up in the cache
    const hit = (need === 0 || ((e.est === NO_EST ? this.estOf(e) : e.est)[r.tchain] & need) !== 0) && this.matchValue(r, e);
    return hit !== r.negated;
  }

  /** `test` for a multiMatch rule */
  private testSteps(r: Rule, e: Entry): boolean {
    if (e.gen !== this.gen) this.giveRow(e);
    if (r.negated) return this.negatedMulti(r, e);
    const vc = this.vc;
    const vi = e.vrow + r.vid;
    if (vc.verdicts[vi] === 1) return false;
    const hit = this.anyStepMatches(r, e);
    if (!hit && r.op.pure) vc.verdicts[vi] = 1;
    return hit;
  }

  /** multiMatch: the operator sees the value before and after each transformation that changed
   * it; true when it matched one of them */
  private anyStepMatches(r: Rule, e: Entry): boolean {
    const op = r.op;
    if (op.need !== 0) {
      const est = this.estOf(e);
      let u = est[0];
      for (const id of r.tprefix) u |= est[id];
      if ((u & op.need) === 0) return false;
    }
    let v = e.value;
    if (this.canMatch(op, e, 0, v) && op.match(v, this, r.capture)) return true;
    for (const id of r.tprefix) {
      const nv = this.chainValue(e, id);
      if (nv !== v) {
        v = nv;
        if (this.canMatch(op, e, id, v) && op.match(v, this, r.capture)) return true;
      }
    }
    return false;
  }

  /** negated multiMatch: true when the operator fails on one of the steps */
  private negatedMulti(r: Rule, e: Entry): boolean {
    const op = r.op;
    let v = e.value;
    if (!(this.canMatch(op, e, 0, v) && op.match(v, this, r.capture))) return true;
    for (const id of r.tprefix) {
      const nv = this.chainValue(e, id);
      if (nv !== v) {
        v = nv;
        if (!(this.canMatch(op, e, id, v) && op.match(v, this, r.capture))) return true;
      }
    }
    return false;
  }

  /** Classes the values of `r`'s targets can have after its transformations, kept for the
   * rules with the same `pair`. */
  private unionOf(r: Rule, list: Entry[]): number {
    let u = KNOWN;
    for (let k = 0; k < list.length; k++) {
      const e = list[k];
      const est = e.est === NO_EST ? this.estOf(e) : e.est;
      if (r.multiMatch) {
        u |= est[0];
        for (const id of r.tprefix) u |= est[id];
      } else u |= est[r.tchain];
    }
    this.vc.unions[r.pair] = u;
    return u;
  }

  /** The bounds on `e`'s classes after each chain (index 0: its raw classes). */
  private estOf(e: Entry): Int32Array {
    if (e.est === NO_EST) e.est = this.vc.estTable(classMask(e.value) | KNOWN);
    return e.est;
  }

  /** False when the prefilters rule out a match of `op` on `v`, the value of `e` after chain
   * `id` (`e` has its row). */
  private canMatch(op: Operator, e: Entry, id: number, v: string): boolean {
    if (op.need !== 0 && (this.exactMask(e, id, v) & op.need) === 0) return false;
    return op.grams === null || !this.vc.gramsMissAt(e.row + id, v, op.grams);
  }

  /** Classes of `v`, the value of `e` after chain `id` (`e` has its row). */
  private exactMask(e: Entry, id: number, v: string): number {
    if (id === 0) return this.estOf(e)[0];
    const cell = e.row + id;
    let m = this.vc.mask[cell];
    if (m !== 0) return m;
    m = v === e.value ? this.estOf(e)[0] : classMask(v) | KNOWN;
    this.vc.mask[cell] = m;
    return m;
  }

  /** Gives `e` its row of the transformation cache for this transaction. */
  private giveRow(e: Entry): void {
    this.vc.place(e, this.gen);
  }

  /** Value of `e` after transformation chain `id`, computed once per entry (prefixes shared). */
  private chainValue(e: Entry, id: number): string {
    if (e.gen !== this.gen) this.giveRow(e);
    const cell = e.row + id;
    const hit = this.vc.vals[cell];
    if (hit !== undefined) return hit;
    const parent = this.chainParent[id];
    const input = parent === 0 ? e.value : this.chainValue(e, parent);
    let v: string;
    if (input === e.value) {
      // the steps before left the value as it was: share the function's result with other chains
      const raw = e.row + this.vc.rawColumn[id];
      const hit = this.vc.vals[raw];
      if (hit !== undefined) v = hit;
      else {
        v = (this.chainFn[id] as (s: string) => string)(input);
        this.vc.vals[raw] = v;
      }
    } else v = (this.chainFn[id] as (s: string) => string)(input);
    this.vc.vals[cell] = v;
    return v;
  }

  private onMatch(r: Rule, e: Entry | null): void {
    if (e) {
      this.matchedVar = e;
      this.matchedVars.push(e);
    }
    if (r.capture) {
      const tx = this.store('TX');
      for (let k = 0; k < 10; k++) {
        const v = this.caps[k];
        if (v === undefined) continue;
        const key = CAP_KEYS[k];
        const cur = tx.get(key);
        if (cur === undefined || cur.value !== v) {
          if (this.shared !== null && tx === this.shared.map) this.undo(key);
          tx.set(key, new Entry('TX', key, v, key));
        }
      }
    }
    for (const c of r.ctls) this.doCtl(c.what, this.expand(c.value));
    for (const sv of r.setvars) this.doSetVar(sv);
  }

  /**
   * Runs, once, the phase-1 rules whose outcome cannot depend on the request (the CRS
   * initialisation: `&TX:x "@eq 0"` defaults, SecActions setting scores, paranoia skips) and
   * stores the resulting TX collection in `lists.txInit`; those rules are then skipped per
   * request. A rule qualifies when it reads and writes only named TX variables that no earlier
   * per-request rule writes, and later per-request rules have not read what it writes; the walk
   * stops at the first per-request rule that could change the control flow (skips, disruptive
   * actions, ctl other than body-processor settings, reads of every TX variable).
   */
  static precomputePhase1(lists: PhaseLists): void {
    lists.txInit = null;
    lists.txShared = null;
    lists.skips = undefined;
    // created after the start-up transaction below, which never releases it
    lists.valueCache = null;
    if (lists.settings.ruleEngine === 'off') {
      lists.valueCache = new ValueCache(lists.chainFn, lists.chainParent, lists.chainMask, lists.pairs, lists.ruleCount);
      return;
    }
    const list = lists.phases[1];
    const skip = new Uint8Array(list.length);
    const t = new Transaction(lists, { method: 'GET', uri: '/', protocol: 'HTTP/1.1', headers: [] }, null, []);
    let tx = new Map<string, Entry>();
    // written by per-request rules so far / read by them (a later precomputed write would race)
    const tainted = new Taint();
    const readRt = new Taint();
    const scratch: Entry[] = [];
    let any = false;
    for (let i = 0; i < list.length; i++) {
      const r = list[i];
      if (r.marker !== null) continue;
      const ef = effects(r);
      if (ef.stop) break;
      if (
        ef.pure &&
        ef.reads !== null &&
        ef.writes !== null &&
        ef.writePrefixes.length === 0 &&
        tainted.clear(ef.reads, NO_PREFIXES) &&
        tainted.clear(ef.writes, NO_PREFIXES) &&
        readRt.clear(ef.writes, NO_PREFIXES)
      ) {
        const trial = new Map(tx);
        t.stores.set('TX', trial);
        t.txMap = trial;
        t.engineOff = false;
        t.interrupted = false;
        const hit = t.evalRule(r, scratch, 0);
        const disrupts = r.disruptive !== 'pass' && r.disruptive !== null;
        if (!t.engineOff && !(hit && (r.log || disrupts))) {
          tx = trial;
          skip[i] = 1;
          any = true;
          if (hit) i = skipOver(list, skip, i, r);
          continue;
        }
      }
      // this rule runs per request: later precomputed rules must not depend on or race with it
      if (ef.reads === null || ef.writes === null || r.skipAfter !== null || r.skip > 0 || (r.disruptive !== 'pass' && r.disruptive !== null)) break;
      for (const k of ef.reads) readRt.names.add(k);
      tainted.add(ef);
      // when it turns the engine off, later rules do not run: they must leave the scores alone
      if (ef.engineOff) for (const k of VERDICT_KEYS) readRt.names.add(k);
    }
    if (any) {
      lists.txInit = tx;
      lists.txShared = { init: tx, map: new Map(tx), busy: false, undoKeys: [], undoPrev: [], reordered: false };
    }
    const skips: (Uint8Array | null)[] = [null, skip];
    for (let p = 2; p <= 5; p++) skips.push(new Uint8Array(lists.phases[p].length));
    lists.skips = skips;
    Transaction.foldConstantRules(lists, t);
    Transaction.compact(lists);
    lists.valueCache = new ValueCache(lists.chainFn, lists.chainParent, lists.chainMask, lists.pairs, lists.ruleCount);
  }

  /** Drops the decided and dead rules from each phase list (markers stay, skip targets are
   * resolved again), so requests do not walk past them. A phase with a `skip:n` rule keeps its
   * list, since n counts rules. */
  private static compact(lists: PhaseLists): void {
    const skips = lists.skips as (Uint8Array | null)[];
    for (let p = 1; p <= 5; p++) {
      const list = lists.phases[p];
      const skip = skips[p];
      if (skip === null) continue;
      let counted = false;
      for (let i = 0; i < list.length; i++) if (list[i].marker === null && skip[i] !== 1 && list[i].skip > 0) counted = true;
      if (counted) continue;
      const out: Rule[] = [];
      for (let i = 0; i < list.length; i++) if (list[i].marker !== null || skip[i] !== 1) out.push(list[i]);
      for (let i = 0; i < out.length; i++) {
        const r = out[i];
        if (r.marker !== null || r.skipAfter === null) continue;
        let idx = out.length - 1;
        for (let j = i + 1; j < out.length; j++) {
          if (out[j].marker === r.skipAfter) {
            idx = j;
            break;
          }
        }
        r.skipIndex = idx;
      }
      lists.phases[p] = out;
      skips[p] = null;
    }
  }

  /**
   * In every phase, a rule that writes nothing and reads only TX variables no per-request rule
   * writes (the paranoia-level checks guarding each file) has the same outcome for every request:
   * it is decided here, and when it skips, the rules it skips are marked too.
   */
  private static foldConstantRules(lists: PhaseLists, t: Transaction): void {
    const skips = lists.skips as Uint8Array[];
    const init = lists.txInit ?? new Map<string, Entry>();
    const tainted = new Taint();
    const scratch: Entry[] = [];
    for (let p = 1; p <= 5; p++) {
      const list = lists.phases[p];
      const skip = skips[p];
      for (let i = 0; i < list.length; i++) {
        const r = list[i];
        if (r.marker !== null || skip[i] === 1) continue;
        const ef = effects(r);
        if (ef.stop || ef.writes === null) return;
        if (p >= 2 && ef.pure && ef.reads !== null && ef.writes.size === 0 && ef.writePrefixes.length === 0 && tainted.clear(ef.reads, NO_PREFIXES)) {
          const fresh = new Map(init);
          t.stores.set('TX', fresh);
          t.txMap = fresh;
          t.engineOff = false;
          const hit = t.evalRule(r, scratch, 0);
          if (!t.engineOff && !(hit && (r.log || (r.disruptive !== 'pass' && r.disruptive !== null)))) {
            skip[i] = 1;
            if (hit) i = skipOver(list, skip, i, r);
            continue;
          }
        }
        tainted.add(ef);
      }
    }
  }

  tx(name: string): string | undefined {
    return this.stores.get('TX')?.get(name.toLowerCase())?.value;
  }
}

/** `name` (lower-case) contains one of `factors` */
function hasFactor(name: string, factors: string[]): boolean {
  for (let i = 0; i < factors.length; i++) if (name.includes(factors[i])) return true;
  return false;
}

function selects(t: Target, e: Entry): boolean {
  if (t.sel === null) return true;
  if (t.sel.kind === 'name') {
    const n = t.sel.name;
    // `COLL:name` (as MATCHED_VARS selections may be written) needs the full key
    return e.lname === n || (n.indexOf(':') >= 0 && e.key.toLowerCase() === n);
  }
  return t.sel.re.test(e.name);
}

function excluded(e: Entry, excl: Target[], removed: Target[] | null): boolean {
  for (const x of excl) if (x.coll === e.coll && selects(x, e)) return true;
  if (removed) for (const x of removed) if (x.coll === e.coll && selects(x, e)) return true;
  return false;
}

function idMatch(v: string): (id: number) => boolean {
  const ranges: [number, number][] = [];
  for (const a of v.split(/[\s,]+/)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(a);
    if (m) ranges.push([Number(m[1]), Number(m[2] ?? m[1])]);
  }
  return (id) => ranges.some(([a, b]) => id >= a && id <= b);
}

export interface SharedTx {
  init: Map<string, Entry>;
  map: Map<string, Entry>;
  busy: boolean;
  /** TX variables changed by the transaction using `map`, and their previous entries */
  undoKeys: string[];
  undoPrev: (Entry | undefined)[];
  /** a variable of `init` was deleted, so putting it back would change the order */
  reordered: boolean;
}

/** What a rule (with its chain links) reads and writes, for `Transaction.precomputePhase1`. */
interface Effects {
  /** reads and writes only named TX variables (and is not a capture or ctl rule) */
  pure: boolean;
  /** TX variables read or written; null = any */
  reads: Set<string> | null;
  writes: Set<string> | null;
  /** beginnings of TX variable names written with a macro in the name (`tx.header_name_%{tx.0}`) */
  writePrefixes: string[];
  /** the rule could change what later rules see in ways not tracked here */
  stop: boolean;
  /** the rule can turn the rule engine off */
  engineOff: boolean;
}

const NO_PREFIXES: string[] = [];

/** TX variables the verdict reads after the rule engine has been turned off */
const VERDICT_KEYS = ['anomaly_score', 'inbound_anomaly_score', 'outbound_anomaly_score'];

const BENIGN_CTL = new Set(['requestbodyprocessor', 'forcerequestbodyvariable', 'auditengine', 'auditlogparts']);

function effects(r: Rule): Effects {
  const ef: Effects = { pure: true, reads: new Set(), writes: new Set(), writePrefixes: [], stop: false, engineOff: false };
  // msg and logdata are expanded only when a match is logged, which a precomputed rule never is
  const read = (m: Macro | null, noTargets: boolean, logOnly = false): void => {
    if (m === null) return;
    for (const part of m) {
      if (typeof part === 'string') continue;
      if (part.coll === 'TX') {
        if (part.key === null) ef.reads = null;
        else ef.reads?.add(part.key);
      } else if (!logOnly) {
        ef.pure = false;
        if (noTargets && part.coll.startsWith('MATCHED_VAR')) ef.stop = true;
      }
    }
  };
  for (let l: Rule | null = r; l !== null; l = l.chain) {
    const noTargets = l.targets.length === 0;
    for (const t of l.targets) {
      if (t.coll === 'TX') {
        if (t.sel !== null && t.sel.kind === 'name') ef.reads?.add(t.sel.name);
        else ef.reads = null;
      } else {
        ef.pure = false;
        if (l === r && t.coll.startsWith('MATCHED_VAR')) ef.stop = true;
      }
    }
    if (l.op.param.includes('%{')) read(parseMacro(l.op.param), noTargets);
    for (const sv of l.setvars) {
      if (sv.coll !== 'TX') ef.pure = false;
      read(sv.name, noTargets);
      read(sv.value, noTargets);
      if (sv.coll === 'TX') {
        if (sv.staticKey !== null) ef.writes?.add(sv.staticKey);
        else if (typeof sv.name[0] === 'string' && sv.name[0] !== '') ef.writePrefixes.push(sv.name[0].toLowerCase());
        else ef.writes = null;
      }
    }
    for (const c of l.ctls) {
      ef.pure = false;
      if (c.what === 'ruleengine' && !c.value.includes('%{')) {
        // once the engine is off no rule runs: only the verdict's scores are still observed
        if (c.value.toLowerCase() === 'off') ef.engineOff = true;
      } else if (!BENIGN_CTL.has(c.what)) ef.stop = true;
      if (c.value.includes('%{')) read(parseMacro(c.value), noTargets);
    }
    if (l.capture) {
      ef.pure = false;
      for (let k = 0; k < 10; k++) ef.writes?.add(String(k));
    }
    read(l.msg, false, true);
    read(l.logdata, false, true);
  }
  return ef;
}

/** TX variable names written by per-request rules: exact names and name beginnings */
class Taint {
  readonly names = new Set<string>();
  readonly prefixes: string[] = [];
  add(ef: Effects): void {
    for (const k of ef.writes ?? []) this.names.add(k);
    for (const k of ef.writePrefixes) this.prefixes.push(k);
  }
  /** none of `keys` (nor any name a prefix in `prefixes` begins) is tainted */
  clear(keys: Set<string>, prefixes: string[]): boolean {
    for (const k of keys) {
      if (this.names.has(k)) return false;
      for (const p of this.prefixes) if (k.startsWith(p)) return false;
    }
    for (const p of prefixes) {
      for (const k of this.names) if (k.startsWith(p)) return false;
      for (const q of this.prefixes) if (q.startsWith(p) || p.startsWith(q)) return false;
    }
    return true;
  }
}
