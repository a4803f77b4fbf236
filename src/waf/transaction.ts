/**
 * One request's evaluation: the rule loop for a phase (chains, skipAfter/skip, allow, disruptive
 * actions) and the test of each value against a rule's operator, through the value cache.
 *
 * The pieces it uses: the variables (collections.ts, filled by request-vars.ts), the values a
 * rule inspects (target-values.ts), what a match does (actions.ts, removals.ts), the value cache
 * kept across requests (value-cache.ts), the lent initial TX (initial-tx.ts) and the frozen
 * start-up plan it runs (plan.ts).
 */
import { type ActionContext, expandMacro, expandText, initCol, runCtl, runTimer, setVar, storeCaptures } from './actions.js';
import { Collections, Entry, NO_BOUNDS } from './collections.js';
import type { InitialTx } from './initial-tx.js';
import type { OpContext, Operator } from './operators.js';
import { BUILTIN_KEYS, BUILTIN_NAMES, type CollectionAccess, type OpenRecord, type StoredRecord } from './persistent.js';
import { Phase } from './phase.js';
import type { Plan } from './plan.js';
import { classMask, KNOWN } from './prefilter.js';
import type { RuleRemovals } from './removals.js';
import { addBodyVars, addRequestVars, addResponseVars } from './request-vars.js';
import { type Rule, SingleVar } from './rule.js';
import { TargetValues } from './target-values.js';
import type { Transform } from './transforms.js';
import { ValueCache } from './value-cache.js';

/** numbers transactions: an entry is placed in the value cache once per transaction */
let generation = 0;

/** A phase's lists as the rule loop walks them: plain copies of the frozen `PhasePlan` arrays.
 * (V8 in Node 20 reads the elements of a frozen array several times slower than a plain
 * array's, so the rule loop must not index the plan's arrays.) */
interface PhaseWalk {
  readonly rules: Rule[];
  readonly skipTo: Int32Array;
  /** indexes of the rules a request runs (no markers, none decided at start-up), in order */
  readonly live: Int32Array;
  /** by index in `rules` (and one past the end): the position in `live` of the first live rule at or after it */
  readonly firstLiveFrom: Int32Array;
}

/** per plan, by `Phase` (made on its first transaction) */
const walks = new WeakMap<Plan, PhaseWalk[]>();

function phaseWalks(plan: Plan): PhaseWalk[] {
  let w = walks.get(plan);
  if (w === undefined) {
    w = plan.phases.map((p) => {
      const n = p.rules.length;
      // the rules a request can run: markers and rules decided at start-up are left out of the walk
      const live: number[] = [];
      const firstLiveFrom = new Int32Array(n + 1);
      for (let i = 0; i < n; i++) {
        firstLiveFrom[i] = live.length;
        if (p.rules[i].marker === null && (p.decided === null || p.decided[i] !== 1)) live.push(i);
      }
      firstLiveFrom[n] = live.length;
      return { rules: [...p.rules], skipTo: Int32Array.from(p.skipTo), live: Int32Array.from(live), firstLiveFrom };
    });
    walks.set(plan, w);
  }
  return w;
}

export interface WafRequest {
  method: string;
  /** request target as sent, e.g. `/a/b.php?x=1` */
  uri: string;
  /** e.g. `HTTP/1.1` */
  protocol: string;
  /** header lines in order, names as sent; values as latin1 byte strings */
  headers: [string, string][];
  body?: Buffer | string | null;
  remoteAddr?: string;
  remotePort?: number;
  /** persistent records read ahead of the evaluation by `Waf.prepare` (remote stores), by
   * `recordKey(coll, key)`; null for a record that does not exist */
  collections?: ReadonlyMap<string, StoredRecord | null>;
  serverPort?: number;
  /** the raw request line, when the caller has it */
  requestLine?: string;
}

export interface WafResponse {
  status: number;
  protocol?: string;
  headers: [string, string][];
  body?: Buffer | string | null;
}

export interface MatchedRule {
  id: number;
  msg: string;
  data: string;
  severity: string | null;
}

/** What transactions of one engine share across requests, one transaction at a time (each
 * takes it when free, else works on its own). */
export interface Reusables {
  readonly valueCache: ValueCache;
  /** null when the plan has no initial TX */
  readonly initialTx: InitialTx | null;
  /** where `initcol` finds persistent records; null: each opens empty and nothing is kept */
  collections: CollectionAccess | null;
}

