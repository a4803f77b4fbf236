/**
 * The start-up plan: the compiled rules sorted into their phases, with what can be decided
 * before any request taken out. Built once by `buildPlan` and frozen; transactions only read it
 * (the state they share across requests, the value cache and the lent initial TX, lives in
 * `Reusables`, not here).
 *
 * Decided at start-up:
 * - the phase-1 rules whose outcome cannot depend on the request (the CRS initialisation:
 *   `&TX:x "@eq 0"` defaults, SecActions setting scores, paranoia skips): run once, their TX
 *   becomes `initialTx`;
 * - in every phase, rules that write nothing and read only TX variables no per-request rule
 *   writes (the paranoia-level checks guarding each file), and the rules their skips jump over.
 * Both are dropped from the phase lists, so requests do not walk past them.
 */
import type { Entry } from './collections.js';
import { effects, NO_PREFIXES, Taint, VERDICT_KEYS } from './effects.js';
import { FIRST_PHASE, LAST_PHASE, Phase } from './phase.js';
import type { CompiledRules, EngineSettings, Rule, TransformChains } from './rule.js';
import { Transaction } from './transaction.js';

export interface PhasePlan {
  /** rules and markers, in order */
  readonly rules: readonly Rule[];
  /** per index: where the rule's skipAfter continues (the marker's index, or the last index when
   * the marker is not in this phase); -1 for a rule without skipAfter */
  readonly skipTo: readonly number[];
  /** per index: 1 when the rule was decided at start-up and must not run. Only a phase with a
   * `skip:n` rule keeps decided rules in its list (n counts rules); null elsewhere. */
  readonly decided: readonly number[] | null;
}

export interface Plan {
  /** by `Phase` (index 0 unused) */
  readonly phases: readonly PhasePlan[];
  readonly settings: Readonly<EngineSettings>;
  readonly chains: TransformChains;
  /** how many `Rule.unionSlot` ids there are */
  readonly unionSlots: number;
  /** how many `Rule.verdictColumn` ids there are */
  readonly verdictColumns: number;
  /** TX after the request-independent phase-1 rules; null when there are none */
  readonly initialTx: ReadonlyMap<string, Entry> | null;
}

const NO_PHASE: PhasePlan = Object.freeze({ rules: Object.freeze([]), skipTo: Object.freeze([]), decided: null });

export function buildPlan(c: CompiledRules): Plan {
  const lists: Rule[][] = [[], [], [], [], [], []];
  for (const r of c.rules) {
    // markers are in every phase
    if (r.marker !== null) for (let p = FIRST_PHASE; p <= LAST_PHASE; p++) lists[p].push(r);
    else if (r.phase >= FIRST_PHASE && r.phase <= LAST_PHASE) lists[r.phase].push(r);
  }
  const base = { settings: c.settings, chains: c.chains, unionSlots: c.unionSlots, verdictColumns: c.verdictColumns };
  let initialTx: Map<string, Entry> | null = null;
  let decided: (Uint8Array | null)[] = [null, null, null, null, null, null];
  if (c.settings.ruleEngine !== 'off') {
    // a transaction of its own (no reusables) tries rules on a request that carries nothing
    const t = new Transaction({ ...base, phases: [], initialTx: null }, null, { method: 'GET', uri: '/', protocol: 'HTTP/1.1', headers: [] }, null, []);
    decided = [null];
    for (let p = FIRST_PHASE; p <= LAST_PHASE; p++) decided.push(new Uint8Array(lists[p].length));
    initialTx = decideInitialTx(lists[Phase.REQUEST_HEADERS], decided[Phase.REQUEST_HEADERS] as Uint8Array, t);
    foldConstantRules(lists, decided as Uint8Array[], initialTx ?? new Map(), t);
  }
  const phases: PhasePlan[] = [NO_PHASE];
  for (let p = FIRST_PHASE; p <= LAST_PHASE; p++) phases.push(phasePlan(lists[p], decided[p]));
  for (const r of c.rules) freezeRule(r);
  return Object.freeze({ ...base, settings: Object.freeze({ ...c.settings }), chains: Object.freeze(c.chains), phases: Object.freeze(phases), initialTx });
}

/** Where each skipAfter in `list` continues. */
function skipTargets(list: readonly Rule[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < list.length; i++) {
    const r = list[i];
    let to = -1;
    if (r.marker === null && r.skipAfter !== null) {
      to = list.length - 1;
      for (let j = i + 1; j < list.length; j++) {
        if (list[j].marker === r.skipAfter) {
          to = j;
          break;
        }
      }
    }
    out.push(to);
  }
  return out;
}

/** The phase's list without its decided rules (markers stay). A phase with a `skip:n` rule keeps
 * its list, since n counts rules. */
