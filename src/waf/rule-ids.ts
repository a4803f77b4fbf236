/**
 * Numbers compiled rules for the engine's caches, once all directives are read (SecRuleUpdate*
 * may still change targets until then): target lists and collection selections shared between
 * rules, transformation chain prefixes, verdict columns and class-union slots; and builds the
 * table of transformation chains those ids index.
 */
import { transferOf } from './prefilter.js';
import { type Rule, SingleVar, type Target, type TransformChains } from './rule.js';
import { TRANSFORMS, type Transform } from './transforms.js';

/** collections only request parsing, body processing and the response change (never a rule), so
 * their selected values can be shared between rules within a phase */
const CACHED_COLLS = new Set([
  'ARGS',
  'ARGS_GET',
  'ARGS_POST',
  'ARGS_NAMES',
  'ARGS_GET_NAMES',
  'ARGS_POST_NAMES',
  'REQUEST_HEADERS',
  'REQUEST_HEADERS_NAMES',
  'REQUEST_COOKIES',
  'REQUEST_COOKIES_NAMES',
  'FILES',
  'FILES_NAMES',
  'FILES_SIZES',
  'MULTIPART_PART_HEADERS',
  'RESPONSE_HEADERS',
  'RESPONSE_HEADERS_NAMES',
  'XML',
]);

/** collections rules write or that change while a request is evaluated: their values are never cached */
const VOLATILE_COLL = /^(TX|IP|SESSION|GLOBAL|RESOURCE|USER|ENV|GEO|MATCHED_VARS?|MATCHED_VARS?_NAMES?|MATCHED_VAR_NAME|TIME.*|DURATION)$/;

/** store collections a rule can read one named variable of directly */
const SINGLE_VAR_COLL = /^(TX|IP|SESSION|GLOBAL|RESOURCE|USER|GEO)$/;

export interface RuleNumbering {
  chains: TransformChains;
  unionSlots: number;
  verdictColumns: number;
}

function targetKey(t: Target): string {
  const sel = t.selector;
  return `${t.exclude ? '!' : ''}${t.count ? '&' : ''}${t.coll}:${sel === null ? '' : sel.kind === 'name' ? sel.name : `/${sel.re.source}/`}`;
}

/** `rules`: starters and markers; `chainIds`: the transformation chain ids `applyActions` gave. */
export function numberRules(rules: Rule[], chainIds: Map<string, number>): RuleNumbering {
  const targetListIds = new Map<string, number>();
  const selectionIds = new Map<string, number>();
  const numberTargets = (r: Rule): void => {
    r.exclusions = r.targets.filter((t) => t.exclude);
    const volatile = r.targets.some((t) => VOLATILE_COLL.test(t.coll));
    r.targetsKey = volatile ? '' : r.targets.map(targetKey).join('|');
    if (r.targetsKey !== '') {
      let id = targetListIds.get(r.targetsKey);
      if (id === undefined) {
        id = targetListIds.size + 1;
        targetListIds.set(r.targetsKey, id);
      }
      r.targetListId = id;
      r.selectionIds = r.targets.map((t) => {
        if (t.exclude || t.count || !CACHED_COLLS.has(t.coll)) return 0;
        const ex = r.targets
          .filter((x) => x.exclude && x.coll === t.coll)
          .map(targetKey)
          .sort()
          .join('|');
        const key = `${targetKey(t)}#${ex}`;
        let sid = selectionIds.get(key);
        if (sid === undefined) {
          sid = selectionIds.size + 1;
          selectionIds.set(key, sid);
        }
        return sid;
      });
      const positive = r.targets.flatMap((t, i) => (t.exclude ? [] : [i]));
      r.soleSelection = positive.length === 1 && r.selectionIds[positive[0]] !== 0 ? positive[0] : -1;
    }
    const t = r.targets[0];
    if (r.targets.length === 1 && !t.exclude && t.selector?.kind === 'name' && SINGLE_VAR_COLL.test(t.coll)) {
      r.singleVar = t.count ? SingleVar.COUNT : SingleVar.VALUE;
      r.singleVarColl = t.coll;
      r.singleVarKey = t.selector.name;
    }
    if (r.chain) numberTargets(r.chain);
  };
  for (const r of rules) numberTargets(r);
  // every prefix of a chain gets an id too, so chains sharing a prefix share its work
  for (const key of [...chainIds.keys()]) {
    const parts = key.split(',');
    for (let k = 1; k < parts.length; k++) {
      const pre = parts.slice(0, k).join(',');
      if (!chainIds.has(pre)) chainIds.set(pre, chainIds.size + 1);
    }
  }
  const unionSlots = new Map<string, number>();
  let verdictColumns = 0;
  const numberValues = (r: Rule): void => {
    r.verdictColumn = verdictColumns++;
    r.transformPrefixes = r.transformNames.map((_, k) => chainIds.get(r.transformNames.slice(0, k + 1).join(',')) as number);
    if (r.targetListId !== 0) {
      const key = `${r.targetListId}/${r.multiMatch ? `m${r.transformPrefixes.join(',')}` : r.transformChain}`;
      let id = unionSlots.get(key);
      if (id === undefined) {
        id = unionSlots.size + 1;
        unionSlots.set(key, id);
      }
      r.unionSlot = id;
    }
    if (r.chain) numberValues(r.chain);
  };
  for (const r of rules) numberValues(r);
  const chains: TransformChains = { parent: [0], fn: [null], classesAfter: [(m) => m] };
  for (const [key, id] of chainIds) {
    const cut = key.lastIndexOf(',');
    chains.parent[id] = cut < 0 ? 0 : (chainIds.get(key.slice(0, cut)) as number);
    chains.fn[id] = TRANSFORMS[key.slice(cut + 1)] as Transform;
    chains.classesAfter[id] = transferOf(key.slice(cut + 1));
  }
  return { chains, unionSlots: unionSlots.size, verdictColumns };
}
