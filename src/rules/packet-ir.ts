/**
 * The packet-rule IR that mitigation and the exporters work on: a Rules-language expression over
 * the packet scheme, parsed and type-checked by the one Rules engine (parser.ts), then reduced to
 * boolean structure over comparisons of one header field with literals — the part of the language
 * nftables, iptables, Flowspec and Cloudflare's Magic Firewall can express. Every node keeps the
 * span of its source text so whatever a target cannot express is reported precisely.
 *
 * What the language has and the IR does not (functions, `contains`/`matches`/`wildcard`,
 * indexes, quantifiers, payload/DNS/GeoIP fields) is refused with class `unsupported` at the
 * construct. Evaluation goes through the Rules compiler (compilePacketRule), never a second
 * evaluator.
 */

import { PalisadeError } from '../core/errors.js';
import { type Prefix, rangeToPrefixes } from '../core/net/prefix.js';
import type { PacketView } from '../decode/view.js';
import { packetScheme } from '../scheme/packet.js';
import { type FieldCaps, fieldsWith, type Scheme } from '../scheme/types.js';
import { bytesKey } from '../scheme/values.js';
import type { Expr, IpItem, Span } from './ast.js';
import { compile, type NamedList } from './compile.js';
import { type ErrorClass, RulesError } from './errors.js';
import { type ListKind, parseExpression } from './parser.js';

export type { Span };

export type FieldType = NonNullable<FieldCaps['ir']>;

/** Packet fields the mitigation engine and exporters can express (spec §10.1): the catalogue's fields with an IR kind. */
export const PACKET_FIELDS: Readonly<Record<string, FieldType>> = Object.fromEntries(fieldsWith(packetScheme, 'ir').map((f) => [f.name, f.caps.ir]));

