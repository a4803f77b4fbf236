/**
 * The mitigation attached to each detected attack (DESIGN.md "Attack".mitigation): a one-rule
 * ruleset carrying the whole signature, and that rule as nftables and iptables text. Each firewall
 * gets the signature minus the constraints it cannot express (iptables has no TCP-window or
 * UDP-length match, ...), which is a broader rule, said so in a comment at its top.
 */
import type { Detection } from '../detect/l34/attacks.js';
import { signatureText } from '../detect/l34/signature.js';
import { buildMitigation } from '../export/mitigation.js';
import type { Attack } from '../model/attack.js';

/** The Attack record: the detected attack and its mitigation. */
export function withMitigation(d: Detection): Attack {
  const a = d.attack;
  return { ...a, mitigation: mitigationFor(d, a.id, `${a.vector} on ${a.victim.ip ?? a.victim.prefix}`) };
}

/**
 * Packets per second per source a rate limit lets through when no signature met the bar: far
 * above what a real client sends to one host (a busy browser opens tens of connections), far
 * below a flood bot's rate.
 */
const RATE_PER_SOURCE = 100;

function mitigationFor(d: Detection, id: string, description: string): Attack['mitigation'] {
  const sig = d.signature;
  const found = d.attack.signature;
  const lists = found?.list ? { [found.list.name]: found.list.addresses } : undefined;
  // No signature met the bar: a per-source rate limit on the attack's class to the victim.
  const limit = found === null;
  const expression = found ? found.expression : signatureText(sig.dst, sig.parts, sig.fragAlt);
  const base = limit
    ? {
        expression,
        id,
        description: `${description}: no signature met the bar; rate limit per source`,
        action: 'rate_limit' as const,
        rate_limit: { rate: RATE_PER_SOURCE, burst: RATE_PER_SOURCE * 2, key: 'ip.src' },
      }
    : { expression, id, description, ...(lists && { lists }) };
  const full = buildMitigation(base);
  const out = { action: limit ? ('rate_limit' as const) : ('block' as const), ruleset: full.ruleset, nftables: full.nftables, iptables: full.iptables };
  for (const target of ['nftables', 'iptables'] as const) {
    // A 'ruleset' problem (a function the exporters' subset does not read) affects both firewalls.
    const bad = full.problems.filter((p) => p.target === target || p.target === 'ruleset');
    if (bad.length === 0) continue;
    let parts = sig.parts;
    let fragAlt = sig.fragAlt;
    const dropped: string[] = [];
    for (let attempt = 0; attempt < 8; attempt++) {
      const expr = signatureText(sig.dst, parts, fragAlt);
      const m = buildMitigation({ ...base, expression: expr });
      const probs = m.problems.filter((p) => p.target === target || p.target === 'ruleset');
      if (probs.length === 0) {
        const note = `# broadened for ${target}: ${dropped.join('; ')} cannot be expressed there\n`;
        const text = m[target];
        // Keep a shebang on the first line.
        const nl = text.startsWith('#!') ? text.indexOf('\n') + 1 : 0;
        out[target] = text.slice(0, nl) + note + text.slice(nl);
        break;
      }
      const bad0 = probs[0]?.problem.span;
      const at = bad0 ? bad0.start : -1;
      const hit = parts.find((p) => at >= 0 && expr.indexOf(p) <= at && at < expr.indexOf(p) + p.length);
      if (hit) {
        dropped.push(hit);
        parts = parts.filter((p) => p !== hit);
      } else if (fragAlt) {
        dropped.push('ip.frag_offset > 0');
        fragAlt = false;
      } else break;
    }
  }
  return out;
}
