/**
 * An attack's rules as the report shows them: the mitigation ruleset as text a person can read
 * and `palisade mitigate --ruleset` can load (YAML), and what the nftables and iptables versions
 * leave out. The exporters drop a rule whole when a target cannot express part of it; the report
 * must say so rather than present an empty chain as protection.
 */
import { stringify } from 'yaml';
import { exportRuleset } from '../export/index.js';
import { parseRuleset } from '../mitigate/ruleset.js';
import type { Attack } from '../model/attack.js';

export function rulesText(x: Attack): string {
  const rs = x.mitigation.ruleset;
  if (typeof rs === 'string') return rs.replace(/\n+$/, '');
  if (rs === null || typeof rs !== 'object') return x.signature?.expression ?? '';
  return stringify(rs, { lineWidth: 0 }).replace(/\n+$/, '');
}

export interface TargetGap {
  /** What the target cannot express (`rule r1: tcp.window cannot be expressed in iptables`). */
  reasons: string[];
  /**
   * `left-out`: the attack's rules are the exporter's, which drops such a rule whole.
   * `broadened`: the producer wrote its own rules for the target (detection drops the
   * inexpressible conditions), so they match more than the signature.
   */
  kind: 'left-out' | 'broadened';
}

export interface RuleGaps {
  nftables: TargetGap | null;
  iptables: TargetGap | null;
}

/** What each target's rules leave out of the signature, and how (see TargetGap). */
export function ruleGaps(x: Attack): RuleGaps {
  const out: RuleGaps = { nftables: null, iptables: null };
  const raw = x.mitigation.ruleset;
  let rs: ReturnType<typeof parseRuleset>;
  try {
    rs = parseRuleset(typeof raw === 'string' ? raw : JSON.stringify(raw), `<mitigation ${x.id}>`);
  } catch {
    return out;
  }
  for (const target of ['nftables', 'iptables'] as const) {
    let reasons: string[];
    let text: string;
    try {
      // Export as the attack's own text was (same iptables chain), so equal text means "ours, as is".
      const chain = target === 'iptables' ? /^:(\S+) - \[0:0\]$/m.exec(x.mitigation.iptables)?.[1] : undefined;
      const ex = exportRuleset(rs, target, chain ? { iptables: { chain } } : {});
      reasons = ex.problems.map((p) => `rule ${p.rule}: ${p.reason}`);
      text = ex.text;
    } catch (e) {
      reasons = [(e as Error).message];
      text = '';
    }
    if (reasons.length === 0) continue;
    out[target] = { reasons, kind: text.trim() === x.mitigation[target].trim() ? 'left-out' : 'broadened' };
  }
  return out;
}
