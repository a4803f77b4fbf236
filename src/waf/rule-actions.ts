/** SecLang rule actions (`id:`, `t:`, `setvar:`, `ctl:`, disruptive actions, ...) applied to a rule being compiled. */
import { intern, parseMacro } from './macro.js';
import { PERSISTENT_COLLS } from './persistent.js';
import { parsePhase } from './phase.js';
import type { Macro, Rule, SetVar, VarTimer } from './rule.js';
import type { ActionSpec } from './seclang.js';
import { TRANSFORMS } from './transforms.js';

const SEVERITIES = ['EMERGENCY', 'ALERT', 'CRITICAL', 'ERROR', 'WARNING', 'NOTICE', 'INFO', 'DEBUG'];

/**
 * Applies a rule's actions (or SecDefaultAction's, or SecRuleUpdateActionById's) to `r`, then
 * gives its transformation list a chain id: lists with the same functions in the same order
 * share an id (`chainIds`, by the names joined with commas).
 */
export function applyActions(r: Rule & { chainFlag?: boolean }, actions: ActionSpec[], chainIds: Map<string, number>, warnings: string[], where: string): void {
  for (const a of actions) {
    const v = a.value ?? '';
    switch (a.name) {
      case 'id':
        r.id = Number.parseInt(v, 10);
        break;
      case 'phase':
        r.phase = parsePhase(v);
        break;
      case 'chain':
        (r as { chainFlag: boolean }).chainFlag = true;
        break;
      case 't': {
        if (v.toLowerCase() === 'none') {
          r.transforms = [];
          r.transformNames = [];
          break;
        }
        const fn = TRANSFORMS[v.toLowerCase()];
        if (!fn) {
          warnings.push(`${where}: unsupported transformation t:${v} ignored`);
          break;
        }
        r.transforms.push(fn);
        r.transformNames.push(v.toLowerCase());
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
      // masking in an audit log: the engine writes none (its matches carry rule ids only)
      case 'sanitisematched':
      case 'sanitizematched':
      case 'sanitiseargs':
        break;
      case 'setenv':
        // the ENV collection is the environment rules see: `setenv:x=1` is `setvar:env.x=1`
        r.setvars.push(parseSetVar(`env.${v}`));
        break;
      case 'append':
      case 'prepend':
        warnings.push(`${where}: ${a.name}: the engine does not change response bodies; ignored`);
        break;
      case 'initcol': {
        const eq = v.indexOf('=');
        const coll = eq < 0 ? '' : v.slice(0, eq).trim().toUpperCase();
        if (!PERSISTENT_COLLS.has(coll)) {
          warnings.push(`${where}: initcol:${v}: not a persistent collection (IP, GLOBAL, SESSION, USER, RESOURCE); ignored`);
          break;
        }
        r.initcols.push({ coll: intern(coll), key: parseMacro(v.slice(eq + 1).trim()) });
        break;
      }
      case 'setsid':
        r.initcols.push({ coll: 'SESSION', key: parseMacro(v.trim()) });
        break;
      case 'setuid':
        r.initcols.push({ coll: 'USER', key: parseMacro(v.trim()) });
        break;
      case 'expirevar':
      case 'deprecatevar': {
        const t = parseTimer(a.name, v);
        if (t === null)
          warnings.push(`${where}: ${a.name}:${v}: expected ${a.name === 'expirevar' ? 'collection.variable=seconds' : 'collection.variable=amount/seconds'}; ignored`);
        else if (!PERSISTENT_COLLS.has(t.coll)) warnings.push(`${where}: ${a.name}:${v}: only variables of persistent collections expire; ignored`);
        else r.timers.push(t);
        break;
      }
      default:
        warnings.push(`${where}: unsupported action ${a.name} ignored`);
    }
  }
  const key = r.transformNames.join(',');
  if (key === '') r.transformChain = 0;
  else {
    let id = chainIds.get(key);
    if (id === undefined) {
      id = chainIds.size + 1;
      chainIds.set(key, id);
    }
    r.transformChain = id;
  }
}

/** `coll.name=seconds` (expirevar) or `coll.name=amount/seconds` (deprecatevar); null when malformed. */
function parseTimer(action: 'expirevar' | 'deprecatevar', v: string): VarTimer | null {
  const s = v.trim();
  const eq = s.indexOf('=');
  const dot = s.indexOf('.');
  if (eq < 0 || dot < 0 || dot > eq) return null;
  const coll = intern(s.slice(0, dot).toUpperCase());
  const name = parseMacro(s.slice(dot + 1, eq));
  const rhs = s.slice(eq + 1).trim();
  if (action === 'expirevar') return { kind: 'expire', coll, name, amount: [], seconds: parseMacro(rhs) };
  const slash = rhs.indexOf('/');
  if (slash < 0) return null;
  return { kind: 'deprecate', coll, name, amount: parseMacro(rhs.slice(0, slash).trim()), seconds: parseMacro(rhs.slice(slash + 1).trim()) };
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
