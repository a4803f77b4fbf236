/**
 * What a matched rule does besides its verdict: `setvar`, `ctl`, `capture` into TX:0..9, and the
 * macro expansion (`%{...}`) those and the messages use.
 */
import { type Collections, Entry } from './collections.js';
import type { InitialTx } from './initial-tx.js';
import { parseMacro } from './macro.js';
import { addTo, type OpenRecord } from './persistent.js';
import { RuleRemovals } from './removals.js';
import type { InitCol, Macro, Rule, SetVar, VarTimer } from './rule.js';

/** The transaction state actions read and change. */
export interface ActionContext {
  readonly vars: Collections;
  /** the shared initial TX while this transaction uses it in place (changes must be remembered) */
  readonly initialTx: InitialTx | null;
  /** the rule being evaluated (for %{RULE.*}) */
  currentRule: Rule | null;
  engineOff: boolean;
  detectOnly: boolean;
  bodyProcessor: string | null;
  forceBodyVar: boolean;
  removals: RuleRemovals | null;
  /** persistent records this transaction opened (initcol), by collection; null until the first */
  opened: Map<string, OpenRecord> | null;
  /** `initcol`: make `coll` the record `key` as the store has it */
  openRecord(coll: string, key: string): void;
  /** the engine's clock, ms */
  now(): number;
}

/** operator parameters with macros, split once (they come from the rules, so the set is bounded) */
const macroCache = new Map<string, Macro>();

const CAPTURE_KEYS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** First value of a variable reference, as used by %{...}. */
function lookup(ctx: ActionContext, coll: string, key: string | null): string {
  if (coll === 'RULE') {
    const r = ctx.currentRule;
    if (!r) return '';
    if (key === 'id') return String(r.id);
    if (key === 'msg') return r.msg ? expandMacro(ctx, r.msg) : '';
    if (key === 'severity') return r.severity ?? '';
    if (key === 'logdata') return r.logdata ? expandMacro(ctx, r.logdata) : '';
    return '';
  }
  return ctx.vars.first(coll, key);
}

export function expandMacro(ctx: ActionContext, m: Macro): string {
  if (m.length === 1 && typeof m[0] === 'string') return m[0];
  let s = '';
  for (const part of m) s += typeof part === 'string' ? part : lookup(ctx, part.coll, part.key);
  return s;
}

/** Expands the macros of text from a rule (an operator parameter, a ctl value). */
export function expandText(ctx: ActionContext, param: string): string {
  let m = macroCache.get(param);
  if (m === undefined) {
    m = parseMacro(param);
    if (macroCache.size < 10000) macroCache.set(param, m);
  }
  return expandMacro(ctx, m);
}

export function setVar(ctx: ActionContext, sv: SetVar): void {
  const coll = sv.coll;
  const isTx = coll === 'TX';
  const store = isTx ? ctx.vars.tx : ctx.vars.store(coll);
  const name = sv.staticName ?? expandMacro(ctx, sv.name);
  const key = sv.staticKey ?? name.toLowerCase();
  const lent = ctx.initialTx;
  if (lent !== null && store === lent.map) {
    lent.remember(key);
    if (sv.op === 'del') lent.deleting(key);
  }
  // a persistent record notes the change for the store (relative changes stay relative); TX is none
  const rec = ctx.opened === null || isTx ? undefined : ctx.opened.get(coll);
  if (sv.op === 'del') {
    store.delete(key);
    rec?.ops.push({ op: 'del', name: key });
    return;
  }
  const val = expandMacro(ctx, sv.value);
  if (sv.op === '=') {
    store.set(key, new Entry(coll, name, val, key));
    if (rec !== undefined) {
      rec.ops.push({ op: 'set', name: key, value: val });
      if (key === 'timeout') rec.timeout = Number.parseInt(val, 10) || rec.timeout;
    }
    return;
  }
  const n = Number.parseInt(val, 10) || 0;
  const delta = sv.op === '+' ? n : -n;
  store.set(key, new Entry(coll, name, addTo(store.get(key)?.value, delta), key));
  rec?.ops.push({ op: 'add', name: key, delta });
}

