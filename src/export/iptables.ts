/**
 * Ruleset → iptables + ipset: `ipset restore` input (hash:net sets for lists and larger prefix
 * sets) and `iptables-restore` / `ip6tables-restore` input (one chain PALISADE in the raw table,
 * jumped to from PREROUTING, so rules see packets before conntrack and routing).
 *
 * Every exported rule carries a comment `palisade:<rule>:<branch>` and iptables' own counters.
 * Rate limits become two rules: one without a target that counts what matched, then a
 * `hashlimit --hashlimit-above` rule that drops the excess (iptables' token bucket is
 * jiffies-based: figures can differ from nftables' near the limit).
 */

import { formatPrefix, type Prefix } from '../core/net/prefix.js';
import type { RateLimit, Rule, Ruleset } from '../mitigate/ruleset.js';
import type { Span } from '../rules/packet-ir.js';
import { coverPrefixes, type ExportMapEntry, safeId, splitFamilies } from './nftables.js';
import { type Branch, fieldL4, inRuleTermsOf, mayOverlap, normalize, type Problem } from './normalize.js';
import { Unsupported } from './unsupported.js';

export interface IptablesOptions {
  table?: 'raw' | 'mangle' | 'filter';
  /** Built-in chain to hook into (default PREROUTING; filter has INPUT/FORWARD). */
  hook?: string;
  chain?: string;
}

export interface IptablesResult {
  target: 'iptables';
  ipset: string;
  iptables: string;
  ip6tables: string;
  /** A shell script applying all three (what the CLI prints). */
  text: string;
  problems: Problem[];
  /** Tags per family: iptables tags live in iptables, ip6 ones in ip6tables. */
  map: (ExportMapEntry & { family: 4 | 6 })[];
}

const FLAG_NAMES = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'];
/** The bits iptables' tcp match can test: its ALL is FIN..URG, it has no ECE or CWR. */
const TCP_MATCH_BITS = 0x3f;

/**
 * Arguments testing `flags & mask == value` exactly. The tcp match cannot see ECE/CWR (its
 * ALL means the six classic bits), so an exact value or an ECE/CWR test reads the flags byte
 * with u32 instead (IPv4: header length from IHL; `! -f`, as non-first fragments carry no TCP
 * header and have no tcp.flags). ip6tables has no way to find the TCP header behind extension
 * headers with u32, so there it is reported rather than silently widened.
 */
function flagsMatch(fam: 4 | 6, mask: number, value: number, span: Span | null): string[] {
  if ((mask & ~TCP_MATCH_BITS) === 0) return ['-m', 'tcp', '--tcp-flags', flagList(mask), flagList(value)];
  if (fam === 6) throw new Unsupported('ip6tables cannot test the ECE/CWR TCP flags, so an exact tcp.flags value cannot be expressed', span);
  return ['!', '-f', '-m', 'u32', '--u32', `0>>22&0x3C@12>>16&0x${mask.toString(16)}=0x${value.toString(16)}`];
}
function flagList(mask: number): string {
  if (mask === 0) return 'NONE';
  if (mask === 0xff) return 'ALL';
  return FLAG_NAMES.filter((_, i) => mask & (1 << i)).join(',');
}

export function ipsetName(list: string, fam: 4 | 6): string {
  // ipset names are at most 31 characters.
  const base = `pal_${list}`.slice(0, 26);
  return `${base}_v${fam}`;
}

/** Alternatives (disjoint) of argument lists for one atom. */
type Alts = string[][];

interface Ctx {
  fam: 4 | 6;
  rule: string;
  sets: Map<string, { fam: 4 | 6; prefixes: Prefix[]; key: string }>;
  lists: Set<string>;
}

function protoArg(p: number, fam: 4 | 6): string {
  if (p === 6) return 'tcp';
  if (p === 17) return 'udp';
  if (p === 1 && fam === 4) return 'icmp';
  if (p === 58 && fam === 6) return 'ipv6-icmp';
  return String(p);
}

function rangeArg(a: number, b: number, sep = ':'): string {
  return a === b ? String(a) : `${a}${sep}${b}`;
}

function expandValues(rs: [number, number][], cap: number, span: Span, what: string): number[] {
  const out: number[] = [];
  for (const [a, b] of rs) for (let x = a; x <= b; x++) out.push(x);
  if (out.length > cap) throw new Unsupported(`${what}: ${out.length} values would need as many iptables rules (limit ${cap})`, span);
  return out;
}

