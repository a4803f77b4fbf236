/**
 * Compiles SecLang directives into rule objects: targets, transformation chains, operator,
 * actions (with macros pre-split), chains and markers. Also applies the configuration-time
 * directives (SecDefaultAction, SecRuleRemove*, SecRuleUpdate*, engine settings).
 */

import { patternFactors } from './factors.js';
import { compileOperator, makeOperator, type Operator } from './operators.js';
import { compilePcre } from './pcre.js';
import { transferOf } from './prefilter.js';
import { type ActionSpec, type Directive, parseActions } from './seclang.js';
import { TRANSFORMS, type Transform } from './transforms.js';

/** `prefix`: the regex is `^` and plain lower-case letters, digits or `_` (matched case-insensitively
 * against a lower-case name with startsWith) */
export type Selector = null | { kind: 'name'; name: string } | { kind: 'regex'; re: RegExp; prefix?: string; factors?: string[] };

export interface Target {
  coll: string; // upper-case variable/collection name
  sel: Selector;
  count: boolean;
  excl: boolean;
}

/** A macro string split at compile time: literal parts and %{COLL.key} references. */
export type Macro = (string | { coll: string; key: string | null })[];

export interface SetVar {
  coll: string; // upper-case collection (TX, IP, ...)
  /** the variable name when it has no macro, and its lower-case key */
  staticName: string | null;
  staticKey: string | null;
  name: Macro;
  op: '=' | '+' | '-' | 'del';
  value: Macro;
}

export interface Ctl {
  what: string; // lower-case ctl name
  value: string;
}

export type Disruptive = 'pass' | 'deny' | 'drop' | 'allow' | 'block' | 'redirect' | null;

export interface Rule {
  id: number;
  phase: number;
  file: string;
  line: number;
  marker: string | null;
  targets: Target[];
  op: Operator;
  negated: boolean;
  transforms: Transform[];
  tnames: string[];
  tchain: number; // id of the transformation chain (0 = none)
  multiMatch: boolean;
  capture: boolean;
  setvars: SetVar[];
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
  chained: boolean; // this rule is a link (not the starter)
  paranoia: number; // paranoia-level tag, 0 when none
  skipIndex: number; // resolved skipAfter position in the phase list
  /** chain ids of each prefix of the transformation list (for multiMatch) */
  tprefix: number[];
  /** 1: one named variable of a store collection (TX:foo); 2: its count (&TX:foo); 0: general */
  fast: number;
  fastColl: string;
  fastKey: string;
  /** key of the target list, for the per-request cache of resolved targets ('' = not cacheable) */
  tsig: string;
  /** small integer naming `tsig` (0 = not cacheable), the index of the per-request cache */
  tid: number;
  /** per target: id of its values after this rule's exclusions, shared by every rule that selects
   * the same values from a collection (0 = not cached), the index of a per-request cache */
  cids: number[];
  /** the excluded (`!`) targets, listed on first use */
  excls: Target[] | null;
  /** small integer naming this rule's target list (`tid`) with its transformation chain (or,
   * for multiMatch, every prefix of it), the index of the per-request classes of those values
   * (0 = not cacheable) */
  pair: number;
  /** small integer naming this rule object (starter or chain link), its column of verdicts */
  vid: number;
}

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
}

export interface CompiledRules {
  rules: Rule[]; // starters and markers in file order
  settings: EngineSettings;
  warnings: string[];
  /** transformation chains by id: parent chain (prefix) and the last function; id 0 = none */
  chainParent: number[];
  chainFn: (Transform | null)[];
  /** per chain id: the classes its last function's output can have, given its input's */
  chainMask: ((m: number) => number)[];
  /** how many `Rule.pair` ids there are */
  pairs: number;
  /** how many `Rule.vid` ids there are */
  ruleCount: number;
}

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

const SEVERITIES = ['EMERGENCY', 'ALERT', 'CRITICAL', 'ERROR', 'WARNING', 'NOTICE', 'INFO', 'DEBUG'];

