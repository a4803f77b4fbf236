/**
 * Parser and checker of the Rules language (spec §2–§8, §11) in one left-to-right pass.
 *
 * Why one pass: the right-hand literal is lexed according to the left side's type (spec §4:
 * `10.20.30.40` is hex bytes after a Bytes field and an address after an Ip field), and the
 * spec reports the first error in left-to-right order across classes, so types must be known
 * while parsing. Field and function lookups come from the scheme; function signatures from
 * functions.ts. The result is a typed AST (ast.ts); compile.ts turns it into a predicate.
 */
import type { Scheme } from '../scheme/types.js';
import { arrayOf, BOOL, BYTES, bytesKey, elemOf, INT, IP, isArray, isMap, type Type, type Value } from '../scheme/values.js';
import type { Arg, Expr, IntItem, IpItem, Op, Rhs, Span, ValueNode } from './ast.js';
import { RulesError } from './errors.js';
import { checkCall, FUNCTIONS } from './functions.js';
import { parseIpText } from './ipaddr.js';
import {
  fail,
  HEX_CHARS,
  INT_CHARS,
  IP_CHARS,
  isRawStart,
  isWordChar,
  KEYWORDS,
  parseHexBytes,
  parseIntText,
  SET_IP_CHARS,
  Src,
  scanIdent,
  scanQuoted,
  scanRaw,
  scanRegexQuoted,
  scanRun,
  scanWord,
  skipWs,
} from './lexer.js';
import { compileRegex, RegexError } from './regex.js';
import { Wildcard, WildcardError } from './wildcard.js';

export type ListKind = 'ip' | 'int' | 'bytes';

/** What the parser needs to know about named lists: their kinds. */
export type ListKinds = { get(name: string): ListKind | undefined };

/** Nesting cap (parentheses, not, calls): the spec requires at least 128. */
const MAX_DEPTH = 256;

type Item = Expr | { k: 'raw'; v: ValueNode; span: Span };

const LIST_KIND_TYPE: Record<ListKind, Type> = { ip: IP, int: INT, bytes: BYTES };

export function parseExpression(text: string, scheme: Scheme<unknown>, lists: ListKinds = new Map()): Expr {
  return new Parser(new Src(text), scheme, lists).top();
}

class Parser {
  private pos = 0;
  private depth = 0;
  constructor(
    private readonly s: Src,
    private readonly scheme: Scheme<unknown>,
    private readonly lists: ListKinds,
  ) {}

  top(): Expr {
    try {
      return this.expression();
    } catch (e) {
      // An error at the end of the input (unterminated, missing ")") has no token to cover: its
      // span is empty at the end rather than one past it.
      if (e instanceof RulesError && e.end > this.s.n) throw new RulesError(e.cls, e.start, Math.max(e.start, this.s.n), e.message);
      throw e;
    }
  }

  private expression(): Expr {
    const first = skipWs(this.s, 0);
    if (first >= this.s.n) fail(this.s.n, this.s.n, 'empty expression: expected a condition');
    const item = this.parseOr();
    const e = this.cond(item);
    const p = skipWs(this.s, this.pos);
    if (p < this.s.n) fail(p, p + 1, `unexpected ${this.s.quote(p)}: expected "and", "or", "xor" or the end`);
    if (e.arr) throw new RulesError('type', first, this.pos, 'the expression is an Array<Bool> (it uses [*]): wrap it in any(…) or all(…)');
    return e;
  }

  // ---- conditions ------------------------------------------------------------------------

  /** Use an item as a condition: Bool or Array<Bool> values pass, others are a type error at their start. */
  private cond(it: Item): Expr {
    if (it.k !== 'raw') return it;
    const v = it.v;
    if (v.type === BOOL) return { k: 'value', v, arr: v.each, span: it.span };
    if (v.type === arrayOf(BOOL) && !v.each) return { k: 'value', v, arr: true, span: it.span };
    throw new RulesError('type', it.span.start, it.span.end, `${describe(v)} is ${typeName(v)}, not a condition: compare it with an operator`);
  }