function renderBranch(b: Branch, ctx: Ctx): Alts {
  const fam = ctx.fam;
  let alts: Alts = [[]];
  const mul = (x: Alts): void => {
    const next: Alts = [];
    for (const a of alts) for (const y of x) next.push([...a, ...y]);
    alts = next;
  };
  // Transport protocol from fields, then explicit protocol atoms.
  const l4 = new Set(b.atoms.flatMap((x) => ((x.a === 'int' || x.a === 'band') && fieldL4(x.field) ? [fieldL4(x.field)] : [])));
  if (l4.size === 1) {
    const p = [...l4][0];
    mul([['-p', p === 'tcp' ? 'tcp' : p === 'udp' ? 'udp' : fam === 4 ? 'icmp' : 'ipv6-icmp']]);
  }
  let setBits = 0;
  let clearBits = 0;
  let flagSpan: Span | null = null;
  let icmpType: number[] | null = null;
  let icmpCode: number | null = null;
  for (const x of b.atoms) {
    switch (x.a) {
      case 'family':
        break;
      case 'addr': {
        const ps = coverPrefixes(x.prefixes);
        const flag = x.dir === 'src' ? '-s' : '-d';
        if (ps.length === 1) mul([[...(x.neg ? ['!'] : []), flag, formatPrefix(ps[0] as Prefix)]]);
        else {
          // One ipset per distinct prefix set (branches of a rule often share one).
          const key = `${fam}|${ps.map(formatPrefix).join(',')}`;
          let name = [...ctx.sets.entries()].find(([, v]) => v.key === key)?.[0];
          if (name === undefined) {
            name = `pal_${safeId(ctx.rule)
              .replace(/[^A-Za-z0-9_]/g, '_')
              .slice(0, 16)}_${ctx.sets.size}_v${fam}`;
            ctx.sets.set(name, { fam, prefixes: ps, key });
          }
          mul([['-m', 'set', ...(x.neg ? ['!'] : []), '--match-set', name, x.dir]]);
        }
        break;
      }
      case 'list':
        ctx.lists.add(x.name);
        mul([['-m', 'set', ...(x.neg ? ['!'] : []), '--match-set', ipsetName(x.name, x.family), x.dir]]);
        break;
      case 'proto': {
        const ps = x.protos.filter((p) => !((p === 1 && fam === 6) || (p === 58 && fam === 4)));
        if (x.neg) {
          if (ps.length === 0) break;
          if (ps.length > 1) throw new Unsupported('"not one of several protocols" cannot be one iptables rule', x.span);
          mul([['!', '-p', protoArg(ps[0] as number, fam)]]);
        } else {
          if (ps.length === 0) return [];
          mul(ps.map((p) => ['-p', protoArg(p, fam)]));
        }
        break;
      }
      case 'nonfirst':
        if (x.neg || fam === 6) throw new Unsupported('IPv6 non-first fragments cannot be selected in ip6tables', null);
        mul([['-f']]);
        break;
      case 'band': {
        if (x.field !== 'tcp.flags') throw new Unsupported(`"&" on ${x.field} cannot be expressed in iptables`, x.span);
        flagSpan ??= x.span;
        if (x.neg) clearBits |= x.mask;
        else if ((x.mask & (x.mask - 1)) === 0) setBits |= x.mask;
        else {
          // Any of several bits: disjoint alternatives "bit i set, earlier bits clear".
          const bits = FLAG_NAMES.map((_, i) => 1 << i).filter((m) => x.mask & m);
          let before = 0;
          const a: Alts = [];
          for (const bit of bits) {
            a.push(flagsMatch(fam, before | bit, bit, x.span));
            before |= bit;
          }
          mul(a);
        }
        break;
      }
      case 'int': {
        const f = x.field;
        if (f === 'tcp.srcport' || f === 'tcp.dstport' || f === 'udp.srcport' || f === 'udp.dstport') {
          const dir = f.endsWith('srcport') ? 'sport' : 'dport';
          if (x.ranges.length === 1) {
            const [a0, b0] = x.ranges[0] as [number, number];
            mul([['-m', f.startsWith('tcp') ? 'tcp' : 'udp', `--${dir}`, rangeArg(a0, b0)]]);
          } else {
            const items = x.ranges.map(([a0, b0]) => rangeArg(a0, b0));
            const cost = x.ranges.reduce((s, [a0, b0]) => s + (a0 === b0 ? 1 : 2), 0);
            if (cost <= 15) mul([['-m', 'multiport', `--${dir}s`, items.join(',')]]);
            else mul(x.ranges.map(([a0, b0]) => ['-m', f.startsWith('tcp') ? 'tcp' : 'udp', `--${dir}`, rangeArg(a0, b0)]));
          }
        } else if (f === 'tcp.flags') {
          mul(expandValues(x.ranges, 64, x.span, 'tcp.flags').map((v) => flagsMatch(fam, 0xff, v, x.span)));
        } else if (f === 'ip.len') {
          mul(x.ranges.map(([a0, b0]) => ['-m', 'length', '--length', rangeArg(a0, b0)]));
        } else if (f === 'ip.ttl') {
          const [m, eq, gt, lt] = fam === 4 ? ['ttl', '--ttl-eq', '--ttl-gt', '--ttl-lt'] : ['hl', '--hl-eq', '--hl-gt', '--hl-lt'];
          mul(
            x.ranges.map(([a0, b0]) => {
              if (a0 === b0) return ['-m', m as string, eq as string, String(a0)];
              const o: string[] = [];
              if (a0 > 0) o.push('-m', m as string, gt as string, String(a0 - 1));
              if (b0 < 255) o.push('-m', m as string, lt as string, String(b0 + 1));
              return o;
            }),
          );
        } else if (f === 'ip.dscp') {
          mul(expandValues(x.ranges, 64, x.span, 'ip.dscp').map((v) => ['-m', 'dscp', '--dscp', String(v)]));
        } else if (f === 'icmp.type') {
          icmpType = expandValues(x.ranges, 32, x.span, 'icmp.type');
        } else if (f === 'icmp.code') {
          if (x.ranges.length !== 1 || (x.ranges[0] as [number, number])[0] !== (x.ranges[0] as [number, number])[1])
            throw new Unsupported('icmp.code ranges cannot be expressed in iptables', x.span);
          icmpCode = (x.ranges[0] as [number, number])[0];
        } else throw new Unsupported(`${f} cannot be expressed in iptables`, x.span);
        break;
      }
    }
  }
  if (setBits !== 0 || clearBits !== 0) mul([flagsMatch(fam, setBits | clearBits, setBits, flagSpan)]);
  if (icmpCode !== null && icmpType === null) throw new Unsupported('icmp.code needs icmp.type == N in iptables', null);
  if (icmpType !== null) {
    const opt = fam === 4 ? '--icmp-type' : '--icmpv6-type';
    const m = fam === 4 ? 'icmp' : 'icmp6';
    mul(icmpType.map((t) => ['-m', m, opt, icmpCode === null ? String(t) : `${t}/${icmpCode}`]));
  }
  return alts;
}

