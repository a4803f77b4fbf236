/**
 * Ruleset → nftables (`nft -f` input). One table holding: an interval set per list and family,
 * a dynamic set per keyed rate limit, and one filter chain. Allow lists come first (accept),
 * then block lists (drop), then the rules in order, each branch of a rule one nft rule with a
 * counter and a comment `palisade:<rule>:<branch>` so kernel counters map back to rules.
 *
 * `hook: 'prerouting'` (default) gives an `inet` table at prerouting priority -300 (before
 * conntrack and routing); `hook: 'ingress'` gives a `netdev` table on one device (sees every
 * frame, even those the IP stack would discard).
 */

import { compareBytes, formatPrefix, maskBytes, type Prefix } from '../core/net/prefix.js';
import type { RateLimit, Rule, Ruleset } from '../mitigate/ruleset.js';
import type { Span } from '../rules/packet-ir.js';
import { type Atom, type Branch, FIELD_MAX, fieldL4, inRuleTermsOf, mayOverlap, normalize, type Problem } from './normalize.js';
import { Unsupported } from './unsupported.js';

export interface NftOptions {
  table?: string;
  hook?: 'prerouting' | 'input' | 'forward' | 'ingress';
  /** Device for the netdev ingress hook. */
  device?: string;
  priority?: number;
}

export interface ExportMapEntry {
  /** Comment on the exported rule (nft) or the rule's position key. */
  tag: string;
  kind: 'rule' | 'list';
  /** Rule id or list name. */
  id: string;
  /** For rate limits: which counter is which. */
  counters: ('matched' | 'limited')[];
}

export interface ExportResult {
  target: string;
  text: string;
  problems: Problem[];
  map: ExportMapEntry[];
}

const NFT_FIELD: Record<string, { v4: string; v6: string; scale?: number; offset6?: number } | string> = {
  'tcp.srcport': 'tcp sport',
  'tcp.dstport': 'tcp dport',
  'tcp.flags': 'tcp flags',
  'tcp.window': 'tcp window',
  'tcp.hdr_len': { v4: 'tcp doff', v6: 'tcp doff', scale: 4 },
  'udp.srcport': 'udp sport',
  'udp.dstport': 'udp dport',
  'udp.len': 'udp length',
  'icmp.type': { v4: 'icmp type', v6: 'icmpv6 type' },
  'icmp.code': { v4: 'icmp code', v6: 'icmpv6 code' },
  'ip.len': { v4: 'ip length', v6: 'ip6 length', offset6: 40 },
  'ip.ttl': { v4: 'ip ttl', v6: 'ip6 hoplimit' },
  'ip.id': { v4: 'ip id', v6: '' },
  'ip.dscp': { v4: 'ip dscp', v6: 'ip6 dscp' },
  'ip.hdr_len': { v4: 'ip hdrlength', v6: '', scale: 4 },
};

/** Atoms whose nft expression depends on the family. */
function familySpecific(x: Atom): boolean {
  if (x.a === 'nonfirst') return true;
  if (x.a === 'proto') return false;
  if (x.a === 'int' || x.a === 'band') return typeof NFT_FIELD[x.field] === 'object' || x.field === 'ip.flags';
  return false;
}

/** Split family-neutral branches that contain family-specific atoms into an IPv4 and an IPv6 branch. */
export function splitFamilies(bs: Branch[], needsFamily: (b: Branch) => boolean): Branch[] {
  const out: Branch[] = [];
  for (const b of bs) {
    if (b.family === null && needsFamily(b)) {
      for (const f of [4, 6] as const) {
        // icmp fields: the protocol differs per family.
        const atoms = b.atoms.map((x) =>
          x.a === 'proto' && !x.neg && x.protos.length === 2 && x.protos.includes(1) && x.protos.includes(58) ? { ...x, protos: [f === 4 ? 1 : 58] } : x,
        );
        if (f === 6 && atoms.some((x) => (x.a === 'int' || x.a === 'band') && ['ip.id', 'ip.hdr_len', 'ip.flags'].includes(x.field))) continue;
        out.push({ family: f, atoms });
      }
    } else out.push(b);
  }
  return out;
}

