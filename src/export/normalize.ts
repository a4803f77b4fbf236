/**
 * Normalisation shared by the exporters: a rule's expression (packet IR) becomes a disjunction
 * of branches, each a conjunction of atoms a firewall can test directly, with the address family
 * of each branch decided. Semantics are the Rules language's (spec §9): a comparison on a
 * missing field is false, so `not tcp.dstport == 80` is "not TCP, or a non-first TCP fragment,
 * or TCP with another port". Branches that contradict themselves are removed; the rest are kept
 * exactly, never widened. Whatever cannot be normalised is a Problem with the span it came from.
 *
 * Tunnels. Firewalls and routers do not decode tunnels: nftables' `ip daddr`, iptables' `-d`,
 * a Flowspec destination prefix all test the OUTERMOST IP header of what arrives. Our packet
 * scheme's ip.* / tcp.* / udp.* / icmp.* fields describe the INNERMOST packet (the decoder goes
 * through GRE, IP-in-IP, VXLAN, Teredo) and outer.ip.* the outermost header. So:
 * - a rule on outer.ip.* fields only is exact on every packet: it becomes the same rule on ip.*,
 *   which is what the firewall reads (toOutermost below);
 * - a rule on inner fields is exact for traffic without a tunnel (where the two coincide); on a
 *   tunnelled packet the firewall would test the outer header, and transport fields (ports,
 *   flags, ICMP types) never match since the outer protocol is GRE, IP-in-IP or the UDP of
 *   VXLAN/Teredo. A host that terminates a tunnel also passes the decapsulated packet through
 *   its hooks, as a packet of its own;
 * - a rule mixing the two (or outer.ip.* with a rate-limit key, all of which are inner fields)
 *   cannot be exact on tunnelled packets, which are what it is written for: it is refused.
 */

import { compareBytes, maskBytes, type Prefix } from '../core/net/prefix.js';
import { PROTO_NUMBERS } from '../core/net/protocols.js';
import { type Node, PACKET_FIELDS, type SetItem, type Span, TCP_FLAG_BITS } from '../rules/packet-ir.js';
import { packetScheme } from '../scheme/packet.js';
import { fieldsWith } from '../scheme/types.js';
import { Unsupported } from './unsupported.js';

export interface Problem {
  /** Rule id (or list name) the problem belongs to. */
  rule: string;
  span: Span | null;
  reason: string;
}

/** The L4 header a field needs (its value is missing otherwise). */
export type L4 = 'tcp' | 'udp' | 'icmp';

export type Atom =
  /** Packet family. */
  | { a: 'family'; v: 4 | 6 }
  /** Address in (or, neg, not in) a set of prefixes of one family. */
  | { a: 'addr'; dir: 'src' | 'dst'; family: 4 | 6; prefixes: Prefix[]; neg: boolean; span: Span }
  /** Address in a named list (per family). */
  | { a: 'list'; dir: 'src' | 'dst'; family: 4 | 6; name: string; neg: boolean; span: Span }
  /** Transport protocol number in (or not in) a set. */
  | { a: 'proto'; protos: number[]; neg: boolean; span: Span | null }
  /** The packet is a non-first fragment (no transport header). */
  | { a: 'nonfirst'; neg: boolean }
  /** Integer field value in (or not in) sorted disjoint inclusive ranges; implies the field is present. */
  | { a: 'int'; field: string; ranges: [number, number][]; neg: boolean; span: Span }
  /** (field & mask) != 0, or == 0 when neg; implies the field is present. */
  | { a: 'band'; field: string; mask: number; neg: boolean; span: Span };

export interface Branch {
  family: 4 | 6 | null;
  atoms: Atom[];
}

/** Largest value of each Int field (for turning < > into ranges and complements): the catalogue's `max`. */
export const FIELD_MAX: Readonly<Record<string, number>> = Object.fromEntries(fieldsWith(packetScheme, 'max').map((f) => [f.name, f.caps.max]));