function quote(s: string): string {
  return /^[A-Za-z0-9_.:,/!-]+$/.test(s) ? s : `"${s.replace(/(["\\])/g, '\\$1')}"`;
}

const HASH_MODE: Record<string, string> = {
  'ip.src': 'srcip',
  'ip.dst': 'dstip',
  'tcp.srcport': 'srcport',
  'udp.srcport': 'srcport',
  'tcp.dstport': 'dstport',
  'udp.dstport': 'dstport',
};

function hashlimit(rl: RateLimit, name: string, span: Span): string[] {
  if (rl.unit === 'bytes') throw new Unsupported('byte rate limits are not exported to iptables (hashlimit byte mode has other arithmetic); use nftables', span);
  const modes = [...new Set(rl.key.map((k) => HASH_MODE[k]))];
  if (modes.some((m) => m === undefined)) throw new Unsupported(`hashlimit cannot key on ${rl.key.join(', ')}`, span);
  const out = ['-m', 'hashlimit', '--hashlimit-above', `${rl.rate}/${rl.period}`, '--hashlimit-burst', String(rl.burst)];
  if (modes.length > 0) out.push('--hashlimit-mode', modes.join(','));
  out.push('--hashlimit-name', name, '--hashlimit-htable-max', String(rl.maxKeys));
  return out;
}

