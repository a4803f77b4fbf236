/**
 * What to deploy against an L7 attack, in the shapes the tools take:
 *
 * - a custom rule (Cloudflare WAF custom rules / Palisade ruleset): the signature, action block;
 * - a rate-limiting rule in Cloudflare's shape (characteristics, period, requests_per_period,
 *   mitigation_timeout, counting_expression). Per-address limits are the weaker tool against a
 *   flood spread over hundreds of addresses — the issue's point — so the limit is set from the
 *   attack's own slowest sources and scoped by the signature, not site-wide; slowloris gets none
 *   (its connections never complete a request to count);
 * - block lists: the attack's addresses, /24 prefixes and networks (AS) that sent nothing else
 *   to the site (the networks also as a rule on ip.src.asnum).
 *
 * nftables/iptables text of the address list is added by analyze/ (export/ sits above detect/).
 */
import type { L7Mitigation } from '../../model/attack.js';
import { Kind, VECTOR_OF } from './detector.js';
import { quote } from './signature.js';

export interface L7MitigationInput {
  id: string;
  kind: Kind;
  host: string;
  /** The field signature when it met the bar, else null (the list is then the rule). */
  fieldExpression: string | null;
  /** The field signature whatever its collateral (a rate limit may be scoped by it where blocking may not), or null. */
  traitExpression: string | null;
  listName: string;
  ips: string[];
  prefixes: string[];
  /** AS numbers that sent the site nothing but the attack (attacks.ts cleanNetworks). */
  asns: number[];
  loginPath: string;
  /** The 10th percentile of the attack's sources' requests per minute. */
  ratePerMinuteP10: number;
}

/** Cloudflare's allowed periods and mitigation timeouts (seconds). */
const PERIODS = [10, 60, 120, 300, 600, 3600];

export function l7Mitigation(m: L7MitigationInput): L7Mitigation {
  const hostPart = m.host !== '' ? `http.host eq ${quote(m.host)}` : '';
  const and = (a: string, b: string): string => (a === '' ? b : `${a} and ${b}`);
  const listExpr = and(hostPart, `ip.src in $${m.listName}`);
  const expression = m.fieldExpression ?? listExpr;
  const vector = VECTOR_OF[m.kind] as string;
  const custom_rule = { description: `palisade ${m.id}: ${vector} on ${m.host || 'the site'}`, expression, action: 'block' as const, enabled: true };

  let rate_limit: L7Mitigation['rate_limit'] = null;
  switch (m.kind) {
    case Kind.FLOOD: {
      // Scoped by what the flood's requests share (a list would be blocked outright, not limited),
      // else by pages of the site (assets left out: a browser fetches tens per page); the limit
      // sits under the slow tenth of the bots' own rates, and not under 10 a minute.
      const perMin = Math.max(10, Math.floor(m.ratePerMinuteP10));
      const scope = m.traitExpression ?? and(hostPart, `not http.request.uri.path.extension in {"css" "js" "png" "jpg" "jpeg" "gif" "svg" "webp" "ico" "woff" "woff2"}`);
      rate_limit = {
        description: `palisade ${m.id}: per-address limit on the flood's requests`,
        expression: scope,
        action: 'block',
        ratelimit: { characteristics: ['cf.colo.id', 'ip.src'], period: 60, requests_per_period: perMin, mitigation_timeout: 600 },
      };
      break;
    }
    case Kind.STUFFING: {
      const login = and(hostPart, `http.request.method eq "POST" and http.request.uri.path eq ${quote(m.loginPath || '/login')}`);
      rate_limit = {
        description: `palisade ${m.id}: failed logins per address`,
        expression: login,
        action: 'block',
        ratelimit: {
          characteristics: ['cf.colo.id', 'ip.src'],
          period: PERIODS[4] as number,
          requests_per_period: 5,
          mitigation_timeout: 3600,
          counting_expression: `${login} and http.response.code in {401 403 429}`,
        },
      };
      break;
    }
    case Kind.SCANNER: {
      const site = hostPart === '' ? 'true' : hostPart;
      rate_limit = {
        description: `palisade ${m.id}: 404s per address`,
        expression: site,
        action: 'block',
        ratelimit: {
          characteristics: ['cf.colo.id', 'ip.src'],
          period: 60,
          requests_per_period: 20,
          mitigation_timeout: 3600,
          counting_expression: `${site} and http.response.code eq 404`,
        },
      };
      break;
    }
    default:
      rate_limit = null;
  }
  const lists = { ips: m.ips, prefixes: m.prefixes, asns: m.asns };
  const rules: Record<string, unknown>[] = [{ id: m.id, description: custom_rule.description, expression, action: 'block' }];
  if (m.asns.length > 0) {
    // Whole networks that sent the site nothing but the attack: one rule, where the target reads AS numbers.
    rules.push({
      id: `${m.id}-asn`,
      description: `palisade ${m.id}: networks (AS) that sent ${m.host || 'the site'} only the attack`,
      expression: `${m.host !== '' ? `http.host eq ${quote(m.host)} and ` : ''}ip.src.asnum in {${m.asns.join(' ')}}`,
      action: 'block',
    });
  }
  if (rate_limit !== null) {
    rules.push({
      id: `${m.id}-rate`,
      description: rate_limit.description,
      expression: rate_limit.ratelimit.counting_expression ?? rate_limit.expression,
      action: 'rate_limit',
      action_parameters: { rate: rate_limit.ratelimit.requests_per_period, period: `${rate_limit.ratelimit.period}s`, key: 'ip.src' },
    });
  }
  return {
    action: 'block',
    ruleset: { name: `mitigation ${m.id}`, lists: { [m.listName]: { kind: 'named', entries: m.ips } }, rules },
    nftables: '',
    iptables: '',
    custom_rule,
    rate_limit,
    lists,
    ...(m.kind === Kind.SLOWLORIS
      ? {
          note: 'slowloris holds connections without completing a request: lower the header timeout (nginx client_header_timeout), cap connections per address (limit_conn), and block the listed addresses',
        }
      : {}),
  };
}
