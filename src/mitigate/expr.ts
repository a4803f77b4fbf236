/**
 * The packet-rule IR that mitigation works on: a Rules-language expression over the packet
 * scheme, reduced to boolean structure over comparisons of one field with literals. The rule
 * engine evaluates it over PacketViews; the exporters translate it to nftables, iptables,
 * Flowspec and Cloudflare. Every node keeps the span of its source text so that whatever a target
 * cannot express is reported precisely.
 *
 * `parseExpr` reads the packet subset of the Rules language (specs/rules-language.md):
 * comparisons (`== != < <= > >= eq ne lt le gt ge`, `in {set}`, `in $list`, `&`/`bitwise_and`),
 * Bool fields, `not`/`!`, `and`/`&&`, `xor`/`^^`, `or`/`||` with the spec's precedence, Int
 * (decimal, 0x hex, 0 octal), IP, CIDR and range literals, quoted strings. Functions, `contains`,
 * `matches` and `wildcard` are refused with a span.
 */
import type { PacketView } from '../decode/view.js';
import { type ListSet } from './lists.js';
import { type Prefix, parseAddr, parsePrefixes } from './prefix.js';

export interface Span {
  start: number;
  end: number;
}

export type FieldType = 'int' | 'ip' | 'bytes' | 'bool';

export interface FieldDef {
  name: string;
  type: FieldType;
}

/** The packet fields the mitigation engine and exporters know (spec §10.1). */
export const PACKET_FIELDS: Record<string, FieldType> = {
  'ip.src': 'ip',
  'ip.dst': 'ip',
  'ip.proto': 'bytes',
  'ip.proto.num': 'int',
  'ip.len': 'int',
  'ip.hdr_len': 'int',
  'ip.ttl': 'int',
  'ip.version': 'int',
  'ip.id': 'int',
  'ip.dscp': 'int',
  'ip.frag_offset': 'int',
  'ip.opt.type': 'int',
  'ip.flags.df': 'bool',
  'ip.flags.mf': 'bool',
  'ip.flags.rb': 'bool',
  'tcp.srcport': 'int',
  'tcp.dstport': 'int',
  'tcp.flags': 'int',
  'tcp.flags.fin': 'bool',
  'tcp.flags.syn': 'bool',
  'tcp.flags.reset': 'bool',
  'tcp.flags.push': 'bool',
  'tcp.flags.ack': 'bool',
  'tcp.flags.urg': 'bool',
  'tcp.flags.ecn': 'bool',
  'tcp.flags.cwr': 'bool',
  'tcp.window': 'int',
  'tcp.hdr_len': 'int',
  'udp.srcport': 'int',
  'udp.dstport': 'int',
  'udp.len': 'int',
  'icmp.type': 'int',
  'icmp.code': 'int',
  'payload.len': 'int',
};

export type CmpOp = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';

/** Literal values after type checking. */
export type Lit = { t: 'int'; v: number } | { t: 'ip'; family: 4 | 6; addr: Uint8Array } | { t: 'bytes'; v: string };

/** An item of a set literal. */
export type SetItem = { t: 'int'; lo: number; hi: number } | { t: 'prefix'; p: Prefix } | { t: 'bytes'; v: string };

export type Node =
  | { k: 'and' | 'or' | 'xor'; items: Node[]; span: Span }
  | { k: 'not'; item: Node; span: Span }
  | { k: 'bool'; field: string; span: Span }
  | { k: 'cmp'; field: string; op: CmpOp; lit: Lit; span: Span; litSpan: Span }
  | { k: 'in'; field: string; items: SetItem[]; span: Span; litSpan: Span }
  | { k: 'list'; field: string; list: string; span: Span; litSpan: Span }
  | { k: 'band'; field: string; mask: number; span: Span; litSpan: Span };

export class ExprError extends Error {
  constructor(
    message: string,
    readonly start: number,
    readonly end: number,
    readonly cls: 'parse' | 'unknown_field' | 'unknown_function' | 'type' | 'unknown_list' | 'unsupported' = 'parse',
  ) {
    super(message);
  }
}

const KEYWORDS = new Set(['and', 'or', 'xor', 'not', 'in', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'contains', 'matches', 'wildcard', 'strict', 'bitwise_and']);