export function exportIptables(rs: Ruleset, opts: IptablesOptions = {}): IptablesResult {
  const table = opts.table ?? 'raw';
  const hook = opts.hook ?? (table === 'filter' ? 'INPUT' : 'PREROUTING');
  const chain = opts.chain ?? 'PALISADE';
  const problems: Problem[] = [];
  const map: IptablesResult['map'] = [];
  const lines: Record<4 | 6, string[]> = { 4: [], 6: [] };
  const sets = new Map<string, { fam: 4 | 6; prefixes: Prefix[]; key: string }>();
  const lists = new Set<string>();
  const add = (fam: 4 | 6, args: string[], tag: string, target: string[]): void => {
    lines[fam].push(`-A ${chain} ${args.map(quote).join(' ')}${args.length ? ' ' : ''}-m comment --comment ${quote(tag)}${target.length ? ` ${target.map(quote).join(' ')}` : ''}`);
  };

  for (const kind of ['allow', 'block'] as const) {
    for (const l of kind === 'allow' ? rs.lists.allowLists() : rs.lists.blockLists()) {
      lists.add(l.name);
      const dirs = l.match === 'either' ? ['src', 'dst'] : [l.match];
      let n = 0;
      for (const fam of [4, 6] as const) {
        for (const d of dirs) {
          const tag = `palisade:list:${safeId(l.name)}:${n++}`;
          add(fam, ['-m', 'set', '--match-set', ipsetName(l.name, fam), d], tag, ['-j', kind === 'allow' ? 'ACCEPT' : 'DROP']);
          map.push({ tag, kind: 'list', id: l.name, counters: ['matched'], family: fam });
        }
      }
    }
  }

  let limits = 0;
  for (const rule of rs.rules) {
    if (!rule.enabled) continue;
    const before = { 4: lines[4].length, 6: lines[6].length, map: map.length, sets: new Map(sets), lists: new Set(lists) };
    try {
      exportRule(
        rule,
        (fam, args, tag, target, counters) => {
          add(fam, args, tag, target);
          if (counters) map.push({ tag, kind: 'rule', id: rule.id, counters, family: fam });
        },
        { sets, lists },
        () =>
          `pl${(limits++).toString(36)}_${safeId(rule.id)
            .replace(/[^A-Za-z0-9_]/g, '')
            .slice(0, 9)}`,
      );
    } catch (e) {
      if (!(e instanceof Unsupported)) throw e;
      problems.push({ rule: rule.id, span: e.span ?? rule.node.span, reason: e.message });
      // Roll back whatever part of this rule was emitted: a rule is exported whole or not at all.
      lines[4].length = before[4];
      lines[6].length = before[6];
      map.length = before.map;
      sets.clear();
      for (const [k, v] of before.sets) sets.set(k, v);
      lists.clear();
      for (const l of before.lists) lists.add(l);
    }
  }

  // ipset restore input.
  const ipset: string[] = [];
  const setLines = (name: string, fam: 4 | 6, ps: Prefix[]): void => {
    ipset.push(`create ${name} hash:net family ${fam === 4 ? 'inet' : 'inet6'} hashsize 1024 maxelem ${Math.max(65536, ps.length)}`);
    ipset.push(`flush ${name}`);
    for (const p of ps) ipset.push(`add ${name} ${formatPrefix(p)}`);
  };
  for (const name of lists) {
    const l = rs.lists.get(name);
    if (!l) continue;
    const c = l.cover();
    for (const fam of [4, 6] as const) {
      const ps = fam === 4 ? c.v4 : c.v6;
      if (ps.some((p) => p.len === 0))
        problems.push({
          rule: `$${name}`,
          span: null,
          reason: `list ${name} holds ${fam === 4 ? '0.0.0.0/0' : '::/0'}, which hash:net cannot store; the ipset leaves it out`,
        });
      setLines(
        ipsetName(name, fam),
        fam,
        ps.filter((p) => p.len > 0),
      );
    }
  }
  for (const [name, s] of sets) setLines(name, s.fam, s.prefixes);

  const restore = (fam: 4 | 6, jump = true): string =>
    [
      `# Generated by palisade export --to iptables from ruleset ${rs.name}`,
      `*${table}`,
      `:${chain} - [0:0]`,
      ...(jump ? [`-A ${hook} -j ${chain}`] : []),
      ...lines[fam],
      'COMMIT',
      '',
    ].join('\n');
  const result: IptablesResult = {
    target: 'iptables',
    ipset: `${ipset.join('\n')}\n`,
    iptables: restore(4),
    ip6tables: restore(6),
    text: '',
    problems,
    map,
  };
  // The script replaces its own chain's rules (iptables-restore empties a declared chain even
  // with --noflush) and adds the jump only when it is not there: running it again, or running
  // another ruleset's script with another chain, leaves one jump per chain and the others intact.
  const jumpOnce = (cmd: string): string => `${cmd} -t ${table} -C ${hook} -j ${chain} 2>/dev/null || ${cmd} -t ${table} -A ${hook} -j ${chain}`;
  result.text = [
    '#!/bin/sh',
    `# palisade export --to iptables: ruleset ${rs.name}, chain ${chain}. Apply as root; safe to run again.`,
    'set -e',
    "ipset restore -exist <<'PALISADE_IPSET'",
    result.ipset.trimEnd(),
    'PALISADE_IPSET',
    "iptables-restore --noflush <<'PALISADE_V4'",
    restore(4, false).trimEnd(),
    'PALISADE_V4',
    jumpOnce('iptables'),
    "ip6tables-restore --noflush <<'PALISADE_V6'",
    restore(6, false).trimEnd(),
    'PALISADE_V6',
    jumpOnce('ip6tables'),
    '',
  ].join('\n');
  return result;
}

