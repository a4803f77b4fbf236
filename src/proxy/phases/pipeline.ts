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
 * Rules, rate limits and block-list entries can be added and removed at run time (`gate.runtime`,
 * live/runtime-rules.ts: live L7 protection and the admin API): they run after the config's in
 * their phase, and each change swaps the compiled phases whole (EdgePhases).
 *
 * Each phase writes the ids of what matched into `req.ruleIds`, in phase order: `list:<name>`
 * (`list:<entry id>` for a runtime list entry), the ruleset's rule ids, `waf:<crs id>`. Everything is compiled when the gate is made; a request
 * that passes every phase with the memory store allocates nothing here beyond what the rules'
 * fields and the WAF do.
 */
import type { EdgeCounterOptions, EdgeOptions } from '../../config/edge.js';
import { compareBytes, maskBytes, parseAddr, parsePrefixes } from '../../core/net/prefix.js';
import type { HttpRule, HttpRuleset } from '../../mitigate/http-ruleset.js';
import { IpList, ListSet } from '../../mitigate/lists.js';
import { ipv4Of } from '../../scheme/http.js';
import type { Waf, WafVerdict } from '../../waf/engine.js';
import { JsChallenge } from '../challenge/challenge.js';
import { MemoryCounterStore } from '../counters/memory.js';
import { RedisCounterStore } from '../counters/redis.js';
import type { CounterStore } from '../counters/store.js';
import type { BodyVerdict, EdgeRequest, Gate, HeadVerdict, Outcome, Pass } from '../gate.js';
import { type RuntimeEntry, RuntimeRules } from '../live/runtime-rules.js';
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
  /**
   * Rules, rate limits and block-list entries added and removed at run time (live L7 protection,
   * the admin API): see live/runtime-rules.ts. Changes apply atomically to new requests.
   */
  readonly runtime: RuntimeRules<EdgePhases>;
  /** Calls `f` with every finished exchange after the gate's own `done` (live L7 protection, metrics); returns a detach function. */
  observe(f: (req: EdgeRequest, outcome: Outcome) => void): () => void;
  /** Is the address or prefix inside (or covering part of) one of the allow lists? Live protection never lists such. */
  allowListed(prefix: string): boolean;
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

/**
 * The compiled phases of one set of rules — the configuration's, then the runtime rules' after
 * them in each phase — swapped whole when the runtime rules change (live/runtime-rules.ts), so a
 * request is judged by one set from its head to its end.
 */
export interface EdgePhases {
  access: IpAccess;
  custom: CustomRules;
  customCleared: CustomRules;
  /** Ids of the custom rules whose challenge a clearance turns into log (for challenge_honoured). */
  challengeIds: Set<string>;
  rates: RateLimits;
  ratesCleared: RateLimits;
  /** The runtime block entries as one list (trie values index `listIds`), or null when there are none. */
  runtimeList: IpList | null;
  listIds: string[];
}

/** Runtime entries' rules as ruleset rules (the same compiler and phases as the config's). */
function runtimeRule(e: RuntimeEntry): HttpRule | null {
  const base = { id: e.id, description: e.description, enabled: true, line: 0 };
  if (e.type === 'custom_rule') return { ...base, expression: e.expression, action: e.action, rateLimit: null };
  if (e.type === 'rate_limit') {
    const rateLimit = {
      characteristics: e.characteristics,
      period: e.period,
      requestsPerPeriod: e.requestsPerPeriod,
      mitigationTimeout: e.mitigationTimeout,
      countingExpression: e.countingExpression ?? null,
      action: e.action,
      maxKeys: 1 << 20,
    };
    return { ...base, expression: e.expression, action: e.action, rateLimit };
  }
  return null;
}

/** The name of the runtime block list in IpAccess (ruleIds say `list:<entry id>` for its matches). */
const RUNTIME_LIST = 'palisade_runtime';

function buildPhases(options: EdgeOptions, counters: CounterStore, runtime: readonly RuntimeEntry[]): EdgePhases {
  const base = options.ruleset;
  const extra = runtime.map(runtimeRule).filter((r): r is HttpRule => r !== null);
  const rs: HttpRuleset | null =
    extra.length === 0
      ? base
      : {
          name: base?.name ?? 'runtime',
          file: base?.file ?? '<runtime>',
          rules: [...(base?.rules ?? []), ...extra],
          lists: base?.lists ?? new ListSet(),
          listDefs: base?.listDefs ?? [],
        };
  let runtimeList: IpList | null = null;
  const listIds: string[] = [];
  for (const e of runtime) {
    if (e.type !== 'list') continue;
    runtimeList ??= new IpList({ name: RUNTIME_LIST, kind: 'block' });
    const k = listIds.push(e.id) - 1;
    for (const x of e.entries) {
      // Checked when the entry was added (runtime-rules.ts): one prefix each.
      const ps = parsePrefixes(x);
      if (typeof ps !== 'string') for (const p of ps) runtimeList.trie.insert(p, k);
    }
  }
  // Compiled now rather than by the first request that looks the list up.
  runtimeList?.trie.compile();
  const custom = new CustomRules(rs);
  const rates = new RateLimits(rs, counters);
  const cleared = clearedRulesets(rs);
  return {
    access: new IpAccess([...options.lists, ...(base?.lists.all() ?? []), ...(runtimeList === null ? [] : [runtimeList])]),
    custom,
    customCleared: cleared.custom === null ? custom : new CustomRules(cleared.custom),
    challengeIds: new Set(rs?.rules.filter((r) => r.rateLimit === null && r.action === 'challenge').map((r) => r.id)),
    rates,
    ratesCleared: cleared.rates === null ? rates : new RateLimits(cleared.rates, counters),
    runtimeList,
    listIds,
  };
}

