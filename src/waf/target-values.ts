/**
 * The values a rule inspects: its targets' values after its exclusions and the ctl-removed
 * targets. Within a phase many rules share a target list (and many targets share a selection
 * from a collection), so the lists are kept per request, by `Rule.targetListId` and
 * `Rule.selectionIds`, until the body or the response adds values.
 */
import { type Collections, Entry, selects } from './collections.js';
import type { RuleRemovals } from './removals.js';
import type { Rule, Target } from './rule.js';

export class TargetValues {
  /** by `Rule.targetListId` */
  private byTargetList: (Entry[] | undefined)[] = [];
  /** values of one collection selection after exclusions, by `Rule.selectionIds` id */
  private bySelection: (Entry[] | undefined)[] = [];

  constructor(private readonly vars: Collections) {}

  /** The body or the response adds values: the lists go. */
  forget(): void {
    this.byTargetList = [];
    this.bySelection = [];
  }

  /** The values `r` inspects, from the per-request cache when the target list allows it.
   * `removals`: the transaction's, when a ctl removed rules or targets. */
  resolve(r: Rule, removals: RuleRemovals | null): Entry[] {
    // (kept small: it is inlined into the rule loop)
    if (removals === null || !removals.removesTargets) {
      const l = this.byTargetList[r.targetListId];
      if (l !== undefined) return l;
    }
    return this.resolveAnew(r, removals);
  }

  /** `resolve` when the per-request cache has no list for `r` (or cannot be used). */
  private resolveAnew(r: Rule, removals: RuleRemovals | null): Entry[] {
    if (removals?.removesTargets) {
      const l: Entry[] = [];
      this.targetsOf(r, removals.targetsRemovedFor(r), l);
      return l;
    }
    // one target (besides exclusions) whose selection is shared: its list is the selection
    // itself (lists are only read)
    const only = r.soleSelection;
    const l = only >= 0 ? this.selection(r, only, r.selectionIds[only]) : this.targetsOf(r, null, []);
    const id = r.targetListId;
    if (id !== 0) this.byTargetList[id] = l;
    return l;
  }

  /** The values of `rule`'s target `ti` (shared selection `sid`), after the rule's exclusions. */
  private selection(rule: Rule, ti: number, sid: number): Entry[] {
    let c = this.bySelection[sid];
    if (c === undefined) {
      c = [];
      this.vars.collect(rule.targets[ti], c);
      const excl = rule.exclusions;
      if (excl.length !== 0) {
        let w = 0;
        for (let i = 0; i < c.length; i++) if (!excluded(c[i], excl, null)) c[w++] = c[i];
        c.length = w;
      }
      this.bySelection[sid] = c;
    }
    return c;
  }

  private targetsOf(rule: Rule, removed: Target[] | null, out: Entry[]): Entry[] {
    const excl = rule.exclusions;
    const vars = this.vars;
    const selectionIds = removed === null ? rule.selectionIds : null;
    for (let ti = 0; ti < rule.targets.length; ti++) {
      const t = rule.targets[ti];
      if (t.exclude) continue;
      const sid = selectionIds !== null && ti < selectionIds.length ? selectionIds[ti] : 0;
      if (sid !== 0) {
        // the same selection (with the same exclusions) as an earlier rule's: shared
        const c = this.selection(rule, ti, sid);
        for (let i = 0; i < c.length; i++) out.push(c[i]);
        continue;
      }
      if (t.count) {
        const tmp: Entry[] = [];
        vars.collect(t, tmp);
        let n = 0;
        for (const e of tmp) if (!excluded(e, excl, removed)) n++;
        out.push(new Entry(t.coll, t.selector && t.selector.kind === 'name' ? t.selector.name : '', String(n)));
        continue;
      }
      if (excl.length === 0 && removed === null) vars.collect(t, out);
      else {
        const st = out.length;
        vars.collect(t, out);
        let w = st;
        for (let i = st; i < out.length; i++) if (!excluded(out[i], excl, removed)) out[w++] = out[i];
        if (w !== out.length) out.length = w;
      }
    }
    return out;
  }
}

function excluded(e: Entry, excl: Target[], removed: Target[] | null): boolean {
  for (const x of excl) if (x.coll === e.coll && selects(x, e)) return true;
  if (removed) for (const x of removed) if (x.coll === e.coll && selects(x, e)) return true;
  return false;
}
