/**
 * Compiler: typed AST → a JavaScript predicate over one view (spec §5, §6, §9).
 *
 * Each node becomes a closure chosen for its operand types when the rule is compiled (as
 * wirefilter picks a matcher per literal): a plain Int field compared with a literal reads the
 * field's `int` accessor and compares numbers; Ip fields compare IPv4 as uint32 and look sets
 * and lists up in an interval trie; Bytes fields point a reused Slice into the packet. Those
 * paths do not allocate per evaluation. Functions, indexes and `[*]` go through generic values.
 */

import { type Prefix, rangeToPrefixes } from '../core/net/prefix.js';
import { IpTrie } from '../core/net/trie.js';
import type { Field, Scheme } from '../scheme/types.js';
import { BYTES, bytesKey, INT, IP, IpValue, Slice, utf8, type Value } from '../scheme/values.js';
import type { Arg, Expr, IntItem, IpItem, Op, Rhs, ValueNode } from './ast.js';
import { RulesError } from './errors.js';
import { bitSlice, FUNCTIONS } from './functions.js';
import { type ListKind, parseExpression, parseIpItem } from './parser.js';

/** A named list (spec §8): ip items are addresses, CIDRs or a..b ranges; int items numbers or "a..b". */
export interface NamedList {
  kind: ListKind;
  items: ReadonlyArray<string | number>;
  /** IP lists kept elsewhere (e.g. a ruleset's tries) may answer lookups themselves instead of items. */
  has4?: (addr: number) => boolean;
  has6?: (buf: Uint8Array, off: number) => boolean;
}
export type Lists = ReadonlyMap<string, NamedList>;

/** A named list whose definition (not the expression) is malformed. */
export class ListError extends Error {
  override name = 'ListError';
}

export interface CompileOptions {
  lists?: Lists | Record<string, NamedList>;
  /** Fuse conditions into one generated function (default true; false keeps the closure tree, which the tests compare it with). */
  fuse?: boolean;
}

export type Predicate<V> = (view: V) => boolean;

export interface CompiledRule<V> {
  readonly expression: string;
  readonly ast: Expr;
  readonly test: Predicate<V>;
}

function listMap(l: CompileOptions['lists']): Lists {
  if (l === undefined) return new Map();
  return l instanceof Map ? l : new Map(Object.entries(l));
}

/** compile(expr, scheme) → predicate (DESIGN.md). Throws RulesError { cls, start, end, message }. */
export function compile<V>(expression: string, scheme: Scheme<V>, opts: CompileOptions = {}): Predicate<V> {
  return compileRule(expression, scheme, opts).test;
}

export function compileRule<V>(expression: string, scheme: Scheme<V>, opts: CompileOptions = {}): CompiledRule<V> {
  const lists = listMap(opts.lists);
  const kinds = new Map<string, ListKind>();
  for (const [k, v] of lists) kinds.set(k, v.kind);
  try {
    const ast = parseExpression(expression, scheme as Scheme<unknown>, kinds);
    const c = new Compiler<V>(scheme, lists);
    return { expression, ast, test: opts.fuse === false ? c.bool(ast) : c.top(ast) };
  } catch (e) {
    if (e instanceof RulesError) e.expression = expression;
    throw e;
  }
}

type Get<V> = (v: V) => Value | undefined;
type Each<V> = (v: V) => Value[];
type ByteTest = (buf: Uint8Array, off: number, len: number) => boolean;
type IntTest = (x: number) => boolean;
interface IpTest {
  v4: (u: number) => boolean;
  v6: (buf: Uint8Array, off: number) => boolean;
}

const EMPTY: Value[] = [];

/** Beyond these a rule keeps its closure tree (V8 does not optimise very large functions). */
const MAX_FUSED_ARGS = 512;
const MAX_FUSED_SOURCE = 32_768;

/** The arguments of a fused predicate's generated function, and its temporaries. */
class Fused {
  readonly names: string[] = [];
  readonly args: unknown[] = [];
  temps = 0;
  arg(x: unknown, prefix: string): string {
    const name = `${prefix}${this.args.length}`;
    this.names.push(name);
    this.args.push(x);
    return name;
  }
}

class Compiler<V> {
  private readonly listCache = new Map<string, IntTest | ByteTest | IpTest>();
  constructor(
    private readonly scheme: Scheme<V>,
    private readonly lists: Lists,
  ) {}

  // ---- fused predicates -------------------------------------------------------------------

