/**
 * One entry point for every exporter: `exportRuleset(ruleset, target)` gives the target's text
 * and the list of problems (rule, span in its expression, reason) for whatever the target
 * cannot express. Nothing is silently dropped or widened: a rule with a problem is left out
 * whole and listed.
 */

import { parseRuleset, type Ruleset } from '../mitigate/ruleset.js';
import { caret } from '../rules/packet-ir.js';
import { exportCloudflare } from './cloudflare.js';
import { exportFlowspec } from './flowspec.js';
import { exportIptables } from './iptables.js';
import { type ExportMapEntry, exportNftables, type NftOptions } from './nftables.js';
import type { Problem } from './normalize.js';

export type { Problem } from './normalize.js';

export const TARGETS = ['nftables', 'iptables', 'flowspec', 'cloudflare'] as const;
export type Target = (typeof TARGETS)[number];

export interface ExportOptions {
  nftables?: NftOptions;
  iptables?: { table?: 'raw' | 'mangle' | 'filter'; hook?: string; chain?: string };
  flowspec?: { maxRoutes?: number };
  cloudflare?: { phases?: ('magic' | 'waf')[] };
}

export interface Exported {
  target: Target;
  text: string;
  problems: Problem[];
  map: ExportMapEntry[];
  /** Target-specific parts (iptables: ipset / iptables / ip6tables; cloudflare: the JSON object). */
  parts?: Record<string, unknown>;
}

/** A ruleset given as data (what detection builds): `{ name?, lists?, rules: [{ id, expression, action, ... }] }`. */
export type RulesetInput = Record<string, unknown>;

export function exportRuleset(ruleset: Ruleset | RulesetInput, target: Target, opts: ExportOptions = {}): Exported {
  const rs = 'listDefs' in ruleset && 'file' in ruleset ? (ruleset as Ruleset) : parseRuleset(JSON.stringify(ruleset), '<ruleset>');
  switch (target) {
    case 'nftables':
      return exportNftables(rs, opts.nftables) as Exported;
    case 'iptables': {
      const r = exportIptables(rs, opts.iptables);
      return { target, text: r.text, problems: r.problems, map: r.map, parts: { ipset: r.ipset, iptables: r.iptables, ip6tables: r.ip6tables } };
    }
    case 'flowspec':
      return exportFlowspec(rs, opts.flowspec) as Exported;
    case 'cloudflare': {
      const r = exportCloudflare(rs, opts.cloudflare);
      return { target, text: r.text, problems: r.problems, map: r.map, parts: { json: r.json } };
    }
  }
}

/** A problem for a person: rule, reason, and the expression with a caret under the span. */
export function formatProblem(p: Problem, rs: Ruleset): string {
  const rule = rs.rules.find((r) => r.id === p.rule);
  const head = `${rule ? `${rs.file}:${rule.line}: rule ${p.rule}` : p.rule}: ${p.reason}`;
  if (!rule || !p.span) return head;
  return `${head}\n${caret(rule.expression, p.span.start, p.span.end)
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n')}`;
}
