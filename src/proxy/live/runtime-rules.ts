/**
 * Rules the edge takes at run time, on top of palisade.yaml's: custom rules, rate-limiting rules
 * (Cloudflare's shape) and block-list entries (addresses and prefixes), each with an id, an origin
 * (`auto:<attack id>` for what live L7 protection installs, `admin` for the admin API), its
 * creation time and an optional expiry. Live protection (live.ts) and the admin API both call
 * this; the gate (phases/pipeline.ts) owns the compiled form.
 *
 * No request sees a half-installed change: every change (one entry, or a batch that replaces
 * some and adds others) is checked and compiled into a new set of phases first — an expression
 * that does not compile throws and changes nothing — and the gate's reference to its phases is
 * then swapped in one assignment. A request reads that reference once, when its head arrives,
 * and keeps it across the rate limits' await, so it is judged by one set of rules throughout.
 *
 * Expiry is checked by the gate on each request (one comparison with the nearest expiry) and by
 * `expire(now)`; the expired entries go in one swap as well.
 */
import { PalisadeError } from '../../core/errors.js';
import { parsePrefixes } from '../../core/net/prefix.js';

/** What a runtime custom rule may do (the actions of the ruleset's custom rules). */
export type RuntimeRuleAction = 'block' | 'challenge' | 'log' | 'allow';

interface Common {
  /** Unique among runtime entries and the config's rule ids: letters, digits, `_ . : -`, at most 128. */
  id: string;
  /** `admin`, or `auto:<attack id>` for live protection's. */
  origin: string;
  description?: string;
  /** Epoch ms after which the entry is removed; null or absent: never. */
  expiresMs?: number | null;
}

export interface RuntimeCustomRuleSpec extends Common {
  type: 'custom_rule';
  /** Rules language, HTTP scheme (may name the config's lists, `$name`). */
  expression: string;
  action: RuntimeRuleAction;
}

export interface RuntimeRateLimitSpec extends Common {
  type: 'rate_limit';
  /** Which requests the limit may stop. */
  expression: string;
  action: 'block' | 'challenge';
  /** Cloudflare's `ratelimit`: characteristics (ip.src, a header …), period (s), requests per period, mitigation timeout (s), optional counting expression. */
  characteristics: string[];
  period: number;
  requestsPerPeriod: number;
  mitigationTimeout: number;
  countingExpression?: string | null;
}

export interface RuntimeListSpec extends Common {
  type: 'list';
  /** Addresses and prefixes (`192.0.2.7`, `198.51.100.0/24`, `2001:db8::/48`) to block. */
  entries: string[];
}

export type RuntimeSpec = RuntimeCustomRuleSpec | RuntimeRateLimitSpec | RuntimeListSpec;

/** An installed entry: its spec, normalised, with when it was made. */
export type RuntimeEntry = RuntimeSpec & { readonly createdMs: number; expiresMs: number | null; description: string };

/** One atomic change: `remove` ids go, `add` specs come (an id may be in both: replaced). */
export interface RuntimeChange {
  add?: readonly RuntimeSpec[];
  remove?: readonly string[];
}

const ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Errors of the runtime rule API: stable codes (E_USAGE for a bad spec; expressions raise the Rules language's E_RULE). */
export class RuntimeRuleError extends PalisadeError {
  constructor(message: string) {
    super('E_USAGE', message);
    this.name = 'RuntimeRuleError';
  }
}

/**
 * The entries and the compiled phases made from them. `build` is the gate's: entries in, its
 * phases out (it throws when an expression does not compile). `reserved`: ids taken by the
 * config's rules.
 */
export class RuntimeRules<P> {
  private entries: RuntimeEntry[] = [];
  private built: P;
  /** The nearest expiry (ms), +Infinity when none: the gate compares each request's time with it. */
  nextExpiryMs = Number.POSITIVE_INFINITY;
  /** Inside adopt(): entries keep their creation times (anyone else's are now). */
  private adopting = false;
  /** Bumped on every change (admin API ETags, tests). */
  version = 0;
  /** Called after every change with the entries removed and added (audit, metrics). */
  onChange: ((removed: readonly RuntimeEntry[], added: readonly RuntimeEntry[], why: 'change' | 'expired') => void) | null = null;

  constructor(
    private readonly build: (entries: readonly RuntimeEntry[]) => P,
    private readonly reserved: ReadonlySet<string>,
    private readonly now: () => number,
  ) {
    this.built = build([]);
  }

  /** The phases of the current entries (read once per request). */
  get phases(): P {
    return this.built;
  }

  list(): RuntimeEntry[] {
    return this.entries.slice();
  }

  get(id: string): RuntimeEntry | undefined {
    return this.entries.find((e) => e.id === id);
  }

  get size(): number {
    return this.entries.length;
  }

  add(spec: RuntimeSpec): RuntimeEntry {
    return this.apply({ add: [spec] })[0] as RuntimeEntry;
  }

  addCustomRule(spec: Omit<RuntimeCustomRuleSpec, 'type'>): RuntimeEntry {
    return this.add({ ...spec, type: 'custom_rule' });
  }

  addRateLimit(spec: Omit<RuntimeRateLimitSpec, 'type'>): RuntimeEntry {
    return this.add({ ...spec, type: 'rate_limit' });
  }

  addList(spec: Omit<RuntimeListSpec, 'type'>): RuntimeEntry {
    return this.add({ ...spec, type: 'list' });
  }

  /** Remove one entry; false when there is none with that id. */
  remove(id: string): boolean {
    if (this.get(id) === undefined) return false;
    this.apply({ remove: [id] });
    return true;
  }

  /** Move an entry's expiry (no recompiling: the rules are the same). */
  setExpiry(id: string, expiresMs: number | null): boolean {
    const e = this.get(id);
    if (e === undefined) return false;
    e.expiresMs = expiresMs;
    this.nextExpiryMs = nearest(this.entries);
    return true;
  }

  /**
   * One atomic change: every spec checked, the new phases compiled, then swapped in. Throws (and
   * changes nothing) on a bad spec, a duplicate id or an expression that does not compile.
   */
  apply(change: RuntimeChange, why: 'change' | 'expired' = 'change'): RuntimeEntry[] {
    const drop = new Set(change.remove ?? []);
    for (const id of drop) if (this.get(id) === undefined) throw new RuntimeRuleError(`no runtime rule or list with id "${id}"`);
    const kept = this.entries.filter((e) => !drop.has(e.id));
    const taken = new Set(kept.map((e) => e.id));
    const now = this.now();
    const added: RuntimeEntry[] = [];
    for (const s of change.add ?? []) {
      const e = normalise(s, now, this.adopting);
      if (this.reserved.has(e.id)) throw new RuntimeRuleError(`id "${e.id}" is a rule of the configuration`);
      if (taken.has(e.id)) throw new RuntimeRuleError(`id "${e.id}" is used twice`);
      taken.add(e.id);
      added.push(e);
    }
    const next = [...kept, ...added];
    const built = this.build(next);
    const removed = this.entries.filter((e) => drop.has(e.id));
    // The swap: from here on every new request meets the new rules.
    this.entries = next;
    this.built = built;
    this.version++;
    this.nextExpiryMs = nearest(next);
    this.onChange?.(removed, added, why);
    return added;
  }

  /**
   * Take over another gate's entries (a config reload makes a new gate; the CLI hands the old
   * gate's `runtime.list()` here), keeping their ids, origins, creation times and expiries. Those
   * the new configuration refuses — an id that is now one of its rules, an expression naming a
   * list it no longer has — are left out and returned with the reason.
   */
  adopt(entries: readonly RuntimeEntry[]): Array<{ entry: RuntimeEntry; reason: string }> {
    this.adopting = true;
    try {
      try {
        this.apply({ add: entries });
        return [];
      } catch {
        // One by one, to keep all but the refused ones.
      }
      const refused: Array<{ entry: RuntimeEntry; reason: string }> = [];
      for (const e of entries) {
        try {
          this.apply({ add: [e] });
        } catch (err) {
          refused.push({ entry: e, reason: (err as Error).message });
        }
      }
      return refused;
    } finally {
      this.adopting = false;
    }
  }

  /** Remove the entries expired at `now`; returns them. */
  expire(now: number): RuntimeEntry[] {
    if (now < this.nextExpiryMs) return [];
    const gone = this.entries.filter((e) => e.expiresMs !== null && e.expiresMs <= now);
    if (gone.length === 0) {
      this.nextExpiryMs = nearest(this.entries);
      return [];
    }
    this.apply({ remove: gone.map((e) => e.id) }, 'expired');
    return gone;
  }
}

function nearest(es: readonly RuntimeEntry[]): number {
  let t = Number.POSITIVE_INFINITY;
  for (const e of es) if (e.expiresMs !== null && e.expiresMs < t) t = e.expiresMs;
  return t;
}

const positiveInt = (x: unknown): boolean => typeof x === 'number' && Number.isInteger(x) && x > 0;

/** A spec checked and copied (the caller's object is not kept). */
function normalise(s: RuntimeSpec, now: number, keepCreated: boolean): RuntimeEntry {
  if (typeof s.id !== 'string' || !ID.test(s.id)) throw new RuntimeRuleError(`id ${JSON.stringify(s.id)}: use 1-128 letters, digits and _ . : -`);
  if (typeof s.origin !== 'string' || s.origin === '') throw new RuntimeRuleError(`${s.id}: origin must be "admin" or "auto:<attack id>"`);
  const expiresMs = s.expiresMs ?? null;
  if (expiresMs !== null && !Number.isFinite(expiresMs)) throw new RuntimeRuleError(`${s.id}: expiresMs must be a time in ms or null`);
  // An entry taken over from another gate (adopt) keeps its creation time.
  const created = keepCreated ? (s as Partial<RuntimeEntry>).createdMs : undefined;
  const base = { id: s.id, origin: s.origin, description: s.description ?? '', createdMs: typeof created === 'number' && Number.isFinite(created) ? created : now, expiresMs };
  switch (s.type) {
    case 'custom_rule':
      if (typeof s.expression !== 'string' || s.expression.trim() === '') throw new RuntimeRuleError(`${s.id}: expression must be a non-empty string`);
      if (!['block', 'challenge', 'log', 'allow'].includes(s.action)) throw new RuntimeRuleError(`${s.id}: action must be block, challenge, log or allow`);
      return { ...base, type: 'custom_rule', expression: s.expression, action: s.action };
    case 'rate_limit': {
      if (typeof s.expression !== 'string' || s.expression.trim() === '') throw new RuntimeRuleError(`${s.id}: expression must be a non-empty string`);
      if (s.action !== 'block' && s.action !== 'challenge') throw new RuntimeRuleError(`${s.id}: a rate limit's action is block or challenge`);
      if (!positiveInt(s.period) || !positiveInt(s.requestsPerPeriod)) throw new RuntimeRuleError(`${s.id}: period and requestsPerPeriod must be positive integers`);
      if (!(Number.isInteger(s.mitigationTimeout) && s.mitigationTimeout >= 0)) throw new RuntimeRuleError(`${s.id}: mitigationTimeout must be an integer ≥ 0 (seconds)`);
      if (!Array.isArray(s.characteristics)) throw new RuntimeRuleError(`${s.id}: characteristics must be a list of fields`);
      // One site per proxy: Cloudflare's colo characteristic counts nothing here (as in the ruleset reader).
      const characteristics = s.characteristics.filter((c) => c !== 'cf.colo.id');
      return {
        ...base,
        type: 'rate_limit',
        expression: s.expression,
        action: s.action,
        characteristics,
        period: s.period,
        requestsPerPeriod: s.requestsPerPeriod,
        mitigationTimeout: s.mitigationTimeout,
        countingExpression: s.countingExpression ?? null,
      };
    }
    case 'list': {
      if (!Array.isArray(s.entries) || s.entries.length === 0) throw new RuntimeRuleError(`${s.id}: entries must be a non-empty list of addresses or prefixes`);
      for (const x of s.entries) {
        const p = typeof x === 'string' ? parsePrefixes(x) : 'not a string';
        if (typeof p === 'string' || p.length !== 1) throw new RuntimeRuleError(`${s.id}: ${JSON.stringify(x)} is not an address or prefix`);
      }
      return { ...base, type: 'list', entries: s.entries.slice() };
    }
    default:
      throw new RuntimeRuleError(`${(s as { id: string }).id}: type must be custom_rule, rate_limit or list`);
  }
}
