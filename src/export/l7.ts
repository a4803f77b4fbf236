/**
 * L7 attacks (an analysis of an access log or of a capture's HTTP) → what each target can enforce.
 *
 * Cloudflare gets the whole mitigation: an IP List per attack (its addresses and /24s), a WAF
 * custom rules ruleset (phase `http_request_firewall_custom`) with each attack's custom rule, and
 * a rate limiting ruleset (phase `http_ratelimit`) with its rate-limiting rule, as the Rulesets API
 * takes them. The kernel and router targets cannot read HTTP, so they get what they can enforce
 * exactly: a block rule on the attack's address list (the same list), through the packet
 * exporters. Nothing is narrowed or widened silently: what a target cannot take is a problem.
 *
 * Checks before passing an expression through (the Rules language is Cloudflare's): it parses
 * against the HTTP scheme; no Palisade extension field ([PX] in the spec); no response field in
 * a rule that runs before the response exists (custom rules; the rate limit's own expression),
 * while a counting expression may read the response, as Cloudflare allows; at most 4,096
 * characters; list references renamed to valid Cloudflare list names.
 */
import type { Attack, L7Mitigation } from '../model/attack.js';
import type { Expr, ValueNode } from '../rules/ast.js';
import { bytesLiteral } from '../rules/literal.js';
import { parseExpression } from '../rules/parser.js';
import { httpScheme } from '../scheme/http.js';
import { type Exported, type ExportOptions, exportRuleset, type Target } from './index.js';
import type { Problem } from './normalize.js';

/** HTTP fields Palisade has and Cloudflare does not ([PX] rows of the spec's HTTP table). */
const PX_HTTP_FIELDS: ReadonlySet<string> = new Set(['http.request.headers.order']);
const MAX_EXPRESSION = 4096;

export interface CloudflareL7Export {
  lists: Array<{ name: string; kind: 'ip'; description: string; items: Array<{ ip: string; comment?: string }> }>;
  rulesets: Array<{
    name: string;
    description: string;
    kind: 'zone';
    phase: 'http_request_firewall_custom' | 'http_ratelimit';
    rules: Array<Record<string, unknown>>;
  }>;
}

export function isL7Attack(x: Attack): x is Attack & { mitigation: L7Mitigation } {
  const m = x.mitigation as Partial<L7Mitigation>;
  return typeof m.custom_rule === 'object' && m.custom_rule !== null && typeof m.lists === 'object';
}

/** Cloudflare list names: lowercase letters, digits and underscores, at most 50 characters. */
export function cloudflareListName(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 50);
  return /^[a-z]/.test(s) ? s : `l_${s}`.slice(0, 50);
}

function fieldsOf(e: Expr, out: Array<{ name: string; start: number; end: number }>): void {
  const value = (v: ValueNode): void => {
    if (v.k === 'field') out.push({ name: v.name, start: v.span.start, end: v.span.end });
    else if (v.k === 'index') value(v.base);
    else
      for (const a of v.args)
        if (a.k === 'value') value(a.v);
        else if (a.k === 'cond') fieldsOf(a.e, out);
  };
  switch (e.k) {
    case 'and':
    case 'or':
    case 'xor':
      for (const i of e.items) fieldsOf(i, out);
      return;
    case 'not':
    case 'any':
    case 'all':
      fieldsOf(e.item, out);
      return;
    case 'cmp':
      value(e.lhs);
      return;
    case 'value':
      value(e.v);
  }
}

/**
 * Check an expression for Cloudflare and rename its list references; null (with problems) when it
 * cannot go. `response`: the expression runs once the response is known (a counting expression).
 */
function checkExpression(rule: string, text: string, lists: ReadonlyMap<string, string>, response: boolean, problems: Problem[]): string | null {
  let renamed = text;
  for (const [from, to] of lists) renamed = renamed.split(`$${from}`).join(`$${to}`);
  let ast: Expr;
  try {
    ast = parseExpression(renamed, httpScheme, new Map([...lists.values()].map((n) => [n, 'ip' as const])));
  } catch (e) {
    problems.push({ rule, span: null, reason: `not a valid HTTP rule: ${(e as Error).message}` });
    return null;
  }
  const used: Array<{ name: string; start: number; end: number }> = [];
  fieldsOf(ast, used);
  let ok = true;
  for (const f of used) {
    if (PX_HTTP_FIELDS.has(f.name)) {
      problems.push({ rule, span: { start: f.start, end: f.end }, reason: `Cloudflare: ${f.name} is a Palisade extension field` });
      ok = false;
    } else if (!response && f.name.startsWith('http.response.')) {
      problems.push({ rule, span: { start: f.start, end: f.end }, reason: `Cloudflare: ${f.name} is only known after the response (use it in a counting expression)` });
      ok = false;
    }
  }
  if (renamed.length > MAX_EXPRESSION) {
    problems.push({ rule, span: { start: MAX_EXPRESSION, end: renamed.length }, reason: `Cloudflare: expressions are limited to ${MAX_EXPRESSION} characters` });
    ok = false;
  }
  return ok ? renamed : null;
}

