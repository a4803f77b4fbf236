/**
 * Live L7 protection (issue 16 item 8): the edge feeds its own finished exchanges to the L7
 * detector (detect/l7) and, at every window close, looks at the attacks it has open. For each
 * new or changed attack it plans a mitigation the way `palisade analyze` does offline — signature
 * search on the attack's samples (attacks.ts plan), measurement of coverage, collateral and
 * attribution of addresses (measure.ts), the choice between field signature and source list
 * (attacks.ts build) — with one difference: a live stream cannot be read again, so the measuring
 * pass runs over a ring of the last `buffer_requests` requests (recent.ts) and its figures are
 * estimates over that buffer.
 *
 *   mode auto:    installs through the gate's runtime rules (runtime-rules.ts): the field
 *                 signature as a block rule when its measured collateral is ≤ max_collateral,
 *                 else the attributed addresses (and clean /24s) as a block list, with the
 *                 attack's Cloudflare-shaped rate limit (rate_limits: true) for the addresses
 *                 not listed yet. Removed once the attack has been quiet for release_after_s;
 *                 installed again if it comes back.
 *   mode suggest: the same decisions, logged only.
 *   mode off:     nothing (the detector does not even run).
 *
 * Safety limits (edge.live): at most max_rules auto entries at once, at most max_list_size listed
 * addresses and prefixes in all, never an address or prefix an allow list holds, nothing for an
 * attack smaller than min_attack_requests. Every decision, refusals included, goes to the audit
 * trail (decisions.ts). The blocked requests stay in the detector's input: an attack that is
 * being blocked is still going on, and its rule must stay until it stops.
 *
 * Time is the injected clock's, read when an exchange ends; `tick()` is also called by a timer
 * (`start()`) so quiet periods close windows and release rules with no traffic at all.
 *
 * Wiring (palisade edge):
 *
 *   const gate = createEdgeGate(options, deps);
 *   const live = LiveL7.fromEdgeOptions(gate, options);   // edge.mode, edge.live
 *   live.attach();                                        // gate.observe: every finished exchange
 *   live.start();                                         // the timer (unref'd)
 *   // admin API: live.decisions(), live.attacks(); gate.runtime.list() / add() / remove()
 *   // reload:    next.runtime.adopt(gate.runtime.list()); live.rebind(next)
 *   // shutdown:  live.stop()
 *
 * One LiveL7 sees one gate's traffic: with several worker processes each sees its share.
 */
import { defaultLiveOptions, type EdgeLiveOptions, type EdgeOptions } from '../../config/edge.js';
import { geoDb } from '../../core/geoip.js';
import { classKey } from '../../detect/core/lifecycle.js';
import { attribute, build, type Others, type PlannedAttack, plan, tallyKey } from '../../detect/l7/attacks.js';
import { Col } from '../../detect/l7/columns.js';
import { Kind, L7Detector, type L7Track, VECTOR_OF } from '../../detect/l7/detector.js';
import { Measurer, type MeasureTarget, T, type Tally } from '../../detect/l7/measure.js';
import type { Part } from '../../detect/l7/signature.js';
import type { Attack, L7Mitigation } from '../../model/attack.js';
import { HttpLogView } from '../../sources/accesslog/view.js';
import type { EdgeRequest, Outcome } from '../gate.js';
import type { EdgeGate } from '../phases/pipeline.js';
import { DecisionLog, type DecisionSink, decisionSink, type LiveDecision, type LiveRuleContent } from './decisions.js';
import { RecentRequests } from './recent.js';
import { fillLogView } from './record.js';
import type { RuntimeRules, RuntimeSpec } from './runtime-rules.js';

export interface LiveL7Options extends EdgeLiveOptions {
  mode: 'auto' | 'suggest' | 'off';
}

export interface LiveL7Deps {
  /** Clock, ms since the epoch (default Date.now). */
  now?: () => number;
  /** Where decisions go as JSON lines (default: what `log` names; null: nowhere). */
  sink?: DecisionSink | null;
  /** Is a POST to this path a login attempt? (detector default otherwise) */
  isLogin?: (path: string) => boolean;
}

