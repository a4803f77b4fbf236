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
import type { NftEnforcer } from './enforce/nft.js';

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
  /** ms: when it goes (set once its attack ended) */
  removeAt: number | null;
}

export interface MitigatorResult {
  entries: TimelineEntry[];
  /** an action failed: worth a notification */
  failed: boolean;
}

export class Mitigator {
  private readonly byAlert = new Map<string, MitigationState>();

  constructor(
    readonly policy: MitigationPolicy,
    private readonly nft: NftEnforcer,
    private readonly now: () => number,
    private readonly actor = 'palisade-monitor',
  ) {}

  get active(): number {
    let n = 0;
    for (const m of this.byAlert.values()) if (m.state === 'applied') n++;
    return n;
  }

  /** Mitigations whose attack ended, waiting for their removal (a drill waits for them before it exits). */
  get pending(): number {
    let n = 0;
    for (const m of this.byAlert.values()) if (m.state === 'applied' && m.removeAt !== null) n++;
    return n;
  }

  /** Is the alert's attack held by a mitigation in place? */
  holds(alertId: string): boolean {
    return this.byAlert.get(alertId)?.state === 'applied';
  }

  states(): MitigationState[] {
    return [...this.byAlert.values()];
  }

  private entry(text: string, data: Record<string, unknown>): TimelineEntry {
    return { at: new Date(this.now()).toISOString(), kind: 'mitigation', actor: this.actor, text, data };
  }

  /** React to an alert event: apply, suggest, refuse, or schedule removal. */
  async onEvent(e: AlertEvent): Promise<MitigatorResult> {
    const out: MitigatorResult = { entries: [], failed: false };
    if (this.policy.mode === 'off') return out;
    const a = e.alert;
    const cur = this.byAlert.get(a.id);
    if (e.kind === 'end') {
      if (cur !== undefined && cur.state === 'applied') {
        cur.removeAt = this.now() + this.policy.holdS * 1000;
        await this.refreshHits(cur);
        out.entries.push(
          this.entry(`attack over: ${cur.target} rule ${cur.id} stays ${this.policy.holdS} s, then goes (${cur.hits.packets} packets dropped so far)`, {
            mitigation: cur.id,
            hits: cur.hits,
          }),
        );
      }
      return out;
    }
    if (cur !== undefined) {
      if (cur.state === 'applied' && e.significant) await this.refreshHits(cur);
      return out;
    }
    const sig = a.attack.signature;
    if (sig === null) return out;
    const refuse = this.refusal(a);
    const id = mitigationId(a);
    if (refuse !== null) {
      this.byAlert.set(a.id, { id, alertId: a.id, target: 'nftables', expression: sig.expression, state: 'suggested', hits: { packets: 0, bytes: 0 }, removeAt: null });
      out.entries.push(this.entry(`not applied automatically: ${refuse}. Suggested: ${sig.expression}`, { mitigation: id, expression: sig.expression }));
      return out;
    }
    const built = buildMitigation({
      expression: sig.expression,
      id,
      description: `${a.vector} on ${a.victim}`,
      ...(sig.list && { lists: { [sig.list.name]: sig.list.addresses } }),
    });
    const script = this.nft.script(id, built.ruleset);
    const st: MitigationState = { id, alertId: a.id, target: 'nftables', expression: sig.expression, state: 'suggested', hits: { packets: 0, bytes: 0 }, removeAt: null };
    this.byAlert.set(a.id, st);
    if (script.problems.length > 0 || script.text === '') {
      st.state = 'failed';
      out.failed = true;
      out.entries.push(this.entry(`cannot express the signature in nftables: ${script.problems.join('; ')}`, { mitigation: id, expression: sig.expression }));
      return out;
    }
    if (this.policy.mode === 'suggest') {
      out.entries.push(this.entry(`suggested (mode suggest): ${sig.expression}`, { mitigation: id, nftables: script.text }));
      return out;
    }
    const r = await this.nft.apply(id, script.text);
    if (r.ok) {
      st.state = 'applied';
      out.entries.push(
        this.entry(`applied to nftables: ${sig.expression} (coverage ${sig.coverage}, collateral ${sig.collateral})`, {
          mitigation: id,
          command: r.command,
          nftables: script.text,
        }),
      );
    } else {
      st.state = 'failed';
      out.failed = true;
      out.entries.push(this.entry(`applying to nftables failed: ${r.error}`, { mitigation: id, command: r.command }));
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
    const h = await this.nft.hits(m.id);
    if (h !== null) m.hits = h;
  }

  /** Removes the mitigations whose hold after their attack has passed. */
  async sweep(): Promise<MitigatorResult> {
    const out: MitigatorResult = { entries: [], failed: false };
    const t = this.now();
    for (const m of this.byAlert.values()) {
      if (m.state !== 'applied' || m.removeAt === null || m.removeAt > t) continue;
      await this.refreshHits(m);
      const r = await this.nft.remove(m.id);
      if (r.ok) {
        m.state = 'removed';
        out.entries.push(
          this.entry(`removed from nftables after the hold (${m.hits.packets} packets, ${m.hits.bytes} bytes dropped in all)`, {
            mitigation: m.id,
            hits: m.hits,
            command: r.command,
          }),
        );
      } else {
        out.failed = true;
        out.entries.push(this.entry(`removing from nftables failed: ${r.error}`, { mitigation: m.id, command: r.command }));
      }
    }
    return out;
  }

  /** Alert id of a mitigation id (for the timeline of its incident). */
  alertOf(mitigationId: string): string | null {
    for (const m of this.byAlert.values()) if (m.id === mitigationId) return m.alertId;
    return null;
  }
}

function mitigationId(a: AlertState): string {
  return `m${createHash('sha1').update(a.id).digest('hex').slice(0, 12)}`;
}