  /**
   * The rule's predicate. A rule that combines conditions (and/or/not over comparisons) is fused
   * into one generated function whose body reads the field accessors and compares them with the
   * literals itself: every call site in it has one target, so V8 inlines the accessors, where a
   * tree of closures shares its call sites with every other rule and stays megamorphic. Only
   * accessor functions and integers validated as such go into the generated source; the parts it
   * does not fuse (functions, bytes, sets of strings, ...) are the closures below, called from it.
   */
  top(e: Expr): Predicate<V> {
    if (e.k !== 'and' && e.k !== 'or' && e.k !== 'not') return this.bool(e);
    const g = new Fused();
    const body = this.gen(e, g);
    if (g.args.length > MAX_FUSED_ARGS || body.length > MAX_FUSED_SOURCE) return this.bool(e);
    const temps = g.temps > 0 ? `let ${Array.from({ length: g.temps }, (_, i) => `t${i}`).join(', ')}; ` : '';
    const make = new Function(...g.names, `'use strict'; return function rule(v) { ${temps}return ${body}; };`) as (...a: unknown[]) => Predicate<V>;
    return make(...g.args);
  }

  /** Source of one fused condition (an expression over `v`, the temps t0.. and the arguments in g). */
  private gen(e: Expr, g: Fused): string {
    switch (e.k) {
      case 'and':
        return `(${e.items.map((x) => this.gen(x, g)).join(' && ')})`;
      case 'or':
        return `(${e.items.map((x) => this.gen(x, g)).join(' || ')})`;
      case 'not':
        return `!${this.gen(e.item, g)}`;
      case 'cmp': {
        const { lhs, op, rhs } = e;
        if (lhs.k === 'field') {
          const f = this.field(lhs.name);
          if (lhs.type === INT && f.int) {
            const get = g.arg(f.int, 'g');
            if (op === 'eq' && rhs.k === 'int' && Number.isSafeInteger(rhs.v)) return `(${get}(v) === ${String(rhs.v)})`;
            return `${g.arg(this.intTest(op, rhs), 'm')}(${get}(v))`;
          }
          if (lhs.type === IP && f.ipFam && f.ip4 && f.ip6) {
            // As cmp() does: IPv4 as a number, IPv6 through a reused slice, neither: false.
            const m = this.ipTest(op, rhs);
            const fam = g.arg(f.ipFam, 'f');
            const g4 = g.arg(f.ip4, 'g');
            const g6 = g.arg(f.ip6, 'g');
            const m4 = g.arg(m.v4, 'm');
            const m6 = g.arg(m.v6, 'm');
            const sl = g.arg(new Slice(), 's');
            const t = `t${g.temps++}`;
            return `((${t} = ${fam}(v)) === 4 ? ${m4}(${g4}(v)) : ${t} === 6 ? ${g6}(v, ${sl}) && ${m6}(${sl}.buf, ${sl}.off) : false)`;
          }
        }
        return `${g.arg(this.cmp(lhs, op, rhs), 'c')}(v)`;
      }
      default:
        return `${g.arg(this.bool(e), 'c')}(v)`;
    }
  }

  // ---- conditions ------------------------------------------------------------------------

  bool(e: Expr): Predicate<V> {
    switch (e.k) {
      case 'and': {
        const ps = e.items.map((x) => this.bool(x));
        if (ps.length === 2) {
          const [a, b] = ps as [Predicate<V>, Predicate<V>];
          return (v) => a(v) && b(v);
        }
        return (v) => {
          for (let i = 0; i < ps.length; i++) if (!(ps[i] as Predicate<V>)(v)) return false;
          return true;
        };
      }
      case 'or': {
        const ps = e.items.map((x) => this.bool(x));
        if (ps.length === 2) {
          const [a, b] = ps as [Predicate<V>, Predicate<V>];
          return (v) => a(v) || b(v);
        }
        return (v) => {
          for (let i = 0; i < ps.length; i++) if ((ps[i] as Predicate<V>)(v)) return true;
          return false;
        };
      }
      case 'xor': {
        const ps = e.items.map((x) => this.bool(x));
        return (v) => {
          let r = false;
          for (let i = 0; i < ps.length; i++) if ((ps[i] as Predicate<V>)(v)) r = !r;
          return r;
        };
      }
      case 'not': {
        const p = this.bool(e.item);
        return (v) => !p(v);
      }
      case 'any': {
        const a = this.arr(e.item);
        return (v) => a(v).includes(true);
      }
      case 'all': {
        const a = this.arr(e.item);
        return (v) => !a(v).includes(false);
      }
      case 'value': {
        const g = this.value(e.v);
        return (v) => g(v) === true;
      }
      case 'cmp':
        return this.cmp(e.lhs, e.op, e.rhs);
    }
  }