/** What live protection needs of the gate (an EdgeGate has it; the monitor's analysis makes one that enforces nothing). */
export interface LiveGate {
  readonly runtime: RuntimeRules<unknown>;
  allowListed: EdgeGate['allowListed'];
  observe: EdgeGate['observe'];
}

/** Class requests sampled before an attack's signature is searched (an attack's first window has none yet). */
const MIN_SAMPLE = 100;
/** A valid expression that matches nothing (an attack with no separating field: its class is measured alone). */
const NEVER = 'http.request.method eq "" and http.request.method ne ""';

/** One attack (host and vector) as live protection follows it, across detector tracks. */
interface Followed {
  key: string;
  track: L7Track;
  /** `l7-<track id>` of the track that first got a mitigation (kept while it is installed). */
  attackId: string;
  vector: string;
  host: string;
  /** Runtime entry ids installed (auto) and the content installed or suggested. */
  installed: string[];
  content: LiveRuleContent[];
  /**
   * When the attack was last seen: the detector's sign of it (detectorSeen), or requests that its
   * installed rules or lists stop at one a second or more (the attack goes on while its rule is hit).
   * Quiet periods and comebacks are counted from here.
   */
  seenMs: number;
  /** Requests its installed entries stopped since the last window close, and the last one's time. */
  hits: number;
  lastHitMs: number;
  /** When the content was last planned (NaN: never). */
  plannedMs: number;
  /** When its mitigation was released (NaN: not released). */
  releasedMs: number;
  /** The last reason logged without a mitigation (not repeated). */
  lastNote: string;
  lastAttack: Attack | null;
  /** The installed field rule's constraints (measured again at each plan), or null. */
  ruleParts: readonly Part[] | null;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The detector's latest sign of an attack: a flood's last firing window; for the other vectors
 * their last class request (failed login, probe, 408) of the current streak — their tracks keep
 * firing on ten-minute sums after the requests stop, so the track's own end moves on with them.
 * NaN when there is none.
 */
function detectorSeen(t: L7Track): number {
  return t.kind === Kind.FLOOD ? t.end : (t.host.lastEvt[t.kind] as number);
}

export class LiveL7 {
  /** auto, suggest or off (`edge.mode`; a reload may change it: reconfigure). */
  mode: 'auto' | 'suggest' | 'off';
  readonly options: LiveL7Options;
  readonly detector: L7Detector;
  readonly recent: RecentRequests;
  private readonly view = new HttpLogView();
  private readonly log: DecisionLog;
  private readonly followed = new Map<string, Followed>();
  /** Rule ids as the log names them (`<id>`, `list:<id>`) of what is installed, to their attack. */
  private readonly hits = new Map<string, Followed>();
  private readonly now: () => number;
  private readonly isLogin: ((path: string) => boolean) | null;
  private readonly windowMs: number;
  private nextTickMs = Number.NaN;
  private hitsDueMs = Number.NaN;
  private timer: NodeJS.Timeout | null = null;
  private detach: (() => void) | null = null;
  /** Exchanges fed, and ticks that planned (for metrics and tests). */
  fed = 0;
  plans = 0;
  /** Ticks that failed (written to the sink as `live_l7_error`). */
  failures = 0;
  private readonly sink: DecisionSink | null;

  constructor(
    private gate: LiveGate,
    options: Partial<LiveL7Options> & { mode: LiveL7Options['mode'] },
    deps: LiveL7Deps = {},
  ) {
    this.options = { ...defaultLiveOptions(), ...options };
    this.mode = this.options.mode;
    this.now = deps.now ?? Date.now;
    this.isLogin = deps.isLogin ?? null;
    this.windowMs = this.options.windowS * 1000;
    this.detector = new L7Detector({ windowMs: this.windowMs, ...(deps.isLogin !== undefined && { isLogin: deps.isLogin }) });
    this.recent = new RecentRequests(this.mode === 'off' ? 1 : this.options.bufferRequests);
    this.sink = deps.sink !== undefined ? deps.sink : decisionSink(this.options.log);
    this.log = new DecisionLog(this.options.decisionsKept, this.sink);
  }