/** Non-overlapping cover of a prefix set (nested prefixes dropped), sorted. */
export function coverPrefixes(ps: Prefix[]): Prefix[] {
  const s = [...ps].sort((a, b) => compareBytes(a.addr, b.addr) || a.len - b.len);
  const keep: Prefix[] = [];
  for (const p of s) {
    const last = keep[keep.length - 1];
    if (last && last.len <= p.len && compareBytes(maskBytes(p.addr, last.len), last.addr) === 0) continue;
    keep.push(p);
  }
  return keep;
}

function ranges(rs: [number, number][], scale = 1, offset = 0): string | null {
  const parts: string[] = [];
  for (const [a0, b0] of rs) {
    let a = a0 - offset;
    let b = b0 - offset;
    if (b < 0) continue;
    if (a < 0) a = 0;
    if (scale > 1) {
      a = Math.ceil(a / scale);
      b = Math.floor(b / scale);
      if (a > b) continue;
    }
    parts.push(a === b ? String(a) : `${a}-${b}`);
  }
  if (parts.length === 0) return null;
  return parts.length === 1 ? (parts[0] as string) : `{ ${parts.join(', ')} }`;
}

function complement(rs: [number, number][], max: number): [number, number][] {
  const out: [number, number][] = [];
  let next = 0;
  for (const [a, b] of rs) {
    if (a > next) out.push([next, a - 1]);
    next = b + 1;
  }
  if (next <= max) out.push([next, max]);
  return out;
}

export function setName(list: string, fam: 4 | 6): string {
  return `l_${list}_v${fam}`;
}

function renderAtom(x: Atom, fam: 4 | 6 | null, family: 'inet' | 'netdev'): string | null {
  const sp = 'span' in x ? x.span : null;
  const ipk = (f: 4 | 6) => (f === 4 ? 'ip' : 'ip6');
  switch (x.a) {
    case 'family':
      return null;
    case 'addr': {
      const ps = coverPrefixes(x.prefixes);
      const v = ps.length === 1 ? formatPrefix(ps[0] as Prefix) : `{ ${ps.map(formatPrefix).join(', ')} }`;
      return `${ipk(x.family)} ${x.dir === 'src' ? 'saddr' : 'daddr'} ${x.neg ? '!= ' : ''}${v}`;
    }
    case 'list':
      return `${ipk(x.family)} ${x.dir === 'src' ? 'saddr' : 'daddr'} ${x.neg ? '!= ' : ''}@${setName(x.name, x.family)}`;
    case 'proto':
      return `meta l4proto ${x.neg ? '!= ' : ''}${x.protos.length === 1 ? x.protos[0] : `{ ${x.protos.join(', ')} }`}`;
    case 'nonfirst':
      if (x.neg) throw new Unsupported('first-fragment tests are not exported', sp);
      if (fam === 4) return 'ip frag-off & 0x1fff != 0';
      if (fam === 6) return 'frag frag-off != 0';
      throw new Unsupported('fragment test without a family', sp);
    case 'band': {
      if (x.field === 'ip.flags') {
        const bit = x.mask === 2 ? 0x4000 : x.mask === 1 ? 0x2000 : 0x8000;
        return `ip frag-off & 0x${bit.toString(16)} ${x.neg ? '==' : '!='} 0`;
      }
      const f = NFT_FIELD[x.field];
      if (f === undefined || typeof f === 'object') {
        const e = typeof f === 'object' && fam !== null ? (fam === 4 ? f.v4 : f.v6) : '';
        if (!e || f === undefined || (typeof f === 'object' && (f.scale || f.offset6))) throw new Unsupported(`"&" on ${x.field} cannot be expressed in nftables`, sp);
        return `${e} & 0x${x.mask.toString(16)} ${x.neg ? '==' : '!='} 0`;
      }
      return `${f} & 0x${x.mask.toString(16)} ${x.neg ? '==' : '!='} 0`;
    }
    case 'int': {
      const f = NFT_FIELD[x.field];
      if (f === undefined) throw new Unsupported(`${x.field} cannot be expressed in nftables`, sp);
      let expr: string;
      let scale = 1;
      let offset = 0;
      if (typeof f === 'string') expr = f;
      else {
        if (fam === null) throw new Unsupported(`${x.field} needs a family`, sp);
        expr = fam === 4 ? f.v4 : f.v6;
        if (!expr) throw new Unsupported(`${x.field} has no IPv${fam} equivalent in nftables`, sp);
        scale = f.scale ?? 1;
        offset = fam === 6 ? (f.offset6 ?? 0) : 0;
        if (scale > 1 && fam === 6) throw new Unsupported(`${x.field} cannot be expressed for IPv6`, sp);
      }
      void family;
      const max = FIELD_MAX[x.field] ?? 0xffffffff;
      const comp = complement(x.ranges, max);
      if (scale === 1 && offset === 0 && comp.length > 0 && comp.length < x.ranges.length) {
        const r = ranges(comp);
        return r === null ? expr : `${expr} != ${r}`;
      }
      if (scale === 1 && offset === 0 && comp.length === 0) {
        // The whole range: only presence is tested; nft tests presence with a tautology.
        return `${expr} >= 0`;
      }
      const r = ranges(x.ranges, scale, offset);
      if (r === null) throw new Unsupported('empty range', sp);
      return `${expr} ${r}`;
    }
  }
}

