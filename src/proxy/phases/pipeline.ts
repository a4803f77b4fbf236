/**
 * The edge's decisions as a Gate (proxy/gate.ts), phases in Cloudflare's order:
 *
 *   1. IP access rules and lists: an allow list lets the request through every later phase; a
 *      block list answers 403 (`block`).
 *   2. Custom rules (the HTTP ruleset's rules without a rate limit): block 403 (`block`),
 *      challenge 403 with the challenge page (`challenge`), log goes on, allow/skip lets the
 *      request through every later phase.
 *   3. Rate-limiting rules (the ruleset's rules with one): 429 with Retry-After (`rate_limit`),
 *      or the challenge when that is the rule's action; counted in a CounterStore (memory, or
 *      Redis shared by several proxies; 503 when Redis is down and the store fails closed).
 *   4. WAF (the CRS): asks for the body when the request has one; blocks 403 (`waf`) in block mode.
 *
 * Before them (issue 16 item 4, proxy/challenge/): the request's challenge state from its clearance
 * cookie (`req.challenge`, and `cf.bot_management.js_detection.passed` for the rules), and the
 * challenge page's own form post, answered here and never forwarded. A valid clearance lets the
 * challenge actions of custom rules and rate limits go on; it never skips a block, a list or the WAF.
 *
 * Each phase writes the ids of what matched into `req.ruleIds`, in phase order: `list:<name>`,
 * the ruleset's rule ids, `waf:<crs id>`. Everything is compiled when the gate is made; a request
 * that passes every phase with the memory store allocates nothing here beyond what the rules'
 * fields and the WAF do.
 */
import type { EdgeCounterOptions, EdgeOptions } from '../../config/edge.js';
import type { HttpRuleset } from '../../mitigate/http-ruleset.js';
import type { Waf, WafVerdict } from '../../waf/engine.js';
import { JsChallenge } from '../challenge/challenge.js';
import { MemoryCounterStore } from '../counters/memory.js';
import { RedisCounterStore } from '../counters/redis.js';
import type { CounterStore } from '../counters/store.js';
import type { BodyVerdict, EdgeRequest, Gate, HeadVerdict, Outcome, Pass } from '../gate.js';
import { CustomRules, RuleOutcome } from './custom-rules.js';
import { Access, IpAccess } from './ip-access.js';
import { type PendingCount, type RateDecision, RateLimits } from './rate-limits.js';
import { blockResponse, type ChallengeResponder, countersUnavailableResponse, rateLimitResponse, wafResponse } from './responses.js';
import { createEdgeWaf, hasBody, WafPhase } from './waf-phase.js';

export interface EdgeGateDeps {
  /** The rate-limit counters (default: made from `options.counters`; the gate closes what it made). */
  counters?: CounterStore;
  /** A WAF already loaded (tests, reloads that keep the WAF section); null: no WAF. Default: loaded from `options.waf`. */
  waf?: Waf | null;
  /** Clock, ms since the epoch (default Date.now). */
  now?: () => number;
  /** Operational messages (counter store down and back). Default: stderr. */
  log?: (message: string) => void;
  /** The challenge answer (default: the JavaScript challenge's page, `jsChallenge.respond`). */
  challenge?: ChallengeResponder;
  /**
   * The JavaScript challenge: clearances, the verification post (default: made from
   * `options.challenge`). Pass the running gate's to a reload to keep its spent seeds.
   */
  jsChallenge?: JsChallenge;
}

/** What the phases decided, for metrics (requests by phase and action). */
export interface EdgeGateStats {
  requests: number;
  list_allowed: number;
  list_blocked: number;
  rule_blocked: number;
  rule_challenged: number;
  rule_allowed: number;
  rate_limited: number;
  rate_challenged: number;
  counters_unavailable: number;
  waf_blocked: number;
  /** Requests the WAF matched rules on without blocking (detect mode, or below the threshold). */
  waf_matched: number;
  passed: number;
  /** Challenge actions (custom rules, rate limits) let through because the client holds a valid clearance. */
  challenge_honoured: number;
  /** Posts of the challenge form: solutions accepted (a clearance set), and refused. */
  challenge_solved: number;
  challenge_refused: number;
}

export interface EdgeGate extends Gate {
  head(req: EdgeRequest): HeadVerdict | Promise<HeadVerdict>;
  body(req: EdgeRequest, body: Uint8Array, truncated: boolean): BodyVerdict | Promise<BodyVerdict>;
  response(req: EdgeRequest, status: number): void;
  done(req: EdgeRequest, outcome: Outcome): void;
  readonly counters: CounterStore;
  readonly waf: Waf | null;
  readonly stats: EdgeGateStats;
  readonly jsChallenge: JsChallenge;
  /** Closes the counter store when the gate made it. */
  close(): Promise<void>;
}

