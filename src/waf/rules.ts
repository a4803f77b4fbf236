/**
 * Compiles SecLang directives into rule objects: targets, transformation chains, operator,
 * actions (with macros pre-split), chains and markers. Also applies the configuration-time
 * directives (SecDefaultAction, SecRuleRemove*, SecRuleUpdate*, engine settings). The pieces:
 * rule.ts (the compiled form), rule-targets.ts (target lists), rule-actions.ts (actions),
 * rule-ids.ts (the ids the engine's caches are indexed by).
 */

import { compileOperator, type OperatorEnv } from './operators.js';
import { compilePcre } from './pcre.js';
import { DEFAULT_COLLECTION_TIMEOUT } from './persistent.js';
import { Phase, parsePhase } from './phase.js';
import { blankRule, type CompiledRules, type EngineSettings, markerRule, type Rule, type RuleDraft, type Target } from './rule.js';
import { applyActions } from './rule-actions.js';
import { numberRules } from './rule-ids.js';
import { parseTargets } from './rule-targets.js';
import { type ActionSpec, type Directive, parseActions } from './seclang.js';

const IGNORED = new Set(
  [
    'SecComponentSignature',
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

interface Defaults {
  actions: ActionSpec[];
}

export function compileRules(directives: Directive[], env: OperatorEnv = {}): CompiledRules {
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
    collectionTimeout: DEFAULT_COLLECTION_TIMEOUT,
  };
  const warnings: string[] = [];
  const rules: Rule[] = [];
  const defaults = new Map<number, Defaults>();
  const chainIds = new Map<string, number>();
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
        case 'seccollectiontimeout': {
          const n = Number(d.args[0]);
          if (Number.isInteger(n) && n > 0) settings.collectionTimeout = n;
          else warnings.push(`${where}: SecCollectionTimeout needs a number of seconds above 0, got ${d.args[0]}`);
          break;
        }
        case 'secresponsebodylimit':
          settings.responseBodyLimit = Number(d.args[0]);
          break;
        case 'secdefaultaction': {
          const acts = parseActions(d.args[0] ?? '');
          const ph = acts.find((a) => a.name === 'phase');
          defaults.set(parsePhase(ph?.value ?? '2'), { actions: acts.filter((a) => a.name !== 'phase') });
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
          const rule = buildRule(targets, opText, parseActions(actText), d, pendingChain, defaults, chainIds, warnings, env);
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
          if (r) applyActions(r, parseActions(d.args[1] ?? ''), chainIds, warnings, where);
          break;
        }
        default:
          if (!IGNORED.has(name)) warnings.push(`${where}: unknown directive ${d.name} ignored`);
      }
    } catch (e) {
      warnings.push(`${where}: ${d.name}: ${(e as Error).message}; directive skipped`);
    }
  }
  const { chains, unionSlots, verdictColumns } = numberRules(rules, chainIds);
  return { rules, settings, warnings, chains, unionSlots, verdictColumns };
}

function buildRule(
  targets: Target[],
  opText: string,
  actions: ActionSpec[],
  d: Directive,
  starter: Rule | null,
  defaults: Map<number, Defaults>,
  chainIds: Map<string, number>,
  warnings: string[],
  env: OperatorEnv,
): RuleDraft {
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
  r.op = compileOperator(opName, param, d.file, env);
  const where = `${d.file}:${d.line}`;
  if (starter) {
    r.chained = true;
    r.phase = starter.phase;
    applyActions(r, actions, chainIds, warnings, where);
  } else {
    const ph = actions.find((a) => a.name === 'phase');
    r.phase = ph ? parsePhase(ph.value ?? '2') : Phase.REQUEST_BODY;
    const def = defaults.get(r.phase);
    if (def) applyActions(r, def.actions, chainIds, warnings, where);
    // the default disruptive action is what `block` means in this phase
    const defDisruptive = r.disruptive;
    r.disruptive = null;
    applyActions(r, actions, chainIds, warnings, where);
    if (r.disruptive === 'block' || r.disruptive === null) r.disruptive = defDisruptive ?? 'pass';
  }
  return r;
}
