/**
 * Ruleset → Cloudflare Rulesets API JSON: a Magic Firewall root ruleset (phase `magic_transit`,
 * packet fields), a WAF custom rules ruleset (phase `http_request_firewall_custom`, for rules
 * whose fields exist on HTTP requests, i.e. addresses and lists) and the IP lists they reference
 * (Lists API items).
 *
 * Expressions are passed through as written (the Rules language is Cloudflare's), after checking
 * that they use only fields Cloudflare has: Palisade's extension fields ([PX] in the spec) are
 * reported with their span. Actions: block → `block`, allow → `skip` (rest of the ruleset),
 * log → `log`; rate limits have no packet-level equivalent there and are reported.
 *
 * Tunnels: Magic Firewall names no fields for the outer header of a tunnelled packet, so rules
 * on outer.ip.* are reported (not rewritten to ip.*: what Magic Firewall's ip.* reads on a GRE
 * or IP-in-IP packet it does not decapsulate is not documented). As for the kernel exporters, a
 * rule on ip.* passed through is exact for traffic without a tunnel (normalize.ts).
 */

import { formatPrefixCidr } from '../core/net/prefix.js';
import type { Rule, Ruleset } from '../mitigate/ruleset.js';
import type { Node, Span } from '../rules/packet-ir.js';
import { packetScheme } from '../scheme/packet.js';
import { fieldsWith } from '../scheme/types.js';
import type { ExportMapEntry } from './nftables.js';
import type { Problem } from './normalize.js';

/** Packet fields Cloudflare's Magic Firewall knows (spec §10.1, rows marked [CF]): the catalogue's fields whose targets name it. */
const CF_PACKET_FIELDS: ReadonlySet<string> = new Set(
  fieldsWith(packetScheme, 'targets')
    .filter((f) => f.caps.targets.includes('cloudflare'))
    .map((f) => f.name),
);
/** Fields of packet rules that also exist on HTTP requests (WAF custom rules). */
const CF_HTTP_FIELDS = new Set(['ip.src']);

export interface CloudflareRule {
  action: 'block' | 'skip' | 'log';
  action_parameters?: { ruleset: 'current' };
  expression: string;
  description: string;
  enabled: boolean;
  ref: string;
}

export interface CloudflareRuleset {
  name: string;
  description: string;
  kind: 'root' | 'zone';
  phase: 'magic_transit' | 'http_request_firewall_custom';
  rules: CloudflareRule[];
}

export interface CloudflareExport {
  lists: { name: string; kind: 'ip'; description: string; items: { ip: string; comment?: string }[] }[];
  rulesets: CloudflareRuleset[];
}

export interface CloudflareResult {
  target: 'cloudflare';
  json: CloudflareExport;
  text: string;
  problems: Problem[];
  map: ExportMapEntry[];
}

function fieldsOf(n: Node, out: { field: string; span: Span }[]): void {
  switch (n.k) {
    case 'and':
    case 'or':
    case 'xor':
      for (const i of n.items) fieldsOf(i, out);
      return;
    case 'not':
      fieldsOf(n.item, out);
      return;
    default:
      out.push({ field: n.field, span: { start: n.span.start, end: n.span.start + n.field.length } });
  }
}

const MAX_EXPRESSION = 4096;