  private logicOp(i: number, word: string, sym: string): number {
    const s = this.s;
    if (s.startsWith(sym, i)) return i + 2;
    const e = scanWord(s, i);
    return e > i && s.slice(i, e) === word ? e : -1;
  }

  private chain(kind: 'or' | 'xor' | 'and', sym: string, next: () => Item): Item {
    const start = skipWs(this.s, this.pos);
    const first = next();
    let after = this.logicOp(skipWs(this.s, this.pos), kind, sym);
    if (after < 0) return first;
    const items: Expr[] = [this.cond(first)];
    const arr = items[0]?.arr ?? false;
    while (after >= 0) {
      this.pos = after;
      const at = skipWs(this.s, this.pos);
      const e = this.cond(next());
      if (e.arr !== arr) {
        throw new RulesError(
          'type',
          at,
          this.pos,
          arr ? `"${kind}" mixes an Array<Bool> (from [*]) with a Bool` : `"${kind}" mixes a Bool with an Array<Bool> (from [*]): wrap it in any(…) or all(…)`,
        );
      }
      items.push(e);
      after = this.logicOp(skipWs(this.s, this.pos), kind, sym);
    }
    return { k: kind, items, arr, span: { start, end: this.pos } };
  }

  private parseOr(): Item {
    return this.chain('or', '||', () => this.parseXor());
  }
  private parseXor(): Item {
    return this.chain('xor', '^^', () => this.parseAnd());
  }
  private parseAnd(): Item {
    return this.chain('and', '&&', () => this.parseUnary());
  }

  private enter(at: number): void {
    if (++this.depth > MAX_DEPTH) fail(at, at + 1, `expression nested deeper than ${MAX_DEPTH} levels`);
  }

  private parseUnary(): Item {
    const s = this.s;
    const p = skipWs(s, this.pos);
    const w = scanWord(s, p);
    const isNot = (w > p && s.slice(p, w) === 'not' && s.at(w) !== '.') || (s.at(p) === '!' && s.at(p + 1) !== '=');
    if (!isNot) return this.parsePrimary();
    this.enter(p);
    this.pos = s.at(p) === '!' ? p + 1 : w;
    const e = this.cond(this.parseUnary());
    this.depth--;
    return { k: 'not', item: e, arr: e.arr, span: { start: p, end: this.pos } };
  }

  /** After a complete condition or value: what may follow (else a parse error there). */
  private checkContinuation(): void {
    const s = this.s;
    const p = skipWs(s, this.pos);
    if (p >= s.n) return;
    const c = s.at(p);
    if (c === ')' || c === ',') return;
    if (s.startsWith('&&', p) || s.startsWith('||', p) || s.startsWith('^^', p)) return;
    const w = scanWord(s, p);
    const word = s.slice(p, w);
    if (w > p && (word === 'and' || word === 'or' || word === 'xor')) return;
    fail(p, Math.max(w, p + 1), `unexpected ${s.quote(p)}: expected an operator, "and", "or", "xor", ")" or the end`);
  }

  private parsePrimary(): Item {
    const s = this.s;
    const p = skipWs(s, this.pos);
    if (p >= s.n) fail(s.n, s.n, 'unexpected end of the expression: expected a condition');
    const c = s.at(p);
    if (c === '(') {
      this.enter(p);
      this.pos = p + 1;
      const inner = this.parseOr();
      const q = skipWs(s, this.pos);
      if (s.at(q) !== ')') fail(q, q + 1, `expected ")" to close the "(" at ${p}, found ${s.quote(q)}`);
      this.pos = q + 1;
      this.depth--;
      this.checkContinuation();
      return inner.k === 'raw' ? { ...inner, span: { start: p, end: this.pos } } : inner;
    }
    // A raw string r"…" starts like an identifier, so literals are recognised before names.
    if (c === '"' || isRawStart(s, p) || c === "'") fail(p, p + 1, 'a literal cannot start a condition: the field or function goes on the left');
    const q = scanIdent(s, p);
    if (q === p) {
      fail(p, p + 1, `unexpected ${s.quote(p)}: expected a field, a function or "("`);
    }
    const name = s.slice(p, q);
    if (KEYWORDS.has(name)) fail(p, q, `unexpected keyword "${name}": expected a condition`);
    if ((name === 'any' || name === 'all') && s.at(skipWs(s, q)) === '(') return this.quantifier(name, p, skipWs(s, q));
    const v = this.parseValue(p, q);
    return this.comparison(v);
  }