  /** Live protection as palisade.yaml's edge section sets it (`edge.mode`, `edge.live`). */
  static fromEdgeOptions(gate: LiveGate, options: EdgeOptions, deps: LiveL7Deps = {}): LiveL7 {
    return new LiveL7(gate, { ...options.live, mode: options.mode }, deps);
  }

  /** Feed the gate's finished exchanges to this (gate.observe); returns the detach function. */
  attach(): () => void {
    this.detach ??= this.gate.observe(this.observe);
    return () => this.stop();
  }

  /**
   * Follow a new gate (a config reload): the caller first moves the old gate's runtime entries
   * over (`next.runtime.adopt(prev.runtime.list())`), so what is installed stays installed and
   * is released here as before; the detector's state carries on.
   */
  rebind(gate: LiveGate): void {
    const attached = this.detach !== null;
    this.detach?.();
    this.detach = null;
    this.gate = gate;
    if (attached) this.attach();
  }

  /** A timer that ticks once a window (unref'd: it keeps no process alive), for the quiet periods. */
  start(): void {
    if (this.mode === 'off' || this.timer !== null) return;
    this.timer = setInterval(() => this.guardedTick(this.now()), Math.min(1000, this.windowMs));
    this.timer.unref();
    // Planning reads the address databases (attacks.ts: networks of the sources); loading them
    // takes most of a second, better spent now than at the first attack.
    setImmediate(() => geoDb().lookup('192.0.2.1')).unref();
  }

  /** Detach from the gate and stop the timer (installed rules stay: the caller removes them if it wants). */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.detach?.();
    this.detach = null;
  }

  /**
   * A reload's `edge.mode` and `edge.live`. The limits apply from the next decision; leaving auto
   * removes what auto installed (each logged as a release), entering it installs at the next
   * window. What sizes the detector and its buffers (window_s, buffer_requests, decisions_kept,
   * log) and a start in mode off stay as they were: returned, as palisade.yaml names them.
   */
  reconfigure(options: EdgeOptions, now: number = this.now()): string[] {
    const next: LiveL7Options = { ...options.live, mode: options.mode };
    const fixed: string[] = [];
    const names: Array<[keyof EdgeLiveOptions, string]> = [
      ['windowS', 'window_s'],
      ['bufferRequests', 'buffer_requests'],
      ['decisionsKept', 'decisions_kept'],
      ['log', 'log'],
    ];
    for (const [k, name] of names) if (next[k] !== this.options[k]) fixed.push(`edge.live.${name}`);
    const o = this.options;
    o.releaseAfterS = next.releaseAfterS;
    o.maxRules = next.maxRules;
    o.maxListSize = next.maxListSize;
    o.minAttackRequests = next.minAttackRequests;
    o.maxCollateral = next.maxCollateral;
    o.rateLimits = next.rateLimits;
    o.replanS = next.replanS;
    const was = this.mode;
    // Started off, the detector and its buffer were never made to size: off stays off.
    if (was === 'off' && next.mode !== 'off') fixed.push('edge.mode');
    if (was === 'off' || next.mode === was) return fixed;
    for (const f of this.followed.values()) {
      if (was === 'auto' && f.installed.length > 0) {
        const left = f.installed.filter((id) => this.gate.runtime.get(id) !== undefined);
        if (left.length > 0) this.gate.runtime.apply({ remove: left });
        this.push(f, now, 'release', f.content, null, `edge.mode is now ${next.mode}`);
        f.releasedMs = now;
      }
      // Planned again at the next window, under the new mode.
      f.installed = [];
      f.content = [];
      f.ruleParts = null;
      f.plannedMs = Number.NaN;
    }
    this.indexHits();
    this.mode = next.mode;
    o.mode = next.mode;
    return fixed;
  }

  /** Follow every decision from now on (null: stop); the multi-node edge publishes them (cluster/edge-node.ts). */
  onDecision(f: ((d: LiveDecision) => void) | null): void {
    this.log.onPush = f;
  }