function cfRule(rule: Rule, phase: 'magic' | 'waf', problems: Problem[]): CloudflareRule | null {
  const where = phase === 'magic' ? 'Magic Firewall' : 'WAF custom rules';
  const allowed = phase === 'magic' ? CF_PACKET_FIELDS : CF_HTTP_FIELDS;
  if (rule.action === 'rate_limit') {
    problems.push({ rule: rule.id, span: null, reason: `${where}: rate_limit has no packet-level equivalent (Cloudflare rate limiting counts HTTP requests)` });
    return null;
  }
  const used: { field: string; span: Span }[] = [];
  fieldsOf(rule.node, used);
  const bad = used.filter((u) => !allowed.has(u.field));
  if (bad.length > 0) {
    for (const b of bad) {
      problems.push({
        rule: rule.id,
        span: b.span,
        reason:
          phase === 'magic'
            ? b.field.startsWith('outer.')
              ? `${where}: ${b.field} is a Palisade extension field (the outermost IP header of a tunnelled packet); Magic Firewall has no fields for the outer header`
              : `${where}: ${b.field} is a Palisade extension field, not a Cloudflare one`
            : `${where}: ${b.field} is a packet field; HTTP rules only have the client address`,
      });
    }
    return null;
  }
  if (rule.expression.length > MAX_EXPRESSION) {
    problems.push({
      rule: rule.id,
      span: { start: MAX_EXPRESSION, end: rule.expression.length },
      reason: `${where}: expressions are limited to ${MAX_EXPRESSION} characters`,
    });
    return null;
  }
  const tab = rule.expression.indexOf('\t');
  if (tab >= 0) {
    problems.push({ rule: rule.id, span: { start: tab, end: tab + 1 }, reason: `${where}: tabs are not whitespace for Cloudflare; use spaces` });
    return null;
  }
  const out: CloudflareRule = {
    action: rule.action === 'allow' ? 'skip' : rule.action === 'block' ? 'block' : 'log',
    expression: rule.expression,
    description: rule.description || rule.id,
    enabled: true,
    ref: `palisade_${rule.id}`.replace(/[^A-Za-z0-9_]/g, '_'),
  };
  if (out.action === 'skip') out.action_parameters = { ruleset: 'current' };
  return out;
}

export function exportCloudflare(rs: Ruleset, opts: { phases?: ('magic' | 'waf')[] } = {}): CloudflareResult {
  const problems: Problem[] = [];
  const map: ExportMapEntry[] = [];
  const lists: CloudflareExport['lists'] = [];
  for (const l of rs.lists.all()) {
    const c = l.cover();
    lists.push({
      name: l.name,
      kind: 'ip',
      description: `palisade list ${l.name} (${l.kind})`,
      items: [...c.v4, ...c.v6].map((p) => ({ ip: formatPrefixCidr(p) })),
    });
  }
  const rulesets: CloudflareRuleset[] = [];
  for (const phase of opts.phases ?? (['magic', 'waf'] as const)) {
    const rules: CloudflareRule[] = [];
    for (const kind of ['allow', 'block'] as const) {
      for (const l of kind === 'allow' ? rs.lists.allowLists() : rs.lists.blockLists()) {
        const exprs = l.match === 'either' ? [`ip.src in $${l.name}`, `ip.dst in $${l.name}`] : [`ip.${l.match} in $${l.name}`];
        if (phase === 'waf' && l.match !== 'src') {
          problems.push({ rule: `$${l.name}`, span: null, reason: 'WAF custom rules: lists matched on the destination address do not apply to HTTP requests' });
          continue;
        }
        const expression = phase === 'waf' ? `ip.src in $${l.name}` : exprs.join(' or ');
        rules.push({
          action: kind === 'allow' ? 'skip' : 'block',
          ...(kind === 'allow' ? { action_parameters: { ruleset: 'current' as const } } : {}),
          expression,
          description: `${kind} list ${l.name}`,
          enabled: true,
          ref: `palisade_list_${l.name}`,
        });
        if (phase === 'magic') map.push({ tag: `palisade_list_${l.name}`, kind: 'list', id: l.name, counters: ['matched'] });
      }
    }
    for (const rule of rs.rules) {
      if (!rule.enabled) continue;
      const r = cfRule(rule, phase, problems);
      if (r) {
        rules.push(r);
        if (phase === 'magic') map.push({ tag: r.ref, kind: 'rule', id: rule.id, counters: ['matched'] });
      }
    }
    rulesets.push(
      phase === 'magic'
        ? { name: `palisade ${rs.name}`, description: 'Generated by palisade export --to cloudflare', kind: 'root', phase: 'magic_transit', rules }
        : {
            name: `palisade ${rs.name} (WAF)`,
            description: 'Generated by palisade export --to cloudflare',
            kind: 'zone',
            phase: 'http_request_firewall_custom',
            rules,
          },
    );
  }
  const json: CloudflareExport = { lists, rulesets };
  return { target: 'cloudflare', json, text: `${JSON.stringify(json, null, 2)}\n`, problems, map };
}