interface Tok {
  k: 'id' | 'sym' | 'str' | 'word' | 'end';
  s: string;
  start: number;
  end: number;
}

/** Parse a packet-scheme expression into the IR. `lists` decides which `$name`s exist. */
export function parseExpr(src: string, lists?: { has(name: string): boolean }): Node {
  let pos = 0;
  const ws = (): void => {
    while (pos < src.length && ' \t\r\n'.includes(src[pos] as string)) pos++;
  };
  const peekSym = (s: string): boolean => {
    ws();
    return src.startsWith(s, pos);
  };
  const word = (): Tok => {
    ws();
    const start = pos;
    if (pos >= src.length) return { k: 'end', s: '', start, end: start };
    const m = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*/.exec(src.slice(pos));
    if (m) {
      pos += m[0].length;
      return { k: KEYWORDS.has(m[0]) ? 'word' : 'id', s: m[0], start, end: pos };
    }
    return { k: 'sym', s: src[pos] as string, start, end: start + 1 };
  };
  const fail = (msg: string, start: number, end = start + 1, cls: ExprError['cls'] = 'parse'): never => {
    throw new ExprError(msg, start, Math.max(end, start), cls);
  };
  const keyword = (kw: string): boolean => {
    ws();
    if (!src.startsWith(kw, pos)) return false;
    const after = src[pos + kw.length];
    if (after !== undefined && /[A-Za-z0-9_.]/.test(after)) return false;
    pos += kw.length;
    return true;
  };
  const sym = (...ss: string[]): string | null => {
    ws();
    for (const s of ss) {
      if (src.startsWith(s, pos)) {
        pos += s.length;
        return s;
      }
    }
    return null;
  };

  const parseOr = (): Node => {
    const start = (ws(), pos);
    const items = [parseXor()];
    while (keyword('or') || sym('||')) items.push(parseXor());
    return items.length === 1 ? (items[0] as Node) : { k: 'or', items, span: { start, end: pos } };
  };
  const parseXor = (): Node => {
    const start = (ws(), pos);
    const items = [parseAnd()];
    while (keyword('xor') || sym('^^')) items.push(parseAnd());
    return items.length === 1 ? (items[0] as Node) : { k: 'xor', items, span: { start, end: pos } };
  };
  const parseAnd = (): Node => {
    const start = (ws(), pos);
    const items = [parseUnary()];
    while (keyword('and') || sym('&&')) items.push(parseUnary());
    return items.length === 1 ? (items[0] as Node) : { k: 'and', items, span: { start, end: pos } };
  };
  const parseUnary = (): Node => {
    const start = (ws(), pos);
    if (keyword('not') || (src[pos] === '!' && src[pos + 1] !== '=' && sym('!'))) {
      const item = parseUnary();
      return { k: 'not', item, span: { start, end: pos } };
    }
    return parsePrimary();
  };
  const parsePrimary = (): Node => {
    ws();
    const start = pos;
    if (sym('(')) {
      const e = parseOr();
      if (!sym(')')) fail('expected ")"', (ws(), pos));
      return e;
    }
    const t = word();
    if (t.k === 'end') return fail('expected a field, found the end of the expression', src.length, src.length);
    if (t.k !== 'id') return fail(`expected a field, found "${t.s}"`, t.start, t.end);
    if (peekSym('(')) return fail(`function ${t.s}() is not supported by the mitigation engine`, t.start, t.end, 'unknown_function');
    const type = PACKET_FIELDS[t.s];
    if (type === undefined) return fail(`unknown packet field "${t.s}"`, t.start, t.end, 'unknown_field');
    ws();
    const opStart = pos;
    if (type === 'bool') {
      const next = src.slice(pos);
      if (/^(==|!=|<|>|&|~|(eq|ne|lt|le|gt|ge|in|contains|matches|wildcard|bitwise_and)\b)/.test(next)) {
        return fail(`${t.s} is a Bool: use it on its own (or with not), not with an operator`, opStart, opStart + 2, 'type');
      }
      return { k: 'bool', field: t.s, span: { start, end: t.end } };
    }
    const opText =
      sym('==', '!=', '<=', '>=', '<', '>', '&&', '&') ??
      (() => {
        const w = word();
        if (w.k === 'word') return w.s;
        pos = w.start;
        return null;
      })();
    if (opText === null || ['&&', 'and', 'or', 'xor', 'not'].includes(opText)) {
      // A non-Bool value used as a condition is a type error; anything else here is a parse error.
      const rest = src.slice(opStart);
      if (opText !== null || rest === '' || /^(\)|\|\||\^\^)/.test(rest)) return fail(`${t.s} is not a Bool: compare it with an operator`, start, t.end, 'type');
      return fail(`expected an operator after ${t.s}, found "${rest.slice(0, 10)}"`, opStart, opStart + 1);
    }
    const op =
      ({ '==': 'eq', '!=': 'ne', '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge', '&': 'band', bitwise_and: 'band' } as Record<string, string>)[opText] ?? opText;
    if (op === 'contains' || op === 'matches' || op === 'wildcard' || op === 'strict') {
      return fail(`"${opText}" is not supported by the mitigation engine`, opStart, pos, 'unsupported');
    }
    ws();
    const litStart = pos;
    {
      // A valid literal of the wrong kind is a type error at the literal (spec §4).
      const first = op === 'in' && src[pos] === '{' ? (src.slice(pos + 1).match(/^\s*(\S)/)?.[1] ?? '') : (src[pos] ?? '');
      const at = op === 'in' && src[pos] === '{' ? pos + 1 + (src.slice(pos + 1).match(/^\s*/)?.[0].length ?? 0) : pos;
      const isString = first === '"' || /^r#*"/.test(src.slice(at));
      if (type !== 'bytes' && isString) return fail(`expected ${type === 'int' ? 'an Int' : 'an IP'} literal on ${t.s}, found a string`, at, at + 1, 'type');
      if (type === 'bytes' && op !== 'in' && /^[0-9]/.test(first)) return fail(`expected a string literal on ${t.s}, found a number`, at, at + 1, 'type');
    }
    if (op === 'in') {
      if (sym('$')) {
        const m = /^[a-z0-9_]+/.exec(src.slice(pos));
        if (!m || /^[A-Za-z0-9_]/.test(src.slice(pos + m[0].length))) return fail('a list name is $ followed by lowercase letters, digits and _', litStart, pos + 1);
        pos += m[0].length;
        if (type !== 'ip') return fail(`named lists hold IP addresses here; ${t.s} is ${type}`, litStart, pos, 'type');
        if (lists && !lists.has(m[0])) return fail(`no list named $${m[0]}`, litStart, pos, 'unknown_list');
        return { k: 'list', field: t.s, list: m[0], span: { start, end: pos }, litSpan: { start: litStart, end: pos } };
      }
      if (!sym('{')) return fail('expected "{" or "$name" after "in"', pos);
      const items: SetItem[] = [];
      for (;;) {
        ws();
        if (sym('}')) break;
        if (pos >= src.length) return fail('unterminated set: expected "}"', src.length, src.length);
        if (src[pos] === ',') return fail('set items are separated by spaces, not commas', pos);
        const is = pos;
        if (type === 'bytes') {
          items.push({ t: 'bytes', v: readString() });
          continue;
        }
        const m = /^[^\s{},]+/.exec(src.slice(pos));
        const text = m ? m[0] : '';
        pos += text.length;
        if (type === 'int') {
          const r = /^(.+?)\.\.(.+)$/.exec(text);
          const lo = parseIntLit(r ? (r[1] as string) : text);
          const hi = r ? parseIntLit(r[2] as string) : lo;
          if (lo === null || hi === null) return fail(`expected an Int or a range a..b, found "${text}"`, is, pos);
          if (lo > hi) return fail(`range ${text} is reversed`, is, pos);
          items.push({ t: 'int', lo, hi });
        } else {
          const ps = parsePrefixes(text.replace('..', '-'), { lenient: false });
          if (typeof ps === 'string') return fail(ps, is, pos);
          for (const p of ps) items.push({ t: 'prefix', p });
        }
      }
      return { k: 'in', field: t.s, items, span: { start, end: pos }, litSpan: { start: litStart, end: pos } };
    }
    if (op === 'band') {
      if (type !== 'int') return fail(`"&" applies to Int fields; ${t.s} is ${type}`, opStart, opStart + 1, 'type');
      const m = /^-?[A-Za-z0-9_]+/.exec(src.slice(pos));
      const v = m ? parseIntLit(m[0]) : null;
      if (v === null) return fail('expected an Int literal after "&"', pos);
      pos += (m as RegExpExecArray)[0].length;
      return { k: 'band', field: t.s, mask: v, span: { start, end: pos }, litSpan: { start: litStart, end: pos } };
    }
    let lit: Lit;
    if (type === 'bytes') lit = { t: 'bytes', v: readString() };
    else {
      const m = (type === 'int' ? /^-?[A-Za-z0-9_]+/ : /^[0-9A-Za-z:._]+/).exec(src.slice(pos));
      const text = m ? m[0] : '';
      pos += text.length;
      if (type === 'int') {
        const v = parseIntLit(text);
        if (v === null) return fail(`expected an Int literal after "${opText}" on ${t.s} (Int), found "${text}"`, litStart, pos);
        lit = { t: 'int', v };
      } else {
        const a = parseAddr(text);
        if (a === null) return fail(`expected an IP address after "${opText}" on ${t.s} (Ip), found "${text}"`, litStart, pos);
        lit = { t: 'ip', family: a.family, addr: a.addr };
      }
    }
    return { k: 'cmp', field: t.s, op: op as CmpOp, lit, span: { start, end: pos }, litSpan: { start: litStart, end: pos } };
  };

  function parseIntLit(s: string): number | null {
    let v: number;
    if (/^-?0x[0-9a-fA-F]+$/.test(s)) v = Number.parseInt(s.replace('0x', ''), 16) * (s.startsWith('-') ? -1 : 1);
    else if (/^-?0[0-7]+$/.test(s)) v = Number.parseInt(s, 8);
    else if (/^-?(0|[1-9][0-9]*)$/.test(s)) v = Number(s);
    else return null;
    // Int is signed 64-bit; values past 2^53 only ever meet small packet fields, so a double is exact enough.
    const big = BigInt(s.startsWith('-') ? -1 : 1) * BigInt(s.replace(/^-/, '').replace(/^0x/, '0x').replace(/^0([0-7]+)$/, '0o$1'));
    return big >= -(2n ** 63n) && big < 2n ** 63n ? v : null;
  }

  function readString(): string {
    ws();
    const start = pos;
    if (src[pos] !== '"') return fail('expected a quoted string', pos);
    pos++;
    let out = '';
    while (pos < src.length && src[pos] !== '"') {
      if (src[pos] === '\\') {
        const n = src[pos + 1];
        if (n === '"' || n === '\\') {
          out += n;
          pos += 2;
          continue;
        }
        return fail('only \\" and \\\\ escapes are supported here', pos, pos + 2);
      }
      out += src[pos];
      pos++;
    }
    if (pos >= src.length) return fail('unterminated string', start);
    pos++;
    return out;
  }

  ws();
  if (pos >= src.length) fail('empty expression', 0, 0);
  const node = parseOr();
  ws();
  if (pos < src.length) fail(`unexpected "${src.slice(pos, pos + 10)}"`, pos, pos + 1);
  return node;
}

