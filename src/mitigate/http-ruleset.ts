/**
 * HTTP rulesets: the ruleset file format (mitigate/ruleset.ts: name, lists, ordered rules) with
 * rules in the HTTP scheme, as the edge and Cloudflare's custom and rate-limiting rules take them.
 *
 * ```yaml
 * lists:
 *   bots: { kind: named, entries: [198.51.100.0/24] }
 * rules:
 *   - id: stuffing
 *     expression: http.request.uri.path eq "/login" and ip.src in $bots
 *     action: block
 *   - id: login-rate                       # Cloudflare's rate-limiting rule shape
 *     expression: http.request.uri.path eq "/login"
 *     action: block                        # or managed_challenge
 *     ratelimit: { characteristics: [cf.colo.id, ip.src], period: 60, requests_per_period: 5,
 *                  mitigation_timeout: 600, counting_expression: 'http.response.code eq 401' }
 *   - id: api                              # Palisade's packet shape works too
 *     expression: starts_with(http.request.uri.path, "/api/")
 *     action: rate_limit
 *     action_parameters: { rate: 100, period: 60s, key: ip.src }
 * ```
 *
 * Actions: block, allow (skip the remaining rules), log, challenge (managed_challenge,
 * js_challenge), rate_limit (Palisade shape; Cloudflare's is any action with `ratelimit`).
 */
import { dirname } from 'node:path';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { compileRuleFor, ExprError } from '../rules/packet-ir.js';
import { type HttpRequestView, httpScheme } from '../scheme/http.js';
import { isArray, isMap } from '../scheme/values.js';
import type { ListSet } from './lists.js';
import { type ListDef, type LoadOptions, parseRuleset, RulesetError, type RulesetProblem, readRulesetText } from './ruleset.js';

export type HttpAction = 'block' | 'allow' | 'log' | 'challenge' | 'rate_limit';

/** A rate limit the Cloudflare way: counters per characteristics value over a period. */
export interface HttpRateLimit {
  /** Scheme fields (or `http.request.headers["name"]`) whose values make a counter's key; cf.colo.id is dropped (one site). */
  characteristics: string[];
  /** Seconds. */
  period: number;
  requestsPerPeriod: number;
  /** Seconds the action holds once the rate is exceeded; 0: only the requests over the rate (throttle). */
  mitigationTimeout: number;
  /** What increments a counter, when not the rule's expression (may read the response: http.response.code). */
  countingExpression: string | null;
  /** What a limited request gets. */
  action: 'block' | 'challenge';
  /** Bound on counters kept at once. */
  maxKeys: number;
}

export interface HttpRule {
  id: string;
  description: string;
  expression: string;
  action: HttpAction;
  rateLimit: HttpRateLimit | null;
  enabled: boolean;
  line: number;
}

export interface HttpRuleset {
  name: string;
  file: string;
  rules: HttpRule[];
  lists: ListSet;
  listDefs: ListDef[];
}

const ACTIONS: Record<string, HttpAction> = {
  block: 'block',
  allow: 'allow',
  skip: 'allow',
  log: 'log',
  challenge: 'challenge',
  managed_challenge: 'challenge',
  js_challenge: 'challenge',
  rate_limit: 'rate_limit',
};

const PERIOD_WORDS: Record<string, number> = { second: 1, minute: 60, hour: 3600, day: 86400 };

/** `60`, `"60s"`, `"10m"`, `"1h"`, `minute` to seconds; NaN when none of those. */
function seconds(x: unknown): number {
  if (typeof x === 'number') return Number.isInteger(x) && x > 0 ? x : Number.NaN;
  if (typeof x !== 'string') return Number.NaN;
  if (x in PERIOD_WORDS) return PERIOD_WORDS[x] as number;
  const m = /^(\d+)\s*(s|m|h|d)?$/.exec(x.trim());
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  return n > 0 ? n * ({ s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's'] as number) : Number.NaN;
}

const HEADER_KEY = /^http\.request\.headers\["([^"]+)"\]$/;

/** A characteristic is usable when the scheme can give it as one scalar value per request. */
function characteristicProblem(c: string): string | null {
  if (c === 'cf.colo.id' || HEADER_KEY.test(c)) return null;
  const f = httpScheme.fields.get(c);
  if (f === undefined) return `unknown characteristic "${c}" (a field of the HTTP scheme, or http.request.headers["name"])`;
  if (isArray(f.type) || isMap(f.type)) return `characteristic "${c}" is a ${f.type}, not one value per request`;
  return null;
}

export function loadHttpRuleset(path: string, opts: LoadOptions = {}): HttpRuleset {
  return parseHttpRuleset(readRulesetText(path), path, { baseDir: opts.baseDir ?? dirname(path) });
}