/** `initcol` / `setsid` / `setuid`: the record's key is expanded now; an empty key opens nothing
 * (a `setsid:%{REQUEST_COOKIES.x}` without the cookie), as in ModSecurity. */
export function initCol(ctx: ActionContext, ic: InitCol): void {
  const key = expandMacro(ctx, ic.key);
  if (key === '') return;
  ctx.openRecord(ic.coll, key);
}

/** `expirevar` / `deprecatevar` on a variable of an opened persistent record (else nothing). */
export function runTimer(ctx: ActionContext, t: VarTimer): void {
  const rec = ctx.opened === null ? undefined : ctx.opened.get(t.coll);
  if (rec === undefined) return;
  const key = expandMacro(ctx, t.name).toLowerCase();
  const seconds = Number.parseInt(expandMacro(ctx, t.seconds), 10);
  if (!(seconds > 0)) return;
  const store = ctx.vars.store(t.coll);
  const cur = store.get(key);
  if (cur === undefined) return;
  if (t.kind === 'expire') {
    rec.ops.push({ op: 'expire', name: key, seconds });
    return;
  }
  // deprecatevar: `amount` less per `seconds` elapsed since the record was last written, never below 0
  const amount = Number.parseInt(expandMacro(ctx, t.amount), 10) || 0;
  const steps = Math.floor((ctx.now() - rec.lastUpdate) / (seconds * 1000));
  const value = Number.parseInt(cur.value, 10) || 0;
  if (steps <= 0 || amount <= 0 || value <= 0) return;
  const next = String(Math.max(0, value - steps * amount));
  store.set(key, new Entry(t.coll, cur.name, next, key));
  rec.ops.push({ op: 'set', name: key, value: next });
}

/** `capture`: the operator's capture slots become TX:0..9 */
export function storeCaptures(ctx: ActionContext, caps: (string | undefined)[]): void {
  const tx = ctx.vars.store('TX');
  const lent = ctx.initialTx;
  for (let k = 0; k < 10; k++) {
    const v = caps[k];
    if (v === undefined) continue;
    const key = CAPTURE_KEYS[k];
    const cur = tx.get(key);
    if (cur === undefined || cur.value !== v) {
      if (lent !== null && tx === lent.map) lent.remember(key);
      tx.set(key, new Entry('TX', key, v, key));
    }
  }
}

/** `ctl:what=value` (value already expanded); unknown ctls are ignored, as ModSecurity does. */
export function runCtl(ctx: ActionContext, what: string, value: string): void {
  switch (what) {
    case 'ruleengine': {
      const v = value.toLowerCase();
      if (v === 'off') ctx.engineOff = true;
      else if (v === 'detectiononly') ctx.detectOnly = true;
      else if (v === 'on') ctx.detectOnly = false;
      break;
    }
    case 'requestbodyprocessor':
      ctx.bodyProcessor = value.toUpperCase();
      ctx.vars.setScalar('REQBODY_PROCESSOR', ctx.bodyProcessor);
      break;
    case 'forcerequestbodyvariable':
      ctx.forceBodyVar = value.toLowerCase() === 'on';
      break;
    case 'ruleremovebyid':
      removals(ctx).removeById(value);
      break;
    case 'ruleremovebytag':
      removals(ctx).removeByTag(value);
      break;
    case 'ruleremovetargetbyid':
    case 'ruleremovetargetbytag':
      removals(ctx).removeTarget(value, what === 'ruleremovetargetbyid');
      break;
    default:
      break;
  }
}

function removals(ctx: ActionContext): RuleRemovals {
  ctx.removals ??= new RuleRemovals();
  return ctx.removals;
}