// ---------------------------------------------------------------------------------------------
// Evaluation over a PacketView. Missing values make every comparison false (spec §9).

const PROTO_NAMES: Record<number, string> = {
  1: 'icmp',
  2: 'igmp',
  4: 'ipip',
  6: 'tcp',
  17: 'udp',
  41: 'ipv6',
  47: 'gre',
  50: 'esp',
  51: 'ah',
  58: 'icmpv6',
  89: 'ospf',
  103: 'pim',
  132: 'sctp',
};
export const PROTO_NUMBERS: Record<string, number> = Object.fromEntries(Object.entries(PROTO_NAMES).map(([k, v]) => [v, Number(k)]));

const MISSING = -1;

/** Int value of a field, or MISSING (all Int packet fields are non-negative). */
export function intField(name: string, v: PacketView): number {
  const ip = v.ipVersion !== 0;
  const tcp = v.l4Proto === 6 && v.l4Off >= 0;
  const udp = v.l4Proto === 17 && v.l4Off >= 0;
  const icmp = (v.l4Proto === 1 || v.l4Proto === 58) && v.l4Off >= 0;
  switch (name) {
    case 'ip.proto.num':
      return ip ? v.ipProto : MISSING;
    case 'ip.len':
      return ip ? v.ipLen : MISSING;
    case 'ip.hdr_len':
      return ip ? v.ipHdrLen : MISSING;
    case 'ip.ttl':
      return ip ? v.ttl : MISSING;
    case 'ip.version':
      return ip ? v.ipVersion : MISSING;
    case 'ip.id':
      return v.ipVersion === 4 ? v.ipId : MISSING;
    case 'ip.dscp':
      return ip ? v.ipDscp : MISSING;
    case 'ip.frag_offset':
      return ip ? v.fragOffset : MISSING;
    case 'ip.opt.type':
      return v.ipVersion === 4 && v.ipOptType >= 0 ? v.ipOptType : MISSING;
    case 'tcp.srcport':
      return tcp ? v.srcPort : MISSING;
    case 'tcp.dstport':
      return tcp ? v.dstPort : MISSING;
    case 'tcp.flags':
      return tcp ? v.tcpFlags : MISSING;
    case 'tcp.window':
      return tcp ? v.tcpWindow : MISSING;
    case 'tcp.hdr_len':
      return tcp ? v.tcpHdrLen : MISSING;
    case 'udp.srcport':
      return udp ? v.srcPort : MISSING;
    case 'udp.dstport':
      return udp ? v.dstPort : MISSING;
    case 'udp.len':
      return udp ? v.udpLen : MISSING;
    case 'icmp.type':
      return icmp ? v.icmpType : MISSING;
    case 'icmp.code':
      return icmp ? v.icmpCode : MISSING;
    case 'payload.len':
      return v.payloadOff >= 0 ? v.payloadWireLen : MISSING;
  }
  return MISSING;
}

