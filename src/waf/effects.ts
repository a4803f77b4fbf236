/**
 * What a rule reads and writes, as far as the start-up analysis (plan.ts) needs to know: which TX
 * variables, whether it touches anything else, and whether it can change what later rules see
 * in ways not tracked (ctl, MATCHED_VAR reads without targets).
 */
import { parseMacro } from './macro.js';
import type { Macro, Rule } from './rule.js';

/** What a rule (with its chain links) reads and writes. */
export interface Effects {
  /** reads and writes only named TX variables (and is not a capture or ctl rule) */
  pure: boolean;
  /** TX variables read or written; null = any */
  reads: Set<string> | null;
  writes: Set<string> | null;
  /** beginnings of TX variable names written with a macro in the name (`tx.header_name_%{tx.0}`) */
  writePrefixes: string[];
  /** the rule could change what later rules see in ways not tracked here */
  stop: boolean;
  /** the rule can turn the rule engine off */
  engineOff: boolean;
}

export const NO_PREFIXES: string[] = [];

/** TX variables the verdict reads after the rule engine has been turned off */
export const VERDICT_KEYS = ['anomaly_score', 'inbound_anomaly_score', 'outbound_anomaly_score'];

const BENIGN_CTL = new Set(['requestbodyprocessor', 'forcerequestbodyvariable', 'auditengine', 'auditlogparts']);

export function effects(r: Rule): Effects {
  const ef: Effects = { pure: true, reads: new Set(), writes: new Set(), writePrefixes: [], stop: false, engineOff: false };
  // msg and logdata are expanded only when a match is logged, which a precomputed rule never is
  const read = (m: Macro | null, noTargets: boolean, logOnly = false): void => {
    if (m === null) return;
    for (const part of m) {
      if (typeof part === 'string') continue;
      if (part.coll === 'TX') {
        if (part.key === null) ef.reads = null;
        else ef.reads?.add(part.key);
      } else if (!logOnly) {
        ef.pure = false;
        if (noTargets && part.coll.startsWith('MATCHED_VAR')) ef.stop = true;
      }
    }
  };
  for (let l: Rule | null = r; l !== null; l = l.chain) {
    const noTargets = l.targets.length === 0;
    for (const t of l.targets) {
      if (t.coll === 'TX') {
        if (t.selector !== null && t.selector.kind === 'name') ef.reads?.add(t.selector.name);
        else ef.reads = null;
      } else {
        ef.pure = false;
        if (l === r && t.coll.startsWith('MATCHED_VAR')) ef.stop = true;
      }
    }
    if (l.op.param.includes('%{')) read(parseMacro(l.op.param), noTargets);
    for (const sv of l.setvars) {
      if (sv.coll !== 'TX') ef.pure = false;
      read(sv.name, noTargets);
      read(sv.value, noTargets);
      if (sv.coll === 'TX') {
        if (sv.staticKey !== null) ef.writes?.add(sv.staticKey);
        else if (typeof sv.name[0] === 'string' && sv.name[0] !== '') ef.writePrefixes.push(sv.name[0].toLowerCase());
        else ef.writes = null;
      }
    }
    // persistent records come from outside the request: never decided at start-up
    for (const ic of l.initcols) {
      ef.pure = false;
      read(ic.key, noTargets);
    }
    for (const t of l.timers) {
      ef.pure = false;
      read(t.name, noTargets);
      read(t.amount, noTargets);
      read(t.seconds, noTargets);
    }
    for (const c of l.ctls) {
      ef.pure = false;
      if (c.what === 'ruleengine' && !c.value.includes('%{')) {
        // once the engine is off no rule runs: only the verdict's scores are still observed
        if (c.value.toLowerCase() === 'off') ef.engineOff = true;
      } else if (!BENIGN_CTL.has(c.what)) ef.stop = true;
      if (c.value.includes('%{')) read(parseMacro(c.value), noTargets);
    }
    if (l.capture) {
      ef.pure = false;
      for (let k = 0; k < 10; k++) ef.writes?.add(String(k));
    }
    read(l.msg, false, true);
    read(l.logdata, false, true);
  }
  return ef;
}

/** TX variable names written by per-request rules: exact names and name beginnings */
export class Taint {
  readonly names = new Set<string>();
  readonly prefixes: string[] = [];
  add(ef: Effects): void {
    for (const k of ef.writes ?? []) this.names.add(k);
    for (const k of ef.writePrefixes) this.prefixes.push(k);
  }
  /** none of `keys` (nor any name a prefix in `prefixes` begins) is tainted */
  clear(keys: Set<string>, prefixes: string[]): boolean {
    for (const k of keys) {
      if (this.names.has(k)) return false;
      for (const p of this.prefixes) if (k.startsWith(p)) return false;
    }
    for (const p of prefixes) {
      for (const k of this.names) if (k.startsWith(p)) return false;
      for (const q of this.prefixes) if (q.startsWith(p) || p.startsWith(q)) return false;
    }
    return true;
  }
}