  /** The audit trail, oldest first (bounded by decisions_kept). */
  decisions(): LiveDecision[] {
    return this.log.list();
  }

  /** The attacks followed now, with what is installed or suggested for each (admin API). */
  attacks(): Array<{ id: string; vector: string; host: string; active: boolean; last_active: string; installed: string[]; rules: LiveRuleContent[] }> {
    return [...this.followed.values()].map((f) => ({
      id: f.attackId,
      vector: f.vector,
      host: f.host,
      active: this.detector.lifecycles.openAttack(classKey(f.track.victimKey, f.track.cls)) === f.track,
      last_active: iso(f.seenMs),
      installed: f.installed.slice(),
      rules: f.content,
    }));
  }

  /** One finished exchange (the gate's done hook). */
  readonly observe = (req: EdgeRequest, outcome: Outcome): void => {
    if (this.mode === 'off') return;
    const t = this.now();
    this.feed(fillLogView(this.view, req, outcome, t), req.ruleIds, t);
  };

  /**
   * One request as a log line tells it (the monitor's followed logs and the edge's request stream):
   * `v.timeMs` is its time; `ruleIds` the edge rules it matched (null: not known); `now` the clock.
   */
  feed(v: HttpLogView, ruleIds: readonly string[] | null, now: number = this.now()): void {
    if (this.mode === 'off') return;
    if (this.detector.add(v)) this.recent.add(v, this.detector.traits);
    this.fed++;
    if (ruleIds !== null && this.hits.size > 0) {
      for (let i = 0; i < ruleIds.length; i++) {
        const f = this.hits.get(ruleIds[i] as string);
        if (f !== undefined) {
          f.hits++;
          f.lastHitMs = now;
        }
      }
    }
    if (!(now < this.nextTickMs)) this.guardedTick(now);
  }

  /**
   * The attacks followed that have been planned, each with its latest Attack record (vector,
   * victim host, peak, signature and mitigation as measured) and whether the detector still has it
   * open — what the monitor raises, updates and ends alerts from.
   */
  planned(): Array<{ key: string; attack: Attack; active: boolean }> {
    const out: Array<{ key: string; attack: Attack; active: boolean }> = [];
    for (const f of this.followed.values()) if (f.lastAttack !== null) out.push({ key: f.key, attack: f.lastAttack, active: this.isOpen(f) });
    return out;
  }

  /**
   * A tick from the request path or the timer: a failure of live protection (a bug, a rule the gate
   * refuses in a way not foreseen) is counted and written to the sink, never thrown into the
   * transport; the next window tries again.
   */
  private guardedTick(t: number): void {
    try {
      this.tick(t);
    } catch (e) {
      this.failures++;
      this.nextTickMs = t + this.windowMs;
      if (this.failures <= 10 || this.failures % 1000 === 0)
        this.sink?.(`${JSON.stringify({ event: 'live_l7_error', time: iso(t), failures: this.failures, message: (e as Error).message })}\n`);
    }
  }

