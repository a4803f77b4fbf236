/**
 * From attacks as detection follows them to alerts a person can triage: one alert per attack
 * (its fingerprint: vector, victim and protocol family), raised when the attack starts, updated
 * in place — not re-raised each second — and closed when it ends.
 *
 * An update is *significant* (worth telling someone: the notifications' and the incident
 * timeline's business) when the peak doubled since it was last reported, the severity rose, the
 * signature was found, or a mitigation started or stopped holding the attack; otherwise the
 * alert's figures are refreshed quietly every `refreshMs`, so the queue shows the current size
 * without an event per second. Clock injected: replays and tests drive it.
 */
import { randomUUID } from 'node:crypto';
import type { DetectedAttack } from '../detect/l34/attacks.js';
import { SEVERITY_RANK, type ServiceMap, type Severity, type Triage, triage, type Urgency, victimText } from './triage.js';

export interface AlertState {
  id: string;
  fingerprint: string;
  vector: string;
  victim: string;
  sensor: string;
  severity: Severity;
  urgency: Urgency;
  score: number;
  confidence: number;
  /** ISO-8601 UTC */
  first_seen: string;
  last_seen: string;
  /** the attack as detection knows it now */
  attack: DetectedAttack;
  /** why the score is what it is, in words */
  reasons: string[];
  service: string | null;
  customer: string | null;
  growing: boolean;
  mitigated: boolean;
  /** largest packets/s (L3/4) or requests/s (L7) reported so far */
  peak: number;
}

export interface AlertEvent {
  kind: 'start' | 'update' | 'end';
  alert: AlertState;
  /** worth telling someone (start, end, a significant update); false: a quiet refresh of figures */
  significant: boolean;
  /** what changed, in words (updates) */
  change: string;
}

export interface AlertBookOptions {
  sensor: string;
  services: ServiceMap;
  /** ms since the epoch */
  now: () => number;
  /** quiet refresh of an open alert's figures (default 10 s) */
  refreshMs?: number;
  /** alert ids (default random UUIDs) */
  newId?: () => string;
  /** does a mitigation hold this alert's attack (the mitigator's answer)? */
  isMitigated?: (alertId: string) => boolean;
}

interface Open {
  alert: AlertState;
  /** the peak the last significant event reported */
  reportedPeak: number;
  /** the peak at the previous observation (growing = above it) */
  lastPeak: number;
  lastEmit: number;
}

export function fingerprintOf(a: DetectedAttack): string {
  return `${a.vector}|${victimText(a)}|${a.victim.protocol}`;
}

function peakOf(a: DetectedAttack): number {
  return a.peak_rps ?? a.peak_pps;
}

export class AlertBook {
  private readonly open = new Map<string, Open>();
  /** alerts open in the store at a restart, not yet seen again (resume) */
  private readonly resumed = new Map<string, { alert: AlertState; at: number }>();
  private readonly refreshMs: number;
  private readonly newId: () => string;

  constructor(private readonly o: AlertBookOptions) {
    this.refreshMs = o.refreshMs ?? 10_000;
    this.newId = o.newId ?? (() => `alert-${randomUUID()}`);
  }

  /** Open alerts, by fingerprint. */
  get size(): number {
    return this.open.size;
  }

