/**
 * A transaction's variables as ModSecurity exposes them: single values (REQUEST_URI, ...),
 * collections built from the request and response (ARGS, REQUEST_HEADERS, ...), the stores
 * rules write (TX, IP, ...), and the variables of the last match (MATCHED_VAR, ...). Values are
 * `Entry` objects, which also carry what the value cache has worked out about their value.
 */
import { intern } from './macro.js';
import type { Selector, Target } from './rule.js';
import type { ValueCache } from './value-cache.js';

/** `Entry.classBounds` before it is computed */
export const NO_BOUNDS = new Int32Array(0);

/** One value of a variable. */
export class Entry {
  /** the transaction (`Transaction.generation`) that last looked up this value's row in the `ValueCache` */
  generation = 0;
  /** offset of that row */
  row = 0;
  /** offset of its verdicts */
  verdictRow = 0;
  /** per chain id, the classes the value can have after it (`Transaction.boundsOf`; it depends
   * on the value alone, so it stays valid) */
  classBounds: Int32Array = NO_BOUNDS;
  /** the cache, and its epoch, that gave the row */
  cache: ValueCache | null = null;
  epoch = 0;
  readonly lowerName: string;
  constructor(
    readonly coll: string,
    readonly name: string,
    readonly value: string,
    lowerName?: string,
  ) {
    this.lowerName = lowerName ?? name.toLowerCase();
  }
  get key(): string {
    return this.name === '' ? this.coll : `${this.coll}:${this.name}`;
  }
}

/** collections with a `_NAMES` companion */
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

/** collection name -> the name of its `_NAMES` companion */
const NAMES_OF = new Map<string, string>();

/** raw name -> its lower-case form, interned (names repeat from request to request) */
const lowerNames = new Map<string, string>();
const LOWER_NAMES_MAX = 4096;

/**
 * The lower-case form of a header, cookie or argument name, interned: selectors compare it
 * with their (interned) names for each value, and two interned strings that differ are told
 * apart without reading them. Bounded: emptied when it has seen too many distinct names.
 */
function lowerNameOf(k: string): string {
  let l = lowerNames.get(k);
  if (l === undefined) {
    l = intern(k.toLowerCase());
    if (lowerNames.size >= LOWER_NAMES_MAX) lowerNames.clear();
    lowerNames.set(k, l);
  }
  return l;
}

/** collections rules write with setvar (names kept lower-case) */
export const STORE_COLLS = new Set(['TX', 'IP', 'SESSION', 'GLOBAL', 'RESOURCE', 'USER', 'ENV', 'GEO']);

/** `Target.source`: a request or response variable, a single value or a collection */
export const SOURCE_PLAIN = 0;
/** `Target.source`: a collection rules write (STORE_COLLS) */
export const SOURCE_STORE = 1;
/** `Target.source`: a variable made or picked when read (XML, MATCHED_*, TIME_EPOCH, ...) */
export const SOURCE_SPECIAL = 2;
const SPECIAL_COLLS = new Set(['XML', 'MATCHED_VAR', 'MATCHED_VAR_NAME', 'MATCHED_VARS', 'MATCHED_VARS_NAMES', 'REQUEST_BODY', 'TIME_EPOCH', 'UNIQUE_ID']);

/** How `collect` finds the values of collection `coll` (upper-case). */
export function sourceOf(coll: string): number {
  return STORE_COLLS.has(coll) ? SOURCE_STORE : SPECIAL_COLLS.has(coll) ? SOURCE_SPECIAL : SOURCE_PLAIN;
}

let uniqueCounter = 0;

export class Collections {
  /** collections built from the request and response, in the order their values came */
  private readonly lists = new Map<string, Entry[]>();
  readonly scalars = new Map<string, Entry>();
  readonly stores = new Map<string, Map<string, Entry>>();
  /** the TX collection (also in `stores`), for the many look-ups of TX variables */
  tx: Map<string, Entry>;
  matchedVar: Entry | null = null;
  readonly matchedVars: Entry[] = [];

  constructor(tx: Map<string, Entry>) {
    this.tx = tx;
    this.stores.set('TX', tx);
  }

  /** Makes `tx` the TX collection (the start-up analysis tries rules on copies). */
  useTx(tx: Map<string, Entry>): void {
    this.stores.set('TX', tx);
    this.tx = tx;
  }

  store(coll: string): Map<string, Entry> {
    let m = this.stores.get(coll);
    if (!m) {
      m = new Map();
      this.stores.set(coll, m);
    }
    return m;
  }

