/**
 * An attack's rules as the report shows them: the mitigation ruleset as text a person can read
 * and `palisade mitigate --ruleset` can load (YAML), and what the nftables and iptables versions
 * leave out. The exporters drop a rule whole when a target cannot express part of it; the report
 * must say so rather than present an empty chain as protection.
 */
import { stringify } from 'yaml';
import type { Attack } from '../detect/types.js';
import { exportRuleset } from '../export/index.js';
import { parseRuleset } from '../mitigate/ruleset.js';

export function rulesText(x: Attack): string {
  const rs = x.mitigation.ruleset;
  if (typeof rs === 'string') return rs.replace(/\n+$/, '');
  if (rs === null || typeof rs !== 'object') return x.signature.expression;
  return stringify(rs, { lineWidth: 0 }).replace(/\n+$/, '');
}

export interface RuleGaps {
  nftables: string[];
  iptables: string[];
}

/** Why each target's rules leave something out (`rule r1: tcp.window cannot be expressed in iptables`). */
export function ruleGaps(x: Attack): RuleGaps {
  const out: RuleGaps = { nftables: [], iptables: [] };
  const raw = x.mitigation.ruleset;
  let rs: ReturnType<typeof parseRuleset>;
  try {
    rs = parseRuleset(typeof raw === 'string' ? raw : JSON.stringify(raw), `<mitigation ${x.id}>`);
  } catch {
    return out;
  }
  for (const target of ['nftables', 'iptables'] as const) {
    try {
      for (const p of exportRuleset(rs, target).problems) out[target].push(`rule ${p.rule}: ${p.reason}`);
    } catch (e) {
      out[target].push((e as Error).message);
    }
  }
  return out;
}
