/**
 * What detection puts into an Attack's `mitigation`: a one-rule ruleset built from the attack's
 * signature expression, and that ruleset as nftables and iptables text. Problems (parts of the
 * signature a target cannot express) come back with spans in the expression.
 */

import { parseRuleset, type Ruleset } from '../mitigate/ruleset.js';
import { ExprError, parseExpr } from '../rules/packet-ir.js';
import { type Exported, exportRuleset, type Problem } from './index.js';

export interface MitigationInput {
  /** Signature expression (packet scheme). */
  expression: string;
  /** Rule id, e.g. the attack id. */
  id?: string;
  description?: string;
  /** Default block; rate_limit needs `rate_limit`. */
  action?: 'block' | 'rate_limit';
  rate_limit?: { rate: number; unit?: 'packets' | 'bytes'; burst?: number; key?: string | string[]; period?: string };
  /** Named address lists the expression refers to (`ip.src in $name`), e.g. an attack's source list. */
  lists?: Record<string, string[]>;
}

export interface Mitigation {
  /** The ruleset as data (the format `palisade mitigate --ruleset` reads, as JSON). */
  ruleset: { name: string; lists?: Record<string, { kind: 'named'; entries: string[] }>; rules: Record<string, unknown>[] };
  nftables: string;
  iptables: string;
  problems: { target: 'nftables' | 'iptables' | 'ruleset'; problem: Problem }[];
}

export function buildMitigation(input: MitigationInput): Mitigation {
  const id = (input.id ?? 'attack').replace(/[^A-Za-z0-9_.:-]/g, '_');
  const rule: Record<string, unknown> = {
    id,
    description: input.description ?? `mitigation for ${id}`,
    expression: input.expression,
    action: input.action ?? 'block',
  };
  if (input.action === 'rate_limit') rule.action_parameters = input.rate_limit ?? { rate: 1000, burst: 1000, key: 'ip.src' };
  const ruleset: Mitigation['ruleset'] = { name: `mitigation ${id}`, rules: [rule] };
  if (input.lists) ruleset.lists = Object.fromEntries(Object.entries(input.lists).map(([k, entries]) => [k, { kind: 'named' as const, entries }]));
  const out: Mitigation = { ruleset, nftables: '', iptables: '', problems: [] };
  let rs: Ruleset;
  try {
    parseExpr(input.expression, { has: (n) => input.lists?.[n] !== undefined });
    rs = parseRuleset(JSON.stringify(ruleset), `<${id}>`);
  } catch (e) {
    const span = e instanceof ExprError ? { start: e.start, end: e.end } : null;
    out.problems.push({ target: 'ruleset', problem: { rule: id, span, reason: (e as Error).message } });
    return out;
  }
  const nft: Exported = exportRuleset(rs, 'nftables');
  // A chain of its own per attack, so each attack's script can be applied beside the others'.
  const ipt: Exported = exportRuleset(rs, 'iptables', { iptables: { chain: iptablesChain(id) } });
  out.nftables = nft.text;
  out.iptables = ipt.text;
  for (const p of nft.problems) out.problems.push({ target: 'nftables', problem: p });
  for (const p of ipt.problems) out.problems.push({ target: 'iptables', problem: p });
  return out;
}

/** iptables chain names are at most 28 characters: PAL- and the id, shortened with a hash if long. */
export function iptablesChain(id: string): string {
  const name = `PAL-${id}`;
  if (name.length <= 28) return name;
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return `PAL-${id.slice(0, 15)}-${(h >>> 0).toString(16).padStart(8, '0')}`;
}