/** The counter store the options ask for. */
export function createCounterStore(c: EdgeCounterOptions, log?: (message: string) => void): CounterStore {
  if (c.store === 'memory') return new MemoryCounterStore();
  return new RedisCounterStore({ url: c.redisUrl, prefix: c.prefix, failMode: c.fail, timeoutMs: c.timeoutMs, ...(log && { log }) });
}

const PASS: Pass = Object.freeze({ kind: 'pass' }) as Pass;

/**
 * The ruleset as a client holding a valid clearance meets it (null: as everyone meets it). Custom
 * rules: a challenge becomes log (the rule still shows in the log, the later rules still run).
 * Rate limits: the same rules with blocks first and challenges after — same counters (their keys
 * are rule ids), so the first limited rule the phase picks is a block when any is, and a
 * challenge only when none is, which the gate then lets through.
 */
function clearedRulesets(rs: HttpRuleset | null): { custom: HttpRuleset | null; rates: HttpRuleset | null } {
  if (rs === null) return { custom: null, rates: null };
  const isChallengeRule = (r: HttpRuleset['rules'][number]): boolean => r.rateLimit === null && r.action === 'challenge';
  const custom = rs.rules.some(isChallengeRule) ? { ...rs, rules: rs.rules.map((r) => (isChallengeRule(r) ? { ...r, action: 'log' as const } : r)) } : null;
  const limits = rs.rules.filter((r) => r.rateLimit !== null);
  const reordered = [...limits.filter((r) => r.rateLimit?.action !== 'challenge'), ...limits.filter((r) => r.rateLimit?.action === 'challenge')];
  const rates = reordered.some((r, i) => r !== limits[i]) ? { ...rs, rules: reordered } : null;
  return { custom, rates };
}