  /** Close the windows due by `now` and take the decisions they call for. */
  tick(now: number = this.now()): void {
    if (this.mode === 'off') return;
    const det = this.detector;
    det.advance(now);
    this.nextTickMs = Number.isNaN(det.base) ? now + this.windowMs : det.base + (Math.floor((now - det.base) / this.windowMs) + 1) * this.windowMs;
    this.gate.runtime.expire(now);
    if (!(now < this.hitsDueMs)) {
      // Hits keep an attack alive only at its own pace (one a second at least): a rule that goes on
      // catching a trickle of other requests (its collateral) must not stay for ever.
      const need = this.windowMs / 1000;
      for (const f of this.followed.values()) {
        if (f.hits >= need && f.lastHitMs > f.seenMs) f.seenMs = f.lastHitMs;
        f.hits = 0;
      }
      this.hitsDueMs = now + this.windowMs;
    }
    const replan = this.options.replanS * 1000;
    const due: Followed[] = [];
    for (const t of det.lifecycles.openAttacks()) {
      const key = `${t.host.name}|${t.kind}`;
      let f = this.followed.get(key);
      if (f === undefined) {
        f = {
          key,
          track: t,
          attackId: `l7-${t.id}`,
          vector: VECTOR_OF[t.kind] as string,
          host: t.host.name,
          installed: [],
          content: [],
          plannedMs: Number.NaN,
          seenMs: t.start,
          hits: 0,
          lastHitMs: Number.NaN,
          releasedMs: Number.NaN,
          lastNote: '',
          lastAttack: null,
          ruleParts: null,
        };
        this.followed.set(key, f);
      } else if (f.track !== t) {
        // The same host and vector again, as a new detector track: it takes over what is installed.
        f.track = t;
        if (f.content.length === 0) f.attackId = `l7-${t.id}`;
      }
      const sign = detectorSeen(t);
      const back = !Number.isNaN(f.releasedMs) && sign > f.releasedMs;
      if (sign > f.seenMs) f.seenMs = sign;
      if (t.windowPackets < this.options.minAttackRequests || t.sample.seen < MIN_SAMPLE) continue;
      if (back) {
        f.releasedMs = Number.NaN;
        f.content = [];
        f.installed = [];
        f.ruleParts = null;
        f.attackId = `l7-${t.id}`;
        f.plannedMs = Number.NaN;
      }
      if (!Number.isNaN(f.releasedMs)) continue;
      if (Number.isNaN(f.plannedMs) || now - f.plannedMs >= replan) due.push(f);
    }
    if (due.length > 0) this.planAll(due, now);
    this.releaseQuiet(now);
  }

  /** Plan, measure and decide for the attacks due. */
  private planAll(due: Followed[], now: number): void {
    this.plans++;
    const det = this.detector;
    const planned = plan(
      det,
      due.map((f) => f.track),
    );
    const targets: MeasureTarget[] = planned.map((p) => (p.target.expression === '' ? { ...p.target, expression: NEVER, parts: [{ col: Col.METHOD, text: NEVER }] } : p.target));
    // The field rules installed already are measured in the same pass: one that still covers its
    // attack within the collateral bar stays as it is (a new sample's search may word it otherwise).
    const kept = due.map((f, k) => {
      const rule = f.content.find((c) => c.type === 'custom_rule');
      if (rule === undefined || f.ruleParts === null) return -1;
      targets.push({ ...(targets[k] as MeasureTarget), expression: rule.expression as string, parts: f.ruleParts });
      return targets.length - 1;
    });
    // Every target is a conjunction of one-field constraints: measured on the ring's columns.
    const m = new Measurer(targets, this.isLogin);
    const { cols, parse } = this.recent.columns();
    m.addColumns(cols, parse);
    const ids = planned.map((p, k) => attribute(det, p, m.tallies[k] as Tally));
    const on = `an estimate over the last ${this.recent.size} requests the edge finished (since ${Number.isNaN(this.recent.oldestMs) ? '-' : iso(this.recent.oldestMs)})`;
    for (let k = 0; k < planned.length; k++) {
      const p = planned[k] as PlannedAttack;
      const f = due[k] as Followed;
      f.plannedMs = now;
      let attack: Attack | null = null;
      try {
        attack = build(det, p, m.tallies[k] as Tally, p.track.id, ids[k] as number[], others(planned, m.tallies, ids, k));
      } catch (e) {
        this.note(f, now, 'unmitigated', `planning failed: ${(e as Error).message}`);
        continue;
      }
      if (attack === null) {
        this.note(f, now, 'unmitigated', 'no mitigation: no address could be attributed, or the requests share nothing the rest of the site’s traffic lacks');
        continue;
      }
      f.lastAttack = attack;
      const j = kept[k] as number;
      if (j >= 0 && stillCovers(m.tallies[k] as Tally, ids[k] as number[], m.tallies[j] as Tally, this.options.maxCollateral)) continue;
      this.decide(f, attack, p.found.parts, on, now);
    }
  }