function cloudflare(attacks: Array<Attack & { mitigation: L7Mitigation }>): Exported {
  const problems: Problem[] = [];
  const out: CloudflareL7Export = { lists: [], rulesets: [] };
  const custom: Array<Record<string, unknown>> = [];
  const rate: Array<Record<string, unknown>> = [];
  for (const x of attacks) {
    const m = x.mitigation;
    const rsLists = (m.ruleset as { lists?: Record<string, unknown> } | null)?.lists ?? {};
    // Every list the rules name becomes one Cloudflare list holding the attack's addresses and prefixes.
    const rename = new Map<string, string>();
    for (const name of Object.keys(rsLists)) {
      const cf = cloudflareListName(`palisade_${x.id}_${name}`);
      rename.set(name, cf);
      out.lists.push({
        name: cf,
        kind: 'ip',
        description: `palisade ${x.id}: ${x.vector} on ${x.victim.host ?? x.victim.ip ?? ''}`.slice(0, 500),
        items: [...m.lists.ips.map((ip) => ({ ip })), ...m.lists.prefixes.map((ip) => ({ ip, comment: 'prefix' }))],
      });
    }
    const ref = (s: string) => `palisade_${x.id}_${s}`.replace(/[^A-Za-z0-9_]/g, '_');
    const expr = checkExpression(x.id, m.custom_rule.expression, rename, false, problems);
    if (expr !== null) custom.push({ action: 'block', expression: expr, description: m.custom_rule.description, enabled: m.custom_rule.enabled, ref: ref('block') });
    if (m.lists.asns.length > 0) {
      const asnExpr = `${x.victim.host ? `http.host eq ${bytesLiteral(x.victim.host)} and ` : ''}ip.src.asnum in {${m.lists.asns.join(' ')}}`;
      const e = checkExpression(`${x.id}-asn`, asnExpr, rename, false, problems);
      if (e !== null)
        custom.push({ action: 'block', expression: e, description: `palisade ${x.id}: networks (AS) that sent the site only the attack`, enabled: true, ref: ref('asn') });
    }
    const rl = m.rate_limit;
    if (rl !== null) {
      const e = checkExpression(`${x.id}-rate`, rl.expression, rename, false, problems);
      const c = rl.ratelimit.counting_expression === undefined ? undefined : checkExpression(`${x.id}-rate`, rl.ratelimit.counting_expression, rename, true, problems);
      if (e !== null && c !== null)
        rate.push({
          action: rl.action,
          expression: e,
          description: rl.description,
          enabled: true,
          ref: ref('rate'),
          ratelimit: { ...rl.ratelimit, ...(c === undefined ? {} : { counting_expression: c }) },
        });
    }
  }
  const desc = 'Generated by palisade export --to cloudflare from an analysis';
  out.rulesets.push({ name: 'palisade L7 custom rules', description: desc, kind: 'zone', phase: 'http_request_firewall_custom', rules: custom });
  if (rate.length > 0) out.rulesets.push({ name: 'palisade L7 rate limits', description: desc, kind: 'zone', phase: 'http_ratelimit', rules: rate });
  return { target: 'cloudflare', text: `${JSON.stringify(out, null, 2)}\n`, problems, map: [], parts: { json: out } };
}

/** The packet targets: each attack's address list as a block rule on the source address. */
function addressRules(attacks: Array<Attack & { mitigation: L7Mitigation }>, target: Exclude<Target, 'cloudflare'>, opts: ExportOptions): Exported {
  const lists: Record<string, { kind: 'named'; entries: string[] }> = {};
  const rules: Array<Record<string, unknown>> = [];
  for (const x of attacks) {
    const entries = [...x.mitigation.lists.ips, ...x.mitigation.lists.prefixes];
    if (entries.length === 0) continue;
    const name = cloudflareListName(`l7_${x.id}`);
    lists[name] = { kind: 'named', entries };
    rules.push({
      id: x.id,
      description: `${x.vector} on ${x.victim.host ?? ''}: its sources (the HTTP signature needs an HTTP-aware target)`,
      expression: `ip.src in $${name}`,
      action: 'block',
    });
  }
  return exportRuleset({ name: 'palisade L7 sources', lists, rules }, target, opts);
}

/** Export the L7 attacks of an analysis to a target; packet attacks are left to exportRuleset on their own rulesets. */
export function exportL7Attacks(attacks: readonly Attack[], target: Target, opts: ExportOptions = {}): Exported {
  const l7 = attacks.filter(isL7Attack);
  return target === 'cloudflare' ? cloudflare(l7) : addressRules(l7, target, opts);
}