function familyGuard(fam: 4 | 6 | null, family: 'inet' | 'netdev'): string[] {
  if (fam === null) return [];
  if (family === 'netdev') return [`meta protocol ${fam === 4 ? 'ip' : 'ip6'}`];
  return [`meta nfproto ${fam === 4 ? 'ipv4' : 'ipv6'}`];
}

const KEY_EXPR: Record<string, { expr: (fam: 4 | 6) => string; type: (fam: 4 | 6) => string; family: boolean }> = {
  'ip.src': { expr: (f) => (f === 4 ? 'ip saddr' : 'ip6 saddr'), type: (f) => (f === 4 ? 'ipv4_addr' : 'ipv6_addr'), family: true },
  'ip.dst': { expr: (f) => (f === 4 ? 'ip daddr' : 'ip6 daddr'), type: (f) => (f === 4 ? 'ipv4_addr' : 'ipv6_addr'), family: true },
  'ip.proto.num': { expr: () => 'meta l4proto', type: () => 'inet_proto', family: false },
  'tcp.srcport': { expr: () => 'tcp sport', type: () => 'inet_service', family: false },
  'tcp.dstport': { expr: () => 'tcp dport', type: () => 'inet_service', family: false },
  'udp.srcport': { expr: () => 'udp sport', type: () => 'inet_service', family: false },
  'udp.dstport': { expr: () => 'udp dport', type: () => 'inet_service', family: false },
  'icmp.type': { expr: (f) => (f === 4 ? 'icmp type' : 'icmpv6 type'), type: (f) => (f === 4 ? 'icmp_type' : 'icmpv6_type'), family: true },
};

export function limitText(rl: RateLimit): string {
  const unit = rl.unit === 'packets' ? '' : ' bytes';
  const burst = rl.unit === 'packets' ? `burst ${rl.burst} packets` : rl.burst > 0 ? `burst ${rl.burst} bytes` : '';
  return `limit rate over ${rl.rate}${unit}/${rl.period}${burst ? ` ${burst}` : ''}`;
}