export class Transaction implements OpContext, ActionContext {
  /** capture slots TX:0..9 of the last operator match */
  caps: (string | undefined)[] = new Array(10).fill(undefined);
  readonly matched: MatchedRule[] = [];
  interrupted = false;
  status = 200;
  engineOff = false;
  detectOnly: boolean;
  allowAll = false;
  allowRequest = false;
  bodyProcessor: string | null = null;
  forceBodyVar = false;
  /** when set, milliseconds spent in each rule (by id) are added here */
  timings: Map<number, number> | null = null;
  /** made by the first ctl:ruleRemove* */
  removals: RuleRemovals | null = null;
  readonly vars: Collections;
  /** the engine's shared initial TX while this transaction uses it (put back by `release`) */
  initialTx: InitialTx | null = null;
  currentRule: Rule | null = null;
  /** persistent records opened by initcol, with this transaction's changes to them */
  opened: Map<string, OpenRecord> | null = null;
  /** when set, the phase stops after this rule (the look-ahead of `Waf.prepare` stops at the
   * last initcol, having learnt every record key) */
  stopAfter: Rule | null = null;

  private readonly targets: TargetValues;
  private readonly chainParent: readonly number[];
  private readonly chainFn: readonly (Transform | null)[];
  private readonly generation = ++generation;
  private readonly valueCache: ValueCache;
  private readonly phases: PhaseWalk[];

  /** `reusables`: the engine's; null for a transaction that must not take them (the plan's
   * start-up trials). `presets`: TX variables set before the rules run. */
  constructor(
    private readonly plan: Plan,
    private readonly reusables: Reusables | null,
    readonly req: WafRequest,
    private readonly resp: WafResponse | null,
    presets: [string, string][],
  ) {
    this.chainParent = plan.chains.parent;
    this.chainFn = plan.chains.fn;
    this.phases = phaseWalks(plan);
    const vc = reusables?.valueCache;
    if (vc && !vc.busy) {
      vc.busy = true;
      vc.begin();
      this.valueCache = vc;
    } else this.valueCache = new ValueCache(plan.chains, plan.unionSlots, plan.verdictColumns);
    this.detectOnly = plan.settings.ruleEngine === 'detectiononly';
    if (plan.settings.ruleEngine === 'off') this.engineOff = true;
    const init = plan.initialTx;
    const lent = reusables?.initialTx ?? null;
    let tx: Map<string, Entry>;
    if (init && lent !== null && !lent.busy) {
      // the shared copy of the initial TX, put back by `release` (no per-request copy)
      lent.busy = true;
      this.initialTx = lent;
      tx = lent.map;
    } else tx = init ? new Map(init) : new Map<string, Entry>();
    this.vars = new Collections(tx);
    this.targets = new TargetValues(this.vars);
    for (const [k, v] of presets) {
      if (this.initialTx !== null) this.initialTx.remember(k.toLowerCase());
      tx.set(k.toLowerCase(), new Entry('TX', k, v));
    }
    addRequestVars(this.vars, req, plan.settings);
  }

  /** Ends the transaction: gives back the value cache and the initial TX, as they were. */
  release(): void {
    if (this.reusables !== null && this.valueCache === this.reusables.valueCache && this.valueCache.busy) this.valueCache.busy = false;
    const lent = this.initialTx;
    if (lent === null) return;
    this.initialTx = null;
    lent.restore();
  }

  /** TX variable `name` after the rules ran. */
  tx(name: string): string | undefined {
    return this.vars.stores.get('TX')?.get(name.toLowerCase())?.value;
  }

  /** OpContext: sets a variable of a collection rules read (@geoLookup fills GEO) */
  storeVar(coll: string, name: string, value: string): void {
    const key = name.toLowerCase();
    this.vars.store(coll).set(key, new Entry(coll, name, value, key));
  }

  now(): number {
    return this.reusables?.collections?.now() ?? Date.now();
  }

  /** ActionContext: `initcol` opens record `key` of `coll` (once per collection, as ModSecurity). */
  openRecord(coll: string, key: string): void {
    if (this.opened?.has(coll)) return;
    const access = this.reusables?.collections ?? null;
    const now = this.now();
    const rec = access === null ? null : access.open(coll, key, this.req.collections);
    const m = new Map<string, Entry>();
    if (rec !== null) for (const [name, v] of rec.vars) m.set(name, new Entry(coll, name, v, name));
    const timeout = Number.parseInt(rec?.vars.get('timeout') ?? '', 10) || this.plan.settings.collectionTimeout;
    if (access?.builtins === undefined || access.builtins.has(coll)) {
      const created = rec === null ? String(Math.floor(now / 1000)) : String(Math.floor(rec.createTime / 1000));
      const values = [key, rec === null ? '1' : '0', created, rec === null ? created : String(Math.floor(rec.lastUpdate / 1000)), String(rec?.updateCounter ?? 0), String(timeout)];
      for (let i = 0; i < BUILTIN_KEYS.length; i++) {
        const k = BUILTIN_KEYS[i];
        if (!m.has(k)) m.set(k, new Entry(coll, BUILTIN_NAMES[i], values[i], k));
      }
    }
    this.vars.stores.set(coll, m);
    if (this.opened === null) this.opened = new Map();
    this.opened.set(coll, { coll, key, ops: [], timeout, lastUpdate: rec?.lastUpdate ?? now });
  }