function exportRule(
  rule: Rule,
  emit: (fam: 4 | 6, args: string[], tag: string, target: string[], counters: ('matched' | 'limited')[] | null) => void,
  shared: { sets: Map<string, { fam: 4 | 6; prefixes: Prefix[]; key: string }>; lists: Set<string> },
  limitName: () => string,
): void {
  const norm = normalize(rule.id, rule.node, rule.rateLimit?.key);
  if (norm.problems.length > 0) {
    const p = norm.problems[0] as Problem;
    throw new Unsupported(p.reason, p.span);
  }
  // Every branch goes to one family (iptables or ip6tables).
  const branches = splitFamilies(norm.branches, () => true);
  if (branches.length === 0) throw new Unsupported('the expression can never match; nothing exported', rule.node.span);
  if ((rule.action === 'log' || rule.action === 'rate_limit') && branches.length > 1) {
    for (let i = 0; i < branches.length; i++)
      for (let j = i + 1; j < branches.length; j++)
        if (mayOverlap(branches[i] as Branch, branches[j] as Branch))
          throw new Unsupported(
            `${rule.action} rule splits into overlapping firewall rules, so a packet could be counted or limited twice; split it into separate rules`,
            rule.node.span,
          );
  }
  if (rule.action === 'rate_limit' && (rule.rateLimit as RateLimit).key.length === 0 && new Set(branches.map((b) => b.family)).size > 1) {
    inRuleTermsOf(rule.node, () => {
      throw new Unsupported(
        'a rate limit without a key that spans IPv4 and IPv6 would get one bucket per family in iptables; key it or split the rule by ip.version',
        rule.node.span,
      );
    });
  }
  let n = 0;
  const hl = rule.action === 'rate_limit' ? hashlimit(rule.rateLimit as RateLimit, limitName(), rule.node.span) : null;
  for (const b of branches) {
    const fam = b.family as 4 | 6;
    const ctx: Ctx = { fam, rule: rule.id, sets: shared.sets, lists: shared.lists };
    const alts = inRuleTermsOf(rule.node, () => renderBranch(b, ctx));
    for (const args of alts) {
      const tag = `palisade:${safeId(rule.id)}:${n++}`;
      switch (rule.action) {
        case 'block':
          emit(fam, args, tag, ['-j', 'DROP'], ['matched']);
          break;
        case 'allow':
          emit(fam, args, tag, ['-j', 'ACCEPT'], ['matched']);
          break;
        case 'log':
          emit(fam, args, tag, ['-j', 'LOG', '--log-prefix', `palisade ${safeId(rule.id).slice(0, 18)}: `], ['matched']);
          break;
        case 'rate_limit':
          emit(fam, args, `${tag}:m`, [], ['matched']);
          emit(fam, [...args, ...(hl as string[])], `${tag}:l`, ['-j', 'DROP'], ['limited']);
          break;
      }
    }
  }
}
