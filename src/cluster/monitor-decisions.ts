/**
 * A monitor's share of the correlator's decisions (DESIGN.md "Events between nodes"): a list
 * decision — addresses and prefixes to block, with an expiry — is loaded into the monitor's L3/4
 * enforcement points (nftables, Flowspec) as `ip.src in $list`, replaced when a later decision
 * about the same rule comes, and taken away when it is removed or expires. Rules in the HTTP
 * scheme (custom rules, rate limits) are the edges'; a monitor leaves them, and says so once.
 *
 * Safe by default, as the monitor's own mitigations: nothing is loaded unless the monitor runs
 * with `--mitigate auto`; in suggest mode each decision is written out as what would be loaded.
 * At most `maxActive` decisions are in force at once (the rest refused, logged), every load and
 * removal is logged with the command run (the audit trail), and the decisions in force at start
 * come from the Redis store, so a monitor started late enforces what the edges enforce.
 */
import { buildMitigation } from '../export/mitigation.js';
import type { Enforcer } from '../incidents/enforce/enforcer.js';
import type { DecisionStore } from './decision-store.js';
import { type Decision, decisionExpiry, decisionRuleId, parseDecision } from './decisions.js';

export interface MonitorDecisionsOptions {
  bus: { subscribe(filter: string, handler: (m: { subject: string; data: unknown }) => void): () => void; synced?(): Promise<boolean> };
  enforcers: readonly Enforcer[];
  mode: 'auto' | 'suggest';
  /** decisions in force at once, at most (default 64) */
  maxActive?: number;
  store?: DecisionStore | null;
  now?: () => number;
  log: (line: string) => void;
}

interface InForce {
  decision: string;
  expiresMs: number | null;
}

export class MonitorDecisions {
  private readonly inForce = new Map<string, InForce>();
  private readonly seen = new Set<string>();
  private unsubscribe: (() => void) | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private chain: Promise<void> = Promise.resolve();
  private warnedHttp = false;
  private readonly now: () => number;
  readonly stats = { applied: 0, removed: 0, refused: 0, invalid: 0, failed: 0 };

  constructor(private readonly o: MonitorDecisionsOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Listen first (nothing published meanwhile is missed), then take up what the store holds. */
  async start(): Promise<void> {
    this.unsubscribe = this.o.bus.subscribe('palisade.*.*.decision', (m) => this.take(m.data));
    // the server has the subscription before the store is read: nothing published between is missed
    await this.o.bus.synced?.();
    if (this.o.store) {
      try {
        for (const d of await this.o.store.list(this.now())) this.take(d);
      } catch (e) {
        this.o.log(`decisions: the store did not answer (${(e as Error).message}); only new decisions apply`);
      }
    }
    this.timer = setInterval(() => this.expire(), 1000);
    this.timer.unref();
  }

  /** One decision message (from the bus or the store); bad ones are counted and skipped. */
  take(data: unknown): void {
    let d: Decision;
    try {
      d = parseDecision(data);
    } catch (e) {
      this.stats.invalid++;
      this.o.log(`decisions: ${(e as Error).message}; skipped`);
      return;
    }
    if (d.from.role !== 'correlator' || this.seen.has(d.id)) return;
    // decisions are a few per attack; the ids kept only guard against the store and the bus both handing one over
    if (this.seen.size >= 10_000) this.seen.clear();
    this.seen.add(d.id);
    this.chain = this.chain.then(() => this.apply(d)).catch((e: Error) => this.o.log(`decisions: ${d.id}: ${e.message}`));
  }

  private async apply(d: Decision): Promise<void> {
    const ruleId = decisionRuleId(d);
    if (d.op === 'remove') {
      if (this.inForce.has(ruleId)) await this.remove(ruleId, `removed by ${d.from.node}: ${d.reason}`);
      return;
    }
    const spec = d.spec;
    if (spec === undefined) return;
    if (spec.type !== 'list') {
      if (!this.warnedHttp) this.o.log(`decisions: ${spec.type} decisions are HTTP rules for the edges; this monitor leaves them`);
      this.warnedHttp = true;
      return;
    }
    const expiresMs = decisionExpiry(d);
    if (expiresMs !== null && expiresMs <= this.now()) return;
    if (!this.inForce.has(ruleId) && this.inForce.size >= (this.o.maxActive ?? 64)) {
      this.stats.refused++;
      this.o.log(`decisions: ${d.id} refused: ${this.inForce.size} decisions in force already (the limit)`);
      return;
    }
    const listName = 'cluster_sources';
    const m = buildMitigation({ expression: `ip.src in $${listName}`, id: ruleId, lists: { [listName]: spec.entries }, description: d.reason });
    const targets = this.o.enforcers.filter((e) => e.layer === 'l34');
    for (const e of targets) {
      const { text, problems } = e.script(ruleId, m.ruleset);
      if (problems.length > 0) {
        this.stats.failed++;
        this.o.log(`decisions: ${d.id}: ${e.target} cannot load it: ${problems.join('; ')}`);
        continue;
      }
      if (this.o.mode === 'suggest') {
        this.o.log(`decisions: ${d.id} (${spec.entries.length} sources, from ${d.from.node}: ${d.reason}) would load into ${e.target}:\n${text}`);
        continue;
      }
      const r = await e.apply(ruleId, text);
      if (r.ok) this.o.log(`decisions: ${d.id}: ${spec.entries.length} sources blocked in ${e.target} (${d.reason}) — ${r.command}`);
      else {
        this.stats.failed++;
        this.o.log(`decisions: ${d.id}: ${e.target} refused: ${r.error ?? r.command}`);
      }
    }
    if (this.o.mode === 'auto' && targets.length > 0) {
      this.inForce.set(ruleId, { decision: d.id, expiresMs });
      this.stats.applied++;
    }
  }

  private async remove(ruleId: string, why: string): Promise<void> {
    this.inForce.delete(ruleId);
    for (const e of this.o.enforcers.filter((x) => x.layer === 'l34')) {
      const r = await e.remove(ruleId);
      this.o.log(`decisions: ${ruleId} ${r.ok ? 'taken away from' : 'could not be taken away from'} ${e.target} (${why})${r.ok ? '' : `: ${r.error ?? ''}`}`);
    }
    this.stats.removed++;
  }

  private expire(): void {
    const now = this.now();
    for (const [ruleId, f] of this.inForce) {
      if (f.expiresMs !== null && f.expiresMs <= now) this.chain = this.chain.then(() => this.remove(ruleId, 'expired'));
    }
  }

  /** Stop listening; what is in force is taken away (a stopped monitor does not leave rules behind). */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    if (this.timer !== null) clearInterval(this.timer);
    await this.chain;
    for (const ruleId of [...this.inForce.keys()]) await this.remove(ruleId, 'monitor stopped');
  }

  /** Rules in force now. */
  get active(): number {
    return this.inForce.size;
  }
}
