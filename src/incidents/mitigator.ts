/**
 * Mitigation that applies itself, within limits: when an alert's attack has a signature, the
 * monitor's mitigator loads it into an enforcement point (nftables here: enforce/nft.ts) in
 * `auto` mode, or only writes what it would do in `suggest` mode; once the attack has ended it
 * waits `holdS` (an attack that pauses comes back to a rule still in place) and removes it.
 *
 * Limits, because automatic blocking of the wrong thing is an outage of our own making: a
 * signature is applied only when detection is confident enough, its collateral (the share of
 * other traffic it matches) is at or under the bar, and fewer than `maxActive` mitigations are
 * in place. Every decision — applied, refused and why, removed, failed — is returned as an
 * audit entry for the incident's timeline; a failure is also flagged for a notification.
 */
import { createHash } from 'node:crypto';
import { buildMitigation } from '../export/mitigation.js';
import type { AlertEvent, AlertState } from './alerts.js';
import type { TimelineEntry } from './desk.js';
import type { Enforcer, EnforcerLayer } from './enforce/enforcer.js';

export interface MitigationPolicy {
  mode: 'off' | 'suggest' | 'auto';
  /** mitigations in place at once, at most (default 20) */
  maxActive: number;
  /** a signature's collateral must be at or under this (default 0.001: one packet in a thousand of the rest) */
  maxCollateral: number;
  /** detection's confidence must be at least this (default 0.6) */
  minConfidence: number;
  /** seconds a mitigation stays after its attack ended (default 120) */
  holdS: number;
}

export const DEFAULT_POLICY: MitigationPolicy = { mode: 'suggest', maxActive: 20, maxCollateral: 0.001, minConfidence: 0.6, holdS: 120 };

export interface MitigationState {
  id: string;
  alertId: string;
  target: string;
  expression: string;
  state: 'suggested' | 'applied' | 'failed' | 'removed';
  hits: { packets: number; bytes: number };
  /** The enforcement point reported hits (Flowspec routes have no counters: false). */
  counted?: boolean;
  /** ms: when it goes (set once its attack ended) */
  removeAt: number | null;
}

export interface MitigatorResult {
  entries: TimelineEntry[];
  /** an action failed: worth a notification */
  failed: boolean;
}

export class Mitigator {
  /** Each alert's mitigations, one per enforcement point that takes its layer. */
  private readonly byAlert = new Map<string, MitigationState[]>();
  private readonly enforcers: readonly Enforcer[];
  private readonly byTarget = new Map<string, Enforcer>();

  constructor(
    readonly policy: MitigationPolicy,
    enforcers: Enforcer | readonly Enforcer[],
    private readonly now: () => number,
    private readonly actor = 'palisade-monitor',
  ) {
    this.enforcers = Array.isArray(enforcers) ? (enforcers as readonly Enforcer[]) : [enforcers as Enforcer];
    for (const e of this.enforcers) this.byTarget.set(e.target, e);
  }

  private *all(): Iterable<MitigationState> {
    for (const list of this.byAlert.values()) yield* list;
  }

  get active(): number {
    let n = 0;
    for (const m of this.all()) if (m.state === 'applied') n++;
    return n;
  }

  /** Mitigations whose attack ended, waiting for their removal (a drill waits for them before it exits). */
  get pending(): number {
    let n = 0;
    for (const m of this.all()) if (m.state === 'applied' && m.removeAt !== null) n++;
    return n;
  }

  /** Is the alert's attack held by a mitigation in place? */
  holds(alertId: string): boolean {
    return this.byAlert.get(alertId)?.some((m) => m.state === 'applied') === true;
  }

  states(): MitigationState[] {
    return [...this.all()];
  }

  private entry(text: string, data: Record<string, unknown>): TimelineEntry {
    return { at: new Date(this.now()).toISOString(), kind: 'mitigation', actor: this.actor, text, data };
  }