  private quantifier(q: 'any' | 'all', start: number, paren: number): Expr {
    const s = this.s;
    this.enter(start);
    this.pos = paren + 1;
    const at = skipWs(s, this.pos);
    const item = this.parseOr();
    const argEnd = this.pos;
    const close = skipWs(s, this.pos);
    if (s.at(close) !== ')') fail(close, close + 1, `expected ")" to close ${q}(…), found ${s.quote(close)}`);
    this.pos = close + 1;
    this.depth--;
    let e: Expr;
    try {
      e = this.cond(item);
    } catch (err) {
      if (err instanceof RulesError && err.cls === 'type') throw new RulesError('type', at, argEnd, `${q}(…) takes an Array<Bool> (a comparison on [*]); ${err.message}`);
      throw err;
    }
    if (!e.arr) throw new RulesError('type', at, argEnd, `${q}(…) takes an Array<Bool> (a comparison whose left side uses [*]), found a Bool`);
    this.checkContinuation();
    return { k: q, item: e, arr: false, span: { start, end: this.pos } };
  }

  // ---- values ----------------------------------------------------------------------------

  private parseValue(p: number, q: number): ValueNode {
    const s = this.s;
    const name = s.slice(p, q);
    const next = skipWs(s, q);
    let v: ValueNode;
    const field = this.scheme.fields.get(name);
    if (field) {
      v = { k: 'field', name, type: field.type, each: false, span: { start: p, end: q } };
      this.pos = q;
    } else if (FUNCTIONS.has(name) && s.at(next) === '(' && (name !== 'bit_slice' || this.scheme.fields.has('ip'))) {
      v = this.parseCall(name, p, q, next);
    } else if (s.at(next) === '(') {
      throw new RulesError('unknown_function', p, q, `unknown function "${name}"${suggest(name, [...FUNCTIONS.keys()])}`);
    } else if (FUNCTIONS.has(name)) {
      fail(next, next + 1, `expected "(" after the function name ${name}`);
    } else {
      throw new RulesError('unknown_field', p, q, `unknown field "${name}" in the ${this.scheme.name} scheme${suggest(name, [...this.scheme.fields.keys()])}`);
    }
    for (;;) {
      const b = skipWs(s, this.pos);
      if (s.at(b) !== '[') return v;
      v = this.parseIndex(v, b);
    }
  }

  private parseIndex(base: ValueNode, b: number): ValueNode {
    const s = this.s;
    const t = base.type;
    if (!isArray(t) && !isMap(t)) throw new RulesError('type', b, b + 1, `${describe(base)} is ${t}: only arrays and maps take [ ]`);
    const i = skipWs(s, b + 1);
    let index: number | string | '*';
    let end: number;
    const c = s.at(i);
    if (c === '*') {
      index = '*';
      end = i + 1;
    } else if (c === '"' || isRawStart(s, i)) {
      const lit = c === '"' ? scanQuoted(s, i) : scanRaw(s, i);
      if (!isMap(t)) throw new RulesError('type', b, b + 1, `${describe(base)} is ${t}: index arrays by position ([0]), not by key`);
      index = bytesKey(lit.bytes);
      end = lit.end;
    } else if (c >= '0' && c <= '9') {
      end = scanRun(s, i, INT_CHARS);
      const n = parseIntText(s.slice(i, end));
      if (n === null || n < 0) fail(i, end, `bad index ${s.quote(i)}: expected a non-negative integer, a quoted key or *`);
      if (!isArray(t)) throw new RulesError('type', b, b + 1, `${describe(base)} is ${t}: index maps by key (["name"]), not by position`);
      index = n;
    } else {
      fail(i, i + 1, `bad index ${s.quote(i)}: expected a non-negative integer, a quoted key or *`);
    }
    const close = skipWs(s, end);
    if (s.at(close) !== ']') fail(close, close + 1, `expected "]", found ${s.quote(close)}`);
    this.pos = close + 1;
    return { k: 'index', base, index, type: elemOf(t), each: base.each || index === '*', span: { start: base.span.start, end: this.pos }, bracket: b };
  }

