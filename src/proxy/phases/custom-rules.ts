/**
 * Phase 2, custom rules: the HTTP ruleset's rules without a rate limit, in file order, each
 * compiled once against the HTTP scheme with the ruleset's lists (the same compileRuleFor the
 * offline what-if runs, mitigate/whatif-http.ts). Actions as the what-if takes them: block and
 * challenge stop, log goes on, allow (also written `skip`) lets the request through every later
 * phase. Rate-limit rules of the same file run in the next phase (Cloudflare's order), not here.
 */
import type { HttpAction, HttpRuleset } from '../../mitigate/http-ruleset.js';
import { compileRuleFor } from '../../rules/packet-ir.js';
import { type HttpRequestView, httpScheme } from '../../scheme/http.js';

export enum RuleOutcome {
  NONE = 0,
  BLOCK = 1,
  CHALLENGE = 2,
  ALLOW = 3,
}

interface CompiledRule {
  id: string;
  action: HttpAction;
  match: (v: HttpRequestView) => boolean;
}

export class CustomRules {
  private readonly rules: CompiledRule[];

  constructor(rs: HttpRuleset | null) {
    this.rules = [];
    if (rs === null) return;
    for (const r of rs.rules) {
      if (!r.enabled || r.rateLimit !== null) continue;
      this.rules.push({ id: r.id, action: r.action, match: compileRuleFor<HttpRequestView>(httpScheme, r.expression, rs.lists) });
    }
  }

  get size(): number {
    return this.rules.length;
  }

  /** Run the rules in order; the ids of the rules that matched (logged or deciding) go to `ids`. */
  run(view: HttpRequestView, ids: string[]): RuleOutcome {
    const rules = this.rules;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i] as CompiledRule;
      if (!r.match(view)) continue;
      ids.push(r.id);
      switch (r.action) {
        case 'block':
          return RuleOutcome.BLOCK;
        case 'challenge':
          return RuleOutcome.CHALLENGE;
        case 'allow':
          return RuleOutcome.ALLOW;
        default:
          break; // log: on to the next rule
      }
    }
    return RuleOutcome.NONE;
  }
}
