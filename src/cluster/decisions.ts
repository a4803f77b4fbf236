/**
 * The Decision message: what a correlator publishes on `palisade.<site>.<node>.decision` (and keeps
 * in Redis, decision-store.ts) and every edge proxy and monitor applies to its runtime rules
 * (proxy/live/runtime-rules.ts) — a custom rule, a rate limit or a block list to add, with its
 * expiry, or one to remove. Edges publish what their live protection does in the same shape
 * (`from.role: 'edge'`), so a correlator sees it; an edge applies only a correlator's.
 *
 *   { v: 1, id, time, from: { site, node, role }, op: 'add' | 'remove',
 *     spec?: RuntimeSpec (without origin; spec.expiresMs is the expiry), ruleId?: string (remove),
 *     reason, alert_id? }
 *
 * Messages come from other processes: `parseDecision` checks every field and throws a
 * DecisionError naming the first bad one; a consumer counts such a message and skips it.
 *
 * Applying (`DecisionApplier`): the entry gets the origin `cluster:<from.node>` and the spec's id.
 * A spec the gate refuses (an expression that does not compile, a bad prefix) changes nothing —
 * RuntimeRules.apply is one atomic swap — and is reported as `refused`. An add already expired is
 * ignored. Idempotent by decision id and time (a bounded memory of those applied: a decider may
 * reuse an id for a later version of its rule, with a later time) and by content (an entry
 * with the same id and the same rule is left alone: a restarted edge reloading the store changes
 * nothing). An older decision about a rule than the one applied (by `time`) is `stale` and ignored,
 * so the store's snapshot and the bus's stream may arrive in any order. Entries of another origin
 * (admin, live protection) are never replaced or removed by a decision.
 */
import { PalisadeError } from '../core/errors.js';
import type { RuntimeEntry, RuntimeRules, RuntimeSpec } from '../proxy/live/runtime-rules.js';

export type DecisionRole = 'sensor' | 'edge' | 'correlator';

/** A runtime spec as a decision carries it: the origin is the applier's (`cluster:<node>`). */
export type DecisionSpec = RuntimeSpec extends infer S ? (S extends RuntimeSpec ? Omit<S, 'origin'> & { origin?: string } : never) : never;

export interface Decision {
  v: 1;
  /** Unique per decision (de-duplication on the bus and here): letters, digits, `_ . : -`, at most 200. */
  id: string;
  /** ISO-8601 UTC: when it was taken (orders two decisions about one rule). */
  time: string;
  from: { site: string; node: string; role: DecisionRole };
  op: 'add' | 'remove';
  /** op add: the rule, rate limit or list (its `expiresMs`: epoch ms, null or absent: never). */
  spec?: DecisionSpec;
  /** op remove: the id of the runtime entry to remove. */
  ruleId?: string;
  reason: string;
  alert_id?: string;
}

/** A decision message that does not hold together: stable code E_FORMAT, the first bad field named. */
export class DecisionError extends PalisadeError {
  constructor(message: string) {
    super('E_FORMAT', `decision: ${message}`);
    this.name = 'DecisionError';
  }
}