  /** OpContext: expands %{...} in an operator parameter */
  expand(param: string): string {
    return expandText(this, param);
  }

  /** The body or the response adds values: what was worked out about the targets' values goes. */
  private forgetTargets(): void {
    this.targets.forget();
    this.valueCache.classUnions.fill(0);
  }

  /** Parses the request body with the selected processor (called before phase 2). */
  processBody(): void {
    this.forgetTargets();
    const status = addBodyVars(this.vars, this.req, this.plan.settings, this.detectOnly, this.bodyProcessor, this.forceBodyVar);
    if (status !== 0) {
      this.interrupted = true;
      this.status = status;
    }
  }

  /** Start-up analysis (plan.ts): evaluates `r` with `tx` as the TX collection. Returns whether
   * it matched; `engineOff` tells whether it turned the engine off. */
  tryAtStartup(r: Rule, tx: Map<string, Entry>): boolean {
    this.vars.useTx(tx);
    this.engineOff = false;
    this.interrupted = false;
    return this.evalRule(r);
  }

  // ------------------------------------------------------------------ rule loop

  /** Runs one phase. Body processing happens between REQUEST_HEADERS and REQUEST_BODY. */
  runPhase(phase: Phase): void {
    if (phase === Phase.RESPONSE_HEADERS) {
      this.forgetTargets();
      if (this.resp) addResponseVars(this.vars, this.resp, this.plan.settings);
    }
    if (this.engineOff) return;
    if (this.allowAll && phase !== Phase.LOGGING) return;
    if (this.allowRequest && phase <= Phase.REQUEST_BODY) return;
    const { rules: list, skipTo, live, firstLiveFrom } = this.phases[phase];
    const matchedVars = this.vars.matchedVars;
    for (let j = 0; j < live.length; j++) {
      const i = live[j];
      const r = list[i];
      if (this.removals?.removes(r)) continue;
      if (matchedVars.length !== 0) matchedVars.length = 0;
      let hit: boolean;
      if (this.timings === null) hit = this.evalRule(r);
      else {
        const t0 = performance.now();
        hit = this.evalRule(r);
        this.timings.set(r.id, (this.timings.get(r.id) ?? 0) + performance.now() - t0);
      }
      if (r === this.stopAfter) return;
      if (!hit) continue;
      // whole chain matched
      if (r.log) this.logMatch(r);
      if (r.disruptive !== 'pass' && r.disruptive !== null && !this.detectOnly) {
        if (r.disruptive === 'allow') {
          if (r.allowScope === 'phase') return;
          if (r.allowScope === 'request') this.allowRequest = true;
          else this.allowAll = true;
          return;
        }
        this.interrupted = true;
        this.status = r.disruptive === 'redirect' ? 302 : r.status || 403;
        return;
      }
      if (this.engineOff) return;
      // go on with the first live rule after the marker (skipAfter) or the skipped rules (skip)
      if (skipTo[i] >= 0) j = firstLiveFrom[skipTo[i] + 1] - 1;
      else if (r.skip > 0) {
        let k = r.skip;
        let x = i;
        while (k > 0 && x + 1 < list.length) {
          x++;
          if (list[x].marker === null) k--;
        }
        j = firstLiveFrom[x + 1] - 1;
      }
    }
  }

  private logMatch(r: Rule): void {
    this.currentRule = r;
    this.matched.push({
      id: r.id,
      msg: r.msg ? expandMacro(this, r.msg) : '',
      data: r.logdata ? expandMacro(this, r.logdata) : '',
      severity: r.severity,
    });
    this.currentRule = null;
  }

  /** The transaction's removals when a ctl has removed a target (per-request target lists and
   * class unions do not apply then); null while the targets are intact. */
  private targetRemovals(): RuleRemovals | null {
    return this.removals?.removesTargets ? this.removals : null;
  }