  /** Array<Bool> conditions: element-wise logic, as long as the shortest operand. */
  private arr(e: Expr): (v: V) => boolean[] {
    switch (e.k) {
      case 'and':
      case 'or':
      case 'xor': {
        const ps = e.items.map((x) => this.arr(x));
        const k = e.k;
        return (v) => {
          const rs = ps.map((p) => p(v));
          const n = Math.min(...rs.map((r) => r.length));
          const out: boolean[] = [];
          for (let i = 0; i < n; i++) {
            let acc = (rs[0] as boolean[])[i] as boolean;
            for (let j = 1; j < rs.length; j++) {
              const x = (rs[j] as boolean[])[i] as boolean;
              acc = k === 'and' ? acc && x : k === 'or' ? acc || x : acc !== x;
            }
            out.push(acc);
          }
          return out;
        };
      }
      case 'not': {
        const p = this.arr(e.item);
        return (v) => p(v).map((x) => !x);
      }
      case 'value': {
        if (e.v.each) {
          const g = this.each(e.v);
          return (v) => g(v).map((x) => x === true);
        }
        const g = this.value(e.v);
        return (v) => {
          const a = g(v);
          return Array.isArray(a) ? a.map((x) => x === true) : [];
        };
      }
      case 'cmp': {
        const g = this.each(e.lhs);
        const m = this.matcher(e.op, e.rhs);
        return (v) => g(v).map(m);
      }
      default:
        throw new Error(`internal: ${e.k} is not an Array<Bool> node`);
    }
  }

  // ---- values ----------------------------------------------------------------------------

  private field(name: string): Field<V> {
    return this.scheme.fields.get(name) as Field<V>;
  }

  private value(n: ValueNode): Get<V> {
    switch (n.k) {
      case 'field': {
        const f = this.field(n.name);
        return (v) => f.get(v);
      }
      case 'call':
        return this.call(n);
      case 'index': {
        const b = this.value(n.base);
        const ix = n.index;
        if (typeof ix === 'number')
          return (v) => {
            const a = b(v);
            return Array.isArray(a) ? a[ix] : undefined;
          };
        return (v) => {
          const m = b(v);
          return m instanceof Map ? m.get(ix as string) : undefined;
        };
      }
    }
  }

  /** Elements of a value path that contains [*] (missing elements dropped). */
  private each(n: ValueNode): Each<V> {
    if (n.k !== 'index') throw new Error('internal: each() on a path without [*]');
    const ix = n.index;
    if (!n.base.each) {
      const b = this.value(n.base);
      if (ix !== '*') throw new Error('internal: each without [*]');
      return (v) => unpack(b(v));
    }
    const b = this.each(n.base);
    if (ix === '*') return (v) => b(v).flatMap((x) => unpack(x));
    if (typeof ix === 'number') {
      return (v) => {
        const out: Value[] = [];
        for (const x of b(v)) if (Array.isArray(x) && x[ix] !== undefined) out.push(x[ix] as Value);
        return out;
      };
    }
    return (v) => {
      const out: Value[] = [];
      for (const x of b(v)) {
        const y = x instanceof Map ? x.get(ix) : undefined;
        if (y !== undefined) out.push(y);
      }
      return out;
    };
  }

  private call(n: Extract<ValueNode, { k: 'call' }>): Get<V> {
    if (n.fn === 'bit_slice') return this.bitSlice(n.args);
    const impl = (FUNCTIONS.get(n.fn) as { make(a: Arg[]): (x: Array<Value | undefined>) => Value | undefined }).make(n.args);
    const getters = n.args.map((a, i): Get<V> => {
      if (a.k === 'lit') {
        const c = a.value;
        return () => c;
      }
      if (a.k === 'cond') {
        const p = this.bool(a.e);
        return (v) => p(v);
      }
      if (i === 0 && a.v.each) return () => undefined; // mapped below
      return this.value(a.v);
    });
    const a0 = n.args[0];
    if (a0 !== undefined && a0.k === 'value' && a0.v.each) {
      const elems = this.each(a0.v);
      const rest = getters.slice(1);
      return (v) => {
        const others = rest.map((g) => g(v));
        const out: Value[] = [];
        for (const x of elems(v)) {
          const r = impl([x, ...others]);
          if (r !== undefined) out.push(r);
        }
        return out;
      };
    }
    if (getters.length === 1) {
      const g = getters[0] as Get<V>;
      return (v) => impl([g(v)]);
    }
    return (v) => impl(getters.map((g) => g(v)));
  }