export function createEdgeGate(options: EdgeOptions, deps: EdgeGateDeps = {}): EdgeGate {
  const rs = options.ruleset;
  const access = new IpAccess([...options.lists, ...(rs?.lists.all() ?? [])]);
  const custom = new CustomRules(rs);
  const ownsCounters = deps.counters === undefined;
  const counters = deps.counters ?? createCounterStore(options.counters, deps.log);
  const rates = new RateLimits(rs, counters);
  const waf = deps.waf !== undefined ? deps.waf : options.waf.enabled ? createEdgeWaf(options.waf) : null;
  const wafPhase = waf === null ? null : new WafPhase(waf, options.waf.mode, options.waf.bodyLimit);
  const now = deps.now ?? Date.now;
  const js = deps.jsChallenge ?? new JsChallenge(options.challenge, { now });
  const challenge = deps.challenge ?? js.respond;
  const cleared = clearedRulesets(rs);
  const customCleared = cleared.custom === null ? custom : new CustomRules(cleared.custom);
  /** Ids of the custom rules whose challenge a clearance turns into log (for challenge_honoured). */
  const challengeIds = new Set(rs?.rules.filter((r) => r.rateLimit === null && r.action === 'challenge').map((r) => r.id));
  const ratesCleared = cleared.rates === null ? rates : new RateLimits(cleared.rates, counters);
  /** Requests posting the challenge form, between head (asks for the form) and body (checks it). */
  const verifying = new WeakSet<EdgeRequest>();
  const log = deps.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  /** Requests whose response status a rate limit's counting expression waits for. */
  const pending = new WeakMap<EdgeRequest, PendingCount[]>();
  const scratch: PendingCount[] = [];
  const stats: EdgeGateStats = {
    requests: 0,
    list_allowed: 0,
    list_blocked: 0,
    rule_blocked: 0,
    rule_challenged: 0,
    rule_allowed: 0,
    rate_limited: 0,
    rate_challenged: 0,
    counters_unavailable: 0,
    waf_blocked: 0,
    waf_matched: 0,
    passed: 0,
    challenge_honoured: 0,
    challenge_solved: 0,
    challenge_refused: 0,
  };

  const limited = (req: EdgeRequest, d: RateDecision): HeadVerdict | Promise<HeadVerdict> => {
    req.ruleIds.push(d.ruleId);
    if (d.unavailable) {
      stats.counters_unavailable++;
      return countersUnavailableResponse(req);
    }
    if (d.action === 'challenge') {
      if (req.challenge === 'passed') {
        // Only a challenge limit is over (ratesCleared puts blocks first): the clearance honours it.
        stats.challenge_honoured++;
        return wafHead(req);
      }
      stats.rate_challenged++;
      return challenge(req);
    }
    stats.rate_limited++;
    return rateLimitResponse(req, d.retryAfterMs / 1000);
  };

  const wafVerdict = (req: EdgeRequest, body: Uint8Array | null): BodyVerdict | Promise<BodyVerdict> => {
    const v = (wafPhase as WafPhase).evaluate(req, body);
    return v instanceof Promise ? v.then((x) => wafAnswer(req, x)) : wafAnswer(req, v);
  };

  const wafAnswer = (req: EdgeRequest, v: WafVerdict): BodyVerdict => {
    if (v.action === 'block') {
      stats.waf_blocked++;
      return wafResponse(req);
    }
    if (v.matched.length > 0) stats.waf_matched++;
    stats.passed++;
    return PASS;
  };

  const wafHead = (req: EdgeRequest): HeadVerdict | Promise<HeadVerdict> => {
    if (wafPhase === null) {
      stats.passed++;
      return PASS;
    }
    if (wafPhase.bodyLimit > 0 && hasBody(req)) return { kind: 'body', bodyLimit: wafPhase.bodyLimit };
    return wafVerdict(req, null);
  };

  const afterRates = (req: EdgeRequest, d: RateDecision | null): HeadVerdict | Promise<HeadVerdict> => (d === null ? wafHead(req) : limited(req, d));

  return {
    counters,
    waf,
    stats,
    jsChallenge: js,

    head(req: EdgeRequest): HeadVerdict | Promise<HeadVerdict> {
      stats.requests++;
      const view = req.view;
      // 0. Challenge state, and the challenge form's post (answered here, before any phase).
      const state = js.state(req);
      req.challenge = state;
      if (state === 'passed') {
        // The rules' cf.bot_management.js_detection.passed (scheme/http.ts reads bot.jsPassed).
        if (view.bot === undefined) view.bot = { jsPassed: true };
        else view.bot.jsPassed = true;
      }
      if (js.isVerifyRequest(req)) {
        const v = js.head(req);
        if (v.kind === 'body') verifying.add(req);
        return v;
      }
      // 1. IP access rules and lists.
      const a = access.check(req.clientIp);
      if (a !== Access.NONE) {
        req.ruleIds.push(`list:${(access.matched as { name: string }).name}`);
        if (a === Access.ALLOW) {
          stats.list_allowed++;
          return PASS;
        }
        stats.list_blocked++;
        return blockResponse(req);
      }
      // 2. Custom rules (a cleared client's challenge rules only log).
      const before = req.ruleIds.length;
      const outcome = (state === 'passed' ? customCleared : custom).run(view, req.ruleIds);
      if (state === 'passed') for (let i = before; i < req.ruleIds.length; i++) if (challengeIds.has(req.ruleIds[i] as string)) stats.challenge_honoured++;
      switch (outcome) {
        case RuleOutcome.BLOCK:
          stats.rule_blocked++;
          return blockResponse(req);
        case RuleOutcome.CHALLENGE:
          stats.rule_challenged++;
          return challenge(req);
        case RuleOutcome.ALLOW:
          stats.rule_allowed++;
          return PASS;
        default:
          break;
      }
      // 3. Rate limits.
      if (rates.size > 0) {
        scratch.length = 0;
        const d = (state === 'passed' ? ratesCleared : rates).check(view, now(), scratch);
        if (scratch.length > 0) pending.set(req, scratch.slice());
        if (d instanceof Promise) return d.then((x) => afterRates(req, x));
        if (d !== null) return limited(req, d);
      }
      // 4. WAF.
      return wafHead(req);
    },

    body(req: EdgeRequest, body: Uint8Array, truncated: boolean): BodyVerdict | Promise<BodyVerdict> {
      if (verifying.has(req)) {
        // The challenge form: always answered here, whatever its content (never a pass).
        verifying.delete(req);
        const r = js.verify(req, body, truncated);
        req.challenge = r.state;
        if (r.state === 'passed') stats.challenge_solved++;
        else stats.challenge_refused++;
        return r.answer;
      }
      if (wafPhase === null) return PASS;
      return wafVerdict(req, body);
    },

    response(req: EdgeRequest, status: number): void {
      const p = pending.get(req);
      if (p === undefined) return;
      pending.delete(req);
      req.view.status = status;
      const r = rates.respond(req.view, now(), p);
      if (r instanceof Promise) r.catch((e: Error) => log(`counters: counting a response failed: ${e.message}`));
    },

    done(req: EdgeRequest, _outcome: Outcome): void {
      pending.delete(req);
    },

    async close(): Promise<void> {
      if (ownsCounters) await counters.close();
    },
  };
}
