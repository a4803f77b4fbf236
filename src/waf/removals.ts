/**
 * Rules and targets one transaction has removed with `ctl:ruleRemoveById`, `ruleRemoveByTag`,
 * `ruleRemoveTargetById` and `ruleRemoveTargetByTag` (CRS exclusion packages use them). Made on
 * the first such ctl, so a transaction without one allocates nothing for it.
 */
import { sourceOf } from './collections.js';
import type { Rule, Target } from './rule.js';

interface RemovedTarget {
  id?: (id: number) => boolean;
  tag?: RegExp;
  coll: string;
  /** lower-case variable name; null = the whole collection */
  name: string | null;
}

const REGEX_SPECIALS = /[.*+?^${}()|[\]\\]/g;

export class RuleRemovals {
  private readonly ids: ((id: number) => boolean)[] = [];
  private readonly tags: RegExp[] = [];
  private readonly targets: RemovedTarget[] = [];

  /** a target was removed for some rules: per-request target caches do not apply (a field, not
   * a getter: the rule loop reads it for every rule) */
  removesTargets = false;

  removeById(value: string): void {
    this.ids.push(idMatch(value));
  }

  removeByTag(value: string): void {
    this.tags.push(new RegExp(value.replace(REGEX_SPECIALS, '\\$&'), 'i'));
  }

  /** `value`: `WHO;COLL[:name]` where WHO is an id list (`byId`) or a tag */
  removeTarget(value: string, byId: boolean): void {
    const semi = value.indexOf(';');
    if (semi < 0) return;
    const who = value.slice(0, semi);
    const tgt = value.slice(semi + 1);
    const colon = tgt.indexOf(':');
    const coll = (colon < 0 ? tgt : tgt.slice(0, colon)).toUpperCase();
    const name = colon < 0 ? null : tgt.slice(colon + 1).toLowerCase();
    if (byId) this.targets.push({ id: idMatch(who), coll, name });
    else this.targets.push({ tag: new RegExp(`^${who.replace(REGEX_SPECIALS, '\\$&')}$`, 'i'), coll, name });
    this.removesTargets = true;
  }

  /** Is rule `r` removed for the rest of the transaction? */
  removes(r: Rule): boolean {
    for (const f of this.ids) if (f(r.id)) return true;
    if (this.tags.length) for (const re of this.tags) if (r.tags.some((t) => re.test(t))) return true;
    return false;
  }

  /** The targets removed for `rule`, as exclusions; null when none. */
  targetsRemovedFor(rule: Rule): Target[] | null {
    let out: Target[] | null = null;
    for (const rt of this.targets) {
      if (rt.id ? rt.id(rule.id) : rt.tag ? rule.tags.some((t) => (rt.tag as RegExp).test(t)) : false) {
        out ??= [];
        out.push({ coll: rt.coll, selector: rt.name === null ? null : { kind: 'name', name: rt.name }, count: false, exclude: true, source: sourceOf(rt.coll) });
      }
    }
    return out;
  }
}

/** `1 2,5-9`: ids and inclusive id ranges */
function idMatch(v: string): (id: number) => boolean {
  const ranges: [number, number][] = [];
  for (const a of v.split(/[\s,]+/)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(a);
    if (m) ranges.push([Number(m[1]), Number(m[2] ?? m[1])]);
  }
  return (id) => ranges.some(([a, b]) => id >= a && id <= b);
}
