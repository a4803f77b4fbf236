/**
 * Ruleset → BGP Flowspec routes in ExaBGP's text API form (`announce flow route { match { … }
 * then { … } }`, one per line, for a process feeding ExaBGP).
 *
 * Flowspec has no rule order (routers order routes by their match components, RFC 8955 §5.1),
 * no per-source rate limits, no logging and no negated prefixes, so only what keeps its meaning
 * is exported: block rules and block lists as `discard`, and unkeyed byte-per-second rate limits
 * as `rate-limit`. Allow rules and allow lists are reported (the exported discards would also hit
 * what they allow), as is every match component Flowspec cannot carry.
 */

import { formatPrefixCidr, type Prefix } from '../core/net/prefix.js';
import type { RateLimit, Rule, Ruleset } from '../mitigate/ruleset.js';
import type { Span } from '../rules/packet-ir.js';
import { coverPrefixes, type ExportMapEntry, safeId, splitFamilies } from './nftables.js';
import { type Atom, type Branch, fieldL4, inRuleTermsOf, mayOverlap, normalize, type Problem } from './normalize.js';
import { Unsupported } from './unsupported.js';

export interface FlowspecOptions {
  /** Refuse to expand a list or prefix set into more routes than this (default 1000). */
  maxRoutes?: number;
}

export interface FlowspecResult {
  target: 'flowspec';
  text: string;
  problems: Problem[];
  map: ExportMapEntry[];
}

const FLAG_NAMES = ['fin', 'syn', 'rst', 'push', 'ack', 'urgent', 'ece', 'cwr'];

function numeric(rs: [number, number][], offset = 0): string {
  const items: string[] = [];
  for (const [a0, b0] of rs) {
    const a = Math.max(0, a0 - offset);
    const b = b0 - offset;
    if (b < 0) continue;
    items.push(a === b ? `=${a}` : a === 0 ? `<=${b}` : `>=${a}&<=${b}`);
  }
  return `[ ${items.join(' ')} ]`;
}

interface Route {
  match: string[];
}

/** Expand a branch into routes (each a list of match components). */
function routes(b: Branch, lists: Ruleset['lists'], maxRoutes: number): Route[] {
  let out: Route[] = [{ match: [] }];
  const fam = b.family as 4 | 6;
  const mul = (alts: string[][]): void => {
    const next: Route[] = [];
    for (const r of out) for (const a of alts) next.push({ match: [...r.match, ...a] });
    if (next.length > maxRoutes) throw new Unsupported(`would need ${next.length} Flowspec routes (limit ${maxRoutes})`);
    out = next;
  };
  const l4 = [...new Set(b.atoms.flatMap((x) => ((x.a === 'int' || x.a === 'band') && fieldL4(x.field) ? [fieldL4(x.field)] : [])))];
  if (l4.length === 1) mul([[`protocol [ =${l4[0] === 'tcp' ? 6 : l4[0] === 'udp' ? 17 : fam === 4 ? 1 : 58} ]`]]);
  let flagsSet = 0;
  let flagsClear = 0;
  const prefixAlts = (dir: 'src' | 'dst', ps: Prefix[]): string[][] => coverPrefixes(ps).map((p) => [`${dir === 'src' ? 'source' : 'destination'} ${formatPrefixCidr(p)}`]);
  for (const x of b.atoms as Atom[]) {
    switch (x.a) {
      case 'family':
        break;
      case 'addr':
        if (x.neg) throw new Unsupported('Flowspec cannot match "not this prefix"', x.span);
        mul(prefixAlts(x.dir, x.prefixes));
        break;
      case 'list': {
        if (x.neg) throw new Unsupported('Flowspec cannot match "not in a list"', x.span);
        const l = lists.get(x.name);
        const c = l ? l.cover() : { v4: [], v6: [] };
        const ps = x.family === 4 ? c.v4 : c.v6;
        if (ps.length === 0) return [];
        mul(prefixAlts(x.dir, ps));
        break;
      }
      case 'proto': {
        const ps = x.protos.filter((p) => !((p === 1 && fam === 6) || (p === 58 && fam === 4)));
        if (ps.length === 0) {
          if (x.neg) break;
          return [];
        }
        mul([[`protocol [ ${ps.map((p) => `${x.neg ? '!=' : '='}${p}`).join(x.neg ? '&' : ' ')} ]`]]);
        break;
      }
      case 'nonfirst':
        throw new Unsupported('Flowspec cannot select non-first fragments exactly', null);
      case 'band':
        if (x.field !== 'tcp.flags') throw new Unsupported(`"&" on ${x.field} cannot be expressed in Flowspec`, x.span);
        if (x.neg) flagsClear |= x.mask;
        else if ((x.mask & (x.mask - 1)) === 0) flagsSet |= x.mask;
        else mul([[`tcp-flags [ ${FLAG_NAMES.filter((_, i) => x.mask & (1 << i)).join(' ')} ]`]]);
        break;
      case 'int': {
        const f = x.field;
        const comp: Record<string, string> = {
          'tcp.srcport': 'source-port',
          'udp.srcport': 'source-port',
          'tcp.dstport': 'destination-port',
          'udp.dstport': 'destination-port',
          'icmp.type': 'icmp-type',
          'icmp.code': 'icmp-code',
          'ip.dscp': 'dscp',
          'ip.len': 'packet-length',
        };
        const name = comp[f];
        if (name === undefined) throw new Unsupported(`${f} cannot be expressed in Flowspec`, x.span);
        mul([[`${name} ${numeric(x.ranges, f === 'ip.len' && fam === 6 ? 40 : 0)}`]]);
        break;
      }
    }
  }
  if (flagsSet || flagsClear) {
    const parts = [...FLAG_NAMES.filter((_, i) => flagsSet & (1 << i)).map((n) => `=${n}`), ...FLAG_NAMES.filter((_, i) => flagsClear & (1 << i)).map((n) => `!${n}`)];
    mul([[`tcp-flags [ ${parts.join('&')} ]`]]);
  }
  return out;
}

