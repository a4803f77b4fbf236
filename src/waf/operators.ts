/**
 * SecLang operators. Each compiles once per rule; `match` runs per (variable, value) with no
 * allocation beyond what the regex engine does. Operators that support `capture` write into
 * the caller's capture slots (TX:0..TX:9).
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { PalisadeError } from '../core/errors.js';
import { maskBytes, type Prefix, parseAddr } from '../core/net/prefix.js';
import { IpTrie } from '../core/net/trie.js';
import { AhoCorasick } from './aho.js';
import { patternGrams, phrasesGrams } from './factors.js';
import { geoLookup } from './geo.js';
import { compilePcre, translatePcre } from './pcre.js';
import { C, outsideNeed, patternNeed, phrasesNeed } from './prefilter.js';
import { RblResolver } from './rbl.js';
import { detectSqli } from './sqli.js';
import { detectXss } from './xss.js';

export interface OpContext {
  /** capture slots TX:0..9 of the last match (undefined = not set) */
  caps: (string | undefined)[];
  /** expands %{...} macros in a dynamic parameter */
  expand(param: string): string;
  /** sets variable `name` of collection `coll` (@geoLookup fills GEO); absent: the operator's side effects are dropped */
  storeVar?(coll: string, name: string, value: string): void;
}

/** What operators that reach outside the request use: the engine's DNS block-list cache (@rbl). */
export interface OperatorEnv {
  rbl?: RblResolver;
}

export interface Operator {
  readonly name: string;
  readonly param: string;
  /** classes a value must have for the operator to match (prefilter.ts); 0 = always run it */
  readonly need: number;
  /** pair filters of literal factors, one of which a matching value contains (factors.ts) */
  readonly grams: Int32Array | null;
  /** the outcome depends on the value alone (no macro in the parameter, no outside state), so
   * a value's verdict can be kept */
  readonly pure: boolean;
  /** true when the operator itself matched (negation is applied by the caller) */
  match(value: string, ctx: OpContext, capture: boolean): boolean;
}

/** An operator with a bad or unknown parameter: the ruleset's content is at fault (E_FORMAT). */
export class OperatorError extends PalisadeError {
  constructor(message: string) {
    super('E_FORMAT', message);
    this.name = 'OperatorError';
  }
}

/** Every operator is built here, so all share one object shape and the rule loop's reads of
 * `match` and `need` stay monomorphic. */
export function makeOperator(name: string, param: string, match: Operator['match'], o: { need?: number; grams?: Int32Array | null; pure?: boolean } = {}): Operator {
  return { name, param, need: o.need ?? 0, grams: o.grams ?? null, pure: o.pure ?? false, match };
}

/** C atoi: leading whitespace, optional sign, digits; anything else ends the number (0 if none). */
function atoi(s: string): number {
  let i = 0;
  const n = s.length;
  while (i < n && (s.charCodeAt(i) === 32 || (s.charCodeAt(i) >= 9 && s.charCodeAt(i) <= 13))) i++;
  let neg = false;
  if (s[i] === '-' || s[i] === '+') {
    neg = s[i] === '-';
    i++;
  }
  let v = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
    i++;
  }
  return neg ? -v : v;
}

function setCaps(ctx: OpContext, m: RegExpExecArray | null, capture: boolean): void {
  if (!capture || !m) return;
  for (let k = 0; k < 10; k++) ctx.caps[k] = k < m.length ? (m[k] ?? '') : undefined;
}

const RX_CACHE_LIMIT = 256;

/**
 * @rx inspects at most this many bytes of a value. Some CRS patterns (back-references, large
 * counted repetitions) cannot use V8's linear-time fallback, and even the linear engine costs
 * O(length x pattern size); bounding the subject keeps every rule's worst case bounded, as
 * ModSecurity's PCRE match limits do. Values are rarely this long; the rest of the value is
 * still seen by @pm, @detectSQLi/@detectXSS and the length checks.
 */
export const RX_SUBJECT_LIMIT = 16384;

function rxOperator(param: string): Operator {
  const dynamic = param.includes('%{');
  const re = dynamic ? null : compilePcre(param);
  const cache = dynamic ? new Map<string, RegExp>() : null;
  // `^.*$` (dot-all, as every translated pattern is) matches any whole value: no regex needed
  const whole = re !== null && re.source === '^.*$' && re.flags.includes('s') && !re.flags.includes('m');
  const source = dynamic || whole ? null : translatePcre(param).source;
  const need = source === null ? 0 : patternNeed(source);
  const grams = source === null ? null : patternGrams(source);
  return makeOperator(
    'rx',
    param,
    (value, ctx, capture) => {
      if (value.length > RX_SUBJECT_LIMIT) value = value.slice(0, RX_SUBJECT_LIMIT);
      if (whole) {
        if (capture) {
          ctx.caps[0] = value;
          for (let k = 1; k < 10; k++) ctx.caps[k] = undefined;
        }
        return true;
      }
      let r = re;
      if (r === null) {
        const p = ctx.expand(param);
        r = (cache as Map<string, RegExp>).get(p) ?? null;
        if (r === null) {
          r = compilePcre(p);
          if ((cache as Map<string, RegExp>).size < RX_CACHE_LIMIT) (cache as Map<string, RegExp>).set(p, r);
        }
      }
      if (!capture) return r.test(value);
      const m = r.exec(value);
      setCaps(ctx, m, capture);
      return m !== null;
    },
    { need, grams, pure: !dynamic },
  );
}

