/**
 * Phase 3, rate-limiting rules the Cloudflare way (mitigate/http-ruleset.ts's HttpRateLimit):
 * per rule, a counter per value of its characteristics in a CounterStore (memory, or Redis for
 * several proxies), the rule's expression deciding which requests it may limit and its counting
 * expression (default: the same) which requests count. A counting expression that reads the
 * response (`http.response.code eq 401`) counts when the origin's status arrives (`respond`);
 * the request itself is checked against the count so far.
 *
 * One request makes one store call for all its rules (one Redis round trip). Limited: the first
 * limiting rule in file order answers (429 with Retry-After, or the challenge). The store
 * failing: per its fail mode, requests pass (open) or are refused (closed, 503).
 */
import { rateKeyReader } from '../../mitigate/http-ratelimit.js';
import type { HttpRateLimit, HttpRuleset } from '../../mitigate/http-ruleset.js';
import { compileRuleFor } from '../../rules/packet-ir.js';
import { type HttpRequestView, httpScheme } from '../../scheme/http.js';
import { type CounterOp, type CounterResult, type CounterStore, newResult } from '../counters/store.js';

const READS_RESPONSE = /\bhttp\.response\./;

interface RateRule {
  id: string;
  rl: HttpRateLimit;
  match: (v: HttpRequestView) => boolean;
  /** null: requests count when the rule's expression matches. */
  counting: ((v: HttpRequestView) => boolean) | null;
  /** The counting expression reads the response: count in `respond`. */
  countAtResponse: boolean;
  key: (v: HttpRequestView) => string | undefined;
  periodMs: number;
  timeoutMs: number;
}

/** A rate limit that stops the request. */
export interface RateDecision {
  ruleId: string;
  action: 'block' | 'challenge';
  retryAfterMs: number;
  /** The store could not answer and fails closed. */
  unavailable: boolean;
}

/** What a request left for the response: the rules counting on its status and its keys. */
export interface PendingCount {
  rule: RateRule;
  key: string;
}

/** One request's operations, when the store answers later (each request needs its own). */
class Batch {
  readonly ops: CounterOp[] = [];
  readonly rules: RateRule[] = [];
  readonly matched: boolean[] = [];
  readonly out: CounterResult[] = [];
  n = 0;

  add(rule: RateRule, key: string, count: boolean, matched: boolean): void {
    const i = this.n++;
    let op = this.ops[i];
    if (op === undefined) {
      op = { key: '', periodMs: 0, limit: 0, timeoutMs: 0, count: false };
      this.ops.push(op);
      this.out.push(newResult());
    }
    op.key = `${rule.id}:${key}`;
    op.periodMs = rule.periodMs;
    op.limit = rule.rl.requestsPerPeriod;
    op.timeoutMs = rule.timeoutMs;
    op.count = count;
    this.rules[i] = rule;
    this.matched[i] = matched;
  }
}

export class RateLimits {
  private readonly rules: RateRule[] = [];
  /** Reused when the store answers at once (memory). */
  private readonly scratch = new Batch();
  private readonly sync: boolean;

  constructor(
    rs: HttpRuleset | null,
    readonly store: CounterStore,
  ) {
    this.sync = store.kind === 'memory';
    if (rs === null) return;
    for (const r of rs.rules) {
      const rl = r.rateLimit;
      if (!r.enabled || rl === null) continue;
      this.rules.push({
        id: r.id,
        rl,
        match: compileRuleFor<HttpRequestView>(httpScheme, r.expression, rs.lists),
        counting: rl.countingExpression === null ? null : compileRuleFor<HttpRequestView>(httpScheme, rl.countingExpression, rs.lists),
        countAtResponse: rl.countingExpression !== null && READS_RESPONSE.test(rl.countingExpression),
        key: rateKeyReader(rl.characteristics),
        periodMs: rl.period * 1000,
        timeoutMs: rl.mitigationTimeout * 1000,
      });
    }
  }

  get size(): number {
    return this.rules.length;
  }

  /**
   * Count and check one request at `now`. Returns the deciding limit (null: not limited), at once
   * or once the store answers; `pending` receives the counts its response must still make.
   */
  check(view: HttpRequestView, now: number, pending: PendingCount[] | null): RateDecision | null | Promise<RateDecision | null> {
    const rules = this.rules;
    let batch: Batch | null = null;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i] as RateRule;
      const matches = r.match(view);
      const countsNow = r.countAtResponse ? false : r.counting === null ? matches : r.counting(view);
      if (!matches && !countsNow && !r.countAtResponse) continue;
      const key = r.key(view);
      if (key === undefined) continue;
      if (r.countAtResponse && pending !== null) pending.push({ rule: r, key });
      if (!matches && !countsNow) continue;
      if (batch === null) {
        batch = this.sync ? this.scratch : new Batch();
        batch.n = 0;
      }
      batch.add(r, key, countsNow, matches);
    }
    if (batch === null) return null;
    const b = batch;
    const done = this.store.apply(b.ops, b.n, now, b.out);
    if (done === undefined) return decide(b);
    return done.then(() => decide(b));
  }

  /** The response's status is known: count the requests the counting expressions take. */
  respond(view: HttpRequestView, now: number, pending: readonly PendingCount[]): void | Promise<void> {
    let batch: Batch | null = null;
    for (const p of pending) {
      if (!(p.rule.counting as (v: HttpRequestView) => boolean)(view)) continue;
      if (batch === null) {
        batch = this.sync ? this.scratch : new Batch();
        batch.n = 0;
      }
      batch.add(p.rule, p.key, true, false);
    }
    if (batch === null) return;
    return this.store.apply(batch.ops, batch.n, now, batch.out);
  }
}

function decide(b: Batch): RateDecision | null {
  for (let i = 0; i < b.n; i++) {
    if (!b.matched[i]) continue;
    const res = b.out[i] as CounterResult;
    if (!res.limited) continue;
    const rule = b.rules[i] as RateRule;
    return { ruleId: rule.id, action: rule.rl.action, retryAfterMs: res.retryAfterMs, unavailable: res.failed };
  }
  return null;
}