  /** What to install for an attack, within the limits, then install (auto) or log (suggest). */
  private decide(f: Followed, a: Attack, parts: readonly Part[], on: string, now: number): void {
    const opts = this.options;
    const mit = a.mitigation as L7Mitigation;
    const sig = a.signature as NonNullable<Attack['signature']>;
    const ev = a.evidence?.field_signature;
    const measured: LiveDecision['measured'] = {
      signature: sig.kind === 'fields' ? 'fields' : 'source_list',
      expression: sig.expression,
      coverage: sig.coverage,
      collateral: sig.collateral,
      field_expression: ev?.expression ?? '',
      field_coverage: ev?.coverage ?? 0,
      field_collateral: ev?.collateral ?? 0,
      on,
    };
    const base = `auto-${f.attackId}`;
    const want: LiveRuleContent[] = [];
    let allowListed: string[] = [];
    let truncated = 0;
    const refusals: string[] = [];
    if (sig.kind === 'fields' && sig.collateral <= opts.maxCollateral) {
      want.push({ id: base, type: 'custom_rule', expression: sig.expression, action: 'block' });
    } else {
      // The attributed addresses, the clean /24s first (an address they hold is not listed again);
      // nothing an allow list holds (a /24 that overlaps one gives way to its other addresses).
      const prefixes = mit.lists.prefixes.filter((p) => !this.gate.allowListed(p));
      const held = new Set(prefixes.map((p) => p.slice(0, p.lastIndexOf('.'))));
      const ips = mit.lists.ips.filter((ip) => !held.has(ip.slice(0, ip.lastIndexOf('.'))));
      allowListed = [...mit.lists.prefixes.filter((p) => !prefixes.includes(p)), ...ips.filter((ip) => this.gate.allowListed(ip))];
      const refused = new Set(allowListed);
      const old = new Set(f.content.find((c) => c.type === 'list')?.entries ?? []);
      const fresh = [...prefixes, ...ips].filter((e) => !old.has(e) && !refused.has(e));
      // Entries already listed for this attack stay (a list grows while its attack lasts).
      let entries = [...old, ...fresh];
      const room = opts.maxListSize - this.listedElsewhere(f);
      if (entries.length > room) {
        truncated = entries.length - Math.max(0, room);
        entries = entries.slice(0, Math.max(0, room));
        refusals.push(`max_list_size ${opts.maxListSize}: ${truncated} entries left out`);
      }
      if (entries.length > 0) want.push({ id: `${base}-sources`, type: 'list', entries });
      else if (allowListed.length > 0) refusals.push('every attributed address is on an allow list');
      const rl = mit.rate_limit;
      const oldRate = f.content.find((c) => c.type === 'rate_limit');
      if (opts.rateLimits && rl !== null && oldRate !== undefined && oldRate.expression === rl.expression) {
        // The same scope: the limit stays as installed (its figure moving with each sample is no change).
        want.push(oldRate);
      } else if (opts.rateLimits && rl !== null) {
        want.push({
          id: `${base}-rate`,
          type: 'rate_limit',
          expression: rl.expression,
          action: rl.action,
          ratelimit: {
            characteristics: rl.ratelimit.characteristics,
            period: rl.ratelimit.period,
            requests_per_period: rl.ratelimit.requests_per_period,
            mitigation_timeout: rl.ratelimit.mitigation_timeout,
            ...(rl.ratelimit.counting_expression !== undefined && { counting_expression: rl.ratelimit.counting_expression }),
          },
        });
      }
    }
    // max_rules: the entries of the other attacks count; the primary rule first, the rate limit after.
    const room = opts.maxRules - this.rulesElsewhere(f);
    if (want.length > room) {
      refusals.push(`max_rules ${opts.maxRules}: ${want.length - Math.max(0, room)} of ${want.length} not installed`);
      want.length = Math.max(0, room);
    }
    const extra = {
      ...(allowListed.length > 0 && { allow_listed: allowListed }),
      ...(truncated > 0 && { truncated }),
    };
    if (want.length === 0) {
      this.note(f, now, 'refused', refusals.join('; ') || 'nothing to install', measured, extra);
      return;
    }
    const changed = !sameContent(f.content, want);
    if (!changed) return;
    const first = f.content.length === 0;
    const reason = [
      sig.kind === 'fields' && sig.collateral <= opts.maxCollateral
        ? `field signature, measured collateral ${pct(sig.collateral)} ≤ ${pct(opts.maxCollateral)}`
        : `source list of ${a.sources.unique} attributed addresses (field signature ${ev ? `collateral ${pct(ev.collateral)}` : 'none'})`,
      ...refusals,
    ].join('; ');
    if (this.mode === 'suggest') {
      f.content = want;
      f.ruleParts = want.some((c) => c.type === 'custom_rule') ? parts : null;
      this.push(f, now, 'suggest', want, measured, reason, extra, first ? 'install' : 'update');
      return;
    }
    const specs: RuntimeSpec[] = want.map((c) => toSpec(c, `auto:${f.attackId}`, this.expiry(f), `palisade live ${f.attackId}: ${f.vector} on ${f.host || 'the site'}`));
    const remove = f.installed.filter((id) => this.gate.runtime.get(id) !== undefined);
    try {
      this.gate.runtime.apply({ remove, add: specs });
    } catch (e) {
      this.note(f, now, 'refused', `the gate refused the rules: ${(e as Error).message}`, measured);
      return;
    }
    f.installed = want.map((c) => c.id);
    this.indexHits();
    f.content = want;
    f.ruleParts = want.some((c) => c.type === 'custom_rule') ? parts : null;
    this.push(f, now, first ? 'install' : 'update', want, measured, reason, extra);
  }

