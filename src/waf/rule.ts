/**
 * The compiled form of SecLang rules: targets, operator, transformation chain, actions (with
 * macros pre-split) and the small integer ids the engine indexes its caches with. Rule objects
 * are built and numbered by `compileRules` (rules.ts) and frozen by `buildPlan` (plan.ts); the
 * engine only reads them after that.
 */
import { makeOperator, type Operator } from './operators.js';
import { Phase } from './phase.js';
import type { Transform } from './transforms.js';

/** `prefix`: the regex is `^` and plain lower-case letters, digits or `_` (matched case-insensitively
 * against a lower-case name with startsWith) */
export type Selector = null | { kind: 'name'; name: string } | { kind: 'regex'; re: RegExp; prefix?: string; factors?: string[] };

export interface Target {
  /** upper-case variable/collection name */
  coll: string;
  selector: Selector;
  /** `&COLL`: the number of values, not the values */
  count: boolean;
  /** `!COLL:x`: values this rule leaves out */
  exclude: boolean;
  /** where `Collections.collect` finds the values (`sourceOf(coll)`, worked out once) */
  source: number;
}

/** A macro string split at compile time: literal parts and %{COLL.key} references. */
export type Macro = (string | { coll: string; key: string | null })[];

export interface SetVar {
  /** upper-case collection (TX, IP, ...) */
  coll: string;
  /** the variable name when it has no macro, and its lower-case key */
  staticName: string | null;
  staticKey: string | null;
  name: Macro;
  op: '=' | '+' | '-' | 'del';
  value: Macro;
}

/** `initcol:ip=%{remote_addr}` (and `setsid:`, `setuid:`): open a persistent record (persistent.ts). */
export interface InitCol {
  /** upper-case collection: IP, GLOBAL, SESSION, USER or RESOURCE */
  coll: string;
  key: Macro;
}

/** `expirevar:ip.x=60` (the variable expires `seconds` after the action) and
 * `deprecatevar:ip.x=10/60` (decreases by `amount` per `seconds` since the record's last write). */
export interface VarTimer {
  kind: 'expire' | 'deprecate';
  coll: string;
  name: Macro;
  amount: Macro;
  seconds: Macro;
}

export interface Ctl {
  /** lower-case ctl name */
  what: string;
  value: string;
}

export type Disruptive = 'pass' | 'deny' | 'drop' | 'allow' | 'block' | 'redirect' | null;

/** How a rule reads its one target, when it has just one named variable of a store collection. */
export const SingleVar = {
  /** a general target list: resolved and cached per request */
  NONE: 0,
  /** `TX:foo`: the one value, looked up directly */
  VALUE: 1,
  /** `&TX:foo`: whether it exists (0 or 1), looked up directly */
  COUNT: 2,
} as const;
export type SingleVar = (typeof SingleVar)[keyof typeof SingleVar];

export interface Rule {
  id: number;
  phase: number;
  file: string;
  line: number;
  /** SecMarker name; null for a rule */
  marker: string | null;
  targets: Target[];
  op: Operator;
  negated: boolean;
  transforms: Transform[];
  transformNames: string[];
  /** id of the transformation chain (0 = none) */
  transformChain: number;
  multiMatch: boolean;
  capture: boolean;
  setvars: SetVar[];
  /** persistent records opened when the rule matches (before its setvars run) */
  initcols: InitCol[];
  /** expirevar / deprecatevar, run after its setvars */
  timers: VarTimer[];
  ctls: Ctl[];
  msg: Macro | null;
  logdata: Macro | null;
  severity: string | null;
  tags: string[];
  disruptive: Disruptive;
  allowScope: 'all' | 'phase' | 'request';
  status: number;
  skipAfter: string | null;
  skip: number;
  log: boolean;
  chain: Rule | null;
  /** this rule is a link (not the starter) */
  chained: boolean;
  /** paranoia-level tag, 0 when none */
  paranoia: number;
  /** chain ids of each prefix of the transformation list (for multiMatch) */
  transformPrefixes: number[];
  singleVar: SingleVar;
  singleVarColl: string;
  singleVarKey: string;
  /** key of the target list, for the per-request cache of resolved targets ('' = not cacheable) */
  targetsKey: string;
  /** small integer naming `targetsKey` (0 = not cacheable), the index of the per-request cache */
  targetListId: number;
  /** per target: id of its values after this rule's exclusions, shared by every rule that selects
   * the same values from a collection (0 = not cached), the index of a per-request cache */
  selectionIds: number[];
  /** the index of the rule's one target besides exclusions when its selection is shared (its
   * values are then the selection itself), else -1 */
  soleSelection: number;
  /** the excluded (`!`) targets */
  exclusions: Target[];
  /** small integer naming this rule's target list (`targetListId`) with its transformation chain
   * (or, for multiMatch, every prefix of it), the index of the per-request union of the classes
   * of those values (0 = not cacheable) */
  unionSlot: number;
  /** small integer naming this rule object (starter or chain link), its column of verdicts */
  verdictColumn: number;
}

/** A rule while it is compiled: `chain` was seen, so the next SecRule is its link. */
export type RuleDraft = Rule & { chainFlag: boolean };

export interface EngineSettings {
  ruleEngine: 'on' | 'off' | 'detectiononly';
  requestBodyAccess: boolean;
  responseBodyAccess: boolean;
  requestBodyLimit: number;
  requestBodyNoFilesLimit: number;
  requestBodyLimitAction: 'reject' | 'processpartial';
  jsonDepthLimit: number;
  argumentsLimit: number;
  responseBodyMimeTypes: string[];
  responseBodyLimit: number;
  /** SecCollectionTimeout: seconds a persistent record lives after its last write */
  collectionTimeout: number;
}

/** Transformation chains by id: parent chain (prefix) and the last function; id 0 = none. */
export interface TransformChains {
  parent: number[];
  fn: (Transform | null)[];
  /** per chain id: the classes its last function's output can have, given its input's */
  classesAfter: ((m: number) => number)[];
}

export interface CompiledRules {
  /** starters and markers in file order */
  rules: Rule[];
  settings: EngineSettings;
  warnings: string[];
  chains: TransformChains;
  /** how many `Rule.unionSlot` ids there are */
  unionSlots: number;
  /** how many `Rule.verdictColumn` ids there are */
  verdictColumns: number;
}

export function markerRule(name: string, file: string, line: number): Rule {
  const r = blankRule(file, line);
  r.marker = name;
  return r;
}

/** Every rule starts from here, so all rule objects share one shape (monomorphic reads in the
 * rule loop). */
export function blankRule(file: string, line: number): RuleDraft {
  return {
    id: 0,
    phase: Phase.REQUEST_BODY,
    file,
    line,
    marker: null,
    targets: [],
    op: makeOperator('unconditionalMatch', '', () => true),
    negated: false,
    transforms: [],
    transformNames: [],
    transformChain: 0,
    multiMatch: false,
    capture: false,
    setvars: [],
    initcols: [],
    timers: [],
    ctls: [],
    msg: null,
    logdata: null,
    severity: null,
    tags: [],
    disruptive: null,
    allowScope: 'all',
    status: 0,
    skipAfter: null,
    skip: 0,
    log: true,
    chain: null,
    chained: false,
    paranoia: 0,
    targetsKey: '',
    targetListId: 0,
    selectionIds: [],
    soleSelection: -1,
    unionSlot: 0,
    verdictColumn: 0,
    exclusions: [],
    singleVar: SingleVar.NONE,
    singleVarColl: '',
    singleVarKey: '',
    transformPrefixes: [],
    chainFlag: false,
  };
}