  /**
   * The attack as detection sees it now (each window while it lasts, and once when it ended).
   * `baseRate`: the victim's learnt rate of the class (pps, 0 unknown); `mitigated`: a
   * mitigation holds it. Returns the event to record, or null (nothing new).
   */
  observe(a: DetectedAttack, baseRate: number, ended: boolean, held = false): AlertEvent | null {
    const fp = fingerprintOf(a);
    const known = this.open.get(fp) ?? this.adopt(fp);
    const mitigated = held || (known !== undefined && this.o.isMitigated?.(known.alert.id) === true);
    const now = this.o.now();
    const iso = new Date(now).toISOString();
    const peak = peakOf(a);
    const cur = known;
    const growing = cur === undefined ? false : peak > cur.lastPeak * 1.1;
    const t = triage({ attack: a, baseRate, growing, mitigated }, this.o.services);
    if (cur === undefined) {
      const alert = this.stateOf(this.newId(), fp, a, t, iso, iso, growing, mitigated, peak);
      if (ended) return { kind: 'end', alert, significant: true, change: 'attack over before it was seen open' };
      this.open.set(fp, { alert, reportedPeak: peak, lastPeak: peak, lastEmit: now });
      return { kind: 'start', alert, significant: true, change: '' };
    }
    const prev = cur.alert;
    const alert = this.stateOf(prev.id, fp, a, t, prev.first_seen, iso, growing, mitigated, Math.max(prev.peak, peak));
    cur.lastPeak = peak;
    if (ended) {
      this.open.delete(fp);
      return { kind: 'end', alert, significant: true, change: 'attack ended' };
    }
    cur.alert = alert;
    const changes: string[] = [];
    if (peak >= 2 * cur.reportedPeak && cur.reportedPeak > 0) changes.push(`peak doubled (${Math.round(cur.reportedPeak)} → ${Math.round(peak)}/s)`);
    if (SEVERITY_RANK[t.severity] > SEVERITY_RANK[prev.severity]) changes.push(`severity ${prev.severity} → ${t.severity}`);
    if (prev.attack.signature === null && a.signature !== null) changes.push(`signature found: ${a.signature.expression}`);
    if (prev.mitigated !== mitigated) changes.push(mitigated ? 'a mitigation holds it' : 'no longer held by a mitigation');
    if (changes.length > 0) {
      cur.reportedPeak = Math.max(cur.reportedPeak, peak);
      cur.lastEmit = now;
      return { kind: 'update', alert, significant: true, change: changes.join('; ') };
    }
    if (now - cur.lastEmit >= this.refreshMs) {
      cur.lastEmit = now;
      return { kind: 'update', alert, significant: false, change: 'figures refreshed' };
    }
    return null;
  }

  /**
   * Alerts still open in the store when this book's process started (a restarted correlator or
   * monitor): an attack that is still going carries on in its alert — updated, not raised a second
   * time — and one that is not seen again by `expireResumed` is ended then.
   */
  resume(alerts: readonly AlertState[]): void {
    const now = this.o.now();
    for (const a of alerts) if (!this.open.has(a.fingerprint)) this.resumed.set(a.fingerprint, { alert: a, at: now });
  }

  /** Resumed alerts not seen again within `afterMs` of the resume: their end events (the attack stopped meanwhile). */
  expireResumed(afterMs: number): AlertEvent[] {
    const now = this.o.now();
    const out: AlertEvent[] = [];
    for (const [fp, r] of this.resumed) {
      if (now - r.at < afterMs) continue;
      this.resumed.delete(fp);
      out.push({ kind: 'end', alert: { ...r.alert, last_seen: new Date(now).toISOString() }, significant: true, change: 'attack not seen again after a restart' });
    }
    return out;
  }

  /** A resumed alert taken up by the attack seen again. */
  private adopt(fp: string): Open | undefined {
    const r = this.resumed.get(fp);
    if (r === undefined) return undefined;
    this.resumed.delete(fp);
    const o: Open = { alert: r.alert, reportedPeak: r.alert.peak, lastPeak: r.alert.peak, lastEmit: this.o.now() };
    this.open.set(fp, o);
    return o;
  }

  private stateOf(id: string, fp: string, a: DetectedAttack, t: Triage, first: string, last: string, growing: boolean, mitigated: boolean, peak: number): AlertState {
    return {
      id,
      fingerprint: fp,
      vector: a.vector,
      victim: victimText(a),
      sensor: this.o.sensor,
      severity: t.severity,
      urgency: t.urgency,
      score: t.score,
      confidence: a.confidence,
      first_seen: first,
      last_seen: last,
      attack: a,
      reasons: t.reasons,
      service: t.service?.name ?? null,
      customer: t.service?.customer || null,
      growing,
      mitigated,
      peak,
    };
  }
}
