/**
 * The incident desk: every alert event lands on an incident — the one its alert already belongs
 * to, else an open incident it groups with (grouping.ts: same network or shared sources within
 * the window), else a new one — and becomes a timeline entry of it. In memory; a store keeps
 * the same decisions (numbers come from it when there is one).
 */
import type { AlertEvent } from './alerts.js';
import { GROUP_WINDOW_MS, type IncidentShape, incidentFor } from './grouping.js';

export interface TimelineEntry {
  at: string;
  kind: 'alert_raised' | 'alert_updated' | 'attack_ended' | 'peak' | 'note' | 'status' | 'mitigation' | 'mitigation_failed';
  actor: string;
  text: string;
  data?: Record<string, unknown>;
}

export interface DeskIncident extends IncidentShape {
  title: string;
  /** alert ids */
  alerts: string[];
  /** alerts still open */
  openAlerts: Set<string>;
  timeline: TimelineEntry[];
  victims: string[];
  sources: Set<string>;
}

export interface Placement {
  incident: DeskIncident;
  /** the event opened this incident */
  created: boolean;
  entry: TimelineEntry | null;
}

export class IncidentDesk {
  private readonly byAlert = new Map<string, DeskIncident>();
  private readonly incidents: DeskIncident[] = [];
  private next: () => number;

  constructor(
    private readonly now: () => number,
    nextNumber?: () => number,
    private readonly windowMs = GROUP_WINDOW_MS,
  ) {
    let n = 0;
    this.next = nextNumber ?? (() => ++n);
  }

  /** Incidents with activity within the window (the ones new alerts may join). */
  open(): DeskIncident[] {
    const t = this.now();
    return this.incidents.filter((i) => t - i.lastActivity <= this.windowMs);
  }

  /** Places an alert event on its incident and writes what it means on the timeline. */
  place(e: AlertEvent): Placement {
    const a = e.alert;
    const t = this.now();
    const at = new Date(t).toISOString();
    let inc = this.byAlert.get(a.id);
    let created = false;
    if (inc === undefined) {
      const sources = a.attack.sources.top.map((s) => s.ip);
      const n = incidentFor({ victim: a.victim, sources }, this.open(), t, this.windowMs);
      inc = n === null ? undefined : this.incidents.find((i) => i.number === n);
      if (inc === undefined) {
        inc = { number: this.next(), title: titleOf(a.vector, a.victim), alerts: [], openAlerts: new Set(), timeline: [], victims: [], sources: new Set(), lastActivity: t };
        this.incidents.push(inc);
        created = true;
      } else inc.title = titleOfMany(inc, a.victim);
      this.byAlert.set(a.id, inc);
      inc.alerts.push(a.id);
      if (!inc.victims.includes(a.victim)) inc.victims.push(a.victim);
    }
    for (const s of a.attack.sources.top) if (inc.sources.size < 1000) inc.sources.add(s.ip);
    inc.lastActivity = t;
    if (e.kind === 'start') inc.openAlerts.add(a.id);
    else if (e.kind === 'end') inc.openAlerts.delete(a.id);
    const entry = timelineEntryOf(e, at);
    if (entry !== null) inc.timeline.push(entry);
    return { incident: inc, created, entry };
  }
}

/** What an alert event writes on its incident's timeline (null: a quiet refresh writes nothing). */
export function timelineEntryOf(e: AlertEvent, at: string): TimelineEntry | null {
  const a = e.alert;
  if (e.kind === 'start')
    return { at, kind: 'alert_raised', actor: a.sensor, text: `${a.severity} ${a.vector} on ${a.victim}: ${a.reasons.join('; ')}`, data: { alert: a.id, score: a.score } };
  if (e.kind === 'end') return { at, kind: 'attack_ended', actor: a.sensor, text: `${a.vector} on ${a.victim} ended (peak ${Math.round(a.peak)}/s)`, data: { alert: a.id } };
  if (!e.significant) return null;
  return {
    at,
    kind: /peak doubled/.test(e.change) ? 'peak' : 'alert_updated',
    actor: a.sensor,
    text: `${a.vector} on ${a.victim}: ${e.change}`,
    data: { alert: a.id, score: a.score },
  };
}

function titleOf(vector: string, victim: string): string {
  return `${vector.replace(/_/g, ' ')} on ${victim}`;
}

/** A title for an incident that now spans several alerts. */
function titleOfMany(inc: DeskIncident, victim: string): string {
  const victims = new Set([...inc.victims, victim]);
  const n = inc.alerts.length + 1;
  return victims.size === 1 ? `${n} attacks on ${victim}` : `${n} attacks on ${victims.size} victims (${[...victims].slice(0, 3).join(', ')}${victims.size > 3 ? ', …' : ''})`;
}
