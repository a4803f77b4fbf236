/**
 * The WAF library API: `createWaf(options)` loads and compiles the Core Rule Set once;
 * `waf.evaluate(request[, response])` runs the phases synchronously and returns the verdict.
 * Importing it has no process-wide effect: an application that runs the WAF on untrusted
 * input calls `enableRegexBacktrackFallback()` first (regex-guard.ts says why).
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { PalisadeError } from '../core/errors.js';
import { BASE_CONFIG } from './base-config.js';
import { InitialTx } from './initial-tx.js';
import { type CollectionStore, MemoryCollectionStore } from './persistent.js';
import { Phase } from './phase.js';
import { buildPlan } from './plan.js';
import { type RblOptions, RblResolver } from './rbl.js';
import { Records } from './records.js';
import { compileRules } from './rules.js';
import { type Directive, parseSecLang } from './seclang.js';
import { type MatchedRule, type Reusables, Transaction, type WafRequest, type WafResponse } from './transaction.js';
import { ValueCache } from './value-cache.js';

export { CollectionsUnavailable } from './records.js';
export { enableRegexBacktrackFallback } from './regex-guard.js';
export type { MatchedRule, WafRequest, WafResponse } from './transaction.js';

export interface WafExclusion {
  /** rule id or inclusive id range */
  id?: number | [number, number];
  /** rule tag (exact) */
  tag?: string;
  /** variable to stop inspecting for those rules, e.g. `ARGS:password`; absent = remove the rules */
  target?: string;
}

export interface WafOptions {
  /** CRS directory (holding `rules/` and optionally `owasp-crs.load` / `crs-setup.conf`) */
  crsPath?: string;
  paranoia?: 1 | 2 | 3 | 4;
  /** executing paranoia level (rules above `paranoia` up to this one log without scoring) */
  executingParanoia?: 1 | 2 | 3 | 4;
  thresholds?: { inbound?: number; outbound?: number };
  exclusions?: WafExclusion[];
  mode?: 'block' | 'detect';
  /** further CRS `tx.` settings, e.g. `{ combined_file_sizes: 65535 }` */
  setup?: Record<string, string | number>;
  /** extra SecLang text loaded after the CRS (exclusions, custom rules) */
  extraConfig?: string;
  /** DNS block lists of `@rbl` (servers, timeout, cache); default: the system's servers, 500 ms */
  rbl?: RblOptions;
  /** where IP/GLOBAL/SESSION/USER/RESOURCE records persist (default: this process's memory) */
  collections?: CollectionStore;
  /** clock of those records, ms since the epoch (default Date.now) */
  now?: () => number;
}

export interface WafVerdict {
  action: 'pass' | 'block';
  status: number;
  matched: MatchedRule[];
  anomaly: { inbound: number; outbound: number };
}

export interface Waf {
  /** `timings`, when given, receives the milliseconds spent in each rule (for profiling and tests) */
  evaluate(request: WafRequest, response?: WafResponse, timings?: Map<number, number>): WafVerdict;
  /**
   * Before `evaluate`: the look-ups evaluation cannot wait for (the client address in the DNS
   * block lists of `@rbl` rules, each bounded by its timeout; the persistent records `initcol`
   * will open, when they live in a remote store), so those rules judge on the answers. Null
   * when there is nothing to wait for (no `@rbl` rule has run yet, records in memory), so a
   * caller can stay synchronous. Rejects with `CollectionsUnavailable` when the remote store
   * cannot answer: the caller decides (evaluating then opens every record as new).
   */
  prepare(request: WafRequest): Promise<void> | null;
  /** where persistent collections live */
  readonly collections: CollectionStore;
  /** Resolves once the writes of persistent records sent so far have landed (or failed). */
  settled(): Promise<void>;
  /** DNS block-list zones the loaded rules query (`@rbl`) */
  readonly rblZones: readonly string[];
  readonly warnings: string[];
  readonly ruleCount: number;
}

const DEFAULT_CRS = '/usr/share/modsecurity-crs';

/** The rule set cannot be found or read. */
/** The Core Rule Set is not where the options say (E_DEPENDENCY: install modsecurity-crs or pass crsPath). */
export class WafConfigError extends PalisadeError {
  constructor(message: string) {
    super('E_DEPENDENCY', message);
    this.name = 'WafConfigError';
  }
}