  private bitSlice(args: Arg[]): Get<V> {
    const proto = bytesKey((args[0] as Extract<Arg, { k: 'lit' }>).value as Uint8Array);
    const start = (args[1] as Extract<Arg, { k: 'lit' }>).value as number;
    const end = (args[2] as Extract<Arg, { k: 'lit' }>).value as number;
    const f = this.field(proto);
    const sl = new Slice();
    const read = f.bytes
      ? (v: V) => ((f.bytes as NonNullable<Field<V>['bytes']>)(v, sl) ? bitSlice(sl.buf, sl.off, sl.len, start, end) : -1)
      : (v: V) => {
          const b = f.get(v);
          return b instanceof Uint8Array ? bitSlice(b, 0, b.length, start, end) : -1;
        };
    return (v) => {
      const x = read(v);
      return x < 0 ? undefined : x;
    };
  }

  // ---- comparisons -----------------------------------------------------------------------

  private cmp(lhs: ValueNode, op: Op, rhs: Rhs): Predicate<V> {
    const t = lhs.type;
    if (lhs.k === 'field') {
      const f = this.field(lhs.name);
      if (t === INT && f.int) {
        const get = f.int;
        const m = this.intTest(op, rhs);
        if (op === 'eq' && rhs.k === 'int') {
          const k = rhs.v;
          return (v) => get(v) === k;
        }
        return (v) => m(get(v));
      }
      if (t === BYTES && f.bytes) {
        const get = f.bytes;
        const m = this.byteTest(op, rhs);
        const sl = new Slice();
        return (v) => get(v, sl) && m(sl.buf, sl.off, sl.len);
      }
      if (t === IP && f.ipFam && f.ip4 && f.ip6) {
        const fam = f.ipFam;
        const g4 = f.ip4;
        const g6 = f.ip6;
        const m = this.ipTest(op, rhs);
        const m4 = m.v4;
        const m6 = m.v6;
        const sl = new Slice();
        return (v) => {
          const fa = fam(v);
          if (fa === 4) return m4(g4(v));
          if (fa === 6) return g6(v, sl) && m6(sl.buf, sl.off);
          return false;
        };
      }
    }
    const g = this.value(lhs);
    const m = this.matcher(op, rhs);
    return (v) => m(g(v));
  }

  /** A test over one runtime value (missing → false), for generic paths and [*] elements. */
  private matcher(op: Op, rhs: Rhs): (x: Value | undefined) => boolean {
    switch (rhs.k) {
      case 'int':
      case 'intset':
        return this.intMatcher(op, rhs);
      case 'ip':
      case 'ipset': {
        const m = this.ipTest(op, rhs);
        return (x) => (x instanceof IpValue ? (x.fam === 4 ? m.v4(x.v4) : m.v6(x.v6 as Uint8Array, 0)) : false);
      }
      case 'list': {
        const l = this.lists.get(rhs.name) as NamedList;
        if (l.kind === 'int') return this.intMatcher(op, rhs);
        if (l.kind === 'ip') {
          const m = this.ipTest(op, rhs);
          return (x) => (x instanceof IpValue ? (x.fam === 4 ? m.v4(x.v4) : m.v6(x.v6 as Uint8Array, 0)) : false);
        }
        const b = this.byteTest(op, rhs);
        return (x) => x instanceof Uint8Array && b(x, 0, x.length);
      }
      default: {
        const b = this.byteTest(op, rhs);
        return (x) => x instanceof Uint8Array && b(x, 0, x.length);
      }
    }
  }

  private intMatcher(op: Op, rhs: Rhs): (x: Value | undefined) => boolean {
    const m = this.intTest(op, rhs);
    return (x) => typeof x === 'number' && m(x);
  }