function readPhraseFile(file: string, ruleFile: string): string[] {
  const path = isAbsolute(file) ? file : join(dirname(ruleFile), file);
  const out: string[] = [];
  for (const line of readFileSync(path, 'latin1').split(/\r?\n/)) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    out.push(t);
  }
  return out;
}

function pmOperator(name: string, phrases: string[], param: string): Operator {
  const ac = new AhoCorasick(phrases);
  return makeOperator(
    name,
    param,
    (value, ctx, capture) => {
      const k = ac.search(value);
      if (k < 0) return false;
      if (capture) {
        ctx.caps[0] = ac.phrases[k];
        for (let j = 1; j < 10; j++) ctx.caps[j] = undefined;
      }
      return true;
    },
    { need: phrasesNeed(ac.phrases), grams: phrasesGrams(ac.phrases), pure: true },
  );
}

/** Splits a @pm parameter into phrases (space separated; `"..."` groups words). */
function splitPhrases(param: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let m = re.exec(param); m; m = re.exec(param)) out.push(m[1] ?? m[2]);
  return out;
}

/**
 * One @ipMatch entry as ModSecurity reads it (`inet_pton` plus its own netmask check): an IPv4
 * or IPv6 address, optionally `/len` with 1 <= len <= 32 (128); host bits are cleared. Unlike
 * ModSecurity, surrounding whitespace is allowed (`a, b` lists).
 */
function parseIpMatchEntry(text: string): Prefix | null {
  const s = text.trim();
  const slash = s.indexOf('/');
  const a = parseAddr(slash < 0 ? s : s.slice(0, slash));
  if (a === null) return null;
  const max = a.family === 4 ? 32 : 128;
  if (slash < 0) return { family: a.family, addr: a.addr, len: max };
  const lenText = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) return null;
  const len = Number(lenText);
  // ModSecurity refuses /0 (its netmask check reads 0 as "invalid")
  if (len < 1 || len > max) return null;
  return { family: a.family, addr: maskBytes(a.addr, len), len };
}

/** `list`: entries as written (empty ones are skipped, as ModSecurity's strtok does). */
function ipMatchOperator(param: string, list: string[]): Operator {
  const trie = new IpTrie();
  for (const item of list) {
    if (item.trim() === '') continue;
    const p = parseIpMatchEntry(item);
    if (p === null) throw new OperatorError(`@ipMatch: bad address ${item}`);
    trie.insert(p, true);
  }
  // compiled now, so a request never changes the operator
  trie.compile();
  return makeOperator(
    'ipMatch',
    param,
    (value) => {
      const ip = parseAddr(value.trim());
      if (ip === null) return false;
      const a = ip.addr;
      if (ip.family === 4) return trie.lookup4(((a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3]) >>> 0) >= 0;
      return trie.lookup6(a, 0) >= 0;
    },
    { pure: true },
  );
}

function byteRangeOperator(param: string): Operator {
  const allowed = new Uint8Array(256);
  for (const part of param.split(',')) {
    const t = part.trim();
    if (t === '') continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(t);
    if (!m) throw new OperatorError(`@validateByteRange: bad range ${t}`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let c = lo; c <= hi && c < 256; c++) allowed[c] = 1;
  }
  return makeOperator(
    'validateByteRange',
    param,
    (value) => {
      for (let i = 0; i < value.length; i++) if (!allowed[value.charCodeAt(i) & 0xff]) return true;
      return false;
    },
    { need: outsideNeed(allowed), pure: true },
  );
}

function isHexCode(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** true when the value is NOT a valid UTF-8 byte sequence (the operator "matches" on failure) */
export function invalidUtf8(s: string): boolean {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    let len: number;
    let min: number;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
      min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      min = 0x10000;
    } else return true;
    if (i + len > n) return true;
    let cp = c & (len === 2 ? 0x1f : len === 3 ? 0x0f : 0x07);
    for (let k = 1; k < len; k++) {
      const d = s.charCodeAt(i + k);
      if ((d & 0xc0) !== 0x80) return true;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return true;
    i += len - 1;
  }
  return false;
}

function simple(name: string, param: string, fn: (v: string, p: string) => boolean): Operator {
  const dynamic = param.includes('%{');
  return makeOperator(name, param, (value, ctx) => fn(value, dynamic ? ctx.expand(param) : param), { pure: !dynamic });
}

function numeric(name: string, param: string, cmp: (a: number, b: number) => boolean): Operator {
  const dynamic = param.includes('%{');
  const fixed = atoi(param);
  return makeOperator(name, param, (value, ctx) => cmp(atoi(value), dynamic ? atoi(ctx.expand(param)) : fixed), { pure: !dynamic });
}