const IGNORED = new Set(
  [
    'SecComponentSignature',
    'SecCollectionTimeout',
    'SecPcreMatchLimit',
    'SecPcreMatchLimitRecursion',
    'SecTmpDir',
    'SecDataDir',
    'SecAuditEngine',
    'SecAuditLogRelevantStatus',
    'SecAuditLogParts',
    'SecAuditLogType',
    'SecAuditLog',
    'SecAuditLogStorageDir',
    'SecAuditLogFormat',
    'SecArgumentSeparator',
    'SecCookieFormat',
    'SecUnicodeMapFile',
    'SecStatusEngine',
    'SecDebugLog',
    'SecDebugLogLevel',
    'SecResponseBodyLimitAction',
    'SecUploadDir',
    'SecUploadKeepFiles',
    'SecTmpSaveUploadedFiles',
    'SecServerSignature',
    'SecWebAppId',
    'SecGeoLookupDb',
    'SecHashEngine',
    'SecRequestBodyInMemoryLimit',
  ].map((s) => s.toLowerCase()),
);

/**
 * The engine's copy of a name: V8 keeps one instance of each string used as a property key, so
 * names from rules become the same objects as those in the code and in each other, and Map
 * look-ups and comparisons between them stop at the pointer instead of comparing characters.
 */
export function intern(s: string): string {
  return Object.keys({ [s]: 0 })[0];
}

export function parseMacro(s: string): Macro {
  const out: Macro = [];
  let p = 0;
  while (p < s.length) {
    const st = s.indexOf('%{', p);
    if (st < 0) {
      out.push(s.slice(p));
      break;
    }
    const en = s.indexOf('}', st);
    if (en < 0) {
      out.push(s.slice(p));
      break;
    }
    if (st > p) out.push(s.slice(p, st));
    const ref = s.slice(st + 2, en);
    const dot = ref.indexOf('.');
    if (dot < 0) out.push({ coll: intern(ref.toUpperCase()), key: null });
    else out.push({ coll: intern(ref.slice(0, dot).toUpperCase()), key: intern(ref.slice(dot + 1).toLowerCase()) });
    p = en + 1;
  }
  return out;
}

export function parseTargets(spec: string): Target[] {
  const out: Target[] = [];
  // split on '|' but not inside /regex/ selectors
  const parts: string[] = [];
  let cur = '';
  let inRe = false;
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i];
    if (c === '/' && ((cur.endsWith(':') && !/^[!&]*XML:$/i.test(cur)) || inRe)) {
      if (inRe && spec[i - 1] === '\\') {
        cur += c;
        continue;
      }
      inRe = !inRe;
      cur += c;
      continue;
    }
    if (c === '|' && !inRe) {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  if (cur) parts.push(cur);
  for (let part of parts) {
    part = part.trim();
    if (!part) continue;
    let excl = false;
    let count = false;
    if (part[0] === '!') {
      excl = true;
      part = part.slice(1);
    }
    if (part[0] === '&') {
      count = true;
      part = part.slice(1);
    }
    const colon = part.indexOf(':');
    const coll = intern((colon < 0 ? part : part.slice(0, colon)).toUpperCase());
    let sel: Selector = null;
    if (colon >= 0) {
      let s = part.slice(colon + 1);
      if (s.startsWith("'") && s.endsWith("'")) s = s.slice(1, -1);
      if (s.length > 1 && s.startsWith('/') && s.endsWith('/') && coll !== 'XML') {
        const src = s.slice(1, -1);
        sel = { kind: 'regex', re: compilePcre(src, 'i') };
        if (/^\^[A-Za-z0-9_]+$/.test(src)) sel.prefix = src.slice(1).toLowerCase();
        else {
          // names the regex can match contain one of these (lower-case ASCII): most names are
          // ruled out without running it
          const f = patternFactors(sel.re.source);
          if (f !== null && f.every((x) => /^[\x00-\x7f]+$/.test(x))) sel.factors = f;
        }
      } else sel = { kind: 'name', name: intern(s.toLowerCase()) };
    }
    out.push({ coll, sel, count, excl });
  }
  return out;
}

interface Defaults {
  actions: ActionSpec[];
}