/** The L4 header an Int/Bool field lives in, or null for IP-level fields. */
export function fieldL4(field: string): L4 | null {
  if (field.startsWith('tcp.')) return 'tcp';
  if (field.startsWith('udp.')) return 'udp';
  if (field.startsWith('icmp.')) return 'icmp';
  return null;
}

/** Fields whose value exists only for IPv4 packets. */
const V4_ONLY = new Set(['ip.id', 'ip.opt.type', 'ip.flags.df', 'ip.flags.mf', 'ip.flags.rb']);

const MAX_BRANCHES = 256;

type Lit = { atom: Atom; pos: boolean };
type Dnf = Atom[][];

function normRanges(rs: [number, number][]): [number, number][] {
  const s = rs.filter(([a, b]) => a <= b).sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [a, b] of s) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

function complement(rs: [number, number][], max: number): [number, number][] {
  const out: [number, number][] = [];
  let next = 0;
  for (const [a, b] of normRanges(rs)) {
    if (a > next) out.push([next, a - 1]);
    next = b + 1;
  }
  if (next <= max) out.push([next, max]);
  return out;
}

function intersectRanges(a: [number, number][], b: [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  for (const [x0, x1] of a) for (const [y0, y1] of b) if (Math.max(x0, y0) <= Math.min(x1, y1)) out.push([Math.max(x0, y0), Math.min(x1, y1)]);
  return normRanges(out);
}

/** Branches where `field` has no value (the negation of "the field is present"). */
function absent(field: string): Dnf {
  if (field === 'ip.src' || field === 'ip.dst') return [];
  if (V4_ONLY.has(field)) return [[{ a: 'family', v: 6 }]];
  const l4 = fieldL4(field);
  if (l4 === null) return [];
  const protos = l4 === 'tcp' ? [6] : l4 === 'udp' ? [17] : [1, 58];
  return [
    [{ a: 'proto', protos, neg: true, span: null }],
    [
      { a: 'proto', protos, neg: false, span: null },
      { a: 'nonfirst', neg: false },
    ],
  ];
}

function presence(field: string): Atom[] {
  const out: Atom[] = [];
  if (V4_ONLY.has(field)) out.push({ a: 'family', v: 4 });
  return out;
}

/** Positive literal(s) for a comparison node, with presence folded in. */
function leaf(n: Node): Dnf {
  switch (n.k) {
    case 'bool': {
      const bit = TCP_FLAG_BITS[n.field];
      if (bit !== undefined) return [[{ a: 'band', field: 'tcp.flags', mask: bit, neg: false, span: n.span }]];
      const m = { 'ip.flags.df': 2, 'ip.flags.mf': 1, 'ip.flags.rb': 4 }[n.field];
      if (m !== undefined)
        return [
          [
            { a: 'family', v: 4 },
            { a: 'band', field: 'ip.flags', mask: m, neg: false, span: n.span },
          ],
        ];
      throw new Unsupported(`field ${n.field} cannot be exported`, n.span);
    }
    case 'band':
      return [[...presence(n.field), { a: 'band', field: n.field, mask: n.mask, neg: false, span: n.span }]];
    case 'list':
      return [
        [{ a: 'list', dir: n.field === 'ip.dst' ? 'dst' : 'src', family: 4, name: n.list, neg: false, span: n.span }],
        [{ a: 'list', dir: n.field === 'ip.dst' ? 'dst' : 'src', family: 6, name: n.list, neg: false, span: n.span }],
      ];
    case 'in': {
      const type = PACKET_FIELDS[n.field];
      if (type === 'ip') {
        const dir = n.field === 'ip.dst' ? 'dst' : 'src';
        const out: Dnf = [];
        for (const fam of [4, 6] as const) {
          const ps = n.items.filter((i): i is Extract<SetItem, { t: 'prefix' }> => i.t === 'prefix' && i.p.family === fam).map((i) => i.p);
          if (ps.length > 0) out.push([{ a: 'addr', dir, family: fam, prefixes: ps, neg: false, span: n.span }]);
        }
        return out;
      }
      if (type === 'bytes') {
        const protos: number[] = [];
        for (const i of n.items) {
          const p = i.t === 'bytes' ? PROTO_NUMBERS[i.v] : undefined;
          if (p === undefined) throw new Unsupported(`unknown protocol name ${i.t === 'bytes' ? JSON.stringify(i.v) : ''}`, n.litSpan);
          protos.push(p);
        }
        return protos.length === 0 ? [] : [[{ a: 'proto', protos, neg: false, span: n.span }]];
      }
      const ranges = normRanges(n.items.filter((i): i is Extract<SetItem, { t: 'int' }> => i.t === 'int').map((i) => [i.lo, i.hi] as [number, number]));
      return intLeaf(n.field, ranges, n.span);
    }
    case 'cmp': {
      const type = PACKET_FIELDS[n.field];
      if (type === 'ip' && n.lit.t === 'ip') {
        const dir = n.field === 'ip.dst' ? 'dst' : 'src';
        const fam = n.lit.family;
        const bits = fam === 4 ? 32 : 128;
        const one: Prefix = { family: fam, addr: n.lit.addr, len: bits };
        const other: Atom[] = [{ a: 'family', v: fam === 4 ? 6 : 4 }];
        switch (n.op) {
          case 'eq':
            return [[{ a: 'addr', dir, family: fam, prefixes: [one], neg: false, span: n.span }]];
          case 'ne':
            // The other family compares unequal too (spec §5).
            return [[{ a: 'addr', dir, family: fam, prefixes: [one], neg: true, span: n.span }], other];
          default:
            throw new Unsupported(`ordering comparisons (${n.op}) on addresses cannot be exported; use a range in a set`, n.span);
        }
      }
      if (type === 'bytes' && n.lit.t === 'bytes') {
        const p = PROTO_NUMBERS[n.lit.v];
        if (p === undefined) throw new Unsupported(`unknown protocol name ${JSON.stringify(n.lit.v)}`, n.litSpan);
        if (n.op === 'eq') return [[{ a: 'proto', protos: [p], neg: false, span: n.span }]];
        if (n.op === 'ne') return [[{ a: 'proto', protos: [p], neg: true, span: n.span }]];
        throw new Unsupported(`ordering comparisons on ${n.field} cannot be exported`, n.span);
      }
      if (n.lit.t !== 'int') throw new Unsupported('unsupported comparison', n.span);
      const v = n.lit.v;
      const max = FIELD_MAX[n.field] ?? 0xffffffff;
      const r: [number, number][] =
        n.op === 'eq'
          ? [[v, v]]
          : n.op === 'ne'
            ? complement([[v, v]], max)
            : n.op === 'lt'
              ? [[0, v - 1]]
              : n.op === 'le'
                ? [[0, v]]
                : n.op === 'gt'
                  ? [[v + 1, max]]
                  : [[v, max]];
      return intLeaf(n.field, normRanges(r.map(([a, b]) => [Math.max(0, a), Math.min(max, b)] as [number, number])), n.span);
    }
    default:
      throw new Unsupported('unexpected node', n.span);
  }
}

function intLeaf(field: string, ranges: [number, number][], span: Span): Dnf {
  if (ranges.length === 0) return [];
  if (field === 'ip.proto.num') return [[{ a: 'proto', protos: expand(ranges, span), neg: false, span }]];
  if (field === 'ip.version') {
    const out: Dnf = [];
    if (ranges.some(([a, b]) => a <= 4 && 4 <= b)) out.push([{ a: 'family', v: 4 }]);
    if (ranges.some(([a, b]) => a <= 6 && 6 <= b)) out.push([{ a: 'family', v: 6 }]);
    return out;
  }
  return [[...presence(field), { a: 'int', field, ranges, neg: false, span }]];
}

function expand(ranges: [number, number][], span: Span): number[] {
  const out: number[] = [];
  for (const [a, b] of ranges) {
    if (b - a > 255) throw new Unsupported('range too wide', span);
    for (let x = a; x <= b; x++) out.push(x);
  }
  return out;
}

/** Negate a positive leaf's DNF: ¬(presence ∧ test) = absent ∨ (presence ∧ ¬test). */
function negLeaf(n: Node): Dnf {
  switch (n.k) {
    case 'bool': {
      const bit = TCP_FLAG_BITS[n.field];
      if (bit !== undefined) return [...absent('tcp.flags'), [{ a: 'band', field: 'tcp.flags', mask: bit, neg: true, span: n.span }]];
      const m = { 'ip.flags.df': 2, 'ip.flags.mf': 1, 'ip.flags.rb': 4 }[n.field];
      if (m !== undefined)
        return [
          [{ a: 'family', v: 6 }],
          [
            { a: 'family', v: 4 },
            { a: 'band', field: 'ip.flags', mask: m, neg: true, span: n.span },
          ],
        ];
      throw new Unsupported(`field ${n.field} cannot be exported`, n.span);
    }
    case 'band':
      return [...absent(n.field), [...presence(n.field), { a: 'band', field: n.field, mask: n.mask, neg: true, span: n.span }]];
    case 'list':
      // Not in the list: IPv4 not in the v4 part, IPv6 not in the v6 part.
      return [
        [{ a: 'list', dir: n.field === 'ip.dst' ? 'dst' : 'src', family: 4, name: n.list, neg: true, span: n.span }],
        [{ a: 'list', dir: n.field === 'ip.dst' ? 'dst' : 'src', family: 6, name: n.list, neg: true, span: n.span }],
      ];
    default: {
      // Complement the positive form: each positive branch is presence + one test atom.
      const pos = leaf(n);
      const field = 'field' in n ? n.field : '';
      const type = PACKET_FIELDS[field];
      if (type === 'ip') {
        // ¬(v4-set ∨ v6-set) = (v4 ∧ ¬v4-set) ∨ (v6 ∧ ¬v6-set); a family without items: all of it.
        const out: Dnf = [];
        for (const fam of [4, 6] as const) {
          const b = pos.find((br) => br.some((x) => x.a === 'addr' && x.family === fam));
          const fa = b?.find((x) => x.a === 'addr') as Extract<Atom, { a: 'addr' }> | undefined;
          const famOnly = pos.some((br) => br.length === 1 && br[0]?.a === 'family' && br[0].v === fam);
          if (famOnly) continue;
          if (fa && !fa.neg) out.push([{ ...fa, neg: true }]);
          else if (fa && fa.neg) out.push([{ ...fa, neg: false }]);
          else out.push([{ a: 'family', v: fam }]);
        }
        return out;
      }
      if (pos.length === 0) return [[]];
      if (pos.length === 1 && (pos[0] as Atom[]).length >= 1) {
        const br = pos[0] as Atom[];
        const test = br[br.length - 1] as Atom;
        if (test.a === 'proto') return [[{ ...test, neg: !test.neg }]];
        if (test.a === 'family') return [[{ a: 'family', v: test.v === 4 ? 6 : 4 }]];
        if (test.a === 'int') {
          const max = FIELD_MAX[test.field] ?? 0xffffffff;
          const comp = complement(test.ranges, max);
          const out: Dnf = [...absent(test.field)];
          if (comp.length > 0) out.push([...br.slice(0, -1), { ...test, ranges: comp }]);
          return out;
        }
      }
      if (field === 'ip.version') {
        const fams = new Set(pos.map((b) => (b[0] as Extract<Atom, { a: 'family' }>).v));
        return ([4, 6] as const).filter((f) => !fams.has(f)).map((f) => [{ a: 'family', v: f } as Atom]);
      }
      throw new Unsupported('this negation cannot be exported', n.span);
    }
  }
}

function and(a: Dnf, b: Dnf, span: Span): Dnf {
  const out: Dnf = [];
  for (const x of a) for (const y of b) out.push([...x, ...y]);
  if (out.length > MAX_BRANCHES) throw new Unsupported(`expression expands to more than ${MAX_BRANCHES} firewall rules; simplify it or use a named list`, span);
  return out;
}

function toDnf(n: Node, neg: boolean): Dnf {
  switch (n.k) {
    case 'not':
      return toDnf(n.item, !neg);
    case 'and':
    case 'or': {
      const conj = (n.k === 'and') !== neg;
      const parts = n.items.map((i) => toDnf(i, neg));
      if (!conj) return parts.flat();
      return parts.reduce((acc, p) => and(acc, p, n.span), [[]] as Dnf);
    }
    case 'xor': {
      // a xor b xor c ... : fold pairwise: x ^ y = (x ∧ ¬y) ∨ (¬x ∧ y).
      let acc: { pos: Dnf; neg: Dnf } = { pos: toDnf(n.items[0] as Node, false), neg: toDnf(n.items[0] as Node, true) };
      for (const it of n.items.slice(1)) {
        const p = toDnf(it, false);
        const q = toDnf(it, true);
        acc = { pos: [...and(acc.pos, q, n.span), ...and(acc.neg, p, n.span)], neg: [...and(acc.pos, p, n.span), ...and(acc.neg, q, n.span)] };
      }
      return neg ? acc.neg : acc.pos;
    }
    default:
      return neg ? negLeaf(n) : leaf(n);
  }
}

/** Simplify a conjunction: decide its family, merge atoms; null when it can never match. */
function simplify(atoms: Atom[]): Branch | null {
  let family: 4 | 6 | null = null;
  for (const x of atoms) {
    const f = x.a === 'family' ? x.v : x.a === 'addr' || x.a === 'list' ? x.family : null;
    if (f !== null) {
      if (family !== null && family !== f) return null;
      family = f;
    }
  }
  // Protocols: intersect positives, subtract negatives. Fields imply their protocol.
  let protos: Set<number> | null = null;
  const notProtos = new Set<number>();
  const l4s = new Set<L4>();
  let nonfirst: boolean | null = null;
  const ints = new Map<string, Extract<Atom, { a: 'int' }>>();
  const rest: Atom[] = [];
  for (const x of atoms) {
    if (x.a === 'proto') {
      if (x.neg) for (const p of x.protos) notProtos.add(p);
      else protos = protos === null ? new Set(x.protos) : new Set(x.protos.filter((p) => (protos as Set<number>).has(p)));
    } else if (x.a === 'nonfirst') {
      if (nonfirst !== null && nonfirst !== !x.neg) return null;
      nonfirst = !x.neg;
    } else if (x.a === 'int' && !x.neg) {
      const l4 = fieldL4(x.field);
      if (l4) l4s.add(l4);
      const prev = ints.get(x.field);
      if (prev) {
        const r = intersectRanges(prev.ranges, x.ranges);
        if (r.length === 0) return null;
        ints.set(x.field, { ...prev, ranges: r });
      } else ints.set(x.field, x);
    } else {
      if (x.a === 'band' || x.a === 'int') {
        const l4 = fieldL4(x.field);
        if (l4) l4s.add(l4);
      }
      if (x.a !== 'family') rest.push(x);
    }
  }
  if (l4s.size > 1) return null;
  if (l4s.size === 1) {
    // The transport header is present: no non-first fragment, protocol fixed.
    if (nonfirst === true) return null;
    const l4 = [...l4s][0] as L4;
    const allowed = l4 === 'tcp' ? [6] : l4 === 'udp' ? [17] : family === 4 ? [1] : family === 6 ? [58] : [1, 58];
    const ps = allowed.filter((p) => (protos === null || protos.has(p)) && !notProtos.has(p));
    if (ps.length === 0) return null;
    protos = null;
    notProtos.clear();
    if (l4 === 'icmp' && family === null && ps.length === 1) family = ps[0] === 1 ? 4 : 6;
    if (l4 === 'icmp' && ps.length === 2) protos = null;
    nonfirst = null;
  }
  if (protos !== null) {
    const ps = [...protos].filter((p) => !notProtos.has(p));
    if (ps.length === 0) return null;
    protos = new Set(ps);
    notProtos.clear();
  }
  const out: Atom[] = [];
  if (protos !== null) out.push({ a: 'proto', protos: [...protos].sort((a, b) => a - b), neg: false, span: null });
  if (notProtos.size > 0) out.push({ a: 'proto', protos: [...notProtos].sort((a, b) => a - b), neg: true, span: null });
  if (nonfirst !== null) out.push({ a: 'nonfirst', neg: !nonfirst });
  out.push(...ints.values(), ...rest);
  // Empty address sets after the family filter, and address tests that contradict.
  for (const x of out) if (x.a === 'addr' && !x.neg && x.prefixes.length === 0) return null;
  return { family, atoms: dedupe(out) };
}

function dedupe(atoms: Atom[]): Atom[] {
  const seen = new Set<string>();
  const out: Atom[] = [];
  for (const x of atoms) {
    const k = JSON.stringify(x, (key, v) => (key === 'span' ? undefined : v instanceof Uint8Array ? Array.from(v) : v));
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(x);
  }
  return out;
}

export interface Normalized {
  branches: Branch[];
  problems: Problem[];
}

/** Fields of the outermost IP header (scheme/packet.ts): `outer.ip.dst` is `ip.dst` of the outer header. */
const OUTER = 'outer.';

function fieldUses(n: Node, out: { field: string; span: Span }[]): void {
  switch (n.k) {
    case 'and':
    case 'or':
    case 'xor':
      for (const i of n.items) fieldUses(i, out);
      return;
    case 'not':
      fieldUses(n.item, out);
      return;
    default:
      out.push({ field: n.field, span: { start: n.span.start, end: n.span.start + n.field.length } });
  }
}

function renameOuter(n: Node): Node {
  switch (n.k) {
    case 'and':
    case 'or':
    case 'xor':
      return { ...n, items: n.items.map(renameOuter) };
    case 'not':
      return { ...n, item: renameOuter(n.item) };
    default:
      return { ...n, field: n.field.slice(OUTER.length) };
  }
}

/**
 * The rule as the firewall sees it (see the top of this file): a rule on outer.ip.* fields only
 * becomes the same rule on ip.*; a rule on inner fields is returned as it is; a rule mixing
 * outer.ip.* with inner fields or with a rate-limit key (keys are inner fields) is Unsupported.
 */
export function toOutermost(node: Node, keys: readonly string[] = []): Node {
  const uses: { field: string; span: Span }[] = [];
  fieldUses(node, uses);
  const outer = uses.find((u) => u.field.startsWith(OUTER));
  if (outer === undefined) return node;
  const inner = uses.find((u) => !u.field.startsWith(OUTER));
  if (inner !== undefined)
    throw new Unsupported(
      `${inner.field} is a field of the innermost packet and ${outer.field} of the outermost IP header; a firewall sees only the outermost header (it would test ${inner.field} against it on tunnelled packets), so a rule mixing the two cannot be exported: use outer.ip.* fields only, or inner fields only (exact for traffic without a tunnel)`,
      inner.span,
    );
  const key = keys.find((k) => !k.startsWith(OUTER));
  if (key !== undefined)
    throw new Unsupported(
      `the rate-limit key ${key} is a field of the innermost packet, but a firewall keys on the outermost IP header, which this rule's ${outer.field} describes; it cannot be exported with that key`,
      outer.span,
    );
  return renameOuter(node);
}

/**
 * Run `f`, which works on the rule as the firewall sees it (toOutermost), and name the fields in
 * its refusals as the rule wrote them: a rule on outer.ip.* was translated to the same rule on
 * ip.*, so "ip.ttl cannot be expressed in Flowspec" is about its outer.ip.ttl.
 */
export function inRuleTermsOf<T>(node: Node, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof Unsupported)) throw e;
    const uses: { field: string; span: Span }[] = [];
    fieldUses(node, uses);
    if (uses.length === 0 || !uses.every((u) => u.field.startsWith(OUTER))) throw e;
    throw new Unsupported(e.message.replace(/(?<![\w.])ip\.(src|dst|proto\.num|proto|version|ttl|len)\b/g, `${OUTER}ip.$1`), e.span ?? null);
  }
}