export function compileOperator(name: string, param: string, ruleFile: string, env: OperatorEnv = {}): Operator {
  switch (name.toLowerCase()) {
    case 'rx':
      return rxOperator(param);
    case 'pm':
      return pmOperator('pm', splitPhrases(param), param);
    case 'pmf':
    case 'pmfromfile': {
      const phrases: string[] = [];
      for (const f of param.split(/\s+/).filter(Boolean)) phrases.push(...readPhraseFile(f, ruleFile));
      return pmOperator('pmFromFile', phrases, param);
    }
    case 'streq':
      return simple('streq', param, (v, p) => v === p);
    case 'contains':
      return simple('contains', param, (v, p) => v.includes(p));
    case 'containsword':
      return simple('containsWord', param, (v, p) => {
        if (p === '') return true;
        for (let at = v.indexOf(p); at >= 0; at = v.indexOf(p, at + 1)) {
          const b = at === 0 ? '' : v[at - 1];
          const a = v[at + p.length] ?? '';
          if (!/\w/.test(b) && !/\w/.test(a)) return true;
        }
        return false;
      });
    case 'beginswith':
      return simple('beginsWith', param, (v, p) => v.startsWith(p));
    case 'endswith':
      return simple('endsWith', param, (v, p) => v.endsWith(p));
    case 'within':
      return simple('within', param, (v, p) => v.length === 0 || p.includes(v));
    case 'strmatch':
      return simple('strmatch', param, (v, p) => v.includes(p));
    case 'eq':
      return numeric('eq', param, (a, b) => a === b);
    case 'ge':
      return numeric('ge', param, (a, b) => a >= b);
    case 'gt':
      return numeric('gt', param, (a, b) => a > b);
    case 'le':
      return numeric('le', param, (a, b) => a <= b);
    case 'lt':
      return numeric('lt', param, (a, b) => a < b);
    case 'unconditionalmatch':
      return makeOperator('unconditionalMatch', param, () => true);
    case 'nomatch':
      return makeOperator('noMatch', param, () => false);
    case 'ipmatch':
      return ipMatchOperator(param, param.split(','));
    case 'ipmatchfromfile':
    case 'ipmatchf':
      return ipMatchOperator(param, readPhraseFile(param, ruleFile));
    case 'validatebyterange':
      return byteRangeOperator(param);
    case 'validateurlencoding':
      return makeOperator(
        'validateUrlEncoding',
        param,
        (v) => {
          for (let i = 0; i < v.length; i++) {
            if (v.charCodeAt(i) !== 37) continue;
            if (i + 2 >= v.length) return true;
            if (!isHexCode(v.charCodeAt(i + 1)) || !isHexCode(v.charCodeAt(i + 2))) return true;
            i += 2;
          }
          return false;
        },
        // only a `%` can be a bad escape
        { need: C.percent, pure: true },
      );
    case 'validateutf8encoding':
      // only bytes above 0x7f can be bad UTF-8
      return makeOperator('validateUtf8Encoding', param, (v) => invalidUtf8(v), { need: C.high, pure: true });
    case 'detectsqli':
      return makeOperator(
        'detectSQLi',
        param,
        (v, ctx, capture) => {
          const fp = detectSqli(v);
          if (fp === null) return false;
          if (capture) ctx.caps[0] = fp;
          return true;
        },
        { pure: true },
      );
    case 'detectxss':
      // every finding is a tag (`<`) or an attribute with a value (`=`)
      return makeOperator('detectXSS', param, (v) => detectXss(v), { need: C.lt | C.eq, pure: true });
    case 'rbl':
      return rblOperator(param, env);
    case 'geolookup':
      // Matches when the database places the address; its country then fills GEO (geo.ts).
      return makeOperator('geoLookup', param, (v, ctx) => {
        const g = geoLookup(v);
        if (g === null) return false;
        if (ctx.storeVar !== undefined) {
          ctx.storeVar('GEO', 'COUNTRY_CODE', g.COUNTRY_CODE);
          ctx.storeVar('GEO', 'COUNTRY_CODE3', g.COUNTRY_CODE3);
          ctx.storeVar('GEO', 'COUNTRY_NAME', g.COUNTRY_NAME);
          ctx.storeVar('GEO', 'COUNTRY_CONTINENT', g.COUNTRY_CONTINENT);
        }
        return true;
      });
    default:
      throw new OperatorError(`unsupported operator @${name}`);
  }
}

/** Engines made without an RBL resolver share this one (system DNS servers). */
let defaultRbl: RblResolver | null = null;

/**
 * `@rbl zone`: answers from the resolver's cache, which `Waf.prepare(request)` fills before the
 * evaluation (rbl.ts); a value not in the cache does not match and starts its lookup.
 */
function rblOperator(param: string, env: OperatorEnv): Operator {
  const zone = param.trim();
  if (zone === '') throw new OperatorError('@rbl needs a DNS block-list zone');
  const rbl = env.rbl ?? (defaultRbl ??= new RblResolver());
  rbl.zones.add(zone);
  return makeOperator('rbl', param, (v) => rbl.cached(v, zone) === true);
}