/** Does prefix `p` overlap an entry of `l` (inside one, or holding one)? */
function overlaps(l: IpList, p: { family: 4 | 6; addr: Uint8Array; len: number }): boolean {
  if (p.family === 4 ? l.has4(((p.addr[0] as number) << 24) | ((p.addr[1] as number) << 16) | ((p.addr[2] as number) << 8) | (p.addr[3] as number)) : l.has6(p.addr, 0))
    return true;
  // A whole address is inside an entry or not at all: only a shorter prefix can hold entries.
  if (p.len === (p.family === 4 ? 32 : 128)) return false;
  for (const e of l.trie.entries()) if (e.prefix.family === p.family && e.prefix.len >= p.len && compareBytes(maskBytes(e.prefix.addr, p.len), p.addr) === 0) return true;
  return false;
}

/** The runtime list entry that blocked `ip` (for the log's rule ids). */
function runtimeListId(ph: EdgePhases, ip: string): string {
  const l = ph.runtimeList as IpList;
  const v4 = ipv4Of(ip);
  let id = -1;
  if (v4 >= 0) id = l.trie.lookup4(v4);
  else {
    const a = parseAddr(ip);
    if (a !== null && a.family === 6) id = l.trie.lookup6(a.addr, 0);
  }
  return id < 0 ? RUNTIME_LIST : (ph.listIds[l.trie.value(id)] ?? RUNTIME_LIST);
}

export function createEdgeGate(options: EdgeOptions, deps: EdgeGateDeps = {}): EdgeGate {
  const rs = options.ruleset;
  const ownsCounters = deps.counters === undefined;
  const counters = deps.counters ?? createCounterStore(options.counters, deps.log);
  const now = deps.now ?? Date.now;
  const waf = deps.waf !== undefined ? deps.waf : options.waf.enabled ? createEdgeWaf(options.waf, counters, now) : null;
  const wafPhase = waf === null ? null : new WafPhase(waf, options.waf.mode, options.waf.bodyLimit, options.counters.fail);
  const js = deps.jsChallenge ?? new JsChallenge(options.challenge, { now });
  const challenge = deps.challenge ?? js.respond;
  // Lists, custom rules and rate limits: the config's and the runtime rules', compiled together (EdgePhases).
  const runtime = new RuntimeRules<EdgePhases>((entries) => buildPhases(options, counters, entries), new Set(rs?.rules.map((r) => r.id)), now);
  const allowLists = [...options.lists, ...(rs?.lists.all() ?? [])].filter((l) => l.kind === 'allow' && l.match !== 'dst');
  const observers: Array<(req: EdgeRequest, outcome: Outcome) => void> = [];
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

  const wafAnswer = (req: EdgeRequest, v: WafVerdict | 'unavailable'): BodyVerdict => {
    if (v === 'unavailable') {
      stats.counters_unavailable++;
      return countersUnavailableResponse(req);
    }
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
    runtime,

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
      // The phases as they are now (runtime changes swap them whole; this request keeps these).
      if (runtime.nextExpiryMs !== Number.POSITIVE_INFINITY) runtime.expire(now());
      const ph = runtime.phases;
      // 1. IP access rules and lists.
      const access = ph.access;
      const a = access.check(req.clientIp);
      if (a !== Access.NONE) {
        const matched = access.matched as IpList;
        req.ruleIds.push(matched === ph.runtimeList ? `list:${runtimeListId(ph, req.clientIp)}` : `list:${matched.name}`);
        if (a === Access.ALLOW) {
          stats.list_allowed++;
          return PASS;
        }
        stats.list_blocked++;
        return blockResponse(req);
      }
      // 2. Custom rules (a cleared client's challenge rules only log).
      const before = req.ruleIds.length;
      const outcome = (state === 'passed' ? ph.customCleared : ph.custom).run(view, req.ruleIds);
      if (state === 'passed') for (let i = before; i < req.ruleIds.length; i++) if (ph.challengeIds.has(req.ruleIds[i] as string)) stats.challenge_honoured++;
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
      if (ph.rates.size > 0) {
        scratch.length = 0;
        const d = (state === 'passed' ? ph.ratesCleared : ph.rates).check(view, now(), scratch);
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
      // Pending counts hold their rules: any RateLimits of the same store counts them.
      const r = runtime.phases.rates.respond(req.view, now(), p);
      if (r instanceof Promise) r.catch((e: Error) => log(`counters: counting a response failed: ${e.message}`));
    },

    done(req: EdgeRequest, outcome: Outcome): void {
      pending.delete(req);
      for (let i = 0; i < observers.length; i++) (observers[i] as (req: EdgeRequest, outcome: Outcome) => void)(req, outcome);
    },

    observe(f: (req: EdgeRequest, outcome: Outcome) => void): () => void {
      observers.push(f);
      return () => {
        const i = observers.indexOf(f);
        if (i >= 0) observers.splice(i, 1);
      };
    },

    allowListed(prefix: string): boolean {
      const ps = parsePrefixes(prefix);
      if (typeof ps === 'string') return false;
      return ps.some((p) => allowLists.some((l) => overlaps(l, p)));
    },

    async close(): Promise<void> {
      if (ownsCounters) await counters.close();
    },
  };
}
