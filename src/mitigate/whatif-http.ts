/**
 * What-if over access logs: run an HTTP ruleset (mitigate/http-ruleset.ts) over the requests of
 * one or more logs, in log time, as the edge would have: lists, then the rules in order (block,
 * challenge and allow stop; log goes on; a rate limit stops the requests it limits, the others go
 * on). Per rule: requests matched, blocked, challenged, rate-limited, and the client addresses,
 * hosts and paths it hit most; a timeline; with a generator's truth, attack requests stopped and
 * legitimate requests stopped.
 */

import { parseAddr } from '../core/net/prefix.js';
import { compileRuleFor } from '../rules/packet-ir.js';
import { type HttpRequestView, httpScheme, ipv4Of } from '../scheme/http.js';
import { HttpLogRequest } from '../scheme/http-log.js';
import type { AccessLogFileInfo, AccessLogOptions } from '../sources/accesslog/reader.js';
import { type AccessLogSource, accessLogSource } from '../sources/accesslog/source.js';
import { type HttpLogView, utf8 } from '../sources/accesslog/view.js';
import { HttpRateCounter, rateKeyReader } from './http-ratelimit.js';
import type { HttpRule, HttpRuleset } from './http-ruleset.js';
import { TopValues } from './http-top.js';
import type { IpList } from './lists.js';
import { readTruth } from './whatif.js';

/** What happened to a request. */
export type HttpOutcome = 'passed' | 'blocked' | 'challenged' | 'rate_limited';

export interface HttpRuleStats {
  id: string;
  action: string;
  enabled: boolean;
  expression: string;
  /** Requests that reached the rule and matched its expression. */
  matched: number;
  /** Of those, what this rule decided. */
  blocked: number;
  challenged: number;
  rate_limited: number;
  /** allow rules: requests let through (the remaining rules skipped). */
  allowed: number;
  /** The matched requests' most frequent clients, hosts and paths (counts exact while `top_exact`). */
  top: { ips: TopEntry[]; hosts: TopEntry[]; paths: TopEntry[] };
  top_exact: boolean;
  /** rate limits: the rule's parameters as evaluated. */
  rate_limit?: { characteristics: string[]; period_s: number; requests_per_period: number; mitigation_timeout_s: number; counting_expression: string | null; action: string };
}

export interface TopEntry {
  value: string;
  requests: number;
}

export interface HttpTimelinePoint {
  /** Seconds since the first request (start of the interval). */
  t: number;
  passed: number;
  blocked: number;
  challenged: number;
  rate_limited: number;
}

export interface HttpTruthScore {
  attack: { requests: number; passed: number; stopped: number };
  legitimate: { requests: number; passed: number; stopped: number };
  /** Share of attack requests that got through (lower is better). */
  attack_passed_share: number;
  /** Share of legitimate requests blocked, challenged or rate-limited (lower is better). */
  legitimate_stopped_share: number;
  /** Requests beyond the truth file's labels (should be 0). */
  unlabelled: number;
}

export interface HttpWhatIfReport {
  ruleset: { name: string; file: string; rules: number; lists: number };
  input: { files: AccessLogFileInfo[]; requests: number; start: string | null; end: string | null; error: string | null };
  totals: { requests: number; passed: number; blocked: number; challenged: number; rate_limited: number };
  lists: Array<{ name: string; kind: string; matched: number }>;
  rules: HttpRuleStats[];
  rate_limit_tables: Array<{ id: string; keys: number; evictions: number }>;
  timeline: { interval_s: number; points: HttpTimelinePoint[] };
  truth?: HttpTruthScore;
  note: string;
}

export interface HttpWhatIfOptions extends AccessLogOptions {
  /** Timeline resolution in seconds (default 60: logs are in whole seconds). */
  interval?: number;
  /** A `palisade generate` truth file for the (single) log: one label per line, 0 legitimate. */
  truth?: string;
  /** Entries per top list (default 10). */
  top?: number;
}

const NOTE =
  "Rate limits count the Cloudflare way: a counter per value of the characteristics, the rate over the period estimated from the current and the previous fixed window, in the log's own time; " +
  'over requests_per_period a key is limited for mitigation_timeout seconds (0: only the requests over the rate). ' +
  "A counting_expression reads the response the log recorded (the origin's, had the request not been stopped).";

/** A rule compiled for the adapter, with what it needs per request. */
interface Compiled {
  rule: HttpRule;
  match: (r: HttpRequestView) => boolean;
  counting: ((r: HttpRequestView) => boolean) | null;
  counter: HttpRateCounter | null;
  key: ((r: HttpRequestView) => string | undefined) | null;
  stats: HttpRuleStats;
  ips: TopValues;
  hosts: TopValues;
  paths: TopValues;
}