  /** Release the mitigations of attacks quiet for release_after_s (or expired by the gate); keep expiries moving with active ones. */
  private releaseQuiet(now: number): void {
    const after = this.options.releaseAfterS * 1000;
    for (const f of this.followed.values()) {
      if (f.content.length === 0 || !Number.isNaN(f.releasedMs)) {
        // Nothing installed: forget the attack once the detector has ended it.
        if (f.content.length === 0 && !this.isOpen(f) && (Number.isNaN(f.releasedMs) || now - f.releasedMs > after)) this.followed.delete(f.key);
        continue;
      }
      const quiet = now - f.seenMs;
      const gone = f.installed.filter((id) => this.gate.runtime.get(id) === undefined);
      if (quiet < after && gone.length === 0) {
        for (const id of f.installed) this.gate.runtime.setExpiry(id, this.expiry(f));
        continue;
      }
      const reason =
        quiet >= after
          ? `attack quiet for ${Math.round(quiet / 1000)} s (release_after_s ${this.options.releaseAfterS})`
          : `removed outside live protection (expired or by the admin API): ${gone.join(', ')}`;
      if (this.mode === 'auto') {
        const left = f.installed.filter((id) => this.gate.runtime.get(id) !== undefined);
        if (left.length > 0) this.gate.runtime.apply({ remove: left });
        this.push(f, now, 'release', f.content, null, reason);
      } else this.push(f, now, 'suggest', f.content, null, reason, {}, 'release');
      f.installed = [];
      f.content = [];
      f.ruleParts = null;
      f.releasedMs = now;
      this.indexHits();
    }
  }

  private indexHits(): void {
    this.hits.clear();
    for (const f of this.followed.values()) for (const id of f.installed) this.hits.set(id, f).set(`list:${id}`, f);
  }

  private isOpen(f: Followed): boolean {
    return this.detector.lifecycles.openAttack(classKey(f.track.victimKey, f.track.cls)) === f.track;
  }

  /** Backstop expiry of installed entries: if live protection stopped ticking, the gate still removes them. */
  private expiry(f: Followed): number {
    return f.seenMs + 2 * this.options.releaseAfterS * 1000;
  }

  private rulesElsewhere(f: Followed): number {
    let n = 0;
    for (const g of this.followed.values()) if (g !== f) n += this.mode === 'auto' ? g.installed.length : g.content.length;
    return n;
  }

  private listedElsewhere(f: Followed): number {
    let n = 0;
    for (const g of this.followed.values()) if (g !== f) for (const c of g.content) n += c.entries?.length ?? 0;
    return n;
  }