  /** Adds name/value pairs to collection `name` (and to its `_NAMES` companion). */
  addPairs(name: string, pairs: [string, string][]): void {
    const entries = this.list(name);
    let namesColl = NAMES_OF.get(name);
    if (namesColl === undefined) {
      namesColl = `${name}_NAMES`;
      NAMES_OF.set(name, namesColl);
    }
    const names = MULTI.has(namesColl) ? this.list(namesColl) : null;
    for (let i = 0; i < pairs.length; i++) {
      const k = pairs[i][0];
      const v = pairs[i][1];
      const lk = lowerNameOf(k);
      entries.push(new Entry(name, k, v, lk));
      names?.push(new Entry(namesColl, k, k, lk));
    }
  }

  /** Collection `name`, created empty when it has no values yet. */
  list(name: string): Entry[] {
    let c = this.lists.get(name);
    if (!c) {
      c = [];
      this.lists.set(name, c);
    }
    return c;
  }

  setScalar(name: string, value: string): void {
    this.scalars.set(name, new Entry(name, '', value, ''));
  }

  header(name: string): string | null {
    const ln = name.toLowerCase();
    for (const e of this.list('REQUEST_HEADERS')) if (e.lowerName === ln) return e.value;
    return null;
  }

  /** Values of one target (before exclusions), appended to `out`. */
  collect(t: Target, out: Entry[]): void {
    const c = t.coll;
    const sel = t.selector;
    const source = t.source;
    if (source === SOURCE_PLAIN) {
      // most targets: a single value, else a collection (no name is both)
      const sc = this.scalars.get(c);
      if (sc !== undefined) out.push(sc);
      else {
        const l = this.lists.get(c);
        if (l !== undefined) pick(l, sel, out);
      }
      return;
    }
    // single-valued variables first (no name is both a scalar and a collection)
    const sc = this.scalars.get(c);
    if (sc !== undefined) {
      out.push(sc);
      return;
    }
    if (source === SOURCE_STORE) {
      const m = this.stores.get(c);
      if (!m) return;
      if (sel === null) for (const e of m.values()) out.push(e);
      else if (sel.kind === 'name') {
        const e = m.get(sel.name);
        if (e) out.push(e);
      } else if (sel.prefix !== undefined) {
        // names of stored variables are kept lower-case in `lowerName`
        const pre = sel.prefix;
        for (const e of m.values()) if (e.lowerName.startsWith(pre)) out.push(e);
      } else {
        const re = sel.re;
        const f = sel.factors;
        for (const e of m.values()) if ((f === undefined || hasFactor(e.lowerName, f)) && re.test(e.name)) out.push(e);
      }
      return;
    }
    if (c === 'XML') {
      const src = sel && sel.kind === 'name' && sel.name.includes('@') ? 'XML_ATTRS' : 'XML';
      const l = this.lists.get(src);
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
    const l = this.lists.get(c);
    if (l) {
      pick(l, sel, out);
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

  /** First value of a variable reference, as %{COLL.key} reads it (RULE is the caller's). */
  first(coll: string, key: string | null): string {
    if (coll === 'MATCHED_VAR') return this.matchedVar?.value ?? '';
    if (coll === 'MATCHED_VAR_NAME') return this.matchedVar?.key ?? '';
    if (coll === 'TX') return key === null ? '' : (this.tx.get(key)?.value ?? '');
    if (STORE_COLLS.has(coll)) {
      if (key === null) return '';
      return this.stores.get(coll)?.get(key)?.value ?? '';
    }
    // a single value (REMOTE_ADDR, REQUEST_URI ...): what collect would pick first
    const sc = this.scalars.get(coll);
    if (sc !== undefined) return sc.value;
    const tmp: Entry[] = [];
    this.collect({ coll, selector: key === null ? null : { kind: 'name', name: key }, count: false, exclude: false, source: sourceOf(coll) }, tmp);
    return tmp.length ? tmp[0].value : '';
  }
}

/** The values of collection `l` that selector `sel` picks, appended to `out`. */
function pick(l: Entry[], sel: Selector, out: Entry[]): void {
  if (sel === null) for (let i = 0; i < l.length; i++) out.push(l[i]);
  else if (sel.kind === 'name') {
    const n = sel.name;
    for (let i = 0; i < l.length; i++) if (l[i].lowerName === n) out.push(l[i]);
  } else {
    const re = sel.re;
    for (let i = 0; i < l.length; i++) if (re.test(l[i].name)) out.push(l[i]);
  }
}

/** `name` (lower-case) contains one of `factors` */
function hasFactor(name: string, factors: string[]): boolean {
  for (let i = 0; i < factors.length; i++) if (name.includes(factors[i])) return true;
  return false;
}

/** Does target `t`'s selector pick value `e`? */
export function selects(t: Target, e: Entry): boolean {
  const sel = t.selector;
  if (sel === null) return true;
  if (sel.kind === 'name') {
    const n = sel.name;
    // `COLL:name` (as MATCHED_VARS selections may be written) needs the full key
    return e.lowerName === n || (n.indexOf(':') >= 0 && e.key.toLowerCase() === n);
  }
  return sel.re.test(e.name);
}