function compileRules(rs: HttpRuleset): Compiled[] {
  return rs.rules.map((rule) => {
    const rl = rule.rateLimit;
    return {
      rule,
      match: compileRuleFor<HttpRequestView>(httpScheme, rule.expression, rs.lists),
      counting: rl?.countingExpression ? compileRuleFor<HttpRequestView>(httpScheme, rl.countingExpression, rs.lists) : null,
      counter: rl ? new HttpRateCounter(rl) : null,
      key: rl ? rateKeyReader(rl.characteristics) : null,
      stats: {
        id: rule.id,
        action: rule.rateLimit ? `rate_limit (${rule.rateLimit.action})` : rule.action,
        enabled: rule.enabled,
        expression: rule.expression,
        matched: 0,
        blocked: 0,
        challenged: 0,
        rate_limited: 0,
        allowed: 0,
        top: { ips: [], hosts: [], paths: [] },
        top_exact: true,
        ...(rl && {
          rate_limit: {
            characteristics: rl.characteristics,
            period_s: rl.period,
            requests_per_period: rl.requestsPerPeriod,
            mitigation_timeout_s: rl.mitigationTimeout,
            counting_expression: rl.countingExpression,
            action: rl.action,
          },
        }),
      },
      ips: new TopValues(),
      hosts: new TopValues(),
      paths: new TopValues(),
    };
  });
}

/** Is the request's client in the list? Logs know the client only, so `dst` lists never match. */
function inList(l: IpList, r: HttpLogRequest): boolean {
  if (l.match === 'dst') return false;
  const ip = r.clientIp;
  const v4 = ipv4Of(ip);
  if (v4 >= 0) return l.has4(v4);
  const a = parseAddr(ip);
  return a !== null && a.family === 6 && l.has6(a.addr, 0);
}

/** The rule engine for requests: decide one, account it. */
class HttpEngine {
  readonly compiled: Compiled[];
  private readonly allow: Array<{ list: IpList; matched: number }>;
  private readonly block: Array<{ list: IpList; matched: number }>;
  readonly totals = { requests: 0, passed: 0, blocked: 0, challenged: 0, rate_limited: 0 };
  private readonly points: HttpTimelinePoint[] = [];
  private t0 = Number.NaN;
  /** The latest log time seen: a line without a time counts at it. */
  private now = 0;

  constructor(
    rs: HttpRuleset,
    private interval: number,
    private readonly maxPoints = 3600,
  ) {
    this.compiled = compileRules(rs);
    this.allow = rs.lists.allowLists().map((list) => ({ list, matched: 0 }));
    this.block = rs.lists.blockLists().map((list) => ({ list, matched: 0 }));
  }

  process(r: HttpLogRequest): HttpOutcome {
    const t = r.timestampMs;
    if (!Number.isNaN(t)) this.now = t;
    if (Number.isNaN(this.t0)) this.t0 = this.now;
    const outcome = this.decide(r);
    this.account(outcome);
    return outcome;
  }

  private decide(r: HttpLogRequest): HttpOutcome {
    for (const a of this.allow) {
      if (inList(a.list, r)) {
        a.matched++;
        return 'passed';
      }
    }
    for (const b of this.block) {
      if (inList(b.list, r)) {
        b.matched++;
        return 'blocked';
      }
    }
    for (let i = 0; i < this.compiled.length; i++) {
      const c = this.compiled[i] as Compiled;
      if (!c.rule.enabled) continue;
      const matches = c.match(r);
      if (c.counter !== null) {
        // A counting expression counts requests the rule's own expression may not match.
        const counts = c.counting === null ? matches : c.counting(r);
        if (!matches && !counts) continue;
        if (matches) this.hit(c, r);
        const key = (c.key as (r: HttpLogRequest) => string | undefined)(r);
        if (key === undefined || !c.counter.hit(key, this.now, counts, matches)) continue;
        c.stats.rate_limited++;
        if (c.counter.rl.action === 'challenge') c.stats.challenged++;
        return 'rate_limited';
      }
      if (!matches) continue;
      this.hit(c, r);
      switch (c.rule.action) {
        case 'block':
          c.stats.blocked++;
          return 'blocked';
        case 'challenge':
          c.stats.challenged++;
          return 'challenged';
        case 'allow':
          c.stats.allowed++;
          return 'passed';
        default:
          break; // log: on to the next rule
      }
    }
    return 'passed';
  }

  private hit(c: Compiled, r: HttpLogRequest): void {
    c.stats.matched++;
    c.ips.add(r.clientIp);
    c.hosts.add(r.host);
    c.paths.add(r.path);
  }

  private account(o: HttpOutcome): void {
    const t = this.totals;
    t.requests++;
    t[o]++;
    let idx = Math.floor((this.now - this.t0) / 1000 / this.interval);
    if (idx < 0) idx = 0;
    while (idx >= this.maxPoints) {
      this.coarsen();
      idx = Math.floor((this.now - this.t0) / 1000 / this.interval);
    }
    while (this.points.length <= idx) this.points.push({ t: this.points.length * this.interval, passed: 0, blocked: 0, challenged: 0, rate_limited: 0 });
    (this.points[idx] as HttpTimelinePoint)[o]++;
  }

