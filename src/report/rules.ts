/**
 * An attack's mitigation ruleset as text a person can read and `palisade mitigate --ruleset`
 * can load: YAML, with each rule's Rules-language expression on its own line.
 */
import { stringify } from 'yaml';
import type { Attack } from '../detect/types.js';

export function rulesText(x: Attack): string {
  const rs = x.mitigation.ruleset;
  if (rs === null || typeof rs !== 'object') return x.signature.expression;
  return stringify(rs, { lineWidth: 0 }).replace(/\n+$/, '');
}