const TCP_FLAG_BITS: Record<string, number> = {
  'tcp.flags.fin': 0x01,
  'tcp.flags.syn': 0x02,
  'tcp.flags.reset': 0x04,
  'tcp.flags.push': 0x08,
  'tcp.flags.ack': 0x10,
  'tcp.flags.urg': 0x20,
  'tcp.flags.ecn': 0x40,
  'tcp.flags.cwr': 0x80,
};
export { TCP_FLAG_BITS };

function boolField(name: string, v: PacketView): boolean {
  const bit = TCP_FLAG_BITS[name];
  if (bit !== undefined) return v.l4Proto === 6 && v.l4Off >= 0 && (v.tcpFlags & bit) !== 0;
  if (v.ipVersion !== 4) return false;
  if (name === 'ip.flags.df') return (v.ipFlags & 2) !== 0;
  if (name === 'ip.flags.mf') return (v.ipFlags & 1) !== 0;
  if (name === 'ip.flags.rb') return (v.ipFlags & 4) !== 0;
  return false;
}

function cmpNum(op: CmpOp, a: number, b: number): boolean {
  switch (op) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    case 'lt':
      return a < b;
    case 'le':
      return a <= b;
    case 'gt':
      return a > b;
    case 'ge':
      return a >= b;
  }
}