  private parseCall(name: string, p: number, q: number, paren: number): ValueNode {
    const s = this.s;
    this.enter(p);
    const args: Arg[] = [];
    let i = skipWs(s, paren + 1);
    if (s.at(i) === ')') this.pos = i + 1;
    else {
      this.pos = paren + 1;
      for (;;) {
        args.push(this.parseArg());
        const j = skipWs(s, this.pos);
        if (s.at(j) === ',') {
          this.pos = j + 1;
          continue;
        }
        if (s.at(j) === ')') {
          this.pos = j + 1;
          break;
        }
        fail(j, j + 1, `expected "," or ")" in the arguments of ${name}(…), found ${s.quote(j)}`);
      }
    }
    i = this.pos;
    this.depth--;
    const nameSpan = { start: p, end: q };
    const type = checkCall(name, args, nameSpan, this.scheme);
    return { k: 'call', fn: name, args, type, each: false, span: { start: p, end: i }, nameSpan };
  }

  private parseArg(): Arg {
    const s = this.s;
    const j = skipWs(s, this.pos);
    const c = s.at(j);
    if (c === '"' || isRawStart(s, j)) {
      const lit = c === '"' ? scanQuoted(s, j) : scanRaw(s, j);
      this.pos = lit.end;
      return { k: 'lit', type: BYTES, value: lit.bytes, span: { start: j, end: lit.end } };
    }
    if (c === '-' || (c >= '0' && c <= '9')) {
      const e = scanRun(s, j + 1, IP_CHARS);
      const text = s.slice(j, e);
      const n = parseIntText(text);
      if (n !== null) {
        this.pos = e;
        return { k: 'lit', type: INT, value: n, span: { start: j, end: e } };
      }
      const ip = parseIpText(text);
      if (ip !== null) {
        this.pos = e;
        return { k: 'lit', type: IP, value: ip, span: { start: j, end: e } };
      }
      fail(j, e, `malformed literal "${text}": expected an integer, an address or a string`);
    }
    this.pos = j;
    const item = this.parseOr();
    const span = { start: j, end: this.pos };
    if (item.k === 'raw') return { k: 'value', v: item.v, span };
    const e = this.cond(item);
    return { k: 'cond', e, span };
  }

  // ---- comparisons -----------------------------------------------------------------------

  /** Operator at i: [op, end] or null. */
  private operator(i: number): [Op, number] | null {
    const s = this.s;
    const two = s.at(i) + s.at(i + 1);
    if (two === '==') return ['eq', i + 2];
    if (two === '!=') return ['ne', i + 2];
    if (two === '<=') return ['le', i + 2];
    if (two === '>=') return ['ge', i + 2];
    if (two === '&&') return null;
    const c = s.at(i);
    if (c === '<') return ['lt', i + 1];
    if (c === '>') return ['gt', i + 1];
    if (c === '~') return ['matches', i + 1];
    if (c === '&') return ['band', i + 1];
    const w = scanWord(s, i);
    if (w === i) return null;
    const word = s.slice(i, w);
    switch (word) {
      case 'eq':
      case 'ne':
      case 'lt':
      case 'le':
      case 'gt':
      case 'ge':
      case 'contains':
      case 'matches':
      case 'wildcard':
      case 'in':
        return [word, w];
      case 'bitwise_and':
        return ['band', w];
      case 'strict': {
        const k = skipWs(s, w);
        const w2 = scanWord(s, k);
        if (k > w && s.slice(k, w2) === 'wildcard') return ['strict_wildcard', w2];
        fail(k, Math.max(w2, k + 1), `expected "wildcard" after "strict", found ${s.quote(k)}`);
      }
    }
    return null;
  }

