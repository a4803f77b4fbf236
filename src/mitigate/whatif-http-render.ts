/** The HTTP what-if for a person: totals, per rule what it did and whom it hit, the truth score. */
import type { HttpRuleStats, HttpWhatIfReport, TopEntry } from './whatif-http.js';

const pct = (a: number, b: number): string => (b === 0 ? '0.0%' : `${((100 * a) / b).toFixed(1)}%`);
const num = (n: number): string => n.toLocaleString('en-US');

function topLine(label: string, xs: readonly TopEntry[], n = 5): string {
  if (xs.length === 0) return '';
  return `    ${label.padEnd(6)} ${xs
    .slice(0, n)
    .map((x) => `${x.value.length > 60 ? `${x.value.slice(0, 57)}...` : x.value} (${num(x.requests)})`)
    .join(', ')}\n`;
}

function ruleBlock(r: HttpRuleStats, total: number): string {
  const did: string[] = [];
  if (r.blocked > 0) did.push(`blocked ${num(r.blocked)}`);
  if (r.challenged > 0 && r.rate_limited === 0) did.push(`challenged ${num(r.challenged)}`);
  if (r.rate_limited > 0) did.push(`rate-limited ${num(r.rate_limited)}${r.challenged > 0 ? ' (challenged)' : ''}`);
  if (r.allowed > 0) did.push(`allowed ${num(r.allowed)}`);
  let s = `  ${r.id} [${r.action}${r.enabled ? '' : ', disabled'}]: matched ${num(r.matched)} (${pct(r.matched, total)})${did.length > 0 ? `; ${did.join(', ')}` : ''}\n`;
  s += `    ${r.expression}\n`;
  const rl = r.rate_limit;
  if (rl) {
    s += `    ${rl.requests_per_period} requests / ${rl.period_s} s per ${rl.characteristics.join(' + ') || 'site'}, then ${rl.action} for ${rl.mitigation_timeout_s} s${rl.counting_expression ? `; counting ${rl.counting_expression}` : ''}\n`;
  }
  s += topLine('ips', r.top.ips) + topLine('hosts', r.top.hosts, 3) + topLine('paths', r.top.paths);
  return s;
}

export function renderHttpWhatIf(r: HttpWhatIfReport): string {
  const t = r.totals;
  let s = `What-if: ruleset ${r.ruleset.name} (${r.ruleset.rules} rules, ${r.ruleset.lists} lists) over ${r.input.files.map((f) => f.file).join(', ')}\n`;
  s += `  ${num(t.requests)} requests${r.input.start ? `, ${r.input.start} .. ${r.input.end}` : ''}\n`;
  s += `  passed ${num(t.passed)} (${pct(t.passed, t.requests)}), blocked ${num(t.blocked)} (${pct(t.blocked, t.requests)}), challenged ${num(t.challenged)} (${pct(t.challenged, t.requests)}), rate-limited ${num(t.rate_limited)} (${pct(t.rate_limited, t.requests)})\n`;
  for (const l of r.lists) s += `  list ${l.name} (${l.kind}): ${num(l.matched)} requests\n`;
  s += '\nRules:\n';
  for (const rule of r.rules) s += ruleBlock(rule, t.requests);
  if (r.truth) {
    const x = r.truth;
    s += `\nAgainst the truth: attack requests passed ${num(x.attack.passed)} of ${num(x.attack.requests)} (${pct(x.attack.passed, x.attack.requests)}); `;
    s += `legitimate requests stopped ${num(x.legitimate.stopped)} of ${num(x.legitimate.requests)} (${pct(x.legitimate.stopped, x.legitimate.requests)})`;
    s += x.unlabelled > 0 ? `; ${num(x.unlabelled)} requests without a label\n` : '\n';
  }
  return s;
}