export function compileRules(directives: Directive[]): CompiledRules {
  const settings: EngineSettings = {
    ruleEngine: 'on',
    requestBodyAccess: false,
    responseBodyAccess: false,
    requestBodyLimit: 13107200,
    requestBodyNoFilesLimit: 1048576,
    requestBodyLimitAction: 'reject',
    jsonDepthLimit: 512,
    argumentsLimit: 1000,
    responseBodyMimeTypes: ['text/plain', 'text/html'],
    responseBodyLimit: 524288,
  };
  const warnings: string[] = [];
  const rules: Rule[] = [];
  const defaults = new Map<number, Defaults>();
  const tchainIds = new Map<string, number>();
  let pendingChain: Rule | null = null;

  const byId = (): Map<number, Rule> => {
    const m = new Map<number, Rule>();
    for (const r of rules) if (r.id) m.set(r.id, r);
    return m;
  };
  const idMatcher = (args: string[]): ((id: number) => boolean) => {
    const ranges: [number, number][] = [];
    for (const a of args.join(' ').split(/[\s,]+/)) {
      if (!a) continue;
      const m = /^(\d+)(?:-(\d+))?$/.exec(a);
      if (m) ranges.push([Number(m[1]), Number(m[2] ?? m[1])]);
    }
    return (id) => ranges.some(([a, b]) => id >= a && id <= b);
  };

  for (const d of directives) {
    const name = d.name.toLowerCase();
    const where = `${d.file}:${d.line}`;
    try {
      switch (name) {
        case 'secruleengine':
          settings.ruleEngine = d.args[0].toLowerCase() as EngineSettings['ruleEngine'];
          break;
        case 'secrequestbodyaccess':
          settings.requestBodyAccess = d.args[0].toLowerCase() === 'on';
          break;
        case 'secresponsebodyaccess':
          settings.responseBodyAccess = d.args[0].toLowerCase() === 'on';
          break;
        case 'secrequestbodylimit':
          settings.requestBodyLimit = Number(d.args[0]);
          break;
        case 'secrequestbodynofileslimit':
          settings.requestBodyNoFilesLimit = Number(d.args[0]);
          break;
        case 'secrequestbodylimitaction':
          settings.requestBodyLimitAction = d.args[0].toLowerCase() as EngineSettings['requestBodyLimitAction'];
          break;
        case 'secrequestbodyjsondepthlimit':
          settings.jsonDepthLimit = Number(d.args[0]);
          break;
        case 'secargumentslimit':
          settings.argumentsLimit = Number(d.args[0]);
          break;
        case 'secresponsebodymimetype':
          settings.responseBodyMimeTypes = d.args.join(' ').split(/\s+/).filter(Boolean);
          break;
        case 'secresponsebodylimit':
          settings.responseBodyLimit = Number(d.args[0]);
          break;
        case 'secdefaultaction': {
          const acts = parseActions(d.args[0] ?? '');
          const ph = acts.find((a) => a.name === 'phase');
          defaults.set(phaseNum(ph?.value ?? '2'), { actions: acts.filter((a) => a.name !== 'phase') });
          break;
        }
        case 'secmarker':
          rules.push(markerRule(d.args[0] ?? '', d.file, d.line));
          break;
        case 'secaction':
        case 'secrule': {
          const isAction = name === 'secaction';
          const targets = isAction ? [] : parseTargets(d.args[0] ?? '');
          const opText = isAction ? '@unconditionalMatch' : (d.args[1] ?? '');
          const actText = isAction ? (d.args[0] ?? '') : (d.args[2] ?? '');
          const rule = buildRule(targets, opText, parseActions(actText), d, pendingChain, defaults, tchainIds, warnings);
          if (pendingChain) {
            let last = pendingChain;
            while (last.chain) last = last.chain;
            last.chain = rule;
          } else rules.push(rule);
          const starter: Rule = pendingChain ?? rule;
          pendingChain = rule.chainFlag ? starter : null;
          break;
        }
        case 'secruleremovebyid': {
          const match = idMatcher(d.args);
          for (let i = rules.length - 1; i >= 0; i--) if (rules[i].id && match(rules[i].id)) rules.splice(i, 1);
          break;
        }
        case 'secruleremovebytag': {
          const re = compilePcre(d.args[0] ?? '');
          for (let i = rules.length - 1; i >= 0; i--) if (rules[i].tags.some((t) => re.test(t))) rules.splice(i, 1);
          break;
        }
        case 'secruleremovebymsg': {
          const re = compilePcre(d.args[0] ?? '');
          for (let i = rules.length - 1; i >= 0; i--) {
            const m = rules[i].msg;
            if (m && re.test(m.filter((x) => typeof x === 'string').join(''))) rules.splice(i, 1);
          }
          break;
        }
        case 'secruleupdatetargetbyid':
        case 'secruleupdatetargetbytag': {
          const extra = parseTargets(d.args[1] ?? '');
          const sel =
            name === 'secruleupdatetargetbyid'
              ? (
                  (m) => (r: Rule) =>
                    m(r.id)
                )(idMatcher([d.args[0] ?? '']))
              : (
                  (re) => (r: Rule) =>
                    r.tags.some((t) => re.test(t))
                )(compilePcre(d.args[0] ?? ''));
          for (const r of rules) if (sel(r)) r.targets.push(...extra);
          break;
        }
        case 'secruleupdateactionbyid': {
          const r = byId().get(Number.parseInt(d.args[0] ?? '', 10));
          if (r) applyActions(r, parseActions(d.args[1] ?? ''), tchainIds, warnings, where);
          break;
        }
        default:
          if (!IGNORED.has(name)) warnings.push(`${where}: unknown directive ${d.name} ignored`);
      }
    } catch (e) {
      warnings.push(`${where}: ${d.name}: ${(e as Error).message}; directive skipped`);
    }
  }
  const sigIds = new Map<string, number>();
  const compIds = new Map<string, number>();
  const tsigOf = (t: Target): string => `${t.excl ? '!' : ''}${t.count ? '&' : ''}${t.coll}:${t.sel === null ? '' : t.sel.kind === 'name' ? t.sel.name : `/${t.sel.re.source}/`}`;
  const sig = (r: Rule): void => {
    const volatile = r.targets.some((t) => /^(TX|IP|SESSION|GLOBAL|RESOURCE|USER|ENV|GEO|MATCHED_VARS?|MATCHED_VARS?_NAMES?|MATCHED_VAR_NAME|TIME.*|DURATION)$/.test(t.coll));
    r.tsig = volatile ? '' : r.targets.map(tsigOf).join('|');
    if (r.tsig !== '') {
      let id = sigIds.get(r.tsig);
      if (id === undefined) {
        id = sigIds.size + 1;
        sigIds.set(r.tsig, id);
      }
      r.tid = id;
      r.cids = r.targets.map((t) => {
        if (t.excl || t.count || !CACHED_COLLS.has(t.coll)) return 0;
        const ex = r.targets
          .filter((x) => x.excl && x.coll === t.coll)
          .map(tsigOf)
          .sort()
          .join('|');
        const key = `${tsigOf(t)}#${ex}`;
        let cid = compIds.get(key);
        if (cid === undefined) {
          cid = compIds.size + 1;
          compIds.set(key, cid);
        }
        return cid;
      });
    }
    const t = r.targets[0];
    if (r.targets.length === 1 && !t.excl && t.sel?.kind === 'name' && /^(TX|IP|SESSION|GLOBAL|RESOURCE|USER|GEO)$/.test(t.coll)) {
      r.fast = t.count ? 2 : 1;
      r.fastColl = t.coll;
      r.fastKey = t.sel.name;
    }
    if (r.chain) sig(r.chain);
  };
  for (const r of rules) sig(r);
  // every prefix of a chain gets an id too, so chains sharing a prefix share its work
  for (const key of [...tchainIds.keys()]) {
    const parts = key.split(',');
    for (let k = 1; k < parts.length; k++) {
      const pre = parts.slice(0, k).join(',');
      if (!tchainIds.has(pre)) tchainIds.set(pre, tchainIds.size + 1);
    }
  }
  const pairIds = new Map<string, number>();
  let vids = 0;
  const prefixes = (r: Rule): void => {
    r.vid = vids++;
    r.tprefix = r.tnames.map((_, k) => tchainIds.get(r.tnames.slice(0, k + 1).join(',')) as number);
    if (r.tid !== 0) {
      const key = `${r.tid}/${r.multiMatch ? `m${r.tprefix.join(',')}` : r.tchain}`;
      let id = pairIds.get(key);
      if (id === undefined) {
        id = pairIds.size + 1;
        pairIds.set(key, id);
      }
      r.pair = id;
    }
    if (r.chain) prefixes(r.chain);
  };
  for (const r of rules) prefixes(r);
  const chainParent: number[] = [0];
  const chainFn: (Transform | null)[] = [null];
  const chainMask: ((m: number) => number)[] = [(m) => m];
  for (const [key, id] of tchainIds) {
    const cut = key.lastIndexOf(',');
    chainParent[id] = cut < 0 ? 0 : (tchainIds.get(key.slice(0, cut)) as number);
    chainFn[id] = TRANSFORMS[key.slice(cut + 1)];
    chainMask[id] = transferOf(key.slice(cut + 1));
  }
  return { rules, settings, warnings, chainParent, chainFn, chainMask, pairs: pairIds.size, ruleCount: vids };
}