  /** A decision without a mitigation, logged once per reason for as long as the attack lasts. */
  private note(f: Followed, now: number, kind: 'refused' | 'unmitigated', reason: string, measured: LiveDecision['measured'] = null, extra: Partial<LiveDecision> = {}): void {
    if (f.lastNote === reason) return;
    f.lastNote = reason;
    this.push(f, now, kind, [], measured, reason, extra);
  }

  private push(
    f: Followed,
    now: number,
    kind: LiveDecision['kind'],
    rules: LiveRuleContent[],
    measured: LiveDecision['measured'],
    reason: string,
    extra: Partial<LiveDecision> = {},
    would?: LiveDecision['would'],
  ): void {
    const t = f.track;
    this.log.push({
      time: iso(now),
      mode: this.mode === 'auto' ? 'auto' : 'suggest',
      kind,
      ...(would !== undefined && { would }),
      attack: {
        id: f.attackId,
        vector: f.vector,
        host: f.host,
        start: iso(t.start),
        detected_at: iso(t.detected),
        last_active: iso(f.seenMs),
        requests: t.windowPackets,
        sources: f.lastAttack?.sources.unique ?? 0,
      },
      rules,
      measured,
      reason,
      ...extra,
    });
  }
}

/**
 * Does the installed rule (measured as `old`) still cover the attack's attributed addresses
 * (`ids` of the new plan's tally `tl`) — ≥ 90 % of their requests — with collateral within the bar?
 */
function stillCovers(tl: Tally, ids: readonly number[], old: Tally, maxCollateral: number): boolean {
  let req = 0;
  let matched = 0;
  let outReq = 0;
  let outMatched = 0;
  for (const i of ids) {
    req += tl.get(i, T.REQUESTS);
    outReq += tl.get(i, T.OUT_REQUESTS);
    const j = old.find(tl.keys[i] as number, tl.fam[i] as number);
    if (j < 0) continue;
    matched += old.get(j, T.MATCHED);
    outMatched += old.get(j, T.OUT_MATCHED);
  }
  if (req === 0 || matched < 0.9 * req) return false;
  const collateral = Math.max(0, old.matched - matched - outMatched) / Math.max(1, old.hostRequests - req - outReq);
  return collateral <= maxCollateral;
}

/** The addresses of the other attacks planned on the same host (attacks.ts buildAll's `others`). */
function others(planned: readonly PlannedAttack[], tallies: readonly Tally[], ids: readonly number[][], k: number): Others {
  const keys = new Set<number>();
  let requests = 0;
  const host = (planned[k] as PlannedAttack).track.host;
  for (let j = 0; j < planned.length; j++) {
    if (j === k || (planned[j] as PlannedAttack).track.host !== host) continue;
    const tl = tallies[j] as Tally;
    for (const i of ids[j] as number[]) {
      const key = tallyKey(tl, i);
      if (keys.has(key)) continue;
      keys.add(key);
      requests += tl.get(i, T.REQUESTS) + tl.get(i, T.OUT_REQUESTS);
    }
  }
  return { keys, requests };
}

function toSpec(c: LiveRuleContent, origin: string, expiresMs: number, description: string): RuntimeSpec {
  if (c.type === 'custom_rule') return { type: 'custom_rule', id: c.id, origin, expiresMs, description, expression: c.expression as string, action: 'block' };
  if (c.type === 'list') return { type: 'list', id: c.id, origin, expiresMs, description, entries: c.entries as string[] };
  const r = c.ratelimit as NonNullable<LiveRuleContent['ratelimit']>;
  return {
    type: 'rate_limit',
    id: c.id,
    origin,
    expiresMs,
    description,
    expression: c.expression as string,
    action: c.action === 'challenge' ? 'challenge' : 'block',
    characteristics: r.characteristics,
    period: r.period,
    requestsPerPeriod: r.requests_per_period,
    mitigationTimeout: r.mitigation_timeout,
    countingExpression: r.counting_expression ?? null,
  };
}

function sameContent(a: readonly LiveRuleContent[], b: readonly LiveRuleContent[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function pct(x: number): string {
  return `${(x * 100).toFixed(3)} %`;
}