/** Seconds after which an idle key's bucket is full again (so expiring it changes nothing). */
export function refillSeconds(rl: RateLimit): number {
  const period = { second: 1, minute: 60, hour: 3600, day: 86400 }[rl.period];
  const cap = rl.unit === 'packets' ? (rl.burst * period) / rl.rate : (period * (rl.rate + rl.burst)) / rl.rate;
  return Math.ceil(cap) + 1;
}

export function safeId(s: string): string {
  return s.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 100);
}

export function exportNftables(rs: Ruleset, opts: NftOptions = {}): ExportResult {
  const table = opts.table ?? 'palisade';
  const hook = opts.hook ?? 'prerouting';
  const family: 'inet' | 'netdev' = hook === 'ingress' ? 'netdev' : 'inet';
  if (family === 'netdev' && !opts.device) throw new Error('the ingress hook needs a device');
  const problems: Problem[] = [];
  const map: ExportMapEntry[] = [];
  const sets: string[] = [];
  const lines: string[] = [];
  const usedLists = new Set<string>();

  // Lists: allow first, then block.
  for (const kind of ['allow', 'block'] as const) {
    for (const l of kind === 'allow' ? rs.lists.allowLists() : rs.lists.blockLists()) {
      usedLists.add(l.name);
      const dirs = l.match === 'either' ? (['saddr', 'daddr'] as const) : l.match === 'dst' ? (['daddr'] as const) : (['saddr'] as const);
      let n = 0;
      for (const fam of [4, 6] as const) {
        for (const d of dirs) {
          const tag = `palisade:list:${safeId(l.name)}:${n++}`;
          lines.push(
            `${familyGuard(null, family).join(' ')}${fam === 4 ? 'ip' : 'ip6'} ${d} @${setName(l.name, fam)} counter ${kind === 'allow' ? 'accept' : 'drop'} comment "${tag}"`,
          );
          map.push({ tag, kind: 'list', id: l.name, counters: ['matched'] });
        }
      }
    }
  }

  for (const rule of rs.rules) {
    if (!rule.enabled) continue;
    const out = exportRule(rule, family, problems);
    if (out === null) continue;
    for (const l of out.lists) usedLists.add(l);
    for (const [i, r] of out.rules.entries()) {
      const tag = `palisade:${safeId(rule.id)}:${i}`;
      lines.push(`${r.text} comment "${tag}"`);
      map.push({ tag, kind: 'rule', id: rule.id, counters: r.counters });
    }
    sets.push(...out.sets);
  }

  for (const name of usedLists) {
    const l = rs.lists.get(name);
    if (!l) continue;
    const c = l.cover();
    for (const fam of [4, 6] as const) {
      const ps = fam === 4 ? c.v4 : c.v6;
      const el = ps.length > 0 ? `\n\t\telements = { ${ps.map(formatPrefix).join(',\n\t\t\t')} }` : '';
      sets.unshift(`\tset ${setName(name, fam)} {\n\t\ttype ${fam === 4 ? 'ipv4_addr' : 'ipv6_addr'}\n\t\tflags interval${el}\n\t}`);
    }
  }

  const hookLine =
    family === 'netdev'
      ? `type filter hook ingress device "${opts.device}" priority ${opts.priority ?? 0}; policy accept;`
      : `type filter hook ${hook} priority ${opts.priority ?? (hook === 'prerouting' ? -300 : 0)}; policy accept;`;
  const text = [
    `# Generated by palisade export --to nftables from ruleset ${rs.name}`,
    `table ${family} ${table} {`,
    ...sets,
    '\tchain filter {',
    `\t\t${hookLine}`,
    ...lines.map((l) => `\t\t${l}`),
    '\t}',
    '}',
    '',
  ].join('\n');
  return { target: 'nftables', text, problems, map };
}

interface RuleOut {
  rules: { text: string; counters: ('matched' | 'limited')[] }[];
  sets: string[];
  lists: string[];
}

