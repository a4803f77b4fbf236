/**
 * The changes a person makes to alerts and incidents, shared by `palisade alerts|incidents` and
 * `palisade serve`'s API: each one takes a store (a transaction's, so the caller can add its
 * audit row to the same commit) and writes the incident's timeline event with the change.
 */
import type { Alert } from '../model/alert.js';
import type { Incident, IncidentStatus, TimelineEvent } from '../model/incident.js';
import type { Silence, Store } from './store/store.js';

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