  /** Evaluates one rule (and its chain). Returns true when the whole chain matched. */
  private evalRule(r: Rule): boolean {
    this.currentRule = r;
    const removed = this.targetRemovals();
    if (r.targets.length === 0) {
      // SecAction-like: no variables
      if (!r.negated === r.op.match('', this, r.capture)) this.onMatch(r, null);
      else return false;
    } else if (r.singleVar !== SingleVar.NONE && removed === null) {
      // one named variable of a collection such as TX: no list to build
      const e = (r.singleVarColl === 'TX' ? this.vars.tx : this.vars.stores.get(r.singleVarColl))?.get(r.singleVarKey);
      if (r.singleVar === SingleVar.VALUE) {
        if (e === undefined || !this.test(r, e)) return false;
        this.onMatch(r, e);
      } else {
        const c = new Entry(r.singleVarColl, r.singleVarKey, e === undefined ? '0' : '1', r.singleVarKey);
        if (!this.test(r, c)) return false;
        this.onMatch(r, c);
      }
    } else {
      const need = r.op.need;
      if (r.unionSlot !== 0 && need !== 0 && !r.negated && removed === null) {
        // no value of these targets can have a class the operator needs: the rule cannot match
        let u = this.valueCache.classUnions[r.unionSlot];
        if (u === 0) u = this.unionOf(r, this.targets.resolve(r, null));
        if ((u & need) === 0) return false;
      }
      const list = this.targets.resolve(r, removed);
      let any = false;
      for (let k = 0; k < list.length; k++) {
        const e = list[k];
        if (this.test(r, e)) {
          any = true;
          this.onMatch(r, e);
        }
      }
      if (!any) return false;
    }
    if (r.chain) {
      const ok = this.evalRule(r.chain);
      this.currentRule = r;
      return ok;
    }
    return true;
  }

  /** Does `r`'s operator match `e`'s value after `r`'s single transformation chain? (negation
   * not applied) Verdicts are kept per value for pure operators; the class bound on the
   * transformed value and the literal factors rule out most values before the operator runs. */
  private matchValue(r: Rule, e: Entry): boolean {
    if (e.generation !== this.generation) this.giveRow(e);
    const vc = this.valueCache;
    const vi = e.verdictRow + r.verdictColumn;
    // (a verdict is only ever kept for a pure operator; a match only when it captures nothing)
    const known = vc.verdicts[vi];
    if (known === 1) return false;
    if (known === 2) return true;
    const op = r.op;
    const chain = r.transformChain;
    const cell = e.row + chain;
    let hit = true;
    let v: string | undefined;
    if (chain === 0) v = e.value;
    else {
      v = vc.values[cell];
      if (v === undefined) v = this.chainValue(e, chain);
      if (op.need !== 0) {
        // the transformed value's own classes, when the bound was not enough
        let m = vc.classes[cell];
        if (m === 0) m = this.exactClasses(e, chain, v);
        if ((m & op.need) === 0) hit = false;
      }
    }
    // none of the operator's literal factors can be in the value
    if (hit && op.grams !== null && vc.pairFilterMisses(cell, v, op.grams)) hit = false;
    if (hit) hit = op.match(v, this, r.capture);
    if (op.pure) {
      if (!hit) vc.verdicts[vi] = 1;
      else if (!r.capture) vc.verdicts[vi] = 2;
    }
    return hit;
  }

  /** Does `r` (its operator, negation applied) match value `e`? */
  private test(r: Rule, e: Entry): boolean {
    if (r.multiMatch) return this.testSteps(r, e);
    const need = r.op.need;
    // a value without a class the operator needs is not even looked up in the cache
    const hit = (need === 0 || ((e.classBounds === NO_BOUNDS ? this.boundsOf(e) : e.classBounds)[r.transformChain] & need) !== 0) && this.matchValue(r, e);
    return hit !== r.negated;
  }

  /** `test` for a multiMatch rule */
  private testSteps(r: Rule, e: Entry): boolean {
    if (e.generation !== this.generation) this.giveRow(e);
    if (r.negated) return this.negatedMulti(r, e);
    const vc = this.valueCache;
    const vi = e.verdictRow + r.verdictColumn;
    if (vc.verdicts[vi] === 1) return false;
    const hit = this.anyStepMatches(r, e);
    if (!hit && r.op.pure) vc.verdicts[vi] = 1;
    return hit;
  }