function exportRule(rule: Rule, family: 'inet' | 'netdev', problems: Problem[]): RuleOut | null {
  const norm = normalize(rule.id, rule.node, rule.rateLimit?.key);
  if (norm.problems.length > 0) {
    problems.push(...norm.problems);
    return null;
  }
  const rl = rule.rateLimit;
  const keyNeedsFamily = rl?.key.some((k) => KEY_EXPR[k]?.family) ?? false;
  const branches = splitFamilies(norm.branches, (b) => keyNeedsFamily || b.atoms.some(familySpecific));
  if (branches.length === 0) {
    problems.push({ rule: rule.id, span: rule.node.span, reason: 'the expression can never match; nothing exported' });
    return null;
  }
  if ((rule.action === 'log' || rule.action === 'rate_limit') && branches.length > 1) {
    for (let i = 0; i < branches.length; i++) {
      for (let j = i + 1; j < branches.length; j++) {
        if (mayOverlap(branches[i] as Branch, branches[j] as Branch)) {
          problems.push({
            rule: rule.id,
            span: rule.node.span,
            reason: `${rule.action} rule splits into overlapping firewall rules (an "or" of conditions on different fields), so a packet could be counted or limited twice; split it into separate rules`,
          });
          return null;
        }
      }
    }
  }
  const out: RuleOut = { rules: [], sets: [], lists: [] };
  try {
    for (const [bi, b] of branches.entries()) {
      const parts = [...familyGuard(b.family, family)];
      for (const x of b.atoms) {
        const s = inRuleTermsOf(rule.node, () => renderAtom(x, b.family, family));
        if (s !== null) parts.push(s);
        if (x.a === 'list') out.lists.push(x.name);
      }
      const match = parts.join(' ');
      const pre = match ? `${match} ` : '';
      switch (rule.action) {
        case 'block':
          out.rules.push({ text: `${pre}counter drop`, counters: ['matched'] });
          break;
        case 'allow':
          out.rules.push({ text: `${pre}counter accept`, counters: ['matched'] });
          break;
        case 'log':
          out.rules.push({ text: `${pre}counter log prefix "palisade ${safeId(rule.id)}: "`, counters: ['matched'] });
          break;
        case 'rate_limit': {
          const r = rl as RateLimit;
          if (r.key.length === 0) {
            // One named limit object, so every branch of the rule shares one bucket.
            const name = `lim_${safeId(rule.id).replace(/[^A-Za-z0-9_]/g, '_')}`;
            if (bi === 0) out.sets.push(`\tlimit ${name} {\n\t\trate over ${limitText(r).replace(/^limit rate over /, '')}\n\t}`);
            out.rules.push({ text: `${pre}counter limit name "${name}" counter drop`, counters: ['matched', 'limited'] });
            break;
          }
          const fam = (b.family ?? 4) as 4 | 6;
          const name = `rl_${safeId(rule.id).replace(/[^A-Za-z0-9_]/g, '_')}_${bi}`;
          const keyExpr = r.key.map((k) => (KEY_EXPR[k] as (typeof KEY_EXPR)[string]).expr(fam)).join(' . ');
          const keyType = r.key.map((k) => (KEY_EXPR[k] as (typeof KEY_EXPR)[string]).type(fam)).join(' . ');
          out.sets.push(`\tset ${name} {\n\t\ttype ${keyType}\n\t\tsize ${r.maxKeys}\n\t\tflags dynamic,timeout\n\t\ttimeout ${refillSeconds(r)}s\n\t}`);
          out.rules.push({ text: `${pre}counter update @${name} { ${keyExpr} ${limitText(r)} } counter drop`, counters: ['matched', 'limited'] });
          break;
        }
      }
    }
  } catch (e) {
    if (e instanceof Unsupported) {
      problems.push({ rule: rule.id, span: e.span ?? rule.node.span, reason: e.message });
      return null;
    }
    throw e;
  }
  void fieldL4;
  return out;
}
