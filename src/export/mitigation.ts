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
}

export interface Mitigation {
  /** The ruleset as data (the format `palisade mitigate --ruleset` reads, as JSON). */
  ruleset: { name: string; rules: Record<string, unknown>[] };
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
  const ruleset = { name: `mitigation ${id}`, rules: [rule] };
  const out: Mitigation = { ruleset, nftables: '', iptables: '', problems: [] };
  let rs: Ruleset;
  try {
    parseExpr(input.expression);
    rs = parseRuleset(JSON.stringify(ruleset), `<${id}>`);
  } catch (e) {
    const span = e instanceof ExprError ? { start: e.start, end: e.end } : null;
    out.problems.push({ target: 'ruleset', problem: { rule: id, span, reason: (e as Error).message } });
    return out;
  }
  const nft: Exported = exportRuleset(rs, 'nftables');
  const ipt: Exported = exportRuleset(rs, 'iptables');
  out.nftables = nft.text;
  out.iptables = ipt.text;
  for (const p of nft.problems) out.problems.push({ target: 'nftables', problem: p });
  for (const p of ipt.problems) out.problems.push({ target: 'iptables', problem: p });
  return out;
}