  private comparison(v: ValueNode): Item {
    const s = this.s;
    const i = skipWs(s, this.pos);
    const opm = this.operator(i);
    if (opm === null) {
      this.checkContinuation();
      return { k: 'raw', v, span: { start: v.span.start, end: this.pos } };
    }
    const [op, opEnd] = opm;
    const opSpan = { start: i, end: opEnd };
    const t = v.type;
    if (t === BOOL) throw new RulesError('type', i, opEnd, `${describe(v)} is a Bool: use it on its own (or with not), without "${s.slice(i, opEnd)}"`);
    if (isArray(t) || isMap(t))
      throw new RulesError('type', i, opEnd, `"${s.slice(i, opEnd)}" does not apply to ${describe(v)} (${t}): index it ([0], ["key"]) or use [*] inside any(…)/all(…)`);
    const allowed: Record<string, Op[]> = {
      [INT]: ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'in', 'band'],
      [BYTES]: ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'in', 'contains', 'matches', 'wildcard', 'strict_wildcard'],
      [IP]: ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'in'],
    };
    if (!allowed[t]?.includes(op)) throw new RulesError('type', i, opEnd, `"${s.slice(i, opEnd)}" does not apply to ${describe(v)} (${t})`);
    const j = skipWs(s, opEnd);
    const rhs = this.rhs(v, t, op, j);
    const cmp: Expr = { k: 'cmp', lhs: v, op, rhs, arr: v.each, span: { start: v.span.start, end: this.pos }, opSpan, rhsSpan: { start: j, end: this.pos } };
    this.checkContinuation();
    return cmp;
  }

  private rhs(v: ValueNode, t: Type, op: Op, j: number): Rhs {
    const s = this.s;
    if (op === 'in') {
      if (s.at(j) === '{') return this.set(t, j);
      if (s.at(j) === '$') return this.listRef(v, t, j);
      fail(j, j + 1, `expected a set {…} or a list $name after "in", found ${s.quote(j)}`);
    }
    if (op === 'matches') {
      const c = s.at(j);
      if (c !== '"' && !isRawStart(s, j)) return this.notPattern(t, j, 'a regular expression');
      const lit = c === '"' ? scanRegexQuoted(s, j) : scanRaw(s, j);
      this.pos = lit.end;
      try {
        return { k: 'regex', re: compileRegex(lit.bytes), source: lit.bytes };
      } catch (e) {
        if (e instanceof RegexError) throw new RulesError('pattern', j, lit.end, `invalid regular expression: ${e.message}`);
        throw e;
      }
    }
    if (op === 'wildcard' || op === 'strict_wildcard') {
      const c = s.at(j);
      if (c !== '"' && !isRawStart(s, j)) return this.notPattern(t, j, 'a wildcard pattern');
      const lit = c === '"' ? scanQuoted(s, j) : scanRaw(s, j);
      this.pos = lit.end;
      try {
        return { k: 'wildcard', w: new Wildcard(lit.bytes, op === 'wildcard'), source: lit.bytes };
      } catch (e) {
        if (e instanceof WildcardError) throw new RulesError('pattern', j, lit.end, `invalid wildcard: ${e.message}`);
        throw e;
      }
    }
    const [value, end] = this.literal(t, j, false);
    this.pos = end;
    if (t === INT) return { k: 'int', v: value as number };
    if (t === BYTES) return { k: 'bytes', v: value as Uint8Array };
    return { k: 'ip', v: value as never };
  }

  /**
   * Text at j is no literal of type t (spec §4): a valid literal of another kind is a type error
   * covering that literal; anything else is a parse error. With `token` (where the caller's bare
   * token ends), the other literal counts only when it is the whole token: after a Bytes field
   * `61:6` is a malformed hex string, not the integer 61 followed by junk.
   */
  private wrongLiteral(t: Type, j: number, want: string, token?: number, malformed?: string): never {
    const s = this.s;
    const found = this.literalAt(j);
    if (found !== null && found.type !== t && (token === undefined || found.end >= token)) {
      throw new RulesError('type', j, found.end, `expected ${want} for ${t}, found ${kindName(found.type)}`);
    }
    return fail(j, Math.max(token ?? j + 1, j + 1), malformed ?? `expected ${want}, found ${s.quote(j)}`);
  }

  /**
   * The valid literal of any kind at j (for type errors): its type and end, or null. A string
   * that does not scan (bad escape, unterminated) raises its own parse error: it is no literal.
   */
  private literalAt(j: number): { type: Type; end: number } | null {
    const s = this.s;
    const c = s.at(j);
    if (c === '"') return { type: BYTES, end: scanQuoted(s, j).end };
    if (isRawStart(s, j)) return { type: BYTES, end: scanRaw(s, j).end };
    const ie = scanRun(s, c === '-' ? j + 1 : j, INT_CHARS);
    const ipe = scanRun(s, j, IP_CHARS);
    if (ipe > ie && parseIpText(s.slice(j, ipe)) !== null) return { type: IP, end: ipe };
    if (ie > j && parseIntText(s.slice(j, ie)) !== null) return { type: INT, end: ie };
    if (parseIpText(s.slice(j, ipe)) !== null) return { type: IP, end: ipe };
    return null;
  }

  /**
   * A pattern (spec §5.1, §5.2) that is not a quoted or raw string. Hex bytes are a Bytes literal
   * but not a pattern form, so they are a parse error rather than a literal of another kind.
   */
  private notPattern(t: Type, j: number, what: string): never {
    const s = this.s;
    const token = scanRun(s, j, HEX_CHARS);
    if (parseHexBytes(s.slice(j, token)) !== null) fail(j, token, `${what} must be a quoted or raw string; hex bytes (${s.slice(j, token)}) are not a pattern`);
    return this.wrongLiteral(t, j, `${what} string`, token > j ? token : undefined);
  }

  /** One literal of type t at j; returns [value, end]. */
  private literal(t: Type, j: number, inSet: boolean): [Value, number] {
    const s = this.s;
    const c = s.at(j);
    if (t === BYTES) {
      if (c === '"') {
        const l = scanQuoted(s, j);
        return [l.bytes, l.end];
      }
      if (isRawStart(s, j)) {
        const l = scanRaw(s, j);
        return [l.bytes, l.end];
      }
      const e = scanRun(s, j, HEX_CHARS);
      const hex = parseHexBytes(s.slice(j, e));
      if (hex !== null) return [hex, e];
      const found = e > j ? `"${s.slice(j, e)}"` : s.quote(j);
      const hint = 'a string ("…", r"…") or hex bytes (two hex digits per byte, separated by ":", "-" or ".")';
      return this.wrongLiteral(t, j, 'a string', e > j ? e : undefined, `malformed literal ${found}: expected ${hint}`);
    }
    if (t === INT) {
      if (c === '"' || isRawStart(s, j)) return this.wrongLiteral(t, j, 'an integer');
      const e = scanRun(s, c === '-' ? j + 1 : j, INT_CHARS);
      const ipe = scanRun(s, j, IP_CHARS);
      const n = e > j ? parseIntText(s.slice(j, e)) : null;
      if (ipe > e && parseIpText(s.slice(j, ipe)) !== null) throw new RulesError('type', j, ipe, 'expected an integer, found an IP address');
      if (n === null) {
        if (e > j && /^-?[0-9]/.test(s.slice(j, e))) fail(j, e, `malformed integer ${s.quote(j)}`);
        return this.wrongLiteral(t, j, 'an integer', e > j ? e : undefined);
      }
      return [n, e];
    }
    // Ip
    if (c === '"' || isRawStart(s, j)) return this.wrongLiteral(t, j, 'an IP address');
    const e = scanRun(s, j, IP_CHARS);
    if (!inSet) this.singleAddressOnly(j, e);
    const ip = parseIpText(s.slice(j, e));
    if (ip !== null) return [ip, e];
    const ie = scanRun(s, c === '-' ? j + 1 : j, INT_CHARS);
    if (ie === e && ie > j && parseIntText(s.slice(j, ie)) !== null) throw new RulesError('type', j, ie, 'expected an IP address, found an integer');
    return fail(j, Math.max(e, j + 1), `malformed IP address ${s.quote(j)}`);
  }

  /**
   * Outside sets an Ip literal is one address (spec §4): CIDRs and a..b ranges are parse errors
   * at the start of the literal, covering all of it (`ip.src == 10.0.0.0/8`), not at the "/".
   */
  private singleAddressOnly(j: number, addrEnd: number): void {
    const s = this.s;
    const end = scanRun(s, j, SET_IP_CHARS);
    const text = s.slice(j, end);
    if (end === addrEnd && !text.includes('..')) return;
    const item = parseIpItem(text);
    if (typeof item === 'string') fail(j, end, `${item}: "${text}"`);
    const form = 'len' in item ? 'a CIDR' : 'an address range';
    fail(j, end, `${form} (${text}) is allowed only in a set {…} or a list; this operator takes a single address`);
  }

  private set(t: Type, open: number): Rhs {
    const s = this.s;
    let i = open + 1;
    const ints: IntItem[] = [];
    const bytes: Uint8Array[] = [];
    const ips: IpItem[] = [];
    for (;;) {
      i = skipWs(s, i);
      const c = s.at(i);
      if (i >= s.n) fail(s.n, s.n, `unterminated set: expected "}" to close the "{" at ${open}`);
      if (c === '}') {
        this.pos = i + 1;
        break;
      }
      if (c === ',') fail(i, i + 1, 'set items are separated by spaces, not commas');
      if (t === INT) {
        const [lo, e] = this.literal(t, i, true);
        if (s.startsWith('..', e)) {
          // A range lacking its high bound (`1..`, `1.. 5`, `1...5`) is one malformed literal: reported at its start.
          const b = s.at(e + 2);
          if (!(b >= '0' && b <= '9') && b !== '-') {
            const bad = Math.max(scanRun(s, e + 2, IP_CHARS), e + 2);
            fail(i, bad, `malformed range "${s.slice(i, bad)}": expected low..high, with no space around ".."`);
          }
          const [hi, e2] = this.literal(t, e + 2, true);
          if ((hi as number) < (lo as number)) fail(i, e2, `range ${s.slice(i, e2)} is reversed`);
          ints.push({ lo: lo as number, hi: hi as number });
          i = e2;
        } else {
          ints.push({ lo: lo as number, hi: lo as number });
          i = e;
        }
      } else if (t === BYTES) {
        const [b, e] = this.literal(t, i, true);
        bytes.push(b as Uint8Array);
        i = e;
      } else {
        const e = scanRun(s, i, SET_IP_CHARS);
        const text = s.slice(i, e);
        if (e === i) this.literal(t, i, true); // raises the right error
        const item = parseIpItem(text);
        if (typeof item === 'string') {
          if (this.literalAt(i)?.type === INT && !text.includes('.') && !text.includes(':')) throw new RulesError('type', i, e, 'expected an IP address, found an integer');
          fail(i, e, `${item}: "${text}"`);
        }
        ips.push(item);
        i = e;
      }
      const nx = s.at(i);
      if (i < s.n && nx !== '}' && nx !== ' ' && nx !== '\t' && nx !== '\r' && nx !== '\n') {
        if (nx === ',') fail(i, i + 1, 'set items are separated by spaces, not commas');
        fail(i, i + 1, `unexpected ${s.quote(i)} in a set`);
      }
    }
    if (t === INT) return { k: 'intset', items: ints };
    if (t === BYTES) return { k: 'bytesset', items: bytes };
    return { k: 'ipset', items: ips };
  }

  private listRef(v: ValueNode, t: Type, j: number): Rhs {
    const s = this.s;
    let e = j + 1;
    while (e < s.n && /^[a-z0-9_]$/.test(s.at(e))) e++;
    if (e === j + 1 || isWordChar(s.at(e))) fail(j, Math.max(scanWord(s, j + 1), j + 1), 'a list name is $ followed by lowercase letters, digits and _');
    const name = s.slice(j + 1, e);
    const kind = this.lists.get(name);
    if (kind === undefined) throw new RulesError('unknown_list', j, e, `no list named $${name}`);
    if (LIST_KIND_TYPE[kind] !== t) throw new RulesError('type', j, e, `$${name} is a list of ${kind} values; ${describe(v)} is ${t}`);
    this.pos = e;
    return { k: 'list', name };
  }
}