  /** Twice the interval, half the points: the timeline stays bounded on a long log. */
  private coarsen(): void {
    this.interval *= 2;
    const out: HttpTimelinePoint[] = [];
    for (let i = 0; i < this.points.length; i += 2) {
      const a = this.points[i] as HttpTimelinePoint;
      const b = this.points[i + 1];
      out.push({
        t: out.length * this.interval,
        passed: a.passed + (b?.passed ?? 0),
        blocked: a.blocked + (b?.blocked ?? 0),
        challenged: a.challenged + (b?.challenged ?? 0),
        rate_limited: a.rate_limited + (b?.rate_limited ?? 0),
      });
    }
    this.points.length = 0;
    this.points.push(...out);
  }

  timeline(): { interval_s: number; points: HttpTimelinePoint[] } {
    return { interval_s: this.interval, points: this.points };
  }

  listStats(): HttpWhatIfReport['lists'] {
    return [...this.allow, ...this.block].map((x) => ({ name: x.list.name, kind: x.list.kind, matched: x.matched }));
  }
}

/** Per-line labels of a generator truth file (0: legitimate). */
function truthLabels(path: string): Uint8Array {
  const t = readTruth(path);
  const n = t.runs.reduce((s, r) => s + r.count, 0);
  const out = new Uint8Array(n);
  let i = 0;
  for (const r of t.runs) {
    out.fill(t.labels[r.label] === 'benign' ? 0 : 1, i, i + r.count);
    i += r.count;
  }
  return out;
}

/** Run the ruleset over access logs (paths, `-`, or a source). */
export async function runHttpWhatIf(input: string | readonly string[] | AccessLogSource, ruleset: HttpRuleset, opts: HttpWhatIfOptions = {}): Promise<HttpWhatIfReport> {
  const source = typeof input === 'string' || Array.isArray(input) ? accessLogSource(input as string | readonly string[], opts) : (input as AccessLogSource);
  const engine = new HttpEngine(ruleset, opts.interval ?? 60);
  const labels = opts.truth !== undefined ? truthLabels(opts.truth) : null;
  const score = { attack: { requests: 0, passed: 0, stopped: 0 }, legitimate: { requests: 0, passed: 0, stopped: 0 }, unlabelled: 0 };
  const req = new HttpLogRequest();
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  const info = await source.read(
    (v: HttpLogView) => {
      const o = engine.process(req.point(v));
      const t = v.timeMs;
      if (t < first) first = t;
      if (t > last) last = t;
      if (labels !== null) {
        // Labels are per line of the log the truth describes (one input).
        const k = v.lineNo - 1;
        if (v.fileIndex !== 0 || k >= labels.length) score.unlabelled++;
        else {
          const side = labels[k] === 0 ? score.legitimate : score.attack;
          side.requests++;
          if (o === 'passed') side.passed++;
          else side.stopped++;
        }
      }
    },
    { onProgress: opts.onProgress, signal: opts.signal },
  );
  const n = opts.top ?? 10;
  const rules = engine.compiled.map((c) => {
    // The scheme's text is bytes; the report's is text (UTF-8 decoded, bad sequences as U+FFFD).
    const text = (xs: TopEntry[]): TopEntry[] => xs.map((x) => ({ value: utf8(x.value), requests: x.requests }));
    c.stats.top = { ips: text(c.ips.top(n)), hosts: text(c.hosts.top(n)), paths: text(c.paths.top(n)) };
    c.stats.top_exact = c.ips.decremented === 0 && c.hosts.decremented === 0 && c.paths.decremented === 0;
    return c.stats;
  });
  const iso = (ms: number): string | null => (Number.isFinite(ms) ? new Date(ms).toISOString() : null);
  const report: HttpWhatIfReport = {
    ruleset: { name: ruleset.name, file: ruleset.file, rules: ruleset.rules.length, lists: ruleset.listDefs.length },
    input: { files: info.files, requests: info.records, start: iso(first), end: iso(last), error: info.error },
    totals: engine.totals,
    lists: engine.listStats(),
    rules,
    rate_limit_tables: engine.compiled
      .filter((c) => c.counter !== null)
      .map((c) => ({ id: c.rule.id, keys: (c.counter as HttpRateCounter).size, evictions: (c.counter as HttpRateCounter).evictions })),
    timeline: engine.timeline(),
    note: NOTE,
  };
  if (labels !== null) {
    const share = (a: number, b: number): number => (b === 0 ? 0 : a / b);
    report.truth = {
      ...score,
      attack_passed_share: share(score.attack.passed, score.attack.requests),
      legitimate_stopped_share: share(score.legitimate.stopped, score.legitimate.requests),
    };
  }
  return report;
}