/** Parse and validate an HTTP ruleset; throws RulesetError listing every problem with its line. */
export function parseHttpRuleset(text: string, file = '<ruleset>', opts: LoadOptions = {}): HttpRuleset {
  // The lists (and the file's YAML) are checked by the packet ruleset parser: one format.
  const base = parseRuleset(text, file, { ...opts, listsOnly: true });
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
  const root = doc.toJS() as unknown;
  const rulesPath: (string | number)[] = Array.isArray(root) ? [] : ['rules'];
  const raw = Array.isArray(root) ? root : (root as Record<string, unknown> | null)?.rules;
  const problems: RulesetProblem[] = [];
  const lineOf = (path: (string | number)[]): number => {
    for (let i = path.length; i >= 0; i--) {
      const n = doc.getIn(path.slice(0, i), true);
      if (isNode(n) && n.range) return lc.linePos(n.range[0]).line;
    }
    return 1;
  };
  const problem = (path: (string | number)[], message: string): void => {
    problems.push({ line: lineOf(path), column: 1, message });
  };
  if (!Array.isArray(raw)) throw new RulesetError(file, [{ line: 1, column: 1, message: raw === undefined ? 'no "rules" list' : 'rules must be a list' }]);
  const rules: HttpRule[] = [];
  const ids = new Set<string>();
  raw.forEach((r: unknown, i: number) => {
    const path = [...rulesPath, i];
    if (r === null || typeof r !== 'object' || Array.isArray(r)) {
      problem(path, `rule ${i + 1}: expected a mapping with id, expression, action`);
      return;
    }
    const o = r as Record<string, unknown>;
    const allowed = ['id', 'ref', 'description', 'expression', 'action', 'action_parameters', 'ratelimit', 'enabled'];
    for (const k of Object.keys(o)) if (!allowed.includes(k)) problem([...path, k], `unknown key "${k}" (expected ${allowed.join(', ')})`);
    const id = o.id !== undefined ? String(o.id) : o.ref !== undefined ? String(o.ref) : `rule${i + 1}`;
    if (ids.has(id)) problem([...path, 'id'], `rule id "${id}" is used twice`);
    ids.add(id);
    const who = `rule ${id}`;
    if (typeof o.expression !== 'string' || o.expression.trim() === '') {
      problem([...path, 'expression'], `${who}: expression must be a non-empty string`);
      return;
    }
    const action = ACTIONS[String(o.action)];
    if (action === undefined) {
      problem([...path, 'action'], `${who}: action must be one of block, allow, log, challenge, managed_challenge, rate_limit`);
      return;
    }
    const expressionProblem = (expr: string, key: string): boolean => {
      try {
        compileRuleFor<HttpRequestView>(httpScheme, expr, base.lists);
        return false;
      } catch (e) {
        if (!(e instanceof ExprError)) throw e;
        problem([...path, key], `${who}: ${e.message} (at ${e.start} in "${expr}")`);
        return true;
      }
    };
    if (expressionProblem(o.expression, 'expression')) return;
    let rateLimit: HttpRateLimit | null = null;
    if (o.ratelimit !== undefined) {
      if (action === 'rate_limit' || action === 'allow' || action === 'log')
        problem([...path, 'action'], `${who}: a ratelimit rule's action is what limited requests get: block or managed_challenge`);
      rateLimit = cloudflareLimit(o.ratelimit, action === 'challenge' ? 'challenge' : 'block', (k, m) => problem([...path, 'ratelimit', ...k], `${who}: ${m}`));
      if (rateLimit?.countingExpression && expressionProblem(rateLimit.countingExpression, 'ratelimit')) return;
    } else if (action === 'rate_limit') {
      rateLimit = palisadeLimit(o.action_parameters, (k, m) => problem([...path, 'action_parameters', ...k], `${who}: ${m}`));
    } else if (o.action_parameters !== undefined && !(typeof o.action_parameters === 'object' && o.action_parameters !== null && Object.keys(o.action_parameters).length === 0)) {
      problem([...path, 'action_parameters'], `${who}: action ${String(o.action)} takes no action_parameters`);
    }
    if (o.enabled !== undefined && typeof o.enabled !== 'boolean') problem([...path, 'enabled'], `${who}: enabled must be true or false`);
    rules.push({
      id,
      description: typeof o.description === 'string' ? o.description : '',
      expression: o.expression,
      action: rateLimit !== null ? 'rate_limit' : action,
      rateLimit,
      enabled: o.enabled !== false,
      line: lineOf(path),
    });
  });
  if (problems.length > 0) throw new RulesetError(file, problems);
  return { name: base.name, file, rules, lists: base.lists, listDefs: base.listDefs };
}