function phasePlan(list: Rule[], decided: Uint8Array | null): PhasePlan {
  if (decided === null) return Object.freeze({ rules: Object.freeze(list), skipTo: Object.freeze(skipTargets(list)), decided: null });
  let counted = false;
  for (let i = 0; i < list.length; i++) if (list[i].marker === null && decided[i] !== 1 && list[i].skip > 0) counted = true;
  if (counted) return Object.freeze({ rules: Object.freeze(list), skipTo: Object.freeze(skipTargets(list)), decided: Object.freeze([...decided]) });
  const kept: Rule[] = [];
  for (let i = 0; i < list.length; i++) if (list[i].marker !== null || decided[i] !== 1) kept.push(list[i]);
  return Object.freeze({ rules: Object.freeze(kept), skipTo: Object.freeze(skipTargets(kept)), decided: null });
}

function freezeRule(r: Rule): void {
  for (let l: Rule | null = r; l !== null; l = l.chain) Object.freeze(l);
}

/**
 * A rule decided at start-up matched and skips ahead (skipAfter, or skip:N counting rules, not
 * markers): mark what it jumps over as decided too. Returns the index to continue after.
 */
function skipOver(list: Rule[], skipTo: number[], decided: Uint8Array, i: number, r: Rule): number {
  if (skipTo[i] >= 0) {
    for (let k = i + 1; k <= skipTo[i]; k++) decided[k] = 1;
    return skipTo[i];
  }
  let k = r.skip;
  while (k > 0 && i + 1 < list.length) {
    i++;
    decided[i] = 1;
    if ((list[i] as Rule).marker === null) k--;
  }
  return i;
}

/**
 * Runs, once, the phase-1 rules whose outcome cannot depend on the request and returns the TX
 * collection they leave (null when none qualifies); those rules are marked decided. A rule
 * qualifies when it reads and writes only named TX variables that no earlier per-request rule
 * writes, and later per-request rules have not read what it writes; the walk stops at the first
 * per-request rule that could change the control flow (skips, disruptive actions, ctl other than
 * body-processor settings, reads of every TX variable).
 */
function decideInitialTx(list: Rule[], decided: Uint8Array, t: Transaction): Map<string, Entry> | null {
  const skipTo = skipTargets(list);
  let tx = new Map<string, Entry>();
  // written by per-request rules so far / read by them (a later precomputed write would race)
  const tainted = new Taint();
  const readRt = new Taint();
  let any = false;
  for (let i = 0; i < list.length; i++) {
    const r = list[i];
    if (r.marker !== null) continue;
    const ef = effects(r);
    if (ef.stop) break;
    if (
      ef.pure &&
      ef.reads !== null &&
      ef.writes !== null &&
      ef.writePrefixes.length === 0 &&
      tainted.clear(ef.reads, NO_PREFIXES) &&
      tainted.clear(ef.writes, NO_PREFIXES) &&
      readRt.clear(ef.writes, NO_PREFIXES)
    ) {
      const trial = new Map(tx);
      const hit = t.tryAtStartup(r, trial);
      const disrupts = r.disruptive !== 'pass' && r.disruptive !== null;
      if (!t.engineOff && !(hit && (r.log || disrupts))) {
        tx = trial;
        decided[i] = 1;
        any = true;
        if (hit) i = skipOver(list, skipTo, decided, i, r);
        continue;
      }
    }
    // this rule runs per request: later precomputed rules must not depend on or race with it
    if (ef.reads === null || ef.writes === null || r.skipAfter !== null || r.skip > 0 || (r.disruptive !== 'pass' && r.disruptive !== null)) break;
    for (const k of ef.reads) readRt.names.add(k);
    tainted.add(ef);
    // when it turns the engine off, later rules do not run: they must leave the scores alone
    if (ef.engineOff) for (const k of VERDICT_KEYS) readRt.names.add(k);
  }
  return any ? tx : null;
}

/**
 * In every phase, a rule that writes nothing and reads only TX variables no per-request rule
 * writes (the paranoia-level checks guarding each file) has the same outcome for every request:
 * it is decided here, and when it skips, the rules it skips are marked too.
 */
function foldConstantRules(lists: Rule[][], decided: Uint8Array[], init: Map<string, Entry>, t: Transaction): void {
  const tainted = new Taint();
  for (let p = FIRST_PHASE; p <= LAST_PHASE; p++) {
    const list = lists[p];
    const skipTo = skipTargets(list);
    const skip = decided[p];
    for (let i = 0; i < list.length; i++) {
      const r = list[i];
      if (r.marker !== null || skip[i] === 1) continue;
      const ef = effects(r);
      if (ef.stop || ef.writes === null) return;
      if (p >= Phase.REQUEST_BODY && ef.pure && ef.reads !== null && ef.writes.size === 0 && ef.writePrefixes.length === 0 && tainted.clear(ef.reads, NO_PREFIXES)) {
        const hit = t.tryAtStartup(r, new Map(init));
        if (!t.engineOff && !(hit && (r.log || (r.disruptive !== 'pass' && r.disruptive !== null)))) {
          skip[i] = 1;
          if (hit) i = skipOver(list, skipTo, skip, i, r);
          continue;
        }
      }
      tainted.add(ef);
    }
  }
}