function overlapsAllowed(rule: Rule, allowed: { what: string; b: Branch }[]): string | undefined {
  const n = normalize(rule.id, rule.node);
  for (const b of n.branches) for (const a of allowed) if (mayOverlap(a.b, b)) return a.what;
  return undefined;
}

function rateBytesPerSecond(rl: RateLimit, span: Span): number {
  if (rl.key.length > 0) throw new Unsupported('Flowspec rate-limit is one aggregate per route; it cannot limit per source or per key', span);
  if (rl.unit !== 'bytes') throw new Unsupported('Flowspec rate-limit is in bytes per second; express the limit in bytes', span);
  const period = { second: 1, minute: 60, hour: 3600, day: 86400 }[rl.period];
  if (rl.rate % period !== 0) throw new Unsupported(`${rl.rate} bytes per ${rl.period} is not a whole number of bytes per second`, span);
  return rl.rate / period;
}

export function exportFlowspec(rs: Ruleset, opts: FlowspecOptions = {}): FlowspecResult {
  const maxRoutes = opts.maxRoutes ?? 1000;
  const problems: Problem[] = [];
  const map: ExportMapEntry[] = [];
  const lines: string[] = [`# Generated by palisade export --to flowspec from ruleset ${rs.name} (ExaBGP text API)`];
  for (const l of rs.lists.allowLists())
    problems.push({
      rule: `$${l.name}`,
      span: null,
      reason: `allow list ${l.name} not exported: Flowspec routes have no order; discards that could overlap it are left out too`,
    });
  for (const l of rs.lists.blockLists()) {
    const c = l.cover();
    const ps = [...c.v4, ...c.v6];
    if (ps.length > maxRoutes) {
      problems.push({
        rule: `$${l.name}`,
        span: null,
        reason: `block list ${l.name} has ${ps.length} prefixes, over the ${maxRoutes}-route limit; not exported`,
      });
      continue;
    }
    const dirs = l.match === 'either' ? ['source', 'destination'] : [l.match === 'dst' ? 'destination' : 'source'];
    let n = 0;
    for (const p of ps) {
      for (const d of dirs) {
        const tag = `palisade:list:${safeId(l.name)}:${n++}`;
        lines.push(`announce flow route { match { ${d} ${formatPrefixCidr(p)}; } then { discard; community [ 65535:666 ]; } }`);
        map.push({ tag, kind: 'list', id: l.name, counters: ['matched'] });
      }
    }
  }
  // What allow lists and allow rules let through: a later discard overlapping it would widen the
  // ruleset (Flowspec has no order to let the allow win), so such rules are refused too.
  const allowed: { what: string; b: Branch }[] = [];
  for (const l of rs.lists.allowLists()) {
    const c = l.cover();
    for (const fam of [4, 6] as const) {
      const ps = fam === 4 ? c.v4 : c.v6;
      const dirs = l.match === 'either' ? (['src', 'dst'] as const) : ([l.match] as const);
      if (ps.length > 0)
        for (const dir of dirs)
          allowed.push({
            what: `allow list ${l.name}`,
            b: { family: fam, atoms: [{ a: 'addr', dir, family: fam, prefixes: ps, neg: false, span: { start: 0, end: 0 } }] },
          });
    }
  }
  for (const rule of rs.rules) {
    if (!rule.enabled) continue;
    if (rule.action === 'allow') {
      const n = normalize(rule.id, rule.node);
      if (n.problems.length > 0) allowed.push({ what: `allow rule ${rule.id}`, b: { family: null, atoms: [] } });
      for (const b of n.branches) allowed.push({ what: `allow rule ${rule.id}`, b });
    }
    const clash = rule.action === 'allow' ? undefined : overlapsAllowed(rule, allowed);
    if (clash) {
      problems.push({
        rule: rule.id,
        span: rule.node.span,
        reason: `not exported: it may also discard traffic that the earlier ${clash} lets through, and Flowspec has no rule order`,
      });
      continue;
    }
    try {
      const out = exportRule(rule, rs, maxRoutes);
      for (const [i, r] of out.entries()) {
        lines.push(r);
        map.push({ tag: `palisade:${safeId(rule.id)}:${i}`, kind: 'rule', id: rule.id, counters: ['matched'] });
      }
    } catch (e) {
      if (!(e instanceof Unsupported)) throw e;
      problems.push({ rule: rule.id, span: e.span ?? rule.node.span, reason: e.message });
    }
  }
  return { target: 'flowspec', text: `${lines.join('\n')}\n`, problems, map };
}