  /** React to an alert event: apply, suggest, refuse, or schedule removal — at each enforcement point of the attack's layer. */
  async onEvent(e: AlertEvent): Promise<MitigatorResult> {
    const out: MitigatorResult = { entries: [], failed: false };
    if (this.policy.mode === 'off') return out;
    const a = e.alert;
    const cur = this.byAlert.get(a.id);
    if (e.kind === 'end') {
      for (const m of cur ?? []) {
        if (m.state !== 'applied') continue;
        m.removeAt = this.now() + this.policy.holdS * 1000;
        await this.refreshHits(m);
        out.entries.push(
          this.entry(`attack over: ${m.target} rule ${m.id} stays ${this.policy.holdS} s, then goes (${caught(m, 'so far')})`, {
            mitigation: m.id,
            target: m.target,
            hits: m.hits,
          }),
        );
      }
      return out;
    }
    if (cur !== undefined) {
      if (e.significant) for (const m of cur) if (m.state === 'applied') await this.refreshHits(m);
      return out;
    }
    const sig = a.attack.signature;
    if (sig === null) return out;
    const layer: EnforcerLayer = a.attack.peak_rps !== undefined ? 'l7' : 'l34';
    const points = this.enforcers.filter((x) => x.layer === layer);
    if (points.length === 0) return out;
    const refuse = this.refusal(a);
    const list: MitigationState[] = [];
    this.byAlert.set(a.id, list);
    for (const point of points) {
      const id = mitigationId(a, point, this.enforcers);
      const st: MitigationState = { id, alertId: a.id, target: point.target, expression: sig.expression, state: 'suggested', hits: { packets: 0, bytes: 0 }, removeAt: null };
      list.push(st);
      if (refuse !== null) {
        out.entries.push(
          this.entry(`not applied automatically to ${point.target}: ${refuse}. Suggested: ${sig.expression}`, { mitigation: id, target: point.target, expression: sig.expression }),
        );
        continue;
      }
      const built = buildMitigation({
        expression: sig.expression,
        id,
        description: `${a.vector} on ${a.victim}`,
        ...(sig.list && { lists: { [sig.list.name]: sig.list.addresses } }),
      });
      const script = point.script(id, built.ruleset);
      if (script.problems.length > 0 || script.text === '') {
        st.state = 'failed';
        out.failed = true;
        out.entries.push(
          this.entry(`cannot express the signature for ${point.target}: ${script.problems.join('; ')}`, { mitigation: id, target: point.target, expression: sig.expression }),
        );
        continue;
      }
      if (this.policy.mode === 'suggest') {
        out.entries.push(this.entry(`suggested for ${point.target} (mode suggest): ${sig.expression}`, { mitigation: id, target: point.target, [point.target]: script.text }));
        continue;
      }
      const r = await point.apply(id, script.text);
      if (r.ok) {
        st.state = 'applied';
        out.entries.push(
          this.entry(`applied to ${point.target}: ${sig.expression} (coverage ${sig.coverage}, collateral ${sig.collateral})`, {
            mitigation: id,
            target: point.target,
            command: r.command,
            [point.target]: script.text,
          }),
        );
      } else {
        st.state = 'failed';
        out.failed = true;
        out.entries.push(this.entry(`applying to ${point.target} failed: ${r.error}`, { mitigation: id, target: point.target, command: r.command }));
      }
    }
    return out;
  }

  /** Why the policy keeps a signature from being applied automatically (null: it may be). */
  private refusal(a: AlertState): string | null {
    const sig = a.attack.signature;
    if (sig === null) return 'no signature';
    if (this.policy.mode === 'suggest') return null;
    if (a.confidence < this.policy.minConfidence) return `confidence ${a.confidence} under ${this.policy.minConfidence}`;
    if (sig.collateral > this.policy.maxCollateral) return `collateral ${sig.collateral} over ${this.policy.maxCollateral}`;
    if (this.active >= this.policy.maxActive) return `${this.active} mitigations already in place (max_active ${this.policy.maxActive})`;
    return null;
  }

  private async refreshHits(m: MitigationState): Promise<void> {
    const h = await this.byTarget.get(m.target)?.hits(m.id);
    if (h !== null && h !== undefined) {
      m.hits = h;
      m.counted = true;
    }
  }

  /** Removes the mitigations whose hold after their attack has passed. */
  async sweep(): Promise<MitigatorResult> {
    const out: MitigatorResult = { entries: [], failed: false };
    const t = this.now();
    for (const m of this.all()) {
      if (m.state !== 'applied' || m.removeAt === null || m.removeAt > t) continue;
      const point = this.byTarget.get(m.target) as Enforcer;
      await this.refreshHits(m);
      const r = await point.remove(m.id);
      if (r.ok) {
        m.state = 'removed';
        out.entries.push(
          this.entry(`removed from ${m.target} after the hold (${caught(m, 'in all')})`, {
            mitigation: m.id,
            target: m.target,
            hits: m.hits,
            command: r.command,
          }),
        );
      } else {
        out.failed = true;
        out.entries.push(this.entry(`removing from ${m.target} failed: ${r.error}`, { mitigation: m.id, target: m.target, command: r.command }));
      }
    }
    return out;
  }

  /** Alert id of a mitigation id (for the timeline of its incident). */
  alertOf(mitigationId: string): string | null {
    for (const m of this.all()) if (m.id === mitigationId) return m.alertId;
    return null;
  }
}

/** What the mitigation caught, in the enforcement point's unit (packets in the kernel, requests at the edge), or that it cannot tell. */
function caught(m: MitigationState, when: string): string {
  if (m.counted !== true) return `${m.target} keeps no counters`;
  if (m.target === 'edge') return `${m.hits.packets} requests stopped ${when}`;
  return `${m.hits.packets} packets, ${m.hits.bytes} bytes dropped ${when}`;
}

/** The first enforcement point of the list keeps the plain id (as before several points existed); others add their name. */
function mitigationId(a: AlertState, point: Enforcer, all: readonly Enforcer[]): string {
  const base = `m${createHash('sha1').update(a.id).digest('hex').slice(0, 12)}`;
  return point === all[0] ? base : `${base}-${point.target}`;
}