function phaseNum(v: string): number {
  const s = v.toLowerCase();
  if (s === 'request') return 2;
  if (s === 'response') return 4;
  if (s === 'logging') return 5;
  return Number(s);
}

function markerRule(name: string, file: string, line: number): Rule {
  const r = blankRule(file, line);
  r.marker = name;
  return r;
}

function blankRule(file: string, line: number): Rule & { chainFlag: boolean } {
  return {
    id: 0,
    phase: 2,
    file,
    line,
    marker: null,
    targets: [],
    op: makeOperator('unconditionalMatch', '', () => true),
    negated: false,
    transforms: [],
    tnames: [],
    tchain: 0,
    multiMatch: false,
    capture: false,
    setvars: [],
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
    skipIndex: -1,
    tsig: '',
    tid: 0,
    cids: [],
    pair: 0,
    vid: 0,
    excls: null,
    fast: 0,
    fastColl: '',
    fastKey: '',
    tprefix: [],
    chainFlag: false,
  };
}

function buildRule(
  targets: Target[],
  opText: string,
  actions: ActionSpec[],
  d: Directive,
  starter: Rule | null,
  defaults: Map<number, Defaults>,
  tchainIds: Map<string, number>,
  warnings: string[],
): Rule & { chainFlag: boolean } {
  const r = blankRule(d.file, d.line);
  r.targets = targets;
  let op = opText;
  if (op.startsWith('!')) {
    r.negated = true;
    op = op.slice(1);
  }
  let opName = 'rx';
  let param = op;
  if (op.startsWith('@')) {
    const sp = op.search(/\s/);
    opName = sp < 0 ? op.slice(1) : op.slice(1, sp);
    param = sp < 0 ? '' : op.slice(sp + 1);
  }
  r.op = compileOperator(opName, param, d.file);
  const where = `${d.file}:${d.line}`;
  if (starter) {
    r.chained = true;
    r.phase = starter.phase;
    applyActions(r, actions, tchainIds, warnings, where);
  } else {
    const ph = actions.find((a) => a.name === 'phase');
    r.phase = ph ? phaseNum(ph.value ?? '2') : 2;
    const def = defaults.get(r.phase);
    if (def) applyActions(r, def.actions, tchainIds, warnings, where);
    // the default disruptive action is what `block` means in this phase
    const defDisruptive = r.disruptive;
    r.disruptive = null;
    applyActions(r, actions, tchainIds, warnings, where);
    if (r.disruptive === 'block' || r.disruptive === null) r.disruptive = defDisruptive ?? 'pass';
  }
  return r;
}