export const TCP_FLAG_BITS: Record<string, number> = {
  'tcp.flags.fin': 0x01,
  'tcp.flags.syn': 0x02,
  'tcp.flags.reset': 0x04,
  'tcp.flags.push': 0x08,
  'tcp.flags.ack': 0x10,
  'tcp.flags.urg': 0x20,
  'tcp.flags.ecn': 0x40,
  'tcp.flags.cwr': 0x80,
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

/**
 * An expression error: a Rules-language error class (code E_RULE), or `unsupported` (code
 * E_UNSUPPORTED) for what the IR cannot express. The span is in `start`/`end` and `span`.
 */
export class ExprError extends PalisadeError {
  constructor(
    message: string,
    readonly start: number,
    readonly end: number,
    readonly cls: ErrorClass | 'unsupported' = 'parse',
    /** The expression the span refers to, when the thrower has it. */
    source?: string,
  ) {
    super(cls === 'unsupported' ? 'E_UNSUPPORTED' : 'E_RULE', message, { start, end }, source);
    this.name = 'ExprError';
  }
}

/** Named lists of rulesets hold IP addresses. */
function listKinds(lists?: { has(name: string): boolean }): { get(name: string): ListKind | undefined } {
  return { get: (n) => (lists === undefined || lists.has(n) ? 'ip' : undefined) };
}

/**
 * Parse a packet-scheme expression into the IR. `lists` decides which `$name`s exist (all hold
 * IP addresses); without it any name is accepted.
 */
export function parseExpr(src: string, lists?: { has(name: string): boolean }): Node {
  let ast: Expr;
  try {
    ast = parseExpression(src, packetScheme as never, listKinds(lists));
  } catch (e) {
    if (e instanceof RulesError) throw new ExprError(e.message, e.start, e.end, e.cls, src);
    throw e;
  }
  try {
    return toIR(ast);
  } catch (e) {
    // toIR knows spans, not the text: give the error its expression so it can be shown with a caret.
    if (e instanceof ExprError && e.source === undefined) throw new ExprError(e.message, e.start, e.end, e.cls, src);
    throw e;
  }
}

function unsupported(span: Span, what: string): never {
  throw new ExprError(`${what} cannot be used in mitigation rules (nftables, iptables, Flowspec and Magic Firewall cannot express it)`, span.start, span.end, 'unsupported');
}

function ipItemPrefixes(it: IpItem): Prefix[] {
  if ('lo' in it) return rangeToPrefixes(it.fam, it.lo, it.hi);
  return [{ family: it.fam, addr: it.addr, len: it.len }];
}

function toIR(e: Expr): Node {
  switch (e.k) {
    case 'and':
    case 'or':
    case 'xor':
      return { k: e.k, items: e.items.map(toIR), span: e.span };
    case 'not':
      return { k: 'not', item: toIR(e.item), span: e.span };
    case 'any':
    case 'all':
      return unsupported(e.span, `${e.k}(…)`);
    case 'value': {
      const v = e.v;
      if (v.k !== 'field') return unsupported(v.span, v.k === 'call' ? `${v.fn}(…)` : 'an indexed value');
      if (PACKET_FIELDS[v.name] !== 'bool') return unsupported(v.span, `the field ${v.name}`);
      return { k: 'bool', field: v.name, span: e.span };
    }
    case 'cmp': {
      const l = e.lhs;
      if (l.k !== 'field') return unsupported(l.k === 'call' ? l.nameSpan : l.span, l.k === 'call' ? `${l.fn}(…)` : 'an indexed value');
      const field = l.name;
      if (PACKET_FIELDS[field] === undefined) return unsupported(l.span, `the field ${field}`);
      const span = e.span;
      const litSpan = e.rhsSpan;
      const r = e.rhs;
      switch (e.op) {
        case 'contains':
        case 'matches':
        case 'wildcard':
        case 'strict_wildcard':
          return unsupported(e.opSpan, `"${e.op.replace('_', ' ')}"`);
        case 'band':
          return { k: 'band', field, mask: (r as { v: number }).v, span, litSpan };
        case 'in':
          if (r.k === 'list') return { k: 'list', field, list: r.name, span, litSpan };
          if (r.k === 'intset') return { k: 'in', field, items: r.items.map((i) => ({ t: 'int', lo: i.lo, hi: i.hi })), span, litSpan };
          if (r.k === 'bytesset') return { k: 'in', field, items: r.items.map((b) => ({ t: 'bytes', v: bytesKey(b) })), span, litSpan };
          if (r.k === 'ipset') return { k: 'in', field, items: r.items.flatMap(ipItemPrefixes).map((p) => ({ t: 'prefix', p })), span, litSpan };
          return unsupported(litSpan, 'this set');
        default: {
          let lit: Lit;
          if (r.k === 'int') lit = { t: 'int', v: r.v };
          else if (r.k === 'bytes') lit = { t: 'bytes', v: bytesKey(r.v) };
          else if (r.k === 'ip')
            lit =
              r.v.fam === 4
                ? { t: 'ip', family: 4, addr: Uint8Array.of(r.v.v4 >>> 24, (r.v.v4 >>> 16) & 255, (r.v.v4 >>> 8) & 255, r.v.v4 & 255) }
                : { t: 'ip', family: 6, addr: r.v.v6 as Uint8Array };
          else return unsupported(litSpan, 'this literal');
          return { k: 'cmp', field, op: e.op, lit, span, litSpan };
        }
      }
    }
  }
}

export type Predicate = (v: PacketView) => boolean;

/**
 * Compile a packet rule with the Rules compiler; named lists are the ruleset's IP lists, looked
 * up in their tries.
 */
/** The IP lists a packet rule may name (`ip.src in $name`): mitigate/lists.ts's ListSet is one. */
export interface IpListLookup {
  all(): Iterable<{ readonly name: string; has4(addr: number): boolean; has6(buf: Uint8Array, off: number): boolean }>;
}

export function compilePacketRule(expression: string, lists: IpListLookup | null): Predicate {
  return compileRuleFor(packetScheme, expression, lists);
}

/**
 * A packet rule compiled for another kind of record whose scheme holds the packet fields under
 * the same names (the flow scheme): what-if over flows runs a ruleset written for packets.
 */
export function compileRuleFor<V>(scheme: Scheme<V>, expression: string, lists: IpListLookup | null): (v: V) => boolean {
  const named = new Map<string, NamedList>();
  for (const l of lists?.all() ?? []) named.set(l.name, { kind: 'ip', items: [], has4: (u) => l.has4(u), has6: (b, o) => l.has6(b, o) });
  try {
    return compile(expression, scheme, { lists: named });
  } catch (e) {
    if (e instanceof RulesError) throw new ExprError(e.message, e.start, e.end, e.cls, expression);
    throw e;
  }
}

/** The one caret renderer (code points), re-exported for the exporters' problem lines. */
export { caret } from '../core/caret.js';