function loadDirectives(opts: WafOptions): Directive[] {
  const crs = opts.crsPath ?? DEFAULT_CRS;
  const out: Directive[] = [];
  parseSecLang(BASE_CONFIG, '<base>', out);
  parseSecLang(`SecRuleEngine ${opts.mode === 'detect' ? 'DetectionOnly' : 'On'}\n`, '<options>', out);
  const load = join(crs, 'owasp-crs.load');
  if (!existsSync(load) && !existsSync(join(crs, 'rules'))) {
    throw new WafConfigError(`no Core Rule Set in ${crs} (expected owasp-crs.load or a rules/ directory)`);
  }
  const crsDirectives: Directive[] = [];
  if (existsSync(load)) parseSecLang(`Include ${load}\n`, '<options>', crsDirectives);
  else {
    for (const setup of [join(crs, 'crs-setup.conf'), join(crs, 'crs-setup.conf.example')]) {
      if (existsSync(setup)) {
        parseSecLang(`Include ${setup}\n`, '<options>', crsDirectives);
        break;
      }
    }
    parseSecLang(`Include ${join(crs, 'rules')}/*.conf\n`, '<options>', crsDirectives);
  }
  // Our options go right before the CRS initialisation, after crs-setup.conf, so they win.
  const sets: string[] = [];
  if (opts.paranoia) sets.push(`tx.paranoia_level=${opts.paranoia}`);
  if (opts.executingParanoia) sets.push(`tx.executing_paranoia_level=${opts.executingParanoia}`);
  if (opts.thresholds?.inbound !== undefined) sets.push(`tx.inbound_anomaly_score_threshold=${opts.thresholds.inbound}`);
  if (opts.thresholds?.outbound !== undefined) sets.push(`tx.outbound_anomaly_score_threshold=${opts.thresholds.outbound}`);
  for (const [k, v] of Object.entries(opts.setup ?? {})) sets.push(`tx.${k}=${v}`);
  const injected: Directive[] = [];
  if (sets.length) {
    parseSecLang(`SecAction "id:900001,phase:1,pass,nolog,t:none,${sets.map((s) => `setvar:'${s}'`).join(',')}"\n`, '<options>', injected);
  }
  const at = crsDirectives.findIndex((d) => basename(d.file).startsWith('REQUEST-901'));
  if (at < 0) crsDirectives.push(...injected);
  else crsDirectives.splice(at, 0, ...injected);
  out.push(...crsDirectives);
  const excl: string[] = [];
  for (const x of opts.exclusions ?? []) {
    const ids = x.id === undefined ? null : Array.isArray(x.id) ? `${x.id[0]}-${x.id[1]}` : String(x.id);
    if (x.target) {
      if (ids) excl.push(`SecRuleUpdateTargetById ${ids} "!${x.target}"`);
      if (x.tag) excl.push(`SecRuleUpdateTargetByTag "${x.tag}" "!${x.target}"`);
    } else {
      if (ids) excl.push(`SecRuleRemoveById ${ids}`);
      if (x.tag) excl.push(`SecRuleRemoveByTag "${x.tag}"`);
    }
  }
  if (excl.length) parseSecLang(`${excl.join('\n')}\n`, '<exclusions>', out);
  if (opts.extraConfig) parseSecLang(opts.extraConfig, '<extraConfig>', out);
  return out;
}

export function createWaf(opts: WafOptions = {}): Waf {
  const rbl = new RblResolver(opts.rbl);
  const compiled = compileRules(loadDirectives(opts), { rbl });
  const rblZones = [...rbl.zones];
  const plan = buildPlan(compiled);
  const reusables: Reusables = {
    valueCache: new ValueCache(plan.chains, plan.unionSlots, plan.verdictColumns),
    initialTx: plan.initialTx === null ? null : new InitialTx(plan.initialTx),
    collections: null,
  };
  const presets: [string, string][] = [];
  let ruleCount = 0;
  for (const r of compiled.rules) if (r.marker === null) ruleCount++;
  const records = new Records(plan, reusables, presets, opts.collections ?? new MemoryCollectionStore(), opts.now ?? Date.now);
  reusables.collections = records.access;
  return {
    warnings: compiled.warnings,
    ruleCount,
    rblZones,
    collections: records.store,
    settled: () => records.settled(),
    prepare(request: WafRequest): Promise<void> | null {
      const dns = rbl.active.size === 0 || request.remoteAddr === undefined ? null : rbl.prepare(request.remoteAddr);
      const ahead = records.readAhead(request);
      if (ahead === null) return dns;
      return dns === null ? ahead : Promise.all([dns, ahead]).then(() => undefined);
    },
    evaluate(request: WafRequest, response?: WafResponse, timings?: Map<number, number>): WafVerdict {
      const t = new Transaction(plan, reusables, request, response ?? null, presets);
      let inbound: number;
      let outbound: number;
      try {
        if (timings) t.timings = timings;
        t.runPhase(Phase.REQUEST_HEADERS);
        if (!t.interrupted && !t.engineOff) {
          t.processBody();
          if (!t.interrupted) t.runPhase(Phase.REQUEST_BODY);
        }
        if (response && !t.interrupted && !t.engineOff) {
          t.runPhase(Phase.RESPONSE_HEADERS);
          if (!t.interrupted) t.runPhase(Phase.RESPONSE_BODY);
        }
        t.runPhase(Phase.LOGGING);
        inbound = Number(t.tx('anomaly_score') ?? t.tx('inbound_anomaly_score') ?? 0) || 0;
        outbound = Number(t.tx('outbound_anomaly_score') ?? 0) || 0;
      } finally {
        t.release();
      }
      if (t.opened !== null) records.commit(t.opened);
      const blocked = t.interrupted;
      return {
        action: blocked ? 'block' : 'pass',
        status: blocked ? t.status : 200,
        matched: t.matched,
        anomaly: { inbound, outbound },
      };
    },
  };
}