type Problem = (path: string[], message: string) => void;

const DEFAULT_MAX_KEYS = 1 << 20;

function maxKeysOf(x: unknown, problem: Problem): number {
  if (x === undefined) return DEFAULT_MAX_KEYS;
  if (typeof x !== 'number' || !Number.isInteger(x) || x < 1 || x > 1 << 24) {
    problem(['max_keys'], 'max_keys must be an integer from 1 to 16777216');
    return DEFAULT_MAX_KEYS;
  }
  return x;
}

function characteristicsOf(x: unknown, key: string, problem: Problem): string[] {
  const list = x === undefined ? ['ip.src'] : x === 'none' ? [] : Array.isArray(x) ? x.map(String) : [String(x)];
  for (const c of list) {
    const p = characteristicProblem(c);
    if (p !== null) problem([key], p);
  }
  return list.filter((c) => c !== 'cf.colo.id');
}

/** Cloudflare's `ratelimit` object. */
function cloudflareLimit(x: unknown, action: 'block' | 'challenge', problem: Problem): HttpRateLimit | null {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) {
    problem([], 'ratelimit must be a mapping (characteristics, period, requests_per_period, mitigation_timeout)');
    return null;
  }
  const o = x as Record<string, unknown>;
  const allowed = ['characteristics', 'period', 'requests_per_period', 'mitigation_timeout', 'counting_expression', 'requests_to_origin', 'max_keys'];
  for (const k of Object.keys(o)) if (!allowed.includes(k)) problem([k], `unknown ratelimit key "${k}" (expected ${allowed.join(', ')})`);
  const period = seconds(o.period);
  if (Number.isNaN(period)) problem(['period'], 'period must be a number of seconds (10, 60, 120, 300, 600, 3600 at Cloudflare)');
  const rpp = o.requests_per_period;
  if (typeof rpp !== 'number' || !Number.isInteger(rpp) || rpp < 1) problem(['requests_per_period'], 'requests_per_period must be a positive integer');
  const timeout = o.mitigation_timeout ?? 0;
  if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 0)
    problem(['mitigation_timeout'], 'mitigation_timeout must be a whole number of seconds (0: throttle)');
  const counting = o.counting_expression;
  if (counting !== undefined && (typeof counting !== 'string' || counting.trim() === '')) problem(['counting_expression'], 'counting_expression must be a non-empty string');
  const characteristics = characteristicsOf(o.characteristics, 'characteristics', problem);
  return {
    characteristics,
    period,
    requestsPerPeriod: rpp as number,
    mitigationTimeout: timeout as number,
    countingExpression: typeof counting === 'string' && counting.trim() !== '' ? counting : null,
    action,
    maxKeys: maxKeysOf(o.max_keys, problem),
  };
}

/** Palisade's `action: rate_limit` parameters: `rate` requests per `period`, keyed on `key`; limited requests are blocked while over the rate. */
function palisadeLimit(x: unknown, problem: Problem): HttpRateLimit | null {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) {
    problem([], 'rate_limit needs action_parameters (rate, period, key)');
    return null;
  }
  const o = x as Record<string, unknown>;
  const allowed = ['rate', 'period', 'key', 'unit', 'burst', 'max_keys', 'mitigation_timeout', 'counting_expression'];
  for (const k of Object.keys(o)) if (!allowed.includes(k)) problem([k], `unknown rate_limit parameter "${k}" (expected ${allowed.join(', ')})`);
  const rate = o.rate;
  if (typeof rate !== 'number' || !Number.isInteger(rate) || rate < 1) problem(['rate'], 'rate must be a positive integer (requests per period)');
  if (o.unit !== undefined && o.unit !== 'requests' && o.unit !== 'packets') problem(['unit'], 'unit: HTTP rate limits count requests');
  const period = seconds(o.period ?? 'second');
  if (Number.isNaN(period)) problem(['period'], 'period must be seconds (60, "60s", "10m") or second, minute, hour, day');
  const timeout = o.mitigation_timeout ?? 0;
  if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 0) problem(['mitigation_timeout'], 'mitigation_timeout must be a whole number of seconds');
  const counting = typeof o.counting_expression === 'string' && o.counting_expression.trim() !== '' ? o.counting_expression : null;
  return {
    characteristics: characteristicsOf(o.key, 'key', problem),
    period,
    requestsPerPeriod: rate as number,
    mitigationTimeout: timeout as number,
    countingExpression: counting,
    action: 'block',
    maxKeys: maxKeysOf(o.max_keys, problem),
  };
}