/** An item of an IP set or list: address, CIDR (host bits zero) or a..b range; a message when malformed. */
export function parseIpItem(text: string): IpItem | string {
  const dd = text.indexOf('..');
  if (dd >= 0) {
    const a = parseIpText(text.slice(0, dd));
    const b = parseIpText(text.slice(dd + 2));
    if (a === null || b === null) return 'malformed address range';
    if (a.fam !== b.fam) return 'a range must have both ends in the same family';
    const lo = a.fam === 4 ? u32Bytes(a.v4) : (a.v6 as Uint8Array);
    const hi = b.fam === 4 ? u32Bytes(b.v4) : (b.v6 as Uint8Array);
    for (let k = 0; k < lo.length; k++) {
      if (lo[k] !== hi[k]) {
        if ((lo[k] as number) > (hi[k] as number)) return 'a range must be ordered (low..high)';
        break;
      }
    }
    return { fam: a.fam, lo, hi };
  }
  const slash = text.indexOf('/');
  const addr = parseIpText(slash < 0 ? text : text.slice(0, slash));
  if (addr === null) return 'malformed IP address';
  const bytes = addr.fam === 4 ? u32Bytes(addr.v4) : (addr.v6 as Uint8Array);
  const max = addr.fam === 4 ? 32 : 128;
  if (slash < 0) return { fam: addr.fam, addr: bytes, len: max };
  const lt = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(lt) || Number(lt) > max) return `bad prefix length (0 to ${max})`;
  const len = Number(lt);
  for (let bit = len; bit < max; bit++) {
    if (((bytes[bit >> 3] as number) >> (7 - (bit & 7))) & 1) return 'a CIDR prefix must have its host bits zero';
  }
  return { fam: addr.fam, addr: bytes, len };
}