  /** Int test; NaN (missing) fails every test, including ne. */
  private intTest(op: Op, rhs: Rhs): IntTest {
    if (rhs.k === 'intset') return intSetTest(rhs.items);
    if (rhs.k === 'list') return this.listTest(rhs.name) as IntTest;
    const k = (rhs as { v: number }).v;
    switch (op) {
      case 'eq':
        return (x) => x === k;
      case 'ne':
        return (x) => !Number.isNaN(x) && x !== k;
      case 'lt':
        return (x) => x < k;
      case 'le':
        return (x) => x <= k;
      case 'gt':
        return (x) => x > k;
      case 'ge':
        return (x) => x >= k;
      case 'band':
        if (Number.isSafeInteger(k) && k >= -0x80000000 && k <= 0xffffffff) {
          return (x) => (x >= -0x80000000 && x <= 0xffffffff ? (x & k) !== 0 : !Number.isNaN(x) && (BigInt(x) & BigInt(k)) !== 0n);
        }
        return (x) => !Number.isNaN(x) && (BigInt(x) & BigInt(k)) !== 0n;
      default:
        throw new Error(`internal: ${op} on Int`);
    }
  }

  private byteTest(op: Op, rhs: Rhs): ByteTest {
    switch (rhs.k) {
      case 'regex': {
        const re = rhs.re;
        return (b, o, n) => re.test(b, o, n);
      }
      case 'wildcard': {
        const w = rhs.w;
        return (b, o, n) => w.match(b, o, n);
      }
      case 'bytesset':
        return bytesSetTest(rhs.items);
      case 'list':
        return this.listTest(rhs.name) as ByteTest;
      case 'bytes':
        break;
      default:
        throw new Error(`internal: ${rhs.k} on Bytes`);
    }
    const k = rhs.v;
    const kl = k.length;
    switch (op) {
      case 'eq':
        return (b, o, n) => n === kl && eqAt(b, o, k);
      case 'ne':
        return (b, o, n) => n !== kl || !eqAt(b, o, k);
      case 'lt':
        return (b, o, n) => cmpBytes(b, o, n, k) < 0;
      case 'le':
        return (b, o, n) => cmpBytes(b, o, n, k) <= 0;
      case 'gt':
        return (b, o, n) => cmpBytes(b, o, n, k) > 0;
      case 'ge':
        return (b, o, n) => cmpBytes(b, o, n, k) >= 0;
      case 'contains':
        return containsTest(k);
      default:
        throw new Error(`internal: ${op} on Bytes`);
    }
  }

  private ipTest(op: Op, rhs: Rhs): IpTest {
    if (rhs.k === 'ipset') return ipSetTest(rhs.items);
    if (rhs.k === 'list') return this.listTest(rhs.name) as IpTest;
    const k = (rhs as { v: IpValue }).v;
    const cmp4 = (u: number) => (u < k.v4 ? -1 : u > k.v4 ? 1 : 0);
    const cmp6 = (b: Uint8Array, o: number) => {
      const y = k.v6 as Uint8Array;
      for (let i = 0; i < 16; i++) if (b[o + i] !== y[i]) return (b[o + i] as number) < (y[i] as number) ? -1 : 1;
      return 0;
    };
    // Across families: never equal and never ordered, so only ne is true (spec §5).
    const mk = (f: (c: number) => boolean, across: boolean): IpTest =>
      k.fam === 4 ? { v4: (u) => f(cmp4(u)), v6: () => across } : { v4: () => across, v6: (b, o) => f(cmp6(b, o)) };
    switch (op) {
      case 'eq':
        return mk((c) => c === 0, false);
      case 'ne':
        return mk((c) => c !== 0, true);
      case 'lt':
        return mk((c) => c < 0, false);
      case 'le':
        return mk((c) => c <= 0, false);
      case 'gt':
        return mk((c) => c > 0, false);
      case 'ge':
        return mk((c) => c >= 0, false);
      default:
        throw new Error(`internal: ${op} on Ip`);
    }
  }