  /** multiMatch: the operator sees the value before and after each transformation that changed
   * it; true when it matched one of them */
  private anyStepMatches(r: Rule, e: Entry): boolean {
    const op = r.op;
    if (op.need !== 0) {
      const bounds = this.boundsOf(e);
      let u = bounds[0];
      for (const id of r.transformPrefixes) u |= bounds[id];
      if ((u & op.need) === 0) return false;
    }
    let v = e.value;
    if (this.canMatch(op, e, 0, v) && op.match(v, this, r.capture)) return true;
    for (const id of r.transformPrefixes) {
      const nv = this.chainValue(e, id);
      if (nv !== v) {
        v = nv;
        if (this.canMatch(op, e, id, v) && op.match(v, this, r.capture)) return true;
      }
    }
    return false;
  }

  /** negated multiMatch: true when the operator fails on one of the steps */
  private negatedMulti(r: Rule, e: Entry): boolean {
    const op = r.op;
    let v = e.value;
    if (!(this.canMatch(op, e, 0, v) && op.match(v, this, r.capture))) return true;
    for (const id of r.transformPrefixes) {
      const nv = this.chainValue(e, id);
      if (nv !== v) {
        v = nv;
        if (!(this.canMatch(op, e, id, v) && op.match(v, this, r.capture))) return true;
      }
    }
    return false;
  }

  /** Classes the values of `r`'s targets can have after its transformations, kept for the
   * rules with the same `unionSlot`. */
  private unionOf(r: Rule, list: Entry[]): number {
    let u = KNOWN;
    for (let k = 0; k < list.length; k++) {
      const e = list[k];
      const bounds = e.classBounds === NO_BOUNDS ? this.boundsOf(e) : e.classBounds;
      if (r.multiMatch) {
        u |= bounds[0];
        for (const id of r.transformPrefixes) u |= bounds[id];
      } else u |= bounds[r.transformChain];
    }
    this.valueCache.classUnions[r.unionSlot] = u;
    return u;
  }

  /** The bounds on `e`'s classes after each chain (index 0: its raw classes). */
  private boundsOf(e: Entry): Int32Array {
    if (e.classBounds === NO_BOUNDS) {
      // from the value's row: a value seen before (most are) is not scanned again
      if (e.generation !== this.generation) this.giveRow(e);
      e.classBounds = this.valueCache.boundsOfRow(e);
    }
    return e.classBounds;
  }

  /** False when the prefilters rule out a match of `op` on `v`, the value of `e` after chain
   * `id` (`e` has its row). */
  private canMatch(op: Operator, e: Entry, id: number, v: string): boolean {
    if (op.need !== 0 && (this.exactClasses(e, id, v) & op.need) === 0) return false;
    return op.grams === null || !this.valueCache.pairFilterMisses(e.row + id, v, op.grams);
  }

  /** Classes of `v`, the value of `e` after chain `id` (`e` has its row). */
  private exactClasses(e: Entry, id: number, v: string): number {
    if (id === 0) return this.boundsOf(e)[0];
    const cell = e.row + id;
    let m = this.valueCache.classes[cell];
    if (m !== 0) return m;
    m = v === e.value ? this.boundsOf(e)[0] : classMask(v) | KNOWN;
    this.valueCache.classes[cell] = m;
    return m;
  }

  /** Gives `e` its row of the transformation cache for this transaction. */
  private giveRow(e: Entry): void {
    this.valueCache.place(e, this.generation);
  }

  /** Value of `e` after transformation chain `id`, computed once per entry (prefixes shared). */
  private chainValue(e: Entry, id: number): string {
    if (e.generation !== this.generation) this.giveRow(e);
    const cell = e.row + id;
    const hit = this.valueCache.values[cell];
    if (hit !== undefined) return hit;
    const parent = this.chainParent[id];
    const input = parent === 0 ? e.value : this.chainValue(e, parent);
    let v: string;
    if (input === e.value) {
      // the steps before left the value as it was: share the function's result with other chains
      const raw = e.row + this.valueCache.rawColumn[id];
      const hit = this.valueCache.values[raw];
      if (hit !== undefined) v = hit;
      else {
        v = (this.chainFn[id] as (s: string) => string)(input);
        this.valueCache.values[raw] = v;
      }
    } else v = (this.chainFn[id] as (s: string) => string)(input);
    this.valueCache.values[cell] = v;
    return v;
  }

  private onMatch(r: Rule, e: Entry | null): void {
    if (e) {
      this.vars.matchedVar = e;
      this.vars.matchedVars.push(e);
    }
    if (r.capture) storeCaptures(this, this.caps);
    for (const c of r.ctls) runCtl(this, c.what, this.expand(c.value));
    for (const ic of r.initcols) initCol(this, ic);
    for (const sv of r.setvars) setVar(this, sv);
    for (const t of r.timers) runTimer(this, t);
  }
}