const ID = /^[A-Za-z0-9_.:-]{1,200}$/;
const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const ROLES: ReadonlySet<string> = new Set(['sensor', 'edge', 'correlator']);
const TYPES: ReadonlySet<string> = new Set(['custom_rule', 'rate_limit', 'list']);

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * A decision from the bus or the store, checked field by field (the spec's rule content is the
 * gate's to check when applied: RuntimeRules refuses what does not compile). Throws DecisionError.
 */
export function parseDecision(data: unknown): Decision {
  if (!isObject(data)) throw new DecisionError('not a JSON object');
  const o = data;
  if (o.v !== 1) throw new DecisionError(`unknown version ${JSON.stringify(o.v)} (this node reads v 1)`);
  if (typeof o.id !== 'string' || !ID.test(o.id)) throw new DecisionError(`id ${JSON.stringify(o.id)}: 1-200 letters, digits and _ . : -`);
  if (typeof o.time !== 'string' || Number.isNaN(Date.parse(o.time))) throw new DecisionError(`${o.id}: time must be an ISO-8601 time, not ${JSON.stringify(o.time)}`);
  const f = o.from;
  if (!isObject(f)) throw new DecisionError(`${o.id}: from must be { site, node, role }`);
  if (typeof f.site !== 'string' || !NAME.test(f.site)) throw new DecisionError(`${o.id}: from.site must be 1-64 letters, digits, _ or -`);
  if (typeof f.node !== 'string' || !NAME.test(f.node)) throw new DecisionError(`${o.id}: from.node must be 1-64 letters, digits, _ or -`);
  if (typeof f.role !== 'string' || !ROLES.has(f.role)) throw new DecisionError(`${o.id}: from.role must be sensor, edge or correlator`);
  if (o.op !== 'add' && o.op !== 'remove') throw new DecisionError(`${o.id}: op must be add or remove`);
  if (typeof o.reason !== 'string') throw new DecisionError(`${o.id}: reason must be a string`);
  if (o.alert_id !== undefined && typeof o.alert_id !== 'string') throw new DecisionError(`${o.id}: alert_id must be a string`);
  const d: Decision = {
    v: 1,
    id: o.id,
    time: o.time,
    from: { site: f.site, node: f.node, role: f.role as DecisionRole },
    op: o.op,
    reason: o.reason,
    ...(typeof o.alert_id === 'string' && { alert_id: o.alert_id }),
  };
  if (o.op === 'add') {
    const s = o.spec;
    if (!isObject(s)) throw new DecisionError(`${o.id}: an add carries a spec (custom_rule, rate_limit or list)`);
    if (typeof s.type !== 'string' || !TYPES.has(s.type)) throw new DecisionError(`${o.id}: spec.type must be custom_rule, rate_limit or list`);
    if (typeof s.id !== 'string' || !/^[A-Za-z0-9_.:-]{1,128}$/.test(s.id)) throw new DecisionError(`${o.id}: spec.id must be 1-128 letters, digits and _ . : -`);
    if (s.expiresMs !== undefined && s.expiresMs !== null && (typeof s.expiresMs !== 'number' || !Number.isFinite(s.expiresMs)))
      throw new DecisionError(`${o.id}: spec.expiresMs must be epoch ms or null`);
    if (s.type === 'list' && (!Array.isArray(s.entries) || s.entries.length === 0 || !s.entries.every((e) => typeof e === 'string')))
      throw new DecisionError(`${o.id}: a list's entries must be a non-empty list of addresses or prefixes`);
    if (s.type !== 'list' && typeof s.expression !== 'string') throw new DecisionError(`${o.id}: spec.expression must be a string`);
    d.spec = JSON.parse(JSON.stringify(s)) as DecisionSpec;
  } else {
    if (typeof o.ruleId !== 'string' || o.ruleId === '') throw new DecisionError(`${o.id}: a remove names ruleId`);
    d.ruleId = o.ruleId;
  }
  return d;
}

/** The runtime entry id a decision is about (spec.id for an add, ruleId for a remove). */
export function decisionRuleId(d: Decision): string {
  return (d.op === 'add' ? d.spec?.id : d.ruleId) ?? '';
}

/** When an add's rule expires (epoch ms), null: never (or a remove). */
export function decisionExpiry(d: Decision): number | null {
  return d.op === 'add' ? (d.spec?.expiresMs ?? null) : null;
}

export const clusterOrigin = (node: string): string => `cluster:${node}`;

export type ApplyStatus = 'applied' | 'duplicate' | 'expired' | 'stale' | 'refused' | 'absent';

export interface ApplyResult {
  status: ApplyStatus;
  /** In words, for the log (why refused, what was replaced). */
  message: string;
}

/** What the applier counted (metrics, tests). */
export interface ApplierStats {
  applied: number;
  duplicate: number;
  expired: number;
  stale: number;
  refused: number;
  absent: number;
  /** Messages that failed parseDecision (counted by the caller through `invalid()`). */
  invalid: number;
}

/** Decision ids remembered for de-duplication (oldest forgotten first). */
const REMEMBERED = 10_000;

/** The part of a runtime entry a decision sets (not origin, times): equal ones need no recompiling. */
function ruleKey(e: RuntimeSpec | RuntimeEntry): string {
  const desc = e.description ?? '';
  switch (e.type) {
    case 'custom_rule':
      return JSON.stringify(['custom_rule', e.expression, e.action, desc]);
    case 'rate_limit':
      return JSON.stringify([
        'rate_limit',
        e.expression,
        e.action,
        (e.characteristics ?? []).filter((c) => c !== 'cf.colo.id'),
        e.period,
        e.requestsPerPeriod,
        e.mitigationTimeout,
        e.countingExpression ?? null,
        desc,
      ]);
    case 'list':
      return JSON.stringify(['list', e.entries, desc]);
    default:
      return '';
  }
}

/**
 * Applies decisions to the runtime rules of the gate of the moment (a config reload swaps the
 * gate: pass a function). One per process; it remembers which decision installed each entry.
 */
export class DecisionApplier {
  readonly stats: ApplierStats = { applied: 0, duplicate: 0, expired: 0, stale: 0, refused: 0, absent: 0, invalid: 0 };
  private readonly seen = new Set<string>();
  /** Runtime entry id → the time (ms) of the decision that last set or removed it. */
  private readonly latest = new Map<string, number>();

  constructor(
    private readonly runtime: RuntimeRules<unknown> | (() => RuntimeRules<unknown>),
    private readonly now: () => number = Date.now,
  ) {}

  private rules(): RuntimeRules<unknown> {
    return typeof this.runtime === 'function' ? this.runtime() : this.runtime;
  }

  /** A message that failed to parse (counted here so the stats say it). */
  invalid(): void {
    this.stats.invalid++;
  }

  apply(d: Decision): ApplyResult {
    const r = this.decide(d);
    this.stats[r.status]++;
    if (r.status !== 'refused') this.remember(`${d.id}@${d.time}`);
    return r;
  }

  private remember(id: string): void {
    this.seen.add(id);
    if (this.seen.size > REMEMBERED) this.seen.delete(this.seen.values().next().value as string);
  }

  private decide(d: Decision): ApplyResult {
    if (this.seen.has(`${d.id}@${d.time}`)) return { status: 'duplicate', message: `${d.id}: applied already` };
    const runtime = this.rules();
    const ruleId = decisionRuleId(d);
    const at = Date.parse(d.time);
    const last = this.latest.get(ruleId);
    if (last !== undefined && at < last) return { status: 'stale', message: `${d.id}: older than the decision that last changed ${ruleId}` };
    const origin = clusterOrigin(d.from.node);
    const existing = runtime.get(ruleId);
    if (existing !== undefined && !existing.origin.startsWith('cluster:'))
      return { status: 'refused', message: `${d.id}: ${ruleId} is an entry of ${existing.origin}, not the cluster's: left as it is` };
    if (d.op === 'remove') {
      this.latest.set(ruleId, at);
      if (existing === undefined) return { status: 'absent', message: `${d.id}: no entry ${ruleId} to remove` };
      runtime.remove(ruleId);
      return { status: 'applied', message: `${d.id}: removed ${ruleId} (${d.reason})` };
    }
    const spec = { ...(d.spec as DecisionSpec), origin, description: d.spec?.description ?? d.reason } as RuntimeSpec;
    const expires = spec.expiresMs ?? null;
    if (expires !== null && expires <= this.now()) return { status: 'expired', message: `${d.id}: expired at ${new Date(expires).toISOString()}` };
    if (existing !== undefined && ruleKey(existing) === ruleKey(spec)) {
      // Same rule: only its expiry (and who set it) may move, without recompiling.
      this.latest.set(ruleId, at);
      if (existing.expiresMs !== expires) runtime.setExpiry(ruleId, expires);
      return { status: existing.expiresMs !== expires ? 'applied' : 'duplicate', message: `${d.id}: ${ruleId} in force already` };
    }
    try {
      runtime.apply({ remove: existing !== undefined ? [ruleId] : [], add: [spec] });
    } catch (e) {
      return { status: 'refused', message: `${d.id}: ${ruleId} refused, nothing changed: ${(e as Error).message}` };
    }
    this.latest.set(ruleId, at);
    return { status: 'applied', message: `${d.id}: ${existing !== undefined ? 'replaced' : 'added'} ${spec.type} ${ruleId} (${d.reason})` };
  }
}

/** A new decision (a correlator's, a test's): v, id and time filled in. */
export function newDecision(
  from: Decision['from'],
  op: Decision['op'],
  body: { id: string; spec?: DecisionSpec; ruleId?: string; reason: string; alert_id?: string },
  nowMs: number = Date.now(),
): Decision {
  return { v: 1, time: new Date(nowMs).toISOString(), from, op, ...body };
}