function u32Bytes(u: number): Uint8Array {
  return Uint8Array.of(u >>> 24, (u >>> 16) & 255, (u >>> 8) & 255, u & 255);
}

function kindName(t: Type): string {
  return t === BYTES ? 'a string' : t === INT ? 'an integer' : t === IP ? 'an IP address' : t;
}
function typeName(v: ValueNode): string {
  return v.each ? `each ${v.type} (from [*])` : v.type;
}
export function describe(v: ValueNode): string {
  if (v.k === 'field') return v.name;
  if (v.k === 'call') return `${v.fn}(…)`;
  return `${describe(v.base)}[${v.index === '*' ? '*' : typeof v.index === 'number' ? v.index : JSON.stringify(v.index)}]`;
}

/** ", did you mean …?" for near misses (case or one edit), to make unknown names actionable. */
function suggest(name: string, known: string[]): string {
  const lower = name.toLowerCase();
  const hit = known.find((k) => k.toLowerCase() === lower) ?? known.find((k) => editDistance1(k, name));
  return hit ? ` (did you mean ${hit}?)` : '';
}
function editDistance1(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 1 || a === b) return false;
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      i++;
      j++;
      continue;
    }
    if (++d > 1) return false;
    if (a.length > b.length) i++;
    else if (b.length > a.length) j++;
    else {
      i++;
      j++;
    }
  }
  return d + (a.length - i) + (b.length - j) <= 1;
}