function applyActions(r: Rule & { chainFlag?: boolean }, actions: ActionSpec[], tchainIds: Map<string, number>, warnings: string[], where: string): void {
  for (const a of actions) {
    const v = a.value ?? '';
    switch (a.name) {
      case 'id':
        r.id = Number.parseInt(v, 10);
        break;
      case 'phase':
        r.phase = phaseNum(v);
        break;
      case 'chain':
        (r as { chainFlag: boolean }).chainFlag = true;
        break;
      case 't': {
        if (v.toLowerCase() === 'none') {
          r.transforms = [];
          r.tnames = [];
          break;
        }
        const fn = TRANSFORMS[v.toLowerCase()];
        if (!fn) {
          warnings.push(`${where}: unsupported transformation t:${v} ignored`);
          break;
        }
        r.transforms.push(fn);
        r.tnames.push(v.toLowerCase());
        break;
      }
      case 'msg':
        r.msg = parseMacro(v);
        break;
      case 'logdata':
        r.logdata = parseMacro(v);
        break;
      case 'severity': {
        const n = Number(v);
        r.severity = Number.isInteger(n) && v !== '' ? (SEVERITIES[n] ?? v) : v.toUpperCase();
        break;
      }
      case 'tag': {
        r.tags.push(v);
        const m = /^paranoia-level\/(\d)$/.exec(v);
        if (m) r.paranoia = Number(m[1]);
        break;
      }
      case 'capture':
        r.capture = true;
        break;
      case 'multimatch':
        r.multiMatch = true;
        break;
      case 'setvar':
        r.setvars.push(parseSetVar(v));
        break;
      case 'ctl': {
        const eq = v.indexOf('=');
        r.ctls.push({ what: intern(v.slice(0, eq).trim().toLowerCase()), value: v.slice(eq + 1).trim() });
        break;
      }
      case 'pass':
      case 'deny':
      case 'drop':
      case 'block':
      case 'redirect':
        r.disruptive = a.name;
        break;
      case 'allow':
        r.disruptive = 'allow';
        r.allowScope = v === 'phase' ? 'phase' : v === 'request' ? 'request' : 'all';
        break;
      case 'status':
        r.status = Number(v);
        break;
      case 'skipafter':
        r.skipAfter = v;
        break;
      case 'skip':
        r.skip = Number(v);
        break;
      case 'log':
        r.log = true;
        break;
      case 'nolog':
        r.log = false;
        break;
      case 'auditlog':
      case 'noauditlog':
      case 'ver':
      case 'rev':
      case 'maturity':
      case 'accuracy':
      case 'expirevar':
      case 'initcol':
      case 'setenv':
      case 'sanitisematched':
      case 'sanitizematched':
      case 'sanitiseargs':
      case 'append':
      case 'prepend':
      case 'deprecatevar':
      case 'setuid':
      case 'setsid':
        break;
      default:
        warnings.push(`${where}: unsupported action ${a.name} ignored`);
    }
  }
  const key = r.tnames.join(',');
  if (key === '') r.tchain = 0;
  else {
    let id = tchainIds.get(key);
    if (id === undefined) {
      id = tchainIds.size + 1;
      tchainIds.set(key, id);
    }
    r.tchain = id;
  }
}

function parseSetVar(v: string): SetVar {
  let s = v.trim();
  const mk = (coll: string, nameText: string, op: SetVar['op'], value: Macro): SetVar => {
    const name = parseMacro(nameText);
    const staticName = name.length === 1 && typeof name[0] === 'string' ? name[0] : null;
    return { coll: intern(coll.toUpperCase()), staticName, staticKey: staticName === null ? null : intern(staticName.toLowerCase()), name, op, value };
  };
  if (s.startsWith('!')) {
    const dot = s.indexOf('.');
    return mk(s.slice(1, dot), s.slice(dot + 1), 'del', []);
  }
  const eq = s.indexOf('=');
  const lhs = eq < 0 ? s : s.slice(0, eq);
  s = eq < 0 ? '1' : s.slice(eq + 1);
  const dot = lhs.indexOf('.');
  let op: SetVar['op'] = '=';
  if (s.startsWith('+')) {
    op = '+';
    s = s.slice(1);
  } else if (s.startsWith('-')) {
    op = '-';
    s = s.slice(1);
  }
  return mk(lhs.slice(0, dot), lhs.slice(dot + 1), op, parseMacro(s));
}