  private listTest(name: string): IntTest | ByteTest | IpTest {
    const hit = this.listCache.get(name);
    if (hit) return hit;
    const l = this.lists.get(name) as NamedList;
    let t: IntTest | ByteTest | IpTest;
    if (l.kind === 'ip' && l.has4 && l.has6) {
      t = { v4: l.has4, v6: l.has6 };
    } else if (l.kind === 'int') {
      const items: IntItem[] = l.items.map((x) => {
        if (typeof x === 'number') return { lo: x, hi: x };
        const m = /^(-?\d+)\.\.(-?\d+)$/.exec(String(x).trim());
        const n = Number(x);
        if (m) return { lo: Number(m[1]), hi: Number(m[2]) };
        if (Number.isInteger(n)) return { lo: n, hi: n };
        throw new ListError(`list $${name}: "${x}" is not an integer or a..b range`);
      });
      t = intSetTest(items);
    } else if (l.kind === 'bytes') {
      t = bytesSetTest(l.items.map((x) => utf8(String(x))));
    } else {
      const items = l.items.map((x) => {
        const it = parseIpItem(String(x).trim());
        if (typeof it === 'string') throw new ListError(`list $${name}: "${x}": ${it}`);
        return it;
      });
      t = ipSetTest(items);
    }
    this.listCache.set(name, t);
    return t;
  }
}

function unpack(x: Value | undefined): Value[] {
  if (Array.isArray(x)) return x;
  if (x instanceof Map) return [...x.values()];
  return EMPTY;
}

function eqAt(b: Uint8Array, o: number, k: Uint8Array): boolean {
  for (let i = 0; i < k.length; i++) if (b[o + i] !== k[i]) return false;
  return true;
}

/** Lexicographic by unsigned byte. */
function cmpBytes(b: Uint8Array, o: number, n: number, k: Uint8Array): number {
  const m = Math.min(n, k.length);
  for (let i = 0; i < m; i++) {
    const d = (b[o + i] as number) - (k[i] as number);
    if (d !== 0) return d;
  }
  return n - k.length;
}

function containsTest(k: Uint8Array): ByteTest {
  const kl = k.length;
  if (kl === 0) return () => true;
  const first = k[0] as number;
  return (b, o, n) => {
    const end = o + n - kl;
    let i = o;
    while (i <= end) {
      i = b.indexOf(first, i);
      if (i < 0 || i > end) return false;
      let j = 1;
      while (j < kl && b[i + j] === k[j]) j++;
      if (j === kl) return true;
      i++;
    }
    return false;
  };
}

function intSetTest(items: IntItem[]): IntTest {
  if (items.length === 0) return () => false;
  const sorted = [...items].sort((a, b) => a.lo - b.lo);
  const lo: number[] = [];
  const hi: number[] = [];
  for (const it of sorted) {
    const n = lo.length;
    if (n > 0 && it.lo <= (hi[n - 1] as number) + 1) hi[n - 1] = Math.max(hi[n - 1] as number, it.hi);
    else {
      lo.push(it.lo);
      hi.push(it.hi);
    }
  }
  if (lo.length === 1) {
    const a = lo[0] as number;
    const b = hi[0] as number;
    return (x) => x >= a && x <= b;
  }
  if (lo.length <= 8) {
    return (x) => {
      for (let i = 0; i < lo.length; i++) if (x >= (lo[i] as number) && x <= (hi[i] as number)) return true;
      return false;
    };
  }
  const L = Float64Array.from(lo);
  const H = Float64Array.from(hi);
  return (x) => {
    let a = 0;
    let b = L.length - 1;
    while (a < b) {
      const m = (a + b + 1) >>> 1;
      if ((L[m] as number) <= x) a = m;
      else b = m - 1;
    }
    return x >= (L[a] as number) && x <= (H[a] as number);
  };
}

function bytesSetTest(items: Uint8Array[]): ByteTest {
  if (items.length <= 8) {
    return (b, o, n) => {
      for (const k of items) if (k.length === n && eqAt(b, o, k)) return true;
      return false;
    };
  }
  const keys = new Set(items.map((k) => bytesKey(k)));
  const lens = new Set(items.map((k) => k.length));
  return (b, o, n) => lens.has(n) && keys.has(bytesKey(b, o, n));
}

/** IP sets and lists: one trie per family, built once; v4 and v6 never mix (spec §5). */
function ipSetTest(items: IpItem[]): IpTest {
  const trie = new IpTrie<true>();
  let n4 = 0;
  let n6 = 0;
  for (const it of items) {
    const ps: Prefix[] = 'lo' in it ? rangeToPrefixes(it.fam, it.lo, it.hi) : [{ family: it.fam, addr: it.addr, len: it.len }];
    for (const p of ps) {
      trie.insert(p, true);
      if (p.family === 4) n4++;
      else n6++;
    }
  }
  return {
    v4: n4 === 0 ? () => false : (u) => trie.lookup4(u) >= 0,
    v6: n6 === 0 ? () => false : (b, o) => trie.lookup6(b, o) >= 0,
  };
}
