/**
 * What a report says about an attack's signature and the evidence behind the verdict, in one
 * place for the HTML, Markdown and terminal reports: the signature and its measured figures, or
 * why there is none, and how sure detection is.
 */
import type { Attack } from '../model/attack.js';
import { pct } from './format.js';
import { attackUnit } from './unit.js';

export interface SignatureText {
  /** The emitted signature's expression, or null when none met the bar. */
  expression: string | null;
  /** One or two sentences on what it matches (or why there is none and what the mitigation does instead). */
  summary: string;
  /** For a source-list signature, why it is a list (also the end of `summary`); empty otherwise. */
  listNote: string;
  /** Confidence and the facts behind it, one sentence; empty when detection gave none. */
  evidence: string;
}

export function signatureText(x: Attack): SignatureText {
  const s = x.signature;
  const u = attackUnit(x);
  let summary: string;
  let listNote = '';
  if (s) {
    summary = `It matches ${pct(s.coverage)} of this attack's ${u.many} and ${pct(s.collateral, 2)} of other ${u.many}.`;
    if (s.kind === 'source_list' && s.list) {
      listNote =
        x.requests !== undefined
          ? `No request field tells this attack from real users, so the signature is the list of the ${s.list.addresses.length} addresses it came from (${s.list.name}).`
          : `No packet field tells this attack from real users, so the signature is the list of ${s.list.addresses.length} source addresses that sent it without completing a connection (${s.list.name}).`;
      summary += ` ${listNote}`;
    }
  } else {
    const f = x.evidence?.field_signature;
    summary = 'No signature met the bar (98 % of the attack with at most 0.1 % of other traffic)';
    summary += f ? `: the best one found, ${f.expression}, matched ${pct(f.coverage)} of the attack and ${pct(f.collateral, 2)} of other traffic.` : '.';
    const l = x.evidence?.source_list;
    if (l) summary += ` A list of its ${l.size} sources matched ${pct(l.coverage)} and ${pct(l.collateral, 2)}.`;
    summary += ' The mitigation is a per-source rate limit instead of a block.';
  }
  const e = x.evidence;
  let evidence = '';
  if (e) {
    const facts: string[] = [];
    if (e.out_of_state !== null) facts.push(`${pct(e.out_of_state)} of its packets belonged to no connection`);
    if (e.handshakes_completed !== null) facts.push(`${pct(e.handshakes_completed)} of the sending hosts completed a handshake with the victim`);
    if (x.requests === undefined) facts.push(e.spoofed_likely ? 'the sources look spoofed' : 'the sources look genuine');
    if (e.separating_fields.length > 0) facts.push(`it is told apart by ${e.separating_fields.join(', ')}`);
    if (e.without_payload) facts.push("judged from NetFlow/IPFIX records without payload (amplification by source port and packet size, TCP state by the flows' flags)");
    evidence = `Confidence ${x.confidence.toFixed(2)}: ${facts.join('; ')}.`;
  }
  return { expression: s ? s.expression : null, summary, listNote, evidence };
}