/** Compare the packet's address (family, at buf/off or u32) with a literal: -2 when families differ. */
function cmpAddr(v: PacketView, dst: boolean, lit: { family: 4 | 6; addr: Uint8Array }): number {
  if (v.ipVersion === 4) {
    if (lit.family !== 4) return -2;
    const a = (dst ? v.dst4 : v.src4) >>> 0;
    const b = (((lit.addr[0] as number) << 24) | ((lit.addr[1] as number) << 16) | ((lit.addr[2] as number) << 8) | (lit.addr[3] as number)) >>> 0;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (lit.family !== 6) return -2;
  const off = dst ? v.dst6Off : v.src6Off;
  for (let i = 0; i < 16; i++) {
    const d = (v.buf[off + i] as number) - (lit.addr[i] as number);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

export type Predicate = (v: PacketView) => boolean;

/** Compile the IR into a predicate over PacketViews (list membership through `lists`). */
export function compileNode(n: Node, lists: ListSet | null): Predicate {
  switch (n.k) {
    case 'and': {
      const ps = n.items.map((i) => compileNode(i, lists));
      return (v) => {
        for (const p of ps) if (!p(v)) return false;
        return true;
      };
    }
    case 'or': {
      const ps = n.items.map((i) => compileNode(i, lists));
      return (v) => {
        for (const p of ps) if (p(v)) return true;
        return false;
      };
    }
    case 'xor': {
      const ps = n.items.map((i) => compileNode(i, lists));
      return (v) => {
        let c = false;
        for (const p of ps) if (p(v)) c = !c;
        return c;
      };
    }
    case 'not': {
      const p = compileNode(n.item, lists);
      return (v) => !p(v);
    }
    case 'bool':
      return (v) => boolField(n.field, v);
    case 'band': {
      const f = n.field;
      const m = n.mask;
      return (v) => {
        const x = intField(f, v);
        return x !== MISSING && (x & m) !== 0;
      };
    }
    case 'list': {
      const l = lists?.get(n.list);
      if (!l) throw new ExprError(`no list named $${n.list}`, n.litSpan.start, n.litSpan.end, 'unknown_list');
      return n.field === 'ip.dst' ? (v) => l.hasDst(v) : (v) => l.hasSrc(v);
    }
    case 'in': {
      const f = n.field;
      const type = PACKET_FIELDS[f];
      if (type === 'int') {
        const ranges = n.items.filter((i) => i.t === 'int') as { lo: number; hi: number }[];
        return (v) => {
          const x = intField(f, v);
          if (x === MISSING) return false;
          for (const r of ranges) if (x >= r.lo && x <= r.hi) return true;
          return false;
        };
      }
      if (type === 'bytes') {
        const set = new Set(n.items.map((i) => (i.t === 'bytes' ? i.v : '')));
        return (v) => v.ipVersion !== 0 && set.has(PROTO_NAMES[v.ipProto] ?? String(v.ipProto));
      }
      // IP set: a small trie-free scan (sets in rules are short; big ones belong in lists).
      const dst = f === 'ip.dst';
      const ps = n.items.filter((i) => i.t === 'prefix').map((i) => (i as { p: Prefix }).p);
      return (v) => {
        if (v.ipVersion === 0) return false;
        for (const p of ps) {
          if (p.family !== v.ipVersion) continue;
          if (inPrefix(v, dst, p)) return true;
        }
        return false;
      };
    }
    case 'cmp': {
      const f = n.field;
      const op = n.op;
      const lit = n.lit;
      if (lit.t === 'int') {
        const b = lit.v;
        return (v) => {
          const x = intField(f, v);
          return x !== MISSING && cmpNum(op, x, b);
        };
      }
      if (lit.t === 'bytes') {
        const want = lit.v;
        return (v) => {
          if (v.ipVersion === 0) return false;
          const name = PROTO_NAMES[v.ipProto] ?? String(v.ipProto);
          return cmpNum(op, name < want ? -1 : name > want ? 1 : 0, 0);
        };
      }
      const dst = f === 'ip.dst';
      return (v) => {
        if (v.ipVersion === 0) return false;
        const c = cmpAddr(v, dst, lit);
        if (c === -2) return op === 'ne';
        return cmpNum(op, c, 0);
      };
    }
  }
}

function inPrefix(v: PacketView, dst: boolean, p: Prefix): boolean {
  if (p.family === 4) {
    const a = (dst ? v.dst4 : v.src4) >>> 0;
    const n = (((p.addr[0] as number) << 24) | ((p.addr[1] as number) << 16) | ((p.addr[2] as number) << 8) | (p.addr[3] as number)) >>> 0;
    const mask = p.len === 0 ? 0 : (0xffffffff << (32 - p.len)) >>> 0;
    return (a & mask) >>> 0 === n;
  }
  const off = dst ? v.dst6Off : v.src6Off;
  let bits = p.len;
  for (let i = 0; i < 16 && bits > 0; i++) {
    const m = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((v.buf[off + i] as number) & m) !== (p.addr[i] as number)) return false;
    bits -= 8;
  }
  return true;
}

/** Render a caret line under a span, as the CLI prints expression errors. */
export function caret(src: string, start: number, end: number): string {
  const width = Math.max(1, end - start);
  return `${src}\n${' '.repeat(start)}${'^'.repeat(width)}`;
}