/**
 * Normalise a rule expression (with the rule's rate-limit key, if any). On failure, branches is
 * empty and problems says why.
 */
export function normalize(rule: string, node: Node, keys: readonly string[] = []): Normalized {
  let seen: Node;
  try {
    seen = toOutermost(node, keys);
  } catch (e) {
    if (e instanceof Unsupported) return { branches: [], problems: [{ rule, span: e.span ?? null, reason: e.message }] };
    throw e;
  }
  try {
    const dnf = inRuleTermsOf(node, () => toDnf(seen, false));
    const branches: Branch[] = [];
    for (const atoms of dnf) {
      const b = simplify(atoms);
      if (b !== null) branches.push(b);
    }
    return { branches, problems: [] };
  } catch (e) {
    if (e instanceof Unsupported) return { branches: [], problems: [{ rule, span: e.span ?? null, reason: e.message }] };
    throw e;
  }
}

/** Do two branches overlap (could one packet match both)? Conservative: true unless provably disjoint. */
export function mayOverlap(a: Branch, b: Branch): boolean {
  if (a.family !== null && b.family !== null && a.family !== b.family) return false;
  const merged = simplify([...a.atoms, ...b.atoms, ...(a.family ? [{ a: 'family', v: a.family } as Atom] : []), ...(b.family ? [{ a: 'family', v: b.family } as Atom] : [])]);
  if (merged === null) return false;
  // Same single-valued field with disjoint ranges.
  for (const x of a.atoms) {
    if (x.a === 'addr' && !x.neg) {
      const y = b.atoms.find((z) => z.a === 'addr' && !z.neg && z.dir === x.dir && z.family === x.family) as Extract<Atom, { a: 'addr' }> | undefined;
      if (y && !x.prefixes.some((p) => y.prefixes.some((q) => prefixesOverlap(p, q)))) return false;
    }
    if (x.a === 'proto' && !x.neg) {
      const y = b.atoms.find((z) => z.a === 'proto' && z.neg) as Extract<Atom, { a: 'proto' }> | undefined;
      if (y && x.protos.every((p) => y.protos.includes(p))) return false;
    }
    if (x.a === 'band') {
      const y = b.atoms.find((z) => z.a === 'band' && z.field === x.field && z.mask === x.mask && z.neg !== x.neg);
      if (y) return false;
    }
    if (x.a === 'int' && x.neg) {
      const y = b.atoms.find((z) => z.a === 'int' && !z.neg && z.field === x.field) as Extract<Atom, { a: 'int' }> | undefined;
      if (y && intersectRanges(y.ranges, complement(x.ranges, FIELD_MAX[x.field] ?? 0xffffffff)).length === 0) return false;
    }
  }
  for (const y of b.atoms) {
    if (y.a === 'proto' && !y.neg) {
      const x = a.atoms.find((z) => z.a === 'proto' && z.neg) as Extract<Atom, { a: 'proto' }> | undefined;
      if (x && y.protos.every((p) => x.protos.includes(p))) return false;
    }
    if (y.a === 'nonfirst') {
      const x = a.atoms.find((z) => z.a === 'nonfirst' && z.neg !== y.neg);
      if (x) return false;
    }
  }
  return true;
}

export function prefixesOverlap(p: Prefix, q: Prefix): boolean {
  if (p.family !== q.family) return false;
  const len = Math.min(p.len, q.len);
  return compareBytes(maskBytes(p.addr, len), maskBytes(q.addr, len)) === 0;
}