function exportRule(rule: Rule, rs: Ruleset, maxRoutes: number): string[] {
  if (rule.action === 'allow') throw new Unsupported('allow rules are not exported: Flowspec routes have no order, so other routes would still hit this traffic', rule.node.span);
  if (rule.action === 'log') throw new Unsupported('Flowspec has no log action', rule.node.span);
  const then = rule.action === 'block' ? 'discard;' : `rate-limit ${rateBytesPerSecond(rule.rateLimit as RateLimit, rule.node.span)};`;
  const norm = normalize(rule.id, rule.node, rule.rateLimit?.key);
  if (norm.problems.length > 0) {
    const p = norm.problems[0] as Problem;
    throw new Unsupported(p.reason, p.span);
  }
  const branches = splitFamilies(norm.branches, () => true);
  if (rule.action === 'rate_limit' && branches.length > 1) {
    throw new Unsupported('a Flowspec rate-limit applies per route; this rule needs several routes, which would each get the full rate', rule.node.span);
  }
  const out: string[] = [];
  for (const b of branches) {
    for (const r of inRuleTermsOf(rule.node, () => routes(b, rs.lists, maxRoutes))) {
      if (b.family === 6 && !r.match.some((m) => m.startsWith('source ') || m.startsWith('destination '))) r.match.unshift('destination ::/0');
      if (r.match.length === 0) throw new Unsupported('the rule matches every packet of a family; refusing to announce a Flowspec route without match components', rule.node.span);
      out.push(`announce flow route { match { ${r.match.join('; ')}; } then { ${then} } }`);
      if (out.length > maxRoutes) throw new Unsupported(`would need more than ${maxRoutes} Flowspec routes`, rule.node.span);
    }
  }
  return out;
}
