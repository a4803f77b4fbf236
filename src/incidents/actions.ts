/**
 * The changes a person makes to alerts and incidents, shared by `palisade alerts|incidents` and
 * `palisade serve`'s API: each one takes a store (a transaction's, so the caller can add its
 * audit row to the same commit) and writes the incident's timeline event with the change.
 */
import type { Alert, Severity } from '../model/alert.js';
import type { Incident, IncidentStatus, TimelineEvent } from '../model/incident.js';
import type { Silence, Store } from './store/store.js';
import { SEVERITY_RANK } from './triage.js';

/** The expression of the silence made for one alert: its fingerprint. */
export function fingerprintSilence(a: Pick<Alert, 'fingerprint'>): string {
  return `alert.fingerprint == ${JSON.stringify(a.fingerprint)}`;
}

/**
 * Silences one alert until `until` with a silence naming its fingerprint (so the silences list
 * shows it and it expires on time); null when the alert has ended (nothing is kept then).
 */
export function silenceAlert(store: Store, a: Alert, until: string, by: string, reason: string): Promise<Silence | null> {
  return store.transaction(async (tx) => {
    const s = await tx.addSilence({ expression: fingerprintSilence(a), until, created_by: by, reason });
    if (await tx.silenceAlert(a.id, s.id)) return s;
    await tx.removeSilence(s.id);
    return null;
  });
}

/** Gives the incident to `to` (null: nobody); returns the timeline text. */
export async function assignIncident(store: Store, inc: Incident, to: string | null, by: string): Promise<string> {
  const text = to === null ? `unassigned (was ${inc.assignee ?? 'nobody'})` : `assigned to ${to}${inc.assignee ? ` (was ${inc.assignee})` : ''}`;
  await store.transaction(async (tx) => {
    await tx.updateIncident(inc.number, { assignee: to });
    await tx.appendTimeline(inc.number, { at: new Date().toISOString(), kind: 'assigned', actor: by, text, data: { from: inc.assignee, to } });
  });
  return text;
}

/** Moves the incident to `next` (the caller checks it differs and the ticket was not merged); returns the timeline text. */
export async function setIncidentStatus(store: Store, inc: Incident, next: IncidentStatus, by: string, note?: string): Promise<string> {
  const why = note?.trim();
  const text = `${inc.status} → ${next}${why ? `: ${why}` : ''}`;
  await store.transaction(async (tx) => {
    await tx.updateIncident(inc.number, { status: next });
    await tx.appendTimeline(inc.number, { at: new Date().toISOString(), kind: 'status', actor: by, text, data: { from: inc.status, to: next } });
  });
  return text;
}

/** Adds a note to the timeline. */
export function addNote(store: Store, number: number, text: string, by: string): Promise<TimelineEvent> {
  return store.appendTimeline(number, { at: new Date().toISOString(), kind: 'note', actor: by, text, data: null });
}

/**
 * Opens a ticket by hand: for `alerts` (each moved out of the incident it was in, with a timeline
 * event on both; the severity is the highest of theirs) or, with none, an empty one whose
 * timeline starts with who opened it.
 */
export function openIncident(store: Store, alerts: readonly Alert[], by: string, o: { title: string; customer?: string | null; severity?: Severity }): Promise<Incident> {
  const highest = alerts.reduce<Severity | null>((s, a) => (s === null || SEVERITY_RANK[a.severity] > SEVERITY_RANK[s] ? a.severity : s), null);
  return store.transaction(async (tx) => {
    const inc = await tx.createIncident({ title: o.title, severity: o.severity ?? highest ?? 'medium', customer: o.customer ?? null });
    // an empty ticket's timeline says who opened it; otherwise each alert's move does
    if (alerts.length === 0) await tx.appendTimeline(inc.number, { at: new Date().toISOString(), kind: 'opened', actor: by, text: `opened by ${by}`, data: null });
    for (const a of alerts) await tx.moveAlert(a.id, inc.number, by);
    return (await tx.getIncident(inc.number)) as Incident;
  });
}
